"""The PDF is PDF/A-3b and carries assessment.json, byte for byte, as a Data attachment."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from reports import extract_attachment


def test_attachment_equals_the_assessment_json(signed_report: Path, assessment_file: Path) -> None:
    attached = extract_attachment(signed_report.read_bytes())
    assert attached is not None
    assert attached == assessment_file.read_bytes()


def test_pdfa3b_identification_and_af_relationship(signed_report: Path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(signed_report.read_bytes()))
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")\s*3", xmp)
    assert re.search(r"pdfaid:conformance(>|=\")\s*B", xmp)
    af = reader.root["/AF"]
    specs = [ref.get_object() for ref in af]
    names = {str(s["/F"]): str(s["/AFRelationship"]) for s in specs}
    assert names == {"assessment.json": "/Data"}
    # The signature keeps the PDF version PDF/A-3 allows (RSA; ECDSA would make it 2.0).
    assert signed_report.read_bytes()[:8] in (b"%PDF-1.7", b"%PDF-1.6", b"%PDF-1.4")
