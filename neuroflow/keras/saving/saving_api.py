"""``save_model`` / ``load_model`` (whole models) and ``save_weights`` / ``load_weights``.

Any path works: ``model.save("model.keras")`` writes a zip of ``metadata.json``,
``config.json``, ``model.safetensors`` (and ``optimizer.safetensors``); ``save_weights``
writes one safetensors file, even when the path ends in Keras's ``.weights.h5`` (h5py is not
a dependency). Every write is atomic; every read is checked against the checksums recorded
at save time. Loading never unpickles, evaluates or imports anything named in a file.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import warnings

from neuroflow.keras.saving import archive, budget, weights_io
from neuroflow.keras.saving.archive import fail
from neuroflow.keras.saving.compile_config import (
    compile_config,
    compile_from_config,
    optimizer_variables,
    restore_optimizer,
)
from neuroflow.keras.saving.model_config import deserialize_model, serialize_model

FORMAT = "neuroflow.keras"
FORMAT_VERSION = "1.0"
KERAS_VERSION = "3.0"  # the Keras API whose .keras layout this follows


def _neuroflow_version() -> str:
    import neuroflow
    return getattr(neuroflow, "__version__", "unknown")


def _check_model(model, what):
    from neuroflow.keras.models.model import Model
    if not isinstance(model, Model):
        raise TypeError(f"{what} expects a keras.Model, got {type(model).__name__}.")


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True,
               **kwargs) -> None:
    """Saves architecture, weights, compile config and optimizer state to one file.

    >>> model.save("model.keras")
    >>> keras.models.load_model("model.keras")
    """
    _check_model(model, "save_model")
    save_format = kwargs.pop("save_format", None)
    if save_format not in (None, "keras"):
        warnings.warn(f"save_format={save_format!r} is ignored: neuroflow always writes the "
                      ".keras zip format.", stacklevel=2)
    if kwargs:
        raise ValueError(f"save_model got unexpected argument(s): {sorted(kwargs)}")
    if zipped is False:
        raise ValueError("zipped=False is not supported: a saved model is one zip file.")
    entry = serialize_model(model)
    compiled = compile_config(model)
    if compiled is not None:
        entry["compile_config"] = compiled
    variables = weights_io.ordered_variables(model)
    members = {
        "config.json": archive.to_json(entry, f"model '{model.name}'"),
        "model.safetensors": weights_io.encode(weights_io.variable_keys(variables),
                                               [v.numpy() for v in variables]),
    }
    optimizer_vars = optimizer_variables(model) if include_optimizer else []
    if optimizer_vars:
        members["optimizer.safetensors"] = weights_io.encode(
            weights_io.variable_keys(optimizer_vars), [v.numpy() for v in optimizer_vars])
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "keras_version": KERAS_VERSION,
        "neuroflow_version": _neuroflow_version(),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()
                   if name.endswith(".safetensors")},
    }
    members = {"metadata.json": archive.to_json(metadata, "metadata"), **members}
    archive.atomic_write(filepath, lambda f: archive.write_zip(f, members), overwrite)


def _read_metadata(files):
    metadata = files.read_json("metadata.json")
    version = str(metadata.get("format_version", ""))
    major = version.split(".")[0]
    if not major.isdigit():
        raise fail(files.path, f"metadata.json has no valid format_version (got {version!r}).")
    if int(major) > int(FORMAT_VERSION.split(".")[0]):
        raise fail(files.path, f"it was saved in format version {version} (neuroflow "
                               f"{metadata.get('neuroflow_version', '?')}); this neuroflow "
                               f"reads version {FORMAT_VERSION}. Upgrade neuroflow.")
    if not isinstance(metadata.get("sha256"), dict):
        raise fail(files.path, "metadata.json records no weight checksums.")
    return metadata


def _read_checked(files, metadata, name) -> bytes:
    data = files.read(name)
    expected = metadata["sha256"].get(name)
    if expected is None:
        raise fail((files.path, name), "metadata.json records no checksum for it.")
    if hashlib.sha256(data).hexdigest() != expected:
        raise fail((files.path, name), "its contents do not match the checksum recorded when "
                                       "it was saved (the file is corrupt).")
    return data


def _values(arrays) -> int:
    return sum(int(a.size) for a in arrays)


def _from_config(path, what, rebuild, hint=""):
    """``rebuild()``, with any failure reported as a bad config.json: a config is untrusted
    input, and the layer or optimizer code it reaches may fail in any way."""
    try:
        return rebuild()
    except archive.FileFormatError:
        raise
    except MemoryError:
        raise  # budget.py refuses oversized weights first: this one is a bug, not the file's
    except RecursionError as e:
        raise fail((path, "config.json"), f"{what} is nested too deeply{hint}.") from e
    except Exception as e:  # noqa: BLE001 - whatever the code a config reaches raises
        if what == "the model config" and isinstance(e, (ValueError, TypeError, KeyError)):
            message = str(e)
        else:
            plain = isinstance(e, (ValueError, TypeError))
            detail = f"{e}" if plain else f"{type(e).__name__}: {e}"
            message = f"{what} could not be restored ({detail}){hint}."
        raise fail((path, "config.json"), message) from e


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model saved by ``model.save``: architecture, weights and (with ``compile``) the
    compile config and optimizer state.

    Custom classes must be registered (``register_keras_serializable``) or given in
    ``custom_objects``. ``safe_mode`` is accepted for Keras compatibility: loading is
    always safe (nothing in a file is ever executed or imported).

    >>> model = keras.models.load_model("model.keras")
    """
    path = os.fspath(filepath)
    with archive.SavedModelFiles(path) as files:
        metadata = _read_metadata(files)
        config = files.read_json("config.json")
        weights = _read_checked(files, metadata, "model.safetensors")
        optimizer_state = (_read_checked(files, metadata, "optimizer.safetensors")
                           if files.has("optimizer.safetensors") else None)
    keys, arrays, _ = weights_io.decode(weights, (path, "model.safetensors"))
    compiled = config.get("compile_config") if compile else None
    optimizer_arrays = None
    if isinstance(compiled, dict) and optimizer_state is not None:
        optimizer_arrays = weights_io.decode(optimizer_state, (path, "optimizer.safetensors"))
    # the model's weights all come from model.safetensors: its config may not declare more
    with budget.weight_budget(_values(arrays), (path, "config.json"), "model.safetensors"):
        model = _from_config(path, "the model config",
                             lambda: deserialize_model(config, custom_objects))
        weights_io.assign(weights_io.ordered_variables(model), keys, arrays,
                          (path, "model.safetensors"), f"model '{model.name}'")
        if isinstance(compiled, dict):
            _from_config(path, "the compile config",
                         lambda: compile_from_config(model, compiled, custom_objects),
                         "; pass custom_objects, or load with compile=False")
            if optimizer_arrays is not None:
                keys, arrays, _ = optimizer_arrays
                restore_optimizer(model, keys, arrays, path)
    return model


