"""Evaluation: packs on evidence (+ answers, waivers, baseline) → a PolicySection."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from compliance.errors import PolicyError
from compliance.evidence.policy import (
    FINDING_STATUSES,
    AttestationRecord,
    BaselineRef,
    Finding,
    IndexEntry,
    PackRef,
    PolicySection,
    WaiverRecord,
    verdict_of,
)
from policies._answers import Answers, Waivers, check_answers, record
from policies._packs import Pack
from policies._registry import CheckContext, get_check
from policies._yaml import policy_error

if TYPE_CHECKING:
    from compliance.assessment import Assessment

DRIFT_CHECK = "baseline.drift"


def _pack_ref(pack: Pack) -> PackRef:
    return PackRef(
        id=pack.id,
        version=pack.version,
        title=pack.spec.title,
        jurisdiction=pack.spec.jurisdiction,
        source=pack.source,
        path=pack.path if pack.source == "file" else None,
        sha256=pack.sha256,
        index=[
            IndexEntry(section=e.section, title=e.title, answered_by=list(e.answered_by))
            for e in pack.spec.index
        ],
    )


def _run_check(pack: Pack, pc_index: int, ctx: CheckContext) -> Finding:
    pc = pack.checks[pc_index]
    try:
        outcome = pc.definition.func(ctx, pc.params, pc.thresholds)
    except PolicyError:
        raise
    except Exception as exc:  # a user check that breaks must not pass silently
        raise PolicyError(
            f"check {pc.definition.id!r} ({pack.id}/{pc.spec.id}) raised "
            f"{type(exc).__name__}: {exc}",
            path=pack.path,
            field=f"checks[{pc_index}].check",
        ) from exc
    status: str = outcome.status  # a user check may return anything at run time
    if status not in FINDING_STATUSES or status == "waived":
        raise PolicyError(
            f"check {pc.definition.id!r} returned the status {status!r}",
            path=pack.path,
            field=f"checks[{pc_index}].check",
        )
    return Finding(
        pack=pack.id,
        check=pc.spec.id,
        principle=pack.principle_title(pc.spec.principle),
        title=pc.spec.title,
        function=pc.definition.id,
        severity=pc.spec.severity,
        status=outcome.status,
        message=outcome.message,
        measured=outcome.measured,
        threshold=pc.thresholds.model_dump(),
        slices=outcome.slices,
        attestation=ctx.attestation,
    )


def _apply_waivers(
    findings: list[Finding], waivers: Waivers | None, as_of: dt.date
) -> tuple[list[Finding], list[WaiverRecord]]:
    if waivers is None:
        return findings, []
    by_key = {(f.pack, f.check): i for i, f in enumerate(findings)}
    records: list[WaiverRecord] = []
    out = list(findings)
    for w, line in waivers.items:
        i = by_key.get((w.pack, w.check))
        if i is None:
            raise policy_error(
                waivers.path, line, "waivers",
                f"waiver for {w.pack}/{w.check}, which no evaluated pack checks",
            )  # fmt: skip
        f = out[i]
        expired = as_of > w.expires
        failing = f.status in ("fail", "warn")
        status: Literal["active", "expired", "unused"] = (
            "unused" if not failing else ("expired" if expired else "active")
        )
        rec = WaiverRecord(
            pack=w.pack, check=w.check, justification=w.justification, approver=w.approver,
            expires=w.expires.isoformat(), status=status, source=waivers.path,
        )  # fmt: skip
        records.append(rec)
        if status == "active":
            out[i] = f.model_copy(
                update={
                    "status": "waived",
                    "waived_status": f.status,
                    "waiver": rec,
                    "message": f"Waived until {rec.expires} by {w.approver}: {w.justification} "
                    f"(the finding: {f.message})",
                }
            )
        elif status == "expired":
            out[i] = f.model_copy(
                update={
                    "status": "fail",
                    "waived_status": f.status,
                    "waiver": rec,
                    "message": f"The waiver by {w.approver} expired on {rec.expires}, so this "
                    f"counts as a failure again. {f.message}",
                }
            )
    return out, records


def evaluate(
    assessment: Assessment,
    packs: Sequence[Pack],
    *,
    answers: Answers | None = None,
    waivers: Waivers | None = None,
    baseline: Assessment | None = None,
    baseline_ref: BaselineRef | None = None,
    as_of: dt.date | None = None,
) -> PolicySection:
    """Run every check of `packs` on the evidence and return the policy section."""
    # Without --as-of the day is today in UTC; an answer signed today east of UTC may carry
    # tomorrow's UTC date, so the future-date check allows one day there.
    latest_signature = as_of or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    ids = [p.id for p in packs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise PolicyError(f"pack {dupes[0]!r} is given twice", field="policy")
    if answers is not None:
        check_answers(answers, packs, latest_signature)
    findings: list[Finding] = []
    attestations: list[AttestationRecord] = []
    for pack in packs:
        for i, pc in enumerate(pack.checks):
            attestation = None
            if pc.definition.asks_question:
                given = answers.items.get((pack.id, pc.spec.id)) if answers is not None else None
                attestation = record(pack, pc.spec.id, given)
                attestations.append(attestation)
            ctx = CheckContext(
                assessment=assessment, pack=pack.id, check=pc.spec.id, as_of=as_of,
                baseline=baseline, attestation=attestation,
            )  # fmt: skip
            findings.append(_run_check(pack, i, ctx))
    has_drift = any(pc.definition.id == DRIFT_CHECK for p in packs for pc in p.checks)
    if baseline is not None and not has_drift:
        findings.append(_baseline_finding(assessment, baseline, as_of))
    findings, waiver_records = _apply_waivers(findings, waivers, as_of)
    counts: Counter[str] = Counter(f.status for f in findings)
    return PolicySection(
        packs=[_pack_ref(p) for p in packs],
        findings=findings,
        attestations=attestations,
        waivers=waiver_records,
        baseline=baseline_ref,
        evaluated_on=as_of.isoformat(),
        counts={s: counts.get(s, 0) for s in FINDING_STATUSES},
        verdict=verdict_of(findings),
    )


def _baseline_finding(assessment: Assessment, baseline: Assessment, as_of: dt.date) -> Finding:
    """With --baseline and no pack that checks drift, drift is a blocking finding of its own."""
    definition = get_check(DRIFT_CHECK)
    assert definition is not None
    params, thresholds = definition.params(), definition.thresholds()
    ctx = CheckContext(
        assessment=assessment, pack="baseline", check="drift", as_of=as_of, baseline=baseline
    )
    outcome = definition.func(ctx, params, thresholds)
    return Finding(
        pack="baseline", check="drift", principle="Monitoring",
        title="No regression against the baseline",
        function=DRIFT_CHECK, severity="blocking", status=outcome.status, message=outcome.message,
        measured=outcome.measured, threshold=thresholds.model_dump(), slices=outcome.slices,
    )  # fmt: skip


def evaluate_inputs(
    assessment: Assessment,
    policies: Sequence[str],
    *,
    attestations: str | Path | None = None,
    waivers: str | Path | None = None,
    baseline: str | Path | None = None,
    as_of: dt.date | None = None,
) -> tuple[PolicySection, list[tuple[Path, str]]]:
    """Load packs, answers, waivers and a baseline from their files, then `evaluate`.

    Returns the section and the files read, with their roles, for the assessment's inputs.
    """
    from compliance.assessment import load_assessment
    from policies._answers import load_answers, load_waivers
    from policies._packs import load_pack

    if not policies:
        raise PolicyError(
            "name at least one policy pack (--policy feat, or a YAML file)", field="policy"
        )
    used: list[tuple[Path, str]] = []
    packs = []
    for ref in policies:
        pack = load_pack(ref)
        packs.append(pack)
        if pack.source == "file":
            used.append((Path(pack.path), "policy"))
    answers = load_answers(attestations) if attestations is not None else None
    if attestations is not None:
        used.append((Path(attestations), "attestations"))
    waiver_set = load_waivers(waivers) if waivers is not None else None
    if waivers is not None:
        used.append((Path(waivers), "waivers"))
    base = ref_ = None
    if baseline is not None:
        base = load_assessment(baseline)
        digest = hashlib.sha256(Path(baseline).read_bytes()).hexdigest()
        ref_ = BaselineRef(path=str(baseline), sha256=digest, created_at=base.created_at)
        used.append((Path(baseline), "baseline"))
    section = evaluate(
        assessment,
        packs,
        answers=answers,
        waivers=waiver_set,
        baseline=base,
        baseline_ref=ref_,
        as_of=as_of,
    )
    return section, used
