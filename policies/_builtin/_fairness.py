"""Fairness checks: Veritas parity (FEAT F1), data and model review (F3), the EEOC
four-fifths rule, and the NYC Local Law 144 impact ratios."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from policies._builtin._common import (
    PARITY_METRICS,
    PERFORMANCE_METRICS,
    UNBOUNDED_METRICS,
    Disclosure,
    count,
    dimension_of,
    holm,
    judged_slices,
    known_name,
    listing,
    metric_value,
    n_text,
    num,
    pct,
    positive_label_count,
    pvalue,
    raw_bases,
    selected_count,
    size,
    slice_key,
    slice_name,
    two_proportion_p,
    words,
)
from policies._registry import (
    CheckContext,
    Count,
    Fraction,
    Level,
    NonNegative,
    Options,
    Outcome,
    check,
)

NO_FAIRNESS = "The assessment holds no fairness evidence: run `compliance assess` with --protected."


class ParityParams(Options):
    metric: str | None = None
    """The metric to compare; default: the primary metric the Veritas tree chose."""
    against: Literal["reference", "overall"] = "reference"
    include_intersections: bool = True
    min_denominator: Count | None = None
    """A slice whose metric rests on fewer rows (e.g. actual positives, for the true positive
    rate) is too small to judge; default: the assessment's minimum slice size."""

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return None if v is None else known_name(v, PARITY_METRICS)


class ParityThresholds(Options):
    max_difference: NonNegative = 0.10
    """Largest accepted absolute gap between a slice and its reference."""
    min_ratio: Fraction | None = None
    """Smallest accepted ratio slice/reference; off by default."""


def _parity_options(p: ParityParams, t: ParityThresholds) -> tuple[str, str] | None:
    """A gap between two rates is at most 1: a larger `max_difference` is a percentage
    written as a number (10 for 10 points), which would pass every slice."""
    if p.metric in UNBOUNDED_METRICS or t.max_difference <= 1:
        return None
    what = f"the {words(p.metric)}" if p.metric else "the primary fairness metric"
    return (
        "thresholds.max_difference",
        f"{what} is a rate from 0 to 1, so a gap of {t.max_difference:g} can never be "
        "exceeded; write a fraction (0.10 for 10 points)",
    )


