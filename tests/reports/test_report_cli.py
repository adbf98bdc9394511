"""The report commands end to end: keygen, report, verify; errors exit 2 with one message."""

from __future__ import annotations

from pathlib import Path

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


def test_public_api_is_pinned() -> None:
    import reports

    assert sorted(reports.__all__) == [
        "Check", "PackResult", "ReportResult", "SigningError", "SigningKey",
        "VerificationResult", "build_pack", "build_report", "extract_attachment",
        "fairness_statements",
        "generate_self_signed", "is_self_signed", "load_signing_key", "pack_tables",
        "render_html", "render_pdf", "sign_manifest", "sign_pdf", "verify_report",
    ]  # fmt: skip
