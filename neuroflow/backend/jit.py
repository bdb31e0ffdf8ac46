"""Compiled loops, when numba is installed (the ``fast`` extra).

A few kernels are single passes that NumPy can only express as several (routing a max
pool's gradient to each window's winner, Adam's update): with numba they run as one loop
over the data, compiled on first use (and cached next to the module), with the GIL
released so that ``backend.threads`` parts run at the same time. Every such kernel has a
NumPy version that gives the same values (within a few float32 ulps for the float32
softmax, layer norm and GELU kernels, which compute their own exp and sums); it runs when
numba is absent, or when ``NEUROFLOW_JIT=0`` is set (tests run both).
"""
from __future__ import annotations

import os

ENABLED = os.environ.get("NEUROFLOW_JIT", "1") != "0"
_numba = None  # the module once imported; False: not installed


def _load():
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError:
            numba = False
        _numba = numba
    return _numba


def available() -> bool:
    """Whether compiled kernels run: numba is installed and ``ENABLED``."""
    return ENABLED and _load() is not False


class Kernel:
    """A Python loop compiled by numba on its first call (nopython mode, GIL released).
    ``fastmath``: LLVM's fast-math flags the kernel allows, of two kinds only: "contract"
    (a multiply and an add may become one FMA: one rounding instead of two) and "reassoc"
    (a sum may be reordered, so that the compiler vectorises it: a fixed order on a given
    machine, as a BLAS's). Values then differ from the NumPy versions' by a few ulps; no
    flag that changes the handling of NaN, infinities or signed zeros is used."""

    __slots__ = ("python", "fastmath", "_compiled")

    def __init__(self, python, fastmath=()):
        if not set(fastmath) <= {"contract", "reassoc"}:
            raise ValueError(f"fast-math flags allowed: contract, reassoc; got {fastmath}")
        self.python, self.fastmath, self._compiled = python, frozenset(fastmath), None

    def __call__(self, *args):
        compiled = self._compiled
        if compiled is None:
            numba = _load()
            if numba is False:
                raise ImportError("compiled kernels need numba: pip install 'neuroflow[fast]'")
            _compile_helpers(self.python.__globals__, numba)
            # NumPy's error model: a division by zero gives inf/nan as the NumPy versions
            # do (Python's raises, and its checks keep loops from being vectorised)
            options = {"nogil": True, "error_model": "numpy"}
            if self.fastmath:
                options["fastmath"] = set(self.fastmath)
            try:  # cached next to the module, or in numba's user-wide cache folder
                compiled = numba.njit(cache=True, **options)(self.python)
            except RuntimeError:  # nowhere writable to cache: compile in each process
                compiled = numba.njit(**options)(self.python)
            self._compiled = compiled
        return compiled(*args)


class Helper:
    """A function that kernels call (inlined into them), e.g. an exp the compiler can
    vectorise. Plain Python until the first kernel of its module compiles, which puts the
    compiled function in its place."""

    __slots__ = ("python",)

    def __init__(self, python):
        self.python = python

    def __call__(self, *args):
        return self.python(*args)


def _compile_helpers(module_globals, numba):
    for name, value in list(module_globals.items()):
        if isinstance(value, Helper):
            module_globals[name] = numba.njit(inline="always", error_model="numpy")(
                value.python)


def kernel(fn=None, *, fastmath=()):
    """Marks ``fn`` (numba-compatible Python) as a compiled kernel; call it only when
    ``available()``. ``@kernel(fastmath={"contract"})``: see ``Kernel``."""
    if fn is None:
        return lambda fn: Kernel(fn, fastmath)
    return Kernel(fn, fastmath)


def helper(fn) -> Helper:
    """Marks ``fn`` as a function that kernels of its module call (inlined)."""
    return Helper(fn)


__all__ = ["available", "kernel", "helper"]
