"""A functional model's graph as a config: layers, the calls feeding each one, and back.

Each layer entry carries ``inbound_nodes``: one ``{"args", "kwargs"}`` per call of the layer
inside the model, where a functional tensor is written as
``{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, index]}}``
(the layer that produced it, which of its calls, which of that call's outputs).
Model inputs and outputs are references ``[layer, node, index]`` in their structure.
"""
from __future__ import annotations

import collections

import numpy as np

from neuroflow.keras.saving.layer_config import deserialize_layer, serialize_layer
from neuroflow.util import nest

_TENSOR = "__keras_tensor__"


def _is_ref(value) -> bool:
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:]))


def functional_config(model) -> dict:
    """The config of a functional ``Model(inputs, outputs)``."""
    from neuroflow.keras.models.functional import InputLayer
    layers = model.layers
    names = {}
    for layer in layers:
        if layer.name in names and names[layer.name] is not layer:
            raise ValueError(f"Cannot save model '{model.name}': two of its layers are named "
                             f"'{layer.name}'. Layer names must be unique within a model.")
        names[layer.name] = layer
    node_index, calls = {}, {}
    for node in model._nodes:
        calls.setdefault(id(node.layer), []).append(node)
        node_index[id(node)] = len(calls[id(node.layer)]) - 1

    def ref(tensor):
        layer, node, index = tensor._keras_history
        if isinstance(layer, InputLayer):
            return [layer.name, 0, index]
        if id(node) not in node_index:
            raise ValueError(f"Cannot save model '{model.name}': the tensor {tensor.name!r} "
                             f"comes from a call of layer '{layer.name}' outside the model "
                             "(rebuild the model from keras.Input tensors).")
        return [layer.name, node_index[id(node)], index]

    def encode(value, where):
        if _is_keras_tensor(value):
            return {"class_name": _TENSOR, "config": {
                "shape": None if value.shape.rank is None else list(value.shape),
                "dtype": value.dtype.name, "keras_history": ref(value)}}
        if isinstance(value, dict):
            return {str(k): encode(v, where) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v, where) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ValueError(f"Cannot save model '{model.name}': layer '{where}' was called with "
                         f"an argument of type {type(value).__name__}, which a config cannot "
                         "hold (only tensors and plain Python values).")

    for t in nest.flatten(model._functional_inputs):
        if not isinstance(t._keras_history[0], InputLayer):
            raise ValueError(f"Cannot save model '{model.name}': its input {t.name!r} is not a "
                             "keras.Input tensor. Rebuild it from keras.Input to save it.")
    entries = []
    for layer in layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": encode(list(node.args), layer.name),
             "kwargs": encode(dict(node.kwargs), layer.name)}
            for node in calls.get(id(layer), [])]
        entries.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": nest.map_structure(ref, model._functional_inputs),
            "output_layers": nest.map_structure(ref, model._functional_outputs)}


def _is_keras_tensor(x) -> bool:
    from neuroflow.core.tensor import SymbolicTensor
    return isinstance(x, SymbolicTensor) and x._keras_history is not None


class _NotReady(Exception):
    """A call's input is produced by a call that has not been replayed yet: ``args[0]`` is
    that call, ``(layer name, call index)``."""


def functional_from_config(cls, config, custom_objects=None):
    """Recreates the layers, replays their calls in dependency order, returns the model."""
    from neuroflow.keras.models.functional import InputLayer
    from neuroflow.keras.models.model import Model
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError("The functional config has no 'layers' list.")
    layers, queues, created, counts = {}, [], {}, {}
    for entry in entries:
        layer = deserialize_layer(entry, custom_objects)
        name = entry.get("name", layer.name) if isinstance(entry, dict) else layer.name
        if name in layers:
            raise ValueError(f"The config holds two layers named '{name}'.")
        layers[name] = layer
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f"Layer '{name}': 'inbound_nodes' must be a list.")
        if isinstance(layer, InputLayer):
            created[(name, 0)] = [layer.output]
            counts[name] = 1
        else:
            queues.append((name, layer, list(nodes)))
            counts[name] = 0

    def lookup(history, strict):
        if not _is_ref(history):
            raise ValueError(f"Malformed tensor reference {history!r:.80} in the config.")
        name, node, index = history
        if name not in layers:
            raise ValueError(f"The config refers to a layer '{name}' that it does not define.")
        outputs = created.get((name, node))
        if outputs is None:
            if strict:
                raise ValueError(f"The config refers to call {node} of layer '{name}', which "
                                 "the config never makes.")
            raise _NotReady((name, node))
        if not 0 <= index < len(outputs):
            raise ValueError(f"The config refers to output {index} of layer '{name}', which "
                             f"has {len(outputs)} output(s).")
        return outputs[index]

    def decode(value, strict=False):
        if isinstance(value, dict):
            if value.get("class_name") == _TENSOR:
                return lookup((value.get("config") or {}).get("keras_history"), strict)
            return {k: decode(v, strict) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v, strict) for v in value]
        return value

    # each call is replayed once its inputs exist: a call that waits is tried again only when
    # the call it waits for has run (passes over every layer would be quadratic in the depth)
    pending, waiting = collections.deque(range(len(queues))), collections.defaultdict(list)
    while pending:
        i = pending.popleft()
        name, layer, queue = queues[i]
        while queue:
            node = queue[0]
            if not isinstance(node, dict):
                raise ValueError(f"Layer '{name}': malformed call entry {node!r:.80}.")
            try:
                args = decode(node.get("args") or [])
                kwargs = decode(node.get("kwargs") or {})
            except _NotReady as missing:
                waiting[missing.args[0]].append(i)
                break
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ValueError(f"Layer '{name}': a call needs an 'args' list and a "
                                 "'kwargs' object.")
            outputs = layer(*args, **kwargs)
            created[(name, counts[name])] = nest.flatten(outputs)
            pending.extend(waiting.pop((name, counts[name]), ()))
            counts[name] += 1
            queue.pop(0)
    stuck = next((n for n, _, q in queues if q), None)
    if stuck is not None:
        raise ValueError(f"The layer graph in the config cannot be rebuilt: the calls of "
                         f"layer '{stuck}' wait for tensors that no call produces (a "
                         "cycle or a missing layer).")

    inputs = _decode_refs(config.get("input_layers"), lambda r: lookup(r, True), "input")
    outputs = _decode_refs(config.get("output_layers"), lambda r: lookup(r, True), "output")
    name, trainable = config.get("name"), config.get("trainable", True)
    if cls is None or cls is Model:
        return Model(inputs=inputs, outputs=outputs, name=name, trainable=trainable)
    model = cls(inputs=inputs, outputs=outputs, name=name)
    if not trainable:
        model.trainable = False
    return model


def _decode_refs(structure, lookup, what):
    if _is_ref(structure):
        return lookup(structure)
    if isinstance(structure, list) and structure:
        return [_decode_refs(s, lookup, what) for s in structure]
    if isinstance(structure, dict) and structure:
        return {k: _decode_refs(v, lookup, what) for k, v in structure.items()}
    raise ValueError(f"The config's {what}_layers is missing or malformed "
                     f"({structure!r:.80}).")
