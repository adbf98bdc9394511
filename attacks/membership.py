"""Membership inference: attacks behind one interface, and the run that evaluates them.

Attacks (registered by name in `MEMBERSHIP_ATTACKS`):

- `loss` — Yeom et al. (2018): the target's loss on the record; low loss means member.
- `lira_offline`, `lira_online` — Carlini et al. (2022): a Gaussian likelihood ratio on
  the logit of the true-label probability, against reference models that did not
  (offline) or did and did not (online) train on the record.
- `rmia` — Zarifzadeh et al. (2024), offline: the record's probability under the target
  relative to its probability under reference models, compared with population records z.
- `label_only` — for targets without probabilities: how robustly the target labels the
  record correctly under small perturbations (Choquette-Choo et al. 2021); for
  outputs-only audits, whether the recorded prediction is correct (Yeom's gap attack).

The evaluation set is balanced: as many members (sampled from the training set) as
non-members (sampled from the population), both with the recorded seed. The rest of the
population trains the reference models and supplies RMIA's z records.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from attacks._roc import (
    clopper_pearson,
    epsilon_lower_bound,
    roc_auc,
    roc_curve,
    roc_points_for_plot,
    summarise_roc,
)
from attacks.reference import ReferenceSignals, make_trainer, train_reference_models
from compliance.errors import InputError
from compliance.evidence._base import Estimate
from compliance.evidence.privacy import RISK_ORDER, AttackResult, SliceExposure
from compliance.labels import encode_binary_target, validate_scores
from compliance.models import ModelHandle
from compliance.progress import Progress
from compliance.slicing import attribute_codes
from compliance.tables import require_columns
from compliance.wording import confidence_pct, lower_bound_text, upper_bound_text

__all__ = [
    "DEFAULT_ATTACKS",
    "FPRS",
    "MEMBERSHIP_ATTACKS",
    "AttackInputs",
    "MembershipAttack",
    "MembershipOptions",
    "MembershipOutcome",
    "assess_risk",
    "check_overlap",
    "evaluate_scores",
    "register",
    "run_membership",
]

FPRS = (0.01, 0.001)
_P_CLIP = 1e-6


@dataclass(frozen=True)
class AttackInputs:
    """The signals an attack scores, for each evaluation record (members first).

    `target_p` is the target's probability of the true label (None without probabilities);
    `ref_p` the reference models' probabilities of the true label, `ref_in` whether each
    reference model trained on the record; `pop_*` the same for RMIA's population records.
    """

    is_member: np.ndarray
    correct: np.ndarray
    target_p: np.ndarray | None = None
    robustness: np.ndarray | None = None
    ref_p: np.ndarray | None = None
    ref_in: np.ndarray | None = None
    pop_target_p: np.ndarray | None = None
    pop_ref_p: np.ndarray | None = None
    pop_ref_in: np.ndarray | None = None
    rmia_a: float = 0.3


class MembershipAttack(ABC):
    """One membership-inference attack: scores, higher meaning "more likely a member"."""

    name: ClassVar[str]
    needs_proba: ClassVar[bool] = True
    needs_reference: ClassVar[bool] = False
    needs_online: ClassVar[bool] = False
    description: ClassVar[str] = ""

    @abstractmethod
    def score(self, data: AttackInputs) -> np.ndarray:
        """One score per evaluation record."""


MEMBERSHIP_ATTACKS: dict[str, type[MembershipAttack]] = {}


def register(cls: type[MembershipAttack]) -> type[MembershipAttack]:
    """Class decorator: add an attack to the registry under its `name`."""
    if cls.name in MEMBERSHIP_ATTACKS:
        raise ValueError(f"a membership attack named {cls.name!r} is already registered")
    MEMBERSHIP_ATTACKS[cls.name] = cls
    return cls


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, _P_CLIP, 1 - _P_CLIP)
    return np.asarray(np.log(q) - np.log1p(-q))


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means of `values` over rows where `mask`; also the count per column."""
    count = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return mean, count


@register
class LossAttack(MembershipAttack):
    name = "loss"
    description = "Yeom et al. 2018: the target's loss on the record (lower = member)"

    def score(self, data: AttackInputs) -> np.ndarray:
        assert data.target_p is not None
        return np.asarray(np.log(np.clip(data.target_p, _P_CLIP, 1.0)))


@register
class LiraOffline(MembershipAttack):
    name = "lira_offline"
    needs_reference = True
    description = "Carlini et al. 2022, offline: Gaussian fit to OUT reference models"

    def score(self, data: AttackInputs) -> np.ndarray:
        assert data.target_p is not None and data.ref_p is not None and data.ref_in is not None
        phi_t, phi_r = _logit(data.target_p), _logit(data.ref_p)
        out = ~data.ref_in
        mu, count = _masked_mean(phi_r, out)
        mu = np.where(count > 0, mu, np.nanmean(phi_r, axis=0))
        resid = np.where(out, phi_r - mu, np.nan)
        # few reference models: one pooled variance (Carlini et al.'s "fixed variance")
        sigma = float(np.nanstd(resid)) if np.isfinite(resid).any() else 1.0
        sigma = max(sigma, 1e-3)
        # the z-score orders records as the one-sided p-value does; its logcdf rounds to 0.0
        # past z = 38 (one OUT model per record leaves sigma at 1e-3), tying the top records
        return np.asarray((phi_t - mu) / sigma)