@check(
    "fairness.primary_metric_parity",
    params=ParityParams,
    thresholds=ParityThresholds,
    summary="The primary fairness metric is within threshold of the reference for every slice.",
    validate=_parity_options,
)
def primary_metric_parity(ctx: CheckContext, p: ParityParams, t: ParityThresholds) -> Outcome:
    fairness = ctx.assessment.fairness
    if fairness is None:
        return Outcome("insufficient_data", NO_FAIRNESS)
    metric = p.metric or fairness.primary_metric
    if metric is None:
        return Outcome(
            "insufficient_data",
            "No primary fairness metric was chosen (no Veritas metric selection in the "
            "evidence) and the pack names none.",
        )
    if metric not in fairness.overall.metrics:
        held = ", ".join(m for m in fairness.overall.metrics if m != "count")
        return Outcome(
            "insufficient_data",
            f"The evidence of this {fairness.task} model holds no {words(metric)} "
            f"({metric!r}); it holds {held}.",
        )
    by_attrs = {tuple(sorted(s.attributes.items())): s for s in fairness.slices}
    min_den = p.min_denominator if p.min_denominator is not None else fairness.min_slice_size
    mc = ctx.min_cell
    disc = Disclosure(fairness)
    bases = disc.bases(metric, fairness.slices)
    # each slice's own rate base: from its counts, or as its comparisons record it
    own_base = raw_bases(metric, fairness.slices)
    own_base.update(
        (slice_key(d.slice), d.n_denominator)
        for d in fairness.disparities
        if d.metric == metric and d.n_denominator is not None
    )
    weak_refs = 0
    rows: list[dict[str, Any]] = []
    failing: list[dict[str, str]] = []
    fail_text: list[str] = []
    uncertain = 0
    for d in fairness.disparities:
        if d.metric != metric:
            continue
        is_overall = d.reference == "overall"
        if (p.against == "overall") != is_overall:
            continue
        if len(d.slice) > 1 and not p.include_intersections:
            continue
        s = by_attrs.get(tuple(sorted(d.slice.items())))
        ref = (
            by_attrs.get(slice_key(d.reference))
            if isinstance(d.reference, dict)
            else fairness.overall
        )
        n = s.n if s is not None else None
        diff = d.difference
        # a difference, ratio or test with a hidden rate on either side gives that rate back
        visible = disc.shown(s, metric) and disc.shown(ref, metric)
        row: dict[str, Any] = {
            "slice": dict(d.slice),
            "reference": d.reference,
            "n": disc.size(s, n),
            "n_denominator": bases.get(slice_key(d.slice), size(d.n_denominator, mc)),
            "value": disc.value(s, metric),
            "difference": diff.value if visible else None,
            "difference_ci": [diff.ci_low, diff.ci_high] if visible else [None, None],
            "ratio": d.ratio.value if visible else None,
            "p_adjusted": d.p_adjusted if visible else None,
        }
        if not visible:
            row["figures_suppressed"] = True
        too_few = d.n_denominator is not None and d.n_denominator < min_den
        # a slice is judged against a reference group that is itself judged: status ok,
        # and its rate resting on at least min_denominator rows
        ref_den = None if ref is None else own_base.get(slice_key(ref.attributes))
        weak_ref = isinstance(d.reference, dict) and (
            ref is None or ref.status != "ok" or (ref_den is not None and ref_den < min_den)
        )
        if (s is not None and s.status != "ok") or diff.value is None or too_few or weak_ref:
            row["verdict"] = "insufficient_data"
            if weak_ref and not too_few and (s is None or s.status == "ok"):
                row["reason"] = "the reference group is itself too small to judge"
                weak_refs += 1
            rows.append(row)
            continue
        outside = abs(diff.value) > t.max_difference
        if t.min_ratio is not None and d.ratio.value is not None and d.ratio.value < t.min_ratio:
            outside = True
        crosses = (
            diff.ci_low is not None
            and diff.ci_high is not None
            and (diff.ci_low < -t.max_difference or diff.ci_high > t.max_difference)
        )
        row["verdict"] = "fail" if outside else "pass"
        row["ci_crosses_threshold"] = bool(crosses)
        rows.append(row)
        if outside:
            failing.append(dict(d.slice))
            against = "" if is_overall else f" against {slice_name(d.reference)}"  # type: ignore[arg-type]
            if visible:
                # the rate rests on its base (e.g. a TPR on the slice's actual positives)
                den, shown_n = row["n_denominator"], row["n"]
                rests = (
                    f", {den} in the rate's base"
                    if isinstance(den, int) and isinstance(shown_n, int) and den != shown_n
                    else ""
                )
                figures = (
                    f"{num(diff.value, 2)}, CI {num(diff.ci_low, 2)} to {num(diff.ci_high, 2)}, "
                    f"{n_text(shown_n, mc)}{rests}"
                )
            else:
                figures = f"figures suppressed: they would give back a count under {mc}"
            fail_text.append(f"{slice_name(d.slice)}{against} ({figures})")
        elif crosses:
            uncertain += 1
    compared = {tuple(sorted(r["slice"].items())) for r in rows}
    for s in judged_slices(fairness, include_intersections=p.include_intersections):
        if s.status != "ok" and tuple(sorted(s.attributes.items())) not in compared:
            rows.append({
                "slice": dict(s.attributes), "reference": None, "n": disc.size(s),
                "n_denominator": None, "value": disc.value(s, metric), "difference": None,
                "difference_ci": [None, None], "ratio": None, "p_adjusted": None,
                "verdict": "insufficient_data",
            })  # fmt: skip
    judged = [r for r in rows if r["verdict"] != "insufficient_data"]
    small = len(rows) - len(judged)
    measured = {
        "metric": metric, "against": p.against, "min_denominator": min_den,
        "slices": rows, "judged": len(judged),
    }  # fmt: skip
    what = words(metric)
    ref_words = "the reference group" if p.against == "reference" else "the whole population"
    if not rows:
        return Outcome(
            "insufficient_data",
            f"The evidence holds no comparison of the {what} against {ref_words}.",
            measured,
        )
    if not judged:
        why = f" ({weak_refs} against a reference group itself too small)" if weak_refs else ""
        return Outcome(
            "insufficient_data",
            f"All {len(rows)} slices are too small to judge the {what}{why}.",
            measured,
        )
    tail = f"; {count(small, 'slice')} too small to judge" if small else ""
    if weak_refs:
        tail += f" ({weak_refs} of them against a reference group itself too small)"
    if failing:
        return Outcome(
            "fail",
            f"The {what} of {len(failing)} of {len(judged)} slices differs from {ref_words} by "
            f"more than {t.max_difference:g}: {listing(fail_text)}{tail}.",
            measured,
            failing,
        )
    printed = [r for r in judged if r["difference"] is not None]
    worst = max(printed, key=lambda r: abs(r["difference"])) if printed else None
    largest = (
        f" (largest gap {num(worst['difference'], 3)} for {slice_name(worst['slice'])})"
        if worst is not None
        else ""
    )
    text = (
        f"The {what} of every one of the {len(judged)} judged slices is within "
        f"{t.max_difference:g} of {ref_words}{largest}{tail}."
    )
    if uncertain:
        return Outcome(
            "warn",
            text + f" For {count(uncertain, 'slice')} the confidence interval reaches past the "
            "threshold, so a gap that large cannot be ruled out.",
            measured,
        )
    return Outcome("pass", text, measured)


