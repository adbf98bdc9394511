"""Evidence of the privacy attack suite: membership inference, attribute inference,
model inversion and differential-privacy reference points.

Every figure carries its n; attack figures sit beside their baseline (random guessing for
membership inference, an imputation model for attribute inference, the mean input, which
carries no class information, for inversion).
"""

from __future__ import annotations

from pydantic import Field

from compliance.evidence._base import Estimate, Frozen


class SliceExposure(Frozen):
    """How exposed one protected group's members are to an attack.

    `tpr_at_fpr` is the share of the group's members caught at the attack's global
    thresholds for 1% and 0.1% FPR, with its Clopper-Pearson 95% interval at those
    thresholds in `tpr_at_fpr_ci` (schema 1.4; the thresholds' own uncertainty is in the
    attack's interval); `fpr_at_threshold` the share of the group's non-members flagged at
    those thresholds. `insufficient` marks groups too small to judge (their figures are None).
    """

    attributes: dict[str, str]
    n_members: int
    n_nonmembers: int
    auc: float | None
    tpr_at_fpr: dict[str, float | None]
    tpr_at_fpr_ci: dict[str, Estimate] = Field(default_factory=dict)
    fpr_at_threshold: dict[str, float | None] = Field(default_factory=dict)
    insufficient: bool = False


class AttackResult(Frozen):
    """The figures of one membership-inference attack.

    `tpr_at_fpr_ci` is a two-sided 95% interval; `tpr_at_fpr_bounds` holds the one-sided
    lower and upper bounds at `epsilon_confidence` that the risk reading compares (schema
    1.3). Both are distribution-free and account for where the threshold falls among the
    non-members as well as for which members pass it.
    """

    name: str
    auc: float | None
    balanced_accuracy: float | None = None
    advantage: float | None = None
    tpr_at_fpr: dict[str, float | None]
    tpr_at_fpr_ci: dict[str, Estimate] = Field(default_factory=dict)
    tpr_at_fpr_bounds: dict[str, Estimate] = Field(default_factory=dict)
    epsilon_lower_bound: float | None
    epsilon_confidence: float | None = None
    n_members: int
    n_nonmembers: int
    reference_models: int
    reference_family: str | None = None
    reference_seconds: float | None = None
    seconds: float
    risk: str | None = None
    summary: str | None = None
    roc: list[tuple[float, float]] = Field(default_factory=list)
    slices: list[SliceExposure] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class AttributeInferenceResult(Frozen):
    """Inferring one sensitive attribute of training records, against an imputation baseline.

    `advantage` is the attack's accuracy minus the baseline's on the same records, with a
    paired confidence interval; a finding only when its interval excludes 0.
    """

    attribute: str
    n_records: int
    n_classes: int
    model_queried: bool
    attack_accuracy: Estimate
    attack_balanced_accuracy: float | None
    baseline_accuracy: Estimate
    baseline_balanced_accuracy: float | None
    advantage: Estimate
    majority_rate: float
    seconds: float
    summary: str
    notes: list[str] = Field(default_factory=list)


class InversionResult(Frozen):
    """Model inversion (MIFace-style reconstruction of one representative input per class)."""

    applicable: bool
    reason: str | None = None
    n_classes: int = 0
    recognised: int = 0
    recognition_rate: float | None = None
    recognition_ci: Estimate | None = None  # Clopper-Pearson, 95% (schema 1.4)
    chance_rate: float | None = None
    baseline_recognised: int | None = None
    evaluator: str | None = None
    shape: list[int] = Field(default_factory=list)
    reconstructions: list[list[float]] = Field(default_factory=list)
    seconds: float = 0.0
    summary: str | None = None


class DPReference(Frozen):
    """A differentially private model of the same task, for the privacy-utility trade-off."""

    method: str
    epsilon_target: float
    epsilon_spent: float
    delta: float
    accuracy: float
    n_train: int
    n_test: int
    seconds: float
    empirical_epsilon_lower_bound: float | None = None


class PrivacySection(Frozen):
    """All privacy evidence of one assessment."""

    membership: list[AttackResult] = Field(default_factory=list)
    membership_risk: str | None = None
    strongest_attack: str | None = None
    attribute: list[AttributeInferenceResult] = Field(default_factory=list)
    inversion: InversionResult | None = None
    dp_reference: list[DPReference] = Field(default_factory=list)
    target_accuracy: float | None = None
    seed: int | None = None
    notes: list[str] = Field(default_factory=list)


RISK_ORDER = {"low": 0, "inconclusive": 1, "moderate": 2, "high": 3}
"""Membership readings from least to most severe; a suite reads as its most severe attack."""


def privacy_lines(section: PrivacySection) -> list[str]:
    """The privacy evidence as plain sentences: the membership reading, then the others."""
    lines: list[str] = []
    strongest = next((a for a in section.membership if a.name == section.strongest_attack), None)
    if strongest is not None and strongest.summary:
        ran = ", ".join(a.name for a in section.membership)
        which = (
            f"the strongest of {len(section.membership)} attacks ({ran})"
            if len(section.membership) > 1
            else f"the only attack that ran ({ran})"
        )
        lines.append(f"Membership inference, {which}: {strongest.summary}.")
        # the suite reads as its most severe attack, which need not be the strongest
        decider = max(section.membership, key=lambda a: RISK_ORDER.get(a.risk or "", -1))
        if decider is not strongest and decider.risk != strongest.risk and decider.summary:
            lines.append(
                f"The suite reads {decider.risk} from the {decider.name} attack: {decider.summary}."
            )
    # what did not run, or ran on a fallback, and why: the notes say it
    lines.extend(section.notes)
    lines.extend(a.summary for a in section.attribute)
    if section.inversion is not None:
        inv = section.inversion
        lines.append(inv.summary or f"Model inversion not applicable: {inv.reason}.")
    for dp in section.dp_reference:
        target = (
            f" (the target: {section.target_accuracy:.1%})"
            if section.target_accuracy is not None
            else ""
        )
        lines.append(
            f"DP reference, {dp.method}: epsilon {dp.epsilon_spent:.2f} spent of "
            f"{dp.epsilon_target:g} (delta {dp.delta:g}), accuracy {dp.accuracy:.1%}{target}."
        )
    return lines