@register
class LiraOnline(MembershipAttack):
    name = "lira_online"
    needs_reference = True
    needs_online = True
    description = "Carlini et al. 2022, online: likelihood ratio of IN and OUT Gaussians"

    def score(self, data: AttackInputs) -> np.ndarray:
        assert data.target_p is not None and data.ref_p is not None and data.ref_in is not None
        phi_t, phi_r = _logit(data.target_p), _logit(data.ref_p)
        mu_in, n_in = _masked_mean(phi_r, data.ref_in)
        mu_out, n_out = _masked_mean(phi_r, ~data.ref_in)
        sd_in = max(float(np.nanstd(np.where(data.ref_in, phi_r - mu_in, np.nan))), 1e-3)
        sd_out = max(float(np.nanstd(np.where(~data.ref_in, phi_r - mu_out, np.nan))), 1e-3)
        mu_in = np.where(n_in > 0, mu_in, np.nanmax(phi_r))
        mu_out = np.where(n_out > 0, mu_out, np.nanmean(phi_r, axis=0))
        return np.asarray(
            stats.norm.logpdf(phi_t, mu_in, sd_in) - stats.norm.logpdf(phi_t, mu_out, sd_out)
        )


@register
class Rmia(MembershipAttack):
    name = "rmia"
    needs_reference = True
    description = "Zarifzadeh et al. 2024, offline (a = 0.3, gamma = 1)"

    def score(self, data: AttackInputs) -> np.ndarray:
        assert data.target_p is not None and data.ref_p is not None and data.ref_in is not None
        assert data.pop_target_p is not None and data.pop_ref_p is not None
        assert data.pop_ref_in is not None
        a = data.rmia_a
        ratio_x = data.target_p / _rmia_prior(data.ref_p, data.ref_in, a)
        ratio_z = np.sort(data.pop_target_p / _rmia_prior(data.pop_ref_p, data.pop_ref_in, a))
        # share of population records z with ratio_x / ratio_z > gamma (= 1)
        return np.asarray(np.searchsorted(ratio_z, ratio_x, side="left") / ratio_z.size)


@register
class RmiaOnline(MembershipAttack):
    name = "rmia_online"
    needs_reference = True
    needs_online = True
    description = "Zarifzadeh et al. 2024, online: Pr(x) averaged over paired IN and OUT models"

    def score(self, data: AttackInputs) -> np.ndarray:
        assert data.target_p is not None and data.ref_p is not None
        assert data.pop_target_p is not None and data.pop_ref_p is not None
        ratio_x = data.target_p / np.clip(data.ref_p.mean(axis=0), _P_CLIP, None)
        ratio_z = np.sort(data.pop_target_p / np.clip(data.pop_ref_p.mean(axis=0), _P_CLIP, None))
        return np.asarray(np.searchsorted(ratio_z, ratio_x, side="left") / ratio_z.size)


def _rmia_prior(ref_p: np.ndarray, ref_in: np.ndarray, a: float) -> np.ndarray:
    """Offline estimate of Pr(x) = mean over reference models, from OUT models only."""
    p_out, count = _masked_mean(ref_p, ~ref_in)
    p_out = np.where(count > 0, p_out, ref_p.mean(axis=0))
    return np.asarray(np.clip(0.5 * ((1 + a) * p_out + (1 - a)), _P_CLIP, None))


@register
class LabelOnly(MembershipAttack):
    name = "label_only"
    needs_proba = False
    description = (
        "label-only: robustness of a correct label under perturbation "
        "(Choquette-Choo et al. 2021), or correctness alone for outputs-only audits"
    )

    def score(self, data: AttackInputs) -> np.ndarray:
        if data.robustness is not None:
            return np.asarray(data.robustness, dtype=float)
        return np.asarray(data.correct, dtype=float)


DEFAULT_ATTACKS = (
    "loss",
    "lira_offline",
    "lira_online",
    "rmia",
    "rmia_online",
    "label_only",
)


@dataclass(frozen=True)
class MembershipOptions:
    """How a membership run samples, trains references and reports."""

    reference_models: int = 4
    seed: int = 0
    jobs: int = 1
    max_eval: int = 10_000
    population_z: int = 5_000
    rmia_a: float = 0.3
    label_queries: int = 10
    min_slice_size: int = 30
    delta: float = 0.0
    bins: Mapping[str, Sequence[float]] | None = None
    quantile_bins: int = 4


def _protected_groups(
    series: pd.Series, bins: Mapping[str, Sequence[float]] | None, n_quantiles: int
) -> tuple[np.ndarray, list[str]]:
    """Each row's group code for one protected attribute and the groups' labels, grouped
    as the fairness engine groups it (`compliance.slicing.attribute_codes`).

    With `bins` None a numeric attribute with many values is cut at its quantiles in
    `series`; with `bins` given (the fairness evidence's edges), the attributes it names
    are cut at those edges and every other attribute is taken value by value.
    """
    edges = None if bins is None else bins.get(str(series.name))
    codes, labels, _ = attribute_codes(
        series,
        edges=None if edges is None else [float(e) for e in edges],
        n_quantiles=n_quantiles,
        categorical=bins is not None and edges is None,
    )
    return codes, labels


