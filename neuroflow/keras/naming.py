"""Unique automatic names, as Keras gives them: ``dense``, ``dense_1``, ..."""
from __future__ import annotations

import collections
import re

_counts = collections.Counter()


def to_snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Conv2D -> conv2d, as Keras


def unique_name(base: str) -> str:
    """``base`` the first time, then ``base_1``, ``base_2``, ..."""
    count = _counts[base]
    _counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def reset():
    """Forgets the names given so far (``keras.backend.clear_session``)."""
    _counts.clear()
