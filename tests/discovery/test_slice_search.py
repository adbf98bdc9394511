"""SliceLine search, its bounds and the statistics of the reported slices."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from compliance.evidence.discovery import SliceDefinition
from compliance.slice_search import (
    MISSING_LABEL,
    SLICE_METRICS,
    bonferroni,
    count_supported_slices,
    describe_definition,
    encode_features,
    find_slices,
    get_slice_metric,
    mask_for_definition,
    merge_near_duplicates,
    score_upper_bound,
    sliceline,
    sliceline_score,
    wilson_interval,
)
from compliance.stats import adjust_pvalues, two_proportion_test


def planted(n: int = 20_000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A model that errs 5% of the time, but 45% on region C and product card (depth 2)
    and 50% on phone, new customers aged 60 or more (depth 3)."""
    rng = np.random.default_rng(seed)
    f = pd.DataFrame(
        {
            "region": rng.choice(list("ABCDE"), n),
            "product": rng.choice(["loan", "card", "mortgage", "lease"], n),
            "channel": rng.choice(["web", "branch", "phone"], n),
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50, 15, n),
            "sex": rng.choice(["F", "M"], n),
            "tenure": rng.choice(["new", "mid", "old"], n),
        }
    )
    y = rng.integers(0, 2, n).astype(np.int8)
    p = np.full(n, 0.05)
    p[((f.region == "C") & (f["product"] == "card")).to_numpy()] = 0.45
    p[((f.channel == "phone") & (f.tenure == "new") & (f.age >= 60)).to_numpy()] = 0.5
    flip = rng.random(n) < p
    return f, y, np.where(flip, 1 - y, y).astype(np.int8)


DEPTH2: SliceDefinition = {"region": "C", "product": "card"}
DEPTH3: SliceDefinition = {"channel": "phone", "tenure": "new", "age": [60.0, None]}


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_depth2_and_depth3_slices_are_in_the_top_3(seed: int) -> None:
    frame, y, yp = planted(seed=seed)
    report = find_slices(
        frame,
        y,
        yp,
        features=list(frame.columns),
        protected=["sex"],
        metric=get_slice_metric("error_rate"),
        max_depth=3,
        min_support=30,
        k=5,
        bins={"age": [30, 45, 60]},
    )
    top3 = [s.definition for s in report.slices[:3]]
    assert DEPTH2 in top3
    assert DEPTH3 in top3
    found = {tuple(sorted(s.definition)): s for s in report.slices}
    d2 = found[("product", "region")]
    truth = mask_for_definition(frame, DEPTH2)
    assert d2.n == int(truth.sum())
    assert d2.value == pytest.approx(float((y != yp)[truth].mean()))
    assert d2.value is not None and 0.40 < d2.value < 0.50  # planted at 45%
    assert d2.ci_low is not None and d2.ci_high is not None
    assert d2.ci_low < d2.value < d2.ci_high
    assert d2.rest_value is not None and d2.rest_value < 0.12
    assert d2.p_adjusted is not None and d2.p_adjusted < 1e-10
    assert not d2.overlaps_protected


def test_planted_slices_found_with_quantile_bins() -> None:
    """Without the user's bins the age edge falls elsewhere; the slice found still
    covers most of the planted one."""
    frame, y, yp = planted(seed=3)
    report = find_slices(
        frame,
        y,
        yp,
        features=list(frame.columns),
        protected=["sex"],
        metric=get_slice_metric("error_rate"),
        max_depth=3,
        min_support=30,
        k=5,
    )
    masks = [mask_for_definition(frame, s.definition) for s in report.slices[:3]]
    assert max(_jaccard(m, mask_for_definition(frame, DEPTH2)) for m in masks) == 1.0
    assert max(_jaccard(m, mask_for_definition(frame, DEPTH3)) for m in masks) > 0.6


def test_refinements_that_add_nothing_are_merged_into_the_general_slice() -> None:
    frame, y, yp = planted(seed=0)
    report = find_slices(
        frame,
        y,
        yp,
        features=list(frame.columns),
        protected=["sex"],
        metric=get_slice_metric("error_rate"),
        max_depth=3,
        min_support=30,
        k=5,
        bins={"age": [30, 45, 60]},
    )
    general = next(s for s in report.slices if s.definition == DEPTH2)
    # "region C and product card and sex F" says nothing more than the general slice
    assert {**DEPTH2, "sex": "F"} in general.merged or {**DEPTH2, "sex": "M"} in general.merged
    definitions = [s.definition for s in report.slices]
    assert {**DEPTH2, "sex": "F"} not in definitions
    assert {**DEPTH2, "sex": "M"} not in definitions


