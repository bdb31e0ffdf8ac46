"""The benchmark workloads: each builds the same float32 model and data in neuroflow and in
PyTorch and returns one training (or inference) step per framework.

Adding a workload is a few lines: write ``_nf_X`` and ``_torch_X`` builders and add an entry to
``WORKLOADS``.
"""
from __future__ import annotations

import numpy as np

from neuroflow.benchmarks.harness import Workload


def _mlp_weights(sizes, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        layers.append((rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                       np.zeros(fan_out, np.float32)))
    return layers


def _nf_mlp_step(sizes, batch, optimizer, loss, seed=0, train=True):
    import neuroflow as nf
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


def _torch_mlp_step(sizes, batch, optimizer, loss, seed=0, train=True):
    import torch
    rng = np.random.default_rng(seed + 1)
    x = torch.from_numpy(rng.standard_normal((batch, sizes[0])).astype(np.float32))
    if loss == "mse":
        y = torch.from_numpy(rng.standard_normal((batch, sizes[-1])).astype(np.float32))
    else:
        y = torch.from_numpy(rng.integers(0, sizes[-1], batch).astype(np.int64))
    modules = []
    for i, (w, b) in enumerate(_mlp_weights(sizes, seed)):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if i + 2 < len(sizes):
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
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


def _tiny():
    import neuroflow as nf
    import torch
    return {
        "neuroflow": lambda: _nf_mlp_step([2, 16, 1], 4, lambda: nf.optimizers.SGD(0.1), "mse"),
        "pytorch": lambda: _torch_mlp_step([2, 16, 1], 4,
                                           lambda p: torch.optim.SGD(p, lr=0.1), "mse"),
    }


def _mlp():
    import neuroflow as nf
    import torch
    sizes = [784, 256, 256, 10]
    return {
        "neuroflow": lambda: _nf_mlp_step(sizes, 128, lambda: nf.optimizers.Adam(1e-3), "ce"),
        "pytorch": lambda: _torch_mlp_step(sizes, 128, lambda p: torch.optim.Adam(
            p, lr=1e-3, eps=1e-7), "ce"),
    }


def _infer_b1():
    sizes = [784, 256, 256, 10]
    return {
        "neuroflow": lambda: _nf_mlp_step(sizes, 1, lambda: None, "ce", train=False),
        "pytorch": lambda: _torch_mlp_step(sizes, 1, None, "ce", train=False),
    }


WORKLOADS = {
    "tiny": ("2-16-1 MLP, batch 4, SGD, MSE: per-op framework overhead", _tiny),
    "infer_b1": ("784-256-256-10 MLP inference, batch 1: latency", _infer_b1),
    "mlp": ("784-256-256-10 ReLU MLP, batch 128, Adam, softmax cross-entropy", _mlp),
}


def get(name: str) -> Workload:
    description, builders = WORKLOADS[name]
    return Workload(name, description, builders())
