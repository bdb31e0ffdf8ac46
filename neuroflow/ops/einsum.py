"""Einstein summation and tensordot: the general contraction primitive.

``tensordot`` is written as an einsum, and every einsum's gradient is another einsum with
the subscripts rearranged (a ones operand restores axes summed inside one input; repeated
subscripts, diagonals, are scattered back with a constant mask). Re-exported by
``neuroflow.ops.linalg``.
"""
from __future__ import annotations

import functools
import string
from collections import Counter

import numpy as np

from neuroflow.core.op import Spec, convert_to_tensor, primitive
from neuroflow.core.tensor import shape_str
from neuroflow.ops.broadcast import broadcast_as, expand_reduced, unbroadcast
from neuroflow.ops.shapes import normalize_axis

# -- einsum -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _split(equation):
    """'ij,jk->ik' -> (('ij', 'jk'), 'ik') for an equation already made explicit."""
    lhs, out = equation.split("->")
    return tuple(lhs.split(",")), out


def _normalize_equation(equation, ranks):
    """Spells out ``...`` with letters and makes the output explicit, as NumPy reads it."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1 or any(c not in string.ascii_letters + ".,->" for c in eq):
        raise ValueError(f"einsum equation {equation!r} is not valid: use letters, ',', "
                         "'...' and one '->'")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"einsum equation {equation!r} has {len(terms)} operand(s) but "
                         f"{len(ranks)} input(s) were given")
    letters = set(c for c in eq if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in letters]
    ellipsis_ranks = []
    for i, (term, rank) in enumerate(zip(terms, ranks)):
        named = len(term.replace("...", ""))
        if term.count(".") not in (0, 3) or (term.count(".") and "..." not in term):
            raise ValueError(f"einsum equation {equation!r}: '.' only appears as '...'")
        if rank is None:
            if "..." in term:
                raise ValueError(f"einsum: input {i} has unknown rank, so '...' in "
                                 f"{equation!r} cannot be resolved")
            continue
        if "..." in term:
            if rank < named:
                raise ValueError(f"einsum: subscripts {term!r} name {named} axes but input "
                                 f"{i} has rank {rank}")
            ellipsis_ranks.append(rank - named)
        elif rank != named:
            raise ValueError(f"einsum: subscripts {term!r} name {named} axes but input {i} "
                             f"has rank {rank}")
    n_ell = max(ellipsis_ranks, default=0)
    if n_ell > len(spare):
        raise ValueError(f"einsum equation {equation!r} needs more than 52 distinct axes")
    ell = "".join(spare[:n_ell])
    new_terms = []
    for term, rank in zip(terms, ranks):
        if "..." in term:
            k = rank - len(term.replace("...", ""))
            term = term.replace("...", ell[n_ell - k:])
        new_terms.append(term)
    if not arrow:
        counts = Counter(c for term in terms for c in term if c.isalpha())
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    else:
        if "..." in out:
            out = out.replace("...", ell)
        elif "." in out:
            raise ValueError(f"einsum equation {equation!r}: '.' only appears as '...'")
        used = set("".join(new_terms))
        for c in out:
            if c not in used:
                raise ValueError(f"einsum equation {equation!r}: output subscript {c!r} does "
                                 "not appear in any input")
        if len(set(out)) != len(out):
            raise ValueError(f"einsum equation {equation!r}: an output subscript repeats")
    return ",".join(new_terms) + "->" + out


def _merge_size(old, d, c):
    """One subscript's size from two inputs: 1 broadcasts, None (unknown) defers."""
    if old == 1:
        return d
    if d == 1 or d is None:
        return old
    if old is not None and old != d:
        raise ValueError(f"einsum: subscript {c!r} has size {old} in one input and {d} in "
                         "another")
    return d


def _letter_sizes(terms, shape_list):
    sizes = {}
    for term, shape in zip(terms, shape_list):
        for c, d in zip(term, shape):
            sizes[c] = _merge_size(sizes.get(c, 1), d, c)
    return sizes


def _einsum_spec(*xs, equation):
    terms, out = _split(equation)
    if any(x.shape.rank is None for x in xs):
        return Spec([None] * len(out), xs[0].dtype)
    sizes = _letter_sizes(terms, [x.shape for x in xs])
    return Spec([sizes[c] for c in out], xs[0].dtype)


@primitive("Einsum", shape=_einsum_spec)
def _einsum(*operands, equation):
    if len(operands) == 1:
        out = np.einsum(equation, operands[0])
        # NumPy returns views for transposes and diagonals; outputs own their memory here.
        return out.copy() if np.may_share_memory(out, operands[0]) else out
    terms, _ = _split(equation)
    sizes = {}
    for term, x in zip(terms, operands):
        sizes.update(zip(term, x.shape))
    # NumPy's optimised path hands contractions to BLAS (tensordot) but costs ~20 us to plan:
    # worth it only when the naive loop is long.
    work = int(np.prod(list(sizes.values()), dtype=np.float64))
    return np.einsum(equation, *operands, optimize=work > 4096)


@_einsum.defgrad
def _einsum_grad(op, dy):
    from neuroflow.ops.array import ones_like
    from neuroflow.ops.math import conj
    terms, out = _split(op.attrs["equation"])
    grads = []
    for i, (x, term) in enumerate(zip(op.inputs, terms)):
        others = [(t, conj(op.inputs[j])) for j, t in enumerate(terms) if j != i]
        unique = "".join(dict.fromkeys(term))
        available = set(out).union(*(t for t, _ in others))
        subscripts, operands = [out] + [t for t, _ in others], [dy] + [o for _, o in others]
        if any(c not in available for c in unique):
            # Axes summed away inside this operand alone: a ones operand brings their sizes
            # back, so the gradient broadcasts along them.
            subscripts.append(term)
            operands.append(ones_like(x))
        g = _einsum(*operands, equation=",".join(subscripts) + "->" + unique)
        grads.append(unbroadcast(g, x) if unique == term else _onto_diagonals(g, x, term))
    return grads


