"""``keras.models``: Model, Sequential, and loading saved models."""
from neuroflow.keras.models.model import Functional, Model  # noqa: F401
from neuroflow.keras.models.sequential import Sequential  # noqa: F401
from neuroflow.keras.saving import load_model, model_from_config, model_from_json, save_model  # noqa: F401
