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
    proxy_auc_threshold: float | None = None
    proxy_method: str | None = None
    proxies: list[ProxyResult] = Field(default_factory=list)
    leave_one_out: LeaveOneOutSection | None = None
