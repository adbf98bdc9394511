"""Every per-slice figure agrees with fairlearn's MetricFrame (and scikit-learn) to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    precision_score,
    roc_auc_score,
)

from compliance.fairness import FairnessOptions, assess_fairness


def _npv(y: np.ndarray, p: np.ndarray) -> float:
    return float(((y == 0) & (p == 0)).sum() / (p == 0).sum())


def _fdr(y: np.ndarray, p: np.ndarray) -> float:
    return float(((y == 0) & (p == 1)).sum() / (p == 1).sum())


def _for(y: np.ndarray, p: np.ndarray) -> float:
    return float(((y == 1) & (p == 0)).sum() / (p == 0).sum())


LABEL_METRICS = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "true_negative_rate": true_negative_rate,
    "false_negative_rate": false_negative_rate,
    "precision": lambda y, p: precision_score(y, p, zero_division=np.nan),
    "negative_predictive_value": _npv,
    "false_discovery_rate": _fdr,
    "false_omission_rate": _for,
    "accuracy": accuracy_score,
    "balanced_accuracy": balanced_accuracy_score,
}
SCORE_METRICS = {"roc_auc": roc_auc_score, "brier_score": brier_score_loss}


@pytest.fixture(scope="module")
def section(adult_scored: pd.DataFrame):
    opts = FairnessOptions(depth=2, bootstrap=50, min_slice_size=1)
    return assess_fairness(
        adult_scored["y"].to_numpy(),
        adult_scored["pred"].to_numpy(),
        adult_scored["score"].to_numpy(),
        adult_scored[["sex", "race"]],
        options=opts,
    )


def _ours(section, dims: tuple[str, ...], metric: str) -> dict[tuple[str, ...], float]:
    out = {}
    for s in section.slices:
        if tuple(s.attributes) == dims:
            out[tuple(s.attributes[d] for d in dims)] = s.metrics[metric].value
    return out


@pytest.mark.parametrize("dims", [("sex",), ("race",), ("sex", "race")])
def test_label_metrics_equal_metricframe(adult_scored: pd.DataFrame, section, dims) -> None:
    mf = MetricFrame(
        metrics=LABEL_METRICS,
        y_true=adult_scored["y"],
        y_pred=adult_scored["pred"],
        sensitive_features=adult_scored[list(dims)],
    )
    by_group = mf.by_group
    compared = 0
    for metric in LABEL_METRICS:
        ours = _ours(section, dims, metric)
        assert len(ours) == len(by_group)
        for key, theirs in by_group[metric].items():
            key = key if isinstance(key, tuple) else (key,)
            mine = ours[tuple(str(k) for k in key)]
            if theirs is None or (isinstance(theirs, float) and np.isnan(theirs)):
                assert mine is None
                continue
            assert mine == pytest.approx(float(theirs), abs=1e-9), (metric, key)
            compared += 1
    finite = int(np.isfinite(by_group.to_numpy(dtype=float)).sum())
    assert compared == finite > len(by_group) * 10


@pytest.mark.parametrize("dims", [("sex",), ("race",)])
def test_score_metrics_equal_sklearn(adult_scored: pd.DataFrame, section, dims) -> None:
    mf = MetricFrame(
        metrics=SCORE_METRICS,
        y_true=adult_scored["y"],
        y_pred=adult_scored["score"],
        sensitive_features=adult_scored[list(dims)],
    )
    for metric in SCORE_METRICS:
        ours = _ours(section, dims, metric)
        for key, theirs in mf.by_group[metric].items():
            assert ours[(str(key),)] == pytest.approx(float(theirs), abs=1e-9), (metric, key)
    assert section.overall.metrics["roc_auc"].value == pytest.approx(
        roc_auc_score(adult_scored["y"], adult_scored["score"]), abs=1e-12
    )


def test_ece_matches_a_row_level_computation(adult_scored: pd.DataFrame, section) -> None:
    y = adult_scored["y"].to_numpy()
    s = adult_scored["score"].to_numpy()
    bins = np.clip((s * 10).astype(int), 0, 9)
    ece = sum(abs(s[bins == b].sum() - y[bins == b].sum()) for b in range(10)) / len(y)
    assert section.overall.metrics["expected_calibration_error"].value == pytest.approx(
        ece, abs=1e-9
    )


@pytest.mark.parametrize(
    ("ours_name", "theirs"),
    [
        ("demographic_parity_difference", demographic_parity_difference),
        ("demographic_parity_ratio", demographic_parity_ratio),
        ("equalized_odds_difference", equalized_odds_difference),
        ("equalized_odds_ratio", equalized_odds_ratio),
    ],
)
def test_aggregates_equal_fairlearn(adult_scored: pd.DataFrame, section, ours_name, theirs) -> None:
    for dim in ("sex", "race"):
        agg = next(a for a in section.aggregates if a.name == ours_name and a.dimension == [dim])
        expected = theirs(
            adult_scored["y"], adult_scored["pred"], sensitive_features=adult_scored[dim]
        )
        assert agg.value.value == pytest.approx(expected, abs=1e-9)
        assert agg.value.ci_low <= agg.value.value <= agg.value.ci_high


def test_auc_interval_stays_within_0_and_1_for_a_separated_group() -> None:
    """The bootstrap AUC draws are binned (pairs in one score bin count as ties) and then
    shifted onto the exact AUC. A small group whose scores separate its labels within a
    few bins has exact AUC 1 and a lower binned one: the shift carried the upper bound
    to 1.011 (1.0015 on Adult's race = Other). The bounds stay inside [0, 1]."""
    rng = np.random.default_rng(0)
    n = 3000
    group = np.where(np.arange(n) < 150, "A", "B")
    y = rng.integers(0, 2, n)
    score = rng.random(n)
    a = group == "A"
    score[a] = 0.5 + 0.01 * y[a] + rng.random(int(a.sum())) * 0.01
    sec = assess_fairness(
        y, (score >= 0.5).astype(int), score, pd.DataFrame({"g": group}),
        options=FairnessOptions(depth=1, bootstrap=300, seed=0),
    )  # fmt: skip
    auc = next(s for s in sec.slices if s.attributes == {"g": "A"}).metrics["roc_auc"]
    assert auc.value == pytest.approx(1.0)
    assert auc.ci_low is not None and auc.ci_high is not None
    assert 0.95 < auc.ci_low <= auc.ci_high <= 1.0
