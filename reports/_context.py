"""From an Assessment to the plain view model the templates render.

Everything a reader sees is decided here, as plain strings, so that it can be tested
without a PDF: sentences in plain words with their error margins, group sizes and
thresholds; tables with small counts suppressed; charts as data URIs.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compliance.assessment import Assessment
from compliance.evidence._base import Estimate
from compliance.evidence.fairness import Disparity, FairnessSection, SliceResult
from compliance.metric_names import favourable_direction
from compliance.wording import lower_bound_text
from reports import _charts
from reports._format import (
    PERCENT_METRICS,
    Suppression,
    count_cell,
    count_text,
    estimate_parts,
    estimate_text,
    exposure_shown,
    exposure_suppression,
    fairness_suppression,
    group_text,
    metric_label,
    number,
    slice_key,
    value_text,
)

__all__ = ["SignerInfo", "build_context", "fairness_statements"]

STATUS_LABELS = {
    "pass": "Pass",
    "fail": "Fail",
    "warn": "Warning",
    "open": "Open",
    "insufficient_data": "Insufficient data",
    "not_applicable": "Not applicable",
    "waived": "Waived",
}
VERDICT_TEXT = {
    "pass": "PASS — every blocking check passed",
    "fail": "FAIL — at least one blocking check failed",
    "open": "OPEN — blocking checks await a person's answer or evidence",
}
TABLE_METRICS = (
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "precision",
    "accuracy",
    "roc_auc",
)
FPR_KEYS = (("0.01", "1% FPR"), ("0.001", "0.1% FPR"))
MAX_STATEMENTS = 8
MAX_EXPOSURE_ROWS = 10
MAX_FINDING_CHARTS = 4


@dataclass(frozen=True)
class SignerInfo:
    """Who signs the report, shown on the cover before the signature is applied."""

    subject: str
    fingerprint: str
    self_signed: bool
    timestamped: bool = False


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


def _dims(fairness: FairnessSection) -> list[tuple[str, ...]]:
    order = {a: i for i, a in enumerate(fairness.protected)}
    seen: dict[tuple[str, ...], None] = {}
    for s in fairness.slices:
        key = tuple(sorted(s.attributes, key=lambda a: order.get(a, len(order))))
        seen.setdefault(key, None)
    return sorted(seen, key=lambda d: (len(d), [order.get(a, 99) for a in d]))


def _slice_key(attrs: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return slice_key(attrs)


def _est(s: SliceResult, metric: str) -> Estimate | None:
    return s.metrics.get(metric)


def _value(s: SliceResult, metric: str) -> float | None:
    e = s.metrics.get(metric)
    return None if e is None else e.value


def _population_phrase(metric: str, fairness: FairnessSection) -> str:
    pos = f"'{fairness.positive_label}'" if fairness.positive_label else "the positive label"
    if metric in ("true_positive_rate", "false_negative_rate"):
        return f"whose true outcome was {pos}"
    if metric in ("false_positive_rate", "true_negative_rate"):
        return f"whose true outcome was not {pos}"
    if metric in ("precision", "false_discovery_rate"):
        return f"predicted {pos}"
    if metric in ("negative_predictive_value", "false_omission_rate"):
        return f"predicted not {pos}"
    return ""


_DENOMINATORS = {
    "true_positive_rate": ("fn", "tp"),
    "false_negative_rate": ("fn", "tp"),
    "false_positive_rate": ("tn", "fp"),
    "true_negative_rate": ("tn", "fp"),
    "precision": ("fp", "tp"),
    "false_discovery_rate": ("fp", "tp"),
    "negative_predictive_value": ("tn", "fn"),
    "false_omission_rate": ("tn", "fn"),
}


def _denominator(s: SliceResult, metric: str) -> int:
    cells = _DENOMINATORS.get(metric)
    if cells is None or not s.counts:
        return s.n
    return sum(s.counts.get(c, 0) for c in cells)


def _p_text(d: Disparity, fairness: FairnessSection) -> str:
    if d.p_adjusted is None:
        return ""
    corr = "Holm" if fairness.correction == "holm" else "Benjamini-Hochberg"
    p = d.p_adjusted
    ptxt = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    over = "over every test of this assessment"
    if d.significant:
        return f" The gap is statistically significant ({corr}-adjusted p {ptxt} {over})."
    return (
        f" The gap is not statistically significant at the {fairness.alpha:g} level "
        f"({corr}-adjusted p {ptxt} {over})."
    )


def _unfavourable(fairness: FairnessSection) -> bool:
    sel = fairness.metric_selection
    return sel is not None and not sel.positive_label_favourable


def disparity_sentence(
    d: Disparity,
    fairness: FairnessSection,
    by_key: Mapping[Any, SliceResult],
    supp: Suppression | None = None,
) -> str | None:
    """The plain-words statement of one disparity, or None when it cannot be printed safely.

    Both rates must be printable under `supp` (the fairness suppression); the number of
    people it names is then the rate's denominator, which the printed counts give anyway.
    """
    supp = fairness_suppression(fairness) if supp is None else supp
    s = by_key.get(_slice_key(d.slice))
    if s is None or not supp.shown(s, d.metric):
        return None
    if isinstance(d.reference, str):
        ref, ref_name = fairness.overall, "the whole population"
        if not supp.shown(ref, d.metric):
            return None
    else:
        ref_found = by_key.get(_slice_key(d.reference))
        if ref_found is None or not supp.shown(ref_found, d.metric):
            return None
        ref = ref_found
        chosen = all(a in fairness.reference for a in d.reference)
        ref_name = (
            f"the reference group ({group_text(d.reference)})"
            if chosen
            else f"the best-served group ({group_text(d.reference)})"
        )
    label = metric_label(d.metric)
    phrase = _population_phrase(d.metric, fairness)
    n_den = _denominator(s, d.metric)
    who = f"On {count_text(n_den, fairness.min_cell)} people in the group {group_text(d.slice)}"
    who += f" {phrase}" if phrase else ""
    ref_est = _est(ref, d.metric)
    ref_value = value_text(d.metric, ref_est.value if ref_est else None, decimals=0)
    measured = estimate_text(d.metric, _est(s, d.metric), ci_level=fairness.ci_level)
    text = f"{who}, the {label} was {measured} against {ref_value} for {ref_name}"
    # with an unfavourable positive label the four-fifths rule reads the favourable rates
    # (1 - selection rate), held in four_fifths_ratio (schema 1.3)
    r = d.four_fifths_ratio if d.four_fifths_ratio is not None else d.ratio
    of = " of the favourable outcome's rates" if _unfavourable(fairness) else ""
    if d.four_fifths_flag is not None and r.value is not None:
        ci = (
            f" (95% CI {r.ci_low:.2f}–{r.ci_high:.2f})"
            if r.ci_low is not None and r.ci_high is not None
            else ""
        )
        side = "below" if d.four_fifths_flag else "at or above"
        text += (
            f": an impact ratio{of} of {r.value:.2f}{ci}, {side} the four-fifths threshold of 0.80."
        )
    else:
        diff = d.difference
        if diff.value is None:
            return None
        if d.metric in PERCENT_METRICS:
            dtxt = f"{diff.value * 100:+.1f} percentage points"
            ci = (
                f" (95% CI {diff.ci_low * 100:+.1f} to {diff.ci_high * 100:+.1f})"
                if diff.ci_low is not None and diff.ci_high is not None
                else ""
            )
        else:
            dtxt = f"{diff.value:+.3f}"
            ci = (
                f" (95% CI {diff.ci_low:+.3f} to {diff.ci_high:+.3f})"
                if diff.ci_low is not None and diff.ci_high is not None
                else ""
            )
        text += f": a difference of {dtxt}{ci}."
    return text + _p_text(d, fairness)


def _fairness_context(fairness: FairnessSection, *, charts: bool = True) -> dict[str, Any]:
    min_cell = fairness.min_cell
    supp = fairness_suppression(fairness)
    by_key = {_slice_key(s.attributes): s for s in fairness.slices}
    primary = fairness.primary_metric or "selection_rate"
    focus = [primary] if primary == "selection_rate" else ["selection_rate", primary]
    if fairness.task == "regression":
        # no metric selection for a scoring model: its outcome (LL144's scoring rate) and
        # its errors
        primary = "mean_absolute_error"
        focus = ["scoring_rate", primary]
    # Statements: group references first; flagged (four-fifths or significant) first.
    candidates = [
        d
        for d in fairness.disparities
        if d.metric in focus and not isinstance(d.reference, str) and len(d.dimension) == 1
    ]

    favourable = (
        fairness.metric_selection.positive_label_favourable
        if fairness.metric_selection is not None
        else True
    )

    def rank(d: Disparity) -> tuple[int, float]:
        """Flagged first, then the widest gap: the smallest ratio to the best-served
        group, or the largest where a lower value serves people better (an error)."""
        flagged = bool(d.four_fifths_flag) or d.significant
        ratio = d.ratio.value if d.ratio.value is not None else 1.0
        return (
            0 if flagged else 1,
            ratio if favourable_direction(d.metric, favourable) else -ratio,
        )

    statements = []
    for d in sorted(candidates, key=rank):
        sentence = disparity_sentence(d, fairness, by_key, supp)
        if sentence is None:
            continue
        statements.append(
            {
                "text": sentence,
                "flagged": bool(d.four_fifths_flag) or d.significant,
                "metric": metric_label(d.metric),
            }
        )
        if len(statements) >= MAX_STATEMENTS:
            break
    n_flag_45 = sum(1 for d in fairness.disparities if d.four_fifths_flag)
    n_sig = sum(1 for d in fairness.disparities if d.significant and d.metric in focus)
    table_metrics = [m for m in TABLE_METRICS if m in fairness.overall.metrics]
    if primary not in table_metrics and primary in fairness.overall.metrics:
        table_metrics.insert(0, primary)
    if fairness.task == "regression":
        table_metrics = [m for m in fairness.overall.metrics if m != "count"]
    dims = []
    insufficient = 0
    for dim in _dims(fairness):
        slices = [
            s for s in fairness.slices if tuple(s.attributes) and set(s.attributes) == set(dim)
        ]
        rows = []
        for s in slices:
            if s.status != "ok":
                insufficient += 1
            cells: list[tuple[str, str]] = []
            for m in table_metrics:
                if s.status != "ok":
                    cells.append(("insufficient data", ""))
                elif not supp.shown(s, m):
                    cells.append(("suppressed", ""))
                else:
                    cells.append(estimate_parts(m, _est(s, m)))
            key = _slice_key(s.attributes)

            rows.append(
                {
                    "group": " · ".join(f"{v}" for v in (s.attributes[a] for a in dim)),
                    "n": supp.cell(key, "n", s.n),
                    "status": "ok" if s.status == "ok" else "insufficient data",
                    "cells": cells,
                    "suppressed": s.suppressed,
                }
            )
        chart = None
        chart_metrics = focus
        plottable = [s for s in slices if supp.shown(s, chart_metrics[-1])]
        # Charts for each attribute alone; intersections are tables (and in the pack's CSV).
        wanted = charts and len(dim) == 1 and fairness.task == "binary"
        if wanted and 1 <= len(plottable) <= 24:
            made: list[dict[str, Any]] = []
            for m in chart_metrics:
                pts = [s for s in slices if supp.shown(s, m) and _value(s, m) is not None]
                if not pts:
                    continue
                values = [v for v in (_value(s, m) for s in pts) if v is not None]
                # four-fifths of the best-served group's favourable rate; with an
                # unfavourable positive label that is 1 - 0.8 (1 - the lowest rate)
                threshold = (
                    1 - 0.8 * (1 - min(values)) if _unfavourable(fairness) else 0.8 * max(values)
                )
                flagged_keys = {
                    _slice_key(d.slice)
                    for d in fairness.disparities
                    if d.metric == m
                    and (d.four_fifths_flag or d.significant)
                    and not isinstance(d.reference, str)
                }
                rows_c = [
                    _charts.Interval(
                        label=" · ".join(s.attributes[a] for a in dim),
                        value=float(_est(s, m).value),  # type: ignore[arg-type, union-attr]
                        low=_est(s, m).ci_low,  # type: ignore[union-attr]
                        high=_est(s, m).ci_high,  # type: ignore[union-attr]
                        flagged=_slice_key(s.attributes) in flagged_keys,
                    )
                    for s in pts
                ]
                overall = _est(fairness.overall, m)
                made.append(
                    {
                        "metric": metric_label(m),
                        "hidden": len(slices) - len(pts),
                        "uri": _charts.interval_chart(
                            rows_c,
                            xlabel=metric_label(m),
                            percent=m in PERCENT_METRICS,
                            reference=overall.value if overall else None,
                            reference_label="all",
                            threshold=threshold if m == "selection_rate" else None,
                            threshold_label="four-fifths of best" if m == "selection_rate" else "",
                        ),
                    }
                )
            chart = made
        dims.append(
            {
                "name": " × ".join(dim),
                "rows": rows,
                "charts": chart or [],
                "hidden": sum(1 for s in slices if not supp.shown(s, chart_metrics[-1])),
            }
        )
    aggregates = [
        {
            "name": a.name.replace("_", " "),
            "dimension": " × ".join(a.dimension),
            "value": estimate_text(
                "ratio" if "ratio" in a.name else "x", a.value, ci_level=fairness.ci_level
            )
            if supp.aggregate_shown(fairness, a)
            else supp.aggregate_note(),
        }
        for a in fairness.aggregates
        if len(a.dimension) == 1  # intersections: in the pack's aggregates.csv
    ]
    sel = fairness.metric_selection
    whole = fairness.overall
    return {
        "task": fairness.task,
        "target": fairness.target,
        "positive_label": fairness.positive_label,
        "protected": fairness.protected,
        "bins": {k: ", ".join(v) for k, v in fairness.bins.items()},
        "n": number(whole.n),
        "primary_metric": metric_label(primary),
        "selection": None
        if sel is None
        else {
            "priority": sel.fair_priority,
            "impact": sel.fair_impact,
            "concern": sel.fair_concern,
            "parity": sel.parity_metric.replace("_", " "),
            "reason": sel.reason,
        },
        "overall_metrics": [
            {
                "name": metric_label(m),
                "value": estimate_text(m, _est(whole, m), ci_level=fairness.ci_level)
                if supp.shown(whole, m)
                else "suppressed",
            }
            for m in table_metrics
        ],
        "statements": statements,
        "table_metrics": [metric_label(m) for m in table_metrics],
        "dims": dims,
        "aggregates": aggregates,
        "min_cell": min_cell,
        "min_slice_size": fairness.min_slice_size,
        "bootstrap": fairness.bootstrap,
        "ci_level": f"{fairness.ci_level * 100:g}%",
        "ci_method": fairness.ci_method,
        "correction": "Holm" if fairness.correction == "holm" else "Benjamini-Hochberg",
        "alpha": f"{fairness.alpha:g}",
        "depth": fairness.depth,
        "n_four_fifths": n_flag_45,
        "n_significant": n_sig,
        "gap_metrics": " or ".join(metric_label(m) for m in focus),
        # a regression assessed before schema 1.2 holds no between-group comparisons
        "compared": bool(fairness.disparities) or fairness.task == "binary",
        "n_insufficient": insufficient,
        "n_slices": len(fairness.slices),
    }


def _level(confidence: float) -> str:
    """0.95 → '95%', 0.991667 → '99.1%' (rounded down: a level never claims more)."""
    from compliance.wording import confidence_pct

    return confidence_pct(confidence)


def _slice_ci(s: Any) -> str:
    """' (95% CI 2.1-5.3%)' for a group's share of members caught, where the evidence has it."""
    e = (getattr(s, "tpr_at_fpr_ci", None) or {}).get("0.01")
    if e is None or e.ci_low is None or e.ci_high is None:
        return ""
    return f" (95% CI {e.ci_low * 100:.1f}–{e.ci_high * 100:.1f}%)"


