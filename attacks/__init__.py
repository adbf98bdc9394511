"""The privacy attack suite: membership inference, attribute inference, model inversion,
and differential-privacy reference points.

Membership attacks implement one small interface (`MembershipAttack.score`) and are
registered by name in `MEMBERSHIP_ATTACKS`; `ATTACK_FAMILIES` names the families the CLI's
`--attacks` accepts. Importing this package imports neither torch nor opacus: the
functions that need them import them.
"""

from __future__ import annotations

from attacks._roc import (
    EpsilonBound,
    RocSummary,
    clopper_pearson,
    epsilon_lower_bound,
    roc_curve,
    summarise_roc,
    tpr_at_fpr,
)
from attacks.attribute import run_attribute_inference
from attacks.dp import TabularEncoder, dp_reference_points, train_dp_logistic, train_dp_sgd
from attacks.inversion import run_inversion
from attacks.membership import (
    DEFAULT_ATTACKS,
    MEMBERSHIP_ATTACKS,
    AttackInputs,
    MembershipAttack,
    MembershipOptions,
    MembershipOutcome,
    check_overlap,
    evaluate_scores,
    register,
    run_membership,
)
from attacks.reference import FALLBACK_FAMILY, make_trainer, train_reference_models

ATTACK_FAMILIES = ("membership", "attribute", "inversion", "dp")

__all__ = [
    "ATTACK_FAMILIES",
    "DEFAULT_ATTACKS",
    "FALLBACK_FAMILY",
    "MEMBERSHIP_ATTACKS",
    "AttackInputs",
    "EpsilonBound",
    "MembershipAttack",
    "MembershipOptions",
    "MembershipOutcome",
    "RocSummary",
    "TabularEncoder",
    "check_overlap",
    "clopper_pearson",
    "dp_reference_points",
    "epsilon_lower_bound",
    "evaluate_scores",
    "make_trainer",
    "register",
    "roc_curve",
    "run_attribute_inference",
    "run_inversion",
    "run_membership",
    "summarise_roc",
    "tpr_at_fpr",
    "train_dp_logistic",
    "train_dp_sgd",
    "train_reference_models",
]
