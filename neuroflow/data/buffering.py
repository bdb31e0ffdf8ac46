"""Buffering: ``cache`` (replay the first complete pass) and ``prefetch`` (a background
thread producing elements ahead of the consumer)."""
from __future__ import annotations

import itertools
import queue
import threading
import weakref

from neuroflow.core.context import ctx
from neuroflow.data.dataset import AUTOTUNE
from neuroflow.data.transforms import UnaryDataset, close_iterator

AUTOTUNE_BUFFER = 2
# a worker thread must not run its ops in the graph another thread is tracing: that needs
# the execution context to be per thread
_THREADS_ALLOWED = isinstance(ctx, threading.local)
_POLL_SECONDS = 0.05
_ELEMENT, _END, _ERROR = "element", "end", "error"


class CacheDataset(UnaryDataset):
    """``dataset.cache()``: the first pass that runs to the end is kept in memory and replayed
    by later passes; a pass abandoned early keeps nothing (as TF's in-memory cache)."""

    def __init__(self, input_dataset, filename=""):
        super().__init__(input_dataset)
        if filename:
            raise NotImplementedError(
                f"cache(filename={filename!r}): caching to files is not supported; use "
                "cache() for an in-memory cache")
        self._cached = None
        self._lock = threading.Lock()

    def _iterator(self):
        cached = self._cached
        if cached is not None:
            return iter(cached)
        return self._filling()

    def _filling(self):
        source = self._input._iterator()
        elements = []
        try:
            for element in source:
                elements.append(element)
                yield element
        finally:
            close_iterator(source)
        with self._lock:
            if self._cached is None:
                self._cached = elements


_thread_numbers = itertools.count(1)


class PrefetchDataset(UnaryDataset):
    """``dataset.prefetch(buffer_size)``: a daemon thread fills a queue of up to
    ``buffer_size`` elements. Its exceptions are raised in the consumer (at the element where
    they happened); the thread stops when the iterator is closed, exhausted or dropped."""

    def __init__(self, input_dataset, buffer_size):
        super().__init__(input_dataset)
        if buffer_size < AUTOTUNE:
            raise ValueError(f"prefetch: buffer_size must be positive or nf.data.AUTOTUNE, "
                             f"got {buffer_size}")
        self._buffer_size = AUTOTUNE_BUFFER if buffer_size == AUTOTUNE else buffer_size

    def _iterator(self):
        if self._buffer_size == 0 or not _THREADS_ALLOWED:
            return self._input._iterator()
        # the upstream pass is made here, in the consumer's thread, so that passes are
        # numbered (for shuffle's per-pass seeds) in the order the consumer asks for them
        source = self._input._iterator()
        buffer = queue.Queue(maxsize=self._buffer_size)
        stop = threading.Event()
        worker = threading.Thread(target=_produce, args=(source, buffer, stop), daemon=True,
                                  name=f"nf.data.prefetch-{next(_thread_numbers)}")
        consumer = _consume(buffer, stop)
        weakref.finalize(consumer, stop.set)  # even a pass never started stops its thread
        worker.start()
        return consumer


def _consume(buffer, stop):
    try:
        while True:
            kind, payload = buffer.get()
            if kind is _ELEMENT:
                yield payload
            elif kind is _END:
                return
            else:
                raise payload
    finally:
        stop.set()


def _produce(source, buffer, stop):
    """The worker: holds only the upstream pass, the queue and the stop flag (never the
    consumer), so dropping the consumer's iterator lets it be collected and stop us."""
    try:
        for element in source:
            if not _put(buffer, (_ELEMENT, element), stop):
                return
        _put(buffer, (_END, None), stop)
    except BaseException as err:  # noqa: BLE001  (everything goes to the consumer)
        _put(buffer, (_ERROR, err), stop)
    finally:
        try:
            close_iterator(source)
        except Exception:  # noqa: BLE001  (a generator's cleanup error has no one to go to)
            pass


def _put(buffer, item, stop) -> bool:
    while not stop.is_set():
        try:
            buffer.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


__all__ = ["CacheDataset", "PrefetchDataset", "AUTOTUNE_BUFFER"]
