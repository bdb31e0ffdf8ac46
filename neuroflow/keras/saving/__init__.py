"""``keras.saving``: whole models as ``.keras`` zips, weights as safetensors, configs.

>>> model.save("model.keras")
>>> model = keras.saving.load_model("model.keras")

Weights need the ``safetensors`` package (the ``saving`` extra).
"""
from neuroflow.keras.saving.archive import FileFormatError
from neuroflow.keras.saving.layer_config import deserialize_layer as deserialize_keras_object
from neuroflow.keras.saving.layer_config import serialize_layer as serialize_keras_object
from neuroflow.keras.saving.model_config import model_from_config, model_from_json, model_to_json
from neuroflow.keras.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from neuroflow.keras.saving.saving_api import load_model, load_weights, save_model, save_weights

__all__ = ["save_model", "load_model", "save_weights", "load_weights",
           "register_keras_serializable", "get_registered_object", "get_registered_name",
           "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "serialize_keras_object", "deserialize_keras_object", "model_from_config",
           "model_from_json", "model_to_json", "FileFormatError"]
