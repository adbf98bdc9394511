"""Reports: the signed auditor report, its verification, and the regulator submission pack.

Everything here reads a saved Assessment; nothing needs the model. Heavy libraries
(weasyprint, matplotlib, pyHanko) are imported only when a function needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reports._context import fairness_statements
    from reports._keys import SigningKey, generate_self_signed, is_self_signed, load_signing_key
    from reports._pack import PackResult, build_pack, pack_tables, sign_manifest, verify_pack
    from reports._render import ReportResult, build_report, render_html, render_pdf
    from reports._sign import SigningError, sign_pdf
    from reports._verify import Check, VerificationResult, extract_attachment, verify_report

# Loaded on first use: the gate imports reports._format only, and must stay light.
_WHERE = {
    "Check": "reports._verify",
    "PackResult": "reports._pack",
    "ReportResult": "reports._render",
    "SigningError": "reports._sign",
    "SigningKey": "reports._keys",
    "VerificationResult": "reports._verify",
    "build_pack": "reports._pack",
    "build_report": "reports._render",
    "extract_attachment": "reports._verify",
    "fairness_statements": "reports._context",
    "generate_self_signed": "reports._keys",
    "is_self_signed": "reports._keys",
    "load_signing_key": "reports._keys",
    "pack_tables": "reports._pack",
    "render_html": "reports._render",
    "render_pdf": "reports._render",
    "sign_manifest": "reports._pack",
    "sign_pdf": "reports._sign",
    "verify_pack": "reports._pack",
    "verify_report": "reports._verify",
}

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


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
