"""Pure statistics: two-proportion tests, multiple-comparison corrections, intervals."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import stats as sps

FISHER_BELOW = 5  # expected cell count under which Fisher's exact test is used


def two_proportion_test(
    k1: int, n1: int, k2: int, n2: int
) -> tuple[Literal["z", "fisher", "none"], float | None]:
    """Test H0: the proportion k1/n1 equals k2/n2. Returns (test name, two-sided p).

    The two samples must be independent (disjoint sets of rows). A pooled z test, or
    Fisher's exact test when an expected cell count is under FISHER_BELOW.
    """
    if n1 == 0 or n2 == 0:
        return "none", None
    total = k1 + k2
    n = n1 + n2
    expected = min(n1 * total / n, n1 * (n - total) / n, n2 * total / n, n2 * (n - total) / n)
    if expected < FISHER_BELOW:
        table = [[k1, n1 - k1], [k2, n2 - k2]]
        return "fisher", float(sps.fisher_exact(table).pvalue)
    p_pool = total / n
    se = math.sqrt(p_pool * (1 - p_pool) * (1 / n1 + 1 / n2))
    if se == 0:
        return "z", 1.0
    z = (k1 / n1 - k2 / n2) / se
    return "z", float(2 * sps.norm.sf(abs(z)))


def adjust_pvalues(p: np.ndarray | list[float], method: str) -> np.ndarray:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjustment.

    NaN marks a test that was not made: it stays NaN and does not count in the family.
    """
    p = np.asarray(p, dtype=float)
    tested = ~np.isnan(p)
    if not tested.all():
        partial: np.ndarray = np.full(p.shape, np.nan)
        partial[tested] = adjust_pvalues(p[tested], method)
        return partial
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "fdr_bh":
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}; expected 'holm' or 'fdr_bh'")
    out: np.ndarray = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval along axis 0, ignoring undefined (NaN) draws."""
    alpha = (1 - level) / 2
    with np.errstate(all="ignore"):
        valid = np.isfinite(draws)
        d = np.where(valid, draws, np.nan)
        all_nan = ~valid.any(axis=0)
        d[:, all_nan] = 0.0
        lo, hi = np.nanquantile(d, [alpha, 1 - alpha], axis=0)
    lo = np.where(all_nan, np.nan, lo)
    hi = np.where(all_nan, np.nan, hi)
    return lo, hi


def wilson_bounds(
    successes: np.ndarray, n: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score intervals of binomial proportions, elementwise; NaN where n is 0.

    Unlike a percentile bootstrap it does not collapse at 0 or 1: 10 of 10 gives
    [0.72, 1], not [1, 1].
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = float(sps.norm.ppf(0.5 + level / 2.0))
    with np.errstate(all="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        # exact at the ends (rounding would otherwise leave p = 1 just outside)
        lo = np.where(k <= 0, 0.0, np.maximum(0.0, np.minimum(centre - half, p)))
        hi = np.where(k >= n, 1.0, np.minimum(1.0, np.maximum(centre + half, p)))
    empty = n <= 0
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


def wilson_interval(successes: float, n: float, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (nan, nan) when n is 0."""
    lo, hi = wilson_bounds(np.asarray(successes), np.asarray(n), level)
    return float(lo), float(hi)


