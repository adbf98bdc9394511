"""Privacy checks: membership inference at low FPR, the empirical epsilon, attribute
inference over imputation, inversion recognisability, and a DP reference recorded.

Each reads the privacy evidence by name and says what is missing when an attack was not run.
"""

from __future__ import annotations

from typing import Any

from compliance.wording import confidence_pct, lower_bound_text
from policies._builtin._common import (
    count,
    first_number,
    listing,
    num,
    pct,
    section_items,
    size,
)
from policies._registry import (
    CheckContext,
    Fraction,
    NonNegative,
    NoOptions,
    Options,
    Outcome,
    check,
)

RUN_HINT = "run `compliance assess` with --train, --population and --attacks {}"


def _privacy(ctx: CheckContext) -> Any:
    return ctx.assessment.privacy


def _membership(ctx: CheckContext) -> list[dict[str, Any]]:
    return section_items(_privacy(ctx), "membership") or []


class MembershipThresholds(Options):
    max_tpr_at_1pct_fpr: Fraction = 0.03
    """Largest accepted true-positive rate of any attack at 1% false positives (random: 1%)."""
    max_tpr_at_01pct_fpr: Fraction = 0.005
    """Largest accepted true-positive rate at 0.1% false positives (random: 0.1%)."""


@check(
    "privacy.membership_tpr",
    thresholds=MembershipThresholds,
    summary="Membership inference: TPR at 1% and 0.1% FPR of the strongest attack.",
)
def membership_tpr(ctx: CheckContext, p: NoOptions, t: MembershipThresholds) -> Outcome:
    attacks = _membership(ctx)
    if not attacks:
        return Outcome(
            "insufficient_data",
            "No membership-inference evidence: " + RUN_HINT.format("membership") + ".",
        )
    limits = {"0.01": t.max_tpr_at_1pct_fpr, "0.001": t.max_tpr_at_01pct_fpr}
    rows = []
    over: list[str] = []
    uncertain: list[str] = []
    missing: list[str] = []
    no_interval = 0
    levels: set[float] = set()
    with_ci = 0  # attacks judged on their own 95% interval (evidence before schema 1.3)
    for a in attacks:
        tpr = a.get("tpr_at_fpr") or {}
        # The one-sided bounds the risk reading uses (schema 1.4: at 1 - 0.05/(2k) each, so
        # that the 2k judged here hold together at 95%; 1.3: at 1 - 0.05/k, which covers the
        # 1% or the 0.1% figures alone); before 1.3, each attack's 95% interval.
        suite = a.get("tpr_at_fpr_bounds") or {}
        cis = suite or a.get("tpr_at_fpr_ci") or {}
        if suite and isinstance(a.get("epsilon_confidence"), int | float):
            levels.add(float(a["epsilon_confidence"]))
        else:
            with_ci += 1
        row: dict[str, Any] = {
            "attack": a.get("name"), "auc": a.get("auc"),
            "n_members": size(a.get("n_members"), ctx.min_cell),
            "n_nonmembers": size(a.get("n_nonmembers"), ctx.min_cell),
        }  # fmt: skip
        for fpr, limit in limits.items():
            value = tpr.get(fpr)
            ci = cis.get(fpr) or {}
            row[f"tpr_at_{fpr}"] = value
            row[f"tpr_at_{fpr}_{'bounds' if suite else 'ci'}"] = [
                ci.get("ci_low"),
                ci.get("ci_high"),
            ]
            low, high = ci.get("ci_low"), ci.get("ci_high")
            if value is None:  # a figure the pack thresholds is missing: nothing is bounded
                missing.append(f"{a.get('name')} at {pct(float(fpr), 1)} FPR")
                continue
            if high is None:
                no_interval += 1
            if value <= limit and (high is None or high <= limit):
                continue
            interval = f"bounds {pct(low, 2)}-{pct(high, 2)}" if low is not None else ""
            text = (
                f"{a.get('name')} catches {pct(value, 2)} of members at {pct(float(fpr), 1)} FPR"
                + (f" ({interval})" if interval else "")
                + f", limit {pct(limit, 2)}"
            )
            # Judged on the interval: a failure only where it lies wholly above the limit, a
            # pass only where it lies wholly at or below it; at 0.1% FPR the estimate rests
            # on a handful of false positives, and a small evaluation set proves little.
            (uncertain if value <= limit or (low is not None and low <= limit) else over).append(
                text
            )
        rows.append(row)
    measured = {"attacks": rows}
    gap = f" No TPR in the evidence for {listing(missing)}." if missing else ""
    if with_ci == 0 and len(levels) == 1:
        each = levels.pop()
        # Bonferroni over the 2k lower bounds judged here (1% and 0.1% FPR per attack)
        together = max(0.0, 1 - 2 * len(attacks) * (1 - each))
        level = (
            f" Bounds are one-sided at {confidence_pct(each)} each, so that the worst of the "
            f"{2 * len(attacks)} figures holds at {confidence_pct(together)}."
        )
    elif not levels:
        level = " Bounds are each attack's 95% interval."
    else:  # files of different schema versions, or suites of different sizes
        level = (
            " Bounds are each attack's one-sided bounds at its recorded level where the "
            "evidence holds them, otherwise its 95% interval."
        )
    if over:
        return Outcome(
            "fail",
            f"Membership inference succeeds beyond the threshold: {listing(over)}.{level}{gap}",
            measured,
        )
    if uncertain:
        return Outcome(
            "warn",
            f"Membership inference may succeed beyond the threshold (its bounds straddle it): "
            f"{listing(uncertain)}.{level}{gap}",
            measured,
        )
    if missing:
        return Outcome(
            "insufficient_data",
            f"The membership attacks do not report every figure the thresholds need: no TPR "
            f"for {listing(missing)}.",
            measured,
        )
    best1 = max(r["tpr_at_0.01"] for r in rows)
    best01 = max(r["tpr_at_0.001"] for r in rows)
    basis = (
        "every attack's bounds lie within the thresholds"
        if not no_interval
        else f"within the thresholds ({count(no_interval, 'figure')} without an interval in "
        "the evidence, judged on its estimate)"
    )
    return Outcome(
        "pass",
        f"The strongest of {len(rows)} membership attacks catches {pct(best1, 2)} of "
        f"members at 1% FPR and {pct(best01, 2)} at 0.1% FPR; {basis}."
        + ("" if no_interval else level),
        measured,
    )


