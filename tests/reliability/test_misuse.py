"""Misuse, and the errors it meets: each says what went wrong, naming the object and values.

One row per case: what it is, a callable that commits the mistake, the exception type it must
raise, and regexes its message must all match (``re.search``): the object involved (layer,
op, placeholder, variable, model: the user's own name for it where there is one) and the
values (shapes, dtypes, the bad argument and what would have been valid).
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

import neuroflow as nf
import neuroflow.compat.v1 as tf1
from neuroflow import keras
from neuroflow.core import session as _session
from neuroflow.keras.saving.archive import FileFormatError

L = keras.layers
InvalidArgument = nf.errors.InvalidArgumentError


class Misuse(NamedTuple):
    name: str
    trigger: Callable[[], object]
    error: type
    patterns: tuple[str, ...]


def case(name, trigger, error, *patterns) -> Misuse:
    return Misuse(name, trigger, error, patterns)


# -- helpers the rows call --------------------------------------------------------------------


def f32(*shape):
    return np.zeros(shape, np.float32)


def call(layer, *shapes):
    """Calls ``layer`` on zeros of each shape in turn: the first call builds it."""
    for shape in shapes:
        layer(f32(*shape))


def built(layer, input_shape):
    layer.build(input_shape)
    return layer


def regressor(compiled=True, loss="mse", metrics=None, units=1, activation=None, **compile_kw):
    """A 4-feature Sequential model named 'regressor' whose one layer is 'head'."""
    model = keras.Sequential([keras.Input((4,)), L.Dense(units, activation, name="head")],
                             name="regressor")
    if compiled:
        model.compile("sgd", loss, metrics=metrics, **compile_kw)
    return model


def classifier_fit(labels, **compile_kw):
    model = regressor(loss="sparse_categorical_crossentropy", units=3, activation="softmax",
                      **compile_kw)
    labels = np.asarray(labels)
    model.fit(f32(len(labels), 4), labels, batch_size=len(labels), verbose=0)


def dataset(n):
    return nf.data.Dataset.from_tensor_slices((f32(n, 4), f32(n, 1))).batch(2)


@contextlib.contextmanager
def tf1_graph():
    """TF1 mode on a fresh default graph; eager mode and open sessions restored after."""
    sessions = list(_session._default_sessions)
    tf1.reset_default_graph()
    tf1.disable_eager_execution()
    try:
        yield
    finally:
        for s in list(_session._default_sessions):
            if s not in sessions:
                s.close()
        tf1.enable_eager_execution()
        tf1.reset_default_graph()


def tf1_run(fetch_builder, feeds=None):
    """Builds a graph around a [None, 3] float placeholder 'pixels' and an [None] int32
    placeholder 'ids'; ``fetch_builder(pixels, ids)`` gives the fetch, ``feeds(pixels, ids)``
    the feed_dict."""
    with tf1_graph():
        pixels = tf1.placeholder(tf1.float32, [None, 3], name="pixels")
        ids = tf1.placeholder(tf1.int32, [None], name="ids")
        fetch = fetch_builder(pixels, ids)
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            return sess.run(fetch, feeds(pixels, ids) if feeds else None)


def feed_from_another_graph():
    with tf1_graph():
        pixels = tf1.placeholder(tf1.float32, [None, 3], name="pixels")
        with nf.Graph().as_default():
            other = tf1.placeholder(tf1.float32, [None, 3], name="other")
        with tf1.Session() as sess:
            sess.run(pixels * 2.0, {other: f32(1, 3)})


def in_graph(build):
    with nf.Graph().as_default():
        return build()


def graph_assign(value):
    def build():
        weights = tf1.Variable(f32(3), name="w")
        return weights.assign(value)
    return in_graph(build)


def run_with_placeholders(a_value, b_value):
    """A MatMul whose shapes are only known when the session runs."""
    with tf1_graph():
        a = tf1.placeholder(tf1.float32, [None, None], name="a")
        b = tf1.placeholder(tf1.float32, [None, None], name="b")
        with tf1.Session() as sess:
            sess.run(tf1.matmul(a, b), {a: a_value, b: b_value})


def graph_placeholders(a_spec, b_spec, op):
    with tf1_graph():
        a = tf1.placeholder(a_spec[0], a_spec[1], name="a")
        b = tf1.placeholder(b_spec[0], b_spec[1], name="b")
        op(a, b)


def assign(variable, method, value):
    getattr(variable, method)(value)


def load_into(source, target):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.weights.h5")
        source.save_weights(path)
        target.load_weights(path)


def mlp(hidden, name):
    """4 features -> 'hidden' (``hidden`` units) -> 'out' (2 units); ``hidden=None``: the
    model is 'hidden' alone, with 3 units."""
    if hidden is None:
        return keras.Sequential([keras.Input((4,)), L.Dense(3, name="hidden")], name=name)
    return keras.Sequential([keras.Input((4,)), L.Dense(hidden, name="hidden"),
                             L.Dense(2, name="out")], name=name)


def set_one_weight(model, index, value):
    weights = model.get_weights()
    weights[index] = value
    model.set_weights(weights)


def gradient(make_source, make_target):
    source = make_source()
    with nf.GradientTape() as tape:
        tape.watch(source)
        target = make_target(source)
    return tape.gradient(target, source)


def second_gradient():
    x = nf.Variable(1.0, name="x")
    with nf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    tape.gradient(y, x)


def two_input_model():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    return keras.Model([a, b], L.Add()([a, b]), name="pair")


def functional_head():
    x = keras.Input((4,), name="features")
    return keras.Model(x, L.Dense(1, name="head")(x), name="scorer")


def model_on_other_inputs():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    return keras.Model(inputs=b, outputs=L.Dense(2)(a))


def disconnected_model():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    out = L.Add()([L.Dense(2)(a), L.Dense(2)(b)])
    return keras.Model(inputs=a, outputs=out)


def traced(fn):
    return nf.function(fn)


# -- the table --------------------------------------------------------------------------------

CASES = [
    # wrong input shapes, layer by layer
    case("Dense fed another feature count", lambda: call(L.Dense(3, name="scores"), (2, 4), (2, 5)),
         ValueError, r'layer "scores"', r"axis -1 of input shape to have value 4",
         r"shape \(2, 5\)"),
    case("Dense fed a vector", lambda: call(L.Dense(3, name="scores"), (4,)),
         ValueError, r'layer "scores"', r"expected min_ndim=2, found ndim=1", r"\(4,\)"),
    case("Conv1D fed a matrix", lambda: call(L.Conv1D(2, 3, name="conv"), (4, 5)),
         ValueError, r'layer "conv"', r"expected ndim=3, found ndim=2", r"\(4, 5\)"),
    case("Conv1D fed other channels",
         lambda: call(L.Conv1D(2, 3, name="conv"), (1, 5, 3), (1, 5, 4)),
         ValueError, r'layer "conv"', r"axis -1 of input shape to have value 3",
         r"\(1, 5, 4\)"),
    case("Conv1D kernel longer than the input",
         lambda: call(L.Conv1D(2, 9, name="conv"), (1, 5, 3)),
         InvalidArgument, r"in layer 'conv'", r"effective size 9", r"input size 5"),
    case("Conv2D fed a rank-3 tensor", lambda: call(L.Conv2D(2, 3, name="conv"), (4, 5, 5)),
         ValueError, r'layer "conv"', r"expected ndim=4, found ndim=3", r"\(4, 5, 5\)"),
    case("Conv2D fed other channels",
         lambda: call(L.Conv2D(2, 3, name="conv"), (1, 5, 5, 3), (1, 5, 5, 4)),
         ValueError, r'layer "conv"', r"to have value 3", r"\(1, 5, 5, 4\)"),
    case("Conv2D kernel larger than the image",
         lambda: call(L.Conv2D(2, 7, name="conv"), (1, 5, 5, 3)),
         InvalidArgument, r"Conv2D op in layer 'conv'", r"effective size 7", r"input size 5",
         r"\(7, 7, 3, 2\)"),
    case("DepthwiseConv2D fed a rank-3 tensor",
         lambda: call(L.DepthwiseConv2D(3, name="depthwise"), (1, 5, 3)),
         ValueError, r'layer "depthwise"', r"expected ndim=4, found ndim=3"),
    case("Conv2DTranspose fed a rank-3 tensor",
         lambda: call(L.Conv2DTranspose(2, 3, name="upconv"), (1, 5, 3)),
         ValueError, r'layer "upconv"', r"expected ndim=4, found ndim=3", r"\(1, 5, 3\)"),
    case("MaxPooling2D fed a rank-3 tensor", lambda: call(L.MaxPooling2D(name="pool"), (4, 5, 5)),
         ValueError, r'layer "pool"', r"expected ndim=4, found ndim=3", r"\(4, 5, 5\)"),
    case("MaxPooling2D window larger than the image",
         lambda: call(L.MaxPooling2D(pool_size=7, name="pool"), (1, 5, 5, 3)),
         InvalidArgument, r"MaxPool op in layer 'pool'", r"effective size 7", r"input size 5"),
    case("AveragePooling1D fed a matrix", lambda: call(L.AveragePooling1D(name="pool"), (4, 5)),
         ValueError, r'layer "pool"', r"expected ndim=3, found ndim=2", r"\(4, 5\)"),
    case("GlobalAveragePooling2D fed a matrix",
         lambda: call(L.GlobalAveragePooling2D(name="gap"), (4, 5)),
         ValueError, r'layer "gap"', r"expected ndim=4, found ndim=2"),
    case("BatchNormalization fed other features",
         lambda: call(L.BatchNormalization(name="bn"), (2, 4), (2, 5)),
         ValueError, r'layer "bn"', r"axis -1 of input shape to have value 4", r"\(2, 5\)"),
    case("BatchNormalization axis beyond the rank",
         lambda: call(L.BatchNormalization(axis=3, name="bn"), (2, 4)),
         ValueError, r"Invalid axis 3 for layer 'bn'", r"rank 2", r"\[-2, 2\)"),
    case("LayerNormalization fed other features",
         lambda: call(L.LayerNormalization(name="ln"), (2, 4), (2, 5)),
         ValueError, r'layer "ln"', r"to have value 4", r"\(2, 5\)"),
    case("LayerNormalization axis beyond the rank",
         lambda: call(L.LayerNormalization(axis=2, name="ln"), (2, 4)),
         ValueError, r"Invalid axis 2 for layer 'ln'", r"rank 2"),
    case("Embedding id past input_dim",
         lambda: L.Embedding(10, 3, name="words")(np.array([[1, 12]])),
         InvalidArgument, r"EmbeddingLookup op in layer 'words'",
         r"indices\[0,1\] = 12 is not in \[0, 10\)"),
    case("Embedding negative id", lambda: L.Embedding(10, 3, name="words")(np.array([[-1, 2]])),
         InvalidArgument, r"layer 'words'", r"indices\[0,0\] = -1 is not in \[0, 10\)"),
    case("Embedding with input_dim 0", lambda: L.Embedding(0, 3, name="words"),
         ValueError, r"Embedding layer 'words'", r"input_dim=0"),
    case("Add of mismatched shapes", lambda: L.Add(name="sum")([f32(2, 3), f32(2, 4)]),
         ValueError, r"layer 'sum' \(Add\)", r"\(2, 3\) and \(2, 4\)"),
    case("Add called on one tensor", lambda: L.Add(name="sum")(f32(2, 3)),
         ValueError, r"Add 'sum'", r"list of inputs", r"shape \(2, 3\)"),
    case("Subtract of three inputs", lambda: L.Subtract(name="diff")([f32(2, 3)] * 3),
         ValueError, r"'diff'", r"exactly 2 inputs", r"Received: 3 inputs"),
    case("Multiply of mismatched shapes", lambda: L.Multiply(name="gate")([f32(2, 3), f32(2, 4)]),
         ValueError, r"layer 'gate' \(Multiply\)", r"\(2, 3\) and \(2, 4\)"),
    case("Concatenate off-axis mismatch",
         lambda: L.Concatenate(name="joined")([f32(2, 3, 1), f32(2, 4, 1)]),
         ValueError, r"'joined'", r"axis=-1", r"\[\(2, 3, 1\), \(2, 4, 1\)\]"),
    case("Dot of mismatched axes", lambda: L.Dot(axes=1, name="dot")([f32(2, 3), f32(2, 4)]),
         ValueError, r"Dot layer 'dot'", r"3 \(at axis 1\) != 4 \(at axis 1\)"),
    case("Reshape to another size", lambda: call(L.Reshape((4, 4), name="grid"), (2, 3, 5)),
         ValueError, r"Reshape layer 'grid'", r"input_shape=\(3, 5\)", r"target_shape=\(4, 4\)"),
    case("Reshape with two unknown dims", lambda: call(L.Reshape((-1, -1), name="grid"), (2, 6)),
         ValueError, r"Reshape layer 'grid'", r"at most one unknown", r"\(-1, -1\)"),
    case("Flatten of a scalar", lambda: L.Flatten(name="flat")(np.float32(1.0)),
         ValueError, r'layer "flat"', r"expected min_ndim=1, found ndim=0"),
    case("Flatten then Dense fed a bigger image",
         lambda: keras.Sequential([keras.Input((4, 4)), L.Flatten(), L.Dense(2, name="out")])(
             f32(2, 5, 4)),
         ValueError, r'layer "out"', r"to have value 16", r"\(2, 20\)"),
    case("Permute dims not a permutation", lambda: L.Permute((1, 3)),
         ValueError, r"Permute", r"dims=\(1, 3\)"),
    case("RepeatVector fed a rank-3 tensor", lambda: call(L.RepeatVector(3, name="rep"), (2, 3, 4)),
         ValueError, r'layer "rep"', r"expected ndim=2, found ndim=3"),
    case("Cropping2D crops more than the image",
         lambda: call(L.Cropping2D(3, name="crop"), (1, 4, 4, 1)),
         ValueError, r"layer 'crop'", r"input_shape=\(1, 4, 4, 1\)",
         r"cropping=\(\(3, 3\), \(3, 3\)\)"),

    # compat.v1: placeholders, feeds, graphs
    case("placeholder not fed", lambda: tf1_run(lambda x, ids: x * 2.0),
         InvalidArgument, r"You must feed a value for placeholder 'pixels'",
         r"shape \(None, 3\)", r"feed_dict=\{pixels: \.\.\.\}"),
    case("placeholder fed the wrong shape",
         lambda: tf1_run(lambda x, ids: x * 2.0, lambda x, ids: {x: f32(2, 4)}),
         ValueError, r"shape \(2, 4\) for 'pixels'", r"has shape \(None, 3\)"),
    case("placeholder fed the wrong rank",
         lambda: tf1_run(lambda x, ids: x * 2.0, lambda x, ids: {x: f32(3)}),
         ValueError, r"shape \(3,\) for 'pixels'", r"\(None, 3\)"),
    case("int placeholder fed fractions",
         lambda: tf1_run(lambda x, ids: ids * 2, lambda x, ids: {ids: [0.5]}),
         InvalidArgument, r"'ids' of dtype int32", r"dtype float64", r"\[0\.5\]"),
    case("feed key from another graph", feed_from_another_graph,
         ValueError, r"Feed 'other:0'", r"another graph"),
    case("graph op on mixed dtypes",
         lambda: graph_placeholders((tf1.float32, [3]), (tf1.int32, [3]), tf1.add),
         InvalidArgument, r"AddV2 op", r"input 1 \('b:0'\) has dtype int32",
         r"input 0 \('a:0'\) has dtype float32", r"nf\.cast"),
    case("graph matmul inner dims differ",
         lambda: graph_placeholders((tf1.float32, [None, 3]), (tf1.float32, [4, 2]),
                                    tf1.matmul),
         InvalidArgument, r"MatMul op", r"In\[0\]: \(None, 3\)", r"In\[1\]: \(4, 2\)"),
    case("session matmul inner dims differ at run time",
         lambda: run_with_placeholders(np.ones((2, 3)), np.ones((4, 5))),
         InvalidArgument, r"MatMul op 'MatMul'", r"In\[0\]: \(2, 3\), In\[1\]: \(4, 5\)"),
    case("graph assign of another shape", lambda: graph_assign(nf.zeros([4])),
         InvalidArgument, r"AssignVariableOp op", r"variable 'w:0' of shape \(3,\)",
         r"shape \(4,\)"),
    case("graph assign of another dtype", lambda: graph_assign(nf.zeros([3], nf.float64)),
         InvalidArgument, r"variable 'w:0' of dtype float32", r"dtype float64"),

    # dtypes: ops, variables, conversions
    case("float32 + int32", lambda: nf.constant([1.0]) + nf.constant([1]),
         InvalidArgument, r"AddV2 op", r"input 1 has dtype int32", r"input 0 has dtype float32",
         r"nf\.cast"),
    case("float16 - float32", lambda: nf.constant([1.0], nf.float16) - nf.constant([1.0]),
         InvalidArgument, r"Sub op", r"float32", r"float16"),
    case("matmul of float32 and int32",
         lambda: nf.matmul(nf.ones((2, 2)), nf.ones((2, 2), nf.int32)),
         InvalidArgument, r"MatMul op", r"int32", r"float32"),
    case("variable assigned a float64 tensor",
         lambda: assign(nf.Variable(f32(3), name="w"), "assign", nf.zeros([3], nf.float64)),
         InvalidArgument, r"variable 'w:0' of dtype float32", r"dtype float64", r"nf\.cast"),
    case("variable assigned an int32 tensor",
         lambda: assign(nf.Variable(f32(3), name="w"), "assign", nf.constant([1, 2, 3])),
         InvalidArgument, r"variable 'w:0' of dtype float32", r"dtype int32"),
    case("variable assigned another shape",
         lambda: assign(nf.Variable(f32(3), name="w"), "assign", f32(4)),
         InvalidArgument, r"variable 'w:0' of shape \(3,\)", r"shape \(4,\)"),
    case("variable assign_add of another shape",
         lambda: assign(nf.Variable(f32(3), name="w"), "assign_add", f32(4)),
         InvalidArgument, r"variable 'w:0' of shape \(3,\)", r"shape \(4,\)"),
    case("int variable assigned fractions",
         lambda: assign(nf.Variable([1, 2], name="counts"), "assign", [0.5, 1.0]),
         TypeError, r"\[0\.5, 1\.0\]", r"dtype int32", r"non-integral"),
    case("variable shape= contradicts its value",
         lambda: nf.Variable(np.zeros(3), shape=(4,), name="w"),
         ValueError, r"Variable 'w'", r"shape \(3,\)", r"`shape` argument \(4,\)"),
    case("a string as a float32 constant", lambda: nf.constant("abc", nf.float32),
         TypeError, r"'abc'", r"dtype float32"),
    case("an unknown dtype name", lambda: nf.cast(nf.ones(2), "floaty"),
         TypeError, r"'floaty'", r"float32"),

    # weights into another architecture
    case("set_weights with too few arrays",
         lambda: built(L.Dense(3, name="proj"), (None, 4)).set_weights([f32(4, 3)]),
         ValueError, r"Layer 'proj' expects 2 weights", r"has 1"),
    case("set_weights with a wrong shape",
         lambda: built(L.Dense(3, name="proj"), (None, 4)).set_weights([f32(5, 3), f32(3)]),
         ValueError, r"weight 'proj/kernel:0' has shape \(4, 3\)", r"value has shape \(5, 3\)"),
    case("set_weights on an unbuilt layer",
         lambda: L.Dense(2, name="proj").set_weights([f32(3, 2), f32(2)]),
         ValueError, r"Layer 'proj' expects 0 weights", r"has 2", r"not built yet"),
    case("model set_weights with a wrong shape",
         lambda: set_one_weight(mlp(3, "small"), 2, f32(4, 2)),
         ValueError, r"'small'", r"weight 'out/kernel:0' has shape \(3, 2\)",
         r"value has shape \(4, 2\)"),
    case("load_weights into a wider model", lambda: load_into(mlp(3, "narrow"), mlp(5, "wide")),
         FileFormatError, r"model 'wide'", r"'hidden/kernel' has shape \(4, 3\) in the file",
         r"has shape \(4, 5\)"),
    case("load_weights into a model with fewer layers",
         lambda: load_into(mlp(3, "two"), mlp(None, "one")),
         FileFormatError, r"model 'one'", r"file holds 4 weights but model 'one' has 2",
         r"'out/kernel'"),

    # labels out of range
    case("sparse crossentropy label past the classes (eager)",
         lambda: keras.losses.sparse_categorical_crossentropy([0, 5], np.full((2, 3), 1 / 3)),
         InvalidArgument, r"SparseSoftmaxCrossEntropyWithLogits op", r"label value of 5",
         r"valid range of \[0, 3\) for 3 classes"),
    case("sparse softmax crossentropy negative label",
         lambda: nf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, -1], logits=f32(2, 3)),
         InvalidArgument, r"SparseSoftmaxCrossEntropyWithLogits op", r"label value of -1",
         r"\[0, 3\)"),
    case("sparse crossentropy label past the classes in fit",
         lambda: classifier_fit([0, 1, 2, 9]),
         InvalidArgument, r"SparseSoftmaxCrossEntropyWithLogits op", r"label value of 9",
         r"\[0, 3\) for 3 classes"),
    case("sparse crossentropy label past the classes in eager fit",
         lambda: classifier_fit([0, 1, 2, 9], run_eagerly=True),
         InvalidArgument, r"SparseSoftmaxCrossEntropyWithLogits op", r"label value of 9"),

    # the data given to fit / evaluate / predict
    case("fit with x and y of different lengths",
         lambda: regressor().fit(f32(8, 4), f32(7, 1), verbose=0),
         ValueError, r"Data cardinality is ambiguous", r"x sizes: \[8\]", r"y sizes: \[7\]"),
    case("fit on empty arrays", lambda: regressor().fit(f32(0, 4), f32(0, 1), verbose=0),
         ValueError, r"empty \(0 samples", r"x \(0, 4\)", r"y \(0, 1\)"),
    case("evaluate on empty arrays",
         lambda: regressor().evaluate(f32(0, 4), f32(0, 1), verbose=0),
         ValueError, r"empty \(0 samples", r"x \(0, 4\)"),
    case("fit on an empty dataset", lambda: regressor().fit(dataset(0), verbose=0),
         ValueError, r"training data produced no batches", r"dataset is empty"),
    case("fit on a dataset plus y", lambda: regressor().fit(dataset(4), f32(4, 1), verbose=0),
         ValueError, r"`y` argument is not supported", r"dataset", r"shape \(4, 1\)"),
    case("fit without targets for a compiled loss",
         lambda: regressor().fit(f32(4, 4), verbose=0),
         ValueError, r"Model 'regressor'", r"y is None"),
    case("dataset batch(0)", lambda: nf.data.Dataset.range(5).batch(0),
         ValueError, r"batch", r"batch_size must be positive, got 0"),
    case("from_tensor_slices of unequal lengths",
         lambda: nf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4))),
         ValueError, r"from_tensor_slices", r"component 0: \(3,\)", r"component 1: \(4,\)"),
    case("predict with another feature count",
         lambda: regressor(compiled=False).predict(f32(4, 5), verbose=0),
         ValueError, r'layer "head"', r"to have value 4", r"\(4, 5\)"),
    case("functional predict with another feature count",
         lambda: functional_head().predict(f32(4, 5), verbose=0),
         ValueError, r'layer "head"', r"to have value 4", r"\(4, 5\)"),
    case("two-input model given one input",
         lambda: two_input_model().predict(f32(2, 3), verbose=0),
         ValueError, r"Model 'pair' expects 2 input\(s\)", r"received 1"),

    # bad padding strings, bad dropout rates
    case("nf.nn.conv2d padding='same_ish'",
         lambda: nf.nn.conv2d(f32(1, 4, 4, 1), f32(2, 2, 1, 1), 1, "same_ish"),
         ValueError, r"padding must be 'SAME' or 'VALID'", r"got 'same_ish'"),
    case("nf.nn.max_pool2d padding='valid '",
         lambda: nf.nn.max_pool2d(f32(1, 4, 4, 1), 2, 2, "valid "),
         ValueError, r"padding must be 'SAME' or 'VALID'", r"got 'valid '"),
    case("Conv2D padding='full'", lambda: L.Conv2D(2, 3, padding="full"),
         ValueError, r"Unknown padding: 'full'", r"same, valid"),
    case("nf.nn.dropout rate=-0.1", lambda: nf.nn.dropout(nf.ones((2, 2)), rate=-0.1),
         ValueError, r"dropout: rate must be .* in the range \[0, 1\)", r"got -0\.1"),
    case("nf.nn.dropout rate=1", lambda: nf.nn.dropout(nf.ones((2, 2)), rate=1.0),
         ValueError, r"dropout: rate", r"\[0, 1\)", r"got 1\.0"),
    case("Dropout(-0.2)", lambda: L.Dropout(-0.2),
         ValueError, r"argument `rate`", r"between 0 and 1", r"rate=-0\.2"),

    # unknown names, with the nearest valid ones
    case("optimizer 'adamm'", lambda: regressor(compiled=False).compile("adamm", "mse"),
         ValueError, r"optimizer identifier: 'adamm'", r"Did you mean 'adam'", r"sgd"),
    case("optimizer 'rmsprob'", lambda: keras.optimizers.get("rmsprob"),
         ValueError, r"'rmsprob'", r"Did you mean 'rmsprop'"),
    case("loss 'mean_squared_eror'", lambda: regressor(loss="mean_squared_eror"),
         ValueError, r"Unknown loss: 'mean_squared_eror'", r"Did you mean: 'mean_squared_error'"),
    case("activation 'sigmoud'", lambda: L.Dense(2, activation="sigmoud"),
         ValueError, r"Unknown activation: 'sigmoud'", r"Did you mean: 'sigmoid'"),
    case("metric 'acuracy'",
         lambda: regressor(metrics=["acuracy"]).fit(f32(4, 4), f32(4, 1), verbose=0),
         ValueError, r"Unknown metric: 'acuracy'", r"Did you mean: 'accuracy'"),
    case("initializer 'glorot_unifrom'", lambda: L.Dense(2, kernel_initializer="glorot_unifrom"),
         ValueError, r"Unknown initializer: 'glorot_unifrom'", r"Did you mean: 'glorot_uniform'"),
    case("regularizer 'l3'", lambda: L.Dense(2, kernel_regularizer="l3"),
         ValueError, r"Unknown regularizer: 'l3'", r"Did you mean: 'l2'"),
    case("layer keyword misspelt", lambda: L.Dense(3, activaton="relu"),
         TypeError, r"Dense", r"'activaton': 'relu'"),

    # models used before they are built or compiled
    case("summary of an unbuilt model",
         lambda: keras.Sequential([L.Dense(2)], name="lazy").summary(),
         ValueError, r"not yet been built", r"build\(\)", r"\(model 'lazy'\)"),
    case("count_params of an unbuilt model",
         lambda: keras.Sequential([L.Dense(2)], name="lazy").count_params(),
         ValueError, r"`count_params` on layer 'lazy'", r"isn't built"),
    case("fit before compile", lambda: regressor(compiled=False).fit(f32(4, 4), f32(4, 1)),
         RuntimeError, r"must compile your model before training", r"model\.compile"),
    case("evaluate before compile",
         lambda: regressor(compiled=False).evaluate(f32(4, 4), f32(4, 1), verbose=0),
         RuntimeError, r"before evaluating", r"model\.compile"),
    case("Sequential given a string", lambda: keras.Sequential([L.Dense(2), "relu"]),
         TypeError, r"Only instances of keras\.Layer", r"Received: 'relu' \(of type str\)"),
    case("Sequential.add of an array", lambda: keras.Sequential().add(np.zeros(3)),
         TypeError, r"Only instances of keras\.Layer", r"of type ndarray"),
    case("functional Model with a disconnected input", disconnected_model,
         ValueError, r"computed from its inputs", r"input 'b'"),
    case("functional Model whose outputs ignore its inputs", model_on_other_inputs,
         ValueError, r"computed from its inputs", r"input 'a'", r"not among the model's inputs"),
    case("get_layer of a missing name",
         lambda: regressor(compiled=False).get_layer("haed"),
         ValueError, r"No such layer: haed", r"\['head'\]"),

    # gradients
    case("gradient with respect to an int32 variable",
         lambda: gradient(lambda: nf.Variable([1, 2], name="counts"), lambda v: v * v),
         ValueError, r"source 'counts:0' of dtype int32", r"floating", r"nf\.cast"),
    case("gradient of an int32 target",
         lambda: gradient(lambda: nf.Variable([1.0], name="w"), lambda v: nf.cast(v, nf.int32)),
         ValueError, r"target of dtype int32", r"floating"),
    case("non-persistent tape used twice", second_gradient,
         RuntimeError, r"non-persistent GradientTape", r"persistent=True"),

    # shapes and indices in ops: eager, graph and nf.function
    case("matmul inner dims differ (eager)", lambda: nf.matmul(nf.ones((2, 3)), nf.ones((4, 5))),
         InvalidArgument, r"MatMul op", r"In\[0\]: \(2, 3\), In\[1\]: \(4, 5\)"),
    case("matmul inner dims differ (graph)",
         lambda: in_graph(lambda: nf.matmul(nf.ones((2, 3)), nf.ones((4, 5)))),
         InvalidArgument, r"MatMul op", r"In\[0\]: \(2, 3\), In\[1\]: \(4, 5\)"),
    case("matmul inner dims differ (nf.function)",
         lambda: traced(nf.matmul)(nf.ones((2, 3)), nf.ones((4, 5))),
         InvalidArgument, r"MatMul op", r"In\[0\]: \(2, 3\), In\[1\]: \(4, 5\)"),
    case("matmul transpose_b inner dims differ",
         lambda: nf.matmul(nf.ones((2, 3)), nf.ones((5, 4)), transpose_b=True),
         InvalidArgument, r"MatMul op", r"In\[1\]: \(5, 4\) \(transpose_b\)"),
    case("reshape to another size (eager)", lambda: nf.reshape(nf.ones((2, 3)), (4, 2)),
         InvalidArgument, r"Reshape op", r"6 elements to shape \[4, 2\] \(8 elements\)"),
    case("reshape to another size (graph)",
         lambda: in_graph(lambda: nf.reshape(nf.ones((2, 3)), (4, 2))),
         InvalidArgument, r"Reshape op", r"6 elements to shape \[4, 2\]"),
    case("reshape with two -1", lambda: nf.reshape(nf.ones((2, 3)), (-1, -1)),
         InvalidArgument, r"Reshape op", r"at most one dimension", r"\[-1, -1\]"),
    case("gather index past the end", lambda: nf.gather(nf.ones((3, 2)), [0, 3]),
         InvalidArgument, r"indices\[1\] = 3 is not in \[0, 3\)", r"input shapes: \(3, 2\)"),
    case("gather index past the end (nf.function)",
         lambda: traced(nf.gather)(nf.ones((3, 2)), nf.constant([0, 4])),
         InvalidArgument, r"Index op 'Index'", r"indices\[1\] = 4 is not in \[0, 3\)"),
    case("gather_nd index past the end", lambda: nf.gather_nd(nf.ones((3, 2)), [[0, 5]]),
         InvalidArgument, r"indices\[0,1\] = 5 is not in \[0, 2\)", r"\(dimension 1\)",
         r"input shapes: \(3, 2\), \(1, 2\)"),
    case("gather axis past the rank", lambda: nf.gather(nf.ones((3, 2)), [0], axis=2),
         ValueError, r"axis 2", r"params of shape \(3, 2\)"),
    case("gather with float indices", lambda: nf.gather(nf.ones((3, 2)), [0.5]),
         TypeError, r"indices must be an integer tensor", r"float64"),
    case("one_hot with a negative depth", lambda: nf.one_hot([0, 1], -2),
         ValueError, r"one_hot: depth must be non-negative", r"got -2"),
    case("softmax axis past the rank", lambda: nf.nn.softmax(nf.ones((2, 3)), axis=3),
         InvalidArgument, r"Softmax op", r"axis 3", r"shape \(2, 3\)"),
    case("zeros with a negative dim", lambda: nf.zeros((-1, 2)),
         ValueError, r"zeros", r"non-negative", r"\[-1, 2\]"),
    case("concat of mismatched shapes",
         lambda: nf.concat([nf.ones((2, 3)), nf.ones((3, 2))], axis=0),
         InvalidArgument, r"ConcatV2 op", r"\(2, 3\), \(3, 2\)"),
    case("add of unbroadcastable shapes", lambda: nf.ones((2, 3)) + nf.ones((4,)),
         InvalidArgument, r"AddV2 op", r"input shapes: \(2, 3\), \(4,\)"),
    case("transpose perm of the wrong length", lambda: nf.transpose(nf.ones((2, 3)), [0, 2]),
         ValueError, r"transpose: perm \[0, 2\]", r"0\.\.1"),
]


@pytest.mark.parametrize("misuse", CASES, ids=[c.name for c in CASES])
def test_misuse_raises_an_error_that_names_the_object_and_values(misuse):
    with pytest.raises(misuse.error) as raised:
        misuse.trigger()
    message = str(raised.value)
    missing = [p for p in misuse.patterns if not re.search(p, message)]
    assert not missing, f"{misuse.name}: {missing} not found in the message:\n{message}"


def test_the_table_is_large_and_every_row_checks_an_object_and_a_value():
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)
    assert all(len(c.patterns) >= 2 for c in CASES), [c.name for c in CASES
                                                      if len(c.patterns) < 2]


# -- documented behaviour that is not an exception ---------------------------------------------


def test_non_differentiable_path_gives_none_as_tensorflow_does():
    """argmax (and round) have no gradient: TF returns None for such a source, or zeros with
    ``unconnected_gradients='zero'``; neither raises."""
    x = nf.Variable([1.0, 3.0, 2.0])
    with nf.GradientTape(persistent=True) as tape:
        picked = nf.cast(nf.argmax(x), nf.float32)
        rounded = nf.reduce_sum(nf.round(x))
    assert tape.gradient(picked, x) is None
    assert tape.gradient(rounded, x) is None
    zero = tape.gradient(picked, x, unconnected_gradients="zero")
    assert zero.dtype == nf.float32
    np.testing.assert_array_equal(zero.numpy(), np.zeros(3, np.float32))


def test_a_watched_path_through_argmax_and_gather_still_differentiates_the_values():
    """Only the index path is cut: gathering x at argmax(x) gives the gradient at the max."""
    x = nf.Variable([1.0, 3.0, 2.0])
    with nf.GradientTape() as tape:
        y = nf.gather(x, nf.argmax(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 1.0, 0.0])
