"""The fairness engine: every metric for every protected slice, with confidence intervals.

One pass over the rows builds sufficient statistics per fine group (confusion counts,
and score histograms when scores are given); everything else is arithmetic on those
small arrays. A rate (a proportion of rows) has a Wilson score interval, and its
comparisons score intervals built on them (Newcombe, MOVER-R), which stay valid near 0
and 1. The other metrics are bootstrapped: a multinomial draw over all fine-group-by-cell
counts, which has exactly the distribution of the cell counts under resampling rows. A model
that predicts a number keeps sums per slice instead (`compliance.regression_comparisons`):
normal intervals, delta-method comparisons and Welch's t-tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from compliance.errors import DataError, InputError
from compliance.evidence._base import Estimate
from compliance.evidence.fairness import (
    Disparity,
    FairnessSection,
    GroupAggregate,
    MetricSelection,
    SliceResult,
)
from compliance.metric_names import (
    AGGREGATES,
    CELLS,
    COUNT_METRICS,
    PROPORTIONS,
    SAME_TEST_AS,
    favourable_direction,
)
from compliance.metrics import (
    count_metrics,
    proportion,
    regression_metrics,
    score_metrics_from_bins,
)
from compliance.regression_comparisons import (
    TERMS,
    SliceMoments,
    compare,
    normal_intervals,
    spread,
)
from compliance.slicing import MISSING_LABEL, Slice, SliceIndex, build_slices
from compliance.stats import (
    adjust_pvalues,
    bonferroni_level,
    compare_proportions,
    percentile_interval,
    spread_intervals,
    two_proportion_test,
    wilson_bounds,
)
from compliance.veritas import select_metric

if TYPE_CHECKING:
    from compliance.spec import AssessSpec

MISSING_NOTE = (
    "a missing value of a protected attribute: reported, but never the reference group, "
    "and left out of the between-group aggregates and the four-fifths flags"
)
SCORE_BINS = 64  # quantile bins of the score for bootstrap AUC; ECE bins are added to them
DRAW_CHUNK = 100


@dataclass(frozen=True)
class FairnessOptions:
    """Options of the fairness engine (see AssessSpec for their meaning)."""

    task: Literal["binary", "regression"] = "binary"
    target: str = "target"
    positive_label: str | None = None
    depth: int = 2
    bootstrap: int = 1000
    seed: int = 0
    min_slice_size: int = 30
    min_cell: int = 10
    bins: dict[str, list[float]] = field(default_factory=dict)
    quantile_bins: int = 4
    reference: dict[str, str] = field(default_factory=dict)
    correction: Literal["holm", "fdr_bh"] = "holm"
    alpha: float = 0.05
    ci_level: float = 0.95
    fair_priority: str = "benefit"
    fair_impact: str = "normal"
    fair_concern: str = "eligible"
    positive_label_favourable: bool = True

    @classmethod
    def from_spec(cls, spec: AssessSpec) -> FairnessOptions:
        return cls(
            task=spec.task, target=spec.target, positive_label=spec.positive_label,
            depth=spec.depth, bootstrap=spec.bootstrap, seed=spec.seed,
            min_slice_size=spec.min_slice_size, min_cell=spec.min_cell, bins=dict(spec.bins),
            quantile_bins=spec.quantile_bins, reference=dict(spec.reference),
            correction=spec.correction, alpha=spec.alpha, ci_level=spec.ci_level,
            fair_priority=spec.fair_priority, fair_impact=spec.fair_impact,
            fair_concern=spec.fair_concern,
            positive_label_favourable=spec.positive_label_favourable,
        )  # fmt: skip


@dataclass(frozen=True)
class SliceStatistics:
    """Point estimates and bootstrap draws of every metric for every slice."""

    index: SliceIndex
    counts: np.ndarray  # (S, 4) confusion counts, or (S, 4) regression sums
    values: dict[str, np.ndarray]  # metric -> (S,)
    draws: dict[str, np.ndarray]  # metric -> (D, S)


# ---------------------------------------------------------------- the one pass


def _score_bins(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Each row's score bin, each bin's ECE bin, and the number of bins.

    Bin edges are the scores' quantiles united with the ten equal-width calibration
    edges, so every score bin lies inside one calibration bin and the ECE is exact.
    """
    qs = np.quantile(scores, np.linspace(0, 1, SCORE_BINS + 1)[1:-1])
    cal = np.linspace(0, 1, 11)[1:-1]
    edges = np.unique(np.concatenate([qs, cal]))
    row_bin = np.searchsorted(edges, scores, side="right")
    lower = np.concatenate([[-np.inf], edges])
    ece_of_bin = np.clip(np.searchsorted(cal, lower, side="right"), 0, 9)
    ece_of_bin[0] = 0
    return row_bin, ece_of_bin, len(edges) + 1


