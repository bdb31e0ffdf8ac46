"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts."""
from __future__ import annotations

import math
import re

from neuroflow.util import nest

_NOT_BUILT = ("This model has not yet been built. Build the model first by calling `build()` "
              "or by calling the model on a batch of data (model '{name}').")


def readable_memory_size(size: float) -> str:
    """Bytes as Keras prints them: ``397.54 KB`` (powers of 1024, two decimals)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _count_and_size(variables):
    unique = {id(v): v for v in variables}.values()
    count = sum(math.prod(int(d) for d in v.shape) for v in unique)
    size = sum(math.prod(int(d) for d in v.shape) * v.dtype.np_dtype.itemsize for v in unique)
    return count, size


def _shape_text(shapes) -> str:
    def one(shape):
        return "?" if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"
    if isinstance(shapes, list) and shapes and not isinstance(shapes[0], (int, type(None))):
        flat = [one(s) for s in shapes]
        return flat[0] if len(flat) == 1 else "[" + ", ".join(flat) + "]"
    return one(shapes)


class _Graph:
    """Per-layer calls of a functional model, for output shapes and 'Connected to'."""

    def __init__(self, model):
        self.calls, self.index = {}, {}
        for node in model._nodes or []:
            self.calls.setdefault(id(node.layer), []).append(node)
            self.index[id(node)] = len(self.calls[id(node.layer)]) - 1
        nodes = model._nodes or []
        inputs = nest.flatten(model._functional_inputs)
        chain = len(inputs) == 1 and len(nest.flatten(model._functional_outputs)) == 1
        previous = inputs[0] if inputs else None
        for node in nodes:
            tensors = node.input_tensors
            outputs = nest.flatten(node.outputs)
            if len(tensors) != 1 or tensors[0] is not previous or len(outputs) != 1 or \
                    len(self.calls[id(node.layer)]) > 1:
                chain = False
                break
            previous = outputs[0]
        self.sequential_like = chain

    def output_shape(self, layer):
        from neuroflow.keras.models.functional import InputLayer
        if isinstance(layer, InputLayer):
            return tuple(layer.batch_shape)
        calls = self.calls.get(id(layer))
        if not calls:
            return _own_shape(layer)
        shapes = [tuple(t.shape) if t.shape.rank is not None else None
                  for t in nest.flatten(calls[-1].outputs)]
        return shapes[0] if len(shapes) == 1 else shapes

    def connections(self, layer) -> str:
        found = []
        for node in self.calls.get(id(layer), []):
            for tensor in node.input_tensors:
                source, source_node, index = tensor._keras_history
                number = self.index.get(id(source_node), 0)
                found.append(f"{source.name}[{number}][{index}]")
        return ", ".join(found) or "-"


def _own_shape(layer):
    try:
        return layer.output_shape
    except AttributeError:
        return None


def _layer_range(layers, layer_range):
    if layer_range is None:
        return layers
    if len(layer_range) != 2 or not all(isinstance(n, str) for n in layer_range):
        raise ValueError(f"layer_range must be a list or tuple of two layer names (regexes). "
                         f"Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    start, stop = min(lower), max(upper) + 1
    return layers[min(start, stop - 1):max(stop, start + 1)]


def _wrap(text, width):
    if len(text) <= width:
        return [text]
    lines, line = [], ""
    for part in re.split(r"(?<=, )", text):
        while len(part) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(part[:width])
            part = part[width:]
        if len(line) + len(part) > width:
            lines.append(line.rstrip())
            line = ""
        line += part
    if line:
        lines.append(line.rstrip())
    return lines


def _render_table(header, rows, widths, aligns):
    contents = [w - 3 for w in widths]
    contents[-1] -= 1

    def rule(left, fill, mid, right):
        return left + mid.join(fill * (c + 2) for c in contents) + right

    def cells(row, bar):
        wrapped = [_wrap(str(text), c) for text, c in zip(row, contents)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, c, align in zip(wrapped, contents, aligns):
                text = lines[i] if i < len(lines) else ""
                text = (text.rjust(c) if align == "right" else
                        text.center(c) if align == "center" else text.ljust(c))
                parts.append(f" {text} ")
            out.append(bar + bar.join(parts) + bar)
        return out

    lines = [rule("┏", "━", "┳", "┓"), *cells(header, "┃"), rule("┡", "━", "╇", "┩")]
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        lines += cells(row, "│")
    lines.append(rule("└", "─", "┴", "┘"))
    return lines


def summary_text(model, line_length=None, show_trainable=False, positions=None,
                 expand_nested=False, layer_range=None) -> str:
    """The text ``model.summary()`` prints."""
    from neuroflow.keras.models.sequential import Sequential
    if not model.built:
        raise ValueError(_NOT_BUILT.format(name=model.name))
    functional = not isinstance(model, Sequential) and model._nodes is not None
    graph = _Graph(model) if functional else None
    sequential_like = graph is None or graph.sequential_like
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header, aligns = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        aligns.append("center")
    line_length = line_length or default_length
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    widths, current = [], 0
    for position in positions:
        widths.append(int(position) - current)
        current = int(position)
        if widths[-1] < 4:
            raise ValueError("Insufficient console width to print summary.")
    for i, title in enumerate(header):  # a header is never wrapped: widen it from the widest
        short = len(title) + 3 + (i == len(header) - 1) - widths[i]
        widest = max(range(len(widths)), key=widths.__getitem__)
        if short > 0 and widest != i and widths[widest] - short >= len(header[widest]) + 4:
            widths[i] += short
            widths[widest] -= short

    def fields(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        shape = graph.output_shape(layer) if graph is not None and not level else \
            _own_shape(layer)
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape_text(shape), params]
        if not sequential_like:
            row.append(graph.connections(layer) if not level else "")
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows = [row]
        if expand_nested and hasattr(layer, "layers") and not isinstance(layer, _input_layer()):
            for sub in layer.layers:
                rows += fields(sub, level + 1)
        return rows

    rows = [row for layer in _layer_range(list(model.layers), layer_range)
            for row in fields(layer)]
    trainable, trainable_size = _count_and_size(model.trainable_weights)
    frozen, frozen_size = _count_and_size(model.non_trainable_weights)
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    optimizer_count, optimizer_size = (_count_and_size(optimizer.variables)
                                       if optimizer is not None and optimizer.built else (0, 0))
    lines = [f'Model: "{model.name}"', *_render_table(header, rows, widths, aligns)]
    total = trainable + frozen + optimizer_count
    total_size = trainable_size + frozen_size + optimizer_size
    lines.append(f" Total params: {total:,} ({readable_memory_size(total_size)})")
    lines.append(f" Trainable params: {trainable:,} ({readable_memory_size(trainable_size)})")
    lines.append(f" Non-trainable params: {frozen:,} ({readable_memory_size(frozen_size)})")
    if optimizer is not None and optimizer.built:
        lines.append(f" Optimizer params: {optimizer_count:,} "
                     f"({readable_memory_size(optimizer_size)})")
    return "\n".join(lines)


def _input_layer():
    from neuroflow.keras.models.functional import InputLayer
    return InputLayer


def print_summary(model, line_length=None, print_fn=None, show_trainable=False, positions=None,
                  expand_nested=False, layer_range=None) -> None:
    """Prints the summary (or passes its text to ``print_fn``, once, as Keras 3 does).

    >>> model.summary()
    Model: "sequential"
    ...
    """
    text = summary_text(model, line_length, show_trainable, positions, expand_nested,
                        layer_range)
    (print_fn or print)(text)
