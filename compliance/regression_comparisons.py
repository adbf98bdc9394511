"""Between-group comparisons of a regression model's metrics, from per-slice sums.

Each regression metric is a function h of the mean of one per-row term: the mean absolute
error of |e|, the root mean squared error (h = sqrt) of e², the mean prediction of the
prediction, the scoring rate of "scored above the sample's median". A slice keeps three
sums per term (rows, sum, sum of squares); sums add, so the rest of the population is the
whole less the slice. From them:

- normal intervals for each slice's metric (central limit theorem; Wilson for the rate);
- a group against its reference group, and against everyone: the difference and the ratio
  with delta-method intervals, and the p-value of the comparison (Welch's t-test on the
  term; the two-proportion test for the scoring rate). Against everyone, the independent
  comparison is the group against the rest: the whole's mean is w·group + (1 - w)·rest;
- the spread over a dimension's groups (max - min, min / max), with simultaneous intervals
  from every pair of groups compared at the Bonferroni level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from compliance.slicing import SliceIndex
from compliance.stats import (
    bonferroni_level,
    spread_bounds,
    two_proportion_test,
    wilson_interval,
)

TERMS: dict[str, str] = {
    "mean_absolute_error": "abs_error",
    "root_mean_squared_error": "squared_error",
    "mean_prediction": "prediction",
    "scoring_rate": "above_median",
}
"""Each regression metric and the per-row term whose mean it is a function of."""


@dataclass(frozen=True)
class SliceMoments:
    """Rows, sums and sums of squares of each per-row term, for every slice (row 0: all).

    The sums are of the term less its median (`shift`): a variance from raw sums cancels
    to nothing on predictions near 1e9, and a constant term then has exactly no spread.
    """

    n: np.ndarray
    s1: dict[str, np.ndarray]
    s2: dict[str, np.ndarray]
    shift: dict[str, float]

    @classmethod
    def of(cls, index: SliceIndex, y_true: np.ndarray, y_pred: np.ndarray) -> SliceMoments:
        pred = np.asarray(y_pred, dtype=float)
        err = pred - np.asarray(y_true, dtype=float)
        terms = {
            "abs_error": np.abs(err),
            "squared_error": err**2,
            "prediction": pred,
            "above_median": (pred > np.median(pred)).astype(float),
        }
        fine, k, m = index.fine_codes, index.n_fine, index.membership
        n = m @ np.bincount(fine, minlength=k).astype(float)
        shift = {t: float(np.median(v)) for t, v in terms.items()}
        centred = {t: v - shift[t] for t, v in terms.items()}
        s1 = {t: m @ np.bincount(fine, weights=v, minlength=k) for t, v in centred.items()}
        s2 = {t: m @ np.bincount(fine, weights=v**2, minlength=k) for t, v in centred.items()}
        return cls(n, s1, s2, shift)

    def stats(self, term: str, i: int, *, rest: bool = False) -> tuple[float, float, float]:
        """(rows, mean, sample variance) of a term in slice i, or in everyone outside it."""
        n, s1, s2 = float(self.n[i]), float(self.s1[term][i]), float(self.s2[term][i])
        if rest:
            n, s1, s2 = (
                float(self.n[0]) - n,
                float(self.s1[term][0]) - s1,
                float(self.s2[term][0]) - s2,
            )
        if n <= 0:
            return 0.0, math.nan, math.nan
        centred = s1 / n
        var = max(s2 - s1 * centred, 0.0) / (n - 1) if n > 1 else math.nan
        return n, self.shift[term] + centred, var


def _h(metric: str, mean: float) -> tuple[float, float]:
    """The metric from its term's mean, and its derivative there."""
    if metric == "root_mean_squared_error":
        root = math.sqrt(max(mean, 0.0))
        return root, (0.5 / root if root > 0 else math.nan)
    return mean, 1.0


@lru_cache(maxsize=8)
def _z(level: float) -> float:
    """The normal quantile of a two-sided `level` interval (asked once per comparison)."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def normal_intervals(mom: SliceMoments, level: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each slice's interval of each metric: the term's mean ± z·sd/√n mapped through h;
    the Wilson score interval for the scoring rate, which stays inside [0, 1]."""
    z = _z(level)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for metric, term in TERMS.items():
        lo, hi = np.full(len(mom.n), np.nan), np.full(len(mom.n), np.nan)
        for i in range(len(mom.n)):
            n, mean, var = mom.stats(term, i)
            if n <= 0:
                continue
            if metric == "scoring_rate":
                lo[i], hi[i] = wilson_interval(round(mean * n), n, level=level)
                continue
            half = z * math.sqrt(var / n) if n > 1 else math.nan
            a, b = mean - half, mean + half
            if metric == "root_mean_squared_error":
                a, b = math.sqrt(max(a, 0.0)), math.sqrt(max(b, 0.0))
            elif metric == "mean_absolute_error":
                a = max(a, 0.0)  # an error is never negative
            lo[i], hi[i] = a, b
        out[metric] = (lo, hi)
    return out