class ReviewParams(Options):
    performance_metric: str = "balanced_accuracy"
    include_intersections: bool = False

    @field_validator("performance_metric")
    @classmethod
    def _known(cls, v: str) -> str:
        return known_name(v, PERFORMANCE_METRICS, "performance metric")


class ReviewThresholds(Options):
    min_share: Fraction = 0.02
    """Groups under this share of the data are flagged as under-represented."""
    min_base_rate_ratio: Fraction = 0.5
    """Smallest accepted ratio of positive-label rates between groups of one attribute."""
    max_performance_gap: Fraction = 0.05
    """Largest accepted gap between a group's performance and the overall performance."""
    max_calibration_error: Fraction = 0.05
    """Largest accepted expected calibration error within a group."""


@check(
    "fairness.data_model_review",
    params=ReviewParams,
    thresholds=ReviewThresholds,
    summary="Representation, label balance, per-group performance and calibration.",
)
def data_model_review(ctx: CheckContext, p: ReviewParams, t: ReviewThresholds) -> Outcome:
    fairness = ctx.assessment.fairness
    if fairness is None:
        return Outcome("insufficient_data", NO_FAIRNESS)
    total = fairness.overall.n
    mc = ctx.min_cell
    disc = Disclosure(fairness)
    overall_perf = metric_value(fairness.overall, p.performance_metric)
    groups: list[dict[str, Any]] = []
    issues: list[str] = []
    flagged: list[dict[str, str]] = []
    base_rates: dict[tuple[str, ...], list[tuple[str, float, bool]]] = {}
    has_calibration = False
    for s in judged_slices(fairness, include_intersections=p.include_intersections):
        share = s.n / total if total else None
        positives = positive_label_count(s)
        base_rate = positives / s.n if positives is not None and s.n else None
        perf = metric_value(s, p.performance_metric)
        gap = perf - overall_perf if perf is not None and overall_perf is not None else None
        ece = metric_value(s, "expected_calibration_error")
        has_calibration = has_calibration or ece is not None
        # printed as the report's tables print them (`Disclosure`): a share gives a hidden
        # size back, a base rate its positive-label count, a performance gap its rate
        n_shown = disc.size(s)
        share_shown = isinstance(n_shown, int)
        base_shown = (
            share_shown
            and s.status == "ok"
            and positives is not None
            and min(positives, s.n - positives) >= mc
        )
        perf_shown = disc.shown(s, p.performance_metric)
        ece_shown = disc.shown(s, "expected_calibration_error")
        row = {
            "slice": dict(s.attributes), "n": n_shown, "share": share if share_shown else None,
            "base_rate": base_rate if base_shown else None,
            p.performance_metric: perf if perf_shown else None,
            "performance_gap": gap if perf_shown else None,
            "calibration_error": ece if ece_shown else None,
            "status": s.status,
        }  # fmt: skip
        groups.append(row)
        name = slice_name(s.attributes)
        problems = []
        if share is not None and share < t.min_share:
            of = pct(share) if share_shown else f"under {pct(t.min_share, 0)}"
            problems.append(f"{name} is {of} of the data")
        if s.status == "ok" and gap is not None and gap < -t.max_performance_gap:
            by = num(gap, 3) if perf_shown else "(figure suppressed)"
            problems.append(f"{name} {words(p.performance_metric)} {by} below overall")
        if s.status == "ok" and ece is not None and ece > t.max_calibration_error:
            problems.append(
                f"{name} calibration error {num(ece, 3) if ece_shown else '(suppressed)'}"
            )
        if problems:
            flagged.append(dict(s.attributes))
            issues.extend(problems)
        if base_rate is not None and s.status == "ok":
            base_rates.setdefault(dimension_of(s.attributes), []).append(
                (name, base_rate, base_shown)
            )
    balance = []
    for dim, rates in base_rates.items():
        lo = min(rates, key=lambda r: r[1])
        hi = max(rates, key=lambda r: r[1])
        ratio = lo[1] / hi[1] if hi[1] > 0 else None
        both = lo[2] and hi[2]
        balance.append({
            "dimension": list(dim), "lowest": lo[0], "highest": hi[0],
            "ratio": ratio if both else None,
        })  # fmt: skip
        if ratio is not None and ratio < t.min_base_rate_ratio:
            issues.append(
                f"positive labels: {lo[0]} {pct(lo[1])} against {hi[0]} {pct(hi[1])} "
                f"(ratio {num(ratio, 2)})"
                if both
                else f"positive labels: {lo[0]} against {hi[0]} under a ratio of "
                f"{t.min_base_rate_ratio:g} (figures suppressed)"
            )
    measured: dict[str, Any] = {
        "overall_n": size(total, mc),
        "overall_" + p.performance_metric: overall_perf,
        "groups": groups,
        "label_balance": balance,
        "calibration_assessed": has_calibration,
    }
    if not groups:
        return Outcome("insufficient_data", "The evidence holds no protected slices.", measured)
    judged = sum(g["status"] == "ok" for g in groups)
    small = len(groups) - judged
    if not judged:
        # performance, calibration and label balance are read only for groups with data
        points = f" Points to examine: {listing(issues)}." if issues else ""
        return Outcome(
            "insufficient_data",
            f"None of the {count(len(groups), 'group')} has enough data to judge its "
            f"performance, calibration or label balance.{points}",
            measured,
            flagged,
        )
    note = "" if has_calibration else " Calibration was not assessed (no scores in the evidence)."
    if overall_perf is None:
        note += (
            f" The evidence holds no {words(p.performance_metric)}, so performance was not "
            "compared."
        )
    tail = f"; {count(small, 'group')} too small to judge" if small else ""
    if issues:
        return Outcome(
            "warn",
            f"Review of {count(len(groups), 'group')} found {count(len(issues), 'point')} to "
            f"examine: {listing(issues)}{tail}.{note}",
            measured,
            flagged,
        )
    every = f"All {judged} groups" if not small else f"All {judged} judged groups"
    return Outcome(
        "pass",
        f"{every} are represented, labelled, served and calibrated within the thresholds"
        f"{tail}.{note}",
        measured,
    )


