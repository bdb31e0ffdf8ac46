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
"""
from __future__ import annotations

import itertools

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


class _GlobalSeed:
    """The eager global seed, the counter behind automatic op seeds, and the shared streams."""

    def __init__(self):
        self.seed = None
        self.counter = itertools.count()
        self.streams = {}      # (global seed, op seed) -> RandomStream, for explicit op seeds
        self.auto = None       # the stream of eager draws without an op seed


_eager = _GlobalSeed()


class RandomStream:
    """A NumPy generator and the seed pair it was made from (an attribute of random ops)."""

    __slots__ = ("seed", "seed2", "generator")

    def __init__(self, seed, seed2):
        """``seed`` None: OS entropy; ``seed2`` None: the stream of automatic op seeds."""
        self.seed, self.seed2 = seed, seed2
        if seed is None:
            self.generator = np.random.Generator(np.random.PCG64())
            return
        if seed2 is None:
            entropy = [_AUTO_TAG, *_words(seed)]
        else:
            entropy = [_OP_TAG, *_words(seed), *_words(seed2)]
        self.generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))

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
    _eager.counter = itertools.count()
    _eager.streams.clear()
    _eager.auto = None


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
            _eager.auto = RandomStream(_eager.seed, None)
        return _eager.auto
    global_seed, op_seed = get_seed(seed, graph)
    if graph is not None:
        return RandomStream(global_seed, op_seed)
    key = (global_seed, op_seed)
    stream = _eager.streams.get(key)
    if stream is None:
        stream = _eager.streams[key] = RandomStream(global_seed, op_seed)
    return stream


def new_generator(seed: int | None = None) -> np.random.Generator:
    """A fresh NumPy generator following the seed rules (for initial values, not ops).

    An int ``seed`` always gives the same generator state (a seeded initializer repeats its
    values); ``None`` takes the next op seed under the global seed, or OS entropy without one.
    """
    global_seed, op_seed = get_seed(seed)
    return RandomStream(global_seed, op_seed).generator


__all__ = ["DEFAULT_GRAPH_SEED", "RandomStream", "set_seed", "get_seed", "stream_for",
           "new_generator"]