def _group_fpr(s: Any, min_cell: int) -> str:
    """The share of a group's non-members the attack's 1%-FPR threshold flags: the group's
    own false-positive rate, which can differ from the attack's 1%. Under the cell size,
    only that it is: a count of people wrongly flagged."""
    fpr = (getattr(s, "fpr_at_threshold", None) or {}).get("0.01")
    if getattr(s, "insufficient", False) or fpr is None:
        return "—"
    flagged = round(fpr * s.n_nonmembers)
    if flagged < min_cell:
        return f"<{min_cell} people"
    return "suppressed" if s.n_nonmembers - flagged < min_cell else _pct(fpr)


def _pct(v: float | None, d: int = 1) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v * 100:.{d}f}%"


def _inversion_images(inv: Any) -> list[dict[str, str]]:
    shape = list(getattr(inv, "shape", []) or [])
    recs = list(getattr(inv, "reconstructions", []) or [])
    if not recs or len(shape) < 2:
        return []
    import io

    import numpy as np

    plt = _charts._pyplot()
    out = []
    for i, flat in enumerate(recs):
        arr = np.asarray(flat, dtype=float)
        if arr.size != int(np.prod(shape)):
            continue
        img = arr.reshape(shape)
        if img.ndim == 3 and img.shape[0] in (1, 3):
            img = np.moveaxis(img, 0, -1)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        lo, hi = float(img.min()), float(img.max())
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        buf = io.BytesIO()
        plt.imsave(buf, img, cmap="gray" if img.ndim == 2 else None, format="png")
        out.append({"label": f"class {i}", "uri": _charts.image_uri(buf.getvalue())})
    return out


