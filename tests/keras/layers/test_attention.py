"""MultiHeadAttention (neuroflow/keras/layers/attention.py): values against a NumPy reference
of the equations and against PyTorch, masks (explicit, causal, Keras masks from an
Embedding), float64 finite-difference gradients, eager == nf.function, config and
save/load, a functional model trained with fit, and argument errors."""
import numpy as np
import pytest

import neuroflow as nf
from neuroflow import keras
from tests.keras.layers.helpers_core import SAVE

L = keras.layers


# -- a NumPy reference of the equations (Keras's layouts, attention over axis 1) -------------
def reference(layer, query, value, key=None, mask=None):
    """(output, probabilities) of ``layer``'s equations; ``mask`` [B, T, S] (True = attend)
    zeroes the probabilities of masked keys (a fully masked row attends to nothing)."""
    key = value if key is None else key
    weights = [w.numpy().astype(np.float64) for w in layer.weights]
    if layer.use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = weights
    else:
        wq, wk, wv, wo = weights
        bq, bk, bv, bo = (np.zeros(w.shape[1:]) for w in (wq, wk, wv, wo[0]))
    q = np.einsum("btd,dnh->bnth", query, wq) + bq[None, :, None]
    k = np.einsum("bsd,dnh->bnsh", key, wk) + bk[None, :, None]
    v = np.einsum("bsd,dnh->bnsh", value, wv) + bv[None, :, None]
    scores = np.einsum("bnth,bnsh->bnts", q, k) / np.sqrt(layer.key_dim)
    if mask is not None:
        scores = np.where(mask[:, None], scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(scores - top)
    total = e.sum(-1, keepdims=True)
    probs = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    heads = np.einsum("bnts,bnsh->btnh", probs, v)
    out = np.tensordot(heads, wo, axes=([2, 3], [0, 1])) + bo
    return out, probs


def data(*shapes, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def causal(t, s):
    return np.tril(np.ones((t, s), bool))[None]


@pytest.mark.parametrize("kwargs, with_key", [
    ({"num_heads": 2, "key_dim": 3}, False),
    ({"num_heads": 3, "key_dim": 2, "value_dim": 5}, True),
    ({"num_heads": 2, "key_dim": 4, "use_bias": False, "bias_initializer": "ones"}, True),
    ({"num_heads": 1, "key_dim": 3, "bias_initializer": "glorot_uniform"}, False),
])
def test_values_against_numpy(kwargs, with_key):
    nf.random.set_seed(0)
    query, value, key = data((2, 5, 6), (2, 7, 4), (2, 7, 3))
    layer = L.MultiHeadAttention(**kwargs)
    out, scores = layer(query, value, key if with_key else None, return_attention_scores=True)
    want, probs = reference(layer, query, value, key if with_key else None)
    assert tuple(out.shape) == (2, 5, 6) and tuple(scores.shape) == (2, kwargs["num_heads"], 5, 7)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1.0, rtol=1e-5)


def test_weight_shapes_names_and_output_shape():
    layer = L.MultiHeadAttention(num_heads=4, key_dim=3, value_dim=5, output_shape=(2, 7))
    query, value, key = data((2, 5, 6), (2, 7, 4), (2, 7, 9))
    out = layer(query, value, key)
    assert tuple(out.shape) == (2, 5, 2, 7)
    assert [tuple(w.shape) for w in layer.weights] == [
        (6, 4, 3), (4, 3), (9, 4, 3), (4, 3), (4, 4, 5), (4, 5), (4, 5, 2, 7), (2, 7)]
    name = layer.name
    assert [w.path for w in layer.weights] == [
        f"{name}/{sub}/{kind}" for sub in ("query", "key", "value", "attention_output")
        for kind in ("kernel", "bias")]
    assert layer.query_dense.name == "query" and layer.output_dense.name == "attention_output"
    assert layer.compute_output_shape((None, 5, 6), (None, 7, 4)) == (None, 5, 2, 7)
    assert L.MultiHeadAttention(2, 3, output_shape=5).compute_output_shape(
        (None, 5, 6), (None, 7, 4)) == (None, 5, 5)
    assert len(L.MultiHeadAttention(2, 3, use_bias=False)(query, value).shape) == 3
    # keywords, as Keras code often calls it
    again = layer(query=query, value=value, key=key)
    np.testing.assert_allclose(again.numpy(), out.numpy(), rtol=1e-6)


@pytest.mark.parametrize("masking", ["attention_mask", "causal", "both", "keras_masks"])
def test_masks_against_numpy(masking):
    nf.random.set_seed(1)
    query, value = data((3, 6, 4), (3, 6, 5), seed=1)
    rng = np.random.default_rng(2)
    attention_mask = rng.random((3, 6, 6)) > 0.4
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3)
    want_mask = np.ones((3, 6, 6), bool)
    kwargs = {}
    if masking in ("attention_mask", "both"):
        kwargs["attention_mask"] = attention_mask
        want_mask &= attention_mask
    if masking in ("causal", "both"):
        kwargs["use_causal_mask"] = True
        want_mask &= causal(6, 6)
    q_in, v_in = nf.constant(query), nf.constant(value)
    if masking == "keras_masks":
        query_keep = np.array([[1, 1, 1, 1, 0, 0], [1] * 6, [1, 1, 0, 0, 0, 0]], bool)
        value_keep = np.array([[1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 1], [0] * 6], bool)
        q_in._keras_mask, v_in._keras_mask = nf.constant(query_keep), nf.constant(value_keep)
        want_mask &= query_keep[:, :, None] & value_keep[:, None, :]
    out, scores = layer(q_in, v_in, return_attention_scores=True, **kwargs)
    want, probs = reference(layer, query, value, mask=want_mask)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), probs, rtol=1e-4, atol=1e-6)
    assert np.all(scores.numpy()[~np.broadcast_to(want_mask[:, None], scores.shape)] == 0)
    if masking == "keras_masks":  # the output carries the query's mask, the scores do not
        np.testing.assert_array_equal(out._keras_mask.numpy(), query_keep)
        assert getattr(scores, "_keras_mask", None) is None


