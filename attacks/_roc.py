"""Pure maths of membership-inference evaluation: ROC, TPR at low FPR, epsilon bounds.

Conventions: `is_member` is 0/1 (1 = member), `scores` are higher for "more likely a
member". Every function is deterministic given its inputs (and `seed` where it splits).

The empirical epsilon lower bound follows the hypothesis-testing view of differential
privacy: an (eps, delta)-DP training algorithm forces every membership test to satisfy
TPR <= exp(eps) * FPR + delta, and the same with members and non-members swapped (TNR <=
exp(eps) * FNR + delta). So eps >= ln((TPR - delta) / FPR) for any test; both forms are
tried, for "member if score >= t" and "member if score < t". A *lower* confidence bound on TPR
with an *upper* confidence bound on FPR gives a lower confidence bound on eps. Choosing
the threshold on the same points the bound is computed on overstates it, so the
threshold (and direction) is chosen on one half of the evaluation set and the bound is
computed once, on the other half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "EpsilonBound",
    "RocSummary",
    "clopper_pearson",
    "epsilon_lower_bound",
    "roc_auc",
    "roc_curve",
    "roc_points_for_plot",
    "summarise_roc",
    "tpr_at_fpr",
    "tpr_at_fpr_bounds",
]


def _validate(is_member: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(is_member).astype(bool).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"is_member has {y.size} entries but scores has {s.size}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    return y, s


def roc_auc(is_member: np.ndarray, scores: np.ndarray) -> float:
    """The area under the ROC curve (ties count half)."""
    fpr, tpr, _ = roc_curve(is_member, scores)
    return float(np.trapezoid(tpr, fpr))


def roc_curve(
    is_member: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every operating point of "member if score >= t": (fpr, tpr, thresholds).

    Starts at (0, 0) with threshold +inf and ends at (1, 1); ties share one point.
    """
    y, s = _validate(is_member, scores)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("need at least one member and one non-member")
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s.size - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    fpr = np.r_[0.0, fp / n_neg]
    tpr = np.r_[0.0, tp / n_pos]
    thresholds = np.r_[np.inf, s_sorted[last_of_tie]]
    return fpr, tpr, thresholds


