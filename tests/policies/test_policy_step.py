"""`compliance assess --policy ...`: the runner's policy step records packs and files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compliance.errors import PolicyError
from compliance.runner import run_assessment
from compliance.spec import AssessSpec

PACK = """\
id: acme
version: "3"
title: Acme
jurisdiction: internal
principles: [{id: fair, title: Fairness}, {id: acc, title: Accountability}]
checks:
  - id: parity
    principle: fair
    title: Parity
    check: fairness.primary_metric_parity
    severity: blocking
  - id: owner
    principle: acc
    title: Owner named
    check: attestation
    severity: blocking
    params:
      question: Who owns the model?
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 600
    sex = rng.choice(["F", "M"], size=n)
    y = rng.integers(0, 2, size=n)
    pred = np.where(rng.random(n) < 0.8, y, 1 - y)
    path = tmp_path / "scored.csv"
    pd.DataFrame({"sex": sex, "y": y, "pred": pred}).to_csv(path, index=False)
    return path


def spec(data: Path, out: Path, **kw: object) -> AssessSpec:
    return AssessSpec(data=data, target="y", protected=["sex"], out=out, predictions_column="pred",
                      bootstrap=50, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_step_records_packs_and_input_files(data: Path, tmp_path: Path) -> None:
    pack = tmp_path / "acme.yaml"
    pack.write_text(PACK, encoding="utf-8")
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "items:\n  - {pack: acme, check: owner, answer: Team A, name: N, role: R,"
        " date: 2026-11-02}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    a = run_assessment(
        spec(data, out, policies=[str(pack), "eeoc-four-fifths"], attestations=answers)
    )
    assert a.policy is not None
    refs = {p.id: p for p in a.policy.packs}
    assert refs["acme"].source == "file" and refs["acme"].version == "3"
    assert refs["acme"].sha256 == hashlib.sha256(pack.read_bytes()).hexdigest()
    assert refs["eeoc-four-fifths"].source == "builtin"
    roles = {i.role: i for i in a.inputs}
    assert roles["policy"].sha256 == hashlib.sha256(pack.read_bytes()).hexdigest()
    assert roles["attestations"].path == str(answers)
    by = {f.check: f for f in a.policy.findings}
    assert by["owner"].status == "pass"
    assert (out / "assessment.json").is_file()


def test_bad_pack_writes_nothing(data: Path, tmp_path: Path) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text(PACK.replace("check: attestation", "check: attestion"), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(
        PolicyError, match=r"bad.yaml, field 'checks\[1\]\.check': line 15: unknown check id"
    ):
        run_assessment(spec(data, out, policies=[str(pack)]))
    assert not out.exists()