def _onto_diagonals(g, x, term):
    """Places the gradient of a repeated-subscript operand (``ii``: a diagonal) back onto
    the diagonals of a zero tensor shaped like ``x``."""
    from neuroflow.ops.math import multiply
    from neuroflow.ops.reduce import reduce_sum
    if not (x.shape.is_fully_defined() and g.shape.is_fully_defined()):
        raise NotImplementedError(
            f"the gradient of einsum with a repeated subscript in one input ({term!r}) needs "
            f"static shapes; got {shape_str(x.shape)}")
    firsts = {}
    for pos, c in enumerate(term):
        firsts.setdefault(c, pos)
    unique_positions = sorted(firsts.values())
    summed = tuple(k for k, pos in enumerate(unique_positions)
                   if x.shape[pos] == 1 and g.shape[k] != 1)
    if summed:
        g = reduce_sum(g, axis=summed, keepdims=True)
    repeats = tuple(pos for pos in range(len(term)) if pos not in unique_positions)
    g = broadcast_as(expand_reduced(g, x, axis=repeats), x)
    mask = np.ones(tuple(x.shape), x.dtype.np_dtype)
    for c, first in firsts.items():
        positions = [p for p, d in enumerate(term) if d == c]
        if len(positions) > 1:
            n = x.shape[first]
            eye = np.zeros([n if p in positions else 1 for p in range(len(term))], mask.dtype)
            eye[tuple(np.arange(n) if p in positions else 0 for p in range(len(term)))] = 1
            mask = mask * eye
    return multiply(g, mask)


def einsum(equation, *inputs, **kwargs):
    """Einstein summation (``nf.einsum``): explicit ('ij,jk->ik') or implicit ('ij,jk')
    output, '...' for leading axes. Gradients flow to every floating input.

    >>> nf.einsum("bij,bjk->bik", nf.ones([2, 3, 4]), nf.ones([2, 4, 5])).shape
    TensorShape([2, 3, 5])
    """
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)  # TensorFlow's contraction-order hint; NumPy plans its own
    if kwargs:
        raise TypeError(f"einsum got unexpected keyword arguments {sorted(kwargs)}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    inputs = tuple(x if hasattr(x, "shape") else convert_to_tensor(x) for x in inputs)
    normalized = _normalize_equation(equation, [x.shape.rank if hasattr(x.shape, "rank")
                                                else len(x.shape) for x in inputs])
    terms, _ = _split(normalized)
    if all(x.shape.rank is not None for x in inputs if hasattr(x.shape, "rank")):
        _letter_sizes(terms, [tuple(x.shape) for x in inputs])  # same message eager or graph
    return _einsum(*inputs, equation=normalized, name=name)


def tensordot(a, b, axes, name=None):
    """Sums the products of ``a`` and ``b`` over the given axes (``nf.tensordot``): ``axes``
    is N (last N of a with first N of b) or a pair of axis lists.

    >>> nf.tensordot(nf.ones([2, 3]), nf.ones([3, 4]), axes=1).shape
    TensorShape([2, 4])
    """
    a = a if hasattr(a, "shape") else convert_to_tensor(a)
    b = b if hasattr(b, "shape") else convert_to_tensor(b)
    ra, rb = len(a.shape), len(b.shape)
    if hasattr(axes, "numpy"):
        axes = axes.numpy().tolist()
    if isinstance(axes, (int, np.integer)) or (hasattr(axes, "ndim") and axes.ndim == 0):
        n = int(axes)
        if n < 0 or n > ra or n > rb:
            raise ValueError(f"tensordot: axes={n} does not fit shapes {shape_str(a.shape)} "
                             f"and {shape_str(b.shape)}")
        axes_a, axes_b = list(range(ra - n, ra)), list(range(n))
    else:
        if len(axes) != 2:
            raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got "
                             f"{axes!r}")
        axes_a, axes_b = ([int(v) for v in np.atleast_1d(x)] for x in axes)
        if len(axes_a) != len(axes_b):
            raise ValueError(f"tensordot: {len(axes_a)} axes of a paired with {len(axes_b)} "
                             "axes of b")
        axes_a = list(normalize_axis(axes_a, ra))
        axes_b = list(normalize_axis(axes_b, rb))
    for i, j in zip(axes_a, axes_b):
        da, db = a.shape[i], b.shape[j]
        if da is not None and db is not None and da != db:
            raise ValueError(f"tensordot: axis {i} of a (shape {shape_str(a.shape)}) has size "
                             f"{da} but axis {j} of b (shape {shape_str(b.shape)}) has {db}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(ra)]
    sb = [None] * rb
    for i, j in zip(axes_a, axes_b):
        sb[j] = sa[i]
    sb = [c or next(letters) for c in sb]
    out = [c for i, c in enumerate(sa) if i not in axes_a] + \
        [c for j, c in enumerate(sb) if j not in axes_b]
    equation = "".join(sa) + "," + "".join(sb) + "->" + "".join(out)
    return _einsum(a, b, equation=equation, name=name)


__all__ = ["einsum", "tensordot"]
