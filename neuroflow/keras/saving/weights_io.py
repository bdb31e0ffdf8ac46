"""Weights as safetensors: keys, encoding with a checksum, validated decoding, assignment.

The safetensors header is checked here before the ``safetensors`` package reads the data,
so a file that declares absurd shapes or offsets fails with a message naming the tensor,
and nothing is ever allocated beyond what the file holds.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import warnings

import numpy as np

from neuroflow.keras.saving.archive import fail

FORMAT = "neuroflow.keras.weights"
FORMAT_VERSION = "1"
_MAX_HEADER = 100 * 1024 * 1024
_DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16,
           "I16": np.int16, "F16": np.float16, "U32": np.uint32, "I32": np.int32,
           "F32": np.float32, "U64": np.uint64, "I64": np.int64, "F64": np.float64}


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError as e:
        raise ImportError("Saving and loading weights needs the `safetensors` package: "
                          "pip install safetensors (or neuroflow[saving]).") from e
    return safetensors.numpy


# -- which weights, under which keys ---------------------------------------------------------
def ordered_variables(layer) -> list:
    """The variables of ``layer`` and its sublayers, layer by layer in attribute order.

    Unlike ``weights`` (trainable first), this order does not change when a layer is
    frozen, so weights saved before ``trainable = False`` load back into the right places.
    """
    out, seen = [], set()

    def walk(current):
        sublayers, variables = current._sublayers_and_variables()
        for v in variables:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        for sub in sublayers:
            if id(sub) not in seen:
                seen.add(id(sub))
                walk(sub)
    walk(layer)
    return out


def variable_keys(variables) -> list:
    """A unique, readable key per variable: its path (``dense/kernel``), deduplicated."""
    keys, used = [], set()
    for v in variables:
        base = getattr(v, "path", None) or re.sub(r":\d+$", "", str(v.name))
        key, n = base, 1
        while key in used:
            key, n = f"{base}_{n}", n + 1
        used.add(key)
        keys.append(key)
    return keys


def digest(keys, arrays) -> str:
    """sha256 of the weights' names, dtypes, shapes and bytes, in order."""
    h = hashlib.sha256()
    for key, array in zip(keys, arrays):
        array = np.asarray(array, order="C")
        h.update(f"{key}\0{array.dtype.str}\0{array.shape}\0".encode())
        h.update(array.tobytes())
    return h.hexdigest()


# -- encoding --------------------------------------------------------------------------------
def encode(keys, arrays, extra_metadata=None) -> bytes:
    """The safetensors bytes of ``arrays`` under ``keys``, with their order and checksum."""
    tensors = {}
    for key, array in zip(keys, arrays):
        array = np.asarray(array, order="C")
        if array.dtype.str.lstrip("<>|=") not in {np.dtype(t).str.lstrip("<>|=")
                                                 for t in _DTYPES.values()}:
            raise TypeError(f"Cannot save weight '{key}' of dtype {array.dtype}: safetensors "
                            "stores bool, int, uint and float arrays.")
        tensors[key] = array
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "order": json.dumps(list(keys)), "sha256": digest(keys, tensors.values())}
    metadata.update(extra_metadata or {})
    return _safetensors_numpy().save(tensors, metadata=metadata)