def test_false_negative_rate_search_finds_a_planted_miss() -> None:
    rng = np.random.default_rng(5)
    n = 8000
    frame = pd.DataFrame({"a": rng.choice(list("xyz"), n), "b": rng.choice(list("pq"), n)})
    y = rng.integers(0, 2, n).astype(np.int8)
    yp = y.copy()
    target = ((frame.a == "z") & (frame.b == "q")).to_numpy() & (y == 1)
    yp[target & (rng.random(n) < 0.6)] = 0  # misses only among true positives there
    # false positives elsewhere leave the error rate flat but not the FNR
    neg = (y == 0) & ~((frame.a == "z") & (frame.b == "q")).to_numpy()
    yp[neg & (rng.random(n) < 0.12)] = 1
    report = find_slices(
        frame,
        y,
        yp,
        features=["a", "b"],
        protected=[],
        metric=get_slice_metric("false_negative_rate"),
        max_depth=2,
        min_support=30,
        k=3,
    )
    top = report.slices[0]
    assert top.definition == {"a": "z", "b": "q"}
    assert top.metric == "false_negative_rate"
    assert top.denominator == int(((frame.a == "z") & (frame.b == "q") & (y == 1)).sum())
    assert top.value == pytest.approx(
        float((yp[((frame.a == "z") & (frame.b == "q")).to_numpy() & (y == 1)] == 0).mean())
    )


def test_selection_rate_direction_follows_the_favourable_label() -> None:
    assert not get_slice_metric("selection_rate", positive_label_favourable=True).higher_is_worse
    assert get_slice_metric("selection_rate", positive_label_favourable=False).higher_is_worse
    with pytest.raises(KeyError):
        get_slice_metric("no_such_rate")


@pytest.mark.parametrize("name", sorted(SLICE_METRICS))
def test_each_metric_agrees_with_its_definition_on_the_reported_slice(name: str) -> None:
    frame, y, yp = planted(n=6000, seed=7)
    metric = get_slice_metric(name)
    report = find_slices(
        frame,
        y,
        yp,
        features=["region", "product"],
        protected=["sex"],
        metric=metric,
        max_depth=2,
        min_support=30,
        k=3,
    )
    for s in report.slices:
        mask = mask_for_definition(frame, s.definition)
        elig = np.asarray(metric.eligible(y, yp), dtype=bool)
        ev = np.asarray(metric.event(y[mask & elig], yp[mask & elig]), dtype=bool)
        assert s.value == pytest.approx(float(ev.mean()))
        rest = np.asarray(metric.event(y[~mask & elig], yp[~mask & elig]), dtype=bool)
        worse = s.value > rest.mean() if metric.higher_is_worse else s.value < rest.mean()
        assert worse


# ----------------------------------------------------------------- the search itself


