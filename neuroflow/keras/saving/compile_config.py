"""What ``compile`` was given (optimizer, loss, metrics by name or config), and the
optimizer's variables, so a loaded model can go on training where it stopped."""
from __future__ import annotations

import inspect
import warnings

from neuroflow.keras.saving.registry import get_registered_name, get_registered_object


# -- losses and metrics: a name, or a class and its config -----------------------------------
def _serialize_callable(obj, what):
    if obj is None or isinstance(obj, str):
        return obj
    from neuroflow.keras.losses.loss import LossFunctionWrapper
    from neuroflow.keras.metrics.metric import MeanMetricWrapper
    fn = None
    if type(obj) in (LossFunctionWrapper, MeanMetricWrapper):
        fn = getattr(obj, "fn", None) or getattr(obj, "_fn", None)
    elif inspect.isfunction(obj) or inspect.isbuiltin(obj):
        fn = obj
    if fn is not None:
        return getattr(fn, "_registered_name", None) or fn.__name__
    if isinstance(obj, type):
        return get_registered_name(obj)
    if not hasattr(obj, "get_config"):
        raise ValueError(f"Cannot save the {what} {obj!r}: it has no get_config().")
    return {"class_name": get_registered_name(obj), "config": obj.get_config()}


def _serialize_spec(spec, what):
    if isinstance(spec, dict):
        return {str(k): _serialize_spec(v, what) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_serialize_spec(v, what) for v in spec]
    return _serialize_callable(spec, what)


def _deserialize_spec(spec, module, base, what, custom_objects):
    if isinstance(spec, list):
        return [_deserialize_spec(v, module, base, what, custom_objects) for v in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _deserialize_spec(v, module, base, what, custom_objects)
                for k, v in spec.items()}
    if spec is None:
        return None
    if isinstance(spec, str):
        found = get_registered_object(spec, custom_objects)
        return found if found is not None else spec  # a built-in name: compile resolves it
    name = spec.get("class_name")
    cls = get_registered_object(name, custom_objects)
    if cls is None:
        candidate = getattr(module, str(name), None)
        cls = candidate if isinstance(candidate, type) else None
    if cls is None or not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"Unknown {what} class {name!r} in the compile config; register "
                         "it with @keras.saving.register_keras_serializable() or pass "
                         "custom_objects, or load with compile=False.")
    return cls.from_config(dict(spec.get("config") or {}))


def compile_config(model):
    """The arguments ``model.compile`` got, as JSON-able values (None if not compiled)."""
    if not getattr(model, "compiled", False):
        return None
    from neuroflow.keras import optimizers
    specs = model.compiled_metrics.specs if model.compiled_metrics is not None else []
    names = model.compiled_metrics.output_names if specs else []
    # one output: the list compile got; several: by output name (compile keeps dicts as is)
    metrics = specs[0] if len(specs) == 1 else {n: s for n, s in zip(names, specs) if s}
    loss_weights = model.compiled_loss.weights if model.compiled_loss is not None else None
    if loss_weights is not None and all(w == 1.0 for w in loss_weights):
        loss_weights = None
    return {"optimizer": optimizers.serialize(model.optimizer) if model.optimizer else None,
            "loss": _serialize_spec(model.loss, "loss"),
            "metrics": _serialize_spec(metrics, "metric") if metrics else None,
            "loss_weights": None if loss_weights is None else [float(w) for w in loss_weights],
            "run_eagerly": bool(model.run_eagerly)}


def compile_from_config(model, config, custom_objects=None) -> None:
    """Compiles ``model`` as ``compile_config`` recorded."""
    from neuroflow.keras import losses, metrics, optimizers
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict):
        custom = dict(custom_objects or {})
        found = get_registered_object(optimizer.get("class_name"), custom_objects)
        if found is not None:
            custom[optimizer["class_name"]] = found
        optimizer = optimizers.deserialize(optimizer, custom_objects=custom)
    loss = _deserialize_spec(config.get("loss"), losses, losses.Loss, "loss", custom_objects)
    metric_specs = _deserialize_spec(config.get("metrics"), metrics, metrics.Metric, "metric",
                                     custom_objects)
    model.compile(optimizer=optimizer or "rmsprop", loss=loss, metrics=metric_specs,
                  loss_weights=config.get("loss_weights"),
                  run_eagerly=bool(config.get("run_eagerly", False)))


# -- optimizer variables ---------------------------------------------------------------------
def optimizer_variables(model):
    """The optimizer's variables when it has been built (trained), else an empty list."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "built", False):
        return []
    return list(optimizer.variables)


def restore_optimizer(model, keys, arrays, where) -> None:
    """Builds the compiled model's optimizer on its trainable variables and sets its state."""
    from neuroflow.core.context import name_scope
    optimizer = model.optimizer
    if not optimizer.built:
        with name_scope(optimizer.name):
            optimizer.build(model.trainable_variables)
        optimizer.built = True
    variables = list(optimizer.variables)
    if len(variables) != len(arrays) or any(
            tuple(v.shape) != a.shape for v, a in zip(variables, arrays)):
        warnings.warn(f"'{where}': skipping the optimizer's variables: the saved optimizer has "
                      f"{len(arrays)} variables that do not fit the {len(variables)} of "
                      f"optimizer '{optimizer.name}'; it starts afresh.", stacklevel=3)
        return
    for variable, array in zip(variables, arrays):
        variable.assign(array.astype(variable.dtype.np_dtype, copy=False))


__all__ = ["compile_config", "compile_from_config", "optimizer_variables", "restore_optimizer"]
