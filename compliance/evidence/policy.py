"""Evidence of the policy evaluation: packs, findings, attestations, waivers (policies issue).

A finding is what a compliance officer signs: which principle, which check, what was
measured, against which threshold, the status, and one plain sentence. Attestations
(answers a person gives) and waivers (a signed exception with an expiry) are recorded
beside the findings they change, so the report shows both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

from compliance.evidence._base import Frozen

FindingStatus = Literal[
    "pass", "fail", "warn", "open", "insufficient_data", "not_applicable", "waived"
]
"""`open` needs a person's answer; `waived` is a failing finding under a valid waiver."""

FINDING_STATUSES: tuple[str, ...] = (
    "pass",
    "fail",
    "warn",
    "open",
    "insufficient_data",
    "not_applicable",
    "waived",
)


class IndexEntry(Frozen):
    """One section of a documentation index (EU AI Act Annex IV) and where it is answered."""

    section: str
    title: str
    answered_by: list[str] = Field(default_factory=list)


class PackRef(Frozen):
    """A policy pack as evaluated: its id, version and the SHA-256 of its YAML bytes."""

    id: str
    version: str
    title: str
    jurisdiction: str | None = None
    source: Literal["builtin", "file"] = "builtin"
    path: str | None = None
    sha256: str | None = None
    index: list[IndexEntry] = Field(default_factory=list)


class AttestationRecord(Frozen):
    """A question a person answers, and the answer given (if any)."""

    pack: str
    check: str
    principle: str
    question: str
    expected_evidence: str = ""
    answer: str | None = None
    evidence: str | None = None
    name: str | None = None
    role: str | None = None
    date: str | None = None
    compliant: bool | None = None
    """False when the person answering states the requirement is not met."""
    status: Literal["answered", "open", "incomplete"] = "open"


class WaiverRecord(Frozen):
    """A signed exception for one failing check, valid until `expires` (inclusive)."""

    pack: str
    check: str
    justification: str
    approver: str
    expires: str
    status: Literal["active", "expired", "unused"]
    source: str | None = None


class BaselineRef(Frozen):
    """The previous assessment a drift check compared against."""

    path: str | None = None
    sha256: str | None = None
    created_at: str


class Finding(Frozen):
    pack: str
    check: str
    principle: str
    title: str
    function: str = ""
    severity: Literal["blocking", "advisory"]
    status: FindingStatus
    message: str
    measured: dict[str, Any] = Field(default_factory=dict)
    threshold: dict[str, Any] = Field(default_factory=dict)
    slices: list[dict[str, str]] = Field(default_factory=list)
    waived_status: FindingStatus | None = None
    waiver: WaiverRecord | None = None
    attestation: AttestationRecord | None = None


class PolicySection(Frozen):
    packs: list[PackRef] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    attestations: list[AttestationRecord] = Field(default_factory=list)
    waivers: list[WaiverRecord] = Field(default_factory=list)
    baseline: BaselineRef | None = None
    evaluated_on: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    verdict: Literal["pass", "fail", "open"] = "open"

    @model_validator(mode="after")
    def _verdict_follows_findings(self) -> PolicySection:
        """A verdict or a count that contradicts the findings is refused (an edited file)."""
        if not self.findings:
            return self
        expected = verdict_of(self.findings)
        if self.verdict != expected:
            raise ValueError(
                f"verdict {self.verdict!r} contradicts the findings, which give {expected!r}"
            )
        for status, n in self.counts.items():
            actual = sum(1 for f in self.findings if f.status == status)
            if n != actual:
                raise ValueError(f"counts[{status!r}] is {n}, but {actual} findings have it")
        return self


def verdict_of(findings: Sequence[Finding]) -> Literal["pass", "fail", "open"]:
    """`fail` if a blocking finding fails; `open` if one is open or lacks data; else `pass`."""
    blocking = [f for f in findings if f.severity == "blocking"]
    if any(f.status == "fail" for f in blocking):
        return "fail"
    if any(f.status in ("open", "insufficient_data") for f in blocking):
        return "open"
    return "pass"
