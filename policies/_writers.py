"""Machine-readable gate results: JUnit XML (one test case per check) and JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from compliance.evidence.policy import Finding, PolicySection

SKIPPED = ("open", "insufficient_data", "not_applicable")


def _details(f: Finding) -> str:
    lines = [
        f"status: {f.status}" + (f" (was {f.waived_status})" if f.waived_status else ""),
        f"severity: {f.severity}",
        f"principle: {f.principle}",
        f"check function: {f.function}",
        f.message,
    ]
    if f.threshold:
        lines.append("threshold: " + json.dumps(f.threshold, sort_keys=True))
    if f.slices:
        lines.append(
            "slices: " + "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in f.slices)
        )
    return "\n".join(lines)


def junit_xml(section: PolicySection) -> str:
    """JUnit XML: a test suite per pack, a test case per check.

    A blocking `fail` is a `<failure>`; `open`, `insufficient_data` and `not_applicable` are
    `<skipped>`; an advisory fail, a warning or a waiver passes with the reason in
    `<system-out>`, so a CI system's red matches the gate's exit code.
    """
    root = ET.Element("testsuites", name="compliance gate")
    total = failures = 0
    by_pack: dict[str, list[Finding]] = {}
    for f in section.findings:
        by_pack.setdefault(f.pack, []).append(f)
    versions = {p.id: p.version for p in section.packs}
    for pack_id, findings in by_pack.items():
        n_fail = sum(1 for f in findings if f.status == "fail" and f.severity == "blocking")
        n_skip = sum(1 for f in findings if f.status in SKIPPED)
        suite = ET.SubElement(
            root, "testsuite", name=pack_id, tests=str(len(findings)), failures=str(n_fail),
            errors="0", skipped=str(n_skip), time="0",
        )  # fmt: skip
        if pack_id in versions:
            props = ET.SubElement(suite, "properties")
            ET.SubElement(props, "property", name="pack_version", value=versions[pack_id])
        for f in findings:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{f.check}: {f.title}",
                classname=f"{pack_id}.{f.check}",
                time="0",
            )
            if f.status == "fail" and f.severity == "blocking":
                failure = ET.SubElement(
                    case, "failure", message=f.message, type=f"policy.{f.check}"
                )
                failure.text = _details(f)
            elif f.status in SKIPPED:
                skipped = ET.SubElement(
                    case, "skipped", message=f"{f.status}: {f.message}", type=f.status
                )
                skipped.text = _details(f)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = _details(f)
        total += len(findings)
        failures += n_fail
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def findings_json(section: PolicySection, *, exit_code: int, assessment: str | None = None) -> str:
    """The policy section with the gate's exit code, as JSON."""
    body = {"assessment": assessment, "exit_code": exit_code, **section.model_dump(mode="json")}
    return json.dumps(body, indent=2) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write atomically: a CI system never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