@dataclass
class MembershipOutcome:
    """The evidence of a membership run, and which rows it evaluated (positions in the
    members and population frames), so that other tools can be run on the same points."""

    results: list[AttackResult]
    notes: list[str] = field(default_factory=list)
    strongest: str | None = None
    risk: str | None = None
    member_rows: np.ndarray | None = None
    nonmember_rows: np.ndarray | None = None


def _canonical(column: pd.Series) -> pd.Series:
    """A column's values as text that agrees across files: a number as a float (39, 39.0
    and "39" alike: a column with a gap reads as floats), other values stripped."""
    values = column.astype(object)
    number = pd.to_numeric(values, errors="coerce")
    text = values.astype(str).str.strip().where(values.notna(), "<NA>")
    return text.where(number.isna(), number.astype(float).astype(str))


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    canonical = frame.apply(_canonical)
    return np.asarray(pd.util.hash_pandas_object(canonical, index=False).to_numpy())


def check_overlap(
    members: pd.DataFrame, population: pd.DataFrame, *, columns: list[str], path: Any = None
) -> None:
    """Refuse a population that shares records with the training set (by row hash)."""
    overlap = int(np.isin(_row_hashes(population[columns]), _row_hashes(members[columns])).sum())
    if overlap:
        raise InputError(
            f"{overlap} of the population's {len(population)} rows also appear in the "
            "training set (members): non-members must be records the model never saw",
            path=path,
            field="population",
            hint="remove those rows from the population file (compared on the feature and "
            "target columns)",
        )


def _positive_column(model: ModelHandle, positive: str) -> int:
    names = [str(c) for c in model.classes]
    return names.index(positive) if positive in names else 1


def _true_label_proba(p_pos: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(y) == 1, p_pos, 1.0 - p_pos)


