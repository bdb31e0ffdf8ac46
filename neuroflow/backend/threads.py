"""Threads: how many a kernel may use, and the small pool that runs its parts at once.

NumPy lets go of the GIL inside its loops and its BLAS calls, so Python threads that each
run a kernel on part of a batch run at the same time. A kernel with enough work splits it
(``split``) and hands the parts to ``run``: the calling thread does the first part, the
pool's threads the others. While the parts run, the BLAS runs one thread per caller (the
kernel has made the split; the BLAS's own threads would only compete), and it gets its
thread count back afterwards.

Why not leave it to the BLAS: measured on 2 cores, a (12544 x 288) x (288 x 64) GEMM took
2.45 ms on OpenBLAS's 2 threads and 1.95 ms as two halves on 2 Python threads with a
1-thread BLAS; and the elementwise work around the GEMMs (bias, ReLU, pooling, Adam) only
splits this way. After a multithreaded call OpenBLAS's idle threads spin for about 0.1 s,
slowing whatever else runs then; kernels that split their own work never wake them.

How many threads: ``intra_op_threads()``; by default the BLAS's own count, so that
``threadpoolctl.threadpool_limits(1)`` (or OPENBLAS_NUM_THREADS=1) also makes neuroflow
single-threaded; ``nf.config.threading.set_intra_op_parallelism_threads(n)`` overrides it.
"""
from __future__ import annotations

import ctypes
import os
import threading

import numpy as np

# -- the BLAS's threads -----------------------------------------------------------------------

# None: ask NumPy's BLAS how many threads it uses; an int overrides the answer (tests).
BLAS_THREADS = None
_blas = None  # (get, set) ctypes functions of the BLAS NumPy loaded; False: not found


def _find_blas():
    """openblas_get/set_num_threads of the OpenBLAS NumPy loaded (Linux: found in the
    process's memory map; the names carry the build's prefix and suffix), or False."""
    np.ones((2, 2)) @ np.ones((2, 2))  # NumPy loads its BLAS on first use
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"),
                               ("openblas_", "")):
            get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                return get, put
    return False


def _blas_functions():
    global _blas
    if _blas is None:
        _blas = _find_blas()
    return _blas


def blas_threads() -> int:
    """How many threads NumPy's BLAS splits a big GEMM over (``threadpoolctl`` sets it);
    1 when it cannot be asked."""
    if BLAS_THREADS is not None:
        return max(1, BLAS_THREADS)
    blas = _blas_functions()
    return max(1, blas[0]()) if blas else 1


# -- how many threads a kernel may use ----------------------------------------------------------

_intra_op = 0  # 0: follow the BLAS's thread count
_local = threading.local()  # .busy: this thread is running a part already


def intra_op_threads() -> int:
    """Threads a kernel may split its work over: 1 inside a part that ``run`` started."""
    if getattr(_local, "busy", False):
        return 1
    return _intra_op or blas_threads()


def set_intra_op_threads(n: int) -> None:
    """``n`` threads per kernel from now on; 0 follows the BLAS's thread count again."""
    global _intra_op
    if int(n) < 0:
        raise ValueError(f"the number of threads must be >= 0 (0: the default), got {n}")
    _intra_op = int(n)


def get_intra_op_threads() -> int:
    """The number set by ``set_intra_op_threads``; 0 when it follows the default."""
    return _intra_op


# -- splitting and running ---------------------------------------------------------------------

# Ops whose kernels split their work over the threads in any case (convolution, pooling):
# a plan that runs any of them runs its other big kernels split too (see ``owned``).
SPLITTING_OPS = set()
# Ops that split when their output is big (attention's softmax, a transformer's GELU): a
# plan runs split when one of them has a static output of at least MIN_SPLIT elements (a
# classifier's [batch, 10] softmax does not make a dense network's plan split).
SPLITTING_WHEN_BIG = set()


def splits(op_type: str, static_size) -> bool:
    """Whether a plan with this op (``static_size``: its output's element count when the
    shape is known, else None) runs its big kernels split (``owned``)."""
    return op_type in SPLITTING_OPS or (op_type in SPLITTING_WHEN_BIG and static_size is not
                                        None and static_size >= MIN_SPLIT)


