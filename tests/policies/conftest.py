"""Synthetic evidence for the policy tests: assessments built from confusion counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from compliance.assessment import Assessment, ModelInfo, Provenance
from compliance.evidence._base import Estimate
from compliance.evidence.fairness import Disparity, FairnessSection, MetricSelection, SliceResult


def rates(tn: int, fp: int, fn: int, tp: int) -> dict[str, float]:
    n = tn + fp + fn + tp
    return {
        "selection_rate": (tp + fp) / n,
        "true_positive_rate": tp / (tp + fn),
        "false_positive_rate": fp / (fp + tn),
        "accuracy": (tp + tn) / n,
        "balanced_accuracy": 0.5 * (tp / (tp + fn) + tn / (tn + fp)),
    }


def make_slice(attrs: dict[str, str], tn: int, fp: int, fn: int, tp: int, *, min_n: int = 30,
               extra: dict[str, float] | None = None) -> SliceResult:  # fmt: skip
    n = tn + fp + fn + tp
    metrics = {
        k: Estimate(value=v, ci_low=max(v - 0.02, 0.0), ci_high=min(v + 0.02, 1.0))
        for k, v in rates(tn, fp, fn, tp).items()
    }
    for k, v in (extra or {}).items():
        metrics[k] = Estimate(value=v)
    return SliceResult(
        attributes=attrs, n=n, status="ok" if n >= min_n else "insufficient_data",
        counts={"tn": tn, "fp": fp, "fn": fn, "tp": tp}, metrics=metrics,
    )  # fmt: skip


def disparity(
    s: SliceResult, ref: SliceResult, metric: str, *, half_width: float = 0.03
) -> Disparity:
    a = s.metrics[metric].value
    b = ref.metrics[metric].value
    assert a is not None and b is not None
    diff = a - b
    return Disparity(
        metric=metric, dimension=sorted(s.attributes), slice=s.attributes, reference=ref.attributes,
        n_denominator=s.counts["tp"] + s.counts["fn"],
        difference=Estimate(value=diff, ci_low=diff - half_width, ci_high=diff + half_width),
        ratio=Estimate(value=a / b), test="none", p_value=None, p_adjusted=None, significant=False,
    )  # fmt: skip


def make_fairness(slices: list[SliceResult], *, metric: str = "true_positive_rate",
                  half_width: float = 0.03) -> FairnessSection:  # fmt: skip
    """Fairness evidence whose disparities compare each slice with the best of its attribute."""
    totals = [sum(s.counts[c] for s in slices if len(s.attributes) == 1 and "sex" in s.attributes)
              for c in ("tn", "fp", "fn", "tp")]  # fmt: skip
    overall = make_slice({}, *totals) if all(totals) else make_slice({}, 500, 100, 100, 300)
    by_dim: dict[tuple[str, ...], list[SliceResult]] = {}
    for s in slices:
        by_dim.setdefault(tuple(sorted(s.attributes)), []).append(s)
    disparities = []
    for group in by_dim.values():
        ok = [s for s in group if s.status == "ok"]
        if not ok:
            continue
        ref = max(ok, key=lambda s: s.metrics[metric].value or 0.0)
        disparities += [
            disparity(s, ref, metric, half_width=half_width) for s in ok if s is not ref
        ]
    return FairnessSection(
        task="binary", target="y", positive_label="1",
        protected=sorted({a for s in slices for a in s.attributes}),
        depth=2, min_slice_size=30, min_cell=10, bootstrap=200, ci_level=0.95,
        ci_method="percentile", correction="holm", alpha=0.05,
        metric_selection=MetricSelection(
            fair_priority="benefit", fair_impact="normal", fair_concern="eligible",
            positive_label_favourable=True, primary_metric=metric,
            parity_metric="equal_opportunity", metrics=[metric], reason="test",
        ),
        primary_metric=metric, overall=overall, slices=[overall, *slices],
        disparities=disparities, aggregates=[],
    )  # fmt: skip


def make_assessment(**sections: Any) -> Assessment:
    return Assessment(
        created_at="2026-11-01T00:00:00+00:00",
        provenance=Provenance(
            tool_version="0", python="3.11", platform="test", packages={}, seed=0, command=["test"]
        ),
        inputs=[],
        model=ModelInfo(kind="predictions", description="test", task="binary"),
        **sections,
    )


def standard_slices() -> list[SliceResult]:
    """sex: TPR 0.80 vs 0.60 (gap 0.20); race: A 0.75, B 0.70 (gap 0.05), C too small."""
    return [
        make_slice({"sex": "M"}, tn=400, fp=100, fn=100, tp=400),
        make_slice({"sex": "F"}, tn=600, fp=50, fn=140, tp=210),
        make_slice({"race": "A"}, tn=500, fp=90, fn=100, tp=300),
        make_slice({"race": "B"}, tn=480, fp=60, fn=135, tp=315),
        make_slice({"race": "C"}, tn=8, fp=2, fn=4, tp=6),
    ]


@pytest.fixture
def build() -> dict[str, Callable[..., Any]]:
    return {
        "slice": make_slice,
        "fairness": make_fairness,
        "assessment": make_assessment,
        "standard": standard_slices,
        "rates": rates,
    }
