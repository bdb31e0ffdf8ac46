"""What ``BackupAndRestore`` backs up: a model's whole training state as files, and back.

A backup folder holds ``model.safetensors`` (the weights, loadable with ``load_weights``),
``optimizer.safetensors`` (the optimizer's variables, iteration count included),
``metrics.safetensors`` (the metric totals of an epoch interrupted midway) and ``state.json``:
the position (the next batch to train: epoch, batch), ``fit``'s shuffler state at the start of
that epoch, and every random state (Python's ``random``, NumPy's global generator,
neuroflow's seed streams).
"""
from __future__ import annotations

import json
import random
import warnings

import numpy as np

FORMAT = 2
WEIGHTS = "model.safetensors"
OPTIMIZER = "optimizer.safetensors"
METRICS = "metrics.safetensors"
STATE = "state.json"


# -- random state ---------------------------------------------------------------------------
def get_rng_state() -> dict:
    """Python's, NumPy's global and neuroflow's random state, as JSON-ready data."""
    from neuroflow.ops import random_seed
    version, words, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    return {"python": [version, list(words), gauss],
            "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
            "neuroflow": random_seed.get_state()}


def set_rng_state(state: dict) -> None:
    from neuroflow.ops import random_seed
    version, words, gauss = state["python"]
    random.setstate((version, tuple(words), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, np.uint32), pos, has_gauss, cached))
    random_seed.set_state(state["neuroflow"])


# -- backing up -----------------------------------------------------------------------------
def _all_finite(arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays if a.dtype.kind in "fc")


def capture(model, epoch: int, step: int, batches_state) -> dict | None:
    """The files of a backup (name -> bytes), or None when a weight or an optimizer variable
    is NaN or infinite (a diverged run is not backed up)."""
    from neuroflow.keras.saving import compile_config, weights_io
    variables = weights_io.ordered_variables(model)
    arrays = [v.numpy() for v in variables]
    optimizer_variables = compile_config.optimizer_variables(model)
    optimizer_arrays = [v.numpy() for v in optimizer_variables]
    if not (_all_finite(arrays) and _all_finite(optimizer_arrays)):
        return None
    files = {WEIGHTS: weights_io.encode(weights_io.variable_keys(variables), arrays,
                                        {"model_name": model.name})}
    if optimizer_variables:
        files[OPTIMIZER] = weights_io.encode(weights_io.variable_keys(optimizer_variables),
                                             optimizer_arrays)
    metrics = list(getattr(model, "metrics", None) or []) if step else []
    keys, values = [], []
    for i, metric in enumerate(metrics):
        for j, variable in enumerate(metric.variables):
            keys.append(f"{i}/{j}")
            values.append(variable.numpy())
    if keys:
        files[METRICS] = weights_io.encode(keys, values)
    state = {"format": FORMAT, "epoch": int(epoch), "step": int(step),
             "batches": batches_state, "rng": get_rng_state(),
             "metrics": [[m.name, len(m.variables)] for m in metrics]}
    files[STATE] = json.dumps(state).encode()
    return files


# -- restoring ------------------------------------------------------------------------------
def restore(model, files: dict, folder: str) -> dict:
    """Assigns the weights and optimizer variables of checked backup ``files`` and returns
    the saved state (its metric totals under ``"metric_arrays"``, for ``restore_metrics``).
    Everything is checked before anything is assigned."""
    import os

    from neuroflow.core.context import name_scope
    from neuroflow.keras.saving import weights_io
    state = json.loads(files[STATE])
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"'{os.path.join(folder, STATE)}' is not a backup state of format "
                         f"{FORMAT}")
    where = os.path.join(folder, WEIGHTS)
    keys, arrays, _ = weights_io.decode(files[WEIGHTS], where)
    optimizer = getattr(model, "optimizer", None)
    optimizer_arrays = None
    if OPTIMIZER in files and optimizer is not None:
        opt_where = os.path.join(folder, OPTIMIZER)
        _, optimizer_arrays, _ = weights_io.decode(files[OPTIMIZER], opt_where)
        if not optimizer.built:
            with name_scope(optimizer.name):
                optimizer.build(model.trainable_variables)
            optimizer.built = True
        wanted = [tuple(v.shape) for v in optimizer.variables]
        found = [tuple(a.shape) for a in optimizer_arrays]
        if wanted != found:
            raise ValueError(f"'{opt_where}': the saved optimizer state (variables of shapes "
                             f"{found}) does not fit optimizer '{optimizer.name}' (shapes "
                             f"{wanted}): was the model or its optimizer changed?")
    if METRICS in files:
        _, state["metric_arrays"], _ = weights_io.decode(files[METRICS],
                                                         os.path.join(folder, METRICS))
    weights_io.assign(weights_io.ordered_variables(model), keys, arrays, where,
                      f"model '{model.name}'")
    if optimizer_arrays is not None:
        for variable, array in zip(optimizer.variables, optimizer_arrays):
            variable.assign(array.astype(variable.dtype.np_dtype, copy=False))
    return state


def restore_metrics(model, state: dict) -> None:
    """Gives the metrics the totals they had when an epoch was interrupted midway."""
    saved = state.get("metrics") or []
    arrays = iter(state.get("metric_arrays") or [])
    metrics = list(getattr(model, "metrics", None) or [])
    if len(metrics) < len(saved):
        _build_compiled_metrics(model)
        metrics = list(getattr(model, "metrics", None) or [])
    pairs = []
    for (name, count), metric in zip(saved, metrics):
        values = [next(arrays, None) for _ in range(count)]
        if metric.name != name or len(metric.variables) != count or any(
                a is None or tuple(a.shape) != tuple(v.shape)
                for a, v in zip(values, metric.variables)):
            break
        pairs.extend(zip(metric.variables, values))
    else:
        if len(metrics) >= len(saved):
            for variable, value in pairs:
                variable.assign(value)
            return
    warnings.warn("BackupAndRestore: the metrics of the interrupted epoch could not be "
                  "restored (the model's metrics differ from the backup's); this epoch's "
                  "logged metrics cover only the batches after the restart.", stacklevel=3)


def _build_compiled_metrics(model):
    """Compiled metrics are made at the first training step; a restart restores their totals
    before it, so they are made here, from a sample shaped like the training data."""
    compiled = getattr(model, "compiled_metrics", None)
    if compiled is None or compiled.metrics is not None:
        return
    x, y = _sample(getattr(model, "_fit_batches", None))
    if x is None or y is None:
        return
    from neuroflow.keras.models.trainer import _as_tensors
    x, y, _ = _as_tensors((x, y, None))
    compiled.build(y, model(x, training=False))


def _sample(batches):
    """One training sample: the first of the arrays, or zeros shaped as a dataset's."""
    from neuroflow.keras.models.data_adapter import take
    from neuroflow.util import nest
    x, y = getattr(batches, "x", None), getattr(batches, "y", None)
    if x is not None:
        return take(x, slice(0, 1)), None if y is None else take(y, slice(0, 1))
    spec = getattr(getattr(batches, "dataset", None), "element_spec", None)
    if not isinstance(spec, tuple) or len(spec) < 2:
        return None, None

    def zeros(s):
        return np.zeros([1 if d is None else d for d in s.shape], s.dtype.np_dtype)
    return nest.map_structure(zeros, spec[0]), nest.map_structure(zeros, spec[1])
