"""The Veritas fairness-metric selection tree (MAS Veritas methodology, FEAT principle F1).

Three questions about the use case, plus whether the positive label is the favourable
outcome, select the parity metric to judge the model by. The table below is the tree.
"""

from __future__ import annotations

from compliance.errors import InputError
from compliance.evidence.fairness import MetricSelection

# (positive label favourable, priority, impact is significant/selective, concern) -> parity
_TREE: dict[tuple[bool, str, bool, str], str] = {
    (True, "benefit", False, "inclusive"): "fpr_parity",
    (True, "benefit", False, "eligible"): "equal_opportunity",
    (True, "benefit", False, "both"): "equal_odds",
    (True, "benefit", True, "inclusive"): "fdr_parity",
    (True, "benefit", True, "eligible"): "ppv_parity",
    (True, "harm", False, "inclusive"): "fpr_parity",
    (True, "harm", False, "eligible"): "fnr_parity",
    (True, "harm", False, "both"): "equal_odds",
    (True, "harm", True, "inclusive"): "fdr_parity",
    (True, "harm", True, "eligible"): "for_parity",
    (True, "harm", True, "both"): "calibration_by_group",
    (False, "benefit", False, "inclusive"): "fnr_parity",
    (False, "benefit", False, "eligible"): "tnr_parity",
    (False, "benefit", False, "both"): "neg_equal_odds",
    (False, "benefit", True, "inclusive"): "for_parity",
    (False, "benefit", True, "eligible"): "npv_parity",
    (False, "harm", False, "inclusive"): "fnr_parity",
    (False, "harm", False, "eligible"): "fpr_parity",
    (False, "harm", False, "both"): "equal_odds",
    (False, "harm", True, "inclusive"): "for_parity",
    (False, "harm", True, "eligible"): "fdr_parity",
    (False, "harm", True, "both"): "calibration_by_group",
}

# parity metric -> the per-slice metrics it compares (the first is the primary one)
PARITY_METRICS: dict[str, tuple[str, ...]] = {
    "fpr_parity": ("false_positive_rate",),
    "equal_opportunity": ("true_positive_rate",),
    "equal_odds": ("true_positive_rate", "false_positive_rate"),
    "neg_equal_odds": ("true_negative_rate", "false_negative_rate"),
    "fdr_parity": ("false_discovery_rate",),
    "ppv_parity": ("precision",),
    "fnr_parity": ("false_negative_rate",),
    "for_parity": ("false_omission_rate",),
    "tnr_parity": ("true_negative_rate",),
    "npv_parity": ("negative_predictive_value",),
    "calibration_by_group": ("expected_calibration_error",),
}

_WHO = {
    "eligible": "people who qualify for the outcome are not wrongly denied it",
    "inclusive": "people who do not qualify are not wrongly granted or burdened",
    "both": "both kinds of error are balanced across groups",
}


def select_metric(
    *, fair_priority: str, fair_impact: str, fair_concern: str, positive_label_favourable: bool
) -> MetricSelection:
    """Walk the tree; refuses the combinations the methodology marks not applicable."""
    significant = fair_impact in ("significant", "selective")
    key = (positive_label_favourable, fair_priority, significant, fair_concern)
    if key not in _TREE:
        raise InputError(
            f"the Veritas tree has no metric for priority={fair_priority}, impact={fair_impact}, "
            f"concern={fair_concern}: with a {fair_impact} impact and a '{fair_priority}' "
            "outcome, concern 'both' is not applicable",
            field="fair-concern",
            hint="choose --fair-concern eligible or inclusive",
        )
    parity = _TREE[key]
    metrics = PARITY_METRICS[parity]
    outcome = "favourable" if positive_label_favourable else "unfavourable"
    reason = (
        f"The priority is to measure the {fair_impact} {fair_priority} of the decision to the "
        f"people it is about, the positive label is the {outcome} outcome, and the concern is that "
        f"{_WHO[fair_concern]}: the Veritas tree selects {parity.replace('_', ' ')}, "
        f"compared across groups as {' and '.join(m.replace('_', ' ') for m in metrics)}."
    )
    return MetricSelection(
        fair_priority=fair_priority,  # type: ignore[arg-type]
        fair_impact=fair_impact,  # type: ignore[arg-type]
        fair_concern=fair_concern,  # type: ignore[arg-type]
        positive_label_favourable=positive_label_favourable,
        primary_metric=metrics[0],
        parity_metric=parity,
        metrics=list(metrics),
        reason=reason,
    )