def welch_test(n1: float, m1: float, v1: float, n2: float, m2: float, v2: float) -> float | None:
    """Two-sided p-value of Welch's t-test that two independent means are equal."""
    from scipy.stats import t as student

    if n1 < 2 or n2 < 2 or not all(math.isfinite(x) for x in (m1, v1, m2, v2)):
        return None
    a, b = v1 / n1, v2 / n2
    if a + b == 0:  # two constant groups: the same value, or surely different
        return 1.0 if m1 == m2 else 0.0
    try:
        stat = (m1 - m2) / math.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
    except (OverflowError, ZeroDivisionError):
        return None
    return float(2 * student.sf(abs(stat), df))


@dataclass(frozen=True)
class Comparison:
    """A group's metric against another's: difference and ratio with intervals, and the
    p-value of the test of the comparison."""

    difference: tuple[float, float, float]
    ratio: tuple[float, float, float]
    test: str
    p_value: float | None


def compare(
    mom: SliceMoments,
    metric: str,
    i: int,
    target: int | None,
    level: float,
    *,
    test: bool = True,
) -> Comparison:
    """Slice i against slice `target` (disjoint), or against everyone when it is None;
    `test=False` skips the p-value (for intervals only)."""
    term = TERMS[metric]
    na, ma, va = mom.stats(term, i)
    if target is None:
        nb, mb, vb = mom.stats(term, i, rest=True)
        n_all, m_ref, _ = mom.stats(term, 0)  # = w·ma + (1 - w)·mb, without its rounding
        w = na / n_all if n_all else math.nan
    else:
        nb, mb, vb = mom.stats(term, target)
        w, m_ref = 0.0, mb
    if na <= 0 or nb <= 0:  # nothing to compare with (a group that is everyone)
        nothing = (math.nan, math.nan, math.nan)
        return Comparison(nothing, nothing, "none", None)
    ha, da = _h(metric, ma)
    href, dref = _h(metric, m_ref)
    # the compared value is a function of (ma, mb), mb the target's or the rest's mean;
    # against a group w = 0, against everyone the whole's mean is w·ma + (1 - w)·mb
    var_a = va / na if na > 1 else math.nan
    var_b = vb / nb if nb > 1 else math.nan
    z = _z(level)
    diff = ha - href
    try:
        se = math.sqrt((da - w * dref) ** 2 * var_a + ((1 - w) * dref) ** 2 * var_b)
    except OverflowError:
        se = math.nan
    difference = (diff, diff - z * se, diff + z * se)
    ratio = (math.nan, math.nan, math.nan)
    if ha > 0 and href > 0:
        r = ha / href
        try:
            se_log = math.sqrt(
                (da / ha - w * dref / href) ** 2 * var_a + ((1 - w) * dref / href) ** 2 * var_b
            )
            ratio = (r, r * math.exp(-z * se_log), r * math.exp(z * se_log))
        except OverflowError:
            ratio = (r, math.nan, math.nan)
    if not test:
        return Comparison(difference, ratio, "none", None)
    if metric == "scoring_rate":
        k_a, k_b = round(ma * na), round(mb * nb)
        name, p = two_proportion_test(k_a, int(na), k_b, int(nb))
        return Comparison(difference, ratio, name, p)
    p_welch = welch_test(na, ma, va, nb, mb, vb)
    return Comparison(difference, ratio, "welch" if p_welch is not None else "none", p_welch)


def spread(
    mom: SliceMoments, metric: str, ids: list[int], level: float
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Max - min and min / max of a metric over the groups `ids`, with simultaneous
    intervals: every pair of groups compared (`compare`) at the Bonferroni level, so that
    all hold with probability at least `level`; the spread's bounds follow from them
    (`stats.spread_bounds`). Percentiles of draws of the max - min under-cover when several
    groups are close (the sample maximum is biased upward)."""
    term = TERMS[metric]
    values = np.array([_h(metric, mom.stats(term, i)[1])[0] for i in ids])
    hi, lo = float(values.max()), float(values.min())
    a, b = np.triu_indices(len(ids), 1)
    each = bonferroni_level(level, len(a))
    pairs = [
        compare(mom, metric, ids[i], ids[j], each, test=False) for i, j in zip(a, b, strict=True)
    ]
    d_lo, d_hi, r_lo, r_hi = (
        np.array([c.difference[1] for c in pairs]),
        np.array([c.difference[2] for c in pairs]),
        np.array([c.ratio[1] for c in pairs]),
        np.array([c.ratio[2] for c in pairs]),
    )
    dl, dh, rl, rh = spread_bounds(d_lo, d_hi, r_lo, r_hi)
    if lo <= 0:  # a ratio of values that can be 0 or negative means nothing
        return (hi - lo, dl, dh), (math.nan, math.nan, math.nan)
    return (hi - lo, dl, dh), (lo / hi, rl, rh)
