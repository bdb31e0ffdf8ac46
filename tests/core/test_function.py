"""nf.function: tracing per signature, retracing, input_signature, variable capture."""
import numpy as np
import pytest

import neuroflow as nf


def test_traces_once_per_signature_and_reuses_the_plan():
    @nf.function
    def f(x):
        return nf.reduce_sum(x * x)
    assert f(nf.constant([1.0, 2.0])).numpy() == 5.0
    assert f(nf.constant([3.0, 4.0])).numpy() == 25.0
    assert f.experimental_get_tracing_count() == 1
    f(nf.constant([1.0, 2.0, 3.0]))            # new shape
    f(nf.constant(np.array([1.0, 2.0])))       # new dtype (float64)
    assert f.experimental_get_tracing_count() == 3


def test_python_arguments_are_part_of_the_signature():
    @nf.function
    def scale(x, factor):
        return x * factor
    assert scale(nf.constant(2.0), 3.0).numpy() == 6.0
    assert scale(nf.constant(2.0), 4.0).numpy() == 8.0
    assert scale.experimental_get_tracing_count() == 2


def test_input_signature_pins_one_trace():
    @nf.function(input_signature=[nf.TensorSpec([None, 2], nf.float32)])
    def f(x):
        return nf.reduce_sum(x, axis=1)
    np.testing.assert_array_equal(f(nf.constant([[1.0, 2.0]])).numpy(), [3.0])
    np.testing.assert_array_equal(f(nf.constant(np.ones((3, 2), np.float32))).numpy(),
                                  [2.0, 2.0, 2.0])
    assert f.experimental_get_tracing_count() == 1
    with pytest.raises(ValueError, match=r"\(None, 2\)"):
        f(nf.constant(np.ones((3, 3), np.float32)))
    concrete = f.get_concrete_function()
    assert concrete.outputs[0].shape.as_list() == [None]


def test_variables_are_captured_by_reference():
    v = nf.Variable(1.0)

    @nf.function
    def f(x):
        return x * v
    assert f(nf.constant(2.0)).numpy() == 2.0
    v.assign(5.0)
    assert f(nf.constant(2.0)).numpy() == 10.0


def test_assignments_run_in_program_order_even_when_not_returned():
    v = nf.Variable(0.0)

    @nf.function
    def step():
        v.assign_add(1.0)
        v.assign(v * 10.0)
        return nf.constant(0.0)
    step()
    assert v.numpy() == 10.0
    step()
    assert v.numpy() == 110.0


def test_training_step_with_tape_inside():
    w = nf.Variable([0.0, 0.0])
    x = nf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = nf.constant([5.0, 11.0, 17.0])  # y = 1*x0 + 2*x1

    @nf.function
    def step(x, y):
        with nf.GradientTape() as tape:
            pred = nf.reduce_sum(x * w, axis=1)
            loss = nf.reduce_mean((pred - y) * (pred - y))
        (g,) = tape.gradient(loss, [w])
        w.assign_sub(g * 0.02)
        return loss
    for _ in range(2000):
        loss = step(x, y)
    assert loss.numpy() < 1e-4
    np.testing.assert_allclose(w.numpy(), [1.0, 2.0], atol=1e-2)
    assert step.experimental_get_tracing_count() == 1


def test_variables_created_on_first_trace_are_eager():
    class Model:
        def __init__(self):
            self.w = None

        @nf.function
        def __call__(self, x):
            if self.w is None:
                self.w = nf.Variable(lambda: np.full((2,), 3.0, np.float32))
            return x * self.w
    m = Model()
    np.testing.assert_array_equal(m(nf.constant([1.0, 2.0])).numpy(), [3.0, 6.0])
    assert m.w.numpy().tolist() == [3.0, 3.0]


def test_nested_outputs_and_non_tensor_outputs():
    @nf.function
    def f(x):
        return {"double": x * 2.0, "pair": (x, None), "tag": "ok"}
    out = f(nf.constant(1.0))
    assert out["double"].numpy() == 2.0 and out["pair"][1] is None and out["tag"] == "ok"


def test_concrete_function_exposes_graph():
    @nf.function
    def f(x):
        return nf.matmul(x, x)
    concrete = f.get_concrete_function(nf.constant(np.eye(2, dtype=np.float32)))
    types = [op.type for op in concrete.graph.get_operations()]
    assert "MatMul" in types and "Placeholder" in types


def test_returned_variable_value_is_a_snapshot():
    v = nf.Variable([1.0])

    @nf.function
    def f():
        return v
    out = f()
    v.assign([2.0])
    assert out.numpy()[0] == 1.0


def test_errors_at_run_time_name_the_op():
    @nf.function
    def f(a, b):
        return nf.matmul(a, b, name="bad_product")
    with pytest.raises(ValueError, match="MatMul"):
        f(nf.ones([2, 3]), nf.ones([2, 3]))