def brute_force_top(
    codes: np.ndarray,
    n_levels: list[int],
    errors: np.ndarray,
    *,
    depth: int,
    min_support: int,
    alpha: float,
) -> list[float]:
    """Every conjunction whose parents are all valid (support, an error, not all rows)."""
    n, m = codes.shape
    avg = errors.mean()
    stats_of: dict[tuple[tuple[int, int], ...], tuple[int, float]] = {}
    for d in range(1, depth + 1):
        for cols in itertools.combinations(range(m), d):
            for vals in itertools.product(*[range(n_levels[c]) for c in cols]):
                mask = np.ones(n, dtype=bool)
                for c, v in zip(cols, vals, strict=True):
                    mask &= codes[:, c] == v
                stats_of[tuple(zip(cols, vals, strict=True))] = (
                    int(mask.sum()),
                    float(errors[mask].sum()),
                )

    def valid(s: tuple[tuple[int, int], ...]) -> bool:
        ss, se = stats_of[s]
        return ss >= min_support and se > 0 and ss < n

    scores = []
    for s, (ss, se) in stats_of.items():
        if ss < min_support or se <= 0:
            continue
        if len(s) > 1 and not all(valid(s[:i] + s[i + 1 :]) for i in range(len(s))):
            continue
        scores.append(float(sliceline_score(ss, se, n=n, average_error=avg, alpha=alpha)))
    return sorted((x for x in scores if x > 0), reverse=True)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    m=st.integers(2, 4),
    depth=st.integers(1, 3),
    min_support=st.integers(1, 40),
    alpha=st.sampled_from([0.5, 0.8, 0.95]),
)
def test_search_matches_brute_force(
    seed: int, m: int, depth: int, min_support: int, alpha: float
) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    n_levels = [int(x) for x in rng.integers(2, 5, m)]
    codes = np.column_stack([rng.integers(0, k, n) for k in n_levels]).astype(np.int32)
    p = 0.05 + 0.4 * (codes[:, 0] == 0) * (codes[:, 1] == 1)
    errors = (rng.random(n) < p).astype(float)
    k = 5
    result = sliceline(
        codes, n_levels, errors, max_depth=depth, min_support=min_support, alpha=alpha, k=k
    )
    expected = brute_force_top(
        codes, n_levels, errors, depth=depth, min_support=min_support, alpha=alpha
    )[:k]
    assert [c.score for c in result.top] == pytest.approx(expected)
    for c in result.top:
        mask = np.all([codes[:, f] == v for f, v in c.items], axis=0)
        assert c.size == int(mask.sum())
        assert c.errors == pytest.approx(errors[mask].sum())


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(100, 10_000),
    ss_ub=st.integers(1, 100),
    frac_err=st.floats(0.0, 1.0),
    child_frac=st.floats(0.0, 1.0),
    child_err=st.floats(0.0, 1.0),
    min_support=st.integers(1, 50),
    alpha=st.floats(0.05, 1.0),
)
def test_upper_bound_bounds_every_descendant(
    n: int,
    ss_ub: int,
    frac_err: float,
    child_frac: float,
    child_err: float,
    min_support: int,
    alpha: float,
) -> None:
    se_ub = round(frac_err * ss_ub)
    ss = max(min_support, round(child_frac * ss_ub))
    if ss > ss_ub:
        return  # no admissible descendant
    se = min(se_ub, round(child_err * ss))
    avg = 0.1
    ub = score_upper_bound(
        np.array([ss_ub]),
        np.array([se_ub]),
        np.array([1.0 if se_ub > 0 else 0.0]),
        n=n,
        average_error=avg,
        alpha=alpha,
        min_support=min_support,
    )[0]
    score = sliceline_score(ss, se, n=n, average_error=avg, alpha=alpha)
    assert score <= ub + 1e-9


def test_pruning_skips_work_on_real_structure() -> None:
    frame, y, yp = planted(seed=0)
    enc = encode_features(frame, list(frame.columns), quantile_bins=4)
    result = sliceline(
        enc.codes,
        enc.n_levels,
        (y != yp).astype(float),
        max_depth=3,
        min_support=30,
        alpha=0.95,
        k=5,
    )
    assert result.pruned > 0
    total_cells = sum(
        math.prod(enc.n_levels[j] for j in c)
        for d in (1, 2, 3)
        for c in itertools.combinations(range(len(enc.names)), d)
    )
    assert result.evaluated < total_cells / 2


def test_no_errors_means_no_slices() -> None:
    codes = np.zeros((50, 2), dtype=np.int32)
    result = sliceline(codes, [1, 1], np.zeros(50), max_depth=2, min_support=5)
    assert result.top == []


def test_alpha_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="alpha"):
        sliceline(np.zeros((5, 1), dtype=np.int32), [1], np.ones(5), alpha=0.0)


def test_count_supported_slices_exact_and_bound() -> None:
    rng = np.random.default_rng(1)
    codes = np.column_stack([rng.integers(0, 3, 300), rng.integers(0, 4, 300)]).astype(np.int32)
    exact, is_exact = count_supported_slices(codes, [3, 4], max_depth=2, min_support=20)
    assert is_exact
    brute = 0
    for cols in [(0,), (1,), (0, 1)]:
        keys = [tuple(r) for r in codes[:, cols]]
        counts = pd.Series(keys).value_counts()
        brute += int(((counts >= 20) & (counts < 300)).sum())
    assert exact == brute
    bound, is_exact = count_supported_slices(
        codes, [3, 4], max_depth=2, min_support=20, row_budget=10
    )
    assert not is_exact
    assert bound >= exact


