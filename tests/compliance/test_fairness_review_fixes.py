"""Fixes from the statistical review of the fairness engine (each fails on the old code)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compliance.evidence.fairness import Disparity, FairnessSection
from compliance.fairness import FairnessOptions, assess_fairness


def _frame(groups: dict[str, tuple[int, int]], seed: int = 0) -> pd.DataFrame:
    """Rows of groups g -> (n, how many predicted positive); labels at random."""
    rng = np.random.default_rng(seed)
    parts = []
    for g, (n, selected) in groups.items():
        pred = np.zeros(n, dtype=int)
        pred[:selected] = 1
        parts.append(pd.DataFrame({"g": g, "y": rng.integers(0, 2, n), "pred": pred}))
    return pd.concat(parts, ignore_index=True)


def _assess(frame: pd.DataFrame, attrs: list[str] | None = None, **options: object):
    opts = FairnessOptions(**{"depth": 1, "bootstrap": 0, **options})  # type: ignore[arg-type]
    return assess_fairness(
        frame["y"].to_numpy(), frame["pred"].to_numpy(), None, frame[attrs or ["g"]], options=opts
    )


def _find(section: FairnessSection, metric: str, slice_: dict[str, str], ref: object) -> Disparity:
    found = [
        d
        for d in section.disparities
        if d.metric == metric and d.slice == slice_ and d.reference == ref
    ]
    assert len(found) == 1, (metric, slice_, ref)
    return found[0]


# ---------------------------------------------------------------- H1


def test_four_fifths_reads_favourable_rates_when_the_positive_label_is_unfavourable() -> None:
    # the positive label is "default": A is refused 36% of the time, B 8%
    frame = _frame({"A": (200, 72), "B": (200, 16)})
    sec = _assess(frame, positive_label_favourable=False)
    d = _find(sec, "selection_rate", {"g": "A"}, {"g": "B"})
    assert d.ratio.value == pytest.approx(0.36 / 0.08)  # the ratio of the metric, as named
    assert d.four_fifths_ratio is not None
    assert d.four_fifths_ratio.value == pytest.approx(0.64 / 0.92)
    assert d.four_fifths_flag is True


def test_four_fifths_is_unchanged_when_the_positive_label_is_favourable() -> None:
    frame = _frame({"A": (200, 72), "B": (200, 120)})
    sec = _assess(frame)
    d = _find(sec, "selection_rate", {"g": "A"}, {"g": "B"})
    assert d.four_fifths_ratio is not None
    assert d.four_fifths_ratio.value == d.ratio.value == pytest.approx(72 / 120)
    assert d.four_fifths_flag is True
    assert _find(sec, "selection_rate", {"g": "A"}, "overall").four_fifths_flag is None


# ---------------------------------------------------------------- H2


def test_rate_intervals_do_not_collapse_at_1() -> None:
    """10 of 10 selected gave the bootstrap interval [1, 1]; Wilson gives [0.72, 1], and the
    difference from 37 of 38 is Newcombe's (statsmodels' confint_proportions_2indep
    method='newcomb': [-0.2521, 0.1349])."""
    frame = _frame({"A": (10, 10), "B": (38, 37)})
    sec = _assess(frame, min_slice_size=5, bootstrap=200, reference={"g": "B"})
    a = next(s for s in sec.slices if s.attributes == {"g": "A"}).metrics["selection_rate"]
    assert (a.value, a.ci_high) == (1.0, 1.0)
    assert a.ci_low == pytest.approx(0.7225, abs=1e-4)
    d = _find(sec, "selection_rate", {"g": "A"}, {"g": "B"})
    assert (d.difference.ci_low, d.difference.ci_high) == pytest.approx((-0.2521, 0.1349), abs=1e-4)
    assert d.ratio.ci_low is not None and d.ratio.ci_high is not None
    assert d.ratio.ci_low < d.ratio.value < d.ratio.ci_high
    o = _find(sec, "selection_rate", {"g": "A"}, "overall")
    assert o.difference.ci_low is not None and o.difference.ci_high is not None
    assert o.difference.ci_low < o.difference.value < o.difference.ci_high


def _exact_coverage(n: int, p: float, n2: int, p2: float) -> tuple[float, float, float]:
    """Coverage of the slice's rate, and of its difference and ratio to another group, over
    every binomial outcome (exact, no simulation noise)."""
    from scipy.stats import binom

    from compliance.stats import compare_proportions, wilson_bounds

    k = np.arange(n + 1)
    lo, hi = wilson_bounds(k, np.full(n + 1, n))
    rate = float((binom.pmf(k, n, p) * ((lo <= p) & (p <= hi))).sum())
    k1, k2 = np.meshgrid(k, np.arange(n2 + 1), indexing="ij")
    w = np.outer(binom.pmf(k, n, p), binom.pmf(np.arange(n2 + 1), n2, p2))
    dlo, dhi, rlo, rhi = compare_proportions(
        k1, np.full(k1.shape, n), k2, np.full(k2.shape, n2), pooled=np.zeros(k1.shape, bool)
    )
    diff = float((w * ((dlo <= p - p2) & (p - p2 <= dhi))).sum())
    ratio = float((w * ((rlo <= p / p2) & (p / p2 <= rhi))).sum())
    return rate, diff, ratio


@pytest.mark.parametrize(("n", "p"), [(30, 0.97), (38, 0.95), (100, 0.5)])
def test_rate_intervals_cover_near_the_edges(n: int, p: float) -> None:
    """The review measured the bootstrap at 58% (n=30, p=0.97) and 88.5% (n=38, p=0.95)."""
    for coverage in _exact_coverage(n, p, 200, 0.85):
        assert 0.93 <= coverage <= 0.975


# ---------------------------------------------------------------- M2


def _with_missing() -> pd.DataFrame:
    """40 rows with no value of g, all selected (as the review's run_mref)."""
    frame = _frame({"female": (300, 213), "male": (300, 246), "x": (40, 40)})
    frame["g"] = frame["g"].where(frame["g"] != "x", np.nan)
    return frame


def test_a_missing_value_is_reported_but_never_the_reference_nor_aggregated() -> None:
    sec = _assess(_with_missing())
    missing = next(s for s in sec.slices if s.attributes == {"g": "(missing)"})
    assert missing.status == "ok" and missing.note is not None and "missing" in missing.note
    for d in sec.disparities:
        assert d.reference == "overall" or "(missing)" not in d.reference.values(), d
    female = _find(sec, "selection_rate", {"g": "female"}, {"g": "male"})
    assert female.four_fifths_flag is False  # 0.71 / 0.82 = 0.87, not against 'missing'
    d = _find(sec, "selection_rate", {"g": "(missing)"}, {"g": "male"})
    assert d.four_fifths_flag is None and d.note is not None
    dpd = next(a for a in sec.aggregates if a.name == "demographic_parity_difference")
    assert dpd.value.value == pytest.approx(246 / 300 - 213 / 300)  # not 1 - 0.71


def test_a_missing_value_cannot_be_chosen_as_the_reference() -> None:
    from compliance.errors import InputError

    with pytest.raises(InputError, match="missing"):
        _assess(_with_missing(), reference={"g": "(missing)"})


# ---------------------------------------------------------------- M3


def test_an_aggregate_interval_holds_its_point_when_groups_are_equal() -> None:
    """Eight groups each 70 of 100 selected: the demographic-parity difference is 0. A
    percentile bootstrap of max - min lay wholly above 0 (max - min of noisy draws is never
    0), excluding its own point; the simultaneous interval starts at 0."""
    frame = _frame({f"g{i}": (100, 70) for i in range(8)})
    sec = _assess(frame, bootstrap=300)
    dpd = next(a for a in sec.aggregates if a.name == "demographic_parity_difference")
    assert dpd.value.value == 0.0 and dpd.value.ci_low == 0.0
    assert dpd.value.ci_high is not None and dpd.value.ci_high > 0.1
    assert dpd.note is not None and "simultaneous" in dpd.note
    ratio = next(a for a in sec.aggregates if a.name == "demographic_parity_ratio")
    assert ratio.value.value == 1.0 and ratio.value.ci_high == 1.0


def test_aggregate_intervals_cover_with_several_close_groups() -> None:
    """The review measured 0% coverage for 8 groups (six at 0.70, one 0.72, one 0.75)."""
    from compliance.stats import spread_intervals

    rng = np.random.default_rng(5)
    rates = np.array([0.7] * 6 + [0.72, 0.75])
    reps, covered = 300, 0
    for _ in range(reps):
        lo, hi, rlo, rhi = spread_intervals([(rng.binomial(125, rates), np.full(8, 125))])
        covered += lo <= 0.05 <= hi and rlo <= 0.7 / 0.75 <= rhi
    assert covered / reps >= 0.95


def test_regression_spread_intervals_cover_with_several_close_groups() -> None:
    from compliance.regression_comparisons import SliceMoments, spread
    from compliance.slicing import build_slices

    rng = np.random.default_rng(9)
    means = [0.0] * 6 + [0.05, 0.1]
    g = np.repeat([f"g{i}" for i in range(8)], 100)
    index = build_slices(pd.DataFrame({"g": g}), ["g"], depth=1)
    reps, covered = 100, 0
    for _ in range(reps):
        yhat = np.repeat(means, 100) + rng.normal(0, 1, len(g)) + 5.0
        (_, lo, hi), _ = spread(SliceMoments.of(index, np.zeros(len(g)), yhat), "mean_prediction",
                                list(range(1, 9)), 0.95)  # fmt: skip
        covered += lo <= 0.1 <= hi
    assert covered / reps >= 0.93  # percentile draws of max - min: 0.00


# ---------------------------------------------------------------- L1, L2


def _few_positives() -> pd.DataFrame:
    """A: 100 rows but 10 actual positives; B and C: 100 positives each; D: 12 rows."""
    rng = np.random.default_rng(3)
    parts = []
    for g, n, pos in (("A", 100, 10), ("B", 200, 100), ("C", 200, 100), ("D", 12, 6)):
        y = np.zeros(n, dtype=int)
        y[:pos] = 1
        parts.append(pd.DataFrame({"g": g, "y": y, "pred": rng.integers(0, 2, n)}))
    return pd.concat(parts, ignore_index=True)


def test_a_rate_on_too_few_rows_is_reported_but_not_tested() -> None:
    frame = _few_positives()
    sec = _assess(frame)
    tpr = _find(sec, "true_positive_rate", {"g": "A"}, "overall")
    assert tpr.n_denominator == 10 and tpr.difference.value is not None
    assert (tpr.test, tpr.p_value, tpr.p_adjusted, tpr.significant) == ("none", None, None, False)
    assert tpr.note is not None and "not tested" in tpr.note
    # its selection rate rests on 100 rows: tested
    assert _find(sec, "selection_rate", {"g": "A"}, "overall").p_value is not None


def test_aggregates_are_over_groups_judged_for_each_rate() -> None:
    frame = _few_positives()
    sec = _assess(frame)
    agg = {a.name: a for a in sec.aggregates}
    eo = agg["equal_opportunity_difference"]
    tpr = {
        s.attributes["g"]: s.metrics["true_positive_rate"].value
        for s in sec.slices
        if s.attributes["g"] in ("B", "C")
    }
    assert eo.value.value == pytest.approx(abs(tpr["B"] - tpr["C"]))  # A (10 positives) left out
    assert eo.note is not None and "judged groups only: 2 of 4" in eo.note
    # the selection rate rests on A's 100 rows: A is in, D (12 rows) is not
    dp = agg["demographic_parity_difference"]
    assert dp.note is not None and "1 of 4" in dp.note
