"""Slice discovery: SliceLine over counts, then honest statistics for what it found.

The search follows Sagadeeva and Boehm, "SliceLine: Fast, Linear-Algebra-based Slice
Finding for ML Model Debugging" (SIGMOD 2021), written afresh over grouped counts:

1. Every feature is encoded as integer levels once: categories as they are, numeric
   features into quantile bins (or the user's bins), missing values as a level of their own.
2. A slice is a conjunction of `feature = level` predicates on distinct features. Its
   score trades its error against its size:

       score(S) = alpha * (e_S / e_bar - 1) - (1 - alpha) * (n / |S| - 1)

   where e_S is the slice's average error, e_bar the overall one and n the row count.
   A score above 0 means the slice is worse than average by more than its smallness
   costs.
3. The lattice is searched level by level (conjunctions of 1, 2, ... predicates). A
   candidate at level L is formed only when all its L parents survived level L-1
   (minimum support and at least one error), and it is evaluated only when its score
   upper bound, computed from the parents' sizes, error sums and maximum errors over
   every admissible size in [min_support, min parent size], can beat the current k-th
   best score.
4. Candidates are evaluated in one `bincount` per feature combination: the levels of
   the combination's features are folded into one integer code, so every cell of that
   combination is counted in a single pass over the rows.

After the search, each reported slice gets its metric with a Wilson interval, the gap to
the rest of the rows with a two-sided test (a pooled two-proportion z test, or Fisher's
exact test when an expected cell count is under 5) and a p-value corrected for the whole
family of slices the search could have reported; see `MULTIPLE_TESTING_NOTE`. Before
reporting, near-duplicates (row Jaccard >= 0.8) are merged into the slice with the fewest
predicates, and a refinement whose rate does not differ from the rest of a more general
slice is folded into it; the merged definitions are kept in `FoundSlice.merged`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from compliance.evidence.discovery import FoundSlice, GroupShare, SliceDefinition
from compliance.stats import adjust_pvalues, two_proportion_test, wilson_interval

__all__ = [
    "MISSING_LABEL",
    "MULTIPLE_TESTING_NOTE",
    "SLICE_METRICS",
    "EncodedFeatures",
    "SearchResult",
    "SliceCandidate",
    "SliceMetric",
    "SliceStats",
    "bonferroni",
    "count_supported_slices",
    "describe_definition",
    "encode_features",
    "evaluate_definitions",
    "find_slices",
    "get_slice_metric",
    "mask_for_definition",
    "merge_near_duplicates",
    "merge_refinements",
    "protected_group_labels",
    "score_upper_bound",
    "sliceline",
    "sliceline_score",
    "wilson_interval",
]

MISSING_LABEL = "(missing)"

MULTIPLE_TESTING_NOTE = (
    "Holm's family-wise correction over every slice the search could have reported "
    "(all conjunctions up to the search depth with at least the minimum support, a family "
    "fixed before looking at any error). Only the reported slices' p-values are computed, "
    "so each is adjusted with the Bonferroni bound m*p, which is Holm's adjusted value for "
    "the most significant slice and an upper bound for every other: the chance that any "
    "reported slice is falsely called worse stays under alpha. Holm (family-wise) rather "
    "than Benjamini-Hochberg (false discovery rate) because each reported slice is a claim "
    "an auditor reads on its own, and because overlapping slices have dependent tests, "
    "for which Holm is valid and BH's guarantee is not assured. Business slices are "
    "hypotheses named in advance: corrected over those alone, exactly, with the run's "
    "--correction (Holm by default)."
)

Level = str | tuple[float | None, float | None]


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class SliceMetric:
    """A count-based metric: the rate of `event` among `eligible` rows.

    `higher_is_worse` says which direction the search looks in; the search itself always
    maximises the rate of the "bad" outcome (the event, or its complement).
    """

    name: str
    eligible: Callable[[np.ndarray, np.ndarray], np.ndarray]
    event: Callable[[np.ndarray, np.ndarray], np.ndarray]
    higher_is_worse: bool
    words: str

    def bad(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The eligible-row mask and the 0/1 "bad outcome" of each eligible row."""
        mask = np.asarray(self.eligible(y_true, y_pred), dtype=bool)
        ev = np.asarray(self.event(y_true[mask], y_pred[mask]), dtype=bool)
        return mask, (ev if self.higher_is_worse else ~ev).astype(np.float64)


