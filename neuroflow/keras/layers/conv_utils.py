"""Argument handling and shape arithmetic shared by the convolution, pooling and reshaping
layers: Keras's int-or-tuple arguments, ``data_format`` names, and the output-length
formulas (the same ones the nf.nn ops use, so ``compute_output_shape`` needs no tracing).
"""
from __future__ import annotations

from neuroflow.keras.serialization import unknown_name_error

DATA_FORMATS = ("channels_last", "channels_first")


def standardize_data_format(data_format) -> str:
    """'channels_last' or 'channels_first'; None means ``keras.config.image_data_format()``."""
    if data_format is None:
        return image_data_format()
    fmt = str(data_format).lower()
    if fmt not in DATA_FORMATS:
        raise ValueError(f"The `data_format` argument must be one of {DATA_FORMATS}. "
                         f"Received: data_format={data_format!r}")
    return fmt


def image_data_format() -> str:
    """The global default, read from ``keras.config`` when that module provides one."""
    try:
        from neuroflow.keras import config
    except ImportError:
        return "channels_last"
    getter = getattr(config, "image_data_format", None)
    return getter() if callable(getter) else "channels_last"


def standardize_padding(padding, allow_causal=False) -> str:
    """'valid', 'same' (or 'causal' for 1-D convolutions), lower case."""
    valid = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    mode = str(padding).lower() if isinstance(padding, str) else padding
    if mode not in valid:
        raise unknown_name_error("padding", padding, valid)
    return mode


def normalize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple:
    """An int or an iterable of ``n`` ints -> a tuple of ``n`` ints (Keras's argument form)."""
    if is_int(value):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value!r}") from None
        if len(values) != n or not all(is_int(v) for v in values):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. "
                             f"Received {name}={value!r}")
        values = tuple(int(v) for v in values)
    floor = 0 if allow_zero else 1
    if any(v < floor for v in values):
        what = "non-negative" if allow_zero else "strictly positive"
        raise ValueError(f"The `{name}` argument must be {what}. Received {name}={value!r}")
    return values


def is_int(v) -> bool:
    """True for Python and NumPy integers (not bools)."""
    return hasattr(v, "__index__") and not isinstance(v, bool)


def normalize_pairs(value, n: int, name: str) -> tuple:
    """An int, a tuple of ``n`` ints, or ``n`` (before, after) pairs -> ``n`` pairs
    (ZeroPadding and Cropping's argument form)."""
    if is_int(value):
        return ((_non_negative(value, name, value),) * 2,) * n
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if n == 1 and items is not None and len(items) == 2 and all(is_int(v) for v in items):
        items = (items,)  # the 1-D form is a single (before, after) pair
    if items is None or len(items) != n:
        _bad_pairs(value, n, name)
    pairs = []
    for item in items:
        if is_int(item):
            pairs.append((_non_negative(item, name, value),) * 2)
            continue
        try:
            pair = tuple(item)
        except TypeError:
            _bad_pairs(value, n, name)
        if len(pair) != 2 or not all(is_int(v) and v >= 0 for v in pair):
            _bad_pairs(value, n, name)
        pairs.append((int(pair[0]), int(pair[1])))
    return tuple(pairs)


def _non_negative(v, name, value):
    if v < 0:
        raise ValueError(f"The `{name}` argument must be non-negative. Received {name}={value!r}")
    return int(v)


def _bad_pairs(value, n, name):
    raise ValueError(f"`{name}` should be an int, a tuple of {n} ints, or a tuple of {n} "
                     f"tuples of 2 non-negative ints. Received: {name}={value!r}")


# -- layouts ---------------------------------------------------------------------------------

def nf_data_format(data_format: str, rank: int) -> str:
    """The nf.nn op spelling ('NHWC', 'NCW', ...) of a Keras data format."""
    spatial = {1: "W", 2: "HW", 3: "DHW"}[rank]
    return f"NC{spatial}" if data_format == "channels_first" else f"N{spatial}C"


def channel_axis(data_format: str) -> int:
    return 1 if data_format == "channels_first" else -1


def spatial_axes(data_format: str, rank: int) -> tuple:
    start = 2 if data_format == "channels_first" else 1
    return tuple(range(start, start + rank))


def split_shape(shape, data_format: str, rank: int):
    """(batch, spatial tuple, channels) of an input shape in ``data_format``."""
    shape = tuple(shape)
    if data_format == "channels_first":
        return shape[0], shape[2:2 + rank], shape[1]
    return shape[0], shape[1:1 + rank], shape[-1]


def join_shape(batch, spatial, channels, data_format: str) -> tuple:
    if data_format == "channels_first":
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)


# -- output lengths ---------------------------------------------------------------------------

def conv_output_length(length, kernel_size, padding, stride, dilation=1):
    """Output length of a convolution or pooling window along one axis (None stays None;
    not positive when the window does not fit: callers raise)."""
    if length is None:
        return None
    effective = (kernel_size - 1) * dilation + 1
    if padding == "same":
        return -(-length // stride)
    if padding == "causal":
        length += effective - 1
    return (length - effective) // stride + 1


def deconv_output_length(length, kernel_size, padding, stride, output_padding=None,
                         dilation=1):
    """Output length of a transposed convolution along one axis (Keras's formula)."""
    if length is None:
        return None
    effective = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (length - 1) * stride + effective + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + effective % 2 + output_padding
