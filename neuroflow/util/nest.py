"""Nested structures (lists, tuples, namedtuples, dicts) flattened and packed, as tf.nest."""
from __future__ import annotations


def is_nested(x) -> bool:
    return isinstance(x, (list, tuple, dict))


def flatten(structure) -> list:
    """Leaves in order; dicts by sorted key, as tf.nest.flatten."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_sequence_as(structure, flat):
    """Rebuilds ``structure`` with the leaves of ``flat``."""
    flat = list(flat)
    position = [0]

    def build(s):
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s)
        if isinstance(s, (list, tuple)):
            items = [build(item) for item in s]
            if isinstance(s, tuple) and hasattr(s, "_fields"):
                return type(s)(*items)
            return type(s)(items)
        leaf = flat[position[0]]
        position[0] += 1
        return leaf

    result = build(structure)
    if position[0] != len(flat):
        raise ValueError(f"structure has {position[0]} leaves but {len(flat)} values were given")
    return result


def map_structure(fn, *structures):
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*xs) for xs in zip(*flats)])