# ----------------------------------------------------------------------- statistics


def test_wilson_known_values() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(1.959964**2 / (10 + 1.959964**2), rel=1e-5)
    lo, hi = wilson_interval(50, 100)
    assert (lo, hi) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


@given(x=st.integers(0, 500), extra=st.integers(0, 500), level=st.sampled_from([0.9, 0.95, 0.99]))
def test_wilson_contains_the_estimate(x: int, extra: int, level: float) -> None:
    n = x + extra
    if n == 0:
        return
    lo, hi = wilson_interval(x, n, level=level)
    assert 0.0 <= lo <= x / n <= hi <= 1.0
    lo2, hi2 = wilson_interval(x, n, level=min(level + 0.009, 0.999))
    assert lo2 <= lo + 1e-12 and hi2 >= hi - 1e-12


def test_two_proportion_test_matches_chi_square_and_fisher() -> None:
    test, p = two_proportion_test(30, 100, 200, 1000)
    chi2 = stats.chi2_contingency([[30, 70], [200, 800]], correction=False)
    assert test == "z"
    assert p == pytest.approx(chi2.pvalue, rel=1e-9)
    test, p = two_proportion_test(3, 10, 2, 40)
    assert test == "fisher"
    assert p == pytest.approx(stats.fisher_exact([[3, 7], [2, 38]]).pvalue)


def test_holm_known_example() -> None:
    assert list(adjust_pvalues([0.01, 0.04, 0.03, 0.005], "holm")) == pytest.approx(
        [0.03, 0.06, 0.06, 0.02]
    )
    out = list(adjust_pvalues([0.2, float("nan"), 0.01], "holm"))
    assert out[0] == pytest.approx(0.2) and math.isnan(out[1]) and out[2] == pytest.approx(0.02)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_holm_properties(p: list[float]) -> None:
    adj = list(adjust_pvalues(p, "holm"))
    assert all(a >= x - 1e-15 and a <= 1.0 for a, x in zip(adj, p, strict=True))
    order = np.argsort(p, kind="stable")
    sorted_adj = [adj[i] for i in order]
    assert sorted_adj == sorted(sorted_adj)
    # never more than Bonferroni
    assert all(a <= bonferroni(x, len(p)) + 1e-12 for a, x in zip(adj, p, strict=True))


def test_reported_p_adjusted_is_bonferroni_over_the_family() -> None:
    frame, y, yp = planted(n=4000, seed=11)
    report = find_slices(
        frame,
        y,
        yp,
        features=["region", "product", "channel"],
        protected=["sex"],
        metric=get_slice_metric("error_rate"),
        max_depth=2,
        min_support=30,
        k=3,
    )
    assert report.family_exact
    assert report.family_size > 0
    for s in report.slices:
        assert s.p_value is not None and s.p_adjusted is not None
        assert s.p_adjusted == pytest.approx(min(1.0, s.p_value * report.family_size))


# ------------------------------------------------------- encoding, merging, wording


def test_encode_features_bins_missing_and_edges() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, np.nan],
            "c": ["a", "b", None, "a", "b", "a", "a", "b", "a", "b", "a", "b"],
            "few": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
        }
    )
    enc = encode_features(frame, ["x", "c", "few"], bins={"x": [4, 8]})
    assert enc.levels[0] == [(None, 4.0), (4.0, 8.0), (8.0, None), MISSING_LABEL]
    assert enc.codes[:, 0].tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert enc.levels[1] == ["a", "b", MISSING_LABEL]
    assert enc.codes[2, 1] == 2
    assert enc.levels[2] == ["0", "1"]  # few distinct values: categories
    assert enc.edges == {"x": [4.0, 8.0]}
    q = encode_features(frame, ["x"], quantile_bins=4)
    assert len(q.edges["x"]) == 3


def test_quantile_edges_split_above_a_mass_point() -> None:
    frame = pd.DataFrame({"gain": [0] * 90 + list(range(100, 1100, 100)) + [5000] * 5})
    enc = encode_features(frame, ["gain"], quantile_bins=4)
    assert enc.edges["gain"] == [100.0]
    definition = {"gain": [None, 100.0]}
    assert int(mask_for_definition(frame, definition).sum()) == 90