def _privacy_context(privacy: Any, min_cell: int) -> dict[str, Any]:
    membership = []
    curves = []
    for a in getattr(privacy, "membership", []) or []:
        ci = getattr(a, "tpr_at_fpr_ci", {}) or {}
        at = {}
        for key, label in FPR_KEYS:
            v = a.tpr_at_fpr.get(key)
            e = ci.get(key)
            txt = _pct(v, 2 if key == "0.001" else 1)
            if e is not None and e.ci_low is not None and e.ci_high is not None:
                txt += f" (95% CI {e.ci_low * 100:.1f}–{e.ci_high * 100:.1f}%)"
            at[label] = txt
        exposure = exposure_suppression(a, min_cell)
        judged = [
            x for x in a.slices if not getattr(x, "insufficient", False) and x.auc is not None
        ]
        # Ranked by the share found where it is printed; the groups whose share is hidden
        # follow by name, so that a row's place gives no hidden share away.
        judged.sort(
            key=lambda x: (
                (0, -(x.tpr_at_fpr.get("0.01") or 0.0), "")
                if exposure_shown(exposure, x.attributes)
                else (1, 0.0, group_text(x.attributes))
            )
        )
        slices = [
            {
                "group": group_text(s.attributes),
                "members": exposure.cell(slice_key(s.attributes), "members", s.n_members),
                "nonmembers": exposure.cell(slice_key(s.attributes), "nonmembers", s.n_nonmembers),
                "auc": "insufficient data"
                if getattr(s, "insufficient", False) or s.auc is None
                else f"{s.auc:.3f}",
                "tpr1": "—"
                if getattr(s, "insufficient", False)
                else (
                    _pct(s.tpr_at_fpr.get("0.01")) + _slice_ci(s)
                    if exposure_shown(exposure, s.attributes)
                    else "suppressed"
                ),
                "fpr1": _group_fpr(s, min_cell),
            }
            for s in judged[:MAX_EXPOSURE_ROWS]
        ]
        eps = a.epsilon_lower_bound
        conf = getattr(a, "epsilon_confidence", None)
        membership.append(
            {
                "name": a.name,
                "auc": "—" if a.auc is None else f"{a.auc:.3f}",
                "advantage": "—" if a.advantage is None else f"{a.advantage:.3f}",
                "tpr": at,
                "epsilon": "—"
                if eps is None
                else lower_bound_text(eps) + (f" (at {_level(conf)} confidence)" if conf else ""),
                "members": number(a.n_members),
                "nonmembers": number(a.n_nonmembers),
                "reference_models": a.reference_models,
                "reference_family": getattr(a, "reference_family", None),
                "seconds": f"{a.seconds:.1f}",
                "risk": getattr(a, "risk", None),
                "summary": getattr(a, "summary", None),
                "slices": slices,
                "slices_more": len(a.slices) - len(slices),
                "notes": list(a.notes),
            }
        )
        if a.roc:
            curves.append((a.name, a.roc))
    strongest = getattr(privacy, "strongest_attack", None)
    names = [m["name"] for m in membership]
    if strongest not in names and membership:
        ranked = max(privacy.membership, key=lambda a: a.tpr_at_fpr.get("0.01") or 0.0)
        strongest = ranked.name
    for m in membership:
        m["exposure_shown"] = m["name"] == strongest
    roc_uri = _charts.roc_chart(curves) if curves else None
    attribute = []
    bars = []
    for r in getattr(privacy, "attribute", []) or []:
        attribute.append(
            {
                "attribute": r.attribute,
                "records": number(r.n_records),
                "classes": r.n_classes,
                "attack": estimate_text("accuracy", r.attack_accuracy),
                "baseline": estimate_text("accuracy", r.baseline_accuracy),
                "majority": _pct(r.majority_rate),
                "advantage": _advantage_text(r.advantage),
                "queried": "yes" if r.model_queried else "no",
                "summary": r.summary,
                "notes": list(r.notes),
            }
        )
        bars.append(
            _charts.Bar(
                label=r.attribute,
                values=(
                    ("majority class", r.majority_rate),
                    ("imputation baseline", r.baseline_accuracy.value or float("nan")),
                    ("attack", r.attack_accuracy.value or float("nan")),
                ),
            )
        )
    attr_uri = _charts.bar_chart(bars, ylabel="accuracy", percent=True) if bars else None
    inv = getattr(privacy, "inversion", None)
    inversion = None
    if inv is not None:
        inversion = {
            "applicable": inv.applicable,
            "reason": inv.reason,
            "summary": inv.summary,
            "recognised": f"{inv.recognised} of {inv.n_classes}",
            "rate": _pct(inv.recognition_rate, 0)
            + (
                f", 95% CI {_pct(inv.recognition_ci.ci_low, 0)}-"
                f"{_pct(inv.recognition_ci.ci_high, 0)}"
                if inv.recognition_ci is not None and inv.recognition_ci.ci_low is not None
                else ""
            ),
            "chance": _pct(inv.chance_rate, 0),
            "baseline": None
            if inv.baseline_recognised is None
            else f"{inv.baseline_recognised} of {inv.n_classes}",
            "evaluator": inv.evaluator,
            "images": _inversion_images(inv) if inv.applicable else [],
        }
    dp = [
        {
            "method": d.method,
            "target": f"{d.epsilon_target:g}",
            "spent": f"{d.epsilon_spent:.2f}",
            "delta": f"{d.delta:.0e}",
            "accuracy": _pct(d.accuracy),
            "train": number(d.n_train),
            "test": number(d.n_test),
            "empirical": "—"
            if d.empirical_epsilon_lower_bound is None
            else lower_bound_text(d.empirical_epsilon_lower_bound),
            "seconds": f"{d.seconds:.0f}",
        }
        for d in getattr(privacy, "dp_reference", []) or []
    ]
    target_acc = getattr(privacy, "target_accuracy", None)
    return {
        "membership": membership,
        "membership_risk": getattr(privacy, "membership_risk", None),
        "strongest": strongest,
        "roc_uri": roc_uri,
        "attribute": attribute,
        "attribute_uri": attr_uri,
        "inversion": inversion,
        "dp": dp,
        "target_accuracy": None if target_acc is None else _pct(target_acc),
        "notes": [str(n) for n in privacy.notes],
    }