class EpsilonThresholds(Options):
    max_epsilon_lower_bound: NonNegative = 1.0
    """Largest accepted empirical lower bound on epsilon (0 means no leakage shown)."""


@check(
    "privacy.empirical_epsilon",
    thresholds=EpsilonThresholds,
    summary="The empirical lower bound on epsilon from membership inference.",
)
def empirical_epsilon(ctx: CheckContext, p: NoOptions, t: EpsilonThresholds) -> Outcome:
    attacks = _membership(ctx)
    bounds: list[tuple[Any, float, Any]] = [
        (a.get("name"), float(a["epsilon_lower_bound"]), a.get("epsilon_confidence"))
        for a in attacks
        if a.get("epsilon_lower_bound") is not None
    ]
    measured: dict[str, Any] = {
        "bounds": [{"attack": n, "epsilon_lower_bound": e, "confidence": c} for n, e, c in bounds]
    }
    if not bounds:
        return Outcome(
            "insufficient_data",
            "No empirical epsilon in the evidence: " + RUN_HINT.format("membership") + ".",
            measured,
        )
    name, eps, _ = max(bounds, key=lambda b: b[1])
    bound = lower_bound_text(eps)  # a lower bound is rounded down: 0.8779 reads 0.87
    levels = [c for _, _, c in bounds if isinstance(c, int | float)]
    level = ""
    if len(levels) == len(bounds) == 1:
        level = f" at {confidence_pct(levels[0])} confidence"
    elif len(levels) == len(bounds):
        # the largest of several bounds: what holds jointly is 1 - the sum of their errors
        joint = max(0.0, 1.0 - sum(1.0 - c for c in levels))
        level = f" at {confidence_pct(joint)} confidence over the {len(bounds)} attacks"
    measured["max"] = eps
    if eps > t.max_epsilon_lower_bound:
        return Outcome(
            "fail",
            f"The {name} attack proves epsilon is at least {bound}{level}, above the "
            f"accepted {t.max_epsilon_lower_bound:g}.",
            measured,
        )
    return Outcome(
        "pass",
        f"The largest empirical lower bound on epsilon is {bound}{level} ({name}), within "
        f"the accepted {t.max_epsilon_lower_bound:g}.",
        measured,
    )


