"""NumPy references for the confusion-matrix metrics (written from Keras's documented
definitions, threshold by threshold, independently of the vectorised implementation)."""
from __future__ import annotations

import numpy as np

EPS = 1e-7


def auc_thresholds(num_thresholds):
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return np.array([-EPS] + inner + [1 + EPS])


def confusion(y_true, y_pred, thresholds, weight=None):
    """tp, fp, tn, fn at each threshold (positive: score > threshold; label != 0)."""
    y_true = np.asarray(y_true, np.float64).reshape(-1) != 0
    y_pred = np.asarray(y_pred, np.float64).reshape(-1)
    weight = np.ones_like(y_pred) if weight is None else np.broadcast_to(
        np.asarray(weight, np.float64).reshape(-1), y_pred.shape)
    rows = []
    for t in thresholds:
        predicted = y_pred > t
        rows.append([np.sum(weight[predicted & y_true]), np.sum(weight[predicted & ~y_true]),
                     np.sum(weight[~predicted & ~y_true]), np.sum(weight[~predicted & y_true])])
    return np.array(rows).T


def _safe_div(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def auc(tp, fp, tn, fn, curve="ROC", summation_method="interpolation"):
    n = len(tp)
    if curve == "PR" and summation_method == "interpolation":
        total = 0.0
        for i in range(n - 1):
            dtp = tp[i] - tp[i + 1]
            p0, p1 = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            dp = p0 - p1
            slope = dtp / dp if dp > 0 else 0.0
            intercept = tp[i + 1] - slope * p1
            ratio = p0 / p1 if p0 > 0 and p1 > 0 else 1.0
            denominator = tp[i + 1] + fn[i + 1]
            if denominator > 0:
                total += slope * (dtp + intercept * np.log(ratio)) / denominator
        return total
    recall = _safe_div(tp, tp + fn)
    if curve == "ROC":
        x, y = _safe_div(fp, fp + tn), recall
    else:
        x, y = recall, _safe_div(tp, tp + fp)
    total = 0.0
    for i in range(n - 1):
        if summation_method == "interpolation":
            height = (y[i] + y[i + 1]) / 2
        elif summation_method == "minoring":
            height = min(y[i], y[i + 1])
        else:
            height = max(y[i], y[i + 1])
        total += (x[i] - x[i + 1]) * height
    return total