def _advantage_text(e: Estimate) -> str:
    if e.value is None:
        return "undefined"
    txt = f"{e.value * 100:+.1f} points"
    if e.ci_low is not None and e.ci_high is not None:
        txt += f" (95% CI {e.ci_low * 100:+.1f} to {e.ci_high * 100:+.1f})"
    return txt


def _scalar(v: Any) -> str | None:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if math.isfinite(v) else "undefined"
    if isinstance(v, int | str):
        return str(v)
    return None


def _kv(d: Mapping[str, Any]) -> str:
    """Measured values and thresholds in one line: scalars as they are, structures summarised.

    Nested records (per-slice details) stay in assessment.json: printing them would be
    unreadable, and could print a small count the tables suppress.
    """
    parts = []
    for k, v in d.items():
        name = k.replace("_", " ")
        text = _scalar(v)
        if text is None and isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
            text = group_text(v)
        if text is None and isinstance(v, list):
            if all(_scalar(x) is not None for x in v) and len(v) <= 8:
                text = ", ".join(str(_scalar(x)) for x in v) or "none"
            else:
                text = f"{len(v)} entries (details in assessment.json)"
        if text is None:
            text = "details in assessment.json"
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


def _finding_chart(
    f: Any, fairness: FairnessSection | None, supp: Suppression | None = None
) -> dict[str, str] | None:
    """A chart of the groups a finding names, on the metric it measured, with intervals."""
    if fairness is None or not f.slices:
        return None
    named = f.measured.get("metric") or f.measured.get("rate")
    metric = named if isinstance(named, str) else None
    if metric is None and "min_impact_ratio" in f.threshold:
        metric = "selection_rate"
    if metric is None or metric not in fairness.overall.metrics:
        return None
    supp = fairness_suppression(fairness) if supp is None else supp
    by_key = {_slice_key(s.attributes): s for s in fairness.slices}
    # the groups the check compared the named ones with (F1: each one's reference group)
    named_keys = {_slice_key(a) for a in f.slices}
    compared = f.measured.get("slices")
    references = [
        r["reference"]
        for r in (compared if isinstance(compared, list) else [])
        if isinstance(r, dict)
        and isinstance(r.get("reference"), dict)
        and isinstance(r.get("slice"), dict)
        and _slice_key(r["slice"]) in named_keys
    ]
    # a reference that is itself a named group is drawn once, as named
    shown_refs = [
        a for k, a in {_slice_key(a): a for a in references}.items() if k not in named_keys
    ][:4]
    rows = []
    for attrs, is_ref in [*((a, False) for a in f.slices[:14]), *((a, True) for a in shown_refs)]:
        s = by_key.get(_slice_key(attrs))
        if s is None or not supp.shown(s, metric) or _value(s, metric) is None:
            continue
        e = s.metrics[metric]
        size = supp.cell(_slice_key(s.attributes), "n", s.n)
        rows.append(
            _charts.Interval(
                label=f"{group_text(attrs)} ({'reference, ' if is_ref else ''}n={size})",
                value=float(e.value),  # type: ignore[arg-type]
                low=e.ci_low,
                high=e.ci_high,
                flagged=f.status in ("fail", "warn") and not is_ref,
            )
        )
    if not rows:
        return None
    overall = fairness.overall.metrics.get(metric)
    uri = _charts.interval_chart(
        rows,
        xlabel=metric_label(metric),
        percent=metric in PERCENT_METRICS,
        reference=overall.value if overall else None,
        reference_label="all",
    )
    drawn_refs = sum(1 for r in rows if r.label.endswith(")") and "(reference, " in r.label)
    return {
        "uri": uri,
        "metric": metric_label(metric),
        "n": str(len(rows) - drawn_refs),
        "references": "yes" if drawn_refs else "",
    }