def test_causal_mask_with_different_lengths():
    query, value = data((2, 4, 3), (2, 6, 3), seed=3)
    layer = L.MultiHeadAttention(2, 2)
    out, scores = layer(query, value, use_causal_mask=True, return_attention_scores=True)
    want, probs = reference(layer, query, value, mask=np.broadcast_to(causal(4, 6), (2, 4, 6)))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    assert np.all(scores.numpy()[..., np.triu_indices(4, 1, 6)[0],
                                 np.triu_indices(4, 1, 6)[1]] == 0)


# -- PyTorch as an oracle ------------------------------------------------------------------------
def test_against_torch_sdpa_with_masks():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    query, value, key = data((2, 5, 6), (2, 7, 4), (2, 7, 3), seed=4, dtype="float64")
    layer = L.MultiHeadAttention(3, 4, value_dim=2, dtype="float64")
    rng = np.random.default_rng(5)
    mask = rng.random((2, 5, 7)) > 0.3
    mask[:, :, 0] = True  # no fully masked row: torch gives NaN there
    for kwargs, keep in (({}, None), ({"attention_mask": mask}, mask),
                         ({"attention_mask": mask, "use_causal_mask": True},
                          mask & causal(5, 7))):
        out = layer(query, value, key, **kwargs).numpy()
        wq, bq, wk, bk, wv, bv, wo, bo = [torch.from_numpy(w.numpy()) for w in layer.weights]
        q = torch.einsum("btd,dnh->bnth", torch.from_numpy(query), wq) + bq[None, :, None]
        k = torch.einsum("bsd,dnh->bnsh", torch.from_numpy(key), wk) + bk[None, :, None]
        v = torch.einsum("bsd,dnh->bnsh", torch.from_numpy(value), wv) + bv[None, :, None]
        attn_mask = None if keep is None else torch.from_numpy(keep)[:, None]
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        want = torch.einsum("bnth,nho->bto", heads, wo) + bo
        np.testing.assert_allclose(out, want.numpy(), rtol=1e-10, atol=1e-10)