def mover_ratio(
    p1: np.ndarray,
    l1: np.ndarray,
    u1: np.ndarray,
    p2: np.ndarray,
    l2: np.ndarray,
    u2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of p1 / p2 for two independent estimates with intervals [l, u] (MOVER-R,
    Donner & Zou 2012): the ratios r for which the MOVER interval of p1 - r p2 holds 0.
    The upper bound is +inf when l2 is 0 (p2 = 0, where the ratio is undefined or
    infinite)."""
    with np.errstate(all="ignore"):
        b = p1 * p2
        a_lo = u2 * (2 * p2 - u2)
        c_lo = l1 * (2 * p1 - l1)
        root = np.sqrt(np.maximum(b * b - a_lo * c_lo, 0.0))
        lo = np.where(np.abs(a_lo) > 1e-15, (b - root) / a_lo, c_lo / (2 * b))
        lo = np.where(p1 <= 0, 0.0, np.maximum(lo, 0.0))
        a_hi = l2 * (2 * p2 - l2)
        c_hi = u1 * (2 * p1 - u1)
        root = np.sqrt(np.maximum(b * b - a_hi * c_hi, 0.0))
        hi = np.where(a_hi > 0, (b + root) / a_hi, np.inf)
    return lo, hi


def compare_proportions(
    k1: np.ndarray,
    n1: np.ndarray,
    k2: np.ndarray,
    n2: np.ndarray,
    *,
    pooled: np.ndarray,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Intervals (difference low, high, ratio low, high) of p1 - p and p1 / p, elementwise.

    Two disjoint samples k1/n1 and k2/n2. Where `pooled` is False, p = p2: Newcombe's hybrid
    score interval for the difference (MOVER on Wilson intervals) and MOVER-R for the ratio.
    Where it is True, p is the rate of both samples together (a slice against everyone,
    the second sample being the rest): with w = n1 / (n1 + n2), p1 - p = (1 - w)(p1 - p2)
    and p1 / p = q / (w q + 1 - w) with q = p1 / p2, so the intervals map over exactly.
    """
    k1, n1, k2, n2 = (np.asarray(x, dtype=float) for x in (k1, n1, k2, n2))
    l1, u1 = wilson_bounds(k1, n1, level)
    l2, u2 = wilson_bounds(k2, n2, level)
    with np.errstate(all="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        d_lo = p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        d_hi = p1 - p2 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        r_lo, r_hi = mover_ratio(p1, l1, u1, p2, l2, u2)
        w = n1 / (n1 + n2)
        # the rest is empty (the slice is everyone): the comparison is exact
        alone = pooled & (n2 <= 0) & (n1 > 0)
        scale = np.where(pooled, 1 - w, 1.0)
        d_lo, d_hi = np.where(alone, 0.0, d_lo * scale), np.where(alone, 0.0, d_hi * scale)
        # an infinite q (p2 = 0) maps to 1 / w, its limit
        r_lo = np.where(pooled, np.where(np.isinf(r_lo), 1 / w, r_lo / (w * r_lo + 1 - w)), r_lo)
        r_hi = np.where(pooled, np.where(np.isinf(r_hi), 1 / w, r_hi / (w * r_hi + 1 - w)), r_hi)
        r_lo, r_hi = np.where(alone, 1.0, r_lo), np.where(alone, 1.0, r_hi)
        # no ratio to a rate of 0
        undefined = np.where(pooled, ~(k1 + k2 > 0), ~(p2 > 0))
    return d_lo, d_hi, np.where(undefined, np.nan, r_lo), np.where(undefined, np.nan, r_hi)


def spread_bounds(
    d_lo: np.ndarray, d_hi: np.ndarray, r_lo: np.ndarray, r_hi: np.ndarray
) -> tuple[float, float, float, float]:
    """Bounds of max - min and min / max over groups, from intervals for every pair i < j
    of a - b (d) and a / b (r), a and b the pair's two values: when every pair's intervals
    hold, the true max - min and min / max lie within the bounds returned. NaN where a pair
    has none."""
    with np.errstate(all="ignore"):
        # |a - b|, and min(a / b, b / a) through the reciprocal interval
        abs_lo = np.maximum(np.maximum(d_lo, -d_hi), 0.0)
        abs_hi = np.maximum(d_hi, -d_lo)
        min_lo = np.minimum(r_lo, 1.0 / r_hi)
        min_hi = np.minimum(np.minimum(r_hi, 1.0 / r_lo), 1.0)
    nothing = (math.nan, math.nan)
    diff = (float(abs_lo.max()), float(abs_hi.max())) if np.isfinite(abs_hi).all() else nothing
    ratio = nothing
    if not (np.isnan(min_lo).any() or np.isnan(min_hi).any()):
        ratio = (float(min_lo.min()), float(min_hi.min()))
    return (*diff, *ratio)


def bonferroni_level(level: float, tests: int) -> float:
    """The level of each of `tests` intervals that hold together with probability `level`."""
    return 1.0 - (1.0 - level) / max(tests, 1)


def spread_intervals(
    rates: list[tuple[np.ndarray, np.ndarray]], level: float = 0.95
) -> tuple[float, float, float, float]:
    """Simultaneous intervals (difference low, high, ratio low, high) of the largest
    between-group difference (max - min) and the smallest ratio (min / max) of rates.

    `rates` holds, per rate, the successes and trials of each of its groups; the difference
    is the largest over the rates and the ratio the smallest (as equalized odds). Every
    pair of groups of every rate gets a Newcombe interval for its difference and a MOVER-R
    interval for its ratio at level 1 - (1 - level) / K, K the number of pairs
    (Bonferroni), so that all hold with probability at least `level` (`spread_bounds`).
    With two groups and one rate this is the Newcombe interval of |p1 - p2|; with more it
    is conservative. A percentile bootstrap of max - min covered 0% with 8 close groups.
    """
    k1, n1, k2, n2 = ([] for _ in range(4))
    for k, n in rates:
        i, j = np.triu_indices(len(k), 1)
        k1.append(np.asarray(k, dtype=float)[i])
        n1.append(np.asarray(n, dtype=float)[i])
        k2.append(np.asarray(k, dtype=float)[j])
        n2.append(np.asarray(n, dtype=float)[j])
    a, m, b, o = (np.concatenate(x) if x else np.empty(0) for x in (k1, n1, k2, n2))
    if len(a) == 0:
        return (math.nan,) * 4
    each = bonferroni_level(level, len(a))
    d_lo, d_hi, _, _ = compare_proportions(a, m, b, o, pooled=np.zeros(len(a), bool), level=each)
    l1, u1 = wilson_bounds(a, m, each)
    l2, u2 = wilson_bounds(b, o, each)
    with np.errstate(all="ignore"):
        # unmasked: a rate of 0 gives a ratio interval up to +inf, whose reciprocal is sound
        r_lo, r_hi = mover_ratio(a / m, l1, u1, b / o, l2, u2)
    return spread_bounds(d_lo, d_hi, r_lo, r_hi)