def test_merge_keeps_the_most_general() -> None:
    from compliance.slice_search import SliceCandidate

    a = SliceCandidate(((0, 1), (1, 2)), 100, 40.0, 2.0)
    b = SliceCandidate(((0, 1),), 105, 41.0, 1.5)
    c = SliceCandidate(((2, 0),), 300, 60.0, 1.0)
    m_a = np.zeros(1000, dtype=bool)
    m_a[:100] = True
    m_b = np.zeros(1000, dtype=bool)
    m_b[:105] = True
    m_c = np.zeros(1000, dtype=bool)
    m_c[500:800] = True
    groups = merge_near_duplicates([a, b, c], [m_a, m_b, m_c], jaccard=0.8)
    assert groups == [(1, [0]), (2, [])]


def test_descriptions_in_words() -> None:
    assert describe_definition({"age": [None, 25.0]}) == "age under 25"
    assert (
        describe_definition({"age": [25.0, 40.5], "sex": "Female", "income": [50.0, None]})
        == "age from 25 to under 40.5, sex is Female and income 50 or more"
    )
    assert describe_definition({"occupation": MISSING_LABEL}) == "occupation is missing"


def test_masks_for_definitions() -> None:
    frame = pd.DataFrame({"n": [1.0, 2.0, np.nan, 4.0], "s": ["a", "b", "a", None]})
    assert mask_for_definition(frame, {"n": [None, 2.0]}).tolist() == [True, False, False, False]
    assert mask_for_definition(frame, {"n": "2"}).tolist() == [False, True, False, False]
    assert mask_for_definition(frame, {"s": MISSING_LABEL}).tolist() == [False] * 3 + [True]
    assert mask_for_definition(frame, {"s": "a", "n": [0.0, None]}).tolist() == [
        True,
        False,
        False,
        False,
    ]


def test_overlap_with_a_protected_group_by_composition() -> None:
    rng = np.random.default_rng(4)
    n = 6000
    sex = rng.choice(["F", "M"], n, p=[0.4, 0.6])
    role = np.where(sex == "M", rng.choice(["husband", "other"], n), "other")
    frame = pd.DataFrame({"role": role, "sex": sex, "noise": rng.choice(list("abc"), n)})
    y = rng.integers(0, 2, n).astype(np.int8)
    err = np.where(role == "husband", 0.4, 0.05)
    yp = np.where(rng.random(n) < err, 1 - y, y).astype(np.int8)
    report = find_slices(
        frame,
        y,
        yp,
        features=["role", "noise"],
        protected=["sex"],
        metric=get_slice_metric("error_rate"),
        max_depth=1,
        min_support=30,
        k=3,
    )
    top = report.slices[0]
    assert top.definition == {"role": "husband"}
    assert top.overlaps_protected
    share = top.protected_composition["sex"]
    assert share.group == "M" and share.share == 1.0
    assert share.share_overall == pytest.approx(float((sex == "M").mean()))


def test_protected_groups_of_a_numeric_attribute_are_its_bins() -> None:
    from compliance.slice_search import protected_group_labels

    frame = pd.DataFrame({"age": [20, 35, 70, np.nan], "sex": ["F", "M", None, "F"]})
    labels = protected_group_labels(frame, ["age", "sex"], bins={"age": [30, 65]})
    assert labels["age"].tolist() == ["under 30", "30 to under 65", "65 or more", None]
    assert labels["sex"].tolist() == ["F", "M", None, "F"]


def test_benjamini_hochberg_matches_scipy_and_a_hand_example() -> None:
    # hand: sorted p 0.005, 0.01, 0.03, 0.04 -> 4p/rank = 0.02, 0.02, 0.04, 0.04
    assert list(adjust_pvalues([0.01, 0.04, 0.03, 0.005], "fdr_bh")) == pytest.approx(
        [0.02, 0.04, 0.04, 0.02]
    )
    out = list(adjust_pvalues([0.2, float("nan"), 0.01], "fdr_bh"))
    assert out[0] == pytest.approx(0.2) and math.isnan(out[1]) and out[2] == pytest.approx(0.02)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_bh_is_never_above_holm(p: list[float]) -> None:
    for b, h in zip(
        list(adjust_pvalues(p, "fdr_bh")), list(adjust_pvalues(p, "holm")), strict=True
    ):
        assert b <= h + 1e-12
