"""Pure maths: fairness metrics from confusion counts and score sufficient statistics.

Counts are arrays whose last axis holds the four confusion cells in the order
CELLS = (tn, fp, fn, tp), i.e. cell index = 2 * y_true + y_pred. Every function works
on any leading shape, so the same code serves point estimates (slices) and bootstrap
draws (draws x slices). Undefined ratios (0/0) are NaN. Names follow fairlearn.
"""

from __future__ import annotations

import numpy as np

from compliance.metric_names import PROPORTIONS


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def count_metrics(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every count-based metric from confusion counts of shape (..., 4)."""
    c = np.asarray(counts, dtype=float)
    tn, fp, fn, tp = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n = tn + fp + fn + tp
    tpr = _div(tp, tp + fn)
    tnr = _div(tn, tn + fp)
    return {
        "count": n,
        "selection_rate": _div(tp + fp, n),
        "true_positive_rate": tpr,
        "false_positive_rate": _div(fp, fp + tn),
        "true_negative_rate": tnr,
        "false_negative_rate": _div(fn, fn + tp),
        "precision": _div(tp, tp + fp),
        "negative_predictive_value": _div(tn, tn + fn),
        "false_discovery_rate": _div(fp, fp + tp),
        "false_omission_rate": _div(fn, fn + tn),
        "accuracy": _div(tp + tn, n),
        "balanced_accuracy": (tpr + tnr) / 2.0,
    }


def proportion(counts: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator counts of a proportion metric."""
    num_cells, den_cells = PROPORTIONS[metric]
    c = np.asarray(counts)
    return c[..., list(num_cells)].sum(axis=-1), c[..., list(den_cells)].sum(axis=-1)


def score_metrics_from_bins(
    hist: np.ndarray, sum_s: np.ndarray, sum_s2: np.ndarray, ece_bin: np.ndarray
) -> dict[str, np.ndarray]:
    """AUC, Brier score and ECE from per-bin statistics.

    `hist`, `sum_s`, `sum_s2` have shape (..., 2, B): label (0 negative, 1 positive)
    by score bin, bins in increasing score order; they hold the count of rows, and the
    sums of score and squared score. `ece_bin` maps each of the B score bins to one of
    the ten equal-width calibration bins. Pairs within one bin count as ties (1/2),
    so the AUC is exact when each bin holds a single score value.
    """
    neg = hist[..., 0, :].astype(float)
    pos = hist[..., 1, :].astype(float)
    n_neg = neg.sum(axis=-1)
    n_pos = pos.sum(axis=-1)
    neg_below = np.cumsum(neg, axis=-1) - neg
    u = (pos * (neg_below + 0.5 * neg)).sum(axis=-1)
    auc = _div(u, n_pos * n_neg)
    n = n_neg + n_pos
    ss = sum_s.astype(float)
    brier = _div(sum_s2.sum(axis=(-2, -1)) - 2.0 * ss[..., 1, :].sum(axis=-1) + n_pos, n)
    # ECE: sum over the 10 calibration bins of |sum(s) - sum(y)| / n
    n_cal = int(ece_bin.max()) + 1 if ece_bin.size else 0
    onehot = np.zeros((ece_bin.size, n_cal))
    onehot[np.arange(ece_bin.size), ece_bin] = 1.0
    s_cal = ss.sum(axis=-2) @ onehot
    y_cal = pos @ onehot
    ece = _div(np.abs(s_cal - y_cal).sum(axis=-1), n)
    return {"roc_auc": auc, "brier_score": brier, "expected_calibration_error": ece}


def regression_metrics(stats: np.ndarray) -> dict[str, np.ndarray]:
    """MAE, RMSE, mean prediction and scoring rate from sums of shape (..., 5):
    n, sum|e|, sum e^2, sum yhat, and how many predictions lie above the overall median.

    The scoring rate is NYC Local Law 144's: the share of a group scored above the median
    score of the whole sample.
    """
    s = np.asarray(stats, dtype=float)
    n = s[..., 0]
    return {
        "count": n,
        "mean_absolute_error": _div(s[..., 1], n),
        "root_mean_squared_error": np.sqrt(_div(s[..., 2], n)),
        "mean_prediction": _div(s[..., 3], n),
        "scoring_rate": _div(s[..., 4], n),
    }
