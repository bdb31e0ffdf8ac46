"""nf.debugging.enable_check_numerics: the first op producing NaN/Inf raises, named."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from neuroflow.compat import v1


@pytest.fixture
def check_numerics():
    nf.debugging.enable_check_numerics()
    yield
    nf.debugging.disable_check_numerics()


def test_eager_op_is_named_with_input_statistics(check_numerics):
    with nf.name_scope("block"):
        with pytest.raises(nf.errors.InvalidArgumentError) as info:
            nf.math.log(nf.constant([-1.0, 2.0]))
    message = str(info.value)
    assert "'Log'" in message and "block" in message
    assert "1 NaN" in message and "min -1" in message and "max 2" in message


def test_session_graph_names_the_op(check_numerics):
    g = nf.Graph()
    with g.as_default():
        x = v1.placeholder(nf.float32, [None], name="x")
        with nf.name_scope("head"):
            y = nf.math.log(x, name="inverse")
    with v1.Session(graph=g) as sess:
        assert sess.run(y, {x: [1.0]}) == [0.0]
        with pytest.raises(nf.errors.InvalidArgumentError, match=r"head/inverse.*1 NaN"):
            sess.run(y, {x: [-1.0]})


def test_compiled_function_and_plan_rebuilt_when_switched_on():
    @nf.function
    def f(x):
        return nf.sqrt(x)
    f(nf.constant([-1.0]))  # checking off: NaN passes silently
    nf.debugging.enable_check_numerics()
    try:
        with pytest.raises(nf.errors.InvalidArgumentError, match="Sqrt"):
            f(nf.constant([-1.0]))
    finally:
        nf.debugging.disable_check_numerics()
    assert np.isnan(f(nf.constant([-1.0])).numpy()[0])


def test_keras_layer_is_named_in_fit(check_numerics):
    class Log(keras.layers.Layer):
        def call(self, x):
            return nf.math.log(x)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(
        1, kernel_initializer="ones", bias_initializer=keras.initializers.Constant(-10.0)),
        Log(name="bad_log")])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(nf.errors.InvalidArgumentError, match="layer 'bad_log'"):
        model.fit(np.ones((4, 2), np.float32), np.ones((4, 1), np.float32), verbose=0)


def test_integer_and_finite_outputs_pass(check_numerics):
    assert nf.argmax(nf.constant([1.0, 3.0])).numpy() == 1
    assert nf.exp(nf.constant(1.0)).numpy() == pytest.approx(np.e)