WAIVER_STATES = {
    "active": "Active",
    "expired": "Expired",
    "unused": "Unused",
}
ATTESTED_MET = {True: "yes", False: "no", None: "not stated"}
"""`AttestationRecord.compliant` in words: did the person answering say the requirement is met?"""


def _waiver_text(w: Any) -> str | None:
    """One line on a finding's waiver: whether it is in force, until when, by whom, why."""
    if w is None:
        return None
    status = getattr(w, "status", None)
    if status == "active":
        head = f"Active until {w.expires} (inclusive)"
    elif status == "expired":
        head = f"Expired on {w.expires}: the finding counts as it stands again"
    elif status == "unused":
        head = f"Unused (the check did not fail); it would have run until {w.expires}"
    else:
        head = f"Until {w.expires}"
    return f"{head}. Approved by {w.approver}: {w.justification}"


def _attestation_text(a: Any) -> str | None:
    """One line on the answer a finding rests on: who answered, when, and whether met."""
    if a is None:
        return None
    met = ATTESTED_MET[getattr(a, "compliant", None)]
    if a.status == "open" or not a.answer:
        return "Not answered yet."
    who = a.name or "no name given"
    if a.role:
        who += f" ({a.role})"
    when = f" on {a.date}" if a.date else ""
    incomplete = " (incomplete: not signed off)" if a.status == "incomplete" else ""
    return f"Answered by {who}{when}{incomplete}. Requirement met: {met}."


