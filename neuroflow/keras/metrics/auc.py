"""``keras.metrics.AUC``: area under the ROC or precision-recall curve, approximated by a
Riemann sum over confusion counts kept at ``num_thresholds`` thresholds."""
from __future__ import annotations

import numpy as np

from neuroflow.core.op import convert_to_tensor
from neuroflow.keras.losses.loss import EPSILON
from neuroflow.keras.metrics.confusion_metrics import COUNTS, confusion_counts
from neuroflow.keras.metrics.metric import Metric, divide_no_nan, read
from neuroflow.ops.math import (
    add,
    divide,
    greater,
    log,
    logical_and,
    maximum,
    minimum,
    multiply,
    sigmoid,
    subtract,
    where,
)
from neuroflow.ops.reduce import reduce_mean, reduce_sum

CURVES = ("ROC", "PR")
SUMMATION_METHODS = ("interpolation", "minoring", "majoring")


def _evenly_spaced(thresholds) -> bool:
    """True when thresholds (with 0 and 1 added) are evenly spaced, as Keras's defaults."""
    steps = np.diff(np.asarray(thresholds, dtype=np.float64))
    return bool(steps.size) and bool(np.allclose(steps, steps[0], rtol=0, atol=1e-6))


class AUC(Metric):
    """Area under the ROC curve (``curve="ROC"``) or the precision-recall curve ("PR").

    The default "interpolation" summation uses trapezoids for ROC and the interpolation of
    Davis & Goadrich (2006) for PR; "minoring" / "majoring" use the lower / upper of each
    interval's two heights. With ``multi_label`` each label (column) gets its own curve and
    the AUCs are averaged (weighted by ``label_weights``); otherwise all entries are
    flattened into one binary problem.

    >>> m = keras.metrics.AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9]); float(m.result())
    0.75
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name, dtype)
        if str(curve).upper() not in CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             f'{list(CURVES)}')
        if str(summation_method).lower() not in SUMMATION_METHODS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             f'Expected values are {list(SUMMATION_METHODS)}')
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        if thresholds is not None:
            inner = sorted(float(t) for t in np.atleast_1d(thresholds))
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = _evenly_spaced([0.0] + inner + [1.0])
        else:
            if int(num_thresholds) <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            from neuroflow.keras.saving import budget  # a file's config: refuse 10**9 first
            budget.check(5 * self.num_thresholds, f"AUC '{self.name}' with its thresholds")
            inner = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        # the end thresholds sit just outside [0, 1], so scores of exactly 0 or 1 count
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=np.float64)
            if np.any(label_weights < 0):
                raise ValueError("All values of `label_weights` must be non-negative. "
                                 f"Received: label_weights={label_weights.tolist()}")
        self.label_weights = label_weights
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self._from_logits = bool(from_logits)
        self._built = False
        if not self.multi_label:
            self._build(None)
        elif num_labels is not None:
            self._build(int(num_labels))

    @property
    def thresholds(self):
        return self._thresholds.tolist()

    def _build(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds,
                                                                  num_labels)
        for count in COUNTS:
            setattr(self, count, self.add_variable(shape, name=count))
        self.num_labels = num_labels
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = convert_to_tensor(y_pred)
        if not self._built:
            labels = y_pred.shape[-1] if y_pred.shape.rank else None
            if labels is None:
                raise ValueError("AUC(multi_label=True) needs predictions with a known last "
                                 f"dimension or num_labels=; got shape {tuple(y_pred.shape)}")
            self._build(int(labels))
        if self._from_logits:
            y_pred = sigmoid(y_pred)
        counts = confusion_counts(y_true, y_pred, self._thresholds, sample_weight,
                                  multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights,
                                  dtype=self.dtype)
        for count in COUNTS:
            getattr(self, count).assign_add(counts[count])

    def result(self):
        if not self._built:
            return convert_to_tensor(np.zeros((), np.dtype(self.dtype)))
        tp, fp = read(self.true_positives), read(self.false_positives)
        tn, fn = read(self.true_negatives), read(self.false_negatives)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average(self._interpolated_pr(tp, fp, fn))
        recall = divide_no_nan(tp, add(tp, fn))
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, add(fp, tn)), recall
        else:
            x, y = recall, divide_no_nan(tp, add(tp, fp))
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = divide(add(y[:n - 1], y[1:]), 2.0)
        elif self.summation_method == "minoring":
            heights = minimum(y[:n - 1], y[1:])
        else:
            heights = maximum(y[:n - 1], y[1:])
        return self._average(multiply(subtract(x[:n - 1], x[1:]), heights))

    def _interpolated_pr(self, tp, fp, fn):
        """Per-interval PR areas, precision interpolated between thresholds as
        tp / (tp + fp) along a straight line in (tp, tp + fp) (Davis & Goadrich)."""
        n = self.num_thresholds
        dtp = subtract(tp[:n - 1], tp[1:])
        p = add(tp, fp)
        dp = subtract(p[:n - 1], p[1:])
        slope = divide_no_nan(dtp, maximum(dp, 0.0))
        intercept = subtract(tp[1:], multiply(slope, p[1:]))
        both_positive = logical_and(greater(p[:n - 1], 0.0), greater(p[1:], 0.0))
        ratio = where(both_positive, divide_no_nan(p[:n - 1], maximum(p[1:], 0.0)), 1.0)
        numerator = multiply(slope, add(dtp, multiply(intercept, log(ratio))))
        return divide_no_nan(numerator, maximum(add(tp[1:], fn[1:]), 0.0))

    def _average(self, terms):
        if not self.multi_label:
            return reduce_sum(terms)
        by_label = reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return reduce_mean(by_label)
        weights = convert_to_tensor(self.label_weights.astype(np.dtype(self.dtype)))
        return divide_no_nan(reduce_sum(multiply(by_label, weights)), reduce_sum(weights))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None
                  else self.label_weights.tolist(),
                  "from_logits": self._from_logits}
        if not self._thresholds_distributed_evenly:
            config["thresholds"] = self.thresholds[1:-1]
        return config
