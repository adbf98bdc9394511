"""Evidence of slice discovery and proxy detection (slice-discovery issue).

`DiscoverySection` holds:
- `slices_found`: the slices a SliceLine search found worst on the chosen metric;
- `business_slices`: the slices the user listed in a file, always reported;
- `proxies`: how well each feature predicts each protected attribute;
- `leave_one_out`: what dropping each protected model input does to the model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from compliance.evidence._base import Frozen, _finite_or_none

# feature -> category (text), or -> [low, high) for a binned numeric feature; None is an
# open end ([None, 25] is "under 25", [65, None] is "65 or more").
SliceDefinition = dict[str, str | list[float | None]]


class _Finite(Frozen):
    """Non-finite floats are stored as None, so the JSON stays valid."""

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, v: object) -> object:
        if isinstance(v, float):
            return _finite_or_none(v)
        return v


class GroupShare(_Finite):
    """The largest group of a protected attribute within a slice, and its share overall."""

    group: str
    share: float
    share_overall: float

    @property
    def concentrated(self) -> bool:
        """The slice lies (nearly) within this group.

        At least 95% of the slice is a group that is at most 80% of all rows
        ("relationship is Husband" lies within the men); or the group is at least half of
        the slice and at least 1.5 times its share of all rows.
        """
        return (self.share >= 0.95 and self.share_overall <= 0.8) or (
            self.share >= 0.5 and self.share >= 1.5 * self.share_overall
        )


class FoundSlice(_Finite):
    """One slice, found by the search or listed by the user, with its metric and test."""

    source: Literal["search", "business"] = "search"
    name: str | None = None
    definition: SliceDefinition
    description: str
    n: int
    denominator: int | None = None
    metric: str
    status: Literal["ok", "insufficient_data"] = "ok"
    suppressed: bool = False
    value: float | None
    ci_low: float | None
    ci_high: float | None
    rest_value: float | None = None
    gap: float | None = None
    test: Literal["z", "fisher", "none"] = "none"
    p_value: float | None = None
    p_adjusted: float | None
    score: float | None = None
    overlaps_protected: bool
    protected_composition: dict[str, GroupShare] = Field(default_factory=dict)
    merged: list[SliceDefinition] = Field(default_factory=list)


class ProxyResult(_Finite):
    """How well one feature alone predicts one protected attribute."""

    feature: str
    protected: str
    n: int
    mutual_information: float | None
    normalized_mi: float | None
    auc: float | None
    auc_ci_low: float | None
    auc_ci_high: float | None
    auc_group: str | None
    flagged: bool


class LeaveOneOutResult(_Finite):
    """A protected model input dropped: the refit without it against the refit with it."""

    attribute: str
    available: bool
    reason: str | None = None
    n_train: int = 0
    n_eval: int = 0
    accuracy_with: float | None = None
    accuracy_without: float | None = None
    accuracy_change: float | None = None
    auc_with: float | None = None
    auc_without: float | None = None
    auc_change: float | None = None
    fairness_metric: str | None = None
    fairness_gap_with: float | None = None
    fairness_gap_without: float | None = None
    fairness_gap_change: float | None = None
    original_accuracy: float | None = None
    original_fairness_gap: float | None = None


class LeaveOneOutSection(Frozen):
    available: bool
    reason: str | None = None
    recipe: str | None = None
    results: list[LeaveOneOutResult] = Field(default_factory=list)


class DiscoverySection(Frozen):
    """All slice-discovery and proxy evidence of one assessment."""

    metric: str | None = None
    metric_higher_is_worse: bool | None = None
    depth: int | None = None
    min_support: int | None = None
    score_alpha: float | None = None
    features: list[str] = Field(default_factory=list)
    bin_edges: dict[str, list[float]] = Field(default_factory=dict)
    rows_searched: int | None = None
    slices_evaluated: int | None = None
    slices_tested: int | None = None
    slices_tested_exact: bool = True
    correction: str = "holm"
    correction_note: str | None = None
    ci_level: float | None = None
    slices_found: list[FoundSlice] = Field(default_factory=list)
    slices_file: str | None = None
    business_slices: list[FoundSlice] = Field(default_factory=list)
    business_correction: Literal["holm", "fdr_bh"] | None = None
    proxy_auc_threshold: float | None = None
    proxy_method: str | None = None
    proxies: list[ProxyResult] = Field(default_factory=list)
    leave_one_out: LeaveOneOutSection | None = None


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _p_text(p: float | None) -> str:
    if p is None:
        return "not tested"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def slice_sentence(s: FoundSlice, *, min_cell: int = 10, ci_level: float = 0.95) -> str:
    """One slice in words, e.g. for a terminal summary or a report row.

    "marital-status is Married-civ-spouse and capital-gain under 114 (6,539 rows): error
    rate 26.5% (95% CI 25.5%-27.6%) against 13.0% elsewhere, p < 0.001 after correction;
    overlaps a protected group (sex: 98% Male, against 67% of all)". Counts under
    `min_cell` are not shown.
    """
    label = f"{s.name}: {s.description}" if s.name else s.description
    size = f"fewer than {min_cell} rows" if s.n < min_cell else f"{s.n:,} rows"
    metric = s.metric.replace("_", " ")
    if s.status == "insufficient_data" or s.value is None:
        return f"{label} ({size}): insufficient data to judge the {metric}"
    text = f"{label} ({size}): {metric} {_pct(s.value)}"
    if s.ci_low is not None and s.ci_high is not None:
        text += f" ({ci_level:.0%} CI {_pct(s.ci_low)}-{_pct(s.ci_high)})"
    if s.rest_value is not None:
        text += f" against {_pct(s.rest_value)} elsewhere"
    text += f", {_p_text(s.p_adjusted)} after correction"
    if s.overlaps_protected:
        shares = [
            f"{attr}: {100 * g.share:.0f}% {g.group}, against {100 * g.share_overall:.0f}% of all"
            for attr, g in s.protected_composition.items()
            if g.concentrated
        ]
        if any(f in s.protected_composition for f in s.definition):
            text += "; names a protected attribute"
        else:
            text += "; overlaps a protected group" + (f" ({', '.join(shares)})" if shares else "")
    return text


def discovery_lines(section: DiscoverySection, *, min_cell: int = 10) -> list[str]:
    """The discovery evidence as plain sentences, worst slices first."""
    lines: list[str] = []
    ci = section.ci_level or 0.95
    if section.metric is not None and section.depth is not None:
        tested = section.slices_tested
        lines.append(
            f"Slice search by {section.metric.replace('_', ' ')}, conjunctions of up to "
            f"{section.depth} conditions, at least {section.min_support} rows each"
            + (f"; {tested:,} slices in the corrected family" if tested is not None else "")
            + "."
        )
        if not section.slices_found:
            lines.append("No slice is worse than the rest by more than its size explains.")
        lines.extend(
            slice_sentence(s, min_cell=min_cell, ci_level=ci) for s in section.slices_found
        )
    if section.business_slices:
        lines.append(f"Business slices from {section.slices_file}:")
        lines.extend(
            slice_sentence(s, min_cell=min_cell, ci_level=ci) for s in section.business_slices
        )
    flagged = [p for p in section.proxies if p.flagged]
    if section.proxies:
        if flagged:
            lines.append(
                "Proxies for protected attributes: "
                + "; ".join(
                    f"{p.feature} for {p.protected}"
                    + (f" ({p.auc_group})" if p.auc_group else "")
                    + (f", AUC {p.auc:.2f}" if p.auc is not None else "")
                    for p in flagged
                )
                + "."
            )
        else:
            lines.append(
                f"No feature predicts a protected attribute with AUC "
                f"{section.proxy_auc_threshold} or more."
            )
    loo = section.leave_one_out
    if loo is not None:
        if not loo.available:
            lines.append(f"Leave-one-out importance not available: {loo.reason}.")
        for r in loo.results:
            if not r.available:
                lines.append(f"Leave-one-out of {r.attribute}: {r.reason}.")
                continue
            acc = "n/a" if r.accuracy_change is None else f"{100 * r.accuracy_change:+.1f} points"
            gap = (
                "n/a"
                if r.fairness_gap_change is None
                else f"{100 * r.fairness_gap_change:+.1f} points"
            )
            lines.append(
                f"Without {r.attribute} the refitted model's accuracy changes by {acc} and "
                f"its {(r.fairness_metric or 'fairness').replace('_', ' ')} gap by {gap}."
            )
    return lines
