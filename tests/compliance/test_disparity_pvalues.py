"""Each disparity's p-value tests the comparison it reports, and the family counts each test once.

A slice compared with its reference group is tested against that group; a slice compared
with everyone ("overall") is tested against the rest of the population. Every expected
p-value here is computed from the rows, independently of the engine's counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from compliance.evidence.fairness import Disparity, FairnessSection
from compliance.fairness import FairnessOptions, assess_fairness

Rows = Callable[[np.ndarray, np.ndarray], np.ndarray]

# proportion metrics as (numerator rows, denominator rows) from y_true and y_pred (booleans)
ROW_PROPORTIONS: dict[str, tuple[Rows, Rows]] = {
    "selection_rate": (lambda y, p: p, lambda y, p: np.ones_like(p)),
    "true_positive_rate": (lambda y, p: y & p, lambda y, p: y),
    "false_positive_rate": (lambda y, p: ~y & p, lambda y, p: ~y),
    "true_negative_rate": (lambda y, p: ~y & ~p, lambda y, p: ~y),
    "false_negative_rate": (lambda y, p: y & ~p, lambda y, p: y),
    "precision": (lambda y, p: y & p, lambda y, p: p),
    "negative_predictive_value": (lambda y, p: ~y & ~p, lambda y, p: ~p),
    "false_discovery_rate": (lambda y, p: ~y & p, lambda y, p: p),
    "false_omission_rate": (lambda y, p: y & ~p, lambda y, p: ~p),
    "accuracy": (lambda y, p: y == p, lambda y, p: np.ones_like(p)),
}
NOT_PROPORTIONS = ("balanced_accuracy", "roc_auc")
SAME_TEST = {
    "false_negative_rate": "true_positive_rate",
    "true_negative_rate": "false_positive_rate",
    "false_discovery_rate": "precision",
    "false_omission_rate": "negative_predictive_value",
}

# selected per group of `g`: A (40%) lies between B (60%, the best served) and C (20%), so A
# differs a lot from B but not from the rest of the population (B, C and D together: 40%)
GROUPS = {"A": (300, 120), "B": (300, 180), "C": (300, 60), "D": (12, 5)}


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    parts = []
    for g, (n, selected) in GROUPS.items():
        pred = np.zeros(n, dtype=int)
        pred[rng.choice(n, size=selected, replace=False)] = 1
        parts.append(
            pd.DataFrame({
                "g": g,
                "s": np.where(np.arange(n) % 2 == 0, "x", "y"),
                "y": rng.integers(0, 2, size=n),
                "pred": pred,
                "score": rng.random(n),
            })
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


FRAME = _frame()
Y = FRAME["y"].to_numpy() == 1
PRED = FRAME["pred"].to_numpy() == 1


def _assess(**options: object) -> FairnessSection:
    opts = FairnessOptions(bootstrap=0, min_slice_size=1, **options)  # type: ignore[arg-type]
    return assess_fairness(
        FRAME["y"].to_numpy(),
        FRAME["pred"].to_numpy(),
        FRAME["score"].to_numpy(),
        FRAME[["g", "s"]],
        options=opts,
    )


def _two_proportion(k1: int, n1: int, k2: int, n2: int) -> tuple[str, float | None]:
    """Pooled two-sided z test, or Fisher's exact test when an expected count is under 5."""
    if n1 == 0 or n2 == 0:
        return "none", None
    pooled = (k1 + k2) / (n1 + n2)
    expected = min(n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if expected < 5:
        return "fisher", float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return "z", 1.0
    z = (k1 / n1 - k2 / n2) / se
    return "z", math.erfc(abs(z) / math.sqrt(2))


def _rows(attributes: dict[str, str]) -> np.ndarray:
    mask = np.ones(len(FRAME), dtype=bool)
    for attr, value in attributes.items():
        mask &= FRAME[attr].to_numpy() == value
    return mask


def _compared_rows(d: Disparity) -> tuple[np.ndarray, np.ndarray]:
    """The slice's rows and the rows it is tested against: the reference group, or the rest."""
    rows = _rows(d.slice)
    other = ~rows if isinstance(d.reference, str) else _rows(d.reference)
    return rows, other


def _expected_test(d: Disparity) -> tuple[str, float | None]:
    rows, other = _compared_rows(d)
    num, den = ROW_PROPORTIONS[d.metric]
    k, n = num(Y, PRED), den(Y, PRED)
    return _two_proportion(
        int((k & rows).sum()), int((n & rows).sum()), int((k & other).sum()), int((n & other).sum())
    )


def _find(
    section: FairnessSection, metric: str, slice_: dict[str, str], reference: object
) -> Disparity:
    found = [
        d
        for d in section.disparities
        if d.metric == metric and d.slice == slice_ and d.reference == reference
    ]
    assert len(found) == 1, (metric, slice_, reference)
    return found[0]


@pytest.fixture(scope="module")
def section() -> FairnessSection:
    return _assess(depth=2)


def test_reference_group_p_value_tests_the_slice_against_the_reference_group(
    section: FairnessSection,
) -> None:
    to_group = _find(section, "selection_rate", {"g": "A"}, {"g": "B"})
    test, p = _two_proportion(120, 300, 180, 300)
    assert to_group.test == test == "z"
    assert to_group.p_value == pytest.approx(p, rel=1e-9)
    assert (
        to_group.p_value is not None and to_group.p_value < 1e-5
    )  # 40% against 60%, 300 rows each
    assert to_group.p_adjusted is not None and to_group.p_adjusted < 0.05
    assert to_group.significant
    assert to_group.ratio.value == pytest.approx(120 / 180)


def test_overall_p_value_tests_the_slice_against_the_rest(section: FairnessSection) -> None:
    to_all = _find(section, "selection_rate", {"g": "A"}, "overall")
    rest_n = sum(n for g, (n, _) in GROUPS.items() if g != "A")
    rest_k = sum(k for g, (_, k) in GROUPS.items() if g != "A")
    test, p = _two_proportion(120, 300, rest_k, rest_n)
    assert to_all.test == test == "z"
    assert to_all.p_value == pytest.approx(p, rel=1e-9)
    assert (
        to_all.p_value is not None and to_all.p_value > 0.5
    )  # A is as selected as the rest of the population
    assert not to_all.significant


def test_the_reference_group_is_not_tested_against_itself(section: FairnessSection) -> None:
    for d in section.disparities:
        assert d.slice != d.reference
    assert _find(section, "selection_rate", {"g": "B"}, "overall").p_value is not None


def test_a_chosen_reference_group_is_the_one_tested_against() -> None:
    chosen = _assess(depth=1, reference={"g": "C"})
    d = _find(chosen, "selection_rate", {"g": "A"}, {"g": "C"})
    assert d.p_value == pytest.approx(_two_proportion(120, 300, 60, 300)[1], rel=1e-9)


def test_every_p_value_tests_its_own_comparison(section: FairnessSection) -> None:
    tested = {d.metric for d in section.disparities if d.p_value is not None}
    assert tested == set(ROW_PROPORTIONS)
    kinds = set()
    for d in section.disparities:
        if d.metric in NOT_PROPORTIONS:
            assert (d.test, d.p_value, d.p_adjusted, d.significant) == ("none", None, None, False)
            continue
        test, p = _expected_test(d)
        assert d.test == test, d
        if p is None:  # an empty denominator on one side
            assert d.p_value is None and d.p_adjusted is None and not d.significant
            continue
        assert d.p_value == pytest.approx(p, rel=1e-9, abs=1e-300), d
        kinds.add((test, "overall" if d.reference == "overall" else "group"))
    # both kinds of comparison, and both tests, are exercised
    assert {("z", "group"), ("z", "overall"), ("fisher", "overall")} <= kinds


def _holm(p: list[float]) -> list[float]:
    m = len(p)
    out = [0.0] * m
    running = 0.0
    for rank, j in enumerate(sorted(range(m), key=lambda j: p[j])):
        running = max(running, min(1.0, (m - rank) * p[j]))
        out[j] = running
    return out


def _benjamini_hochberg(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda j: p[j])
    out = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        j = order[rank - 1]
        running = min(running, p[j] * m / rank)
        out[j] = running
    return out


@pytest.mark.parametrize(
    ("correction", "adjust"), [("holm", _holm), ("fdr_bh", _benjamini_hochberg)]
)
def test_adjustment_is_over_each_distinct_test_once(
    correction: str, adjust: Callable[[list[float]], list[float]]
) -> None:
    section = _assess(depth=2, correction=correction)
    family: dict[tuple[str, frozenset[bytes]], float] = {}
    key_of: dict[int, tuple[str, frozenset[bytes]]] = {}
    for k, d in enumerate(section.disparities):
        if d.p_value is None:
            continue
        rows, other = _compared_rows(d)
        # a rate and its complement (TPR and FNR, ...) are one hypothesis
        metric = SAME_TEST.get(d.metric, d.metric)
        key = (metric, frozenset((rows.tobytes(), other.tobytes())))
        family.setdefault(key, d.p_value)
        key_of[k] = key
    # in the two-group dimension s, "x against y", "x against the rest" and "y against
    # the rest" are one test, so the family is smaller than the number of p-values; and
    # a rate and its complement count once: 6 distinct rates, not 10
    assert len(family) < len(key_of)
    assert {k[0] for k in family} == set(ROW_PROPORTIONS) - set(SAME_TEST)
    keys = list(family)
    expected = dict(zip(keys, adjust([family[k] for k in keys]), strict=True))
    for k, d in enumerate(section.disparities):
        if d.p_value is None:
            assert d.p_adjusted is None and not d.significant
            continue
        assert d.p_value == pytest.approx(family[key_of[k]], rel=1e-9, abs=1e-300)
        assert d.p_adjusted == pytest.approx(expected[key_of[k]], rel=1e-9, abs=1e-300), d
        assert d.significant == (expected[key_of[k]] < section.alpha)