def test_against_torch_multihead_attention_module():
    torch = pytest.importorskip("torch")
    heads, size = 4, 3
    dim = heads * size
    query, value = data((3, 5, dim), (3, 6, dim), seed=6)
    padding = np.zeros((3, 6), bool)
    padding[0, 4:] = padding[2, 1:] = True  # True = a padded key, in torch's convention
    layer = L.MultiHeadAttention(heads, size)
    v_in = nf.constant(value)
    v_in._keras_mask = nf.constant(~padding)
    out, scores = layer(query, v_in, return_attention_scores=True)
    wq, bq, wk, bk, wv, bv, wo, bo = [w.numpy() for w in layer.weights]
    module = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.from_numpy(
            np.concatenate([w.reshape(dim, dim).T for w in (wq, wk, wv)])))
        module.in_proj_bias.copy_(torch.from_numpy(np.concatenate(
            [b.reshape(-1) for b in (bq, bk, bv)])))
        module.out_proj.weight.copy_(torch.from_numpy(wo.reshape(dim, dim).T))
        module.out_proj.bias.copy_(torch.from_numpy(bo))
        value_t = torch.from_numpy(value)
        want, want_scores = module(torch.from_numpy(query), value_t, value_t,
                                   key_padding_mask=torch.from_numpy(padding),
                                   average_attn_weights=False)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), want_scores.numpy(), rtol=1e-4, atol=1e-6)


# -- gradients -----------------------------------------------------------------------------------
def test_finite_difference_gradients_float64():
    nf.random.set_seed(7)
    query, value, key = data((2, 3, 4), (2, 4, 3), (2, 4, 2), seed=7, dtype="float64")
    mask = np.random.default_rng(8).random((2, 3, 4)) > 0.3
    mask[:, :, 0] = True
    layer = L.MultiHeadAttention(2, 3, value_dim=2, dtype="float64",
                                 bias_initializer="glorot_uniform")
    weight = np.random.default_rng(9).standard_normal((2, 3, 4))

    def loss(q, v, k):
        out = layer(q, v, k, attention_mask=mask, use_causal_mask=True)
        return nf.reduce_sum(out * weight)

    inputs = [nf.Variable(x) for x in (query, value, key)]
    with nf.GradientTape() as tape:
        total = loss(*inputs)
    targets = inputs + layer.trainable_weights
    grads = tape.gradient(total, targets)
    eps = 1e-6
    for target, grad in zip(targets, grads):
        base = target.numpy().copy()
        numeric = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            for sign in (1, -1):
                moved = base.copy()
                moved[index] += sign * eps
                target.assign(moved)
                numeric[index] += sign * float(loss(*inputs).numpy()) / (2 * eps)
            target.assign(base)
        np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=f"gradient of {getattr(target, 'name', target)}")