def _exact_auc(
    scores: np.ndarray, y: np.ndarray, fine_codes: np.ndarray, index: SliceIndex
) -> np.ndarray:
    """Exact ROC AUC of every slice (ties count 1/2), in one sorted pass per dimension.

    Rows are sorted by score once; per dimension a stable sort by slice keeps them
    score-sorted within each slice, so the negatives below each positive are a cumulative
    count. Temporaries are 32-bit and freed early to keep the peak memory small.
    """
    order = np.argsort(scores, kind="stable")
    s_sorted = scores[order]
    tie_start = np.empty(len(s_sorted), dtype=bool)
    tie_start[:1] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=tie_start[1:])
    del s_sorted
    tie_id = (np.cumsum(tie_start, dtype=np.int64) - 1).astype(np.int32)
    del tie_start
    neg_sorted = np.asarray(y)[order] == 0
    fine_sorted = fine_codes[order].astype(np.int32)
    del order
    out = np.full(len(index.slices), np.nan)
    membership = index.membership.astype(bool)
    groups: dict[tuple[str, ...], list[int]] = {(): [0]}
    for i, s in enumerate(index.slices[1:], start=1):
        groups.setdefault(s.dimension, []).append(i)
    for slice_ids in groups.values():
        slice_of_fine = np.full(index.n_fine, -1, dtype=np.int32)
        for local, sid in enumerate(slice_ids):
            slice_of_fine[membership[sid]] = local
        sid_rows = slice_of_fine[fine_sorted]
        by_slice = np.argsort(sid_rows, kind="stable")  # grouped by slice, score-sorted within
        sid_g = sid_rows[by_slice]
        del sid_rows
        tie_g = tie_id[by_slice]
        neg = neg_sorted[by_slice]
        del by_slice
        start = np.empty(len(sid_g), dtype=bool)
        start[:1] = True
        start[1:] = (sid_g[1:] != sid_g[:-1]) | (tie_g[1:] != tie_g[:-1])
        del tie_g
        grp = (np.cumsum(start, dtype=np.int64) - 1).astype(np.int32)
        neg_in_grp = np.bincount(grp, weights=neg)
        cneg = np.cumsum(neg, dtype=np.int64) - neg  # negatives before each row
        seg_start = np.empty(len(sid_g), dtype=bool)
        seg_start[:1] = True
        seg_start[1:] = sid_g[1:] != sid_g[:-1]
        neg_before_grp = cneg[start] - np.maximum.accumulate(np.where(seg_start, cneg, 0))[start]
        del cneg, seg_start, start
        pos = ~neg
        grp_pos = grp[pos]
        contrib = neg_before_grp[grp_pos] + 0.5 * neg_in_grp[grp_pos]
        n_local = len(slice_ids)
        u = np.bincount(sid_g[pos], weights=contrib, minlength=n_local)
        n_pos = np.bincount(sid_g[pos], minlength=n_local)
        n_neg = np.bincount(sid_g[neg], minlength=n_local)
        with np.errstate(all="ignore"):
            auc = np.where((n_pos > 0) & (n_neg > 0), u / (n_pos * n_neg), np.nan)
        out[slice_ids] = auc
    return out


