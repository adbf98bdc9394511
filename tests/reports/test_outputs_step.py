"""The runner's outputs step: without --sign-key it makes a demo key, and says so."""

from __future__ import annotations

import zipfile
from pathlib import Path

from compliance.assessment import Assessment
from compliance.progress import Progress
from compliance.spec import AssessSpec
from compliance.steps import outputs
from reports import verify_report


def test_report_and_pack_with_a_demo_key(assessment: Assessment, tmp_path: Path) -> None:
    assessment.write(tmp_path / "assessment.json")
    spec = AssessSpec(
        data=Path("eval.csv"), target="approved", protected=["sex"], out=tmp_path,
        report=True, pack=True,
    )  # fmt: skip
    outputs.run(assessment, spec, tmp_path, Progress(enabled=False))
    assert (tmp_path / outputs.DEMO_KEY_NAME).stat().st_mode & 0o077 == 0
    report = tmp_path / outputs.REPORT_NAME
    result = verify_report(report)
    assert result.ok, result.lines()
    assert any("self-signed" in c.detail for c in result.checks)
    with zipfile.ZipFile(tmp_path / outputs.PACK_NAME) as zf:
        assert zf.read("report.pdf") == report.read_bytes()
        assert zf.read("assessment.json") == (tmp_path / "assessment.json").read_bytes()
        assert outputs.DEMO_KEY_NAME not in zf.namelist()


def test_pack_only_with_a_given_key(
    assessment: Assessment, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    key, _ = key_files
    spec = AssessSpec(
        data=Path("eval.csv"), target="approved", protected=["sex"], out=tmp_path,
        pack=True, sign_key=key,
    )  # fmt: skip
    outputs.run(assessment, spec, tmp_path, Progress(enabled=False))
    assert (tmp_path / outputs.PACK_NAME).is_file()
    assert not (tmp_path / outputs.REPORT_NAME).exists()
    assert not (tmp_path / outputs.DEMO_KEY_NAME).exists()
