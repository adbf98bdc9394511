"""The outputs step: the signed report and the submission pack, written into `out_dir`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compliance.assessment import Assessment
    from compliance.progress import Progress
    from compliance.spec import AssessSpec
    from reports import SigningKey

REPORT_NAME = "report.pdf"
PACK_NAME = "submission-pack.zip"
DEMO_KEY_NAME = "demo-signing-key.pem"
DEMO_CERT_NAME = "demo-signing-cert.pem"
PASSWORD_ENV = "COMPLIANCE_KEY_PASSWORD"


def signing_key(sign_key: Path | None, out_dir: Path, progress: Progress) -> SigningKey:
    """The user's key, or a fresh self-signed demo key saved in `out_dir` (and said so)."""
    from reports import generate_self_signed, load_signing_key

    if sign_key is not None:
        return load_signing_key(sign_key, password=os.environ.get(PASSWORD_ENV))
    with progress.step(
        f"No --sign-key: made a self-signed demo key ({DEMO_KEY_NAME}, {DEMO_CERT_NAME}); "
        "the report says it proves integrity, not identity"
    ):
        key = generate_self_signed("Compliance demo signer")
        key.write_pem(out_dir / DEMO_KEY_NAME)
        (out_dir / DEMO_CERT_NAME).write_bytes(key.cert_pem())
    return key


def run(assessment: Assessment, spec: AssessSpec, out_dir: Path, progress: Progress) -> None:
    """Write report.pdf and/or submission-pack.zip beside assessment.json in `out_dir`."""
    from reports import build_pack, build_report

    key = signing_key(spec.sign_key, out_dir, progress)
    json_path = out_dir / "assessment.json"
    text = json_path.read_text(encoding="utf-8") if json_path.is_file() else assessment.to_json()
    report_path: Path | None = None
    if spec.report or spec.pack:
        report_path = out_dir / REPORT_NAME
        with progress.step("Rendering and signing the PDF/A-3b report"):
            build_report(assessment, report_path, key=key, assessment_json=text)
    if spec.pack:
        with progress.step("Writing the regulator submission pack"):
            build_pack(
                assessment,
                out_dir / PACK_NAME,
                key=key,
                assessment_json=text,
                report_pdf=report_path,
                attestations=spec.attestations,
            )
        if not spec.report and report_path is not None:
            report_path.unlink()
