"""Machine-readable gate results: JUnit XML (one test case per check) and JSON."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from compliance.errors import InputError
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


def junit_xml(section: PolicySection, *, fail_on_open: bool = False) -> str:
    """JUnit XML: a test suite per pack, a test case per check.

    A blocking `fail` is a `<failure>`; `open`, `insufficient_data` and `not_applicable` are
    `<skipped>`; an advisory fail, a warning or a waiver passes with the reason in
    `<system-out>`, so a CI system's red matches the gate's exit code. With `fail_on_open`
    (the gate's --fail-on-open, which then exits 1), a blocking `open` or
    `insufficient_data` is a `<failure>` too.
    """
    root = ET.Element("testsuites", name="compliance gate")
    total = failures = skipped = 0
    by_pack: dict[str, list[Finding]] = {}
    for f in section.findings:
        by_pack.setdefault(f.pack, []).append(f)
    versions = {p.id: p.version for p in section.packs}

    def fails(f: Finding) -> bool:
        if f.severity != "blocking":
            return False
        return f.status == "fail" or (fail_on_open and f.status in ("open", "insufficient_data"))

    for pack_id, findings in by_pack.items():
        n_fail = sum(1 for f in findings if fails(f))
        n_skip = sum(1 for f in findings if f.status in SKIPPED and not fails(f))
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
            if fails(f):
                prefix = "" if f.status == "fail" else f"{f.status} (--fail-on-open): "
                failure = ET.SubElement(
                    case, "failure", message=prefix + f.message, type=f"policy.{f.check}"
                )
                failure.text = _details(f)
            elif f.status in SKIPPED:
                skip = ET.SubElement(
                    case, "skipped", message=f"{f.status}: {f.message}", type=f.status
                )
                skip.text = _details(f)
            else:
                out = ET.SubElement(case, "system-out")
                out.text = _details(f)
        total += len(findings)
        failures += n_fail
        skipped += n_skip
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", str(skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def findings_json(section: PolicySection, *, exit_code: int, assessment: str | None = None) -> str:
    """The policy section with the gate's exit code, as JSON."""
    body = {"assessment": assessment, "exit_code": exit_code, **section.model_dump(mode="json")}
    return json.dumps(body, indent=2) + "\n"


def _real(path: Path) -> Path:
    """The file a path names, links followed (a link is written through, not replaced)."""
    return Path(os.path.realpath(path))


def check_outputs(
    outputs: Sequence[tuple[Path | None, str]], inputs: Sequence[tuple[Path, str]]
) -> None:
    """Refuse, before anything is read or written, an output path that cannot be written
    safely: a folder, one of the inputs, a path given to two options, a path under a file,
    or one that cannot be written. Each error names the path and the option (exit 2)."""
    read = {_real(p): role for p, role in inputs}
    seen: dict[Path, str] = {}
    for path, option in outputs:
        if path is None:
            continue
        real = _real(path)
        if real.is_dir():
            raise InputError(f"is a directory ({option})", path=path)
        if real in read:
            raise InputError(
                f"is the {read[real]} the gate reads; {option} would overwrite it", path=path
            )
        if real in seen:
            raise InputError(f"is given to both {seen[real]} and {option}", path=path)
        seen[real] = option
        folder = next(p for p in (real.parent, *real.parent.parents) if p.exists())
        if not folder.is_dir():
            raise InputError(f"{folder} is a file, not a folder ({option})", path=path)
        target = real if real.exists() else folder
        if not os.access(target, os.W_OK):
            raise InputError(f"cannot be written: permission denied ({option})", path=path)


def write_files(files: Sequence[tuple[Path, str]]) -> None:
    """Write the files so that a CI system does not read half a result.

    Each regular file is written to a temporary file beside it first; only when all are
    written are they renamed into place, so a failure while writing (a full disk, a
    permission) leaves none of them. The renames themselves are not one transaction: one
    failing after another succeeded leaves the earlier file in place. A device or a pipe
    (`/dev/null`) is written through, never replaced; a link is followed. A failure removes
    the temporary files and is an InputError naming the path.
    """
    staged: list[tuple[Path, Path]] = []
    through: list[tuple[Path, str]] = []
    current = Path()
    try:
        for path, text in files:
            current, real = path, _real(path)
            if real.exists() and not real.is_file():
                through.append((real, text))
                continue
            real.parent.mkdir(parents=True, exist_ok=True)
            tmp = real.with_name(f".{real.name}.{os.getpid()}.tmp")
            staged.append((tmp, real))
            tmp.write_text(text, encoding="utf-8")
        for tmp, real in staged:
            current = real
            tmp.replace(real)
        for real, text in through:
            current = real
            with real.open("w", encoding="utf-8") as fh:
                fh.write(text)
    except OSError as exc:
        raise InputError(f"cannot be written: {exc.strerror or exc}", path=current) from exc
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write one file atomically (`write_files`)."""
    write_files([(path, text)])