def compute_slice_statistics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: np.ndarray | None,
    index: SliceIndex,
    *,
    task: str = "binary",
    bootstrap: int = 1000,
    seed: int = 0,
) -> SliceStatistics:
    """One pass over the rows, then every metric and its bootstrap draws per slice."""
    k = index.n_fine
    fine = index.fine_codes
    m = index.membership  # (S, K)
    rng = np.random.default_rng(seed)
    if task == "regression":
        pred = np.asarray(y_pred, dtype=float)
        err = pred - np.asarray(y_true, dtype=float)
        above = (pred > np.median(pred)).astype(float)
        stats = np.column_stack([
            np.bincount(fine, minlength=k).astype(float),
            np.bincount(fine, weights=np.abs(err), minlength=k),
            np.bincount(fine, weights=err**2, minlength=k),
            np.bincount(fine, weights=pred, minlength=k),
            np.bincount(fine, weights=above, minlength=k),
        ])  # fmt: skip
        slice_stats = m @ stats
        return SliceStatistics(index, slice_stats, regression_metrics(slice_stats), {})
    cell = 2 * np.asarray(y_true, dtype=np.int64) + np.asarray(y_pred, dtype=np.int64)
    if scores is None:
        fine_counts = np.bincount(fine * 4 + cell, minlength=k * 4).reshape(k, 4)
        slice_counts = m @ fine_counts
        values = count_metrics(slice_counts)
        draws: dict[str, list[np.ndarray]] = {}
        if bootstrap > 0:
            n = int(fine_counts.sum())
            p = fine_counts.ravel() / n
            for start in range(0, bootstrap, DRAW_CHUNK):
                size = min(DRAW_CHUNK, bootstrap - start)
                d = rng.multinomial(n, p, size=size).reshape(size, k, 4)
                agg = np.einsum("dkc,sk->dsc", d, m, optimize=True)
                for name, arr in count_metrics(agg).items():
                    draws.setdefault(name, []).append(arr)
        return SliceStatistics(
            index, slice_counts, values, {k_: np.concatenate(v) for k_, v in draws.items()}
        )
    # with scores: cells are fine group x confusion cell x score bin
    scores = np.asarray(scores, dtype=float)
    row_bin, ece_of_bin, nb = _score_bins(scores)
    flat = (fine * 4 + cell) * nb + row_bin
    del row_bin, cell
    size_all = k * 4 * nb
    hist = np.bincount(flat, minlength=size_all).reshape(k, 4, nb)
    sum_s = np.bincount(flat, weights=scores, minlength=size_all).reshape(k, 4, nb)
    sum_s2 = np.bincount(flat, weights=np.square(scores), minlength=size_all).reshape(k, 4, nb)
    del flat
    fine_counts = hist.sum(axis=2)
    slice_counts = m @ fine_counts
    values = count_metrics(slice_counts)

    def by_label(a: np.ndarray) -> np.ndarray:
        # (..., K, 4, B) -> (..., K, 2, B): cells 0,1 are y=0; cells 2,3 are y=1
        return np.stack([a[..., 0, :] + a[..., 1, :], a[..., 2, :] + a[..., 3, :]], axis=-2)

    slice_hist = np.einsum("kcb,sk->scb", hist, m)
    slice_s = np.einsum("kcb,sk->scb", sum_s, m)
    slice_s2 = np.einsum("kcb,sk->scb", sum_s2, m)
    exact = score_metrics_from_bins(
        by_label(slice_hist), by_label(slice_s), by_label(slice_s2), ece_of_bin
    )
    exact["roc_auc"] = _exact_auc(scores, np.asarray(y_true), fine, index)
    values.update(exact)
    draws = {}
    if bootstrap > 0:
        n = int(hist.sum())
        p = hist.ravel() / n
        with np.errstate(all="ignore"):
            mean_s = np.where(hist > 0, sum_s / np.maximum(hist, 1), 0.0)
            mean_s2 = np.where(hist > 0, sum_s2 / np.maximum(hist, 1), 0.0)
        binned_auc = score_metrics_from_bins(
            by_label(slice_hist), by_label(slice_s), by_label(slice_s2), ece_of_bin
        )["roc_auc"]
        chunk = max(1, DRAW_CHUNK // 4)
        for start in range(0, bootstrap, chunk):
            size = min(chunk, bootstrap - start)
            d4 = rng.multinomial(n, p, size=size).reshape(size, k, 4, nb)
            agg = np.einsum("dkcb,sk->dscb", d4, m, optimize=True)
            for name, arr in count_metrics(agg.sum(axis=3)).items():
                draws.setdefault(name, []).append(arr)
            ds = np.einsum("dkcb,sk->dscb", d4 * mean_s, m, optimize=True)
            ds2 = np.einsum("dkcb,sk->dscb", d4 * mean_s2, m, optimize=True)
            sm = score_metrics_from_bins(by_label(agg), by_label(ds), by_label(ds2), ece_of_bin)
            # binned AUC treats pairs in one bin as ties: centre its draws on the exact AUC,
            # within the AUC's range (a near-perfect slice would shift past 1)
            sm["roc_auc"] = np.clip(sm["roc_auc"] - binned_auc + exact["roc_auc"], 0.0, 1.0)
            for name, arr in sm.items():
                draws.setdefault(name, []).append(arr)
    return SliceStatistics(
        index, slice_counts, values, {k_: np.concatenate(v) for k_, v in draws.items()}
    )


# ---------------------------------------------------------------- evidence


def _is_missing(s: Slice) -> bool:
    """A slice of rows whose value of a protected attribute is missing: not a group whose
    treatment can serve as a baseline, nor a group to judge others by."""
    return MISSING_LABEL in s.attributes.values()


def _estimate(value: float, lo: float, hi: float) -> Estimate:
    return Estimate(value=value, ci_low=lo, ci_high=hi)


def assess_fairness(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: np.ndarray | None,
    sensitive: pd.DataFrame,
    *,
    options: FairnessOptions,
    data_path: str | Path | None = None,
) -> FairnessSection:
    """The fairness section of an assessment: slices, disparities and aggregates."""
    if len(sensitive) == 0:
        raise DataError("no rows to assess", path=data_path)
    protected = list(sensitive.columns)
    for attr in options.reference:
        if attr not in protected:
            raise InputError(
                f"--reference names {attr!r}, which is not a protected attribute", field=attr
            )
    index = build_slices(
        sensitive, protected, depth=options.depth, bins=options.bins,
        n_quantiles=options.quantile_bins, path=data_path,
    )  # fmt: skip
    for attr, ref in options.reference.items():
        if ref == MISSING_LABEL:
            raise InputError(
                f"--reference {attr}={ref!r}: rows with a missing value are not a group to "
                "compare others with; name one of its values",
                path=data_path,
                field=attr,
            )
        known = {s.attributes[attr] for s in index.slices if s.dimension == (attr,)}
        if ref not in known:
            raise InputError(
                f"--reference {attr}={ref!r} is not a group of {attr} "
                f"(groups: {', '.join(sorted(known))})",
                path=data_path,
                field=attr,
            )
    stats = compute_slice_statistics(
        y_true, y_pred, scores, index, task=options.task, bootstrap=options.bootstrap,
        seed=options.seed,
    )  # fmt: skip
    n_slice = stats.counts[..., :].sum(axis=-1) if options.task == "binary" else stats.counts[:, 0]
    ok = n_slice >= options.min_slice_size
    intervals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    moments: SliceMoments | None = None
    if options.task == "regression":
        moments = SliceMoments.of(index, y_true, y_pred)
        intervals = normal_intervals(moments, options.ci_level)
    else:
        for name, d in stats.draws.items():
            if name not in PROPORTIONS:  # a rate gets Wilson below: no percentiles for it
                intervals[name] = percentile_interval(d, options.ci_level)
        for name in stats.values:
            if name in PROPORTIONS:  # a rate: Wilson, which does not collapse at 0 or 1
                intervals[name] = wilson_bounds(*proportion(stats.counts, name), options.ci_level)
    slice_results = []
    for i, s in enumerate(index.slices):
        metrics = {}
        for name, vals in stats.values.items():
            if name == "count":
                metrics[name] = Estimate(value=float(vals[i]))
                continue
            lo, hi = intervals.get(name, (np.full(len(vals), np.nan), np.full(len(vals), np.nan)))
            metrics[name] = _estimate(vals[i], lo[i], hi[i])
        if options.task == "binary":
            counts = {c: int(stats.counts[i, j]) for j, c in enumerate(CELLS)}
        else:
            above = int(stats.counts[i, 4])
            counts = {
                "scored_above_median": above,
                "scored_not_above_median": int(n_slice[i]) - above,
            }
        small = int(n_slice[i]) < options.min_cell or any(
            v < options.min_cell for v in counts.values()
        )
        slice_results.append(
            SliceResult(
                attributes=s.attributes,
                n=int(n_slice[i]),
                status="ok" if ok[i] else "insufficient_data",
                counts=counts,
                suppressed=bool(small),
                metrics=metrics,
                note=MISSING_NOTE if _is_missing(s) else None,
            )
        )
    selection: MetricSelection | None = None
    disparities: list[Disparity] = []
    aggregates: list[GroupAggregate] = []
    if options.task == "binary":
        selection = select_metric(
            fair_priority=options.fair_priority, fair_impact=options.fair_impact,
            fair_concern=options.fair_concern,
            positive_label_favourable=options.positive_label_favourable,
        )  # fmt: skip
        disparities = _disparities(stats, ok, options)
        aggregates = _aggregates(stats, ok, options)
    elif moments is not None:
        disparities = _disparities(stats, ok, options, moments)
        aggregates = _regression_aggregates(moments, ok, index, options)
    ci_method = (
        "rates (selection rate, TPR, FPR, ..., accuracy): Wilson score interval; their "
        "differences: Newcombe's hybrid score interval; their ratios: MOVER-R (Donner & Zou) "
        "on Wilson intervals; against everyone, through the slice against the rest. Balanced "
        f"accuracy, ROC AUC, Brier score, ECE: percentile bootstrap, {options.bootstrap} "
        "multinomial draws over fine-group-by-cell counts"
        if options.task == "binary"
        else "normal approximation (central limit theorem on per-row errors; delta method "
        "for differences and ratios); Wilson score interval for the scoring rate"
    )
    return FairnessSection(
        task=options.task,
        target=options.target,
        positive_label=options.positive_label,
        protected=protected,
        bins=index.bins,
        bin_edges=index.bin_edges,
        depth=options.depth,
        min_slice_size=options.min_slice_size,
        min_cell=options.min_cell,
        bootstrap=options.bootstrap,
        ci_level=options.ci_level,
        ci_method=ci_method,
        correction=options.correction,
        alpha=options.alpha,
        reference=dict(options.reference),
        metric_selection=selection,
        primary_metric=None if selection is None else selection.primary_metric,
        overall=slice_results[0],
        slices=slice_results[1:],
        disparities=disparities,
        aggregates=aggregates,
    )


def _reference_index(
    stats: SliceStatistics,
    slice_ids: list[int],
    metric: str,
    ok: np.ndarray,
    options: FairnessOptions,
) -> int | None:
    index = stats.index
    dim = index.slices[slice_ids[0]].dimension
    if dim and all(a in options.reference for a in dim):
        wanted = {a: options.reference[a] for a in dim}
        for i in slice_ids:
            if index.slices[i].attributes == wanted:
                return i
    vals = stats.values[metric]
    candidates = [
        i
        for i in slice_ids
        if ok[i]
        and not _is_missing(index.slices[i])
        and np.isfinite(vals[i])
        and _denominator(stats, i, metric) >= options.min_slice_size
    ]
    if not candidates:
        return None
    better_high = favourable_direction(metric, options.positive_label_favourable)
    return max(candidates, key=lambda i: vals[i] if better_high else -vals[i])


def _denominator(stats: SliceStatistics, i: int, metric: str) -> int:
    """How many rows a slice's metric rests on (e.g. its actual positives, for the TPR)."""
    return _rows_behind(stats.counts[i], metric)


def _rows_behind(counts: np.ndarray, metric: str) -> int:
    """How many rows a metric rests on, from one set of rows' counts (or sums)."""
    if metric in TERMS:  # a regression metric: every row of the slice
        return int(counts[0])
    if metric in PROPORTIONS:
        return int(proportion(counts, metric)[1])
    if metric in ("balanced_accuracy", "roc_auc"):
        return int(min(counts[0] + counts[1], counts[2] + counts[3]))
    return int(counts.sum())


DISPARITY_METRICS = (*[m for m in COUNT_METRICS if m != "count"], "roc_auc")


def _proportion_test(
    counts: np.ndarray, other_counts: np.ndarray, metric: str
) -> tuple[str, float | None]:
    """Two-sided test that a metric's proportion is the same in two disjoint sets of rows."""
    if metric not in PROPORTIONS:  # balanced accuracy, ROC AUC: no test
        return "none", None
    k1, n1 = proportion(counts, metric)
    k2, n2 = proportion(other_counts, metric)
    return two_proportion_test(int(k1), int(n1), int(k2), int(n2))


def _disparities(
    stats: SliceStatistics,
    ok: np.ndarray,
    options: FairnessOptions,
    moments: SliceMoments | None = None,
) -> list[Disparity]:
    """Each ok slice against its dimension's reference group and against everyone.

    The p-value tests the comparison the disparity reports (Fisher's exact test for small
    counts, else a two-proportion z-test; Welch's t-test for a regression's mean metrics):
    the slice against its reference group, or the slice against the rest of the population
    for the comparison with everyone. The p-values are adjusted across all distinct tests,
    each counted once. The reference is the best-served group of the data, so a raw p-value
    against it is anti-conservative on its own (11% under the null at 5% in simulation,
    six groups of 150); the Holm-adjusted ones held the family-wise error at 5.0% there.
    Intervals: score intervals for a classifier's rates (bootstrap for balanced accuracy
    and ROC AUC), the delta method for a regression (`moments`).
    """
    index = stats.index
    member = index.membership.astype(bool)
    dims: dict[tuple[str, ...], list[int]] = {}
    for i, s in enumerate(index.slices[1:], start=1):
        dims.setdefault(s.dimension, []).append(i)
    pairs: list[tuple[str, tuple[str, ...], int, int, bool]] = []  # metric, dim, i, target, group
    for metric in DISPARITY_METRICS if moments is None else tuple(TERMS):
        if metric not in stats.values:
            continue
        for dim, ids in dims.items():
            ref = _reference_index(stats, ids, metric, ok, options)
            for i in ids:
                if not ok[i]:
                    continue
                if ref is not None and ref != i:
                    pairs.append((metric, dim, i, ref, True))
                pairs.append((metric, dim, i, 0, False))
    # One test per distinct comparison: a test is keyed by the metric and the two sets of
    # fine groups it compares, so that e.g. in a two-group dimension "A against B",
    # "A against the rest" and "B against the rest" are one test, counted once; a rate and
    # its complement (TPR and FNR, ...) are one metric here, their test being the same.
    tests: dict[tuple[str, frozenset[bytes]], tuple[str, float | None]] = {}
    pair_tests: list[tuple[str, frozenset[bytes]]] = []
    # rows behind the metric on each side; under min_slice_size on either side the
    # comparison is reported but not tested, nor flagged
    too_few: dict[int, tuple[int, int]] = {}
    intervals: dict[str, tuple[float, ...]] = {}
    four_fifths_ratios: dict[int, tuple[float, float, float]] = {}
    for k, (metric, _, i, target, is_group) in enumerate(pairs):
        # a slice and its reference group (two groups of one dimension) are disjoint; the
        # independent comparison behind "slice against everyone" is the slice against the
        # rest of the rows
        other_rows = member[target] if is_group else member[0] & ~member[i]
        key = (
            SAME_TEST_AS.get(metric, metric),
            frozenset((member[i].tobytes(), other_rows.tobytes())),
        )
        pair_tests.append(key)
        other_counts = stats.counts[target] if is_group else stats.counts[0] - stats.counts[i]
        sides = (_denominator(stats, i, metric), _rows_behind(other_counts, metric))
        if min(sides) < options.min_slice_size:
            too_few[k] = sides
        if moments is not None:
            c = compare(moments, metric, i, target if is_group else None, options.ci_level)
            intervals[f"{metric}:{k}"] = (*c.difference, *c.ratio)
            if k not in too_few:
                tests.setdefault(key, (c.test, c.p_value))
        elif key not in tests and k not in too_few:
            tests[key] = _proportion_test(stats.counts[i], other_counts, metric)
    # a classifier's differences and ratios, and their intervals, in one pass per metric
    for metric in {p[0] for p in pairs} if moments is None else ():
        rows = [k for k, p in enumerate(pairs) if p[0] == metric]
        i_idx = np.array([pairs[k][2] for k in rows])
        t_idx = np.array([pairs[k][3] for k in rows])
        pooled = np.array([not pairs[k][4] for k in rows])
        vals = stats.values[metric]
        with np.errstate(all="ignore"):
            diff = vals[i_idx] - vals[t_idx]
            ratio = np.where(vals[t_idx] != 0, vals[i_idx] / vals[t_idx], np.nan)
        nothing = np.full(len(rows), np.nan)
        dlo, dhi, rlo, rhi = nothing, nothing, nothing, nothing
        flo, fhi = nothing, nothing
        if metric in PROPORTIONS:
            # score intervals, valid at rates near 0 or 1: the slice against the reference
            # group, or against everyone through the slice against the rest
            own = stats.counts[i_idx]
            other = np.where(pooled[:, None], stats.counts[0] - own, stats.counts[t_idx])
            k1, n1 = proportion(own, metric)
            k2, n2 = proportion(other, metric)
            dlo, dhi, rlo, rhi = compare_proportions(
                k1, n1, k2, n2, pooled=pooled, level=options.ci_level
            )
            if metric == "selection_rate":
                # the four-fifths rule compares rates of the favourable outcome: 1 - the
                # selection rate when the positive label is the unfavourable one
                fav = vals if options.positive_label_favourable else 1.0 - vals
                if not options.positive_label_favourable:
                    k1, k2 = n1 - k1, n2 - k2
                _, _, flo, fhi = compare_proportions(
                    k1, n1, k2, n2, pooled=pooled, level=options.ci_level
                )
                with np.errstate(all="ignore"):
                    f_ratio = np.where(fav[t_idx] != 0, fav[i_idx] / fav[t_idx], np.nan)
                for pos, k in enumerate(rows):
                    four_fifths_ratios[k] = (float(f_ratio[pos]), float(flo[pos]), float(fhi[pos]))
        elif metric in stats.draws:  # balanced accuracy, ROC AUC: the bootstrap
            d = stats.draws[metric]
            with np.errstate(all="ignore"):
                dd = d[:, i_idx] - d[:, t_idx]
                dr = d[:, i_idx] / np.where(d[:, t_idx] == 0, np.nan, d[:, t_idx])
            dlo, dhi = percentile_interval(dd, options.ci_level)
            rlo, rhi = percentile_interval(dr, options.ci_level)
        for pos, k in enumerate(rows):
            intervals[f"{metric}:{k}"] = tuple(
                float(a[pos]) for a in (diff, dlo, dhi, ratio, rlo, rhi)
            )
    keys = [k for k, (_, p) in tests.items() if p is not None]
    p_raw = np.array([tests[k][1] for k in keys], dtype=float)
    adjusted = dict(zip(keys, adjust_pvalues(p_raw, options.correction), strict=True))
    out = []
    for k, (metric, dim, i, target, is_group) in enumerate(pairs):
        d_v, d_lo, d_hi, r_v, r_lo, r_hi = intervals[f"{metric}:{k}"]
        test, p = tests.get(pair_tests[k], ("none", None))
        p_adj = adjusted.get(pair_tests[k])
        four_fifths = ff_ratio = None
        notes = []
        missing = _is_missing(index.slices[i])
        if missing:
            notes.append(MISSING_NOTE)
        if k in too_few:
            notes.append(
                f"rests on {too_few[k][0]} rows in the group and {too_few[k][1]} in the "
                f"{'reference group' if is_group else 'rest'}, fewer than "
                f"{options.min_slice_size} on a side: not tested, not flagged"
            )
        if metric == "selection_rate" and is_group and k in four_fifths_ratios:
            ff = four_fifths_ratios[k]
            ff_ratio = _estimate(*ff)
            if np.isfinite(ff[0]) and not notes:
                four_fifths = bool(ff[0] < 0.8)
        out.append(
            Disparity(
                metric=metric,
                dimension=list(dim),
                slice=index.slices[i].attributes,
                reference=index.slices[target].attributes if is_group else "overall",
                n_denominator=_denominator(stats, i, metric),
                difference=_estimate(d_v, d_lo, d_hi),
                ratio=_estimate(r_v, r_lo, r_hi),
                test=test,  # type: ignore[arg-type]
                p_value=p,
                p_adjusted=None if p_adj is None else float(p_adj),
                significant=bool(p_adj is not None and p_adj < options.alpha),
                four_fifths_flag=four_fifths,
                four_fifths_ratio=ff_ratio,
                note="; ".join(notes) or None,
            )
        )
    return out


def _spread(sub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max minus min, and min over max, along the last axis (groups), ignoring NaN."""
    import warnings

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN draws stay NaN
        hi = np.nanmax(sub, axis=-1)
        lo = np.nanmin(sub, axis=-1)
        return hi - lo, np.where(hi > 0, lo / hi, np.nan)


def _spread_note(pairs: int, options: FairnessOptions) -> str | None:
    """How to read an aggregate's interval built from `pairs` comparisons of two groups."""
    if pairs <= 1:
        return None
    return (
        f"simultaneous interval: each of the {pairs} comparisons of two groups at level "
        f"{bonferroni_level(options.ci_level, pairs):.4g} (Bonferroni), so that it holds "
        f"with probability at least {options.ci_level:g}; conservative (a bootstrap of "
        "max - min under-covers when several groups are close)"
    )


def _left_out_note(left_out: int, total: int, options: FairnessOptions) -> str:
    return (
        f"over the judged groups only: {left_out} of {total} left out (fewer than "
        f"{options.min_slice_size} rows behind the rate, or a missing value), so it can "
        "differ from fairlearn's function over all groups"
    )


def _aggregates(
    stats: SliceStatistics, ok: np.ndarray, options: FairnessOptions
) -> list[GroupAggregate]:
    """Between-group difference (max - min) and ratio (min / max) per dimension, with CIs.

    As fairlearn's `*_difference`/`*_ratio` with method='between_groups', but over the
    judged groups only: for each rate, the groups with at least `min_slice_size` rows
    behind it (its denominator), a known value, and enough rows. For several rates
    (equalized odds) the worst of them: the largest difference, smallest ratio. The
    intervals are simultaneous over every pair of groups (`stats.spread_intervals`).
    """
    index = stats.index
    dims: dict[tuple[str, ...], list[int]] = {}
    for i, s in enumerate(index.slices[1:], start=1):
        dims.setdefault(s.dimension, []).append(i)
    out: list[GroupAggregate] = []
    for dim, all_ids in dims.items():
        if sum(1 for i in all_ids if ok[i] and not _is_missing(index.slices[i])) < 2:
            continue
        for name, metrics in AGGREGATES.items():
            judged = {
                m: [
                    i
                    for i in all_ids
                    if ok[i]
                    and not _is_missing(index.slices[i])
                    and _denominator(stats, i, m) >= options.min_slice_size
                ]
                for m in metrics
            }
            notes = []
            left_out = len(all_ids) - min(len(ids) for ids in judged.values())
            if left_out:
                notes.append(_left_out_note(left_out, len(all_ids), options))
            if any(len(ids) < 2 for ids in judged.values()):
                notes.insert(0, "fewer than two judged groups for a rate: no aggregate")
                p_diff = p_ratio = dl = dh = rl = rh = np.nan
            else:
                point = [_spread(stats.values[m][judged[m]]) for m in metrics]
                p_diff = max(float(p[0]) for p in point)
                p_ratio = min(float(p[1]) for p in point)
                dl, dh, rl, rh = spread_intervals(
                    [proportion(stats.counts[judged[m]], m) for m in metrics], options.ci_level
                )
                pairs = sum(len(ids) * (len(ids) - 1) // 2 for ids in judged.values())
                spread_note = _spread_note(pairs, options)
                if spread_note:
                    notes.insert(0, spread_note)
            note = "; ".join(notes) or None
            out += _spread_pair(name, dim, (p_diff, dl, dh), (p_ratio, rl, rh), note)
    return out


def _spread_pair(
    name: str,
    dim: tuple[str, ...],
    difference: tuple[float, float, float],
    ratio: tuple[float, float, float],
    note: str | None,
) -> list[GroupAggregate]:
    """The `{name}_difference` and `{name}_ratio` aggregates of one dimension."""
    return [
        GroupAggregate(name=f"{name}_{kind}", dimension=list(dim), value=_estimate(*est), note=note)
        for kind, est in (("difference", difference), ("ratio", ratio))
    ]


def _regression_aggregates(
    moments: SliceMoments, ok: np.ndarray, index: SliceIndex, options: FairnessOptions
) -> list[GroupAggregate]:
    """Between-group difference (max - min) and ratio (min / max) of each regression
    metric per dimension, as fairlearn's MetricFrame.difference()/ratio() with
    method='between_groups', with simultaneous intervals (`spread`)."""
    dims: dict[tuple[str, ...], list[int]] = {}
    for i, s in enumerate(index.slices[1:], start=1):
        dims.setdefault(s.dimension, []).append(i)
    out: list[GroupAggregate] = []
    for dim, all_ids in dims.items():
        ids = [i for i in all_ids if ok[i] and not _is_missing(index.slices[i])]
        if len(ids) < 2:
            continue
        notes = [_spread_note(len(ids) * (len(ids) - 1) // 2, options)]
        if len(ids) < len(all_ids):
            notes.append(_left_out_note(len(all_ids) - len(ids), len(all_ids), options))
        note = "; ".join(n for n in notes if n) or None
        for metric in TERMS:
            diff, ratio = spread(moments, metric, ids, options.ci_level)
            out += _spread_pair(metric, dim, diff, ratio, note)
    return out
