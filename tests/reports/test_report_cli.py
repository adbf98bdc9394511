"""The report commands end to end: keygen, report, verify; errors exit 2 with one message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compliance.cli import app
from reports import extract_attachment

runner = CliRunner()


def test_keygen_report_verify(assessment_file: Path, data_dir: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    made = runner.invoke(app, ["keygen", "--out", str(keys), "--name", "Audit Team"])
    assert made.exit_code == 0, made.output
    assert (keys / "signing-key.pem").stat().st_mode & 0o077 == 0
    pdf = tmp_path / "report.pdf"
    done = runner.invoke(
        app,
        ["report", str(assessment_file), "--out", str(pdf), "--key", str(keys / "signing-key.pem")],
    )
    assert done.exit_code == 0, done.output
    assert "self-signed" in done.output
    assert extract_attachment(pdf.read_bytes()) == assessment_file.read_bytes()
    checked = runner.invoke(
        app,
        [
            "verify",
            str(pdf),
            "--trust-root",
            str(keys / "signing-cert.pem"),
            "--data-dir",
            str(data_dir),
        ],
    )
    assert checked.exit_code == 0, checked.output
    again = runner.invoke(app, ["keygen", "--out", str(keys)])
    assert again.exit_code == 2
    assert "already exists" in again.output


def test_report_without_key_uses_a_demo_key_and_says_so(
    assessment_file: Path, tmp_path: Path
) -> None:
    pdf = tmp_path / "demo.pdf"
    done = runner.invoke(app, ["report", str(assessment_file), "--out", str(pdf)])
    assert done.exit_code == 0, done.output
    cert = tmp_path / "demo.signer-cert.pem"
    assert cert.is_file()
    checked = runner.invoke(app, ["verify", str(pdf), "--trust-root", str(cert)])
    assert checked.exit_code == 0, checked.output
    assert "self-signed" in checked.output


def test_report_bad_inputs_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "a.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["report", str(bad), "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output
    missing = runner.invoke(app, ["report", str(tmp_path / "none.json"), "--out", "x.pdf"])
    assert missing.exit_code == 2
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("metrics", "selection_rate", "value", 7.5), "selection_rate.value is 7.5, outside 0"),
        (("metrics", "true_positive_rate", "ci_low", -0.2), "ci_low is -0.2, outside 0"),
        (("n", None, None, 1), "the confusion counts add up to"),
    ],
)
def test_an_impossible_figure_is_refused_not_signed(
    assessment_file: Path, tmp_path: Path, edit: tuple[str, str | None, str | None, float],
    message: str,
) -> None:  # fmt: skip
    """A rate of 750% or a group whose counts do not add up to its size: the file was
    edited or damaged. Exit 2 naming the file and the slice; no PDF."""
    doc = json.loads(assessment_file.read_text(encoding="utf-8"))
    group = doc["fairness"]["slices"][0]
    key, metric, part, value = edit
    if metric is None:
        group[key] = value
    else:
        group[key][metric][part] = value
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    pdf = tmp_path / "r.pdf"
    result = runner.invoke(app, ["report", str(edited), "--out", str(pdf)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "edited.json" in text and "fairness.slices.0" in text and message in text
    assert not pdf.exists()


def test_public_api_is_pinned() -> None:
    import reports

    assert sorted(reports.__all__) == [
        "Check", "PackResult", "ReportResult", "SigningError", "SigningKey",
        "VerificationResult", "build_pack", "build_report", "extract_attachment",
        "fairness_statements",
        "generate_self_signed", "is_self_signed", "load_signing_key", "pack_tables",
        "render_html", "render_pdf", "sign_manifest", "sign_pdf", "verify_pack",
        "verify_report",
    ]  # fmt: skip
