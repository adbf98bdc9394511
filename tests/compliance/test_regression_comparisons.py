"""A regression's between-group comparisons against scipy, fairlearn and a bootstrap."""

from __future__ import annotations

from typing import Any

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


def _section(group: np.ndarray, y: np.ndarray, yhat: np.ndarray, **kw: Any) -> FairnessSection:
    options = FairnessOptions(task="regression", target="y", depth=1, bootstrap=0, **kw)
    return assess_fairness(y, yhat, None, pd.DataFrame({"race": group}), options=options)


def test_a_hidden_size_is_not_given_back_by_a_regression_figure() -> None:
    """Races of 500, 400 and 5: the 5 reads '<10' and the 400 is hidden beside it. The
    400's MAE, RMSE and MAE interval gave its standard deviation and so its size, as did
    the Welch test's degrees of freedom in disparities.csv and 'On 400 people' in the
    report: none of its regression figures is printed now."""
    from reports._context import _fairness_context
    from reports._format import fairness_suppression, slice_key
    from reports._pack import pack_tables

    rng = np.random.default_rng(0)
    group = np.array(["A"] * 500 + ["B"] * 400 + ["C"] * 5)
    y = rng.normal(0, 1, len(group))
    yhat = y + rng.normal(0, 1, len(group)) * np.where(group == "B", 2.0, 1.0)
    section = _section(group, y, yhat)
    supp = fairness_suppression(section)
    assert supp.hides(slice_key({"race": "B"}), "n")
    context = _fairness_context(section, charts=False)
    assert not any("400" in s["text"] or "race = B" in s["text"] for s in context["statements"])
    row = next(r for d in context["dims"] for r in d["rows"] if r["group"] == "B")
    assert row["n"] == "suppressed" and {v for v, _ in row["cells"]} == {"suppressed"}

    class Holder:
        fairness = section
        policy = None
        privacy = None
        discovery = None

    tables = pack_tables(Holder())  # type: ignore[arg-type]
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(tables["tables/disparities.csv"].decode())))
    assert rows and not any("race = B" in (r["slice"], r["reference"]) for r in rows)
    b = next(
        r
        for r in csv.DictReader(io.StringIO(tables["tables/slices.csv"].decode()))
        if r["slice"] == "race = B"
    )
    assert b["n"] == "suppressed" and b["mean_absolute_error"] == ""


def test_a_constant_model_has_no_significant_gap() -> None:
    """Every prediction 0.1: the mean predictions are the same, not 'significantly'
    different by a rounding error (p was 0 for a gap of 3e-16)."""
    rng = np.random.default_rng(1)
    group = rng.choice(["A", "B", "C"], 900)
    section = _section(group, rng.normal(0, 1, 900), np.full(900, 0.1))
    means = [d for d in section.disparities if d.metric == "mean_prediction"]
    assert means and not any(d.significant for d in means)
    assert all(d.p_value == 1.0 and d.difference.value == 0.0 for d in means)


def test_predictions_far_from_zero_keep_their_spread() -> None:
    """Predictions near 1e9 with a spread of 1: sums of squares of the raw values cancel to
    a variance of 0 (p = 0, zero-width intervals). Centred sums agree with scipy."""
    rng = np.random.default_rng(2)
    group = rng.choice(["A", "B"], 600)
    yhat = 1e9 + rng.normal(0, 1, 600) + 0.3 * (group == "B")
    section = _section(group, np.full(600, 1e9), yhat)
    d = next(
        d for d in section.disparities if d.metric == "mean_prediction" and d.reference != "overall"
    )
    a, b = yhat[group == d.slice["race"]], yhat[group != d.slice["race"]]
    assert d.p_value == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue, rel=1e-4)
    assert d.difference.ci_low is not None and d.difference.ci_high is not None
    assert d.difference.ci_high - d.difference.ci_low > 0.1


def test_a_one_row_group_gets_no_interval_and_negative_means_no_ratio() -> None:
    """--min-slice-size 1: a one-row group has no spread to draw from, so the spread over
    its dimension has no interval (it claimed one as if the row were exact). Mean
    predictions below 0 give no ratio."""
    rng = np.random.default_rng(3)
    group = np.array(["A"] * 200 + ["B"] * 200 + ["C"])
    y = rng.normal(0, 1, 401)
    section = _section(group, y, y - 0.5 + rng.normal(0, 1, 401), min_slice_size=1)
    agg = {a.name: a.value for a in section.aggregates}
    mae = agg["mean_absolute_error_difference"]
    assert mae.value is not None and mae.ci_low is None and mae.ci_high is None
    assert agg["mean_prediction_ratio"].value is None  # mean predictions around -0.5
    mae_a = next(s for s in section.slices if s.attributes == {"race": "A"})
    low = mae_a.metrics["mean_absolute_error"].ci_low
    assert low is not None and low >= 0.0


def test_scoring_rate_p_value_is_the_chi_square_test_and_rmse_interval_the_bootstrap(
    section: FairnessSection, data: pd.DataFrame
) -> None:
    """The scoring rate's p-value is the two-proportion test (a chi-square test of the 2x2
    table without continuity correction); the RMSE difference's delta-method interval is
    as wide as a bootstrap of rows says (within 15%)."""
    above = (data["yhat"] > data["yhat"].median()).to_numpy()
    race = data["race"].to_numpy()
    d = next(
        d
        for d in section.disparities
        if d.metric == "scoring_rate" and d.dimension == ["race"] and d.reference != "overall"
    )
    assert isinstance(d.reference, dict)
    a, b = above[race == d.slice["race"]], above[race == d.reference["race"]]
    table = [[a.sum(), len(a) - a.sum()], [b.sum(), len(b) - b.sum()]]
    assert d.test == "z"
    assert d.p_value == pytest.approx(sps.chi2_contingency(table, correction=False)[1])
    assert d.difference.value == pytest.approx(a.mean() - b.mean())

    r = _find(section, "root_mean_squared_error", {"race": "C"}, {"race": "A"})
    sq = ((data["yhat"] - data["y"]) ** 2).to_numpy()
    c_rows, a_rows = sq[race == "C"], sq[race == "A"]
    rng = np.random.default_rng(0)
    boot = [
        np.sqrt(rng.choice(c_rows, len(c_rows)).mean())
        - np.sqrt(rng.choice(a_rows, len(a_rows)).mean())
        for _ in range(800)
    ]
    half = (r.difference.ci_high or 0.0) - (r.difference.value or 0.0)
    assert half == pytest.approx(1.96 * float(np.std(boot)), rel=0.15)


def test_the_report_states_the_widest_error_gap_first() -> None:
    """Six groups with rising errors: the report's first statement about the mean absolute
    error is the worst group's (the largest ratio to the best served), not the mildest."""
    from reports._context import _fairness_context

    rng = np.random.default_rng(4)
    names = ["A", "B", "C", "D", "E", "F"]
    group = np.repeat(names, 300)
    y = rng.normal(0, 1, len(group))
    scale = np.repeat([1.0, 1.5, 1.8, 2.1, 2.5, 3.0], 300)
    section = _section(group, y, y + rng.normal(0, 1, len(group)) * scale)
    texts = [
        s["text"]
        for s in _fairness_context(section, charts=False)["statements"]
        if s["metric"] == "mean absolute error"
    ]
    assert texts and texts[0].startswith("On 300 people in the group race = F")