def save_weights(model, filepath, overwrite=True) -> None:
    """Writes the model's weights as one safetensors file (any suffix, ``.weights.h5``
    included: the contents are safetensors, not HDF5).

    >>> model.save_weights("model.weights.h5")
    """
    _check_model(model, "save_weights")
    if not model.built:
        raise ValueError(f"You are calling save_weights() on model '{model.name}', which has "
                         "not been built: call it on data or model.build(input_shape) first.")
    variables = weights_io.ordered_variables(model)
    data = weights_io.encode(weights_io.variable_keys(variables), [v.numpy() for v in variables],
                             {"model_name": model.name,
                              "neuroflow_version": _neuroflow_version()})
    archive.atomic_write(filepath, lambda f: f.write(data), overwrite)


def load_weights(model, filepath, skip_mismatch=False) -> None:
    """Loads weights written by ``save_weights`` (or the weights of a ``.keras`` file) into
    ``model``, by position; every shape is checked first.

    >>> model.load_weights("model.weights.h5")
    """
    _check_model(model, "load_weights")
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file found at '{path}'.")
    if archive.is_zip(path):
        with archive.SavedModelFiles(path) as files:
            data = _read_checked(files, _read_metadata(files), "model.safetensors")
        where = (path, "model.safetensors")
    else:
        with open(path, "rb") as f:
            data = f.read()
        archive.check_not_hdf5(path, data)
        where = path
    keys, arrays, metadata = weights_io.decode(data, where)
    variables = weights_io.ordered_variables(model)
    keys, arrays = weights_io.align_by_name(keys, arrays, metadata, variables, where)
    weights_io.assign(variables, keys, arrays, where, f"model '{model.name}'", skip_mismatch)