# -- eager == graph, dropout ---------------------------------------------------------------------
def test_eager_equals_function_and_dropout():
    nf.random.set_seed(10)
    query, value = data((2, 5, 6), (2, 7, 6), seed=10)
    mask = np.random.default_rng(11).random((2, 5, 7)) > 0.3
    layer = L.MultiHeadAttention(3, 2, dropout=0.5, seed=3)
    eager, eager_scores = layer(query, value, attention_mask=mask, use_causal_mask=True,
                                return_attention_scores=True)

    @nf.function
    def run(q, v, m):
        return layer(q, v, attention_mask=m, use_causal_mask=True,
                     return_attention_scores=True)
    graph, graph_scores = run(nf.constant(query), nf.constant(value), nf.constant(mask))
    np.testing.assert_allclose(graph.numpy(), eager.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(graph_scores.numpy(), eager_scores.numpy(), rtol=1e-5,
                               atol=1e-7)
    # dropout acts on the probabilities in training only; the returned scores are undropped
    assert np.allclose(layer(query, value, training=False).numpy(), layer(query, value).numpy())
    trained, trained_scores = layer(query, value, training=True, return_attention_scores=True)
    _, inference_scores = layer(query, value, return_attention_scores=True)
    assert not np.allclose(trained.numpy(), layer(query, value).numpy(), atol=1e-3)
    np.testing.assert_allclose(trained_scores.numpy(), inference_scores.numpy(), rtol=1e-6)


# -- config, functional models, save / load ------------------------------------------------------
def test_config_round_trip():
    layer = L.MultiHeadAttention(
        num_heads=3, key_dim=4, value_dim=2, dropout=0.1, use_bias=False, output_shape=5,
        attention_axes=1, kernel_initializer="he_normal", kernel_regularizer="l2",
        bias_constraint="non_neg", seed=4, name="attn")
    config = layer.get_config()
    for key, want in (("num_heads", 3), ("key_dim", 4), ("value_dim", 2), ("dropout", 0.1),
                      ("use_bias", False), ("output_shape", (5,)), ("attention_axes", (1,)),
                      ("seed", 4), ("name", "attn")):
        assert config[key] == want, key
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["kernel_regularizer"]["class_name"] == "L2"
    assert config["bias_initializer"]["class_name"] == "Zeros"
    clone = L.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    assert L.MultiHeadAttention(2, 3).get_config()["value_dim"] == 3  # defaults to key_dim


def test_functional_model_save_and_load(tmp_path):
    nf.random.set_seed(12)
    query, value = data((2, 5, 6), (2, 7, 4), seed=12)
    q_in, v_in = keras.Input((5, 6)), keras.Input((None, 4))
    layer = L.MultiHeadAttention(2, 3, output_shape=3)
    out, scores = layer(q_in, v_in, return_attention_scores=True, use_causal_mask=True)
    assert tuple(out.shape) == (None, 5, 3) and tuple(scores.shape)[:3] == (None, 2, 5)
    model = keras.Model([q_in, v_in], [out, scores])
    got, got_scores = model.predict([query, value], verbose=0)
    want, want_scores = layer(query, value, return_attention_scores=True, use_causal_mask=True)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_scores, want_scores.numpy(), rtol=1e-5, atol=1e-7)
    if SAVE:
        path = str(tmp_path / "attention.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        again, again_scores = loaded.predict([query, value], verbose=0)
        np.testing.assert_allclose(again, got, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(again_scores, got_scores, rtol=1e-6, atol=1e-7)


def test_learns_to_select_the_marked_token():
    """One attention layer reads the token at the marked position (a copy task)."""
    nf.random.set_seed(0)
    rng = np.random.default_rng(0)
    vocab, length, n = 6, 8, 1200
    tokens = rng.integers(0, vocab, (n, length))
    marked = rng.integers(0, length, n)
    x = np.zeros((n, length, vocab + 1), "float32")
    x[np.arange(n)[:, None], np.arange(length), tokens] = 1.0
    x[np.arange(n), marked, vocab] = 1.0
    y = tokens[np.arange(n), marked]
    inputs = keras.Input((length, vocab + 1))
    attended = L.MultiHeadAttention(num_heads=2, key_dim=8)(inputs, inputs)
    outputs = L.Dense(vocab, activation="softmax")(L.GlobalAveragePooling1D()(attended))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:1000], y[:1000], epochs=12, batch_size=50, verbose=0)
    accuracy = np.mean(np.argmax(model.predict(x[1000:], verbose=0), -1) == y[1000:])
    assert accuracy >= 0.9, accuracy


