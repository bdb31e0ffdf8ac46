"""Graphs: operations, naming, static shapes, symbolic gradients, build-time errors."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1


def test_ops_add_nodes_with_names_types_inputs_outputs():
    g = nf.Graph()
    with g.as_default():
        a = nf.constant(1.0, name="a")
        b = nf.constant(2.0, name="b")
        c = nf.add(a, b, name="sum")
        d = nf.add(a, b, name="sum")
    assert [op.name for op in g.get_operations()] == ["a", "b", "sum", "sum_1"]
    assert c.op.type == "AddV2" and c.op.inputs == (a, b) and c.op.outputs == (c,)
    assert c.name == "sum:0" and d.name == "sum_1:0"
    assert g.get_tensor_by_name("sum:0") is c
    assert g.get_operation_by_name("sum_1") is d.op
    assert nf.executing_eagerly()


def test_name_scopes_prefix_op_names():
    g = nf.Graph()
    with g.as_default():
        with nf.name_scope("layer1"):
            x = nf.constant(1.0, name="x")
            with nf.name_scope("inner"):
                y = x * 2.0
    assert x.op.name == "layer1/x"
    assert y.op.name.startswith("layer1/inner/Mul")


def test_static_shape_inference_with_unknown_dims():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 784], name="images")
        w = nf.Variable(np.zeros((784, 10), np.float32))
        logits = nf.matmul(x, w) + nf.zeros([10])
        assert logits.shape.as_list() == [None, 10]
        assert nf.reduce_sum(logits, axis=1).shape.as_list() == [None]
        assert nf.reduce_mean(logits, axis=0, keepdims=True).shape.as_list() == [1, 10]
        assert nf.reshape(x, [-1, 28, 28, 1]).shape.as_list() == [None, 28, 28, 1]


def test_incompatible_shapes_fail_at_build_time_naming_op_scope_and_shapes():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [None, 3])
        y = v1.placeholder(nf.float32, [None, 4])
        with nf.name_scope("block"):
            with pytest.raises(nf.errors.InvalidArgumentError) as info:
                nf.add(x, y)
    message = str(info.value)
    assert "AddV2" in message and "block" in message
    assert "(None, 3)" in message and "(None, 4)" in message
    with nf.Graph().as_default():
        a = v1.placeholder(nf.float32, [2, 3])
        with pytest.raises(ValueError, match="MatMul.*size-incompatible"):
            nf.matmul(a, a)


def test_symbolic_gradients_build_nodes():
    g = nf.Graph()
    with g.as_default():
        x = v1.placeholder(nf.float32, [None], name="x")
        y = nf.reduce_sum(x * x * 3.0)
        (dx,) = nf.gradients(y, [x])
        (ddx,) = nf.gradients(nf.reduce_sum(dx), [x])
    assert any(op.name.startswith("gradients") for op in g.get_operations())
    with v1.Session(graph=g) as sess:
        got, got2 = sess.run([dx, ddx], {x: [1.0, 2.0]})
    np.testing.assert_allclose(got, [6.0, 12.0])
    np.testing.assert_allclose(got2, [6.0, 6.0])


def test_gradients_with_respect_to_variables_and_grad_ys():
    g = nf.Graph()
    with g.as_default():
        w = nf.Variable([1.0, 2.0])
        y = w * w
        (gw,) = nf.gradients(y, [w], grad_ys=[nf.constant([1.0, 0.5])])
        init = v1.global_variables_initializer() if hasattr(
            v1, "global_variables_initializer") else w.initializer
    with v1.Session(graph=g) as sess:
        sess.run(init)
        np.testing.assert_allclose(sess.run(gw), [2.0, 2.0])


def test_tensors_of_two_graphs_cannot_mix():
    g1, g2 = nf.Graph(), nf.Graph()
    with g1.as_default():
        a = nf.constant(1.0)
    with g2.as_default():
        with pytest.raises(ValueError, match="another graph"):
            nf.add(a, 1.0)


def test_symbolic_tensor_has_no_value():
    with nf.Graph().as_default():
        x = v1.placeholder(nf.float32, [2])
        with pytest.raises(TypeError, match="symbolic"):
            x.numpy()
