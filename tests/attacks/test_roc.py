"""The pure maths of attack evaluation: ROC, TPR at low FPR, Clopper-Pearson, epsilon bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import roc_auc_score

from attacks._roc import (
    clopper_pearson,
    epsilon_lower_bound,
    roc_curve,
    roc_points_for_plot,
    summarise_roc,
    tpr_at_fpr,
    tpr_at_fpr_bounds,
)

scores_st = st.lists(st.integers(-20, 20), min_size=2, max_size=60)


@st.composite
def labelled(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    s = np.array(draw(scores_st), dtype=float)
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=s.size, max_size=s.size)))
    y[0], y[1] = 1, 0  # at least one of each
    return y, s


@given(labelled())
def test_auc_agrees_with_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    assert summarise_roc(y, s).auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@given(labelled(), st.floats(0, 1), st.floats(0, 1))
def test_tpr_at_fpr_is_monotone_in_fpr(
    data: tuple[np.ndarray, np.ndarray], a: float, b: float
) -> None:
    y, s = data
    lo, hi = sorted((a, b))
    assert tpr_at_fpr(y, s, lo) <= tpr_at_fpr(y, s, hi)


@given(labelled())
def test_tpr_at_fpr_depends_only_on_the_order_of_scores(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    y, s = data
    for f in (0.0, 0.1, 0.5):
        assert tpr_at_fpr(y, s, f) == tpr_at_fpr(y, np.exp(s / 7.0) * 3 - 1, f)


@given(labelled())
def test_tpr_at_fpr_respects_its_fpr(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Brute force: the best threshold test with FPR <= f, over every threshold."""
    y, s = data
    for f in (0.0, 0.25, 0.5):
        best = 0.0
        for t in np.r_[np.inf, s]:
            if (s[y == 0] >= t).mean() <= f:
                best = max(best, float((s[y == 1] >= t).mean()))
        assert tpr_at_fpr(y, s, f) == pytest.approx(best)


def test_roc_curve_ends_and_ties() -> None:
    fpr, tpr, thr = roc_curve(np.array([1, 0, 1, 0]), np.array([0.9, 0.9, 0.5, 0.1]))
    assert fpr.tolist() == [0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 1.0, 1.0]
    assert thr[0] == np.inf


def test_roc_points_for_plot_are_monotone() -> None:
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(500), np.zeros(500)]
    s = rng.normal(y * 0.7, 1.0)
    pts = roc_points_for_plot(y, s)
    f, t = zip(*pts, strict=True)
    assert list(f) == sorted(f) and list(t) == sorted(t)
    assert f[0] == pytest.approx(1 / 500) and pts[-1] == (1.0, 1.0)


@given(st.integers(0, 200), st.integers(1, 200))
@settings(max_examples=60)
def test_clopper_pearson_matches_scipy(k: int, n: int) -> None:
    k = min(k, n)
    lo, hi = clopper_pearson(k, n)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert lo == pytest.approx(ci.low, abs=1e-9) and hi == pytest.approx(ci.high, abs=1e-9)
    one_lo = clopper_pearson(k, n, side="lower")[0]
    assert one_lo >= lo - 1e-12  # one-sided at 95% is tighter than two-sided


def test_clopper_pearson_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="k=5, n=3"):
        clopper_pearson(5, 3)


@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=4, max_size=300), st.integers(0, 99)
)
def test_epsilon_bound_is_zero_when_members_and_nonmembers_score_alike(
    values: list[float], seed: int
) -> None:
    s = np.array(values)
    y = np.r_[np.ones(s.size), np.zeros(s.size)]
    bound = epsilon_lower_bound(y, np.r_[s, s], seed=seed)
    assert bound.value == 0.0


def _optimistic_bound(y: np.ndarray, s: np.ndarray) -> float:
    """The flawed bound: best threshold chosen on the same points, point estimates."""
    fpr, tpr, _ = roc_curve(y, s)
    ok = (fpr > 0) & (tpr > 0)
    return float(max(0.0, np.max(np.log(tpr[ok] / fpr[ok]))))


def test_epsilon_bound_is_rarely_positive_without_signal() -> None:
    """Same distribution for members and non-members: a 95% bound is > 0 at most ~5% of the
    time. The optimistic bound (threshold chosen on the same points) is positive nearly
    always, so this test tells an honest bound from an overstated one."""
    honest, optimistic = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        s = rng.normal(size=400)
        y = np.r_[np.ones(200), np.zeros(200)]
        honest.append(epsilon_lower_bound(y, s, seed=seed).value)
        optimistic.append(_optimistic_bound(y, s))
    assert np.mean(np.array(honest) > 0) <= 0.05
    assert np.mean(np.array(optimistic) > 0) > 0.9


def test_epsilon_bound_on_randomised_response_is_sound_and_tight() -> None:
    """Randomised response is exactly eps-DP: the bound must stay below eps, and get close."""
    eps = 1.0
    p = math.exp(eps) / (1 + math.exp(eps))
    bounds = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        s = np.r_[rng.random(5000) < p, rng.random(5000) < 1 - p].astype(float)
        y = np.r_[np.ones(5000), np.zeros(5000)]
        bounds.append(epsilon_lower_bound(y, s, seed=seed).value)
    b = np.array(bounds)
    assert np.mean(b > eps) <= 0.1
    assert np.median(b) > 0.8


