"""Evidence of the policy evaluation: packs, findings, attestations, waivers (policies issue)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from compliance.evidence._base import Frozen

FindingStatus = Literal[
    "pass", "fail", "warn", "open", "insufficient_data", "not_applicable", "waived"
]


class PackRef(Frozen):
    id: str
    version: str
    title: str
    sha256: str | None = None


class Finding(Frozen):
    pack: str
    check: str
    principle: str
    title: str
    severity: Literal["blocking", "advisory"]
    status: FindingStatus
    message: str
    measured: dict[str, Any] = Field(default_factory=dict)
    threshold: dict[str, Any] = Field(default_factory=dict)
    slices: list[dict[str, str]] = Field(default_factory=list)


class PolicySection(Frozen):
    packs: list[PackRef] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    verdict: Literal["pass", "fail", "open"] = "open"