def _robustness(
    model: ModelHandle,
    X: pd.DataFrame,
    y: np.ndarray,
    positive_values: set[str],
    pool: pd.DataFrame,
    *,
    queries: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of `queries` perturbed copies (and the record itself) labelled correctly.

    Also returns whether the record itself is labelled correctly.
    """
    rng = np.random.default_rng(seed)

    def correct(frame: pd.DataFrame) -> np.ndarray:
        pred = pd.Series(model.predict(frame)).astype(str).str.strip()
        as_pos = pred.isin(positive_values | {"1", "1.0", "True"}).to_numpy()
        return np.asarray(as_pos.astype(int) == y)

    first = correct(X)
    hits = first.astype(float)
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    other = [c for c in X.columns if c not in numeric]
    scale = {c: float(pool[c].std()) or 1.0 for c in numeric}
    for _ in range(queries):
        noisy = X.copy()
        for c in numeric:
            noisy[c] = X[c] + rng.normal(0.0, 0.1 * scale[c], len(X))
            if pd.api.types.is_integer_dtype(X[c]):
                noisy[c] = noisy[c].round().astype(X[c].dtype)
        for c in other:
            swap = rng.random(len(X)) < 0.1
            if swap.any():
                donors = pool[c].to_numpy()[rng.integers(0, len(pool), int(swap.sum()))]
                noisy.loc[swap, c] = donors
        hits += correct(noisy)
    return hits / (queries + 1), first


SUITE_CONFIDENCE = 0.95
"""The confidence of the suite's strongest claim: its largest epsilon bound, its worst reading."""


def _tie_notes(is_member: np.ndarray, scores: np.ndarray, tpr_at: Mapping[str, float]) -> list[str]:
    """A note where tied scores hold TPR at an FPR below random guessing.

    TPR at an FPR is the best threshold that flags at most that share of non-members. When
    many records share the top scores (a forest's probability of exactly 1), no threshold
    flags 1%, and the figure reads below the 1% that random guessing finds. Flagging the
    tied records at random reaches the straight ROC segment between two thresholds; the
    note gives that figure, which an attacker can reach, beside the threshold one.
    """
    fpr, tpr, _ = roc_curve(is_member, scores)
    out = []
    for key, step in tpr_at.items():
        target = float(key)
        if step >= target:
            continue
        mixed = float(np.interp(target, fpr, tpr))
        if mixed > step:
            out.append(
                f"at {target:.1%} FPR no threshold does better than {step:.2%} (below random "
                f"guessing): many records share the same score; flagging the tied records at "
                f"random finds {mixed:.2%} of members at exactly {target:.1%} FPR."
            )
    return out


def _n_eval(n_members: int, n_pop: int, max_eval: int, needs_ref: bool) -> int:
    """How many members (and as many population rows) the attacks are evaluated on."""
    return min(n_members, max_eval, n_pop // 2 if needs_ref else n_pop)


def _reference_size(n_members: int, pool: int, n_eval: int, paired: bool) -> int:
    """Rows each reference model trains on: IN/OUT pairs split the evaluation records and
    the `pool` (the population rows that are not evaluated) in halves; offline models
    take 3/4 of the pool."""
    if paired:
        return min(n_members, (2 * n_eval + pool) // 2)
    return min(n_members, int(0.75 * pool))


def _population_needed(n_members: int, max_eval: int, paired: bool) -> int:
    """The fewest population rows whose reference models train on at least half as many
    rows as the target did (the smallest n for which `_reference_size` is large enough)."""
    enough = max(50, n_members // 2)
    lo, hi = 1, 4 * (n_members + max_eval) + 200
    while lo < hi:
        mid = (lo + hi) // 2
        n_eval = _n_eval(n_members, mid, max_eval, True)
        if _reference_size(n_members, mid - n_eval, n_eval, paired) >= enough:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _tpr_bounds(result: AttackResult, conf: float) -> tuple[float, float]:
    """One-sided bounds on TPR at 1% FPR at `conf`: those recorded with the result, or for
    a file written before they were (schema < 1.3), Clopper-Pearson at the threshold."""
    recorded = result.tpr_at_fpr_bounds.get("0.01")
    if recorded is not None and recorded.ci_low is not None and recorded.ci_high is not None:
        return recorded.ci_low, recorded.ci_high
    caught = round((result.tpr_at_fpr.get("0.01") or 0.0) * result.n_members)
    lo = clopper_pearson(caught, result.n_members, alpha=1 - conf, side="lower")[0]
    hi = clopper_pearson(caught, result.n_members, alpha=1 - conf, side="upper")[1]
    return lo, hi


def records_for_low(confidence: float, *, fpr: float = 0.01, line: float = 0.03) -> int:
    """The fewest members (with as many non-members) at which an attack no better than
    random guessing (it catches as many members as non-members) can read low: its upper
    bound on TPR at `fpr`, one-sided at `confidence`, falls under `line`."""
    half = (1 - confidence) / 2

    def upper(n: int) -> float:
        k = int(stats.binom.ppf(1 - half, n, fpr)) + 1  # the order statistic of the bound
        return clopper_pearson(min(k, n), n, alpha=half, side="upper")[1]

    lo, hi = 10, 10
    while upper(hi) >= line:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if upper(mid) < line else (mid, hi)
    return hi


def _inconclusive_note(n_eval: int, confidence: float) -> str:
    need = records_for_low(confidence)
    head = f"The membership reading is inconclusive on {n_eval:,} members and as many non-members"
    if n_eval < need:
        return (
            f"{head}: at this confidence even an attack no better than random guessing needs "
            f"about {need:,} of each to read low. More training and population records "
            "narrow the bounds."
        )
    return (
        f"{head}: the strongest evidence lies too close to 3% of members at 1% FPR to tell; "
        "more records narrow the bounds."
    )


def assess_risk(result: AttackResult) -> tuple[str, str]:
    """Plain-words risk of one attack from its confidence bounds (thresholds fixed a priori).

    high: TPR at 1% FPR is at least 10x random guessing (lower bound >= 10%) or the
    empirical epsilon lower bound is >= 2; moderate: the lower bound is >= 3% or the
    epsilon bound >= 0.5; low: the upper bound is under 3% (and the epsilon bound under
    0.5); inconclusive otherwise, where the evaluation set can neither show more than 3x
    random guessing nor rule it out. A reading is only as strong as its bounds: a small
    evaluation set reads inconclusive, not low. The sentence prints the bound that decided.

    Both TPR bounds and the epsilon bound are one-sided at the attack's
    `epsilon_confidence`: in a suite of k attacks that is 1 - 0.05 / (2k), so that the worst
    reading over the suite, which rests on 2k lower bounds (TPR and epsilon per attack),
    holds at 95% (Bonferroni).
    """
    conf = result.epsilon_confidence or SUITE_CONFIDENCE
    tpr = result.tpr_at_fpr.get("0.01") or 0.0
    lo_suite, hi_suite = _tpr_bounds(result, conf)
    ci = result.tpr_at_fpr_ci.get("0.01")
    lo = ci.ci_low if ci is not None and ci.ci_low is not None else 0.0
    hi = ci.ci_high if ci is not None and ci.ci_high is not None else 0.0
    eps = result.epsilon_lower_bound or 0.0
    if lo_suite >= 0.10 or eps >= 2.0:
        risk = "high"
        why = "its lower bound passes 10%" if lo_suite >= 0.10 else "epsilon passes 2"
    elif lo_suite >= 0.03 or eps >= 0.5:
        risk = "moderate"
        why = "its lower bound passes 3%" if lo_suite >= 0.03 else "epsilon passes 0.5"
    elif hi_suite < 0.03:
        risk = "low"
        why = "its upper bound is under 3% and epsilon under 0.5"
    else:
        risk = "inconclusive"
        why = (
            "its bounds straddle 3%: the evaluation can neither show that more than 3% of "
            "members are identified nor rule it out, and more records narrow them"
        )
    level = (
        "95% confidence"
        if abs(conf - SUITE_CONFIDENCE) < 1e-9
        else f"{confidence_pct(conf)} confidence, so that the worst reading over the suite "
        "holds at 95%"
    )
    # bounds print rounded outwards; an upper bound under 3% gets the decimals it needs to
    # print under 3% (2.9991% must not read 'at most 3.00%' beside 'low')
    decimals = 2
    while (
        decimals < 6 and hi_suite < 0.03 <= float(upper_bound_text(hi_suite * 100, decimals)) / 100
    ):
        decimals += 1
    words = (
        f"{risk} membership risk: at a 1% false-positive rate the {result.name} attack "
        f"identifies {tpr:.1%} of members (95% CI {lo:.1%}-{hi:.1%}; random guessing: 1%), "
        f"at least {lower_bound_text(lo_suite * 100)}% and at most "
        f"{upper_bound_text(hi_suite * 100, decimals)}%, with empirical epsilon >= "
        f"{lower_bound_text(eps)}, at {level}; {why}; AUC {result.auc:.3f} "
        f"({result.n_members} members, {result.n_nonmembers} non-members)"
    )
    return risk, words


def _slices(
    frame: pd.DataFrame,
    is_member: np.ndarray,
    scores: np.ndarray,
    thresholds: dict[str, float],
    protected: Sequence[str],
    min_size: int,
    bins: Mapping[str, Sequence[float]] | None = None,
    n_quantiles: int = 4,
) -> list[SliceExposure]:
    out: list[SliceExposure] = []
    for col in protected:
        if col not in frame.columns:
            continue
        codes, labels = _protected_groups(frame[col], bins, n_quantiles)
        for code, value in enumerate(labels):
            sel = codes == code
            m, nm = sel & (is_member == 1), sel & (is_member == 0)
            n_m, n_nm = int(m.sum()), int(nm.sum())
            keys = [f"{f:g}" for f in FPRS]
            if min(n_m, n_nm) < min_size:
                out.append(
                    SliceExposure(
                        attributes={col: value},
                        n_members=n_m,
                        n_nonmembers=n_nm,
                        auc=None,
                        tpr_at_fpr=dict.fromkeys(keys),
                        fpr_at_threshold=dict.fromkeys(keys),
                        insufficient=True,
                    )
                )
                continue
            auc = roc_auc(is_member[sel], scores[sel])
            found = {k: int((scores[m] >= thresholds[k]).sum()) for k in keys}
            bounds = {k: clopper_pearson(found[k], n_m, alpha=0.05) for k in keys}
            out.append(
                SliceExposure(
                    attributes={col: value},
                    n_members=n_m,
                    n_nonmembers=n_nm,
                    auc=round(auc, 6),
                    tpr_at_fpr={k: round(found[k] / n_m, 6) for k in keys},
                    tpr_at_fpr_ci={
                        k: Estimate(
                            value=round(found[k] / n_m, 6),
                            ci_low=round(bounds[k][0], 6),
                            ci_high=round(bounds[k][1], 6),
                        )
                        for k in keys
                    },
                    fpr_at_threshold={
                        k: round(float((scores[nm] >= thresholds[k]).mean()), 6) for k in keys
                    },
                )
            )
    return sorted(out, key=lambda e: -(e.tpr_at_fpr.get("0.01") or -1.0))


def evaluate_scores(
    name: str,
    is_member: np.ndarray,
    scores: np.ndarray,
    *,
    seed: int,
    delta: float = 0.0,
    frame: pd.DataFrame | None = None,
    protected: Sequence[str] = (),
    min_slice_size: int = 30,
    bins: Mapping[str, Sequence[float]] | None = None,
    quantile_bins: int = 4,
    reference_models: int = 0,
    reference_family: str | None = None,
    reference_seconds: float | None = None,
    seconds: float = 0.0,
    notes: Sequence[str] = (),
    confidence: float = SUITE_CONFIDENCE,
) -> AttackResult:
    """All the figures of one attack's scores, as evidence.

    Exposure per protected group uses the fairness engine's groups: `bins` and
    `quantile_bins` as in `MembershipOptions`. `confidence` is the level of this attack's
    epsilon bound (and of the TPR bound the risk reading uses).
    """
    s = summarise_roc(is_member, scores, fprs=FPRS, bound_confidence=confidence)
    eps = epsilon_lower_bound(is_member, scores, seed=seed, delta=delta, confidence=confidence)
    slices = (
        _slices(
            frame,
            is_member,
            scores,
            s.thresholds_at_fpr,
            protected,
            min_slice_size,
            bins=bins,
            n_quantiles=quantile_bins,
        )
        if frame is not None
        else []
    )
    result = AttackResult(
        name=name,
        auc=round(s.auc, 6),
        balanced_accuracy=round(s.balanced_accuracy, 6),
        advantage=round(s.advantage, 6),
        tpr_at_fpr={k: round(v, 6) for k, v in s.tpr_at_fpr.items()},
        tpr_at_fpr_ci={
            k: Estimate(value=round(s.tpr_at_fpr[k], 6), ci_low=round(lo, 6), ci_high=round(hi, 6))
            for k, (lo, hi) in s.tpr_at_fpr_ci.items()
        },
        tpr_at_fpr_bounds={  # stored rounded outwards: a bound must not tighten
            k: Estimate(
                value=round(s.tpr_at_fpr[k], 6),
                ci_low=math.floor(lo * 1e6) / 1e6,
                ci_high=min(math.ceil(hi * 1e6) / 1e6, 1.0),
            )
            for k, (lo, hi) in s.tpr_at_fpr_bounds.items()
        },
        epsilon_lower_bound=math.floor(eps.value * 1e6) / 1e6,
        epsilon_confidence=eps.confidence,
        n_members=s.n_members,
        n_nonmembers=s.n_nonmembers,
        reference_models=reference_models,
        reference_family=reference_family,
        reference_seconds=None if reference_seconds is None else round(reference_seconds, 3),
        seconds=round(seconds, 3),
        roc=roc_points_for_plot(is_member, scores),
        slices=slices,
        notes=[*notes, *_tie_notes(is_member, scores, s.tpr_at_fpr)],
    )
    risk, summary = assess_risk(result)
    return result.model_copy(update={"risk": risk, "summary": summary})


def run_membership(
    model: ModelHandle | None,
    members: pd.DataFrame,
    population: pd.DataFrame,
    *,
    target: str,
    positive_label: str | None = None,
    attacks: Sequence[str] | None = None,
    options: MembershipOptions | None = None,
    protected: Sequence[str] = (),
    recipe: str | Callable[..., Any] | None = None,
    predictions_column: str | None = None,
    scores_column: str | None = None,
    members_path: Any = None,
    population_path: Any = None,
    progress: Progress | None = None,
) -> MembershipOutcome:
    """Run membership-inference attacks on `model` and return their evidence.

    `members` is the target's training set, `population` records of the same distribution
    it never saw. Without a model (outputs-only audit), both files must carry the target's
    predictions in `predictions_column` (and optionally scores in `scores_column`).
    """
    opts = options or MembershipOptions()
    progress = progress or Progress(enabled=False)
    names = list(attacks) if attacks else list(DEFAULT_ATTACKS)
    unknown = [n for n in names if n not in MEMBERSHIP_ATTACKS]
    if unknown:
        raise InputError(
            f"unknown membership attack(s) {', '.join(unknown)}; known: "
            f"{', '.join(MEMBERSHIP_ATTACKS)}",
            field="attacks",
        )
    for frame, path in ((members, members_path), (population, population_path)):
        if target not in frame.columns:
            raise InputError("the target column is missing", path=path, field=target)
    extra_cols = {target, predictions_column, scores_column} - {None}
    if model is not None and model.feature_names is not None:
        features = list(model.feature_names)
    else:
        features = [c for c in members.columns if c not in extra_cols]
    for frame, path in ((members, members_path), (population, population_path)):
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise InputError(
                f"lacks the model's feature column(s) {', '.join(missing[:5])}",
                path=path,
                field=missing[0],
            )
    if model is None:
        if predictions_column is None:
            raise InputError(
                "an outputs-only membership audit needs the target's predictions in the "
                "training and population files (--predictions-column)",
                field="attacks",
            )
        for frame, path, role in (
            (members, members_path, "training data"),
            (population, population_path, "population"),
        ):
            if predictions_column not in frame.columns:
                raise InputError(
                    "the predictions column is missing", path=path, field=predictions_column
                )
            # a missing prediction or score would read as membership (it is scored apart)
            absent = int(frame[predictions_column].isna().sum())
            if absent:
                raise InputError(
                    f"{absent} rows have no prediction", path=path or role, field=predictions_column
                )
            if scores_column is not None:
                require_columns(frame, [scores_column], path=path or role, what="scores")
                validate_scores(frame[scores_column], path=path or role, field=scores_column)
    check_overlap(members, population, columns=[*features, target], path=population_path)

    y_all, (_, positive) = encode_binary_target(
        pd.concat([members[target], population[target]], ignore_index=True),
        positive_label=positive_label,
        path=members_path or "training data",
        field=target,
    )
    y_members, y_population = y_all[: len(members)], y_all[len(members) :]

    notes: list[str] = []
    has_proba = (model is not None and model.has_proba) or (
        model is None and scores_column is not None
    )
    if not has_proba:
        dropped = [n for n in names if MEMBERSHIP_ATTACKS[n].needs_proba]
        names = [n for n in names if not MEMBERSHIP_ATTACKS[n].needs_proba]
        if dropped:
            notes.append(
                "The target gives no probabilities, so the attacks that need them "
                f"({', '.join(dropped)}) could not run; the label-only attack ran instead."
            )
        if "label_only" not in names:
            names.append("label_only")
    if model is None:
        kept = [n for n in names if not MEMBERSHIP_ATTACKS[n].needs_reference]
        if len(kept) < len(names):
            notes.append(
                "Outputs-only audit: no model to train reference models for, so "
                f"{', '.join(n for n in names if n not in kept)} could not run."
            )
        names = kept
    needs_ref = any(MEMBERSHIP_ATTACKS[n].needs_reference for n in names)
    k = opts.reference_models if needs_ref else 0
    if needs_ref and k < 1:
        raise InputError(
            f"attacks {', '.join(n for n in names if MEMBERSHIP_ATTACKS[n].needs_reference)} "
            f"need at least 1 reference model, got {k}",
            field="reference-models",
        )
    # an even number of reference models is trained in IN/OUT pairs (every evaluation record
    # is in the training set of exactly one model of each pair); an odd number offline only
    paired = needs_ref and k % 2 == 0
    if needs_ref and not paired:
        dropped = [n for n in names if MEMBERSHIP_ATTACKS[n].needs_online]
        if dropped:
            notes.append(
                f"{', '.join(dropped)} need reference models in IN/OUT pairs (an even number); "
                f"with {k} they did not run."
            )
        names = [n for n in names if n not in dropped]
    if not names:
        raise InputError(
            "no membership attack can run here: " + " ".join(notes),
            field="attacks",
        )

    rng = np.random.default_rng(opts.seed)
    n_pop = len(population)
    pop_hashes = _row_hashes(population[[*features, target]])
    n_distinct = int(np.unique(pop_hashes).size)
    n_eval = _n_eval(len(members), n_distinct, opts.max_eval, needs_ref)
    if n_eval < 50:
        raise InputError(
            f"too few records to evaluate an attack: {len(members)} members and {n_pop} "
            "population rows give fewer than 50 of each",
            path=population_path,
            field="population",
        )
    mem_idx = np.sort(rng.choice(len(members), n_eval, replace=False))
    pop_perm = rng.permutation(n_pop)
    # non-members are distinct records, and no copy of one trains a reference model or
    # serves as z: members' copies are refused above, so non-members' would read as OUT
    # records that a reference model trained on (non-members look less like members)
    first = ~pd.Series(pop_hashes[pop_perm]).duplicated().to_numpy()
    non_idx = np.sort(pop_perm[first][:n_eval])
    pool_idx = np.sort(pop_perm[~np.isin(pop_hashes[pop_perm], pop_hashes[non_idx])])
    copies = n_pop - n_eval - pool_idx.size
    # reference models train on about as many rows as the target did, at least half as many
    ref_size = _reference_size(len(members), pool_idx.size, n_eval, paired)
    if needs_ref and ref_size < max(50, len(members) // 2):
        need = _population_needed(len(members), opts.max_eval, paired)
        odd = (
            f"; {k} is odd, and an even number (trained in IN/OUT pairs) needs only "
            f"{_population_needed(len(members), opts.max_eval, True)}"
            if not paired
            else ""
        )
        raise InputError(
            f"the population has {n_pop} rows: {n_eval} are used as non-members"
            + (f", {copies} are copies of them" if copies else "")
            + f" and the rest are too few to train {k} reference model(s) on at least half "
            f"as many rows as the training set ({len(members) // 2}); give at least {need} "
            f"population rows{odd}, or run only the attacks without reference models "
            "(--attacks loss,label_only)",
            path=population_path,
            field="population",
        )
    if copies and needs_ref:
        notes.append(
            f"{copies} population rows are copies of evaluated non-members: they train no "
            "reference model and serve as no population record z."
        )

    # one frame: evaluation members, then the whole population
    frame = pd.concat([members.iloc[mem_idx], population], ignore_index=True)
    y = np.r_[y_members[mem_idx], y_population]
    eval_rows = np.r_[np.arange(n_eval), n_eval + non_idx]
    pool_rows = n_eval + pool_idx
    is_member = np.r_[np.ones(n_eval, dtype=np.int8), np.zeros(n_eval, dtype=np.int8)]
    y_eval = y[eval_rows]
    X = frame[features]
    z_rows = np.sort(rng.choice(pool_rows, min(opts.population_z, pool_rows.size), replace=False))

    target_p = pop_target_p = robustness = None
    with progress.step(f"Scoring {2 * n_eval} evaluation records with the target"):
        if model is not None:
            pred_source = model
            if model.has_proba:
                col = _positive_column(model, positive)
                p_pos = model.predict_proba(X.iloc[eval_rows])[:, col]
                target_p = _true_label_proba(p_pos, y_eval)
                if needs_ref:
                    pop_target_p = _true_label_proba(
                        model.predict_proba(X.iloc[z_rows])[:, col], y[z_rows]
                    )
                correct = (p_pos >= 0.5).astype(int) == y_eval
            else:
                correct = None
            if "label_only" in names or correct is None:
                robustness, first = _robustness(
                    pred_source,
                    X.iloc[eval_rows],
                    y_eval,
                    {positive},
                    X.iloc[pool_rows] if pool_rows.size else X.iloc[eval_rows],
                    queries=opts.label_queries,
                    seed=opts.seed,
                )
                if correct is None:
                    correct = first
        else:
            assert predictions_column is not None
            pred = frame[predictions_column].iloc[eval_rows].astype(str).str.strip()
            correct = pred.isin({positive, "1", "1.0", "True"}).to_numpy().astype(int) == y_eval
            if scores_column is not None:
                score_pos = pd.to_numeric(frame[scores_column].iloc[eval_rows], errors="coerce")
                target_p = _true_label_proba(score_pos.to_numpy(dtype=float), y_eval)

    ref: ReferenceSignals | None = None
    if needs_ref:
        assert model is not None
        trainer = make_trainer(
            model,
            frames=[X.iloc[eval_rows], X.iloc[pool_rows]],
            positive_label=positive,
            recipe=recipe,
        )
        if trainer.fallback:
            notes.append(
                f"The target's training recipe could not be read ({model.kind}); reference "
                f"models are of the {trainer.family} family, so figures of attacks that use "
                "them likely understate the risk."
            )
        subsets: list[np.ndarray] = []
        if paired:
            extra = rng.choice(
                pool_rows, min(pool_rows.size, max(0, 2 * ref_size - 2 * n_eval)), replace=False
            )
            universe = np.r_[eval_rows, extra]
            for _ in range(k // 2):
                perm = rng.permutation(universe.size)
                half = universe.size // 2
                subsets += [np.sort(universe[perm[:half]]), np.sort(universe[perm[half:]])]
        else:
            subsets = [np.sort(rng.choice(pool_rows, ref_size, replace=False)) for _ in range(k)]
        points = np.r_[eval_rows, z_rows]
        ref = train_reference_models(
            trainer,
            X=X,
            y01=y,
            y_raw=frame[target].to_numpy(),
            subsets=subsets,
            points=points,
            seed=opts.seed,
            jobs=opts.jobs,
            progress=progress,
        )
    data = AttackInputs(
        is_member=is_member,
        correct=np.asarray(correct, dtype=bool),
        target_p=target_p,
        robustness=robustness,
        ref_p=None if ref is None else _true_label_proba(ref.proba[:, : 2 * n_eval], y_eval),
        ref_in=None if ref is None else ref.trained_on[:, : 2 * n_eval],
        pop_target_p=pop_target_p,
        pop_ref_p=None if ref is None else _true_label_proba(ref.proba[:, 2 * n_eval :], y[z_rows]),
        pop_ref_in=None if ref is None else ref.trained_on[:, 2 * n_eval :],
        rmia_a=opts.rmia_a,
    )
    eval_frame = frame.iloc[eval_rows].reset_index(drop=True)
    # Bonferroni over the suite's lower bounds: the worst risk reading rests on two per
    # attack (TPR at 1% FPR and epsilon), so 2k of them; it then holds at SUITE_CONFIDENCE,
    # not just each bound on its own (and so does the largest epsilon bound, or P1's TPRs).
    confidence = 1 - (1 - SUITE_CONFIDENCE) / (2 * len(names))
    notes.append(
        f"Each attack's bounds (TPR and epsilon) are one-sided at {confidence_pct(confidence)} "
        "confidence, "
        f"so that the worst reading over the {2 * len(names)} lower bounds of the "
        f"{len(names)} attack(s) holds at {SUITE_CONFIDENCE:.0%} (Bonferroni)."
    )
    results: list[AttackResult] = []
    for name in progress.track(names, total=len(names), description="Membership attacks"):
        cls = MEMBERSHIP_ATTACKS[name]
        start = time.perf_counter()
        scores = np.asarray(cls().score(data), dtype=float)
        scores = np.nan_to_num(scores, nan=-np.inf)
        finite_min = scores[np.isfinite(scores)].min(initial=0.0)
        scores = np.where(np.isfinite(scores), scores, finite_min - 1.0)
        attack_notes = [cls.description]
        uses_ref = cls.needs_reference and ref is not None
        if name == "label_only" and robustness is None:
            attack_notes.append(
                "outputs-only: the score is whether the recorded prediction is correct"
            )
        if uses_ref and paired and not cls.needs_online:
            attack_notes.append(
                "offline attack on paired IN/OUT references: uses each record's OUT models"
            )
        ref_seconds = ref.seconds if uses_ref and ref is not None else None
        results.append(
            evaluate_scores(
                name,
                is_member,
                scores,
                seed=opts.seed,
                delta=opts.delta,
                frame=eval_frame,
                protected=protected,
                min_slice_size=opts.min_slice_size,
                bins=opts.bins,
                quantile_bins=opts.quantile_bins,
                reference_models=k if uses_ref else 0,
                reference_family=ref.family if uses_ref and ref is not None else None,
                reference_seconds=ref_seconds,
                seconds=time.perf_counter() - start + (ref_seconds or 0.0),
                notes=attack_notes,
                confidence=confidence,
            )
        )
    notes.append(
        f"Evaluated on {n_eval} members sampled from {len(members)} training records and "
        f"{n_eval} non-members sampled from {n_pop} population records (seed {opts.seed})."
    )
    strongest = max(results, key=lambda r: (r.tpr_at_fpr.get("0.01") or 0.0, r.auc or 0.0))
    risk = max((r.risk or "inconclusive" for r in results), key=lambda v: RISK_ORDER[v])
    if risk == "inconclusive":
        notes.append(_inconclusive_note(n_eval, confidence))
    return MembershipOutcome(
        results=results,
        notes=notes,
        strongest=strongest.name,
        risk=risk,
        member_rows=mem_idx,
        nonmember_rows=non_idx,
    )
