"""Random seeds: TensorFlow's (global seed, op seed) rules, and the streams random ops draw from.

A random op draws from a stream chosen by a (global seed, op seed) pair (``get_seed``). With a
global seed set (``nf.random.set_seed``, or a graph's ``seed``, which
``compat.v1.set_random_seed`` sets), a program gives the same numbers run after run, and op
calls without an op seed take the next of a reproducible sequence of op seeds; an op seed
without a global seed uses ``DEFAULT_GRAPH_SEED``; with neither, numbers come from OS entropy.

Eagerly, calls with the same explicit op seed share one generator, so repeated calls give a
reproducible sequence of different values (``set_seed`` restarts it); calls without an op seed
share one generator per global seed (cheaper than a fresh op seed's generator per call).
In a graph each random node owns its generator: every ``Session.run`` draws new values, and
rebuilding the graph with the same seeds replays them.

``get_state``/``set_state`` snapshot and restore all of it (the global seed, the position in
the sequence of automatic op seeds, and every live stream's generator), so that a training run
restored from a backup draws the numbers an uninterrupted run would (``BackupAndRestore``).
Streams are matched by a key that a rerun of the same program gives again: eager streams by
their seed pair; a graph's streams by the graph's name and input signature, the count of such
graphs made before it since the last ``set_seed``, and their order in the graph. Streams made
before the last ``set_seed`` are not saved.
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from neuroflow.core.context import ctx

DEFAULT_GRAPH_SEED = 87654321
_SEED_MASK = 2**64 - 1
# SeedSequence entropy: a tag, then each seed as two 32-bit words, so that no two different
# seed pairs (or an explicit pair and the automatic stream) ever give the same entropy
_OP_TAG, _AUTO_TAG, _INDEX_TAG = 1, 2, 3


def _words(seed):
    seed = int(seed) & _SEED_MASK
    return [seed & 0xFFFFFFFF, seed >> 32]


class _Counter:
    """``itertools.count`` whose position can be read and set (for ``get_state``)."""

    __slots__ = ("value",)

    def __init__(self, start=0):
        self.value = start

    def __iter__(self):
        return self

    def __next__(self):
        value = self.value
        self.value = value + 1
        return value


class _GlobalSeed:
    """The eager global seed, the counter behind automatic op seeds, and the shared streams."""

    def __init__(self):
        self.seed = None
        self.counter = _Counter()
        self.streams = {}      # (global seed, op seed) -> RandomStream, for explicit op seeds
        self.auto = None       # the stream of eager draws without an op seed
        self.live = weakref.WeakValueDictionary()  # key -> every live stream (get_state)
        self.occurrences = {}  # how many streams or graphs had a key's stem: keys' last part
        self.pending = {}      # key -> saved stream, for streams set_state had not seen yet


_eager = _GlobalSeed()


class RandomStream:
    """A NumPy generator and the seed pair it was made from (an attribute of random ops)."""

    __slots__ = ("seed", "seed2", "generator", "key", "__weakref__")

    def __init__(self, seed, seed2, key=None):
        """``seed`` None: OS entropy; ``seed2`` None: the stream of automatic op seeds.
        ``key``: the name ``get_state`` saves it under (by default from its seeds); False:
        not saved (a generator that is used once)."""
        self.seed, self.seed2 = seed, seed2
        if seed is None:
            self.generator = np.random.Generator(np.random.PCG64())
        else:
            if seed2 is None:
                entropy = [_AUTO_TAG, *_words(seed)]
            else:
                entropy = [_OP_TAG, *_words(seed), *_words(seed2)]
            self.generator = np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(entropy)))
        if key is None:
            key = _next_key(f"stream:{seed}:{seed2}")
        self.key = key or None
        if self.key is not None:
            _register(self)

    def __repr__(self):
        return f"<RandomStream seed={self.seed} seed2={self.seed2}>"


def set_seed(seed: int | None) -> None:
    """Sets the global random seed (``nf.random.set_seed``); restarts the random sequences.

    >>> nf.random.set_seed(1234); a = nf.random.uniform([2])
    >>> nf.random.set_seed(1234); bool(nf.reduce_all(nf.equal(a, nf.random.uniform([2]))))
    True
    """
    seed = None if seed is None else int(seed)
    if ctx.graph is not None:
        ctx.graph.seed = seed
        ctx.graph._seed_counter = itertools.count()
        return
    _eager.seed = seed
    _eager.counter = _Counter()
    _eager.streams.clear()
    _eager.auto = None
    # streams made before are not saved by get_state any more: their keys start again
    _eager.live.clear()
    _eager.occurrences.clear()
    _eager.pending.clear()


def _auto_op_seed(global_seed, index):
    """The index-th automatic op seed under a global seed: a fixed mix of the two."""
    state = np.random.SeedSequence([_INDEX_TAG, *_words(global_seed), *_words(index)])
    return int(state.generate_state(1, np.uint32)[0] & 0x7FFFFFFF)


def get_seed(op_seed: int | None, graph=None):
    """The (global seed, op seed) pair a random op uses (``tf.compat.v1.get_seed``)."""
    graph = ctx.graph if graph is None else graph
    if graph is None:
        global_seed, counter = _eager.seed, _eager.counter
    elif graph.seed is not None:
        global_seed, counter = graph.seed, graph._seed_counter
    elif graph.is_function_graph:
        # a traced function without its own seed follows the eager one; taking eager op
        # seeds keeps two traced functions from drawing the same numbers
        global_seed, counter = _eager.seed, _eager.counter
    else:
        global_seed = counter = None
    if global_seed is not None:
        if op_seed is None:
            op_seed = _auto_op_seed(global_seed, next(counter))
        return int(global_seed), int(op_seed)
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed)
    return None, None


def stream_for(seed, graph):
    """The stream a new random op draws from: its own in a graph, shared eagerly."""
    if graph is None and seed is None:
        # eager calls without an op seed share one stream per global seed: the same
        # reproducible sequence as a fresh op seed per call, without making a generator each
        if _eager.auto is None:
            _eager.auto = RandomStream(_eager.seed, None, key=f"auto:{_eager.seed}")
        return _eager.auto
    if graph is not None:
        key = _graph_stream_key(graph)
        saved = _eager.pending.get(key)
        if saved is not None:
            # restored: its seeds were drawn before the backup, so the op-seed counter
            # (restored too) is not advanced again
            return RandomStream(saved["seed"], saved["seed2"], key=key)
        global_seed, op_seed = get_seed(seed, graph)
        return RandomStream(global_seed, op_seed, key=key)
    global_seed, op_seed = get_seed(seed, graph)
    pair = (global_seed, op_seed)
    stream = _eager.streams.get(pair)
    if stream is None:
        stream = _eager.streams[pair] = RandomStream(global_seed, op_seed,
                                                     key=f"eager:{global_seed}:{op_seed}")
    return stream


def new_generator(seed: int | None = None) -> np.random.Generator:
    """A fresh NumPy generator following the seed rules (for initial values, not ops).

    An int ``seed`` always gives the same generator state (a seeded initializer repeats its
    values); ``None`` takes the next op seed under the global seed, or OS entropy without one.
    """
    global_seed, op_seed = get_seed(seed)
    return RandomStream(global_seed, op_seed, key=False).generator


# -- saving and restoring the state of every stream ---------------------------------------


def _next_key(stem):
    count = _eager.occurrences.get(stem, 0)
    _eager.occurrences[stem] = count + 1
    return f"{stem}:{count}"


def _register(stream):
    key = stream.key
    _eager.live[key] = stream
    saved = _eager.pending.pop(key, None)
    if saved is not None:
        stream.generator.bit_generator.state = saved["state"]


def _graph_stream_key(graph):
    """``graph:<name>:<input signature>:<such graphs before it>/<streams before it in it>``;
    the inputs (placeholders) of a traced function exist before its body runs."""
    stem = getattr(graph, "_nf_stream_stem", None)
    if stem is None:
        from neuroflow.core.op import PLACEHOLDER
        signature = ",".join(f"{list(t.shape) if t.shape.rank is not None else None}"
                             f"{t.dtype.name}" for op in graph.operations
                             if op.op_def is PLACEHOLDER for t in op.outputs)
        stem = graph._nf_stream_stem = _next_key(
            f"graph:{getattr(graph, 'name', '')}:{signature}")
        graph._nf_stream_count = 0
    index = graph._nf_stream_count
    graph._nf_stream_count = index + 1
    return f"{stem}/{index}"


def get_state() -> dict:
    """The random state of the program as JSON-ready data: the eager global seed, the
    position of the automatic op-seed sequence and every live stream's generator state.

    >>> state = get_state(); a = nf.random.uniform([2])
    >>> set_state(state); b = nf.random.uniform([2])   # a == b
    """
    # restored streams the program has not made again yet (a function not traced again since
    # a restart) are part of the state too
    streams = dict(_eager.pending)
    for key, stream in list(_eager.live.items()):
        if stream is not None:
            streams[key] = {"seed": stream.seed, "seed2": stream.seed2,
                            "state": stream.generator.bit_generator.state}
    return {"seed": _eager.seed, "counter": _eager.counter.value, "streams": streams}


def set_state(state: dict) -> None:
    """Restores what ``get_state`` returned: the streams that exist now take their saved
    state at once, the others when the program makes them (a traced function's random ops,
    made at its first call after a restart); ``clear_pending`` drops what is left."""
    seed = None if state["seed"] is None else int(state["seed"])
    if seed != _eager.seed:  # as set_seed: the shared eager streams follow the global seed
        _eager.seed = seed
        _eager.streams.clear()
        _eager.auto = None
    _eager.counter = _Counter(int(state["counter"]))
    _eager.pending.clear()
    for key, saved in state["streams"].items():
        stream = _eager.live.get(key)
        if stream is None:
            _eager.pending[key] = saved
        else:
            stream.generator.bit_generator.state = saved["state"]


def clear_pending() -> None:
    """Forgets the saved streams ``set_state`` has not yet given to a new stream."""
    _eager.pending.clear()


__all__ = ["DEFAULT_GRAPH_SEED", "RandomStream", "set_seed", "get_seed", "stream_for",
           "new_generator", "get_state", "set_state", "clear_pending"]
