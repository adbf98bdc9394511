"""Signing keys: PEM and PKCS#12, with and without a password; ECDSA refused; B-T timestamps."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from compliance.assessment import Assessment
from compliance.errors import InputError
from reports import SigningKey, build_report, load_signing_key, verify_report


def test_pem_with_key_and_cert_in_one_file(
    key_files: tuple[Path, Path], signing_key: SigningKey
) -> None:
    key, _ = key_files
    loaded = load_signing_key(key)
    assert loaded.fingerprint == signing_key.fingerprint
    assert loaded.self_signed


def test_pem_key_with_separate_cert(
    signing_key: SigningKey, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, cert = key_files
    only_key = tmp_path / "only-key.pem"
    only_key.write_bytes(
        signing_key.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    with pytest.raises(InputError, match="encrypted"):
        load_signing_key(only_key, cert=cert)
    with pytest.raises(InputError, match="no certificate matches"):
        load_signing_key(only_key, password="s3cret")
    loaded = load_signing_key(only_key, cert=cert, password="s3cret")
    assert loaded.fingerprint == signing_key.fingerprint


def test_pkcs12(signing_key: SigningKey, tmp_path: Path) -> None:
    p12 = tmp_path / "key.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"signer",
            signing_key.key,
            signing_key.cert,
            None,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    assert load_signing_key(p12, password="pw").fingerprint == signing_key.fingerprint
    with pytest.raises(InputError, match="PKCS#12"):
        load_signing_key(p12, password="wrong")


def test_ecdsa_key_is_refused_with_the_reason(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InputError, match="PDF/A-3"):
        load_signing_key(path)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_signing_key(tmp_path / "absent.pem")


def test_timestamped_signature_b_t(
    assessment: Assessment, signing_key: SigningKey, tmp_path: Path
) -> None:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    from reports import generate_self_signed

    tsa = generate_self_signed("Test TSA", key_size=2048)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    out = tmp_path / "bt.pdf"
    result = build_report(assessment, out, key=signing_key, timestamper=stamper)
    assert result.signer is not None and result.signer.timestamped
    checked = verify_report(out)
    assert checked.ok, checked.lines()
    # without --tsa-root a timestamp is shown, never as OK: anyone can make one
    (line,) = [c for c in checked.checks if c.name == "timestamp 1"]
    assert line.status == "skip" and "give --tsa-root" in line.detail


def test_the_signer_certificate_is_embedded_once(signed_report: Path) -> None:
    """A second, unsigned copy of the signer's certificate in the CMS would let its bytes be
    edited without verification noticing (found by flipping every signature byte)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with signed_report.open("rb") as fh:
        (sig,) = PdfFileReader(fh).embedded_signatures
        signed_data = sig.signed_data
        signer = sig.signer_cert
        copies = [c for c in signed_data["certificates"] if c.chosen.dump() == signer.dump()]
    assert len(copies) == 1