class AttributeThresholds(Options):
    max_advantage: Fraction = 0.02
    """Largest accepted accuracy gain of the attack over the imputation baseline."""


@check(
    "privacy.attribute_inference",
    thresholds=AttributeThresholds,
    summary="Attribute inference: advantage over an imputation baseline.",
)
def attribute_inference(ctx: CheckContext, p: NoOptions, t: AttributeThresholds) -> Outcome:
    items = section_items(_privacy(ctx), "attribute") or []
    if not items:
        return Outcome(
            "insufficient_data",
            "No attribute-inference evidence: " + RUN_HINT.format("attribute") + ".",
        )
    rows: list[dict[str, Any]] = []
    over: list[str] = []
    uncertain: list[str] = []
    unjudged: list[str] = []
    failing: list[dict[str, str]] = []
    limit = t.max_advantage
    for it in items:
        name = str(it.get("attribute"))
        adv = it.get("advantage")
        adv = adv if isinstance(adv, dict) else {}
        value = first_number(it, "advantage")
        lo, hi = first_number(adv, "ci_low"), first_number(adv, "ci_high")
        accuracy = first_number(it, "attack_accuracy")
        majority = first_number(it, "majority_rate")
        row: dict[str, Any] = {
            "attribute": it.get("attribute"), "advantage": value, "advantage_ci_low": lo,
            "advantage_ci_high": hi, "n_records": size(it.get("n_records"), ctx.min_cell),
        }  # fmt: skip
        rows.append(row)
        # as attacks/attribute.py reads it: an attack clearly worse than the baseline, or
        # than guessing the commonest value, failed to learn; its run bounds nothing
        failed = (hi is not None and hi < 0) or (
            accuracy is not None and majority is not None and accuracy < majority - 0.02
        )
        interval = f"CI {_signed_pct(lo)} to {_signed_pct(hi)}" if lo is not None else "no CI"
        if value is None:
            row["verdict"] = "insufficient_data"
            unjudged.append(f"{name} (no advantage in the evidence)")
        elif failed:
            row["verdict"] = "insufficient_data"
            unjudged.append(f"{name} (the attack did worse than its baselines: inconclusive)")
        elif value > limit and (lo is None or lo > 0):
            row["verdict"] = "fail"
            over.append(f"{name} {_signed_pct(value)} ({interval})")
            failing.append({"attribute": name})
        elif value > limit or hi is None or hi > limit:
            # above the limit but not different from 0, or within it with an interval that
            # reaches past it: neither shown nor ruled out
            row["verdict"] = "warn"
            uncertain.append(f"{name} {_signed_pct(value)} ({interval})")
        else:
            row["verdict"] = "pass"
    measured = {"attributes": rows}
    judged = sum(r["verdict"] != "insufficient_data" for r in rows)
    tail = f" Not judged: {listing(unjudged)}." if unjudged else ""
    if over:
        return Outcome(
            "fail",
            f"The model lets an attacker infer {listing(over)} better than imputation from the "
            f"other columns, beyond the accepted {pct(limit)}.{tail}",
            measured,
            failing,
        )
    if uncertain:
        return Outcome(
            "warn",
            f"An advantage over imputation beyond the accepted {pct(limit)} is neither shown "
            f"nor ruled out (its 95% interval reaches past the limit or includes 0) for "
            f"{listing(uncertain)}.{tail}",
            measured,
        )
    if unjudged:
        return Outcome(
            "insufficient_data",
            f"Attribute inference bounds nothing for {count(len(unjudged), 'attribute')}: "
            f"{listing(unjudged)}"
            + (f"; {count(judged, 'other attribute')} within the limit." if judged else "."),
            measured,
        )
    return Outcome(
        "pass",
        f"For {count(len(rows), 'attribute')} the attack does no better than imputation by "
        f"more than {pct(limit)}, interval included.",
        measured,
    )


def _signed_pct(value: float | None) -> str:
    """+8.0%, -0.3%; an advantage that rounds to zero reads +0.0%."""
    if value is None:
        return "n/a"
    text = f"{100 * value:+.1f}%"
    return "+0.0%" if text == "-0.0%" else text


