"""Checks a person answers (attestations), FEAT F2 (personal attributes and proxies), and
the mapping of a regulation's item to the evidence that answers it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from policies._builtin._common import first_number, listing, num, section_items
from policies._registry import CheckContext, Fraction, NoOptions, Options, Outcome, check


class AttestationParams(Options):
    question: str
    expected_evidence: str = ""


def _attestation_outcome(ctx: CheckContext) -> Outcome | None:
    """`open` (with what is missing) unless a complete answer was given; None when complete."""
    a = ctx.attestation
    if a is None or a.status == "open":
        return Outcome(
            "open",
            "Not answered yet: a person must answer this question in the attestation "
            "questionnaire.",
        )
    if a.status == "incomplete":
        missing = [
            k for k in ("answer", "name", "role", "date") if not (getattr(a, k) or "").strip()
        ]
        return Outcome(
            "open",
            f"Answered but not signed off: {', '.join(missing)} missing in the questionnaire.",
            {"answered": bool(a.answer)},
        )
    return None


@check(
    "attestation",
    params=AttestationParams,
    summary="A question a person answers and signs (name, role, date).",
)
def attestation(ctx: CheckContext, p: AttestationParams, t: NoOptions) -> Outcome:
    pending = _attestation_outcome(ctx)
    if pending is not None:
        return pending
    a = ctx.attestation
    assert a is not None
    ref = f" Evidence: {a.evidence}." if a.evidence else ""
    if a.compliant is False:
        return Outcome(
            "fail",
            f"Attested as not met by {a.name} ({a.role}) on {a.date}: {a.answer}.{ref}",
            {"answer": a.answer, "evidence": a.evidence, "compliant": False},
        )
    return Outcome(
        "pass",
        f"Answered by {a.name} ({a.role}) on {a.date}.{ref}",
        {"answer": a.answer, "evidence": a.evidence},
    )


class ReviewParams(Options):
    question: str = (
        "On what date (YYYY-MM-DD) is this model next reviewed, and what is the monitoring "
        "plan: which figures, how often, who acts on an alert?"
    )
    expected_evidence: str = "The review date and the monitoring plan document."


_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


@check(
    "governance.review_schedule",
    params=ReviewParams,
    summary="A review date (not passed) and a monitoring plan are attested.",
)
def review_schedule(ctx: CheckContext, p: ReviewParams, t: NoOptions) -> Outcome:
    pending = _attestation_outcome(ctx)
    if pending is not None:
        return pending
    a = ctx.attestation
    assert a is not None
    dates = []
    for text in _DATE.findall(a.answer or ""):
        try:
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            continue
    measured: dict[str, Any] = {"answer": a.answer, "evidence": a.evidence}
    if a.compliant is False:
        return Outcome("fail", f"Attested as not met by {a.name} ({a.role}) on {a.date}.", measured)
    if not dates:
        return Outcome(
            "open",
            "The answer names no review date: write it as YYYY-MM-DD in the answer.",
            measured,
        )
    review = max(dates)
    measured["review_date"] = review.isoformat()
    measured["days_left"] = (review - ctx.as_of).days
    if review < ctx.as_of:
        return Outcome(
            "fail",
            f"The review planned for {review.isoformat()} is overdue on {ctx.as_of.isoformat()} "
            f"(attested by {a.name}, {a.role}).",
            measured,
        )
    plan = f" Monitoring plan: {a.evidence}." if a.evidence else ""
    return Outcome(
        "pass",
        f"Next review on {review.isoformat()}, attested by {a.name} ({a.role}) on {a.date}.{plan}",
        measured,
    )


class PersonalAttributesParams(Options):
    question: str = (
        "Which personal attributes does the model use as inputs, and why is each one "
        "justified? Name the attributes you removed and the proxies you accepted."
    )
    expected_evidence: str = "A feature list with a justification per personal attribute."


class ProxyThresholds(Options):
    min_proxy_auc: Fraction | None = None
    """A feature predicting a protected attribute with at least this AUC is a proxy; by
    default the proxy search's own flag (its threshold is in the evidence)."""


