"""The Assessment: one typed, frozen, versioned, JSON-serialisable record of a run.

Everything after the evidence step (policies, reports, the gate, packs) reads only
this record, so it can be made again later without the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from compliance.errors import InputError
from compliance.evidence._base import Estimate, Frozen
from compliance.evidence.discovery import (
    DiscoverySection,
    FoundSlice,
    GroupShare,
    LeaveOneOutResult,
    LeaveOneOutSection,
    ProxyResult,
)
from compliance.evidence.fairness import (
    Disparity,
    FairnessSection,
    GroupAggregate,
    MetricSelection,
    SliceResult,
)
from compliance.evidence.policy import Finding, PackRef, PolicySection
from compliance.evidence.privacy import AttackResult, PrivacySection, SliceExposure

SCHEMA_VERSION = "1.4"
# 1.1 adds FairnessSection.bin_edges (optional): a 1.0 file reads as 1.1 without them.
# 1.2 adds a regression's disparities and aggregates, whose tests read "welch".
# 1.3 adds AttackResult.tpr_at_fpr_bounds and the "inconclusive" membership reading; the
# TPR intervals of 1.3 account for the threshold (before, Clopper-Pearson at the threshold).
# 1.3 adds optional Disparity.four_fifths_ratio and .note, SliceResult.note, GroupAggregate.note.
# 1.4 adds optional InversionResult.recognition_ci and SliceExposure.tpr_at_fpr_ci;
# membership bounds are at 1 - 0.05/(2k) for k attacks (1.3: 1 - 0.05/k, which made the
# worst reading hold at 90%), and the attribute-inference advantage interval is Newcombe's
# paired interval (1.3: a normal interval on per-record differences).
READABLE_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")

__all__ = [
    "SCHEMA_VERSION",
    "Assessment",
    "AttackResult",
    "DiscoverySection",
    "Disparity",
    "Estimate",
    "FairnessSection",
    "Finding",
    "FoundSlice",
    "GroupAggregate",
    "GroupShare",
    "InputFile",
    "LeaveOneOutResult",
    "LeaveOneOutSection",
    "MetricSelection",
    "ModelInfo",
    "PackRef",
    "PolicySection",
    "PrivacySection",
    "Provenance",
    "ProxyResult",
    "SliceExposure",
    "SliceResult",
    "load_assessment",
]


class InputFile(Frozen):
    """One input file and its SHA-256, so an auditor can tie the evidence to the bytes."""

    path: str
    sha256: str
    role: str
    size: int


class ModelInfo(Frozen):
    """What was assessed: a model artifact, or an outputs-only audit."""

    kind: str
    path: str | None = None
    description: str
    task: Literal["binary", "regression"]
    trusted_pickle: bool = False
    trusted_types: list[str] = Field(default_factory=list)


class Provenance(Frozen):
    """How the evidence was made: versions, seed and the command line."""

    tool_version: str
    python: str
    platform: str
    packages: dict[str, str]
    seed: int
    command: list[str]


class Assessment(Frozen):
    """The evidence of one assessment run."""

    schema_version: str = SCHEMA_VERSION
    created_at: str
    title: str = "Model compliance assessment"
    provenance: Provenance
    inputs: list[InputFile]
    model: ModelInfo
    fairness: FairnessSection | None = None
    privacy: PrivacySection | None = None
    discovery: DiscoverySection | None = None
    policy: PolicySection | None = None
    warnings: list[str] = Field(default_factory=list)

    def to_json(self) -> str:
        """Serialise deterministically (sorted keys are not needed: field order is fixed)."""
        return self.model_dump_json(indent=2) + "\n"

    def write(self, path: Path) -> None:
        """Write the JSON to `path` atomically: a reader never sees half a file."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)


def load_assessment(path: str | Path) -> Assessment:
    """Read and validate a saved assessment; errors name the file and the field."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", path=p)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc})", path=p) from exc
    if not isinstance(raw, dict):
        raise InputError("expected a JSON object", path=p)
    version = raw.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise InputError(
            f"schema_version {version!r} is not supported (this tool reads "
            f"{' and '.join(READABLE_VERSIONS)})",
            path=p,
            field="schema_version",
        )
    if version in ("1.0", "1.1"):
        _clip_auc_bounds(raw)
    try:
        return Assessment.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        raise InputError(err["msg"], path=p, field=field) from exc


def _clip_auc_bounds(raw: dict[str, Any]) -> None:
    """Before 1.2 the bootstrap could put a slice's ROC AUC interval bound a little past 1
    (draws shifted onto the exact AUC); such a bound reads as 1, as 1.2 writes it."""
    fairness = raw.get("fairness")
    if not isinstance(fairness, dict):
        return
    groups = [fairness.get("overall"), *(fairness.get("slices") or [])]
    for group in groups:
        metrics = group.get("metrics") if isinstance(group, dict) else None
        auc = metrics.get("roc_auc") if isinstance(metrics, dict) else None
        if not isinstance(auc, dict):
            continue
        for part in ("ci_low", "ci_high"):
            v = auc.get(part)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                auc[part] = min(max(float(v), 0.0), 1.0)


def json_schema() -> str:
    """The JSON Schema of the assessment, for `compliance schema`."""
    return json.dumps(Assessment.model_json_schema(), indent=2)