def _all(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.ones(len(t), dtype=bool)


SLICE_METRICS: dict[str, SliceMetric] = {
    m.name: m
    for m in [
        SliceMetric("error_rate", _all, lambda t, p: t != p, True, "error rate"),
        SliceMetric("accuracy", _all, lambda t, p: t == p, False, "accuracy"),
        SliceMetric(
            "false_negative_rate",
            lambda t, p: t == 1,
            lambda t, p: p == 0,
            True,
            "false negative rate",
        ),
        SliceMetric(
            "true_positive_rate",
            lambda t, p: t == 1,
            lambda t, p: p == 1,
            False,
            "true positive rate",
        ),
        SliceMetric(
            "false_positive_rate",
            lambda t, p: t == 0,
            lambda t, p: p == 1,
            True,
            "false positive rate",
        ),
        SliceMetric(
            "true_negative_rate",
            lambda t, p: t == 0,
            lambda t, p: p == 0,
            False,
            "true negative rate",
        ),
        SliceMetric(
            "false_discovery_rate",
            lambda t, p: p == 1,
            lambda t, p: t == 0,
            True,
            "false discovery rate",
        ),
        SliceMetric("precision", lambda t, p: p == 1, lambda t, p: t == 1, False, "precision"),
        SliceMetric(
            "false_omission_rate",
            lambda t, p: p == 0,
            lambda t, p: t == 1,
            True,
            "false omission rate",
        ),
        SliceMetric(
            "negative_predictive_value",
            lambda t, p: p == 0,
            lambda t, p: t == 0,
            False,
            "negative predictive value",
        ),
        SliceMetric("selection_rate", _all, lambda t, p: p == 1, False, "selection rate"),
    ]
}


def get_slice_metric(name: str, *, positive_label_favourable: bool = True) -> SliceMetric:
    """The metric called `name`; selection rate is worse when low if the positive is favourable."""
    if name not in SLICE_METRICS:
        raise KeyError(name)
    metric = SLICE_METRICS[name]
    if name == "selection_rate":
        return SliceMetric(
            metric.name, metric.eligible, metric.event, not positive_label_favourable, metric.words
        )
    return metric


# ----------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class EncodedFeatures:
    """Every searched feature as integer level codes (n rows x m features, int32)."""

    names: list[str]
    codes: np.ndarray
    levels: list[list[Level]]
    edges: dict[str, list[float]]

    @property
    def n_levels(self) -> list[int]:
        return [len(lv) for lv in self.levels]

    def take(self, mask: np.ndarray) -> EncodedFeatures:
        return EncodedFeatures(self.names, self.codes[mask], self.levels, self.edges)


def _quantile_edges(values: np.ndarray, q: int) -> list[float]:
    """Interior quantile edges; when ties collapse them, split above the minimum instead."""
    if len(values) == 0:
        return []
    lo = float(values.min())
    probs = np.linspace(0.0, 1.0, q + 1)[1:-1]
    edges = [float(e) for e in np.unique(np.quantile(values, probs)) if e > lo]
    if not edges:
        above = values[values > lo]
        if len(above):
            edges = [float(above.min())]
    return edges


def encode_features(
    frame: pd.DataFrame,
    features: Sequence[str],
    *,
    bins: Mapping[str, Sequence[float]] | None = None,
    quantile_bins: int = 4,
    max_categorical_numeric: int = 10,
) -> EncodedFeatures:
    """Encode `features` of `frame` once into integer levels.

    Numeric columns with more than `max_categorical_numeric` distinct values are cut at
    the user's `bins` edges, or else at `quantile_bins` quantiles; a bin is [low, high)
    with `None` for an open end. Other columns are categories. Missing values are a level
    of their own, `MISSING_LABEL`.
    """
    bins = dict(bins or {})
    codes = np.empty((len(frame), len(features)), dtype=np.int32)
    levels: list[list[Level]] = []
    edges_used: dict[str, list[float]] = {}
    for j, name in enumerate(features):
        col = frame[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        missing = col.isna().to_numpy()
        if numeric and (name in bins or col.nunique(dropna=True) > max_categorical_numeric):
            x = col.to_numpy(dtype=np.float64, na_value=np.nan)
            edges = (
                sorted(float(e) for e in bins[name])
                if name in bins
                else _quantile_edges(x[~missing], quantile_bins)
            )
            edges_used[name] = edges
            bounds: list[float | None] = [None, *edges, None]
            lv: list[Level] = [(bounds[i], bounds[i + 1]) for i in range(len(edges) + 1)]
            c = np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="right")
            c = c.astype(np.int32)
        else:
            cat_codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
            lv = [str(u) for u in uniques]
            c = np.asarray(cat_codes, dtype=np.int32)
        if missing.any():
            c = np.where(missing, len(lv), c).astype(np.int32)
            lv = [*lv, MISSING_LABEL]
        codes[:, j] = c
        levels.append(lv)
    return EncodedFeatures(list(features), codes, levels, edges_used)


# ------------------------------------------------------------------------ scoring


def sliceline_score(
    size: np.ndarray | float,
    errors: np.ndarray | float,
    *,
    n: int,
    average_error: float,
    alpha: float,
) -> np.ndarray:
    """SliceLine's score; -inf for empty slices."""
    ss = np.asarray(size, dtype=np.float64)
    se = np.asarray(errors, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = alpha * ((se / ss) / average_error - 1.0) - (1.0 - alpha) * (n / ss - 1.0)
    return np.where(ss > 0, sc, -np.inf)


def score_upper_bound(
    size_ub: np.ndarray,
    errors_ub: np.ndarray,
    max_error_ub: np.ndarray,
    *,
    n: int,
    average_error: float,
    alpha: float,
    min_support: int,
) -> np.ndarray:
    """An upper bound on the score of any slice below parents with these bounds.

    A descendant has size ss in [min_support, size_ub] and error sum at most
    min(errors_ub, ss * max_error_ub). The score is monotone between the breakpoints
    min_support, errors_ub / max_error_ub and size_ub, so its maximum is at one of them.
    """
    ss_ub = np.asarray(size_ub, dtype=np.float64)
    se_ub = np.asarray(errors_ub, dtype=np.float64)
    sm_ub = np.asarray(max_error_ub, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        knee = np.where(sm_ub > 0, se_ub / sm_ub, ss_ub)
    best = np.full(ss_ub.shape, -np.inf)
    for point in (np.full(ss_ub.shape, float(min_support)), knee, ss_ub):
        ss = np.clip(point, float(min_support), np.maximum(ss_ub, float(min_support)))
        se = np.minimum(se_ub, ss * sm_ub)
        best = np.maximum(
            best, sliceline_score(ss, se, n=n, average_error=average_error, alpha=alpha)
        )
    return np.where(ss_ub >= min_support, best, -np.inf)


# ------------------------------------------------------------------------- search


@dataclass(frozen=True)
class SliceCandidate:
    """A slice of the search: its predicates as (feature index, level code) pairs."""

    items: tuple[tuple[int, int], ...]
    size: int
    errors: float
    score: float


@dataclass(frozen=True)
class SearchResult:
    top: list[SliceCandidate]
    n: int
    average_error: float
    alpha: float
    min_support: int
    max_depth: int
    evaluated: int
    pruned: int
    per_level: list[dict[str, int]] = field(default_factory=list)


def _combo_key(
    codes: np.ndarray, cols: Sequence[int], n_levels: Sequence[int]
) -> tuple[np.ndarray, int]:
    """Fold the level codes of `cols` into one int64 code per row; returns it and its range."""
    key = np.zeros(codes.shape[0], dtype=np.int64)
    span = 1
    for c in cols:
        key = key * n_levels[c] + codes[:, c]
        span *= n_levels[c]
    return key, span


def _cell_counts(
    key: np.ndarray, span: int, errors: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Cell codes present, their sizes and error sums: bincount, or unique when sparse."""
    if span <= 4 * len(key) + 1024:
        sizes = np.bincount(key, minlength=span)
        present = np.flatnonzero(sizes)
        errs = None if errors is None else np.bincount(key, weights=errors, minlength=span)[present]
        return present, sizes[present], errs
    cells, inverse = np.unique(key, return_inverse=True)
    sizes = np.bincount(inverse, minlength=len(cells))
    errs = None if errors is None else np.bincount(inverse, weights=errors, minlength=len(cells))
    return cells, sizes, errs


def sliceline(
    codes: np.ndarray,
    n_levels: Sequence[int],
    errors: np.ndarray,
    *,
    max_depth: int = 3,
    min_support: int = 32,
    alpha: float = 0.95,
    k: int = 10,
) -> SearchResult:
    """The top-`k` slices by SliceLine score (ties broken by fewer predicates, then order).

    `codes` is (n rows x m features) of level codes in [0, n_levels[j]); `errors` holds
    each row's error in [0, 1] (0/1 for the count-based metrics).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    errors = np.asarray(errors, dtype=np.float64)
    n, m = codes.shape
    total = float(errors.sum())
    average = total / n if n else 0.0
    if n == 0 or total <= 0.0:
        return SearchResult([], n, average, alpha, min_support, max_depth, evaluated=0, pruned=0)

    top: list[SliceCandidate] = []

    def threshold() -> float:
        return max(0.0, top[-1].score) if len(top) >= k else 0.0

    def offer(items: list[tuple[tuple[int, int], ...]], ss: np.ndarray, se: np.ndarray) -> None:
        nonlocal top
        sc = sliceline_score(ss, se, n=n, average_error=average, alpha=alpha)
        good = np.flatnonzero((sc > threshold()) & (ss >= min_support) & (se > 0))
        for i in good:
            top.append(SliceCandidate(items[i], int(ss[i]), float(se[i]), float(sc[i])))
        top.sort(key=lambda s: (-s.score, len(s.items), s.items))
        top = top[:k]

    # level 1: one bincount per feature
    items1: list[tuple[tuple[int, int], ...]] = []
    ss_l: list[np.ndarray] = []
    se_l: list[np.ndarray] = []
    max_err = np.zeros(0)
    for j in range(m):
        sz = np.bincount(codes[:, j], minlength=n_levels[j])
        er = np.bincount(codes[:, j], weights=errors, minlength=n_levels[j])
        items1.extend(((j, v),) for v in range(n_levels[j]))
        ss_l.append(sz)
        se_l.append(er)
    ss1 = np.concatenate(ss_l).astype(np.float64)
    se1 = np.concatenate(se_l)
    # the maximum error of a slice, for 0/1 errors 1 wherever there is an error
    binary = bool(np.all((errors == 0) | (errors == 1)))
    if binary:
        max_err = (se1 > 0).astype(np.float64)
    else:
        parts = []
        for j in range(m):
            mx = np.zeros(n_levels[j])
            np.maximum.at(mx, codes[:, j], errors)
            parts.append(mx)
        max_err = np.concatenate(parts)
    evaluated = len(items1)
    pruned = 0
    offer(items1, ss1, se1)
    valid = (ss1 >= min_support) & (se1 > 0) & (ss1 < n)
    per_level = [
        {"level": 1, "candidates": len(items1), "evaluated": len(items1), "valid": int(valid.sum())}
    ]

    def keep_as_parents(
        items: list[tuple[tuple[int, int], ...]], ss: np.ndarray, se: np.ndarray, sm: np.ndarray
    ) -> dict[tuple[tuple[int, int], ...], tuple[float, float, float]]:
        ub = score_upper_bound(
            ss, se, sm, n=n, average_error=average, alpha=alpha, min_support=min_support
        )
        valid = (ss >= min_support) & (se > 0) & (ss < n)
        ok = np.flatnonzero(valid & (ub > threshold()))
        nonlocal pruned
        pruned += int(valid.sum()) - len(ok)  # their descendants can never make the top k
        return {items[i]: (float(ss[i]), float(se[i]), float(sm[i])) for i in ok}

    parents = keep_as_parents(items1, ss1, se1, max_err) if max_depth > 1 else {}
    singles = sorted(it[0] for it in parents)

    for level in range(2, max_depth + 1):
        if not parents:
            break
        cand: list[tuple[tuple[int, int], ...]] = []
        bounds: list[tuple[float, float, float]] = []
        for s in sorted(parents):
            last_feature = s[-1][0]
            base = parents[s]
            for it in singles:
                if it[0] <= last_feature:
                    continue
                c = (*s, it)
                ss_ub, se_ub, sm_ub = base
                ok = True
                for drop in range(level - 1):
                    p = parents.get(c[:drop] + c[drop + 1 :])
                    if p is None:
                        ok = False
                        break
                    ss_ub = min(ss_ub, p[0])
                    se_ub = min(se_ub, p[1])
                    sm_ub = min(sm_ub, p[2])
                if ok:
                    cand.append(c)
                    bounds.append((ss_ub, se_ub, sm_ub))
        if not cand:
            break
        b = np.asarray(bounds, dtype=np.float64)
        ub = score_upper_bound(
            b[:, 0],
            b[:, 1],
            b[:, 2],
            n=n,
            average_error=average,
            alpha=alpha,
            min_support=min_support,
        )
        keep = np.flatnonzero(ub > threshold())
        pruned += len(cand) - len(keep)
        cand = [cand[i] for i in keep]
        if not cand:
            per_level.append(
                {"level": level, "candidates": len(bounds), "evaluated": 0, "valid": 0}
            )
            break
        # evaluate: one pass per feature combination
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, c in enumerate(cand):
            groups.setdefault(tuple(f for f, _ in c), []).append(i)
        ss = np.zeros(len(cand))
        se = np.zeros(len(cand))
        sm = np.zeros(len(cand))
        for cols, idx in groups.items():
            key, span = _combo_key(codes, cols, n_levels)
            cells, sizes, errs = _cell_counts(key, span, errors)
            assert errs is not None
            wanted = np.zeros(len(idx), dtype=np.int64)
            for t, i in enumerate(idx):
                code = 0
                for f, v in cand[i]:
                    code = code * n_levels[f] + v
                wanted[t] = code
            pos = np.searchsorted(cells, wanted)
            pos_c = np.minimum(pos, len(cells) - 1)
            found = cells[pos_c] == wanted
            ss[idx] = np.where(found, sizes[pos_c], 0)
            se[idx] = np.where(found, errs[pos_c], 0.0)
            if binary:
                sm[idx] = (se[idx] > 0).astype(np.float64)
            else:
                mx = np.zeros(len(cells))
                np.maximum.at(mx, np.searchsorted(cells, key), errors)
                sm[idx] = np.where(found, mx[pos_c], 0.0)
        evaluated += len(cand)
        offer(cand, ss, se)
        valid_now = int(((ss >= min_support) & (se > 0) & (ss < n)).sum())
        parents = keep_as_parents(cand, ss, se, sm) if level < max_depth else {}
        per_level.append(
            {
                "level": level,
                "candidates": len(bounds),
                "evaluated": len(cand),
                "valid": valid_now,
            }
        )
    return SearchResult(
        top, n, average, alpha, min_support, max_depth, evaluated, pruned, per_level=per_level
    )


def count_supported_slices(
    codes: np.ndarray,
    n_levels: Sequence[int],
    *,
    max_depth: int,
    min_support: int,
    row_budget: int = 300_000_000,
) -> tuple[int, bool]:
    """How many slices (conjunctions up to `max_depth`) have at least `min_support` rows.

    This is the family the multiple-testing correction counts: it depends on the features
    only, not on any outcome. Exact when the passes fit in `row_budget` row visits;
    otherwise an upper bound (per combination, min(cells, n // min_support)). Returns the
    count and whether it is exact. Slices covering every row are left out (no rest).
    """
    n, m = codes.shape
    if n == 0 or min_support > n:
        return 0, True
    combos = [c for d in range(1, max_depth + 1) for c in itertools.combinations(range(m), d)]
    if len(combos) * n > row_budget:
        cap = n // max(min_support, 1)
        total = 0
        for c in combos:
            total += min(math.prod(n_levels[j] for j in c), cap)
        return total, False
    total = 0
    for c in combos:
        key, span = _combo_key(codes, c, n_levels)
        _, sizes, _ = _cell_counts(key, span, None)
        total += int(np.count_nonzero((sizes >= min_support) & (sizes < n)))
    return total, True


# --------------------------------------------------------------------- statistics


def bonferroni(p_value: float, family_size: int) -> float:
    """min(1, m * p): Holm's adjusted value for the smallest p, a bound for the others."""
    if math.isnan(p_value):
        return math.nan
    return min(1.0, p_value * max(family_size, 1))


# ------------------------------------------------------------------ definitions


def _fmt(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def _level_definition(level: Level) -> str | list[float | None]:
    return level if isinstance(level, str) else [level[0], level[1]]


def _describe_condition(feature: str, value: str | Sequence[float | None]) -> str:
    if isinstance(value, str):
        if value == MISSING_LABEL:
            return f"{feature} is missing"
        return f"{feature} is {value}"
    low, high = value[0], value[1]
    if low is None and high is None:
        return f"{feature} is any value"
    if low is None:
        assert high is not None
        return f"{feature} under {_fmt(high)}"
    if high is None:
        return f"{feature} {_fmt(low)} or more"
    return f"{feature} from {_fmt(low)} to under {_fmt(high)}"


def describe_definition(definition: Mapping[str, str | Sequence[float | None]]) -> str:
    """A slice's definition in words: "age under 28, sex is Female and race is Black"."""
    parts = [_describe_condition(f, v) for f, v in definition.items()]
    if not parts:
        return "all rows"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _interval_text(level: Level) -> str:
    if isinstance(level, str):
        return level
    low, high = level
    if low is None and high is None:
        return "any"
    if low is None:
        assert high is not None
        return f"under {_fmt(high)}"
    if high is None:
        return f"{_fmt(low)} or more"
    return f"{_fmt(low)} to under {_fmt(high)}"


def protected_group_labels(
    frame: pd.DataFrame,
    protected: Sequence[str],
    *,
    bins: Mapping[str, Sequence[float]] | None = None,
    quantile_bins: int = 4,
) -> dict[str, pd.Series]:
    """Each protected attribute's group of every row, as text; missing stays missing.

    A numeric attribute with many values (age) is grouped as the slice search bins it
    (the user's bins, else quantiles), so that "group" means "25 to under 40", not "37".
    """
    out: dict[str, pd.Series] = {}
    for attr in protected:
        col = frame[attr]
        enc = encode_features(frame, [attr], bins=bins, quantile_bins=quantile_bins)
        if attr in enc.edges:
            labels = np.array([_interval_text(v) for v in enc.levels[0]], dtype=object)
            text = pd.Series(labels[enc.codes[:, 0]], index=frame.index, dtype=object)
            out[attr] = text.where(col.notna(), None)
        else:
            text = pd.Series(
                col.astype(str).str.strip().to_numpy(dtype=object), index=frame.index, dtype=object
            )
            out[attr] = text.where(col.notna(), None)
    return out


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def mask_for_definition(
    frame: pd.DataFrame, definition: Mapping[str, str | Sequence[float | None]]
) -> np.ndarray:
    """Rows of `frame` in the slice: equality on the value as text, or low <= x < high."""
    mask = np.ones(len(frame), dtype=bool)
    for feature, value in definition.items():
        col = frame[feature]
        if isinstance(value, str):
            number = _as_number(value) if pd.api.types.is_numeric_dtype(col) else None
            if value == MISSING_LABEL:
                mask &= col.isna().to_numpy()
            elif number is not None:
                x = col.to_numpy(dtype=np.float64, na_value=np.nan)
                mask &= x == number
            else:
                mask &= (col.notna() & (col.astype(str).str.strip() == value)).to_numpy()
        else:
            x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            low, high = value[0], value[1]
            ok = ~np.isnan(x)
            if low is not None:
                ok &= x >= low
            if high is not None:
                ok &= x < high
            mask &= ok
    return mask


# ------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class SliceStats:
    """The metric of a set of rows against the rest, before multiple-testing correction."""

    n: int
    denominator: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    rest_value: float | None
    gap: float | None
    p_value: float | None
    test: Literal["z", "fisher", "none"]


def _nan_to_none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _slice_stats(
    in_slice: np.ndarray,
    eligible: np.ndarray,
    event: np.ndarray,
    *,
    ci_level: float,
) -> SliceStats:
    """`in_slice`, `eligible`, `event`: row masks over the whole frame."""
    n = int(in_slice.sum())
    d1 = int((in_slice & eligible).sum())
    x1 = int((in_slice & eligible & event).sum())
    d2 = int((~in_slice & eligible).sum())
    x2 = int((~in_slice & eligible & event).sum())
    if d1 == 0:
        return SliceStats(n, 0, None, None, None, None, None, None, "none")
    lo, hi = wilson_interval(x1, d1, level=ci_level)
    value = x1 / d1
    rest = x2 / d2 if d2 else math.nan
    test, p_or_none = two_proportion_test(x1, d1, x2, d2)
    p = math.nan if p_or_none is None else p_or_none
    return SliceStats(
        n, d1, value, lo, hi, _nan_to_none(rest), _nan_to_none(value - rest), _nan_to_none(p), test
    )


def _protected_composition(
    in_slice: np.ndarray, protected: Mapping[str, pd.Series]
) -> dict[str, GroupShare]:
    """For each protected attribute, the slice's largest group and its share in and out."""
    out: dict[str, GroupShare] = {}
    n = int(in_slice.sum())
    if n == 0:
        return out
    for attr, col in protected.items():
        values = col.where(col.notna(), MISSING_LABEL).astype(str)
        inside = values[in_slice].value_counts()
        group = str(inside.index[0])
        overall = float((values == group).mean())
        out[attr] = GroupShare(group=group, share=float(inside.iloc[0] / n), share_overall=overall)
    return out


def _overlaps(
    definition: Mapping[str, object],
    composition: Mapping[str, GroupShare],
    protected: Sequence[str],
) -> bool:
    """Names a protected attribute, or lies (nearly) within one protected group
    (`GroupShare.concentrated`)."""
    if any(f in protected for f in definition):
        return True
    return any(g.concentrated for g in composition.values())


def merge_near_duplicates(
    candidates: Sequence[SliceCandidate],
    masks: Sequence[np.ndarray],
    *,
    jaccard: float = 0.8,
) -> list[tuple[int, list[int]]]:
    """Group slices whose rows overlap by Jaccard >= `jaccard`; keep the most general.

    Returns (kept index, merged indices) in the order of the kept slices' best member's
    rank. The most general member has the fewest predicates (then the most rows, then
    the best rank).
    """
    clusters: list[list[int]] = []
    for i in range(len(candidates)):
        placed = False
        for cl in clusters:
            for j in cl:
                inter = int(np.count_nonzero(masks[i] & masks[j]))
                union = int(np.count_nonzero(masks[i] | masks[j]))
                if union and inter / union >= jaccard:
                    cl.append(i)
                    placed = True
                    break
            if placed:
                break
        if not placed:
            clusters.append([i])
    out: list[tuple[int, list[int]]] = []
    for cl in clusters:
        keep = min(cl, key=lambda i: (len(candidates[i].items), -candidates[i].size, i))
        out.append((keep, [i for i in cl if i != keep]))
    return out


def merge_refinements(
    candidates: Sequence[SliceCandidate],
    masks: Sequence[np.ndarray],
    groups: Sequence[tuple[int, list[int]]],
    *,
    eligible: np.ndarray,
    event: np.ndarray,
    level: float = 0.05,
) -> list[tuple[int, list[int]]]:
    """Fold a slice into a more general one when it adds nothing to it.

    A slice that refines a more general one (its predicates are a superset) and whose
    rate does not differ from the rest of the general slice says nothing the general slice
    does not: "region C and product card and sex F" when the whole of "region C and
    product card" fails alike. "Differ" is a two-sided test at `level`, Bonferroni-
    corrected over the comparisons made. Generals are settled first (fewest predicates),
    a slice folds into the most general slice it refines, and the result keeps the
    groups' original order.
    """
    order = sorted(range(len(groups)), key=lambda g: (len(candidates[groups[g][0]].items), g))
    pairs = sum(
        1
        for a in range(len(groups))
        for b in range(len(groups))
        if set(candidates[groups[a][0]].items) < set(candidates[groups[b][0]].items)
    )
    threshold = level / max(pairs, 1)
    into: dict[int, int] = {}  # group -> the group it folds into
    for g in order:
        items = set(candidates[groups[g][0]].items)
        for h in order:
            if h == g or h in into:
                continue
            general = set(candidates[groups[h][0]].items)
            if not general < items:
                continue
            inside = masks[groups[g][0]] & eligible
            rest = masks[groups[h][0]] & ~masks[groups[g][0]] & eligible
            _, p = two_proportion_test(
                int((inside & event).sum()),
                int(inside.sum()),
                int((rest & event).sum()),
                int(rest.sum()),
            )
            if p is None or p >= threshold:
                into[g] = h
                break
    out: list[tuple[int, list[int]]] = []
    for g, (keep, others) in enumerate(groups):
        if g in into:
            continue
        absorbed = list(others)
        for child, parent in into.items():
            if parent == g:
                absorbed.extend([groups[child][0], *groups[child][1]])
        out.append((keep, absorbed))
    return out


def _definition_of(enc: EncodedFeatures, items: Sequence[tuple[int, int]]) -> SliceDefinition:
    return {enc.names[f]: _level_definition(enc.levels[f][v]) for f, v in items}


def _items_mask(codes: np.ndarray, items: Sequence[tuple[int, int]]) -> np.ndarray:
    mask = np.ones(codes.shape[0], dtype=bool)
    for f, v in items:
        mask &= codes[:, f] == v
    return mask


@dataclass(frozen=True)
class SliceReport:
    """What `find_slices` returns: the reported slices and how the search went."""

    slices: list[FoundSlice]
    encoded: EncodedFeatures
    search: SearchResult
    family_size: int
    family_exact: bool
    eligible_rows: int


def find_slices(
    frame: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    features: Sequence[str],
    protected: Sequence[str],
    metric: SliceMetric,
    max_depth: int = 3,
    min_support: int = 32,
    alpha: float = 0.95,
    k: int = 10,
    bins: Mapping[str, Sequence[float]] | None = None,
    quantile_bins: int = 4,
    ci_level: float = 0.95,
    merge_jaccard: float = 0.8,
    min_cell: int = 0,
    encoded: EncodedFeatures | None = None,
) -> SliceReport:
    """Search the slices where `metric` is worst and report them with their statistics.

    The search looks at twice `k` slices, merges near-duplicates into the most general
    one, and reports the best `k` that remain, by score. Slices under `min_cell` rows
    (possible only when `min_support` is smaller) are marked suppressed.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    enc = encoded or encode_features(frame, features, bins=bins, quantile_bins=quantile_bins)
    eligible, bad = metric.bad(y_true, y_pred)
    event_all = np.zeros(len(frame), dtype=bool)
    event_all[eligible] = np.asarray(metric.event(y_true[eligible], y_pred[eligible]), dtype=bool)
    sub = enc.take(eligible)
    result = sliceline(
        sub.codes,
        enc.n_levels,
        bad,
        max_depth=max_depth,
        min_support=min_support,
        alpha=alpha,
        k=2 * k,
    )
    family, exact = count_supported_slices(
        sub.codes, enc.n_levels, max_depth=max_depth, min_support=min_support
    )
    masks = [_items_mask(enc.codes, c.items) for c in result.top]
    merged = merge_near_duplicates(result.top, masks, jaccard=merge_jaccard)
    merged = merge_refinements(result.top, masks, merged, eligible=eligible, event=event_all)
    prot_cols = protected_group_labels(frame, protected, bins=bins, quantile_bins=quantile_bins)
    found: list[FoundSlice] = []
    for keep, others in merged[:k]:
        cand = result.top[keep]
        definition = _definition_of(enc, cand.items)
        st = _slice_stats(masks[keep], eligible, event_all, ci_level=ci_level)
        comp = _protected_composition(masks[keep], prot_cols)
        p_adj = None if st.p_value is None else bonferroni(st.p_value, family)
        found.append(
            FoundSlice(
                source="search",
                definition=definition,
                description=describe_definition(definition),
                n=st.n,
                denominator=st.denominator,
                metric=metric.name,
                suppressed=st.n < min_cell,
                value=st.value,
                ci_low=st.ci_low,
                ci_high=st.ci_high,
                rest_value=st.rest_value,
                gap=st.gap,
                test=st.test,
                p_value=st.p_value,
                p_adjusted=p_adj,
                score=cand.score,
                overlaps_protected=_overlaps(definition, comp, protected),
                protected_composition=comp,
                merged=[_definition_of(enc, result.top[o].items) for o in others],
            )
        )
    return SliceReport(found, enc, result, family, exact, int(eligible.sum()))


def evaluate_definitions(
    frame: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    definitions: Sequence[tuple[str | None, SliceDefinition]],
    *,
    protected: Sequence[str],
    metric: SliceMetric,
    ci_level: float = 0.95,
    min_slice_size: int = 30,
    min_cell: int = 10,
    bins: Mapping[str, Sequence[float]] | None = None,
    quantile_bins: int = 4,
    correction: Literal["holm", "fdr_bh"] = "holm",
) -> list[FoundSlice]:
    """The metric on each named slice (the business's own), adjusted over them all.

    These are hypotheses named before the data was seen, so all their p-values are known
    and the correction is exact: Holm (family-wise) by default, or Benjamini-Hochberg
    (false discovery rate) when `correction` is "fdr_bh".

    A slice with fewer than `min_slice_size` eligible rows is "insufficient data" (no
    figure, no test); under `min_cell` rows its counts are also marked suppressed.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    eligible = np.asarray(metric.eligible(y_true, y_pred), dtype=bool)
    event_all = np.zeros(len(frame), dtype=bool)
    event_all[eligible] = np.asarray(metric.event(y_true[eligible], y_pred[eligible]), dtype=bool)
    prot_cols = protected_group_labels(frame, protected, bins=bins, quantile_bins=quantile_bins)
    rows: list[tuple[str | None, SliceDefinition, SliceStats, dict[str, GroupShare], bool]] = []
    for name, definition in definitions:
        mask = mask_for_definition(frame, definition)
        st = _slice_stats(mask, eligible, event_all, ci_level=ci_level)
        judged = st.denominator >= min_slice_size
        comp = _protected_composition(mask, prot_cols) if st.n >= min_cell else {}
        rows.append((name, definition, st, comp, judged))
    raw = [r[2].p_value if r[4] and r[2].p_value is not None else math.nan for r in rows]
    adjusted = adjust_pvalues(raw, correction).tolist()
    out: list[FoundSlice] = []
    for (name, definition, st, comp, judged), p_adj in zip(rows, adjusted, strict=True):
        out.append(
            FoundSlice(
                source="business",
                name=name,
                definition=dict(definition),
                description=describe_definition(definition),
                n=st.n,
                denominator=st.denominator,
                metric=metric.name,
                status="ok" if judged else "insufficient_data",
                suppressed=st.n < min_cell,
                value=st.value if judged else None,
                ci_low=st.ci_low if judged else None,
                ci_high=st.ci_high if judged else None,
                rest_value=st.rest_value if judged else None,
                gap=st.gap if judged else None,
                test=st.test if judged else "none",
                p_value=st.p_value if judged else None,
                p_adjusted=_nan_to_none(p_adj),
                score=None,
                overlaps_protected=_overlaps(definition, comp, protected),
                protected_composition=comp,
            )
        )
    return out