@check(
    "governance.personal_attributes",
    params=PersonalAttributesParams,
    thresholds=ProxyThresholds,
    summary="Personal attributes used as inputs are declared and justified; proxies flagged.",
)
def personal_attributes(
    ctx: CheckContext, p: PersonalAttributesParams, t: ProxyThresholds
) -> Outcome:
    fairness = ctx.assessment.fairness
    protected = list(fairness.protected) if fairness is not None else []
    discovery = ctx.assessment.discovery
    proxies = section_items(discovery, "proxies")
    if proxies is not None and not proxies and getattr(discovery, "proxy_method", None) is None:
        proxies = None  # an empty list from a run without the proxy search
    flagged: list[dict[str, Any]] = []
    for item in proxies or []:
        if str(item.get("feature")) == str(item.get("protected")):
            continue
        auc = first_number(item, "auc")
        hit = (
            (auc is not None and auc >= t.min_proxy_auc)
            if t.min_proxy_auc is not None
            else bool(item.get("flagged"))
        )
        if hit:
            flagged.append(
                {
                    "feature": str(item.get("feature")),
                    "protected": str(item.get("protected")),
                    "strength": auc,
                }
            )
    features = list(getattr(discovery, "features", None) or [])
    measured: dict[str, Any] = {
        "protected": protected,
        "protected_inputs": [a for a in protected if a in features] if features else None,
        "proxy_search": proxies is not None,
        "proxies": flagged,
    }
    if proxies is None:
        proxy_text = "no proxy search in the evidence"
    elif flagged:
        proxy_text = "proxies: " + listing(
            [f"{f['feature']} for {f['protected']} (AUC {num(f['strength'], 2)})" for f in flagged]
        )
    else:
        proxy_text = f"no proxy among {len(proxies)} feature-attribute pairs searched"
    pending = _attestation_outcome(ctx)
    if pending is not None:
        return Outcome(
            "open",
            f"{pending.message} Protected attributes: "
            f"{', '.join(protected) or 'none named'}; {proxy_text}.",
            measured,
        )
    a = ctx.attestation
    assert a is not None
    measured["answer"] = a.answer
    if a.compliant is False:
        return Outcome(
            "fail",
            f"Attested as not justified by {a.name} ({a.role}) on {a.date}: {a.answer}; "
            f"{proxy_text}.",
            measured,
        )
    if flagged:
        return Outcome(
            "warn",
            f"Declared by {a.name} ({a.role}), but the evidence flags {proxy_text}: check the "
            "justification covers them.",
            measured,
        )
    if proxies is None:
        return Outcome(
            "warn",
            f"Declared by {a.name} ({a.role}); {proxy_text}, so proxies were not checked "
            "(run assess with --find-slices).",
            measured,
        )
    return Outcome(
        "pass", f"Declared and justified by {a.name} ({a.role}); {proxy_text}.", measured
    )


class RecordedParams(Options):
    section: str
    """Dotted path in the assessment, e.g. `fairness.disparities` or `privacy.membership`."""
    what: str
    """What the evidence shows, in words, for the sentence of the finding."""


def _resolve(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    return obj


@check(
    "evidence.recorded",
    params=RecordedParams,
    summary="A regulation's item is answered by a section of the evidence.",
)
def evidence_recorded(ctx: CheckContext, p: RecordedParams, t: NoOptions) -> Outcome:
    value = _resolve(ctx.assessment, p.section)
    present = value is not None and not (isinstance(value, list | dict | str) and len(value) == 0)
    size = len(value) if isinstance(value, list | dict) else None
    measured = {"section": p.section, "present": present, "items": size}
    if not present:
        return Outcome(
            "insufficient_data",
            f"Missing evidence: the assessment has no '{p.section}' ({p.what}).",
            measured,
        )
    count = f" ({size} items)" if size is not None else ""
    return Outcome("pass", f"Answered by '{p.section}'{count}: {p.what}.", measured)
