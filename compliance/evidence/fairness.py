"""Evidence of the fairness engine: per-slice metrics, disparities and aggregates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from compliance.evidence._base import Estimate, Frozen
from compliance.wording import PERCENT_METRICS

UNIT_METRICS = frozenset(
    {*PERCENT_METRICS, "roc_auc", "balanced_accuracy", "brier_score", "expected_calibration_error"}
)
"""Metrics that lie between 0 and 1, with their interval bounds."""
CONFUSION_CELLS = ("tn", "fp", "fn", "tp")


class MetricSelection(Frozen):
    """The Veritas fairness-metric selection: the answers and the metric they lead to."""

    fair_priority: Literal["benefit", "harm"]
    fair_impact: Literal["normal", "significant", "selective"]
    fair_concern: Literal["eligible", "inclusive", "both"]
    positive_label_favourable: bool
    primary_metric: str
    parity_metric: str
    metrics: list[str]
    reason: str


class SliceResult(Frozen):
    """Every metric for one slice (a protected group or an intersection of groups)."""

    attributes: dict[str, str]
    n: int
    status: Literal["ok", "insufficient_data"]
    counts: dict[str, int] = Field(default_factory=dict)
    suppressed: bool = False
    metrics: dict[str, Estimate]
    note: str | None = None
    """Why the slice is read differently, e.g. a missing value of a protected attribute
    (schema 1.3; absent in older files)."""

    @model_validator(mode="after")
    def _figures_are_possible(self) -> SliceResult:
        """A rate outside 0 to 1, or confusion counts that do not add up to the group's
        size, is refused: the file was edited or damaged, and a report must not sign it."""
        for name, est in self.metrics.items():
            if name not in UNIT_METRICS:
                continue
            for part in ("value", "ci_low", "ci_high"):
                v = getattr(est, part)
                if v is not None and not 0.0 <= v <= 1.0:
                    raise ValueError(f"metrics.{name}.{part} is {v:g}, outside 0 to 1")
        if all(c in self.counts for c in CONFUSION_CELLS):
            total = sum(self.counts[c] for c in CONFUSION_CELLS)
            if total != self.n:
                raise ValueError(f"the confusion counts add up to {total}, not n = {self.n}")
        return self


class Disparity(Frozen):
    """One slice's metric compared with a reference group or with the whole population."""

    metric: str
    dimension: list[str]
    slice: dict[str, str]
    reference: dict[str, str] | Literal["overall"]
    n_denominator: int | None = None
    difference: Estimate
    ratio: Estimate
    test: Literal["fisher", "z", "welch", "none"]
    p_value: float | None
    """Two-sided p of the comparison reported: the slice against the `reference` group, or
    for "overall" the slice against the rest of the population; None for metrics with no
    test (balanced accuracy, ROC AUC). Proportions: Fisher's exact test or a z-test; a
    regression's mean metrics: Welch's t-test (on squared errors for the RMSE). None also
    where fewer than `min_slice_size` rows lie behind the metric on a side (see `note`).
    Against a reference group chosen from the data (the best served), the raw p-value is
    anti-conservative on its own: read `p_adjusted` and `significant`."""
    p_adjusted: float | None
    """`p_value` adjusted (`correction`) over every distinct test of the section, each once
    (a rate and its complement, such as TPR and FNR, are one test)."""
    significant: bool
    four_fifths_flag: bool | None = None
    note: str | None = None
    """Why the comparison is not judged, or not flagged (schema 1.3; absent in older files)."""
    four_fifths_ratio: Estimate | None = None
    """The impact ratio the four-fifths flag reads (selection rate against a group only):
    the slice's rate of the favourable outcome over the reference group's. It equals
    `ratio` when the positive label is favourable; when it is not, the favourable rate is
    1 - selection rate, and the reference (the most favoured group) has the lowest
    selection rate. Schema 1.3; absent in older files."""


class GroupAggregate(Frozen):
    """A between-group aggregate over one dimension, such as the equalized-odds difference,
    over the groups judged for its rate (see `note`)."""

    name: str
    dimension: list[str]
    value: Estimate
    note: str | None = None
    """How to read the interval, and which groups the aggregate is over (schema 1.3;
    absent in older files)."""


class FairnessSection(Frozen):
    """All fairness evidence of one assessment."""

    task: Literal["binary", "regression"]
    target: str
    positive_label: str | None
    protected: list[str]
    bins: dict[str, list[str]] = Field(default_factory=dict)
    bin_edges: dict[str, list[float]] = Field(default_factory=dict)
    """The cut points behind `bins` (schema 1.1; empty in 1.0 files)."""
    depth: int
    min_slice_size: int
    min_cell: int
    bootstrap: int
    ci_level: float
    ci_method: str
    correction: Literal["holm", "fdr_bh"]
    alpha: float
    reference: dict[str, str] = Field(default_factory=dict)
    metric_selection: MetricSelection | None
    primary_metric: str | None
    overall: SliceResult
    slices: list[SliceResult]
    disparities: list[Disparity]
    aggregates: list[GroupAggregate]