# -- decoding --------------------------------------------------------------------------------
def _validate_header(data: bytes, where):
    """Parses and checks the header; returns (tensor entries, metadata)."""
    if len(data) < 8:
        raise fail(where, f"the safetensors data is truncated: {len(data)} bytes, fewer than "
                          "the 8-byte header length.")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 or n > _MAX_HEADER:
        raise fail(where, f"the safetensors header declares {n} bytes, but only "
                          f"{len(data) - 8} follow (truncated or corrupt).")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise fail(where, f"the safetensors header is not valid JSON ({e}).") from e
    if not isinstance(header, dict):
        raise fail(where, "the safetensors header is not a JSON object.")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail(where, "the safetensors __metadata__ must map strings to strings.")
    size = len(data) - 8 - n
    spans = []
    for key, entry in header.items():
        if not isinstance(entry, dict):
            raise fail(where, f"tensor '{key}' has a malformed header entry {entry!r:.80}.")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise fail(where, f"tensor '{key}' has dtype {dtype!r}; supported: "
                              f"{', '.join(_DTYPES)}.")
        if (not isinstance(shape, list) or len(shape) > 64 or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            raise fail(where, f"tensor '{key}' declares an invalid shape {shape!r:.80}.")
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(
                isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
            raise fail(where, f"tensor '{key}' declares invalid data offsets {offsets!r:.80}.")
        begin, end = offsets
        if not 0 <= begin <= end <= size:
            raise fail(where, f"tensor '{key}' declares data offsets [{begin}, {end}] outside "
                              f"the {size} bytes of tensor data (truncated or corrupt).")
        nbytes = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize
        if nbytes != end - begin:
            raise fail(where, f"tensor '{key}' declares shape {tuple(shape)} of {dtype} "
                              f"({nbytes} bytes), but its data offsets span {end - begin} "
                              "bytes.")
        spans.append((begin, end, key))
    position = 0
    for begin, end, key in sorted(spans):
        if begin != position:
            raise fail(where, f"tensor '{key}' starts at byte {begin}, expected {position}: "
                              "the tensor data overlaps or has holes.")
        position = end
    if position != size:
        raise fail(where, f"the file has {size - position} bytes of tensor data that no "
                          "tensor declares (corrupt).")
    return header, metadata


def decode(data: bytes, where):
    """``(keys, arrays, metadata)`` from safetensors bytes, in the saved order, checked."""
    header, metadata = _validate_header(data, where)
    try:
        tensors = _safetensors_numpy().load(data)
    except Exception as e:  # the package raises its own error types
        raise fail(where, f"the safetensors data could not be read ({e}).") from e
    keys = sorted(tensors)
    if "order" in metadata:
        try:
            keys = json.loads(metadata["order"])
        except (ValueError, RecursionError) as e:
            raise fail(where, f"the weight order in the metadata is not valid JSON ({e}).") from e
        if (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
                or sorted(keys) != sorted(tensors)):
            raise fail(where, "the weight order in the metadata does not list exactly the "
                              "tensors in the file.")
    arrays = [tensors[k] for k in keys]
    expected = metadata.get("sha256")
    if expected is not None and digest(keys, arrays) != expected:
        raise fail(where, "the weights do not match the checksum recorded when they were "
                          "saved (the file is corrupt).")
    return keys, arrays, metadata


def align_by_name(keys, arrays, metadata, variables, where):
    """Files not written by neuroflow carry no weight order: match their tensors to the
    model's weights by name (``dense/kernel``), or fail saying which name is missing."""
    if metadata.get("format") == FORMAT:
        return keys, arrays
    names = variable_keys(variables)
    by_key = dict(zip(keys, arrays))
    missing = [n for n in names if n not in by_key]
    if missing or len(by_key) != len(names):
        unmatched = missing[0] if missing else sorted(set(by_key) - set(names))[0]
        raise fail(where, f"the file was not written by neuroflow (no weight order recorded) "
                          f"and its tensor names do not match the model's weights: first "
                          f"unmatched name '{unmatched}' ({len(by_key)} tensors in the file, "
                          f"{len(names)} weights in the model).")
    return names, [by_key[n] for n in names]


# -- assignment ------------------------------------------------------------------------------
def _shape(x):
    return tuple(int(d) for d in x.shape)


def assign(variables, keys, arrays, where, owner, skip_mismatch=False) -> None:
    """Assigns ``arrays`` to ``variables`` by position, after checking every shape.

    Nothing is assigned unless everything fits (or ``skip_mismatch`` skips what does not).
    """
    names = variable_keys(variables)
    pairs = []
    for i, (variable, name) in enumerate(zip(variables, names)):
        if i >= len(arrays):
            break
        if _shape(variable) != _shape(arrays[i]):
            message = (f"weight {i} '{keys[i]}' has shape {_shape(arrays[i])} in the file, "
                       f"but the model's weight '{name}' has shape {_shape(variable)}.")
            if not skip_mismatch:
                raise fail(where, f"the weights do not match {owner}: {message}")
            warnings.warn(f"Skipping {message}", stacklevel=3)
            continue
        pairs.append((variable, arrays[i]))
    if len(arrays) != len(variables):
        if len(arrays) > len(variables):
            first = f"the first extra one in the file is '{keys[len(variables)]}'"
        else:
            first = f"the first one missing from the file is '{names[len(arrays)]}'"
        message = (f"the file holds {len(arrays)} weights but {owner} has "
                   f"{len(variables)}; {first}.")
        if not variables:
            message += (" The model has no weights yet: build it (call it on data or "
                        "model.build(input_shape)) before loading weights.")
        if not skip_mismatch:
            raise fail(where, f"the weights do not match {owner}: {message}")
        warnings.warn(f"Skipping weights that do not fit: {message}", stacklevel=3)
    for variable, array in pairs:
        variable.assign(np.asarray(array, dtype=variable.dtype.np_dtype))
