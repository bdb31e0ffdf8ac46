"""GradientTape: watching, persistence, nesting, jacobians, errors."""
import numpy as np
import pytest

import neuroflow as nf


def test_gradient_of_variable_is_watched_automatically():
    w = nf.Variable([[1.0, 2.0], [3.0, 4.0]])
    x = nf.constant([[1.0, 1.0]])
    with nf.GradientTape() as tape:
        y = nf.reduce_sum(nf.matmul(x, w))
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), np.ones((2, 2)))
    assert tape.watched_variables() == (w,)


def test_constants_need_watch():
    x = nf.constant(3.0)
    with nf.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert tape.gradient(y, x).numpy() == 6.0


def test_watch_accessed_variables_false():
    a, b = nf.Variable(1.0), nf.Variable(2.0)
    with nf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert ga.numpy() == 2.0 and gb is None


def test_unconnected_gradients_zero():
    a, b = nf.Variable([1.0, 2.0]), nf.Variable(5.0)
    with nf.GradientTape() as tape:
        y = nf.reduce_sum(a)
    g = tape.gradient(y, b, unconnected_gradients=nf.UnconnectedGradients.ZERO)
    assert g.numpy() == 0.0
    with nf.GradientTape() as tape:
        y = nf.reduce_sum(a)
    assert tape.gradient(y, b, unconnected_gradients="zero").numpy() == 0.0


def test_non_persistent_tape_is_single_use_and_persistent_is_not():
    x = nf.Variable(2.0)
    with nf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)
    with nf.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * x
    assert tape.gradient(y, x).numpy() == 4.0
    assert tape.gradient(z, x).numpy() == 12.0


def test_nested_structures_and_output_gradients():
    a, b = nf.Variable([1.0, 2.0]), nf.Variable(3.0)
    with nf.GradientTape() as tape:
        y = a * b
    grads = tape.gradient(y, {"a": a, "pair": (b,)}, output_gradients=nf.constant([1.0, 10.0]))
    np.testing.assert_array_equal(grads["a"].numpy(), [3.0, 30.0])
    assert grads["pair"][0].numpy() == 21.0


def test_list_target_sums():
    x = nf.Variable(2.0)
    with nf.GradientTape() as tape:
        ys = [x * x, x * 3.0]
    assert tape.gradient(ys, x).numpy() == 7.0


def test_higher_order_gradients_through_nested_tapes():
    x = nf.Variable(1.5)
    with nf.GradientTape() as t3:
        with nf.GradientTape() as t2:
            with nf.GradientTape() as t1:
                y = x * x * x * x
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    np.testing.assert_allclose([d1.numpy(), d2.numpy(), d3.numpy()],
                               [4 * 1.5**3, 12 * 1.5**2, 24 * 1.5], rtol=1e-6)


def test_stop_recording():
    x = nf.Variable(2.0)
    with nf.GradientTape() as tape:
        y = x * x
        with tape.stop_recording():
            z = x * 100.0
        total = y + z
    assert tape.gradient(total, x).numpy() == 4.0


def test_jacobian():
    x = nf.constant([1.0, 2.0, 3.0])
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    jac = tape.jacobian(y, x)
    np.testing.assert_array_equal(jac.numpy(), np.diag([2.0, 4.0, 6.0]))
    w = nf.Variable(np.ones((2, 3), np.float32))
    with nf.GradientTape() as tape:
        y = nf.matmul(nf.constant([[1.0, 2.0]]), w)
    assert tape.jacobian(y, w).shape == (1, 3, 2, 3)


def test_gradient_of_integer_source_is_an_error():
    x = nf.constant([1, 2])
    with nf.GradientTape() as tape:
        tape.watch(x)
        y = x * 2
    with pytest.raises(ValueError, match="int32"):
        tape.gradient(y, x)


def test_op_without_gradient_on_path_is_an_error():
    from neuroflow.core.op import Spec, primitive

    nograd = primitive("TestNoGradient", shape=lambda x: Spec(x.shape, x.dtype))(
        lambda x: x * 1)
    x = nf.Variable([1.0])
    with nf.GradientTape() as tape:
        y = nograd(x * 2.0)
    with pytest.raises(LookupError, match="TestNoGradient"):
        tape.gradient(y, x)


def test_broadcast_gradients_are_reduced_to_input_shape():
    b = nf.Variable([1.0, 2.0, 3.0])
    x = nf.ones([4, 3])
    with nf.GradientTape() as tape:
        y = nf.reduce_sum(x * b)
    g = tape.gradient(y, b)
    assert g.shape == (3,)
    np.testing.assert_array_equal(g.numpy(), [4.0, 4.0, 4.0])


def test_stop_gradient_and_custom_gradient():
    x = nf.Variable(3.0)
    with nf.GradientTape() as tape:
        y = x * nf.stop_gradient(x)
    assert tape.gradient(y, x).numpy() == 3.0

    @nf.custom_gradient
    def scaled_identity(t):
        return t * 1.0, lambda dy: dy * 10.0
    with nf.GradientTape() as tape:
        y = scaled_identity(x) * 2.0
    assert tape.gradient(y, x).numpy() == 20.0


def test_gradients_are_fresh_not_accumulated():
    x = nf.Variable(1.0)
    results = []
    for _ in range(2):
        with nf.GradientTape() as tape:
            y = x * 5.0
        results.append(tape.gradient(y, x).numpy())
    assert results == [5.0, 5.0]
