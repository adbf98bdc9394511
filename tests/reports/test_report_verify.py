"""Verification: a good report passes; each kind of tampering fails with its own line."""

from __future__ import annotations

import shutil
from io import BytesIO
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compliance.cli import app
from reports import SigningKey, generate_self_signed, verify_report

runner = CliRunner()


def _failed(result_lines: list[str]) -> list[str]:
    return [line for line in result_lines if line.startswith("FAIL")]


def test_good_report_verifies_with_exit_0(
    signed_report: Path, key_files: tuple[Path, Path], data_dir: Path
) -> None:
    _, cert = key_files
    result = runner.invoke(
        app, ["verify", str(signed_report), "--trust-root", str(cert), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert not _failed(lines)
    assert any(line.startswith("OK   coverage:") for line in lines)
    assert any(line.startswith("OK   trust:") for line in lines)
    assert any(line.startswith("OK   format: declares PDF/A-3b") for line in lines)
    assert sum(1 for line in lines if line.startswith("OK   input ")) == 2
    assert "VERIFIED" in result.output


def test_flipped_byte_fails_the_signature(signed_report: Path, tmp_path: Path) -> None:
    data = bytearray(signed_report.read_bytes())
    data[len(data) // 3] ^= 0x01  # inside the signed byte range, far from the signature
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    result = verify_report(bad)
    assert not result.ok
    failed = result.failed()
    assert failed[0].name.startswith("signature 1 of 1")
    assert "NOT intact" in failed[0].detail
    cli = runner.invoke(app, ["verify", str(bad)])
    assert cli.exit_code == 1
    assert any(
        line.startswith("FAIL signature 1 of 1") and "NOT intact" in line
        for line in cli.output.splitlines()
    )


def test_appended_incremental_update_fails_coverage(signed_report: Path, tmp_path: Path) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed_report.read_bytes()))
    writer.root["/Lang"] = generic.TextStringObject("fr")  # any change, even a harmless one
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    bad = tmp_path / "appended.pdf"
    bad.write_bytes(out.getvalue())
    result = verify_report(bad)
    assert not result.ok
    assert [c.name for c in result.failed()] == ["coverage"]
    assert "does not cover the entire file" in result.failed()[0].detail
    # The signature itself is still intact: only the coverage check catches this.
    assert result.checks[0].status == "ok"


def test_untrusted_root_fails_trust(signed_report: Path, tmp_path: Path) -> None:
    other: SigningKey = generate_self_signed("Someone else", key_size=2048)
    root = tmp_path / "other.pem"
    root.write_bytes(other.cert_pem())
    result = runner.invoke(app, ["verify", str(signed_report), "--trust-root", str(root)])
    assert result.exit_code == 1
    failed = _failed(result.output.splitlines())
    assert len(failed) == 1
    assert failed[0].startswith("FAIL trust: the signer Common Name: Test auditor (SHA-256 ")
    assert "does not chain to the trusted root Common Name: Someone else" in failed[0]


def test_changed_data_file_fails_its_hash(
    signed_report: Path, data_dir: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "data"
    shutil.copytree(data_dir, changed)
    with open(changed / "eval.csv", "a", encoding="utf-8") as fh:
        fh.write("no,Male,26+\n")
    result = runner.invoke(app, ["verify", str(signed_report), "--data-dir", str(changed)])
    assert result.exit_code == 1
    failed = _failed(result.output.splitlines())
    assert len(failed) == 1
    assert failed[0].startswith("FAIL input eval.csv (evaluation): SHA-256 differs")


def test_missing_data_file_fails(signed_report: Path, data_dir: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(data_dir / "eval.csv", partial / "eval.csv")
    result = verify_report(signed_report, data_dir=partial)
    assert [c.name for c in result.failed()] == ["input model.txt (model)"]


def test_unsigned_pdf_and_non_pdf_fail(assessment_file: Path, tmp_path: Path) -> None:
    from compliance.assessment import load_assessment
    from reports import render_pdf

    pdf, _ = render_pdf(load_assessment(assessment_file))
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(pdf)
    result = verify_report(unsigned)
    assert [c.name for c in result.failed()] == ["signatures"]
    not_pdf = runner.invoke(app, ["verify", str(assessment_file)])
    assert not_pdf.exit_code == 2  # bad input, as documented
    assert "a JSON file, not a PDF" in not_pdf.output


def test_bad_arguments_exit_2(signed_report: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 2
    bad_root = tmp_path / "root.pem"
    bad_root.write_text("not a certificate", encoding="utf-8")
    result = runner.invoke(app, ["verify", str(signed_report), "--trust-root", str(bad_root)])
    assert result.exit_code == 2
    assert "trust-root" in result.output


def _contents_hex(data: bytes) -> tuple[int, int]:
    """Start and end offsets of the hex digits of the last signature's /Contents <...>."""
    start = data.rindex(b"/Contents <") + len(b"/Contents <")
    return start, data.index(b">", start)


def _with_hex_digit_changed(src: Path, pos: int, out: Path) -> Path:
    data = bytearray(src.read_bytes())
    data[pos] = ord("1") if data[pos] != ord("1") else ord("2")
    out.write_bytes(bytes(data))
    return out


def test_corrupted_signature_der_fails_without_a_traceback(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    start, _ = _contents_hex(signed_report.read_bytes())
    # "30 82 LL LL ...": a changed length digit makes the CMS structure unreadable
    bad = _with_hex_digit_changed(signed_report, start + 4, tmp_path / "corrupt.pdf")
    result = verify_report(bad)
    assert [c.name for c in result.failed()] == ["signature"]
    _, cert = key_files
    cli = runner.invoke(app, ["verify", str(bad), "--trust-root", str(cert)])
    assert cli.exit_code == 1, cli.output
    assert isinstance(cli.exception, SystemExit)  # not a parser exception escaping
    lines = cli.output.splitlines()
    assert _failed(lines) == [
        next(x for x in lines if x.startswith("FAIL signature: the signature cannot be read"))
    ]
    assert "(corrupted): Insufficient data" in _failed(lines)[0]
    assert "SKIP trust: not checked: the signature is invalid" in lines
    assert f"NOT VERIFIED: {bad}: 1 check(s) failed" in lines
    assert "Traceback" not in cli.output


def test_error_outside_the_parsers_is_not_hidden(
    signed_report: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyhanko.sign.validation

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug, not a corrupted file")

    monkeypatch.setattr(pyhanko.sign.validation, "validate_pdf_signature", broken)
    with pytest.raises(KeyError, match="a bug"):
        verify_report(signed_report)


def test_changed_signature_padding_fails(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    start, end = _contents_hex(signed_report.read_bytes())
    digits = signed_report.read_bytes()[start:end]
    assert digits.endswith(b"0" * 64)  # the placeholder is padded with zeros
    bad = _with_hex_digit_changed(signed_report, end - 10, tmp_path / "padding.pdf")
    _, cert = key_files
    cli = runner.invoke(app, ["verify", str(bad), "--trust-root", str(cert)])
    assert cli.exit_code == 1, cli.output
    lines = cli.output.splitlines()
    assert _failed(lines) == [
        "FAIL signature 1 padding: the zero padding after the signature in /Contents was "
        "changed after signing"
    ]
    # the CMS signature itself is untouched: only the padding check catches this
    assert any(x.startswith("OK   signature 1 of 1") for x in lines)


def test_tampered_file_does_not_blame_the_trust_root(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    data = bytearray(signed_report.read_bytes())
    data[len(data) // 3] ^= 0x01
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    _, cert = key_files  # the real signer's certificate
    cli = runner.invoke(app, ["verify", str(bad), "--trust-root", str(cert)])
    assert cli.exit_code == 1, cli.output
    lines = cli.output.splitlines()
    failed = _failed(lines)
    assert len(failed) == 1
    assert failed[0].startswith("FAIL signature 1 of 1") and "NOT intact" in failed[0]
    assert "SKIP trust: not checked: the signature is invalid" in lines
    assert not any(x.startswith("OK   signer:") for x in lines)


def test_without_trust_root_only_integrity_is_shown_and_exit_is_1(signed_report: Path) -> None:
    result = verify_report(signed_report)
    assert result.ok and not result.signer_trusted
    cli = runner.invoke(app, ["verify", str(signed_report)])
    assert cli.exit_code == 1, cli.output
    lines = cli.output.splitlines()
    assert not _failed(lines)
    assert "SKIP trust: not checked; give --trust-root CERT to check the signer" in lines
    assert lines[-1] == (
        "INTEGRITY ONLY: the signature is intact, but the signer was not checked against a "
        "trusted root (pass --trust-root CERT.pem)"
    )
    assert not any(x.startswith(("VERIFIED", "NOT VERIFIED")) for x in lines)


def test_a_parser_error_ending_in_the_standard_library_is_the_files_fault() -> None:
    """pyHanko parsing with json or struct underneath: the innermost frame is the standard
    library's, but the parser called it, so the file is at fault (a FAIL line, not a
    traceback); an error raised in this project's code is a bug and stays one."""
    from reports._verify import _raised_by_parser

    def raised(module: str) -> BaseException:
        scope: dict[str, object] = {"__name__": module}
        exec("import json\ndef parse():\n    json.loads('{')\n", scope)
        try:
            scope["parse"]()  # type: ignore[operator]
        except ValueError as exc:
            return exc
        raise AssertionError("no error")

    assert _raised_by_parser(raised("pyhanko.pdf_utils.fake"))
    assert not _raised_by_parser(raised("reports._fake"))