UNKNOWN_VALUES = ("(missing)", "", "unknown", "nan", "none", "missing", "?")


def _unknown_default() -> list[str]:
    return list(UNKNOWN_VALUES)


def _is_unknown(attributes: dict[str, str], unknown: list[str]) -> bool:
    labels = {u.lower() for u in unknown}
    return any(str(v).strip().lower() in labels for v in attributes.values())


class RatioParams(Options):
    metric: str = "selection_rate"
    include_intersections: bool = False
    alpha: Level = 0.05
    correction: Literal["holm", "none"] = "holm"
    unknown_values: list[str] = Field(default_factory=_unknown_default)
    """Groups with these values (missing data) are not compared: they are not a group."""

    @field_validator("metric")
    @classmethod
    def _known(cls, v: str) -> str:
        # the test beside the ratio counts the selected (or scored above the median)
        return known_name(v, ("selection_rate", "scoring_rate"))


class FourFifthsThresholds(Options):
    min_ratio: Fraction = 0.8


def _rate_table(
    ctx: CheckContext, metric: str, include_intersections: bool
) -> dict[tuple[str, ...], list[Any]] | None:
    fairness = ctx.assessment.fairness
    if fairness is None:
        return None
    table: dict[tuple[str, ...], list[Any]] = {}
    for s in judged_slices(fairness, include_intersections=include_intersections):
        table.setdefault(dimension_of(s.attributes), []).append(s)
    return table


