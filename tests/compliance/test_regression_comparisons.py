"""A regression's between-group comparisons against scipy, fairlearn and a bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from compliance.evidence.fairness import Disparity, FairnessSection
from compliance.fairness import FairnessOptions, assess_fairness


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    """Group C of race is scored 0.3 too high with twice the noise; the sexes alike."""
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "race": rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]),
            "y": rng.normal(2.0, 1.0, n),
        }
    )
    c = (frame["race"] == "C").to_numpy()
    frame["yhat"] = frame["y"] + rng.normal(0, 0.5, n) * np.where(c, 2.0, 1.0) + 0.3 * c
    return frame


@pytest.fixture(scope="module")
def section(data: pd.DataFrame) -> FairnessSection:
    return assess_fairness(
        data["y"].to_numpy(),
        data["yhat"].to_numpy(),
        None,
        data[["sex", "race"]],
        options=FairnessOptions(task="regression", target="y", depth=1, bootstrap=0),
    )


def _terms(frame: pd.DataFrame) -> dict[str, pd.Series]:
    err = frame["yhat"] - frame["y"]
    return {
        "mean_absolute_error": err.abs(),
        "root_mean_squared_error": err**2,
        "mean_prediction": frame["yhat"],
    }


def _value(metric: str, term: pd.Series) -> float:
    m = float(term.mean())
    return float(np.sqrt(m)) if metric == "root_mean_squared_error" else m


def _find(section: FairnessSection, metric: str, group: dict[str, str], ref: object) -> Disparity:
    return next(
        d
        for d in section.disparities
        if d.metric == metric and d.slice == group and d.reference == ref
    )


def test_group_comparisons_are_welch_tests_of_the_comparison_shown(
    section: FairnessSection, data: pd.DataFrame
) -> None:
    """Against the reference group: the difference of the two groups' metrics, and the
    p-value of scipy's Welch t-test between them (on squared errors for the RMSE)."""
    compared = 0
    for metric in ("mean_absolute_error", "root_mean_squared_error", "mean_prediction"):
        for d in section.disparities:
            if d.metric != metric or d.dimension != ["race"] or d.reference == "overall":
                continue
            assert isinstance(d.reference, dict)
            group = data[data["race"] == d.slice["race"]]
            ref = data[data["race"] == d.reference["race"]]
            a, b = _terms(group)[metric], _terms(ref)[metric]
            assert d.difference.value == pytest.approx(_value(metric, a) - _value(metric, b))
            assert d.ratio.value == pytest.approx(_value(metric, a) / _value(metric, b))
            assert d.test == "welch"
            assert d.p_value == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue)
            compared += 1
    assert compared == 6  # two races against the third, for each metric
    # group C's errors are larger: every error comparison of it is significant
    for metric in ("mean_absolute_error", "root_mean_squared_error"):
        d = next(
            d
            for d in section.disparities
            if d.metric == metric and d.slice == {"race": "C"} and d.reference != "overall"
        )
        assert d.significant and d.difference.ci_low is not None and d.difference.ci_low > 0


def test_the_best_served_group_has_the_smallest_error(section: FairnessSection) -> None:
    refs = {
        str(d.reference)
        for d in section.disparities
        if d.metric == "mean_absolute_error"
        and d.dimension == ["race"]
        and d.reference != "overall"
    }
    by_race = {
        s.attributes["race"]: s.metrics["mean_absolute_error"].value
        for s in section.slices
        if list(s.attributes) == ["race"]
    }
    best = min(by_race, key=lambda r: by_race[r] or 0.0)
    assert refs == {str({"race": best})}


def test_against_everyone_tests_the_rest_and_bounds_the_gap_to_the_whole(
    section: FairnessSection, data: pd.DataFrame
) -> None:
    """Against everyone: the difference is the group's metric less the whole's; the test
    is the group against the rest; the delta-method interval of that difference is as
    wide as a bootstrap of rows says (within 15%)."""
    metric = "mean_absolute_error"
    d = _find(section, metric, {"race": "C"}, "overall")
    c = (data["race"] == "C").to_numpy()
    err = (data["yhat"] - data["y"]).abs().to_numpy()
    assert d.difference.value == pytest.approx(err[c].mean() - err.mean())
    assert d.p_value == pytest.approx(sps.ttest_ind(err[c], err[~c], equal_var=False).pvalue)
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(600):
        idx = rng.integers(0, len(err), len(err))
        e, cc = err[idx], c[idx]
        boot.append(e[cc].mean() - e.mean())
    half = (d.difference.ci_high or 0.0) - (d.difference.value or 0.0)
    assert half == pytest.approx(1.96 * float(np.std(boot)), rel=0.15)


def test_scoring_rate_uses_the_two_proportion_test(section: FairnessSection) -> None:
    d = next(
        d
        for d in section.disparities
        if d.metric == "scoring_rate" and d.dimension == ["race"] and d.reference != "overall"
    )
    assert d.test in ("z", "fisher") and d.p_value is not None


def test_no_gap_between_the_sexes_is_called_significant(section: FairnessSection) -> None:
    sexes = [d for d in section.disparities if d.dimension == ["sex"]]
    assert len(sexes) >= 8
    assert not any(d.significant for d in sexes)


def test_aggregates_agree_with_fairlearn_between_groups(
    section: FairnessSection, data: pd.DataFrame
) -> None:
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    def rmse(y: np.ndarray, p: np.ndarray) -> float:
        return float(np.sqrt(mean_squared_error(y, p)))

    def mean_prediction(y: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(p))

    frame = MetricFrame(
        metrics={
            "mean_absolute_error": mean_absolute_error,
            "root_mean_squared_error": rmse,
            "mean_prediction": mean_prediction,
        },
        y_true=data["y"],
        y_pred=data["yhat"],
        sensitive_features=data["race"],
    )
    diff, ratio = frame.difference(), frame.ratio()
    agg = {a.name: a.value for a in section.aggregates if a.dimension == ["race"]}
    for metric in diff.index:
        got = agg[f"{metric}_difference"]
        assert got.value == pytest.approx(diff[metric])
        assert got.ci_low is not None and got.ci_high is not None
        assert got.ci_low <= got.value <= got.ci_high
        assert agg[f"{metric}_ratio"].value == pytest.approx(ratio[metric])
    mae = agg["mean_absolute_error_difference"]
    assert mae.ci_low is not None and mae.ci_low > 0  # group C's errors stand out
