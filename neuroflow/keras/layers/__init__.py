"""``keras.layers``."""
from neuroflow.keras.layers.activation_layers import *  # noqa: F401,F403
from neuroflow.keras.layers.attention import MultiHeadAttention  # noqa: F401
from neuroflow.keras.layers.augmentation import *  # noqa: F401,F403
from neuroflow.keras.layers.augmentation_geometric import *  # noqa: F401,F403
from neuroflow.keras.layers.convolutional import *  # noqa: F401,F403
from neuroflow.keras.layers.convolutional_depthwise import *  # noqa: F401,F403
from neuroflow.keras.layers.convolutional_transpose import *  # noqa: F401,F403
from neuroflow.keras.layers.core import *  # noqa: F401,F403
from neuroflow.keras.layers.dense import Dense  # noqa: F401
from neuroflow.keras.layers.lambda_layer import *  # noqa: F401,F403
from neuroflow.keras.layers.layer import InputSpec, Layer  # noqa: F401
from neuroflow.keras.layers.merging import *  # noqa: F401,F403
from neuroflow.keras.layers.normalization import *  # noqa: F401,F403
from neuroflow.keras.layers.pooling import *  # noqa: F401,F403
from neuroflow.keras.layers.preprocessing import *  # noqa: F401,F403
from neuroflow.keras.layers.recurrent import *  # noqa: F401,F403
from neuroflow.keras.layers.recurrent_cells import *  # noqa: F401,F403
from neuroflow.keras.layers.recurrent_wrappers import *  # noqa: F401,F403
from neuroflow.keras.layers.regularization_layers import *  # noqa: F401,F403
from neuroflow.keras.layers.reshaping import *  # noqa: F401,F403
from neuroflow.keras.models.functional import Input, InputLayer  # noqa: F401