@check(
    "fairness.four_fifths",
    params=RatioParams,
    thresholds=FourFifthsThresholds,
    summary="EEOC four-fifths rule on selection rates, with a significance test beside it.",
)
def four_fifths(ctx: CheckContext, p: RatioParams, t: FourFifthsThresholds) -> Outcome:
    table = _rate_table(ctx, p.metric, p.include_intersections)
    fairness = ctx.assessment.fairness
    if table is None or fairness is None:
        return Outcome("insufficient_data", NO_FAIRNESS)
    if p.metric not in fairness.overall.metrics:
        return Outcome(
            "insufficient_data",
            f"The four-fifths rule compares {words(p.metric)}s, which this {fairness.task} "
            "model's evidence does not hold; for a model that scores, NYC Local Law 144's "
            "scoring-rate impact ratios (the nyc-ll144 pack) are the counterpart.",
        )
    # The rule compares rates of the favourable outcome: when the positive label (being
    # selected, or scored high) is the unfavourable one, that is 1 - the rate, and the
    # reference is the group that most often escapes it.
    selection = fairness.metric_selection
    favourable = selection is None or selection.positive_label_favourable

    def fav(s: Any) -> float | None:
        rate = metric_value(s, p.metric)
        return None if rate is None else (rate if favourable else 1.0 - rate)

    rows: list[dict[str, Any]] = []
    mc = ctx.min_cell
    disc = Disclosure(fairness)
    shown: dict[int, tuple[bool, bool]] = {}  # a row's rate, its reference's rate: printable
    for dim, slices in table.items():
        slices = [s for s in slices if not _is_unknown(s.attributes, p.unknown_values)]
        rated = [s for s in slices if s.status == "ok" and fav(s) is not None]
        if len(rated) < 2:
            continue
        top = max(rated, key=lambda s: fav(s) or 0.0)
        top_rate = fav(top)
        top_sel = selected_count(top)
        for s in slices:
            rate = fav(s)
            row: dict[str, Any] = {
                "dimension": list(dim), "slice": dict(s.attributes), "n": disc.size(s),
                "rate": rate,
                "highest": dict(top.attributes), "highest_rate": top_rate,
                "suppressed": s.suppressed,
            }  # fmt: skip
            shown[id(row)] = (disc.shown(s, p.metric), disc.shown(top, p.metric))
            if s is top or s.status != "ok" or rate is None:
                row["ratio"] = 1.0 if s is top else None
                row["p_value"] = None
                row["verdict"] = "reference" if s is top else "insufficient_data"
                rows.append(row)
                continue
            row["ratio"] = rate / top_rate if top_rate else None
            sel = selected_count(s)  # the test is the same on the complements
            row["p_value"] = (
                two_proportion_p(sel, s.n, top_sel, top.n)
                if sel is not None and top_sel is not None
                else None
            )
            rows.append(row)
    tested = [r for r in rows if r.get("verdict") is None]
    adjusted = (
        holm([r["p_value"] for r in tested])
        if p.correction == "holm"
        else [r["p_value"] for r in tested]
    )
    failing: list[dict[str, str]] = []
    fail_text: list[str] = []
    warn_text: list[str] = []
    for r, p_adj in zip(tested, adjusted, strict=True):
        r["p_adjusted"] = p_adj
        below = r["ratio"] is not None and r["ratio"] < t.min_ratio
        significant = p_adj is not None and p_adj < p.alpha
        r["below_four_fifths"] = below
        r["significant"] = significant
        desc = (
            f"{slice_name(r['slice'])} ratio {num(r['ratio'], 2)} ({pvalue(p_adj)}, "
            f"{n_text(r['n'], mc)})"
            if all(shown[id(r)])
            else f"{slice_name(r['slice'])} (ratio and test suppressed: they would give back a "
            f"count under {mc}; {n_text(r['n'], mc)})"
        )
        if below and significant:
            r["verdict"] = "fail"
            failing.append(r["slice"])
            fail_text.append(desc)
        elif below or significant:
            r["verdict"] = "warn"
            warn_text.append(
                desc + (" below 4/5, not significant" if below else " significant, above 4/5")
            )
        else:
            r["verdict"] = "pass"
    for r in rows:  # print what the report's tables print (`Disclosure`)
        own, ref = shown[id(r)]
        r["rate"] = r["rate"] if own else None
        r["highest_rate"] = r["highest_rate"] if ref else None
        if not (own and ref) and r["verdict"] != "reference":
            r.update(ratio=None, p_value=None, p_adjusted=None, figures_suppressed=True)
    measured = {
        "metric": p.metric,
        "positive_label_favourable": favourable,
        "rate": p.metric if favourable else f"1 - {p.metric}",
        "comparisons": rows,
        "alpha": p.alpha,
        "correction": p.correction,
    }
    what = (
        words(p.metric)
        if favourable
        else f"rate of the favourable outcome (1 - {words(p.metric)}, as the positive label "
        "is the unfavourable one)"
    )
    if not tested:
        return Outcome(
            "insufficient_data",
            f"No group could be compared on the {what} (too few judged groups per attribute).",
            measured,
        )
    family = (
        f" The p-values are Holm-adjusted over this check's {len(tested)} comparisons (the "
        "report's own p-values are adjusted over every test of the assessment)."
        if p.correction == "holm"
        else " The p-values are not adjusted for multiple comparisons."
    )
    if failing:
        return Outcome(
            "fail",
            f"The {what} of {count(len(failing), 'group')} is under four fifths of the highest "
            "group of its attribute (or intersection) and the difference is statistically "
            "significant: "
            f"{listing(fail_text)}.{family}",
            measured,
            failing,
        )
    if warn_text:
        return Outcome(
            "warn",
            f"No group fails both the four-fifths rule and the significance test, but "
            f"{len(warn_text)} fail one: {listing(warn_text)}.{family}",
            measured,
        )
    return Outcome(
        "pass",
        f"Every one of the {len(tested)} groups has a {what} of at least four fifths of the "
        "highest group in its attribute, and no difference is significant.",
        measured,
    )


