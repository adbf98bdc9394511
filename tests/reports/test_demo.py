"""The README's main job, `compliance demo`, run as a user runs it (about 15 s on 2 cores)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compliance.cli", *args], capture_output=True, text=True
    )


def test_demo_ends_in_a_verifiable_signed_report(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    run = _cli("demo", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert (out / "report.pdf").stat().st_size > 0
    assert (out / "submission-pack.zip").stat().st_size > 0
    doc = json.loads((out / "assessment.json").read_text())
    text = " ".join(run.stdout.split())

    # the terminal summary reads the evidence it wrote
    privacy = doc["privacy"]
    strongest = next(a for a in privacy["membership"] if a["name"] == privacy["strongest_attack"])
    assert " ".join(strongest["summary"].split()) in text
    findings = doc["policy"]["findings"]
    waiting = [f for f in findings if f["status"] == "open"]
    assert waiting and f"OPEN {len(waiting)} check(s) wait for a person's answer" in text
    for f in findings:
        if f["status"] in ("fail", "warn"):
            assert f"{f['status'].upper()} {f['pack']}/{f['check']}" in text
    assert f"Policy verdict: {doc['policy']['verdict']}" in text

    # the verify command it prints passes
    line = next(x for x in run.stdout.splitlines() if "compliance verify" in x)
    verify_args = shlex.split(line.split("compliance ", 1)[1])
    check = _cli(*verify_args)
    assert check.returncode == 0, check.stdout + check.stderr
