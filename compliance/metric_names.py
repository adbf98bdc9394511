"""Metric names and their properties, without numpy: which cells, which direction serves
a person, which rates form which aggregate and test. Light enough for the gate's import path;
`compliance.metrics` does the arithmetic.
"""

from __future__ import annotations

from compliance.wording import RATE_METRICS

CELLS = ("tn", "fp", "fn", "tp")

COUNT_METRICS = ("count", *RATE_METRICS)
SCORE_METRICS = ("roc_auc", "brier_score", "expected_calibration_error")
REGRESSION_METRICS = (
    "count", "mean_absolute_error", "root_mean_squared_error", "mean_prediction", "scoring_rate"
)  # fmt: skip

# Which direction is better for a person (used to pick the most favoured group).
HIGHER_IS_BETTER = {
    "selection_rate": True,
    "true_positive_rate": True,
    "true_negative_rate": True,
    "precision": True,
    "negative_predictive_value": True,
    "accuracy": True,
    "balanced_accuracy": True,
    "roc_auc": True,
    "false_positive_rate": False,
    "false_negative_rate": False,
    "false_discovery_rate": False,
    "false_omission_rate": False,
    "brier_score": False,
    "expected_calibration_error": False,
    "mean_absolute_error": False,
    "root_mean_squared_error": False,
}

# Metrics of the outcome itself (how often, or how highly, a group is scored), not of its
# errors: higher serves the person better, unless the positive label (or a high score) is
# the unfavourable outcome.
OUTCOME_METRICS = frozenset({"selection_rate", "mean_prediction", "scoring_rate"})


def favourable_direction(metric: str, positive_label_favourable: bool = True) -> bool:
    """True when a higher value of `metric` serves the person better."""
    if metric in OUTCOME_METRICS and not positive_label_favourable:
        return False
    return HIGHER_IS_BETTER.get(metric, True)


# Between-group aggregates (fairlearn's names) and the rates each is built from.
AGGREGATES: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "predictive_parity": ("precision",),
    "accuracy_parity": ("accuracy",),
}

# Proportion metrics as (numerator cells, denominator cells), for significance tests.
PROPORTIONS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "selection_rate": ((1, 3), (0, 1, 2, 3)),
    "true_positive_rate": ((3,), (2, 3)),
    "false_positive_rate": ((1,), (0, 1)),
    "true_negative_rate": ((0,), (0, 1)),
    "false_negative_rate": ((2,), (2, 3)),
    "precision": ((3,), (1, 3)),
    "negative_predictive_value": ((0,), (0, 2)),
    "false_discovery_rate": ((1,), (1, 3)),
    "false_omission_rate": ((2,), (0, 2)),
    "accuracy": ((0, 3), (0, 1, 2, 3)),
    "error_rate": ((1, 2), (0, 1, 2, 3)),
}

# Rates that are one minus another on the same rows (TPR and FNR on the actual positives,
# ...): a test that two groups' FNRs are equal is the test that their TPRs are.
SAME_TEST_AS: dict[str, str] = {
    "false_negative_rate": "true_positive_rate",
    "true_negative_rate": "false_positive_rate",
    "false_discovery_rate": "precision",
    "false_omission_rate": "negative_predictive_value",
    "error_rate": "accuracy",
}