class ImpactParams(Options):
    include_intersections: bool = True
    exclude_below_share: Fraction = 0.02
    unknown_values: list[str] = Field(default_factory=_unknown_default)


class ImpactThresholds(Options):
    min_impact_ratio: Fraction = 0.8
    """Local Law 144 sets no pass mark; ratios below this are flagged for the auditor."""


@check(
    "fairness.impact_ratios",
    params=ImpactParams,
    thresholds=ImpactThresholds,
    summary="NYC Local Law 144 selection rates and impact ratios per category.",
)
def impact_ratios(ctx: CheckContext, p: ImpactParams, t: ImpactThresholds) -> Outcome:
    fairness = ctx.assessment.fairness
    if fairness is None:
        return Outcome("insufficient_data", NO_FAIRNESS)
    # LL144: selection rates for a classifier, scoring rates (the share of a category scored
    # above the sample's median score) for a tool that scores
    rate = "selection_rate" if fairness.task == "binary" else "scoring_rate"
    counted = "selected" if fairness.task == "binary" else "scored_above_median"
    if rate not in fairness.overall.metrics:
        return Outcome(
            "insufficient_data",
            "A scoring model needs scoring rates (the share scored above the median), which "
            "this fairness evidence does not hold: assess it again with this version.",
        )
    total = fairness.overall.n
    mc = ctx.min_cell
    disc = Disclosure(fairness)
    table = _rate_table(ctx, rate, p.include_intersections) or {}
    dimensions: list[dict[str, Any]] = []
    flagged: list[dict[str, str]] = []
    low_text: list[str] = []
    visible: dict[int, bool] = {}  # a category's rate: printable
    for dim, slices in sorted(table.items(), key=lambda kv: (len(kv[0]), kv[0])):
        categories: list[dict[str, Any]] = []
        known_n = 0
        unknown_slices_n = 0
        for s in slices:
            is_unknown = _is_unknown(s.attributes, p.unknown_values)
            share = s.n / total if total else 0.0
            if is_unknown:
                unknown_slices_n += s.n
            else:
                known_n += s.n
            n_counted = selected_count(s) if rate == "selection_rate" else s.counts.get(counted)
            size_shown = isinstance(disc.size(s), int)
            rate_shown = disc.shown(s, rate)
            categories.append({
                # a hidden size would come back from its share (share x total): shares and
                # ratios are printed as the tables print them, and the sentence prints no
                # hidden figure. Sizes and counts of 10 or more and rates stay as they are
                # here: the report's LL144 table (reports._pack._ll144_table) reads them and
                # hides them itself ('suppressed'), reading any text as '<10'.
                "category": dict(s.attributes), "n": size(s.n, mc),
                "share": share if size_shown else None,
                counted: size(n_counted, mc),
                rate: metric_value(s, rate),
                "excluded": is_unknown or share < p.exclude_below_share,
                "unknown": is_unknown, "impact_ratio": None, "suppressed": s.suppressed,
            })  # fmt: skip
            visible[id(categories[-1])] = rate_shown
        eligible = [c for c in categories if not c["excluded"] and c[rate] is not None]
        top = max(eligible, key=lambda c: c[rate]) if eligible else None
        for c in categories:
            if top is not None and not c["excluded"] and c[rate] is not None:
                c["impact_ratio"] = c[rate] / top[rate] if top[rate] else None
                both = visible[id(c)] and visible[id(top)]
                if c["impact_ratio"] is not None and c["impact_ratio"] < t.min_impact_ratio:
                    flagged.append(c["category"])
                    low_text.append(
                        f"{slice_name(c['category'])} "
                        + (num(c["impact_ratio"], 2) if both else "(ratio suppressed)")
                    )
                if not both:
                    c["impact_ratio"] = None
        dimensions.append({
            "dimension": list(dim),
            "highest": None if top is None else top["category"],
            "categories": categories,
            "excluded": [c["category"] for c in categories if c["excluded"]],
            "unknown_count": size(max(total - known_n, 0), mc),
        })  # fmt: skip
    measured = {
        "rate": rate,
        "overall_n": size(total, mc),
        "dimensions": dimensions,
        "exclude_below_share": p.exclude_below_share,
    }
    if not dimensions:
        return Outcome("insufficient_data", "The evidence holds no protected categories.", measured)
    unknown = ", ".join(
        f"{'×'.join(d['dimension'])}: {d['unknown_count']}"
        for d in dimensions
        if len(d["dimension"]) == 1
    )
    small = sum(
        1 for d in dimensions for c in d["categories"] if c["excluded"] and not c["unknown"]
    )
    verb = "was" if small == 1 else "were"
    tail = (
        f" Records with unknown category: {unknown}. "
        f"{count(small, 'category', 'categories')} under {pct(p.exclude_below_share, 0)} of the "
        f"data {verb} left out of the ratios; their counts and rates are still reported."
    )
    compared = [
        d for d in dimensions if sum(c["impact_ratio"] is not None for c in d["categories"]) >= 2
    ]
    if not compared:
        return Outcome(
            "insufficient_data",
            f"No impact ratio could be computed: no dimension has two or more eligible "
            f"categories with a {words(rate)} above 0 (every {words(rate)} is 0 when, say, "
            f"every score is the same).{tail}",
            measured,
        )
    if low_text:
        return Outcome(
            "warn",
            f"{count(len(low_text), 'category', 'categories')} with an impact ratio under "
            f"{t.min_impact_ratio:g}: {listing(low_text)}.{tail}",
            measured,
            flagged,
        )
    return Outcome(
        "pass",
        f"Every category's impact ratio is at least {t.min_impact_ratio:g} of the highest "
        f"{words(rate)} in its dimension.{tail}",
        measured,
    )
