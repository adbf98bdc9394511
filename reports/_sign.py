"""PAdES signing of a report PDF with pyHanko (B-B, or B-T with an RFC 3161 timestamp)."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization

from compliance.errors import ComplianceError
from reports._sync import outside_event_loop

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.timestamps.api import TimeStamper

    from reports._keys import SigningKey

__all__ = ["SigningError", "pyhanko_signer", "sign_pdf"]

SIGNATURE_FIELD = "AuditorSignature"


class SigningError(ComplianceError):
    """The PDF could not be signed (for example, the timestamp server did not answer)."""


def pyhanko_signer(key: SigningKey) -> SimpleSigner:
    """A pyHanko signer for `key` (the conversion goes through DER, no files)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der_key = key.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    certs = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in (key.cert, *key.chain)
    ]
    # pyHanko embeds the signing certificate itself; a second copy from the registry would
    # sit in the signature unsigned, and edits to it would go unnoticed by verification
    others = [c for c in certs[1:] if c.dump() != certs[0].dump()]
    return SimpleSigner(
        signing_cert=certs[0],
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs(others),  # type: ignore[no-untyped-call]
    )


def sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    reason: str = "Compliance assessment report",
    tsa_url: str | None = None,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """Sign `pdf` (PAdES B-B; B-T when `tsa_url` or `timestamper` is given); return the bytes.

    The signature is added as an incremental update covering the whole file. A certificate
    that is expired, not yet valid or not meant for signing is refused (InputError):
    verification would refuse the report.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from reports._keys import check_signing_key

    check_signing_key(key)

    if timestamper is None and tsa_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(tsa_url, timeout=20)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        reason=reason,
        name=key.cert.subject.rfc4514_string(),
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    out = BytesIO()
    try:
        signer = pyhanko_signer(key)
        outside_event_loop(
            lambda: signers.sign_pdf(
                writer, meta, signer=signer, timestamper=timestamper, output=out
            )
        )
    except Exception as exc:  # pyHanko and aiohttp raise many kinds
        where = f" (timestamp server {tsa_url})" if tsa_url else ""
        raise SigningError(
            f"signing failed{where}: {type(exc).__name__}: {exc}",
            hint="check --tsa-url and the network" if tsa_url else None,
        ) from exc
    return out.getvalue()