def _status_label(status: str | None) -> str | None:
    return None if status is None else STATUS_LABELS.get(status, status)


def _policy_context(policy: Any, fairness: FairnessSection | None) -> dict[str, Any]:
    findings = list(policy.findings)
    principles: dict[str, list[dict[str, Any]]] = {}
    charts_left = MAX_FINDING_CHARTS
    supp = fairness_suppression(fairness) if fairness is not None else None
    for f in findings:
        chart = _finding_chart(f, fairness, supp) if charts_left > 0 else None
        charts_left -= chart is not None
        principles.setdefault(f.principle, []).append(
            {
                "title": f.title,
                "check": f"{f.pack}/{f.check}",
                "status": f.status,
                "status_label": STATUS_LABELS.get(f.status, f.status),
                "severity": f.severity,
                "message": f.message,
                "measured": _kv(f.measured),
                "threshold": _kv(f.threshold),
                "slices": "; ".join(group_text(s) for s in f.slices[:8]),
                "waived_status": _status_label(f.waived_status)
                if f.waived_status not in (None, f.status)
                else None,
                "waiver": _waiver_text(f.waiver),
                "waiver_status": getattr(f.waiver, "status", None),
                "attestation": _attestation_text(f.attestation),
                "chart": chart,
            }
        )
    counts = Counter(f.status for f in findings)
    blocking = [
        {
            "title": f.title,
            "message": f.message,
            "status": f.status,
            "status_label": STATUS_LABELS.get(f.status, f.status),
            "principle": f.principle,
        }
        for f in findings
        if f.severity == "blocking" and f.status in ("fail", "insufficient_data")
    ]
    awaiting = [
        f"{f.title} ({f.principle})"
        for f in findings
        if f.severity == "blocking" and f.status == "open"
    ]
    attestations = [
        {
            "check": f"{a.pack}/{a.check}",
            "principle": a.principle,
            "question": a.question,
            "answer": a.answer or "— not answered —",
            "compliant": {True: "yes", False: "no", None: ""}[getattr(a, "compliant", None)],
            "met": ATTESTED_MET[getattr(a, "compliant", None)].capitalize()
            if a.status != "open"
            else "—",
            "evidence": a.evidence or "",
            "who": ", ".join(x for x in (a.name, a.role, a.date) if x),
            "status": a.status,
        }
        for a in getattr(policy, "attestations", []) or []
    ]
    by_check = {(f.pack, f.check): f for f in findings}
    waivers = []
    for w in getattr(policy, "waivers", []) or []:
        f = by_check.get((w.pack, w.check))
        was = getattr(f, "waived_status", None)
        was = _status_label(was) if f is not None and was != f.status else None
        waivers.append(
            {
                "check": f"{w.pack}/{w.check}",
                "justification": w.justification,
                "approver": w.approver,
                "expires": w.expires,
                "status": w.status,
                "status_label": WAIVER_STATES.get(w.status, w.status),
                "finding": (
                    f"{was} → {STATUS_LABELS.get(f.status, f.status)}"
                    if f is not None and was
                    else (STATUS_LABELS.get(f.status, f.status) if f is not None else "—")
                ),
            }
        )
    packs = [
        {
            "id": p.id,
            "version": p.version,
            "title": p.title,
            "jurisdiction": getattr(p, "jurisdiction", None) or "",
            "sha256": p.sha256 or "",
            "index": [
                {
                    "section": e.section,
                    "title": e.title,
                    "answered_by": ", ".join(e.answered_by) or "—",
                }
                for e in getattr(p, "index", []) or []
            ],
        }
        for p in policy.packs
    ]
    baseline = getattr(policy, "baseline", None)
    return {
        "packs": packs,
        "principles": [{"name": k, "findings": v} for k, v in principles.items()],
        "counts": [(STATUS_LABELS.get(k, k), v) for k, v in sorted(counts.items())],
        "blocking": blocking,
        "awaiting": awaiting,
        "attestations": attestations,
        "waivers": waivers,
        "verdict": policy.verdict,
        "baseline": None
        if baseline is None
        else f"{baseline.path or 'a previous assessment'} ({baseline.created_at})",
    }


