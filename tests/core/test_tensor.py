"""Tensors, dtypes, constants and variables."""
import numpy as np
import pytest

import neuroflow as nf


def test_python_values_take_tensorflow_default_dtypes():
    assert nf.constant(1.5).dtype == nf.float32
    assert nf.constant(3).dtype == nf.int32
    assert nf.constant([True, False]).dtype == nf.bool
    assert nf.constant(2**40).dtype == nf.int64
    assert nf.constant(np.array([1.0])).dtype == nf.float64  # NumPy arrays keep their dtype


def test_constant_shape_and_dtype_arguments():
    t = nf.constant(0.5, shape=[2, 3])
    assert t.shape == (2, 3) and t.shape.as_list() == [2, 3]
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 0.5, np.float32))
    assert nf.constant([1, 2, 3, 4], shape=[2, 2]).shape == (2, 2)
    assert nf.constant([1, 2], dtype=nf.float64).dtype == nf.float64
    with pytest.raises(TypeError, match="non-integral"):
        nf.constant([1.5], dtype=nf.int32)
    with pytest.raises(TypeError, match="elements"):
        nf.constant([1, 2, 3], shape=[2, 2])


def test_tensor_basics():
    t = nf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert t.ndim == 2 and t.shape.rank == 2
    assert isinstance(t, nf.Tensor) and nf.is_tensor(t)
    np.testing.assert_array_equal(np.asarray(t), [[1, 2], [3, 4]])
    assert float(nf.constant(2.5)) == 2.5
    assert len(t) == 2
    assert "shape=(2, 2)" in repr(t) and "float32" in repr(t)


def test_dtype_objects():
    assert nf.float32 == "float32" and nf.float32 == np.float32
    assert nf.as_dtype("float64") is nf.float64
    assert nf.int32.is_integer and nf.float16.is_floating and nf.complex64.is_complex
    assert nf.complex64.real_dtype == nf.float32
    with pytest.raises(TypeError, match="valid names"):
        nf.as_dtype("floatt32")


def test_mixed_dtype_arithmetic_is_an_error_naming_the_op():
    with pytest.raises(nf.errors.InvalidArgumentError, match="AddV2.*float64.*float32|"
                       "AddV2.*float32.*float64"):
        nf.add(nf.constant([1.0]), nf.constant(np.array([1.0])))


def test_python_scalars_take_the_tensor_dtype():
    x = nf.constant([1.0, 2.0])
    assert (x + 1).dtype == nf.float32
    assert nf.multiply(2, x).dtype == nf.float32
    assert (nf.constant([1, 2]) + 1).dtype == nf.int32
    with pytest.raises(TypeError):
        nf.constant([1, 2]) + 1.5


def test_truth_value_of_symbolic_tensor_is_an_error():
    with nf.Graph().as_default():
        x = nf.compat.v1.placeholder(nf.float32, [None])
        with pytest.raises(TypeError, match="ambiguous"):
            bool(x)


def test_tensor_shape():
    s = nf.TensorShape([None, 784])
    assert not s.is_fully_defined() and s.rank == 2 and s.as_list() == [None, 784]
    assert s.is_compatible_with([32, 784]) and not s.is_compatible_with([32, 10])
    assert nf.TensorShape(None).rank is None
    with pytest.raises(ValueError):
        nf.TensorShape(None).as_list()
    assert nf.TensorShape([2, 3]).num_elements() == 6


class TestVariable:
    def test_create_and_read(self):
        v = nf.Variable([1.0, 2.0], name="w")
        assert v.name == "w:0" and v.trainable and v.dtype == nf.float32
        assert v.shape == (2,)
        np.testing.assert_array_equal(v.numpy(), [1, 2])
        assert not nf.Variable(1.0, trainable=False).trainable

    def test_assign_family(self):
        v = nf.Variable([1.0, 2.0])
        v.assign([3.0, 4.0])
        v.assign_add([1.0, 1.0])
        v.assign_sub([0.5, 0.5])
        np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
        with pytest.raises(nf.errors.InvalidArgumentError, match=r"shape \(3,\).*\(2,\)"):
            v.assign([1.0, 2.0, 3.0])

    def test_read_value_is_a_snapshot(self):
        v = nf.Variable([1.0])
        snapshot = v.read_value()
        v.assign([5.0])
        assert snapshot.numpy()[0] == 1.0

    def test_callable_initial_value_and_dtype(self):
        v = nf.Variable(lambda: np.ones(3), dtype=nf.float32)
        assert v.dtype == nf.float32 and v.shape == (3,)

    def test_operators(self):
        v = nf.Variable([2.0, 3.0])
        np.testing.assert_array_equal((v * 2.0).numpy(), [4, 6])
        np.testing.assert_array_equal((1.0 + v).numpy(), [3, 4])
        np.testing.assert_array_equal(nf.matmul(nf.reshape(v, [1, 2]),
                                                nf.ones([2, 1])).numpy(), [[5.0]])

    def test_uninitialized_graph_variable_names_itself(self):
        with nf.Graph().as_default() as g:
            v = nf.Variable(1.0, name="weights")
            y = v * 2.0
        with nf.compat.v1.Session(graph=g) as sess:
            with pytest.raises(nf.errors.FailedPreconditionError, match="weights"):
                sess.run(y)
            sess.run(v.initializer)
            assert sess.run(y) == 2.0
