"""The compiler's fusion pass ("remapping"): fused plans compute what unfused ones do."""
from __future__ import annotations

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.compat import v1
from neuroflow.core import compiler, fusion


@pytest.fixture
def options():
    saved = dict(fusion.OPTIONS)
    yield
    fusion.OPTIONS.update(saved)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _conv_graph(data_format="NHWC", relu=True, fetch_conv=False):
    graph = nf.Graph()
    with graph.as_default():
        shape = [None, 8, 8, 3] if data_format == "NHWC" else [None, 3, 8, 8]
        x = v1.placeholder(nf.float32, shape)
        w = nf.constant(_rng(1).standard_normal((3, 3, 3, 4)).astype(np.float32))
        b = nf.constant(_rng(2).standard_normal(4).astype(np.float32))
        conv = nf.nn.conv2d(x, w, 1, "SAME", data_format=data_format)
        y = nf.nn.bias_add(conv, b, data_format=data_format)
        if relu:
            y = nf.nn.relu(y)
        loss = nf.reduce_sum(nf.multiply(y, y))
        grads = nf.gradients(loss, [x])
    fetches = [y, grads[0]] + ([conv] if fetch_conv else [])
    value = _rng(3).standard_normal([2] + shape[1:]).astype(np.float32)
    return fetches, x, value


def _run(fetches, x, value):
    plan = compiler.Plan(fetches, [x])
    return plan, plan.run([value])


@pytest.mark.parametrize("relu", [True, False])
def test_conv_bias_relu_is_one_kernel_and_gives_the_same_values(options, relu):
    fetches, x, value = _conv_graph(relu=relu)
    plan, fused = _run(fetches, x, value)
    types = [op.type for op in plan._step_ops]
    assert "_FusedConv2D" in types and "BiasAdd" not in types
    assert types.count("Relu") == 0
    nf.config.optimizer.set_experimental_options({"remapping": False})
    plan, plain = _run(fetches, x, value)
    assert "_FusedConv2D" not in [op.type for op in plan._step_ops]
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_no_fusion_when_an_intermediate_is_read_elsewhere_or_channels_first(options):
    fetches, x, value = _conv_graph(fetch_conv=True)
    plan, fused = _run(fetches, x, value)
    assert "Conv2D" in [op.type for op in plan._step_ops]
    fetches2, x2, value2 = _conv_graph(data_format="NCHW")
    plan2, _ = _run(fetches2, x2, value2)
    assert "_FusedConv2D" not in [op.type for op in plan2._step_ops]
    nf.config.optimizer.set_experimental_options({"remapping": False})
    _, plain = _run(fetches, x, value)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_fused_step_errors_name_the_layer(options):
    model = nf.keras.Sequential([nf.keras.Input((6, 6, 2)),
                                 nf.keras.layers.Conv2D(3, 3, activation="relu",
                                                        name="conv")])
    nf.debugging.enable_check_numerics()
    try:
        with pytest.raises(nf.errors.InvalidArgumentError, match="conv"):
            model.predict(np.full((1, 6, 6, 2), np.nan, np.float32), verbose=0)
    finally:
        nf.debugging.disable_check_numerics()


def _fit_losses(seed=0):
    nf.keras.utils.set_random_seed(seed)
    model = nf.keras.Sequential([
        nf.keras.Input((10, 10, 2)),
        nf.keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
        nf.keras.layers.MaxPooling2D(2),
        nf.keras.layers.Conv2D(4, 3, activation="relu"),
        nf.keras.layers.Flatten(),
        nf.keras.layers.Dense(3)])
    model.compile("adam", nf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = _rng(seed)
    x = rng.standard_normal((64, 10, 10, 2)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
    return history.history["loss"], model.get_weights()


def test_fit_gives_the_same_losses_and_weights_fused_and_unfused(options):
    fused = _fit_losses()
    nf.config.optimizer.set_experimental_options({"remapping": False})
    plain = _fit_losses()
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-6)
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_optimizer_options(options):
    assert nf.config.optimizer.get_experimental_options() == {
        "remapping": True, "constant_folding": True}
    with pytest.raises(ValueError, match="remapping"):
        nf.config.optimizer.set_experimental_options({"remaping": False})
    nf.config.optimizer.set_experimental_options({"constant_folding": False})
    graph = nf.Graph()
    with graph.as_default():
        y = nf.add(nf.constant(2.0), nf.constant(3.0))
    plan = compiler.Plan([y], [])
    assert [op.type for op in plan._step_ops] == ["AddV2"]
    assert plan.run([])[0] == 5.0
    nf.config.optimizer.set_experimental_options({"constant_folding": True})
    assert compiler.Plan([y], []).num_ops == 0


@pytest.mark.parametrize("pool", [(2, 2, "VALID"), (3, 2, "SAME")])
def test_relu_grad_of_max_pool_grad_masks_the_pooled_values(options, pool):
    """ReluGrad(MaxPoolGrad(x, y, dy), x) == MaxPoolGrad(x, y, ReluGrad(dy, y)), for tiling
    and for overlapping windows."""
    size, stride, padding = pool
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [None, 6, 6, 3])
        h = nf.nn.relu(x)
        p = nf.nn.max_pool2d(h, size, stride, padding)
        weights = nf.constant(_rng(4).standard_normal((3, 3, 3)).astype(np.float32))
        grad = nf.gradients(nf.reduce_sum(nf.multiply(p, weights)), [x])[0]
    value = _rng(5).standard_normal((2, 6, 6, 3)).astype(np.float32)
    value[0, :2, :2] = -1.0  # whole windows of zeros after the ReLU: ties at 0
    plan, fused = _run([grad], x, value)
    assert "_FusedMaxPoolReluGrad" in [op.type for op in plan._step_ops]
    nf.config.optimizer.set_experimental_options({"remapping": False})
    plan, plain = _run([grad], x, value)
    assert "MaxPoolGrad" in [op.type for op in plan._step_ops]
    np.testing.assert_array_equal(fused[0], plain[0])


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_bias_gradient_before_a_max_pool_sums_the_pooled_gradient(options, data_format):
    graph = nf.Graph()
    with graph.as_default():
        shape = [None, 6, 6, 3] if data_format == "NHWC" else [None, 3, 6, 6]
        x = v1.placeholder(nf.float32, shape)
        b = nf.constant(np.array([0.1, -0.2, 0.3], np.float32))
        h = nf.nn.relu(nf.nn.bias_add(x, b, data_format=data_format))
        p = nf.nn.max_pool2d(h, 3, 2, "SAME", data_format=data_format)
        loss = nf.reduce_sum(nf.multiply(p, p))
        gx, gb = nf.gradients(loss, [x, b])
    value = _rng(6).standard_normal([4] + shape[1:]).astype(np.float32)
    plan, fused = _run([gx, gb], x, value)
    types = [op.type for op in plan._step_ops]
    if data_format == "NHWC":
        assert "_PooledBiasAddGrad" in types and "_FusedMaxPoolReluGrad" in types
    nf.config.optimizer.set_experimental_options({"remapping": False})
    _, plain = _run([gx, gb], x, value)
    np.testing.assert_array_equal(fused[0], plain[0])
    np.testing.assert_allclose(fused[1], plain[1], rtol=1e-5)


