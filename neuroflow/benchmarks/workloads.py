"""The benchmark workloads: each builds the same float32 model and data in neuroflow and in
PyTorch and returns one training (or inference) step per framework.

Adding a workload is a few lines: write ``_nf_X`` and ``_torch_X`` builders and add an entry to
``WORKLOADS``. The Keras-level workloads (a step is one epoch of ``model.fit``) are in
keras_workloads.py. ``TF_WORKLOADS`` runs some of them in TensorFlow too (an optional third
column): the neuroflow code itself, given the ``tensorflow`` module in place of ``neuroflow``.
"""
from __future__ import annotations

import numpy as np

from neuroflow.benchmarks import keras_workloads
from neuroflow.benchmarks.harness import Workload


def _mlp_weights(sizes, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        layers.append((rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                       np.zeros(fan_out, np.float32)))
    return layers


def _nf_mlp_step(sizes, batch, optimizer, loss, seed=0, train=True, module=None):
    import neuroflow as nf
    nf = module or nf  # the TensorFlow column runs this same code with ``tensorflow``
    rng = np.random.default_rng(seed + 1)
    x = nf.constant(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    if loss == "mse":
        y = nf.constant(rng.standard_normal((batch, sizes[-1])).astype(np.float32))
    else:
        y = nf.constant(rng.integers(0, sizes[-1], batch).astype(np.int32))
    params = []
    for w, b in _mlp_weights(sizes, seed):
        params += [nf.Variable(w), nf.Variable(b)]
    opt = optimizer()

    def forward(inputs):
        h = inputs
        for i in range(0, len(params), 2):
            h = nf.matmul(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = nf.nn.relu(h)
        return h

    if not train:
        @nf.function
        def infer(inputs):
            return forward(inputs)
        return lambda: infer(x)

    @nf.function
    def step(inputs, labels):
        with nf.GradientTape() as tape:
            out = forward(inputs)
            if loss == "mse":
                value = nf.reduce_mean(nf.square(out - labels))
            else:
                value = nf.reduce_mean(
                    nf.nn.sparse_softmax_cross_entropy_with_logits(labels, out))
        grads = tape.gradient(value, params)
        opt.apply_gradients(zip(grads, params))
        return value

    return lambda: step(x, y)


def _torch_mlp_model(sizes, seed=0):
    import torch
    modules = []
    for i, (w, b) in enumerate(_mlp_weights(sizes, seed)):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if i + 2 < len(sizes):
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def _torch_mlp_step(sizes, batch, optimizer, loss, seed=0, train=True):
    import torch
    rng = np.random.default_rng(seed + 1)
    x = torch.from_numpy(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    if loss == "mse":
        y = torch.from_numpy(rng.standard_normal((batch, sizes[-1])).astype(np.float32))
    else:
        y = torch.from_numpy(rng.integers(0, sizes[-1], batch).astype(np.int64))
    model = _torch_mlp_model(sizes, seed)
    if not train:
        def infer():
            with torch.no_grad():
                return model(x)
        return infer
    opt = optimizer(model.parameters())
    loss_fn = torch.nn.functional.mse_loss if loss == "mse" else torch.nn.functional.cross_entropy

    def step():
        opt.zero_grad(set_to_none=True)
        value = loss_fn(model(x), y)
        value.backward()
        opt.step()
        return value
    return step


def _nf_optimizer(name, lr):
    import neuroflow as nf
    return {"sgd": nf.optimizers.SGD, "adam": nf.optimizers.Adam}[name](lr)


def _torch_optimizer(name, lr):
    import torch
    if name == "sgd":
        return lambda params: torch.optim.SGD(params, lr=lr)
    return lambda params: torch.optim.Adam(params, lr=lr, eps=1e-7)  # Keras's epsilon


def _tiny():
    return {
        "neuroflow": lambda: _nf_mlp_step([2, 16, 1], 4, lambda: _nf_optimizer("sgd", 0.1),
                                          "mse"),
        "pytorch": lambda: _torch_mlp_step([2, 16, 1], 4, _torch_optimizer("sgd", 0.1), "mse"),
    }


_MLP = [784, 256, 256, 10]


def _mlp():
    return {
        "neuroflow": lambda: _nf_mlp_step(_MLP, 128, lambda: _nf_optimizer("adam", 1e-3), "ce"),
        "pytorch": lambda: _torch_mlp_step(_MLP, 128, _torch_optimizer("adam", 1e-3), "ce"),
    }


def _infer_b1():
    return {
        "neuroflow": lambda: _nf_mlp_step(_MLP, 1, lambda: None, "ce", train=False),
        "pytorch": lambda: _torch_mlp_step(_MLP, 1, None, "ce", train=False),
    }


def _cnn_weights(seed):
    """Conv 3x3x1x32, Conv 3x3x32x64, Dense 3136x128, Dense 128x10 (glorot uniform)."""
    rng = np.random.default_rng(seed)
    shapes = [((3, 3, 1, 32), 9, 9 * 32), ((3, 3, 32, 64), 9 * 32, 9 * 64),
              ((7 * 7 * 64, 128), 7 * 7 * 64, 128), ((128, 10), 128, 10)]
    layers = []
    for shape, fan_in, fan_out in shapes:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        layers.append((rng.uniform(-limit, limit, shape).astype(np.float32),
                       np.zeros(shape[-1], np.float32)))
    return layers


def _cnn_data(batch, seed):
    rng = np.random.default_rng(seed + 1)
    return (rng.random((batch, 28, 28, 1)).astype(np.float32),
            rng.integers(0, 10, batch).astype(np.int64))


def _nf_cnn_step(batch=64, seed=0, module=None):
    import neuroflow as nf
    optimizers = nf.optimizers if module is None else module.keras.optimizers
    nf = module or nf  # the TensorFlow column runs this same code with ``tensorflow``
    x_np, y_np = _cnn_data(batch, seed)
    x, y = nf.constant(x_np), nf.constant(y_np.astype(np.int32))
    params = [nf.Variable(a) for pair in _cnn_weights(seed) for a in pair]
    opt = optimizers.Adam(1e-3)

    def forward(images):
        h = images
        for i in (0, 2):
            h = nf.nn.relu(nf.nn.bias_add(nf.nn.conv2d(h, params[i], 1, "SAME"), params[i + 1]))
            h = nf.nn.max_pool2d(h, 2, 2, "VALID")
        h = nf.reshape(h, [-1, 7 * 7 * 64])
        h = nf.nn.relu(nf.matmul(h, params[4]) + params[5])
        return nf.matmul(h, params[6]) + params[7]

    @nf.function
    def step(images, labels):
        with nf.GradientTape() as tape:
            loss = nf.reduce_mean(nf.nn.sparse_softmax_cross_entropy_with_logits(
                labels, forward(images)))
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss
    return lambda: step(x, y)


def _torch_cnn_layers(weights):
    """The torch modules of the CNN, holding ``weights`` (from ``_cnn_weights``)."""
    import torch
    (k1, b1), (k2, b2), (w3, b3), (w4, b4) = weights
    conv1, conv2 = torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.Conv2d(32, 64, 3, padding=1)
    fc1, fc2 = torch.nn.Linear(3136, 128), torch.nn.Linear(128, 10)
    with torch.no_grad():
        conv1.weight.copy_(torch.from_numpy(k1.transpose(3, 2, 0, 1)))
        conv2.weight.copy_(torch.from_numpy(k2.transpose(3, 2, 0, 1)))
        # flatten order: neuroflow flattens NHWC, torch NCHW; permute fc1's rows to match
        w3_nchw = w3.reshape(7, 7, 64, 128).transpose(2, 0, 1, 3).reshape(3136, 128)
        fc1.weight.copy_(torch.from_numpy(w3_nchw.T))
        fc2.weight.copy_(torch.from_numpy(w4.T))
        for layer, b in ((conv1, b1), (conv2, b2), (fc1, b3), (fc2, b4)):
            layer.bias.copy_(torch.from_numpy(b))
    return [conv1, torch.nn.ReLU(), torch.nn.MaxPool2d(2), conv2, torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Flatten(), fc1, torch.nn.ReLU(), fc2]


def _torch_cnn_step(batch=64, seed=0):
    import torch
    x_np, y_np = _cnn_data(batch, seed)
    x = torch.from_numpy(x_np.transpose(0, 3, 1, 2).copy())
    y = torch.from_numpy(y_np)
    model = torch.nn.Sequential(*_torch_cnn_layers(_cnn_weights(seed)))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _cnn():
    return {"neuroflow": _nf_cnn_step, "pytorch": _torch_cnn_step}


LSTM_BATCH, LSTM_STEPS, LSTM_INPUT, LSTM_UNITS = 64, 32, 32, 128


def _lstm_weights(seed):
    """An LSTM's kernel, recurrent kernel and bias in Keras's layout (gates i, f, c, o; the
    forget gate's bias 1), then a Dense 128x10 (uniform weights, zero bias)."""
    rng = np.random.default_rng(seed)
    units = LSTM_UNITS

    def uniform(shape, fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape).astype(np.float32)

    bias = np.zeros(4 * units, np.float32)
    bias[units:2 * units] = 1.0
    return [uniform((LSTM_INPUT, 4 * units), LSTM_INPUT, 4 * units),
            uniform((units, 4 * units), units, 4 * units), bias,
            uniform((units, 10), units, 10), np.zeros(10, np.float32)]


def _lstm_data(batch, seed):
    rng = np.random.default_rng(seed + 1)
    return (rng.standard_normal((batch, LSTM_STEPS, LSTM_INPUT)).astype(np.float32),
            rng.integers(0, 10, batch).astype(np.int64))


def _nf_lstm_step(batch=LSTM_BATCH, seed=0, module=None):
    """Keras's LSTM layer (its last output) and a Dense layer, trained by a compiled step."""
    import neuroflow as nf
    nf = module or nf  # the TensorFlow column runs this same code with ``tensorflow``
    x_np, y_np = _lstm_data(batch, seed)
    x, y = nf.constant(x_np), nf.constant(y_np.astype(np.int32))
    lstm, dense = nf.keras.layers.LSTM(LSTM_UNITS), nf.keras.layers.Dense(10)
    dense(lstm(x[:1]))
    weights = _lstm_weights(seed)
    lstm.set_weights(weights[:3])
    dense.set_weights(weights[3:])
    params = lstm.trainable_weights + dense.trainable_weights
    opt = nf.keras.optimizers.Adam(1e-3)

    @nf.function
    def step(inputs, labels):
        with nf.GradientTape() as tape:
            loss = nf.reduce_mean(nf.nn.sparse_softmax_cross_entropy_with_logits(
                labels, dense(lstm(inputs))))
        grads = tape.gradient(loss, params)
        opt.apply_gradients(zip(grads, params))
        return loss
    return lambda: step(x, y)


def _torch_lstm_step(batch=LSTM_BATCH, seed=0):
    import torch
    x_np, y_np = _lstm_data(batch, seed)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    kernel, recurrent, bias, w, b = _lstm_weights(seed)
    lstm = torch.nn.LSTM(LSTM_INPUT, LSTM_UNITS, batch_first=True)
    fc = torch.nn.Linear(LSTM_UNITS, 10)
    with torch.no_grad():  # torch's gate order i, f, g, o is Keras's i, f, c, o
        lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        lstm.bias_hh_l0.zero_()
        fc.weight.copy_(torch.from_numpy(w.T))
        fc.bias.copy_(torch.from_numpy(b))
    params = list(lstm.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)

    def step():
        opt.zero_grad(set_to_none=True)
        outputs, _ = lstm(x)
        loss = torch.nn.functional.cross_entropy(fc(outputs[:, -1]), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _lstm():
    return {"neuroflow": _nf_lstm_step, "pytorch": _torch_lstm_step}


BERT_BATCH, BERT_TOKENS, BERT_VOCAB = 32, 128, 30522
BERT_HIDDEN, BERT_HEADS, BERT_LAYERS, BERT_FFN = 384, 12, 6, 1536  # MiniLM-L6-H384's shape


def _bert_weights(seed):
    """Random weights of a MiniLM-L6-H384-shaped BERT encoder (normal, std 0.02; zero
    biases, unit LayerNorm scales), Keras's layouts: [in, out] kernels."""
    rng = np.random.default_rng(seed)
    h, f = BERT_HIDDEN, BERT_FFN

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def norm():
        return np.ones(h, np.float32), np.zeros(h, np.float32)
    weights = {"word": normal(BERT_VOCAB, h), "position": normal(BERT_TOKENS, h),
               "type": normal(h), "norm": norm(), "layers": []}
    for _ in range(BERT_LAYERS):
        weights["layers"].append({
            "q": (normal(h, h), normal(h)), "k": (normal(h, h), normal(h)),
            "v": (normal(h, h), normal(h)), "o": (normal(h, h), normal(h)),
            "norm1": norm(), "ffn1": (normal(h, f), normal(f)),
            "ffn2": (normal(f, h), normal(h)), "norm2": norm()})
    return weights


def _bert_ids(seed):
    return np.random.default_rng(seed + 1).integers(0, BERT_VOCAB, (BERT_BATCH, BERT_TOKENS))


def _nf_bert_embed(batch=BERT_BATCH, seed=0, module=None):
    """Sentence embeddings (the mean of the last hidden states) of a BERT encoder made of
    Keras layers (Embedding, MultiHeadAttention, LayerNormalization, Dense), run by a
    compiled function: inference, as a sentence-embedding model is used."""
    import neuroflow as nf
    nf = module or nf  # the TensorFlow column runs this same code with ``tensorflow``
    layers, w = nf.keras.layers, _bert_weights(seed)
    heads, size = BERT_HEADS, BERT_HIDDEN // BERT_HEADS
    ids = nf.constant(_bert_ids(seed)[:batch].astype(np.int32))
    sequence = (None, BERT_TOKENS, BERT_HIDDEN)

    def built(layer, shape, weights):
        layer.build(shape)
        layer.set_weights(list(weights))
        return layer
    word = built(layers.Embedding(BERT_VOCAB, BERT_HIDDEN), (None, BERT_TOKENS), [w["word"]])
    offset = nf.constant(w["position"] + w["type"])  # token type 0 everywhere
    first, blocks = built(layers.LayerNormalization(epsilon=1e-12), sequence, w["norm"]), []
    for lw in w["layers"]:
        attention = layers.MultiHeadAttention(heads, size)
        attention.build(sequence, sequence)
        attention.set_weights(
            [a for name in "qkv" for a in (lw[name][0].reshape(-1, heads, size),
                                           lw[name][1].reshape(heads, size))]
            + [lw["o"][0].reshape(heads, size, -1), lw["o"][1]])
        blocks.append((
            attention,
            built(layers.LayerNormalization(epsilon=1e-12), sequence, lw["norm1"]),
            built(layers.Dense(BERT_FFN, activation="gelu"), sequence, lw["ffn1"]),
            built(layers.Dense(BERT_HIDDEN), (None, BERT_TOKENS, BERT_FFN), lw["ffn2"]),
            built(layers.LayerNormalization(epsilon=1e-12), sequence, lw["norm2"])))

    @nf.function
    def embed(tokens):
        h = first(word(tokens) + offset)
        for attention, norm1, up, down, norm2 in blocks:
            h = norm1(h + attention(h, h))
            h = norm2(h + down(up(h)))
        return nf.reduce_mean(h, axis=1)
    return lambda: embed(ids)


def _torch_bert_embed(batch=BERT_BATCH, seed=0):
    """The same encoder from torch.nn.TransformerEncoderLayer (post-norm, exact GELU), in
    eval mode under no_grad: PyTorch's fast inference path."""
    import torch
    w = _bert_weights(seed)
    ids = torch.from_numpy(_bert_ids(seed)[:batch])
    word = torch.nn.Embedding(BERT_VOCAB, BERT_HIDDEN)
    norm = torch.nn.LayerNorm(BERT_HIDDEN, eps=1e-12)
    encoder = []

    def copy(module, kernel, bias):
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel)))
        module.bias.copy_(torch.from_numpy(bias))
    with torch.no_grad():
        word.weight.copy_(torch.from_numpy(w["word"]))
        offset = torch.from_numpy(w["position"] + w["type"])
        copy(norm, *w["norm"])
        for lw in w["layers"]:
            layer = torch.nn.TransformerEncoderLayer(
                BERT_HIDDEN, BERT_HEADS, BERT_FFN, dropout=0.0, activation="gelu",
                layer_norm_eps=1e-12, batch_first=True)
            attention = layer.self_attn
            attention.in_proj_weight.copy_(torch.from_numpy(
                np.concatenate([lw[n][0].T for n in "qkv"])))
            attention.in_proj_bias.copy_(torch.from_numpy(
                np.concatenate([lw[n][1] for n in "qkv"])))
            copy(attention.out_proj, lw["o"][0].T, lw["o"][1])
            copy(layer.linear1, lw["ffn1"][0].T, lw["ffn1"][1])
            copy(layer.linear2, lw["ffn2"][0].T, lw["ffn2"][1])
            copy(layer.norm1, *lw["norm1"])
            copy(layer.norm2, *lw["norm2"])
            encoder.append(layer.eval())

    def embed():
        with torch.no_grad():
            h = norm(word(ids) + offset)
            for layer in encoder:
                h = layer(h)
            return h.mean(dim=1)
    return embed


def _bert():
    return {"neuroflow": _nf_bert_embed, "pytorch": _torch_bert_embed}


WORKLOADS = {
    "tiny": ("2-16-1 MLP, batch 4, SGD, MSE: per-op framework overhead", _tiny),
    "infer_b1": ("784-256-256-10 MLP inference, batch 1: latency", _infer_b1),
    "mlp": ("784-256-256-10 ReLU MLP, batch 128, Adam, softmax cross-entropy", _mlp),
    "cnn": ("Conv32-Pool-Conv64-Pool-Dense128-Dense10 on 28x28x1, batch 64, Adam", _cnn),
    "lstm": (f"LSTM (input {LSTM_INPUT}, {LSTM_UNITS} units, {LSTM_STEPS} steps) + Dense10, "
             f"batch {LSTM_BATCH}, Adam", _lstm),
    "bert": (f"sentence embeddings of a MiniLM-L6-H384-shaped BERT encoder, batch "
             f"{BERT_BATCH} x {BERT_TOKENS} tokens (inference)", _bert),
    "keras_mlp": ("one model.fit epoch of the mlp (2,048 samples, batch 128) vs a torch loop",
                  keras_workloads.keras_mlp),
    "keras_cnn": ("one model.fit epoch of the cnn (1,024 samples, batch 64) vs a torch loop",
                  keras_workloads.keras_cnn),
    "fit_mnist": ("one model.fit epoch of neuroflow train's CNN (augmentation, dropout) on "
                  "the 4,000 MNIST digits, batch 64, vs the same in torch",
                  keras_workloads.fit_mnist),
}

# Workloads whose step is long (a whole epoch, a 32 x 128-token encoder call): the
# peak-memory subprocess runs fewer steps of them.
MEMORY_STEPS = {"keras_mlp": 5, "keras_cnn": 2, "fit_mnist": 1, "bert": 3}

# The optional TensorFlow column: tf -> step function.
TF_WORKLOADS = {
    "tiny": lambda tf: _nf_mlp_step([2, 16, 1], 4, lambda: tf.keras.optimizers.SGD(0.1),
                                    "mse", module=tf),
    "mlp": lambda tf: _nf_mlp_step(_MLP, 128, lambda: tf.keras.optimizers.Adam(1e-3), "ce",
                                   module=tf),
    "cnn": lambda tf: _nf_cnn_step(module=tf),
    "lstm": lambda tf: _nf_lstm_step(module=tf),
    "bert": lambda tf: _nf_bert_embed(module=tf),
    "keras_mlp": lambda tf: keras_workloads.tf_keras_step("keras_mlp", tf),
    "keras_cnn": lambda tf: keras_workloads.tf_keras_step("keras_cnn", tf),
}


def get(name: str, tensorflow=None) -> Workload:
    """The workload ``name``; given the ``tensorflow`` module, with a TensorFlow side too
    where ``TF_WORKLOADS`` has one."""
    description, builders = WORKLOADS[name]
    build = builders()
    if tensorflow is not None and name in TF_WORKLOADS:
        build["tensorflow"] = lambda: TF_WORKLOADS[name](tensorflow)
    return Workload(name, description, build)