def test_epsilon_bound_with_delta_is_smaller() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(2000), np.zeros(2000)]
    s = rng.normal(y * 2.0, 1.0)
    b0 = epsilon_lower_bound(y, s, seed=0)
    b1 = epsilon_lower_bound(y, s, seed=0, delta=0.05)
    assert b0.value > 1.0 and b1.value < b0.value
    assert b0.n_select + b0.n_bound == 4000


def test_epsilon_bound_uses_the_complementary_test() -> None:
    """Members scoring *low* is as much evidence as members scoring high."""
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(2000), np.zeros(2000)]
    s = rng.normal(y * 2.0, 1.0)
    hi, lo = epsilon_lower_bound(y, s, seed=0), epsilon_lower_bound(y, -s, seed=0)
    assert lo.direction != hi.direction
    assert lo.value == pytest.approx(hi.value, rel=0.3)


def test_tpr_bounds_cover_the_true_tpr_where_threshold_blind_intervals_do_not() -> None:
    """Members N(1, 1), non-members N(0, 1), 1,000 of each: the true TPR at 1% FPR is
    1 - Phi(z_0.99 - 1) = 9.2%. Over 200 samples the one-sided 95% lower bound and the
    two-sided 95% interval cover it at least 95% of the time; Clopper-Pearson at the chosen
    threshold (the interval used before) covers it far less often, since the threshold
    itself moves from sample to sample."""
    rng = np.random.default_rng(5)
    n, f = 1000, 0.01
    true = 1 - stats.norm.cdf(stats.norm.ppf(1 - f) - 1.0)
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    lower = two_sided = conditional = 0
    for _ in range(200):
        s = np.r_[rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)]
        r = summarise_roc(y, s, fprs=(f,))
        lo, hi = r.tpr_at_fpr_ci["0.01"]
        assert lo <= r.tpr_at_fpr["0.01"] <= hi
        assert (
            r.tpr_at_fpr_bounds["0.01"][0] <= r.tpr_at_fpr["0.01"] <= r.tpr_at_fpr_bounds["0.01"][1]
        )
        lower += r.tpr_at_fpr_bounds["0.01"][0] <= true
        two_sided += lo <= true <= hi
        cp = clopper_pearson(round(r.tpr_at_fpr["0.01"] * n), n)
        conditional += cp[0] <= true <= cp[1]
    assert lower >= 190 and two_sided >= 190, (lower, two_sided)
    assert conditional < 170, conditional


def test_tpr_bounds_with_tied_top_scores() -> None:
    """A forest's p = 1.0 ties 25% of non-members and 33% of members: no threshold flags
    at most 1% of non-members but +inf, so TPR at 1% FPR is 0. The upper bound counts only
    members strictly above the tied level (none), so it stays near 0 instead of 33%."""
    n = 4000
    rng = np.random.default_rng(0)
    s = np.r_[rng.random(n) * 0.9, rng.random(n) * 0.9]
    s[: int(0.33 * n)] = 1.0
    s[n : n + int(0.25 * n)] = 1.0
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    r = summarise_roc(y, s, fprs=(0.01,))
    assert r.tpr_at_fpr["0.01"] == 0.0
    assert tpr_at_fpr_bounds(y, s, 0.01, alpha=0.05, side="lower") == 0.0
    upper = tpr_at_fpr_bounds(y, s, 0.01, alpha=0.05, side="upper")
    assert 0 < upper < 0.002  # Clopper-Pearson's upper bound for 0 of 4,000 at 97.5%
    with pytest.raises(ValueError, match="side"):
        tpr_at_fpr_bounds(y, s, 0.01, alpha=0.05, side="both")


def test_epsilon_bound_uses_the_reverse_form_of_the_dp_inequality() -> None:
    """Every member scores high, half the non-members do too: members flagged against
    non-members flagged is only ln 2, but DP also bounds the reverse (non-members below the
    threshold against members below it: TNR against FNR), which is large here. Without that
    form the bound read under 0.7."""
    rng = np.random.default_rng(0)
    n = 2000
    members = rng.uniform(0.5, 1.0, n)
    nonmembers = np.r_[rng.uniform(0.0, 0.5, n // 2), rng.uniform(0.5, 1.0, n // 2)]
    y = np.r_[np.ones(n), np.zeros(n)]
    b = epsilon_lower_bound(y, np.r_[members, nonmembers], seed=0)
    assert b.direction == "low, non-members first"
    # non-members below 0.5: about 1/2, with its lower bound; members below: none of 1,000,
    # upper bound 1 - 0.025^(1/1000) = 0.0037: ln(0.46 / 0.0037) is about 4.8
    assert 4.0 < b.value < math.log(0.5 / (1 - 0.025 ** (1 / 1000)))
