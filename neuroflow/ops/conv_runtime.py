"""The runtime of the convolution and pooling kernels: what a forward kernel leaves for its
gradient (``patch_cache``, ``argmax_cache``), recycled scratch buffers (``workspace``) and
output arrays (``outputs``).

Why recycle: a fresh multi-megabyte array costs a page fault per 4 KiB page the first time
it is written (several microseconds each on these machines), and glibc hands big freed
blocks back to the system, so a training loop that allocates its activations afresh pays
that every step.
"""
from __future__ import annotations

import sys
import threading
import weakref

import numpy as np

# -- what a forward kernel leaves for its gradient -----------------------------------------

class GradientCache:
    """What a forward kernel computed and its gradient kernel will need again, keyed by the
    identity of an array both kernels receive (and the op's geometry).

    ``patch_cache``: a forward convolution whose im2col patch matrix is small (no bigger
    than its output) keeps it, keyed by its input, when a gradient will follow; the filter
    gradient takes it back instead of gathering it again. ``argmax_cache``: max pooling
    keeps which window tap won each output, keyed by its output; MaxPoolGrad takes it back.
    An entry lives until it is taken, its key array is freed, or the key array is recycled
    for new values (``Recycler.empty`` forgets it); the cache is bounded, so at worst a
    gradient computes again what the forward pass had.
    """

    def __init__(self, max_entries=16, max_bytes=1 << 30):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries = {}  # (id(x), key) -> (weakref to x, value, nbytes)
        self._bytes = 0

    def put(self, x, key, value, nbytes):
        k = (id(x), key)
        self._drop(k)
        try:
            ref = weakref.ref(x, lambda _, k=k: self._drop(k))
        except TypeError:
            return
        self._entries[k] = (ref, value, nbytes)
        self._bytes += nbytes
        while self._entries and (len(self._entries) > self.max_entries
                                 or self._bytes > self.max_bytes):
            self._drop(next(iter(self._entries)))

    def get(self, x, key, take=False):
        k = (id(x), key)
        entry = self._entries.get(k)
        if entry is None or entry[0]() is not x:
            return None
        if take:
            self._drop(k)
        return entry[1]

    def _drop(self, k):
        entry = self._entries.pop(k, None)
        if entry is not None:
            self._bytes -= entry[2]

    def forget(self, x):
        """Drops the entries keyed by ``x`` (an array about to hold new values)."""
        for k in [k for k in self._entries if k[0] == id(x)]:
            self._drop(k)

    def clear(self):
        self._entries.clear()
        self._bytes = 0

    def __len__(self):
        return len(self._entries)


patch_cache = GradientCache(max_bytes=1 << 28)
argmax_cache = GradientCache(max_bytes=1 << 28)


# -- scratch buffers ------------------------------------------------------------------------

class Workspace:
    """Recycled scratch buffers for big temporaries (patch matrices, per-tap products).

    A fresh multi-megabyte temporary costs page faults every time it is touched; keeping a
    few released buffers per (shape, dtype), per thread, lets the next call of the same
    shape reuse one. Only buffers that nothing else references may be released.
    """

    SMALL = 1 << 16  # bytes: below this, allocating afresh is cheap
    MAX_PER_SHAPE = 2
    MAX_BYTES = 1 << 28  # at most this much kept, per thread

    def __init__(self):
        self._local = threading.local()

    def _state(self):
        local = self._local
        if not hasattr(local, "pool"):
            local.pool, local.nbytes = {}, 0
        return local

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        state = self._state()
        free = state.pool.get((tuple(shape), dtype.str))
        if not free:
            return np.empty(shape, dtype)
        array = free.pop()
        state.nbytes -= array.nbytes
        return array

    def release(self, array):
        if array is None or array.nbytes < self.SMALL or not array.flags.c_contiguous:
            return
        state = self._state()
        if state.nbytes + array.nbytes > self.MAX_BYTES:
            return
        free = state.pool.setdefault((array.shape, array.dtype.str), [])
        if len(free) < self.MAX_PER_SHAPE and not any(a is array for a in free):
            free.append(array)
            state.nbytes += array.nbytes

    def clear(self):
        state = self._state()
        state.pool.clear()
        state.nbytes = 0


workspace = Workspace()


def _refs(arrays, i):
    return sys.getrefcount(arrays[i])


_ONLY_LISTED = _refs([np.empty(0)], 0)  # the count of an array that only a list holds


class Recycler:
    """Output arrays of the convolution and pooling kernels, handed out again once nothing
    references them any more: each step of a training loop then writes its outputs into
    the same memory instead of fresh pages. Every view of an array, NumPy's or a buffer's,
    holds a reference to it, so an array that only this pool holds is free.
    """

    SMALL = 1 << 16  # bytes: below this, allocating afresh is cheap
    MAX_PER_SHAPE = 4
    MAX_BYTES = 1 << 28

    def __init__(self):
        self._pool = {}  # (shape, dtype) -> [arrays]
        self._nbytes = 0
        self._lock = threading.Lock()

    def empty(self, shape, dtype):
        dtype = np.dtype(dtype)
        shape = tuple(int(d) for d in shape)
        nbytes = dtype.itemsize * int(np.prod(shape))
        if nbytes < self.SMALL:
            return np.empty(shape, dtype)
        with self._lock:
            arrays = self._pool.setdefault((shape, dtype.str), [])
            for i in range(len(arrays)):
                if _refs(arrays, i) <= _ONLY_LISTED:
                    array = arrays[i]
                    patch_cache.forget(array)  # what was cached for its old values
                    argmax_cache.forget(array)
                    return array
            if len(arrays) < self.MAX_PER_SHAPE and self._nbytes + nbytes <= self.MAX_BYTES:
                arrays.append(np.empty(shape, dtype))
                self._nbytes += nbytes
                return arrays[-1]
        return np.empty(shape, dtype)

    def clear(self):
        with self._lock:
            self._pool.clear()
            self._nbytes = 0


outputs = Recycler()


__all__ = []