def _discovery_context(discovery: Any, min_cell: int) -> dict[str, Any]:
    rows = []
    found = list(getattr(discovery, "slices_found", []) or [])
    business = list(getattr(discovery, "business_slices", []) or [])
    for s in found + business:
        small = s.n < min_cell or getattr(s, "suppressed", False)
        judged = getattr(s, "status", "ok") == "ok" and s.value is not None
        value = "—" if s.value is None else value_text(s.metric, s.value)
        if s.ci_low is not None and s.ci_high is not None and s.metric in PERCENT_METRICS:
            value += f" ({s.ci_low * 100:.1f}–{s.ci_high * 100:.1f}%)"
        rest = getattr(s, "rest_value", None)
        rows.append(
            {
                "source": "listed" if getattr(s, "source", "search") == "business" else "found",
                "description": (f"{s.name}: " if getattr(s, "name", None) else "") + s.description,
                "n": count_cell(s.n, min_cell),
                "metric": metric_label(s.metric),
                "value": "suppressed" if small else (value if judged else "insufficient data"),
                "rest": "—" if rest is None or small else value_text(s.metric, rest),
                "p": "—"
                if s.p_adjusted is None
                else ("< 0.001" if s.p_adjusted < 0.001 else f"{s.p_adjusted:.3f}"),
                "protected": "yes" if s.overlaps_protected else "no",
            }
        )
    lines: list[str] = []
    try:
        from compliance.evidence.discovery import discovery_lines
    except ImportError:  # an older evidence module without sentences
        pass
    else:
        # The slices are in the table; the sentences carry the search, proxies, leave-one-out.
        rest_only = discovery.model_copy(update={"slices_found": [], "business_slices": []})
        lines = [
            line
            for line in discovery_lines(rest_only, min_cell=min_cell)
            if not line.startswith(("No slice is worse", "Business slices from"))
        ]
    return {"rows": rows, "lines": lines}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _headlines(ctx: dict[str, Any], assessment: Assessment) -> list[str]:
    out = []
    f = ctx.get("fairness")
    if f:
        worst = next((s for s in f["statements"] if s["flagged"]), None)
        gaps = (
            f"gaps in {f['gap_metrics']} statistically significant after correction: "
            f"{f['n_significant']}."
        )
        counts = (
            f"Comparisons below the four-fifths threshold: {f['n_four_fifths']}; {gaps}"
            if f["task"] == "binary"
            else gaps[0].upper() + gaps[1:]
            if f["compared"]
            else "Its groups were not compared (an assessment from before schema 1.2)."
        )
        out.append(
            f"Fairness was measured on {f['n']} people across {f['n_slices']} slices of "
            f"{', '.join(f['protected'])}. {counts}"
        )
        if worst:
            out.append(worst["text"])
    p = assessment.privacy
    if p is not None and p.membership:
        best = next((a for a in p.membership if a.name == p.strongest_attack), None) or max(
            p.membership, key=lambda a: a.tpr_at_fpr.get("0.01") or 0.0
        )
        t1 = best.tpr_at_fpr.get("0.01")
        ci = best.tpr_at_fpr_ci.get("0.01")
        interval = (
            f" (95% CI {_pct(ci.ci_low)}–{_pct(ci.ci_high)})"
            if ci is not None and ci.ci_low is not None and ci.ci_high is not None
            else ""
        )
        eps = best.epsilon_lower_bound
        conf = best.epsilon_confidence
        k = len(p.membership)
        # the largest of the k epsilon bounds holds at 1 - k(1 - conf) (Bonferroni): 97.5%
        # for bounds at 1 - 0.05/(2k) (schema 1.4), 95% at 1 - 0.05/k (1.3); as the P2 check
        level = (
            f" at {_level(max(0.0, 1 - k * (1 - conf)))} confidence over the {k} attacks"
            if conf and k > 1
            else f" at {_level(conf)} confidence"
            if conf
            else ""
        )
        risk = f"Membership risk: {p.membership_risk}. " if p.membership_risk else ""
        if [a.name for a in p.membership] == ["label_only"]:
            risk += (
                "Only the label-only attack could run (the model gives no probabilities), "
                "and it is the weakest: a low reading bounds little. "
            )
        out.append(
            f"{risk}The strongest membership-inference attack ({best.name}) found "
            f"{_pct(t1)}{interval} of training records at a 1% false-positive rate, where "
            f"random guessing finds 1%"
            + ("" if eps is None else f", and proves epsilon ≥ {lower_bound_text(eps)}{level}")
            + f"; its AUC was {'—' if best.auc is None else f'{best.auc:.3f}'} "
            f"({number(best.n_members)} members, {number(best.n_nonmembers)} non-members)."
        )
    if p is not None:
        for r in p.attribute:
            out.append(r.summary)
    return out