def tpr_at_fpr(is_member: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """The highest TPR of a threshold test whose FPR is at most `fpr` (no interpolation)."""
    fprs, tprs, _ = roc_curve(is_member, scores)
    return float(tprs[fprs <= fpr + 1e-12].max())


def clopper_pearson(
    k: int, n: int, *, alpha: float = 0.05, side: str = "two"
) -> tuple[float, float]:
    """Clopper-Pearson interval of a binomial proportion k/n.

    `side="lower"` gives a one-sided (lower, 1) bound at level 1 - alpha, `"upper"` gives
    (0, upper), `"two"` the usual two-sided interval with alpha/2 in each tail.
    """
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    tail = alpha / 2 if side == "two" else alpha
    lo = 0.0 if k == 0 else float(stats.beta.ppf(tail, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - tail, k + 1, n - k))
    if side == "lower":
        return lo, 1.0
    if side == "upper":
        return 0.0, hi
    if side != "two":
        raise ValueError(f"side must be 'two', 'lower' or 'upper', got {side!r}")
    return lo, hi


@dataclass(frozen=True)
class RocSummary:
    """The figures of one attack's ROC.

    `tpr_at_fpr_ci` is a two-sided interval at 1 - alpha; `tpr_at_fpr_bounds` a one-sided
    lower and a one-sided upper bound, each at `bound_confidence`. All account for the
    threshold's own sampling error.
    """

    auc: float
    balanced_accuracy: float
    advantage: float
    tpr_at_fpr: dict[str, float]
    tpr_at_fpr_ci: dict[str, tuple[float, float]]
    tpr_at_fpr_bounds: dict[str, tuple[float, float]]
    thresholds_at_fpr: dict[str, float]
    n_members: int
    n_nonmembers: int


def summarise_roc(
    is_member: np.ndarray,
    scores: np.ndarray,
    *,
    fprs: tuple[float, ...] = (0.01, 0.001),
    alpha: float = 0.05,
    bound_confidence: float = 0.95,
) -> RocSummary:
    """AUC, best balanced accuracy, advantage (max TPR - FPR) and TPR at each FPR.

    TPR at a given FPR is that of the threshold chosen on these same non-members; its
    interval (two-sided at 1 - alpha) and its one-sided bounds (at `bound_confidence`
    each) come from `tpr_at_fpr_bounds`, which accounts for where that threshold falls as
    well as for which members pass it.
    """
    y, s = _validate(is_member, scores)
    fpr, tpr, thr = roc_curve(y, s)
    auc = float(np.trapezoid(tpr, fpr))
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    advantage = float(np.max(tpr - fpr))
    mem, non = s[y], -np.sort(-s[~y])  # non-member scores highest first, sorted once
    out_tpr: dict[str, float] = {}
    out_ci: dict[str, tuple[float, float]] = {}
    out_bounds: dict[str, tuple[float, float]] = {}
    out_thr: dict[str, float] = {}
    for target in fprs:
        key = _fpr_key(target)
        ok = np.flatnonzero(fpr <= target + 1e-12)
        best = ok[np.argmax(tpr[ok])]
        out_tpr[key] = float(tpr[best])
        out_ci[key] = (
            _bound(mem, non, target, alpha / 2, "lower"),
            _bound(mem, non, target, alpha / 2, "upper"),
        )
        out_bounds[key] = (
            _bound(mem, non, target, 1 - bound_confidence, "lower"),
            _bound(mem, non, target, 1 - bound_confidence, "upper"),
        )
        out_thr[key] = float(thr[best])
    return RocSummary(
        auc=auc,
        balanced_accuracy=0.5 + advantage / 2,
        advantage=advantage,
        tpr_at_fpr=out_tpr,
        tpr_at_fpr_ci=out_ci,
        tpr_at_fpr_bounds=out_bounds,
        thresholds_at_fpr=out_thr,
        n_members=n_pos,
        n_nonmembers=n_neg,
    )


def tpr_at_fpr_bounds(
    is_member: np.ndarray, scores: np.ndarray, fpr: float, *, alpha: float, side: str = "lower"
) -> float:
    """A distribution-free one-sided bound, at level 1 - alpha, on the TPR at `fpr`.

    The quantity bounded is the TPR of the best test "member if score >= t" whose FPR on
    the population is at most `fpr`. Two things are uncertain: where that threshold lies
    among the non-members' scores, and which share of members passes it. The number of
    non-members at or above the true threshold is at most Binomial(n, fpr), and at or above
    the next lower score more than that; so, with probability 1 - alpha/2, the true
    threshold lies above the k-th highest non-member score (for an upper bound) or no more
    than one score level below it (for a lower bound), k read off the binomial. In both
    cases the members strictly above that order statistic give a one-sided Clopper-Pearson
    bound at 1 - alpha/2, and both hold together with probability at least 1 - alpha
    (Bonferroni; the members are independent of the non-members). No assumption is made
    on the scores: ties (a forest's p = 1.0) are allowed.
    """
    if side not in ("lower", "upper"):
        raise ValueError(f"side must be 'lower' or 'upper', got {side!r}")
    y, s = _validate(is_member, scores)
    if not y.any() or y.all():
        raise ValueError("need at least one member and one non-member")
    return _bound(s[y], -np.sort(-s[~y]), fpr, alpha, side)


def _bound(mem: np.ndarray, non: np.ndarray, fpr: float, alpha: float, side: str) -> float:
    """`tpr_at_fpr_bounds` on member scores and non-member scores sorted highest first."""
    half = alpha / 2
    cdf = stats.binom.cdf(np.arange(non.size + 1), non.size, fpr)
    if side == "lower":
        # at least k non-members at or above the level below the true threshold
        k = int(np.count_nonzero(cdf <= half))
        caught = 0 if k == 0 else int(np.count_nonzero(mem > non[k - 1]))
        return clopper_pearson(caught, mem.size, alpha=half, side="lower")[0]
    # fewer than k non-members at or above the true threshold
    k = int(np.count_nonzero(cdf < 1 - half)) + 1
    caught = mem.size if k > non.size else int(np.count_nonzero(mem > non[k - 1]))
    return clopper_pearson(caught, mem.size, alpha=half, side="upper")[1]


def _fpr_key(fpr: float) -> str:
    return f"{fpr:g}"


def roc_points_for_plot(
    is_member: np.ndarray, scores: np.ndarray, *, points: int = 60
) -> list[tuple[float, float]]:
    """ROC points at log-spaced FPRs (for a log-log plot), each the best TPR at that FPR."""
    fpr, tpr, _ = roc_curve(is_member, scores)
    n_neg = int((~np.asarray(is_member).astype(bool)).sum())
    grid = np.unique(np.r_[np.geomspace(1.0 / n_neg, 1.0, points), 1.0])
    # best TPR at FPR <= g, via the running maximum of tpr over sorted fpr
    best = np.maximum.accumulate(tpr)
    idx = np.searchsorted(fpr, grid + 1e-12, side="right") - 1
    return [(round(float(g), 6), round(float(best[i]), 6)) for g, i in zip(grid, idx, strict=True)]


@dataclass(frozen=True)
class EpsilonBound:
    """A split-threshold empirical epsilon lower bound and how it was obtained."""

    value: float
    threshold: float
    direction: str  # a key of _event_counts: "high" is "member if score >= t"
    tpr_lower: float  # the lower bound of the numerator's rate (TPR for "high")
    fpr_upper: float  # the upper bound of the denominator's rate (FPR for "high")
    n_select: int
    n_bound: int
    confidence: float
    delta: float


def _event_counts(above_m: Any, n_m: int, above_n: Any, n_n: int) -> dict[str, tuple[Any, ...]]:
    """The four tests DP bounds, from the counts of members and non-members scoring >= t:
    (count, size) of the group whose rate is the numerator, then of the other. DP bounds
    P[A | one side] <= e^eps P[A | other side] + delta both ways round, for A = "score >= t"
    ("high") and A = "score < t" ("low")."""
    below_m, below_n = n_m - above_m, n_n - above_n
    return {
        "high": (above_m, n_m, above_n, n_n),  # members flagged vs non-members flagged
        "low": (below_m, n_m, below_n, n_n),
        "high, non-members first": (above_n, n_n, above_m, n_m),
        "low, non-members first": (below_n, n_n, below_m, n_m),  # TNR against FNR
    }


def _halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(n)
    return perm[: n // 2], perm[n // 2 :]


def _vector_cp_lower(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        lo = stats.beta.ppf(alpha, np.maximum(k, 1), n - k + 1)
    return np.where(k == 0, 0.0, lo)


def _vector_cp_upper(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        hi = stats.beta.ppf(1 - alpha, k + 1, np.maximum(n - k, 1))
    return np.where(k == n, 1.0, hi)


def _eps_from(tpr_lo: np.ndarray, fpr_hi: np.ndarray, delta: float) -> np.ndarray:
    num = tpr_lo - delta
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.where((num > 0) & (fpr_hi > 0), np.log(num / fpr_hi), 0.0)
    return np.maximum(eps, 0.0)


def epsilon_lower_bound(
    is_member: np.ndarray,
    scores: np.ndarray,
    *,
    seed: int = 0,
    delta: float = 0.0,
    confidence: float = 0.95,
    max_candidates: int = 2000,
) -> EpsilonBound:
    """Empirical lower bound on epsilon, with the threshold chosen on a separate half.

    Members and non-members are each split in two halves with a permutation drawn from
    `seed`. On the first half, every candidate threshold, both directions ("member if
    score >= t", and the complementary "member if score < t") and both forms of the DP
    inequality (members' rate over non-members', and the reverse) are scored by the bound
    they would give there; the best one is then applied once to the second half, where
    the bound ln((TPR_low - delta) / FPR_high) is computed with one-sided Clopper-Pearson
    bounds at level 1 - (1 - confidence) / 2 each, so that both hold jointly with
    probability `confidence` (Bonferroni). The result is clipped at 0 (no evidence).
    """
    y, s = _validate(is_member, scores)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = (1 - confidence) / 2
    mem, non = s[y], s[~y]
    if mem.size < 4 or non.size < 4:
        raise ValueError("need at least 4 members and 4 non-members to split in halves")
    m_sel, m_bnd = _halves(mem.size, seed)
    n_sel, n_bnd = _halves(non.size, seed)
    ms, ns = np.sort(mem[m_sel]), np.sort(non[n_sel])
    cand = np.unique(np.r_[ms, ns])
    if cand.size > max_candidates:
        cand = np.unique(np.quantile(cand, np.linspace(0, 1, max_candidates)))
    # counts of "score >= t" on the selection half
    above_m = ms.size - np.searchsorted(ms, cand, side="left")
    above_n = ns.size - np.searchsorted(ns, cand, side="left")
    scored = {
        form: _eps_from(_vector_cp_lower(k1, n1, alpha), _vector_cp_upper(k2, n2, alpha), delta)
        for form, (k1, n1, k2, n2) in _event_counts(above_m, ms.size, above_n, ns.size).items()
    }
    direction = max(scored, key=lambda form: float(scored[form].max()))  # "high" on a tie
    t = float(cand[int(np.argmax(scored[direction]))])
    mb, nb = mem[m_bnd], non[n_bnd]
    counts = _event_counts(int((mb >= t).sum()), mb.size, int((nb >= t).sum()), nb.size)
    k_tp, n_tp, k_fp, n_fp = counts[direction]
    tpr_lo = clopper_pearson(k_tp, n_tp, alpha=alpha, side="lower")[0]
    fpr_hi = clopper_pearson(k_fp, n_fp, alpha=alpha, side="upper")[1]
    value = float(_eps_from(np.array([tpr_lo]), np.array([fpr_hi]), delta)[0])
    return EpsilonBound(
        value=value if math.isfinite(value) else 0.0,
        threshold=t,
        direction=direction,
        tpr_lower=tpr_lo,
        fpr_upper=fpr_hi,
        n_select=int(m_sel.size + n_sel.size),
        n_bound=int(mb.size + nb.size),
        confidence=confidence,
        delta=delta,
    )