def test_masks_from_embedding_reach_the_attention():
    nf.random.set_seed(13)
    ids = np.array([[3, 5, 2, 0, 0], [4, 1, 1, 2, 6]])
    inputs = keras.Input((5,), dtype="int32")
    embedded = L.Embedding(8, 6, mask_zero=True)(inputs)
    attention = L.MultiHeadAttention(2, 3)
    model = keras.Model(inputs, attention(embedded, embedded))
    got = model.predict(ids, verbose=0)
    embedding = model.layers[1]
    vectors = embedding(ids)
    keep = ids != 0
    want, _ = reference(attention, vectors.numpy(), vectors.numpy(),
                        mask=keep[:, :, None] & keep[:, None, :])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # the padded tail changes nothing at the real positions
    short = attention(embedding(ids[:1, :3]), embedding(ids[:1, :3])).numpy()
    np.testing.assert_allclose(got[0, :3], short[0], rtol=1e-4, atol=1e-5)
    # eager: the output carries the query's mask on to the next layer
    out = attention(vectors, vectors)
    np.testing.assert_array_equal(out._keras_mask.numpy(), keep)


def test_higher_rank_inputs_and_attention_axes():
    nf.random.set_seed(14)
    query, value = data((2, 3, 4, 5), (2, 3, 2, 5), seed=14)
    for axes in (None, (2,), -2):
        layer = L.MultiHeadAttention(2, 3, attention_axes=axes)
        out, scores = layer(query, value, return_attention_scores=True)
        wq, bq, wk, bk, wv, bv, wo, bo = [w.numpy().astype(np.float64) for w in layer.weights]
        q = np.einsum("abcd,dnh->abcnh", query, wq) + bq
        k = np.einsum("abcd,dnh->abcnh", value, wk) + bk
        v = np.einsum("abcd,dnh->abcnh", value, wv) + bv
        if axes is None:  # attention over axes 1 and 2 jointly
            s = np.einsum("abcnh,adenh->anbcde", q, k) / np.sqrt(3)
            p = np.exp(s - s.max(axis=(-2, -1), keepdims=True))
            p /= p.sum(axis=(-2, -1), keepdims=True)
            heads = np.einsum("anbcde,adenh->abcnh", p, v)
        else:  # over axis 2, axis 1 is a batch axis
            s = np.einsum("abcnh,abenh->abnce", q, k) / np.sqrt(3)
            p = np.exp(s - s.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            heads = np.einsum("abnce,abenh->abcnh", p, v)
        want = np.einsum("abcnh,nho->abco", heads, wo) + bo
        np.testing.assert_allclose(scores.numpy(), p, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)


def test_regularizers_reach_the_projections():
    layer = L.MultiHeadAttention(2, 3, kernel_regularizer=keras.regularizers.L2(0.1))
    query, value = data((2, 4, 5), (2, 4, 5), seed=15)
    layer(query, value)
    kernels = [w for w in layer.weights if w.path.endswith("kernel")]
    np.testing.assert_allclose(sorted(float(v) for v in layer.losses),
                               sorted(0.1 * float(np.sum(k.numpy() ** 2)) for k in kernels),
                               rtol=1e-5)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"invalid value for `num_heads`"):
        L.MultiHeadAttention(0, 3)
    with pytest.raises(ValueError, match=r"`dropout`"):
        L.MultiHeadAttention(2, 3, dropout=1.5)
    with pytest.raises(ValueError, match=r"attention_axes"):
        L.MultiHeadAttention(2, 3, attention_axes="time")
    with pytest.raises(ValueError, match=r"except the last one"):
        L.MultiHeadAttention(2, 3)(np.ones((2, 4, 5)), np.ones((2, 4, 5)), np.ones((2, 3, 5)))
    with pytest.raises(TypeError, match=r"layer\(query, value\)"):
        L.MultiHeadAttention(2, 3)(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"needs both the query and the value"):
        L.MultiHeadAttention(2, 3).build((None, 4, 5))
    with pytest.raises(ValueError, match=r"attention_axes=\(3,\)"):
        L.MultiHeadAttention(2, 3, attention_axes=3)(np.ones((2, 4, 5)), np.ones((2, 4, 5)))