def test_attention_output_is_written_straight_into_the_transposed_layout(options,
                                                                          monkeypatch):
    """MatMul -> Transpose (the probabilities times the values, back to [batch, positions,
    heads, size]) as one step: the same values and gradients as the two ops, C-ordered."""
    from neuroflow.backend import threads
    monkeypatch.setattr(threads, "MIN_SPLIT", 16)
    layer = nf.keras.layers.MultiHeadAttention(3, 4)
    value = _rng(7).standard_normal((2, 5, 6)).astype(np.float32)
    want = layer(value, value).numpy()
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(nf.float32, [2, 5, 6])
        y = layer(x, x)
        grads = nf.gradients(nf.reduce_sum(nf.multiply(y, y)), [x])
    plan, fused = _run([y, grads[0]], x, value)
    assert "_MatMulTransposed" in [op.type for op in plan._step_ops]
    nf.config.optimizer.set_experimental_options({"remapping": False})
    plan, plain = _run([y, grads[0]], x, value)
    assert "_MatMulTransposed" not in [op.type for op in plan._step_ops]
    np.testing.assert_allclose(fused[0], want, rtol=1e-5, atol=1e-6)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_transposed_product_kernel_matches_numpy():
    from neuroflow.ops.dense_fusion import _matmul_transposed
    rng = _rng(8)
    a = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    b = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    for perm in [(0, 2, 1, 3), (2, 0, 1, 3), (1, 0, 2, 3)]:
        got = _matmul_transposed(a, b, transpose_b=True, perm=perm)
        assert got.flags.c_contiguous
        np.testing.assert_allclose(got, np.transpose(a @ np.swapaxes(b, -1, -2), perm),
                                   rtol=1e-6, atol=1e-6)
    # a stack times one matrix: the plain product, transposed
    got = _matmul_transposed(a, b[0, 0], transpose_b=True, perm=(0, 2, 1, 3))
    np.testing.assert_allclose(got, np.transpose(a @ b[0, 0].T, (0, 2, 1, 3)), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_residual_add_and_layer_norm_are_one_step_at_inference(options, dtype):
    """LayerNorm(a + b) as one step (the sum made in the normalizing pass) gives the two
    ops' values; a training graph, whose gradient reads the sum, keeps them apart."""
    rng = _rng(9)
    norm = nf.keras.layers.LayerNormalization(epsilon=1e-5, dtype=dtype.__name__)
    norm.build((None, 3, 8))
    norm.set_weights([rng.standard_normal(8).astype(dtype), rng.standard_normal(8).astype(dtype)])
    value = rng.standard_normal((4, 3, 8)).astype(dtype)
    residual = nf.constant(rng.standard_normal((4, 3, 8)).astype(dtype))
    graph = nf.Graph()
    with graph.as_default():
        x = v1.placeholder(dtype, [None, 3, 8])
        y = norm(nf.add(x, residual))
        grad = nf.gradients(nf.reduce_sum(nf.multiply(y, y)), [x])[0]
    plan, fused = _run([y], x, value)
    types = [op.type for op in plan._step_ops]
    assert types.count("_FusedAddLayerNorm") == (dtype == np.float32)
    plan, with_grad = _run([y, grad], x, value)
    assert "_FusedAddLayerNorm" not in [op.type for op in plan._step_ops]
    nf.config.optimizer.set_experimental_options({"remapping": False})
    _, plain = _run([y], x, value)
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(with_grad[0], plain[0], rtol=1e-6, atol=1e-6)
