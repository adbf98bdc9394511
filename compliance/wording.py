"""Metric names in words, shared by the policy checks and the report (no heavy imports)."""

from __future__ import annotations

import math

METRIC_WORDS = {
    "count": "group size",
    "selection_rate": "selection rate",
    "true_positive_rate": "true positive rate",
    "false_positive_rate": "false positive rate",
    "true_negative_rate": "true negative rate",
    "false_negative_rate": "false negative rate",
    "precision": "precision",
    "negative_predictive_value": "negative predictive value",
    "false_discovery_rate": "false discovery rate",
    "false_omission_rate": "false omission rate",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "roc_auc": "ROC AUC",
    "brier_score": "Brier score",
    "expected_calibration_error": "expected calibration error",
    "mean_absolute_error": "mean absolute error",
    "root_mean_squared_error": "root mean squared error",
    "mean_prediction": "mean prediction",
    "scoring_rate": "scoring rate (share scored above the median)",
    "error_rate": "error rate",
}

# The rates computed from confusion counts, in fairlearn's names and the engine's order.
RATE_METRICS = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "precision",
    "negative_predictive_value",
    "false_discovery_rate",
    "false_omission_rate",
    "accuracy",
    "balanced_accuracy",
)

# Metrics that are proportions, printed as percentages.
PERCENT_METRICS = frozenset({*RATE_METRICS, "error_rate", "scoring_rate"})


def metric_words(name: str) -> str:
    """A metric's name in words: `true_positive_rate` -> `true positive rate`."""
    return METRIC_WORDS.get(name, name.replace("_", " "))


def lower_bound_text(x: float, decimals: int = 2) -> str:
    """A lower bound printed rounded down, so that 0.8779 reads 0.87 and 2.998 never reads
    as the 3.00 it may be compared with."""
    scale = 10**decimals
    return f"{math.floor(x * scale + 1e-9) / scale:.{decimals}f}"


def upper_bound_text(x: float, decimals: int = 2) -> str:
    """An upper bound printed rounded up, so that 2.9991 never reads as a 2.99 under 3."""
    scale = 10**decimals
    return f"{math.ceil(x * scale - 1e-9) / scale:.{decimals}f}"


def confidence_pct(value: float) -> str:
    """A confidence level, rounded down to 0.1 so that it never claims more: 0.975 → '97.5%',
    0.95 → '95%', 0.99583 → '99.5%'."""
    tenths = math.floor(round(value * 1000, 6)) / 10
    return f"{tenths:g}%"