class owned:
    """While active (a plan with a SPLITTING_OPS op runs its steps in one), every big
    kernel splits its work over neuroflow's threads and calls the BLAS single-threaded.

    Outside, only the SPLITTING_OPS kernels split, and GEMMs get the BLAS's own threads.
    The choice is per plan because the two ways do not mix: after each multithreaded call
    OpenBLAS's threads spin for about 0.1 s, and measured on 2 cores a convolution network's
    step took 37 ms with its dense layers' GEMMs on OpenBLAS's threads against 24 ms with
    them split too; a dense network's GEMMs, on the other hand, run faster on OpenBLAS's
    threads (which spin, so start at once) than as parts handed to sleeping threads."""

    __slots__ = ("_before",)

    def __enter__(self):
        self._before = getattr(_local, "owned", False)
        _local.owned = True

    def __exit__(self, *exc):
        _local.owned = self._before


def split(n: int, min_part: int = 1, always: bool = False) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges covering ``range(n)``: one per thread, each of at least
    ``min_part`` items, as even as can be; a single range when the thread count is 1, or
    unless ``always`` or inside ``owned``."""
    most = n // max(min_part, 1)
    if most <= 1:  # too little work to split: no need to ask how many threads there are
        return [(0, n)]
    parts = intra_op_threads() if always or getattr(_local, "owned", False) else 1
    parts = max(1, min(parts, most))
    bounds = [n * i // parts for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a] or [(0, n)]


class _Worker:
    """A thread that runs one part at a time: ``start`` hands it a part, ``finish`` waits
    for its result. Two bare locks make the handshake: a run with empty parts costs about
    55 us here (a ThreadPoolExecutor's futures: 73), nearly all of it waking the other
    core, and about 15 us when the caller has its own part to do meanwhile."""

    def __init__(self):
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._task = self._result = None
        threading.Thread(target=self._loop, name="neuroflow-worker", daemon=True).start()

    def _loop(self):
        _local.busy = True
        while True:
            self._go.acquire()
            fn, a, b = self._task
            try:
                self._result = (fn(a, b), None)
            except BaseException as err:  # handed to the caller of run()
                self._result = (None, err)
            self._task = None
            self._done.release()

    def start(self, fn, a, b):
        self._task = (fn, a, b)
        self._go.release()

    def finish(self):
        self._done.acquire()
        result, self._result = self._result, None
        return result


_workers = []
_workers_lock = threading.Lock()  # one run() at a time uses the workers


def _forget_workers():  # a forked child has none of its parent's threads
    global _workers, _workers_lock
    _workers, _workers_lock = [], threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def run(fn, parts):
    """``[fn(a, b) for (a, b) in parts]``, the parts run at the same time on worker threads
    and this one, with a 1-thread BLAS meanwhile. ``fn`` must only write what its own part
    owns. The first exception raised by a part is raised here, once all parts have
    finished. While another thread's ``run`` holds the workers, the parts run here, one
    after another."""
    if len(parts) <= 1 or intra_op_threads() <= 1 or not _workers_lock.acquire(False):
        return [fn(a, b) for a, b in parts]
    blas = _blas_functions()
    previous = blas[0]() if blas else 1
    if blas and previous != 1:
        blas[1](1)
    try:
        while len(_workers) < len(parts) - 1:
            _workers.append(_Worker())
        busy = _workers[:len(parts) - 1]
        for worker, (a, b) in zip(busy, parts[1:]):
            worker.start(fn, a, b)
        _local.busy = True
        try:
            first = (fn(*parts[0]), None)
        except BaseException as err:
            first = (None, err)
        finally:
            _local.busy = False
        results = [first]
        try:
            for worker in busy:
                results.append(worker.finish())
        except BaseException:  # interrupted (Ctrl-C) while parts still run: the workers
            for worker in busy[len(results) - 1:]:  # not waited for are never reused
                _workers.remove(worker)
            raise
    finally:
        if blas and previous != 1:
            blas[1](previous)
        _workers_lock.release()
    for _, err in results:
        if err is not None:
            raise err
    return [value for value, _ in results]


# Elementwise work is split into parts of at least this many elements: handing a part to
# another thread costs tens of microseconds, about what a pass over 100k floats takes.
MIN_SPLIT = 1 << 17


def elementwise(fn, out, *arrays):
    """``fn(out, *arrays)`` for an elementwise ``fn`` writing ``out``, split into even flat
    parts over the threads when every array is C-contiguous with ``out``'s shape. Returns
    ``out``."""
    if not out.flags.c_contiguous or any(a.shape != out.shape or not a.flags.c_contiguous
                                         for a in arrays):
        fn(out, *arrays)
        return out
    flat_out = out.reshape(-1)
    flats = [a.reshape(-1) for a in arrays]
    run(lambda a, b: fn(flat_out[a:b], *[f[a:b] for f in flats]), split(out.size, MIN_SPLIT))
    return out


__all__ = ["blas_threads", "intra_op_threads", "set_intra_op_threads",
           "get_intra_op_threads", "owned", "split", "run", "elementwise"]