class InversionThresholds(Options):
    max_recognition_over_baseline: Fraction = 0.2
    """Largest accepted excess of the reconstructions' recognition rate over the baseline's
    (the mean input, which carries no class information: one class of n)."""


@check(
    "privacy.inversion",
    thresholds=InversionThresholds,
    summary="Model inversion: are reconstructions recognised more often than the baseline's?",
)
def inversion(ctx: CheckContext, p: NoOptions, t: InversionThresholds) -> Outcome:
    items = section_items(_privacy(ctx), "inversion")
    if not items:
        return Outcome(
            "insufficient_data", "No inversion evidence: " + RUN_HINT.format("inversion") + "."
        )
    inv = items[0]
    if inv.get("applicable") is False:
        return Outcome(
            "not_applicable",
            f"Inversion does not apply to this model: {inv.get('reason') or 'no reason given'}.",
            {"applicable": False},
        )
    n = inv.get("n_classes") or 0
    rate = first_number(inv, "recognition_rate")
    base = inv.get("baseline_recognised")
    base_rate = base / n if isinstance(base, int) and n else first_number(inv, "chance_rate")
    measured = {"recognition_rate": rate, "baseline_rate": base_rate, "n_classes": n,
                "recognised": inv.get("recognised")}  # fmt: skip
    if rate is None:
        return Outcome(
            "insufficient_data", "The inversion evidence holds no recognition rate.", measured
        )
    excess = rate - (base_rate or 0.0)
    measured["excess"] = excess
    limit = t.max_recognition_over_baseline
    ci = inv.get("recognition_ci") or {}
    low, high = ci.get("ci_low"), ci.get("ci_high")
    shown = f", 95% CI {pct(low, 0)}-{pct(high, 0)}" if low is not None and high is not None else ""
    text = (
        f"{inv.get('recognised')}/{n} reconstructions were recognised ({pct(rate, 0)}{shown}) "
        f"against {pct(base_rate, 0)} for the baseline. They recover class prototypes, not "
        "individual records."
    )
    if low is None or high is None:  # evidence before schema 1.4: the point figure
        if excess > limit:
            return Outcome(
                "fail", text + f" The excess {pct(excess, 0)} is over {pct(limit, 0)}.", measured
            )
        return Outcome("pass", text, measured)
    # judged on the interval, as membership inference is: one reconstruction per class is
    # a handful of trials, and 2 of 2 recognised proves nothing
    measured["excess_ci"] = [low - (base_rate or 0.0), high - (base_rate or 0.0)]
    if low - (base_rate or 0.0) > limit:
        return Outcome(
            "fail",
            text + f" Even the interval's lower end is more than {pct(limit, 0)} over it.",
            measured,
        )
    if high - (base_rate or 0.0) <= limit:
        return Outcome("pass", text, measured)
    return Outcome(
        "warn",
        text + f" The interval straddles the {pct(limit, 0)} limit over the baseline: "
        f"{n} reconstructions can neither show the model gives its classes away nor rule it out.",
        measured,
    )


@check(
    "privacy.dp_reference",
    summary="A differentially private reference model is recorded (privacy-utility trade-off).",
)
def dp_reference(ctx: CheckContext, p: NoOptions, t: NoOptions) -> Outcome:
    items = section_items(_privacy(ctx), "dp_reference") or []
    if not items:
        return Outcome(
            "insufficient_data",
            "No differentially private reference model recorded: " + RUN_HINT.format("dp") + ".",
        )
    rows = [{"method": i.get("method"), "epsilon": i.get("epsilon_spent"), "delta": i.get("delta"),
             "accuracy": i.get("accuracy")} for i in items]  # fmt: skip
    target = getattr(_privacy(ctx), "target_accuracy", None)
    best = ", ".join(
        f"{r['method']} at epsilon {num(r['epsilon'], 2)}: accuracy {pct(r['accuracy'])}"
        for r in rows
    )
    vs = f" (the assessed model: {pct(target)})" if isinstance(target, float) else ""
    return Outcome(
        "pass",
        f"DP reference recorded: {best}{vs}.",
        {"references": rows, "target_accuracy": target},
    )
