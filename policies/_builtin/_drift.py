"""Drift against a previous assessment: a metric that got worse beyond a tolerance."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from policies._builtin._common import (
    known_name,
    listing,
    metric_value,
    num,
    section_items,
    slice_name,
    words,
)
from policies._registry import CheckContext, NonNegative, Options, Outcome, check

HIGHER_IS_BETTER = {
    "accuracy", "balanced_accuracy", "roc_auc", "precision", "true_positive_rate",
    "true_negative_rate", "negative_predictive_value",
}  # fmt: skip
LOWER_IS_BETTER = {
    "brier_score", "expected_calibration_error", "false_positive_rate", "false_negative_rate",
    "false_discovery_rate", "false_omission_rate", "mean_absolute_error", "root_mean_squared_error",
}  # fmt: skip


class DriftParams(Options):
    metrics: list[str] = Field(
        default_factory=lambda: [
            "accuracy",
            "balanced_accuracy",
            "roc_auc",
            "expected_calibration_error",
            "brier_score",
        ]
    )
    """Overall performance metrics compared (each with its better direction)."""
    fairness_gaps: bool = True
    """Compare each slice's gap on the primary fairness metric."""
    privacy: bool = True
    """Compare membership-inference AUC and TPR at low FPR, attack by attack."""

    @field_validator("metrics")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        known = sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER)
        return [known_name(m, known) for m in v]


class DriftThresholds(Options):
    tolerance: NonNegative = 0.02
    """A figure may get worse by up to this much (absolute) before it is a finding."""


def _gaps(assessment: Any) -> tuple[str | None, dict[tuple[Any, ...], float]]:
    fairness = assessment.fairness
    if fairness is None or fairness.primary_metric is None:
        return None, {}
    out = {}
    for d in fairness.disparities:
        if (
            d.metric == fairness.primary_metric
            and d.reference != "overall"
            and d.difference.value is not None
        ):
            out[tuple(sorted(d.slice.items()))] = abs(d.difference.value)
    return fairness.primary_metric, out


def _unlike(now: Any, base: Any) -> list[str]:
    """Why a baseline is no earlier assessment of the same use: made after this one, or on
    another task, target, positive label or protected attributes."""
    import datetime as dt

    out = []
    try:
        later = dt.datetime.fromisoformat(base.created_at) > dt.datetime.fromisoformat(
            now.created_at
        )
    except (TypeError, ValueError):
        later = False
    if later:
        out.append(f"it was made after it ({now.created_at})")
    if now.model.task != base.model.task:
        out.append(f"task {base.model.task}, not {now.model.task}")
    a, b = now.fairness, base.fairness
    if a is not None and b is not None:
        for field in ("target", "positive_label"):
            if getattr(a, field) != getattr(b, field):
                out.append(f"{field} {getattr(b, field)!r}, not {getattr(a, field)!r}")
        if sorted(a.protected) != sorted(b.protected):
            out.append(
                f"protected attributes {', '.join(sorted(b.protected))}, not "
                f"{', '.join(sorted(a.protected))}"
            )
    return out


@check(
    "baseline.drift",
    params=DriftParams,
    thresholds=DriftThresholds,
    summary="No metric got worse than in the previous assessment beyond a tolerance.",
)
def drift(ctx: CheckContext, p: DriftParams, t: DriftThresholds) -> Outcome:
    base = ctx.baseline
    if base is None:
        return Outcome(
            "not_applicable",
            "No previous assessment was given (--baseline), so drift was not measured.",
        )
    now = ctx.assessment
    unlike = _unlike(now, base)
    if unlike:
        return Outcome(
            "insufficient_data",
            f"The baseline (assessment of {base.created_at}) cannot be compared with this one: "
            f"{'; '.join(unlike)}.",
            {"baseline_created_at": base.created_at, "not_comparable": unlike},
        )
    worse: list[dict[str, Any]] = []
    compared = 0
    if now.fairness is not None and base.fairness is not None:
        for m in p.metrics:
            a, b = metric_value(now.fairness.overall, m), metric_value(base.fairness.overall, m)
            if a is None or b is None:
                continue
            compared += 1
            change = (b - a) if m in HIGHER_IS_BETTER else (a - b) if m in LOWER_IS_BETTER else 0.0
            if change > t.tolerance:
                worse.append(
                    {
                        "figure": f"overall {words(m)}",
                        "baseline": b,
                        "current": a,
                        "worse_by": change,
                    }
                )
        if p.fairness_gaps:
            metric, gaps_now = _gaps(now)
            metric_b, gaps_base = _gaps(base)
            if metric is not None and metric == metric_b:
                for key, gap in gaps_now.items():
                    if key not in gaps_base:
                        continue
                    compared += 1
                    change = gap - gaps_base[key]
                    if change > t.tolerance:
                        worse.append({
                            "figure": f"{words(metric)} gap of {slice_name(dict(key))}",
                            "baseline": gaps_base[key], "current": gap, "worse_by": change,
                            "slice": dict(key),
                        })  # fmt: skip
    if p.privacy:
        before = {x.get("name"): x for x in section_items(base.privacy, "membership") or []}
        for att in section_items(now.privacy, "membership") or []:
            prev = before.get(att.get("name"))
            if prev is None:
                continue
            pairs: list[tuple[str, Any, Any]] = [("auc", att.get("auc"), prev.get("auc"))]
            for fpr in ("0.01", "0.001"):
                pairs.append(
                    (
                        f"TPR at {fpr} FPR",
                        (att.get("tpr_at_fpr") or {}).get(fpr),
                        (prev.get("tpr_at_fpr") or {}).get(fpr),
                    )
                )
            for label, x, y in pairs:
                if x is None or y is None:
                    continue
                compared += 1
                if x - y > t.tolerance:
                    worse.append(
                        {
                            "figure": f"membership {att.get('name')} {label}",
                            "baseline": y,
                            "current": x,
                            "worse_by": x - y,
                        }
                    )
    measured = {"baseline_created_at": base.created_at, "compared": compared, "worse": worse}
    if compared == 0:
        return Outcome(
            "insufficient_data", "The two assessments share no figure to compare.", measured
        )
    if worse:
        text = [f"{w['figure']} {num(w['baseline'])} → {num(w['current'])}" for w in worse]
        return Outcome(
            "fail",
            f"{len(worse)} of {compared} figures got worse than in the assessment of "
            f"{base.created_at} by more than {t.tolerance:g}: {listing(text)}.",
            measured,
            [w["slice"] for w in worse if "slice" in w],
        )
    return Outcome(
        "pass",
        f"None of {compared} figures got worse than in the assessment of {base.created_at} by more "
        f"than {t.tolerance:g}.",
        measured,
    )
