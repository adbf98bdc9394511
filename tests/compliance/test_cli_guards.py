"""Bad input that used to end in a traceback, a silent wrong result or lost files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from compliance.cli import app

runner = CliRunner()


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    frame = pd.DataFrame({
        "sex": ["Female", "Male"] * 60, "y": [0, 1, 1, 0] * 30, "pred": [0, 1, 0, 0] * 30,
    })  # fmt: skip
    path = tmp_path / "in" / "eval.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    return path


def _assess(data: Path, *args: str) -> tuple[int, str]:
    base = ["assess", "-q", "--data", str(data), "--target", "y", "--predictions-column", "pred"]
    result = runner.invoke(app, [*base, *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--protected", "sex,sex"], "--protected names 'sex' twice"),
        (["--protected", "sex,y"], "the target 'y' cannot also be a protected attribute"),
        (["--protected", "sex", "--bins", "sex=1,2"], "holds values like 'Female'"),
    ],
    ids=["protected-twice", "target-protected", "bins-on-categories"],
)
def test_bad_protected_options_exit_2(
    data: Path, tmp_path: Path, args: list[str], expected: str
) -> None:
    out = tmp_path / "out"
    code, output = _assess(data, *args, "--out", str(out))
    assert code == 2 and expected in output, output
    assert not out.exists()


def test_out_that_is_a_file(data: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    code, output = _assess(data, "--protected", "sex", "--out", str(target), "--overwrite")
    assert code == 2 and "is a file; --out names a directory" in output
    assert target.read_text() == "keep me"


def test_overwrite_never_replaces_a_folder_holding_an_input(data: Path) -> None:
    folder = data.parent
    (folder / "notes.txt").write_text("keep me")
    code, output = _assess(data, "--protected", "sex", "--out", str(folder), "--overwrite")
    assert code == 2 and f"holding the input {data}" in output
    assert sorted(p.name for p in folder.iterdir()) == ["eval.csv", "notes.txt"]


def test_overwrite_never_replaces_the_working_directory(data: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "notes.txt").write_text("keep me")
    here = os.getcwd()
    try:
        os.chdir(work / "sub")
        for out in (".", ".."):
            code, output = _assess(data, "--protected", "sex", "--out", out, "--overwrite")
            assert code == 2 and "would replace the working directory" in output
    finally:
        os.chdir(here)
    assert (work / "notes.txt").read_text() == "keep me" and (work / "sub").is_dir()


def test_foreign_folder_needs_overwrite_and_a_previous_output_does_not(
    data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("someone's")
    code, output = _assess(data, "--protected", "sex", "--out", str(out))
    assert code == 2 and "pass --overwrite to replace it and everything in it" in output
    assert (out / "notes.txt").exists()
    code, _ = _assess(data, "--protected", "sex", "--out", str(out), "--overwrite")
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["assessment.json"]
    code, _ = _assess(data, "--protected", "sex", "--out", str(out))  # our own: replaced
    assert code == 0


def test_demo_refuses_a_foreign_folder(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("keep me")
    result = runner.invoke(app, ["demo", "--out", str(out), "-q"])
    assert result.exit_code == 2 and "did not write" in " ".join(result.output.split())
    assert (out / "thesis.tex").exists() and not (tmp_path / "mine.inputs").exists()


def test_a_text_file_that_is_not_a_lightgbm_model(data: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("not a model\n")
    run = subprocess.run(
        [sys.executable, "-m", "compliance.cli", "assess", "-q", "--data", str(data),
         "--target", "y", "--protected", "sex", "--model", str(junk),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[0] == f"error: {junk}: not a LightGBM text model (its first line is not 'tree')"
    assert not any("[LightGBM]" in line for line in lines)


def test_hint_text_keeps_its_brackets(data: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")  # the dev install has it: simulate its absence instead
    model = tmp_path / "m.onnx"
    model.write_bytes(b"junk")
    code = (
        "import sys; sys.modules['onnxruntime'] = None; "
        "from compliance.cli import main; sys.argv = ['compliance'] + sys.argv[1:]; main()"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "assess", "-q", "--data", str(data), "--target", "y",
         "--protected", "sex", "--model", str(model), "--out", str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "hint: pip install 'compliance-audit[formats]'" in run.stderr


def test_a_verdict_that_contradicts_its_findings_is_refused(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    code, _ = _assess(data, "--protected", "sex", "--policy", "eeoc-four-fifths", "--out", str(out))
    assert code == 0
    doc = json.loads((out / "assessment.json").read_text())
    assert doc["policy"]["verdict"] != "pass" or doc["policy"]["counts"]
    doc["policy"]["verdict"] = "fail" if doc["policy"]["verdict"] == "pass" else "pass"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    result = runner.invoke(app, ["report", str(forged), "--out", str(tmp_path / "r.pdf")])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "contradicts the findings" in text and "forged.json" in text
    assert not (tmp_path / "r.pdf").exists()
    gate = runner.invoke(app, ["gate", str(forged), "-q"])
    assert gate.exit_code == 2
