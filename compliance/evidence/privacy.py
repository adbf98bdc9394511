"""Evidence of the privacy attack suite (owned by the attacks issue; extend freely)."""

from __future__ import annotations

from pydantic import Field

from compliance.evidence._base import Estimate, Frozen


class SliceExposure(Frozen):
    """How exposed one protected group's members are to an attack."""

    attributes: dict[str, str]
    n_members: int
    n_nonmembers: int
    auc: float | None
    tpr_at_fpr: dict[str, float | None]


class AttackResult(Frozen):
    """The figures of one membership-inference attack."""

    name: str
    auc: float | None
    balanced_accuracy: float | None = None
    advantage: float | None = None
    tpr_at_fpr: dict[str, float | None]
    tpr_at_fpr_ci: dict[str, Estimate] = Field(default_factory=dict)
    epsilon_lower_bound: float | None
    n_members: int
    n_nonmembers: int
    reference_models: int
    seconds: float
    roc: list[tuple[float, float]] = Field(default_factory=list)
    slices: list[SliceExposure] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class PrivacySection(Frozen):
    """All privacy evidence of one assessment."""

    membership: list[AttackResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
