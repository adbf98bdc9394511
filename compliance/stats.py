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


def wilson_interval(successes: float, n: float, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (nan, nan) when n is 0."""
    if n <= 0:
        return math.nan, math.nan
    z = float(sps.norm.ppf(0.5 + level / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the ends (rounding would otherwise leave p = 1 just outside)
    lo = 0.0 if successes <= 0 else max(0.0, min(centre - half, p))
    hi = 1.0 if successes >= n else min(1.0, max(centre + half, p))
    return lo, hi
