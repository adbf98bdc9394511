"""Rendering: the view model → HTML (Jinja) → PDF/A-3b with assessment.json attached → signed."""

from __future__ import annotations

import gc
import time
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.assessment import Assessment
from reports._context import SignerInfo, build_context

if TYPE_CHECKING:
    from pyhanko.sign.timestamps.api import TimeStamper

    from reports._keys import SigningKey

__all__ = ["ReportResult", "build_report", "render_html", "render_pdf", "signer_info"]

ATTACHMENT_NAME = "assessment.json"


@dataclass(frozen=True)
class ReportResult:
    """A written report: where, how large, how long it took, and who signed it."""

    path: Path
    bytes: int
    pages: int
    render_seconds: float
    sign_seconds: float
    signer: SignerInfo | None


def signer_info(key: SigningKey | None, *, timestamped: bool = False) -> SignerInfo | None:
    if key is None:
        return None
    return SignerInfo(
        subject=key.subject,
        fingerprint=key.fingerprint,
        self_signed=key.self_signed,
        timestamped=timestamped,
    )


def _template_text(name: str) -> str:
    return (resources.files("reports") / "templates" / name).read_text(encoding="utf-8")


def render_html(
    assessment: Assessment, *, assessment_json: str | None = None, signer: SignerInfo | None = None
) -> str:
    """The report as one HTML document (CSS inlined, charts as data URIs)."""
    from jinja2 import Environment, StrictUndefined

    text = assessment.to_json() if assessment_json is None else assessment_json
    env = Environment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    template = env.from_string(_template_text("report.html.j2"))
    ctx = build_context(assessment, assessment_json=text, signer=signer)
    return template.render(css=_template_text("report.css"), **ctx)


def _weasyprint() -> tuple[Any, Any]:
    """Import weasyprint, silencing its import-time notice that HarfBuzz-Subset is missing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML, Attachment
    return HTML, Attachment


def render_pdf(
    assessment: Assessment, *, assessment_json: str | None = None, signer: SignerInfo | None = None
) -> tuple[bytes, int]:
    """The unsigned PDF/A-3b (with assessment.json attached as Data) and its page count."""
    HTML, Attachment = _weasyprint()
    text = assessment.to_json() if assessment_json is None else assessment_json
    html = render_html(assessment, assessment_json=text, signer=signer)
    attachment = Attachment(
        string=text,
        name=ATTACHMENT_NAME,
        description="The complete evidence of this assessment (JSON)",
        relationship="Data",
    )
    # weasyprint 70 leaves its sRGB profile file open until the document is collected;
    # collect it here, where that ResourceWarning is known and expected.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ResourceWarning)
        document = HTML(string=html, base_url=".").render()
        pages = len(document.pages)
        pdf = document.write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment])
        del document
        gc.collect()
    assert pdf is not None
    return pdf, pages


def build_report(
    assessment: Assessment,
    out: str | Path,
    *,
    key: SigningKey | None,
    assessment_json: str | None = None,
    tsa_url: str | None = None,
    timestamper: TimeStamper | None = None,
) -> ReportResult:
    """Render, sign (when `key` is given) and write the report to `out` atomically."""
    from reports._sign import sign_pdf

    out = Path(out)
    timestamped = bool(tsa_url or timestamper)
    info = signer_info(key, timestamped=timestamped)
    start = time.perf_counter()
    pdf, pages = render_pdf(assessment, assessment_json=assessment_json, signer=info)
    rendered = time.perf_counter()
    if key is not None:
        pdf = sign_pdf(pdf, key, tsa_url=tsa_url, timestamper=timestamper)
    signed = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(pdf)
    tmp.replace(out)
    return ReportResult(
        path=out,
        bytes=len(pdf),
        pages=pages,
        render_seconds=rendered - start,
        sign_seconds=signed - rendered,
        signer=info,
    )
