"""Signing and verifying work inside a running event loop (as in a Jupyter notebook)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from compliance.assessment import Assessment
from reports import SigningKey, render_pdf, sign_pdf, verify_report


def test_sign_and_verify_inside_a_running_loop(
    assessment: Assessment, signing_key: SigningKey, tmp_path: Path
) -> None:
    async def main() -> bool:
        pdf, _ = render_pdf(assessment)
        out = tmp_path / "loop.pdf"
        out.write_bytes(sign_pdf(pdf, signing_key))
        return verify_report(out).ok

    assert asyncio.run(main())
