"""What ``compile`` builds: the loss over all outputs and the metrics per output."""
from __future__ import annotations

from neuroflow.keras import losses as losses_module
from neuroflow.keras import metrics as metrics_module
from neuroflow.keras.metrics import accuracy_metrics as acc
from neuroflow.util import nest


def _per_output(spec, names, what):
    """Maps a loss/metric spec onto the model's outputs: one for all, a list, or a dict."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"{what} given for unknown output(s) {sorted(unknown)}; the "
                             f"model's outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1 and not (
            what.endswith("metrics") and not any(isinstance(s, (list, tuple, dict))
                                                 for s in spec)):
        if len(spec) != len(names):
            raise ValueError(f"{what} has {len(spec)} entries for {len(names)} outputs")
        return list(spec)
    return [spec] * len(names)


class CompileLoss:
    """The weighted sum of each output's loss (plus nothing else: regularization is added by
    the train step)."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.output_names = output_names or ["output"]
        self.losses = [losses_module.get(s) if s is not None else None
                       for s in _per_output(loss, self.output_names, "loss")]
        weights = loss_weights
        if weights is None:
            weights = [1.0] * len(self.output_names)
        elif isinstance(weights, dict):
            weights = [weights.get(n, 1.0) for n in self.output_names]
        elif not isinstance(weights, (list, tuple)):
            weights = [weights] * len(self.output_names)
        self.weights = list(weights)

    def __call__(self, y_true, y_pred, sample_weight=None):
        trues = _flatten_targets(y_true, len(self.output_names), self.output_names)
        preds = nest.flatten(y_pred)
        total = None
        for loss, weight, t, p in zip(self.losses, self.weights, trues, preds):
            if loss is None or t is None:
                continue
            value = loss(t, p, sample_weight)
            if weight != 1.0:
                value = value * weight
            total = value if total is None else total + value
        if total is None:
            raise ValueError("No loss to compute: compile(loss=...) was not given, or no "
                             "targets match the model's outputs.")
        return total


def _flatten_targets(y, n, names):
    if isinstance(y, dict):
        return [y.get(name) for name in names]
    if n == 1:
        return [y]
    return list(y)


def _resolve_accuracy(name, loss, y_true, y_pred):
    """'accuracy' means sparse, categorical or binary accuracy depending on the problem."""
    loss_name = getattr(loss, "name", "") or ""
    if "sparse_categorical" in loss_name:
        fn = acc.sparse_categorical_accuracy
    elif "categorical" in loss_name:
        fn = acc.categorical_accuracy
    elif "binary" in loss_name:
        fn = acc.binary_accuracy
    else:
        t_rank, p_rank = y_true.shape.rank, y_pred.shape.rank
        last = y_pred.shape[-1] if p_rank else None
        if last == 1:
            fn = acc.binary_accuracy
        elif t_rank is not None and p_rank is not None and (
                t_rank < p_rank or (t_rank == p_rank and y_true.shape[-1] == 1)):
            fn = acc.sparse_categorical_accuracy
        else:
            fn = acc.categorical_accuracy
    return metrics_module.MeanMetricWrapper(fn, name=name)


class CompileMetrics:
    """The metrics of each output, created from strings on the first update. As in Keras 3,
    sample weights apply to ``weighted_metrics`` only, not to ``metrics``."""

    def __init__(self, metrics, output_names, compile_loss, weighted_metrics=None):
        self.output_names = output_names
        self.specs = _per_output(metrics or [], output_names, "metrics")
        self.weighted_specs = _per_output(weighted_metrics or [], output_names,
                                          "weighted_metrics")
        self.compile_loss = compile_loss
        self.metrics = None  # per output: [(metric, weighted), ...]

    def _make(self, m, i, trues, preds, taken):
        multi = len(self.output_names) > 1
        if isinstance(m, str):
            name = f"{self.output_names[i]}_{m}" if multi else m
            name = f"weighted_{name}" if name in taken else name
            if m in ("accuracy", "acc"):
                return _resolve_accuracy(name, self.compile_loss.losses[i], trues[i], preds[i])
            metric = metrics_module.get(m)
            metric.name = name
            return metric
        return metrics_module.get(m)

    def build(self, y_true, y_pred):
        trues = _flatten_targets(y_true, len(self.output_names), self.output_names)
        preds = nest.flatten(y_pred)
        self.metrics = []
        taken = set()
        for i, (spec, weighted_spec) in enumerate(zip(self.specs, self.weighted_specs)):
            row = []
            for weighted, group in ((False, spec), (True, weighted_spec)):
                for m in nest.flatten(group) if group is not None else []:
                    metric = self._make(m, i, trues, preds, taken)
                    taken.add(metric.name)
                    row.append((metric, weighted))
            self.metrics.append(row)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.metrics is None:
            self.build(y_true, y_pred)
        trues = _flatten_targets(y_true, len(self.output_names), self.output_names)
        preds = nest.flatten(y_pred)
        for row, t, p in zip(self.metrics, trues, preds):
            for metric, weighted in row:
                if t is not None:
                    metric.update_state(t, p, sample_weight if weighted else None)

    @property
    def flat(self):
        return [m for row in (self.metrics or []) for m, _ in row]
