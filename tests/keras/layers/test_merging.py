"""Merging layers (neuroflow/keras/layers/merging.py): the one-call check for list inputs,
values against NumPy, broadcasting, shape errors naming the layer and every shape, the
functional forms, gradients, and a two-branch model trained end to end."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layer_helper import check_layer
from tests.keras.layers.helpers_core import SAVE, check_merge_layer

L = keras.layers

MERGE_CASES = [
    (L.Add, {}, ((2, 3), (2, 3), (2, 3)), (2, 3), lambda a, b, c: a + b + c),
    (L.Subtract, {}, ((2, 3), (2, 3)), (2, 3), lambda a, b: a - b),
    (L.Multiply, {}, ((2, 3, 4), (2, 3, 4)), (2, 3, 4), lambda a, b: a * b),
    (L.Average, {}, ((2, 3), (2, 3), (2, 3)), (2, 3), lambda a, b, c: (a + b + c) / 3),
    (L.Maximum, {}, ((2, 3), (2, 3)), (2, 3), np.maximum),
    (L.Minimum, {}, ((2, 3), (2, 3)), (2, 3), np.minimum),
    (L.Add, {}, ((2, 3, 4), (2, 1, 4)), (2, 3, 4), lambda a, b: a + b),  # broadcasting
    (L.Concatenate, {}, ((2, 3), (2, 2)), (2, 5), lambda a, b: np.concatenate([a, b], -1)),
    (L.Concatenate, {"axis": 1}, ((2, 3, 4), (2, 1, 4)), (2, 4, 4),
     lambda a, b: np.concatenate([a, b], 1)),
    (L.Dot, {"axes": 1}, ((2, 3), (2, 3)), (2, 1), lambda a, b: (a * b).sum(1, keepdims=True)),
    (L.Dot, {"axes": (2, 2)}, ((2, 3, 4), (2, 5, 4)), (2, 3, 5),
     lambda a, b: np.einsum("bik,bjk->bij", a, b)),
    (L.Dot, {"axes": (1, 2)}, ((2, 4, 3), (2, 5, 4)), (2, 3, 5),
     lambda a, b: np.einsum("bki,bjk->bij", a, b)),
]


@pytest.mark.parametrize("cls, kwargs, shapes, expected, reference", MERGE_CASES,
                         ids=lambda v: getattr(v, "__name__", None))
def test_merge_layer_check_and_values(tmp_path, cls, kwargs, shapes, expected, reference):
    out = check_merge_layer(cls, kwargs, input_shapes=shapes, expected_output_shape=expected,
                            save=SAVE, tmp_path=tmp_path)
    rng = np.random.default_rng(0)  # the same data check_merge_layer drew
    data = [rng.standard_normal(s).astype("float32") for s in shapes]
    np.testing.assert_allclose(out.numpy(), reference(*data), rtol=1e-5, atol=1e-6)


def test_merge_layer_inside_check_layer(tmp_path):
    """A merge layer inside a one-input layer, so the standard check (with a training step of
    the Dense weights through the merge) covers it too."""
    class Residual(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(4)
            self.add = L.Add()
            self.cat = L.Concatenate()

        def call(self, x):
            return self.cat([self.add([x, self.dense(x)]), x])

    out = check_layer(Residual, {}, input_shape=(2, 4), expected_output_shape=(2, 8),
                      expected_num_weights=2, save=False)
    assert out.shape == (2, 8)


def test_dot_normalize_gives_cosine_similarity():
    a = np.array([[3.0, 4.0], [1.0, 0.0]], "float32")
    b = np.array([[6.0, 8.0], [0.0, 2.0]], "float32")
    out = L.Dot(axes=1, normalize=True)([a, b]).numpy()
    np.testing.assert_allclose(out, [[1.0], [0.0]], atol=1e-6)


def test_functional_forms():
    a, b = keras.Input((3,)), keras.Input((3,))
    assert tuple(L.add([a, b]).shape) == (None, 3)
    assert tuple(L.concatenate([a, b]).shape) == (None, 6)
    assert tuple(L.concatenate([a, b], axis=0).shape) == (None, 3)
    assert tuple(L.dot([a, b], axes=1).shape) == (None, 1)
    x, y = np.ones((2, 3), "float32"), np.full((2, 3), 3.0, "float32")
    for fn, want in ((L.subtract, -2.0), (L.multiply, 3.0), (L.average, 2.0),
                     (L.maximum, 3.0), (L.minimum, 1.0), (L.add, 4.0)):
        np.testing.assert_allclose(fn([x, y]).numpy(), np.full((2, 3), want))


def test_merge_gradients():
    a, b = nf.constant([[1.0, 2.0]]), nf.constant([[3.0, 0.5]])
    with nf.GradientTape(persistent=True) as tape:
        tape.watch(a)
        tape.watch(b)
        prod = nf.reduce_sum(L.Multiply()([a, b]))
        diff = nf.reduce_sum(L.Subtract()([a, b]))
        top = nf.reduce_sum(L.Maximum()([a, b]))
    np.testing.assert_allclose(tape.gradient(prod, a).numpy(), b.numpy())
    np.testing.assert_allclose(tape.gradient(diff, b).numpy(), [[-1.0, -1.0]])
    np.testing.assert_allclose(tape.gradient(top, a).numpy(), [[0.0, 1.0]])


def test_shape_errors_name_the_layer_and_shapes():
    a, b = keras.Input((3,)), keras.Input((4,))
    with pytest.raises(ValueError, match=r"'my_add' \(Add\) have incompatible shapes. "
                                         r"Received shapes \(None, 3\) and \(None, 4\)"):
        L.Add(name="my_add")([a, b])
    with pytest.raises(ValueError, match="incompatible shapes"):
        L.Multiply()([np.ones((2, 3), "float32"), np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match=r"Concatenate.*matching shapes except for the "
                                         r"concatenation axis.*\(None, 2, 3\), \(None, 4, 3\)"):
        L.Concatenate(axis=-1)([keras.Input((2, 3)), keras.Input((4, 3))])
    with pytest.raises(ValueError, match="matching shapes"):
        L.Concatenate()([keras.Input((2, 3)), keras.Input((3,))])
    with pytest.raises(ValueError, match=r"Dot layer.*incompatible input shapes: axis values "
                                         r"3 \(at axis 1\) != 4 \(at axis 1\)"):
        L.Dot(axes=1)([a, b])


def test_list_and_count_errors():
    with pytest.raises(ValueError, match=r"should be called on a list of inputs"):
        L.Add()(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"`Subtract` layer .* exactly 2 inputs. Received: 3"):
        L.Subtract()([np.ones((1, 2), "float32")] * 3)
    with pytest.raises(ValueError, match=r"at least 1 input"):
        L.Add()([])
    with pytest.raises(ValueError, match="non-batch axis"):
        L.Dot(axes=0)([np.ones((2, 3), "float32")] * 2)
    with pytest.raises(ValueError, match="axes"):
        L.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="not a list of shapes"):
        L.Add().compute_output_shape((None, 3))


def test_broadcast_with_unknown_dims():
    assert L.Add().compute_output_shape([(None, None), (None, 3)]) == (None, 3)
    assert L.Add().compute_output_shape([(None, None), (None, 1)]) == (None, None)
    assert L.Maximum().compute_output_shape([(None, 2, 1), (None, 4)]) == (None, 2, 4)


def test_two_branch_model_trains():
    nf.random.set_seed(3)
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((128, 4)), rng.standard_normal((128, 3))
    y = (x1[:, :1] + x2[:, :1] > 0).astype("float32")
    in1, in2 = keras.Input((4,)), keras.Input((3,))
    h = L.concatenate([L.Dense(8, activation="relu")(in1), L.Dense(8, activation="relu")(in2)])
    h = L.add([h, L.Dense(16)(h)])
    model = keras.Model([in1, in2], L.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit([x1, x2], y, epochs=25, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] >= 0.9
