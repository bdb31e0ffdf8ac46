"""``keras.callbacks``."""
from neuroflow.keras.callbacks.backup_and_restore import BackupAndRestore  # noqa: F401
from neuroflow.keras.callbacks.callback import Callback, CallbackList, History, ProgbarLogger  # noqa: F401
from neuroflow.keras.callbacks.csv_logger import CSVLogger  # noqa: F401
from neuroflow.keras.callbacks.early_stopping import EarlyStopping  # noqa: F401
from neuroflow.keras.callbacks.lambda_callback import LambdaCallback  # noqa: F401
from neuroflow.keras.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau  # noqa: F401
from neuroflow.keras.callbacks.model_checkpoint import ModelCheckpoint  # noqa: F401
from neuroflow.keras.callbacks.tensorboard import TensorBoard  # noqa: F401
from neuroflow.keras.callbacks.terminate_on_nan import TerminateOnNaN  # noqa: F401
