"""Reports: the signed auditor report, its verification, and the regulator submission pack.

Everything here reads a saved Assessment; nothing needs the model. Heavy libraries
(weasyprint, matplotlib, pyHanko) are imported only when a function needs them.
"""

from reports._context import fairness_statements
from reports._keys import SigningKey, generate_self_signed, is_self_signed, load_signing_key
from reports._pack import PackResult, build_pack, pack_tables, sign_manifest, verify_pack
from reports._render import ReportResult, build_report, render_html, render_pdf
from reports._sign import SigningError, sign_pdf
from reports._verify import Check, VerificationResult, extract_attachment, verify_report

__all__ = [
    "Check",
    "PackResult",
    "ReportResult",
    "SigningError",
    "SigningKey",
    "VerificationResult",
    "build_pack",
    "build_report",
    "extract_attachment",
    "fairness_statements",
    "generate_self_signed",
    "is_self_signed",
    "load_signing_key",
    "pack_tables",
    "render_html",
    "render_pdf",
    "sign_manifest",
    "sign_pdf",
    "verify_pack",
    "verify_report",
]