def build_context(
    assessment: Assessment,
    *,
    assessment_json: str,
    signer: SignerInfo | None = None,
) -> dict[str, Any]:
    """The template's view model. `assessment_json` is the exact attached text (for its hash)."""
    ctx: dict[str, Any] = {}
    model = assessment.model
    ctx["title"] = assessment.title
    ctx["created_at"] = assessment.created_at
    ctx["date"] = assessment.created_at[:10]
    ctx["model"] = {
        "description": model.description,
        "kind": model.kind,
        "path": model.path or "—",
        "task": model.task,
        "trusted_pickle": model.trusted_pickle,
        "trusted_types": ", ".join(model.trusted_types),
    }
    ctx["inputs"] = [
        {
            "name": i.path.rsplit("/", 1)[-1],
            "path": i.path,
            "role": i.role,
            "size": _size(i.size),
            "sha256": i.sha256,
        }
        for i in assessment.inputs
    ]
    ctx["signer"] = signer
    ctx["assessment_sha256"] = hashlib.sha256(assessment_json.encode("utf-8")).hexdigest()
    min_cell = assessment.fairness.min_cell if assessment.fairness else 10
    ctx["fairness"] = _fairness_context(assessment.fairness) if assessment.fairness else None
    ctx["unfavourable"] = assessment.fairness is not None and _unfavourable(assessment.fairness)
    ctx["privacy"] = _privacy_context(assessment.privacy, min_cell) if assessment.privacy else None
    ctx["policy"] = (
        _policy_context(assessment.policy, assessment.fairness) if assessment.policy else None
    )
    ctx["discovery"] = (
        _discovery_context(assessment.discovery, min_cell) if assessment.discovery else None
    )
    verdict = assessment.policy.verdict if assessment.policy else None
    ctx["verdict"] = verdict
    ctx["verdict_text"] = (
        VERDICT_TEXT[verdict] if verdict else "NOT JUDGED — no policy pack was evaluated"
    )
    ctx["headlines"] = _headlines(ctx, assessment)
    ctx["warnings"] = list(assessment.warnings)
    prov = assessment.provenance
    ctx["provenance"] = {
        "tool_version": prov.tool_version,
        "python": prov.python,
        "platform": prov.platform,
        "seed": prov.seed,
        "command": " ".join(_quote(a) for a in prov.command) or "—",
        "packages": sorted(prov.packages.items()),
        "schema_version": assessment.schema_version,
    }
    return ctx


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def fairness_statements(assessment: Assessment, *, limit: int = MAX_STATEMENTS) -> list[str]:
    """The report's plain-words fairness findings (flagged first), small counts suppressed."""
    if assessment.fairness is None:
        return []
    statements = _fairness_context(assessment.fairness, charts=False)["statements"]
    return [s["text"] for s in statements[:limit]]
