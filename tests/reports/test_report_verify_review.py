"""Ways to fool `compliance verify` found in review: each file here is built by a third
party or a careless signer, and each must fail with its own reason (or be bad input)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms, core, parser
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from compliance.cli import app
from compliance.errors import InputError
from reports import SigningKey, generate_self_signed, sign_pdf, verify_report
from reports._verify import VerificationResult, extract_attachment

runner = CliRunner()
NOW = dt.datetime.now(dt.UTC)


def _key(
    cn: str,
    *,
    start: float = -1,
    end: float = 30,
    usage: str = "sign",
    ca: bool = False,
    issuer: SigningKey | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    bits: int = 2048,
) -> SigningKey:
    """An RSA key and certificate valid from `start` to `end` days from now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ku = {
        "sign": (True, True, False),
        "encrypt": (False, False, False),
        "ca": (True, True, True),
    }[usage]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=start))
        .not_valid_after(NOW + dt.timedelta(days=end))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                ku[0], ku[1], usage == "encrypt", False, False, ku[2], ku[2], False, False
            ),
            critical=True,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return SigningKey(key=key, cert=cert, chain=(issuer.cert,) if issuer else ())


def _pem(key: SigningKey, path: Path) -> Path:
    path.write_bytes(key.cert_pem())
    return path


def _pyhanko_sign(pdf: bytes, key: SigningKey, field: str = "AuditorSignature", **kw: Any) -> bytes:
    """Sign with pyHanko directly: sign_pdf refuses the unusable keys these tests need."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from reports._sign import pyhanko_signer

    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    out = BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf), strict=False),
        meta,
        signer=pyhanko_signer(key),
        output=out,
        **kw,
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def unsigned_pdf(signed_report: Path) -> bytes:
    """The rendered report before its signature: the revision the signature was added to."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = signed_report.read_bytes()
    (sig,) = PdfFileReader(BytesIO(data), strict=False).embedded_signatures
    end = data.rindex(b"%%EOF", 0, int(sig.byte_range[1])) + len(b"%%EOF")
    return data[:end] + b"\n"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    out = tmp_path / name
    out.write_bytes(data)
    return out


def _status(result: VerificationResult, name: str) -> str:
    return next(c.status for c in result.checks if c.name == name)


def _detail(result: VerificationResult, name: str) -> str:
    return next(c.detail for c in result.checks if c.name == name)


def _tsa(cn: str = "Test TSA") -> SigningKey:
    return _key(cn, start=-3650, end=30, eku=[ExtendedKeyUsageOID.TIME_STAMPING])


def _stamper(tsa: SigningKey, when: dt.datetime | None = None) -> Any:
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    der = tsa.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der),
        fixed_dt=when,
    )


def _edit_cms(pdf: bytes, edit: Any) -> bytes:
    """Rewrite the last signature's CMS in place (a third party's edit: /Contents is not
    signed); `edit` changes the parsed ContentInfo."""
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    end = pdf.index(b">", start)
    raw = bytes.fromhex(pdf[start:end].decode())
    _, _, _, header, body, trailer = parser.parse(raw, strict=False)
    info = cms.ContentInfo.load(raw[: len(header) + len(body) + len(trailer)])
    edit(info)
    new = info.dump(force=True).hex().upper().encode()
    assert len(new) <= end - start
    return pdf[:start] + new + b"0" * (end - start - len(new)) + pdf[end:]


# 1. timestamps


def test_timestamp_injected_by_a_third_party_is_not_evidence(
    unsigned_pdf: bytes, signing_key: SigningKey, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """A backdated token from a self-made TSA, added to the unsigned attributes of a genuine
    report, verified as 'intact and valid' (review finding 1). The signature's placeholder
    leaves room for it (the demo's 3072-bit key leaves 2.7 KB)."""
    stamper = _stamper(_tsa("Totally Real TSA"), dt.datetime(2020, 1, 1, tzinfo=dt.UTC))

    def inject(info: cms.ContentInfo) -> None:
        signer_info = info["content"]["signer_infos"][0]
        imprint = hashlib.sha256(signer_info["signature"].native).digest()
        token = asyncio.run(stamper.async_timestamp(imprint, "sha256"))
        signer_info["unsigned_attrs"] = cms.CMSAttributes(
            [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})]
        )

    genuine = _pyhanko_sign(unsigned_pdf, signing_key, bytes_reserved=8192)
    assert verify_report(_write(tmp_path, "genuine.pdf", genuine)).ok
    bad = _write(tmp_path, "inject.pdf", _edit_cms(genuine, inject))
    _, cert = key_files
    cli = runner.invoke(app, ["verify", str(bad), "--trust-root", str(cert)])
    assert cli.exit_code == 1, cli.output
    line = next(x for x in cli.output.splitlines() if " timestamp 1:" in x)
    assert line.startswith("FAIL") and "predates the signer's certificate" in line
    assert "Totally Real TSA" in line


def test_a_timestamp_counts_only_when_its_tsa_chains_to_tsa_root(
    unsigned_pdf: bytes, signing_key: SigningKey, tmp_path: Path
) -> None:
    tsa = _tsa()
    pdf = _write(tmp_path, "bt.pdf", sign_pdf(unsigned_pdf, signing_key, timestamper=_stamper(tsa)))
    plain = verify_report(pdf)
    assert _status(plain, "timestamp 1") == "skip"
    assert "no evidence of the signing time" in _detail(plain, "timestamp 1")
    trusted = verify_report(pdf, tsa_root=_pem(tsa, tmp_path / "tsa.pem"))
    assert _status(trusted, "timestamp 1") == "ok", trusted.lines()
    other = verify_report(pdf, tsa_root=_pem(_tsa("Other TSA"), tmp_path / "other.pem"))
    assert _status(other, "timestamp 1") == "fail"
    assert "does not chain to --tsa-root" in _detail(other, "timestamp 1")


def test_a_timestamp_before_the_signing_time_fails(unsigned_pdf: bytes, tmp_path: Path) -> None:
    """A signer's own fake TSA, dated after its certificate starts but before it signed."""
    signer = _key("Backdating signer", start=-10)
    stamped = _pyhanko_sign(
        unsigned_pdf, signer, timestamper=_stamper(_tsa(), NOW - dt.timedelta(days=2))
    )
    tsa_root = _pem(_tsa("Unrelated TSA"), tmp_path / "tsa.pem")
    result = verify_report(_write(tmp_path, "early.pdf", stamped), tsa_root=tsa_root)
    assert _status(result, "timestamp 1") == "fail"
    assert "earlier than the signing time the signer claims" in _detail(result, "timestamp 1")


@pytest.mark.parametrize("edit", ["attribute", "certificate", "hex case"])
def test_changes_to_the_unsigned_signature_container_fail(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path, edit: str
) -> None:
    data = signed_report.read_bytes()
    if edit == "attribute":

        def add(info: cms.ContentInfo) -> None:
            info["content"]["signer_infos"][0]["unsigned_attrs"] = cms.CMSAttributes(
                [cms.CMSAttribute({"type": "1.2.3.4.5", "values": [core.OctetString(b"pay")]})]
            )

        data = _edit_cms(data, add)
    elif edit == "certificate":
        junk = asn1_x509.Certificate.load(
            _key("Junk", bits=1024).cert.public_bytes(serialization.Encoding.DER)
        )

        def add(info: cms.ContentInfo) -> None:
            certs = info["content"]["certificates"]
            info["content"]["certificates"] = cms.CertificateSet([*certs, junk])

        data = _edit_cms(data, add)
    else:
        start = data.rindex(b"/Contents <") + len(b"/Contents <")
        pos = next(i for i in range(start, start + 400) if data[i : i + 1] in b"ABCDEF")
        data = data[:pos] + data[pos : pos + 1].lower() + data[pos + 1 :]
    bad = _write(tmp_path, "container.pdf", data)
    _, cert = key_files
    result = verify_report(bad, trust_root=cert)
    assert not result.ok
    assert [c.name for c in result.failed()] == ["signature 1 container"]
    # what the file shows is not vouched for once it failed
    assert _status(result, "attachment") == "skip"


# 2. certificate validity and key usage


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ({"start": -10, "end": -1}, "expired on"),
        ({"start": 5, "end": 30}, "not valid until"),
        ({"usage": "encrypt"}, "key usage does not allow signing"),
    ],
)
def test_unusable_self_signed_signer_fails_with_the_reason(
    unsigned_pdf: bytes, tmp_path: Path, kind: dict[str, Any], expected: str
) -> None:
    signer = _key("Careless signer", **kind)
    pdf = _write(tmp_path, "r.pdf", _pyhanko_sign(unsigned_pdf, signer))
    root = _pem(signer, tmp_path / "root.pem")
    cli = runner.invoke(app, ["verify", str(pdf), "--trust-root", str(root)])
    assert cli.exit_code == 1, cli.output
    lines = cli.output.splitlines()
    cert_line = next(x for x in lines if x.startswith("FAIL certificate:"))
    assert expected in cert_line
    assert "SKIP trust: not checked: the signer's certificate cannot sign" in lines
    assert not any("does not chain" in x for x in lines)
    with pytest.raises(InputError, match=expected):
        sign_pdf(unsigned_pdf, signer)


def test_report_refuses_an_expired_key_before_rendering(
    assessment_file: Path, tmp_path: Path
) -> None:
    expired = _key("Expired", start=-10, end=-1)
    expired.write_pem(tmp_path / "k.pem")
    out = tmp_path / "r.pdf"
    cli = runner.invoke(
        app, ["report", str(assessment_file), "--out", str(out), "--key", str(tmp_path / "k.pem")]
    )
    assert cli.exit_code == 2
    assert "expired on" in cli.output and not out.exists()


# 3. a later revision that changes what an earlier signer signed


def _replace_attachment(pdf: bytes, new: bytes) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    spec_ref = writer.root["/Names"]["/EmbeddedFiles"]["/Names"].raw_get(1)
    spec = spec_ref.get_object()
    stream = generic.StreamObject({generic.pdf_name("/Type"): generic.pdf_name("/EmbeddedFile")})
    stream._data = new  # an unencoded stream
    spec["/EF"]["/F"] = writer.add_object(stream)
    writer.mark_update(spec_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_changed_attachment_then_countersigned_fails(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    original = json.loads(extract_attachment(signed_report.read_bytes()) or b"{}")
    original["policy"]["verdict"] = "pass"
    changed = _replace_attachment(signed_report.read_bytes(), json.dumps(original).encode())
    mallory = generate_self_signed("Mallory", key_size=2048)
    bad = _write(tmp_path, "m.pdf", _pyhanko_sign(changed, mallory, "Countersignature"))
    _, cert = key_files
    bundle = tmp_path / "both.pem"
    bundle.write_bytes(cert.read_bytes() + mallory.cert_pem())
    result = verify_report(bad, trust_root=bundle)
    assert [c.name for c in result.failed()] == ["changes after signature 1"]
    assert "was changed by a later revision" in result.failed()[0].detail
    assert _status(result, "attachment") == "skip"


def test_a_countersignature_alone_verifies_with_a_bundle(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    counter = generate_self_signed("Countersigner", key_size=2048)
    both = _write(tmp_path, "c.pdf", _pyhanko_sign(signed_report.read_bytes(), counter, "Co"))
    _, cert = key_files
    bundle = tmp_path / "both.pem"
    bundle.write_bytes(counter.cert_pem() + cert.read_bytes())
    result = verify_report(both, trust_root=bundle)
    assert result.ok and result.signer_trusted, result.lines()
    assert _status(result, "changes after signature 1") == "ok"
    assert "certificate 2 of 2 in --trust-root" in _detail(result, "trust 1")
    assert "certificate 1 of 2 in --trust-root" in _detail(result, "trust 2")


# 4. a cycle in the embedded-files name tree


@pytest.mark.timeout(60)
def test_a_cyclic_name_tree_fails_promptly(
    signed_report: Path, assessment: Any, signing_key: SigningKey, tmp_path: Path
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from reports import build_pack

    writer = IncrementalPdfFileWriter(BytesIO(signed_report.read_bytes()), strict=False)
    ref = writer.root["/Names"].raw_get("/EmbeddedFiles")
    ref.get_object()["/Kids"] = generic.ArrayObject([ref, ref])
    writer.mark_update(ref)
    out = BytesIO()
    writer.write(out)
    bad = _write(tmp_path, "cycle.pdf", out.getvalue())
    result = verify_report(bad)
    assert "twice (a cycle)" in _detail(result, "attachment")
    with pytest.raises(InputError, match="does not verify"):
        build_pack(assessment, tmp_path / "p.zip", key=signing_key, report_pdf=bad)


# 6. keys that can issue certificates, fingerprints


def test_keygen_certificates_cannot_issue(unsigned_pdf: bytes, tmp_path: Path) -> None:
    root = generate_self_signed("Demo signer", key_size=2048)
    bc = root.cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    ku = root.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert not bc.ca and not ku.key_cert_sign
    leaf = _key("Monetary Authority - Supervisor", issuer=root)
    pdf = _write(tmp_path, "leaf.pdf", sign_pdf(unsigned_pdf, leaf))
    result = verify_report(pdf, trust_root=_pem(root, tmp_path / "root.pem"))
    assert _status(result, "trust") == "fail"
    assert "is not a CA certificate" in _detail(result, "trust")


def test_a_real_ca_chain_verifies_and_fingerprints_are_shown(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=365)
    leaf = _key("Auditor", issuer=ca)
    pdf = _write(tmp_path, "leaf.pdf", sign_pdf(unsigned_pdf, leaf))
    result = verify_report(pdf, trust_root=_pem(ca, tmp_path / "ca.pem"))
    assert result.ok and result.signer_trusted, result.lines()
    fp = leaf.fingerprint
    assert fp in _detail(result, "certificate")
    assert ca.fingerprint in _detail(result, "trust")


# 7. bad input and crashes


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b'{"a": 1}', "a JSON file, not a PDF"),
        (b"PK\x03\x04rest", "a zip archive"),
        (b"hello", "not a PDF"),
    ],
)
def test_non_pdf_input_is_bad_input(tmp_path: Path, content: bytes, expected: str) -> None:
    path = _write(tmp_path, "in.pdf", content)
    with pytest.raises(InputError, match=expected):
        verify_report(path)
    if not content.startswith(b"PK"):  # the command checks a zip as a pack
        cli = runner.invoke(app, ["verify", str(path)])
        assert cli.exit_code == 2 and expected in cli.output


def test_a_directory_or_device_is_not_a_regular_file(
    signed_report: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    for target in (tmp_path, Path("/dev/null")):
        cli = runner.invoke(app, ["verify", str(target)])
        assert cli.exit_code == 2 and "not a regular file" in cli.output
    key, _ = key_files
    cli = runner.invoke(app, ["verify", str(signed_report), "--trust-root", str(key)])
    assert cli.exit_code == 2
    assert "holds a private key, not a certificate" in cli.output


def test_not_verified_names_the_file(signed_report: Path, tmp_path: Path) -> None:
    data = bytearray(signed_report.read_bytes())
    data[len(data) // 3] ^= 0x01
    bad = _write(tmp_path, "named.pdf", bytes(data))
    cli = runner.invoke(app, ["verify", str(bad)])
    assert f"NOT VERIFIED: {bad}: " in cli.output


@pytest.mark.parametrize(
    ("attachment", "expected"),
    [
        (b"[" * 100_000, "not valid JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"inputs": [1, "x"]}', "malformed entry"),
        (b'{"inputs": "abc"}', "is not a list"),
    ],
)
def test_hostile_attachments_fail_without_a_traceback(
    signed_report: Path, data_dir: Path, tmp_path: Path, attachment: bytes, expected: str
) -> None:
    bad = _write(tmp_path, "a.pdf", _replace_attachment(signed_report.read_bytes(), attachment))
    result = verify_report(bad, data_dir=data_dir)
    assert not result.ok
    assert any(expected in c.detail for c in result.failed()), result.lines()


def test_an_unknown_certificate_algorithm_fails_without_a_traceback(
    signed_report: Path, tmp_path: Path
) -> None:
    from asn1crypto import algos

    from reports._verify import certificate_check

    cert = asn1_x509.Certificate.load(
        generate_self_signed("Weird", key_size=2048).cert.public_bytes(serialization.Encoding.DER)
    )
    odd = algos.SignedDigestAlgorithm({"algorithm": "1.2.3.4"})
    tbs = cert["tbs_certificate"]
    tbs["signature"] = odd
    weird = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": odd, "signature_value": b"\x00"}
    )
    weird = asn1_x509.Certificate.load(weird.dump(force=True))
    check = certificate_check("certificate", weird)
    assert check.status == "fail" and "cannot be read" in check.detail


# 8. inputs that share a name


def test_inputs_sharing_a_name_are_found_by_their_recorded_folders(tmp_path: Path) -> None:
    from reports._verify import _input_checks

    data = tmp_path / "data"
    for folder, text in (("eval", "a"), ("members", "b")):
        (data / folder).mkdir(parents=True)
        (data / folder / "data.csv").write_text(text, encoding="utf-8")
    assessment = {
        "inputs": [
            {
                "path": f"/home/me/run/{folder}/data.csv",
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "role": folder,
            }
            for folder, text in (("eval", "a"), ("members", "b"))
        ]
    }
    checks = _input_checks(assessment, data)
    assert [c.status for c in checks] == ["ok", "ok"], checks
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "data.csv").write_text("a", encoding="utf-8")
    checks = _input_checks(assessment, flat)
    assert [c.status for c in checks] == ["ok", "fail"]
    assert "2 inputs are named data.csv" in checks[1].detail
    assert "SHA-256 differs" not in checks[1].detail


def test_a_timestamp_root_that_is_not_a_ca_vouches_for_no_other_tsa(
    unsigned_pdf: bytes, signing_key: SigningKey, tmp_path: Path
) -> None:
    """A leaf certificate given as --tsa-root vouched for any TSA it had 'issued' (pyHanko
    lets any anchor issue); the signer's roots were already held to CA:TRUE."""
    leaf = _tsa("Leaf TSA")  # CA:FALSE
    issued = _key(
        "Issued TSA", start=-3650, end=30, issuer=leaf, eku=[ExtendedKeyUsageOID.TIME_STAMPING]
    )
    pdf = _write(
        tmp_path, "ts.pdf", sign_pdf(unsigned_pdf, signing_key, timestamper=_stamper(issued))
    )
    result = verify_report(pdf, tsa_root=_pem(leaf, tmp_path / "leaf.pem"))
    assert _status(result, "timestamp 1") == "fail", result.lines()
    assert "is not a CA certificate" in _detail(result, "timestamp 1")


# 9. a certificate that expired after it signed


def _years_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Verify as if 400 days had passed: the signers' 30-day certificates have expired."""
    import reports._verify as verify

    monkeypatch.setattr(verify, "_now", lambda: NOW + dt.timedelta(days=400))


@pytest.mark.parametrize("chain", ["ca", "self-signed"])
def test_an_expired_certificate_passes_when_a_trusted_timestamp_proves_when_it_signed(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chain: str
) -> None:
    """A report signed with a timestamp must still verify after the signer's certificate
    expires, against the TSA's root: it failed 'cannot sign now: expired' (and pyHanko's
    path validation said OUT_OF_BOUNDS_NO_POE), so every report failed a year on."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca) if chain == "ca" else _key("Auditor")
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "bt.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    root = _pem(ca if chain == "ca" else signer, tmp_path / "root.pem")
    tsa_root = _pem(tsa, tmp_path / "tsa.pem")
    assert verify_report(pdf, trust_root=root, tsa_root=tsa_root).ok
    _years_later(monkeypatch)
    later = verify_report(pdf, trust_root=root, tsa_root=tsa_root)
    assert later.ok and later.signer_trusted, later.lines()
    assert "trusted timestamp proves the signature was made" in _detail(later, "certificate")
    if chain == "ca":
        assert "at the timestamp's time" in _detail(later, "trust")
    # without the TSA's root the timestamp proves nothing, and the expiry fails
    unproven = verify_report(pdf, trust_root=root)
    assert _status(unproven, "certificate") == "fail"
    detail = _detail(unproven, "certificate")
    assert "expired on" in detail and "proves that only with --tsa-root" in detail


def test_an_expired_certificate_without_a_timestamp_fails_and_says_why(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    pdf = _write(tmp_path, "bb.pdf", sign_pdf(unsigned_pdf, signer))
    root = _pem(ca, tmp_path / "ca.pem")
    assert verify_report(pdf, trust_root=root).ok
    _years_later(monkeypatch)
    later = verify_report(pdf, trust_root=root)
    assert not later.ok
    detail = _detail(later, "certificate")
    assert "cannot sign now: expired on" in detail and "no timestamp proves it" in detail


def test_a_timestamped_pack_verifies_after_the_certificate_expires(
    assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pack's manifest signature carries its own timestamp (the report's proves nothing
    of when the manifest was signed): with --tsa-root the pack verifies a year on, and
    `openssl cms -verify` still accepts the manifest."""
    import shutil
    import subprocess
    import zipfile

    from reports import build_pack
    from reports._pack import verify_pack

    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pack = build_pack(assessment, tmp_path / "p.zip", key=signer, timestamper=_stamper(tsa)).path
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "tsa.pem")
    now = verify_pack(pack, trust_root=root, tsa_root=tsa_root)
    assert now.ok and _status(now, "timestamp (manifest)") == "ok", now.lines()
    _years_later(monkeypatch)
    later = verify_pack(pack, trust_root=root, tsa_root=tsa_root)
    assert later.ok, later.lines()
    assert "trusted timestamp proves" in _detail(later, "certificate (manifest)")
    assert "at the timestamp's time" in _detail(later, "trust (manifest)")
    unproven = verify_pack(pack, trust_root=root)
    assert _status(unproven, "certificate (manifest)") == "fail"
    assert _status(unproven, "report certificate") == "fail"
    openssl = shutil.which("openssl")
    if openssl is not None:
        with zipfile.ZipFile(pack) as zf:
            zf.extractall(tmp_path / "x")
        x = tmp_path / "x"
        cmd = [
            openssl, "cms", "-verify", "-binary", "-inform", "DER",
            "-in", str(x / "manifest.json.p7s"), "-content", str(x / "manifest.json"),
            "-CAfile", str(root), "-purpose", "any", "-out", "/dev/null",
        ]  # fmt: skip
        ok = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert ok.returncode == 0, ok.stderr


# 10. revocation against CRLs given with --crl


def _crl(
    ca: SigningKey,
    revoked: list[SigningKey],
    *,
    fresh: bool = True,
    at: dt.datetime | None = None,
    issued: dt.datetime | None = None,
) -> bytes:
    """A CRL signed by `ca` revoking `revoked` at `at` (an hour ago); stale when not `fresh`."""
    issued = issued or NOW - dt.timedelta(days=1 if fresh else 30)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(issued)
        .next_update(issued + dt.timedelta(days=7))
    )
    for key in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(key.cert.serial_number)
            .revocation_date(at or NOW - dt.timedelta(hours=1))
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_revocation_is_checked_against_the_crls_given(unsigned_pdf: bytes, tmp_path: Path) -> None:
    """Without --crl nothing is checked for revocation; with it a revoked signer fails, and
    a signer no given CRL speaks for is not taken as unrevoked."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer, other = _key("Auditor", issuer=ca), _key("Other", issuer=ca)
    pdf = _write(tmp_path, "leaf.pdf", sign_pdf(unsigned_pdf, signer))
    root = _pem(ca, tmp_path / "ca.pem")
    clean = _write(tmp_path, "clean.crl", _crl(ca, [other]))
    revoked = _write(tmp_path, "revoked.crl", _crl(ca, [signer]))
    stale = _write(tmp_path, "stale.crl", _crl(ca, [], fresh=False))
    unrelated_ca = _key("Other CA", usage="ca", ca=True, start=-30, end=3650)
    unrelated = _write(tmp_path, "unrelated.crl", _crl(unrelated_ca, []))

    assert verify_report(pdf, trust_root=root, crl=[revoked]).ok is False
    ok = verify_report(pdf, trust_root=root, crl=[clean])
    assert ok.ok, ok.lines()
    assert _detail(ok, "trust").endswith("not revoked in the 1 CRL(s) from its issuers")
    bad = verify_report(pdf, trust_root=root, crl=[revoked])
    assert _status(bad, "trust") == "fail"
    assert "the signer's certificate was revoked on" in _detail(bad, "trust")
    for crl in (stale, unrelated):
        gap = verify_report(pdf, trust_root=root, crl=[crl])
        assert _status(gap, "trust") == "fail", (crl.name, gap.lines())
        assert "no current CRL from its issuer" in _detail(gap, "trust")
    cli = runner.invoke(app, ["verify", str(pdf), "--trust-root", str(root), "--crl", str(revoked)])
    assert cli.exit_code == 1 and "was revoked on" in cli.output


def test_an_unreadable_crl_is_bad_input(signed_report: Path, tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.crl", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
    cli = runner.invoke(app, ["verify", str(signed_report), "--crl", str(bad)])
    assert cli.exit_code == 2, cli.output
    assert "bad.crl" in cli.output and "crl" in cli.output
    assert "not a readable certificate revocation list" in cli.output
    assert "Traceback" not in cli.output


def test_a_signer_revoked_after_a_trusted_timestamp_is_judged_at_that_time(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed and timestamped now, revoked in an hour, checked in two: the trusted timestamp
    proves the signature came before the revocation."""
    import reports._verify as verify

    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "bt.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    hour = dt.timedelta(hours=1)
    revoked = _write(
        tmp_path, "revoked.crl", _crl(ca, [signer], at=NOW + hour, issued=NOW + 1.5 * hour)
    )
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "tsa.pem")
    monkeypatch.setattr(verify, "_now", lambda: NOW + 2 * hour)
    result = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[revoked])
    assert result.ok, result.lines()
    assert "was revoked on" in _detail(result, "trust")
    assert "after the trusted timestamp" in _detail(result, "trust")
    unproven = verify_report(pdf, trust_root=root, crl=[revoked])
    assert _status(unproven, "trust") == "fail"
    assert "no trusted timestamp proves the signature was made before" in _detail(unproven, "trust")
    # revoked before it signed: the timestamp does not help
    early = _write(tmp_path, "early.crl", _crl(ca, [signer], issued=NOW + 1.5 * hour))
    late = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[early])
    assert _status(late, "trust") == "fail"
    assert "is not before it" in _detail(late, "trust")


# 11. revocation and expiry judged at the proven signing time (review of sections 9, 10)


def _later(monkeypatch: pytest.MonkeyPatch, delta: dt.timedelta) -> dt.datetime:
    import reports._verify as verify

    when = NOW + delta
    monkeypatch.setattr(verify, "_now", lambda: when)
    return when


def test_a_signature_made_after_revocation_fails_whatever_older_crls_are_given(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key revoked an hour before a forger signs (with a genuine timestamp); checked 400
    days on, when the certificate has expired. A clean CRL from before the signing made
    it verify beside the current CRL that lists the revocation (pyHanko, asked about the
    signing time, took only CRLs issued before it)."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer, other = _key("Auditor", issuer=ca), _key("Other", issuer=ca)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "forged.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "tsa.pem")
    later = NOW + dt.timedelta(days=400)
    day = dt.timedelta(days=1)
    old = _write(tmp_path, "old.crl", _crl(ca, [other], issued=NOW - day))
    listed = _crl(ca, [signer], at=NOW - dt.timedelta(hours=1), issued=later - day)
    cur = _write(tmp_path, "cur.crl", listed)
    soon = _write(
        tmp_path, "soon.crl", _crl(ca, [signer], at=NOW - dt.timedelta(hours=1), issued=NOW + day)
    )
    cur_clean = _write(tmp_path, "clean.crl", _crl(ca, [other], issued=later - day))
    revoked_since = _write(
        tmp_path, "since.crl", _crl(ca, [signer], at=NOW + 10 * day, issued=later - day)
    )
    _later(monkeypatch, dt.timedelta(days=400))
    for crls in ([old, cur], [old, soon, cur], [cur]):
        r = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=crls)
        assert _status(r, "trust") == "fail", ([c.name for c in crls], r.lines())
        assert "is not before it" in _detail(r, "trust")
    # honest files: a current clean CRL, or one revoking the key after the signing, pass
    for crl in (cur_clean, revoked_since):
        ok = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[crl])
        assert ok.ok, ok.lines()
    assert "after the trusted timestamp" in _detail(
        verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[revoked_since]), "trust"
    )
    # a CRL from before the signing alone cannot speak for the signing time
    alone = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[old])
    assert _status(alone, "trust") == "fail"


def test_a_revocation_after_the_timestamp_does_not_skip_the_rest_of_the_path(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leaf with an unknown critical extension fails path validation; revoked after the
    timestamp, it verified: the revocation made it trusted without the other checks."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Odd")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
            critical=True,
        )
        .sign(ca.key, hashes.SHA256())
    )
    signer = SigningKey(key=key, cert=cert, chain=(ca.cert,))
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(
        tmp_path, "odd.pdf", _pyhanko_sign(unsigned_pdf, signer, timestamper=_stamper(tsa))
    )
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "tsa.pem")
    hour = dt.timedelta(hours=1)
    revoked = _write(
        tmp_path, "revoked.crl", _crl(ca, [signer], at=NOW + hour, issued=NOW + 1.5 * hour)
    )
    _later(monkeypatch, 2 * hour)
    r = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[revoked])
    assert _status(r, "trust") == "fail", r.lines()


def _three_level(
    unsigned_pdf: bytes, tmp_path: Path, *, inter_days: int = 3650, leaf_days: int = 30
) -> tuple[SigningKey, SigningKey, SigningKey, Path]:
    """Root CA > intermediate CA > signer, signed now with a timestamp from a TSA valid
    for ten years: (root, intermediate, TSA, the signed PDF)."""
    root = _key("Root CA", usage="ca", ca=True, start=-30, end=3650)
    inter = _key("Inter CA", usage="ca", ca=True, start=-30, end=inter_days, issuer=root)
    leaf = _key("Auditor", issuer=inter, end=leaf_days)
    signer = SigningKey(key=leaf.key, cert=leaf.cert, chain=(inter.cert, root.cert))
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "ca.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    return root, inter, tsa, pdf


def test_an_issuing_ca_revoked_after_the_timestamp_passes_and_says_so(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyHanko says REVOKED_CA_NO_POE; it failed with 'the timestamp is not before it',
    though it was."""
    root, inter, tsa, pdf = _three_level(unsigned_pdf, tmp_path)
    hour = dt.timedelta(hours=1)
    crls = [
        _write(tmp_path, "root.crl", _crl(root, [inter], at=NOW + hour, issued=NOW + 1.5 * hour)),
        _write(tmp_path, "inter.crl", _crl(inter, [], issued=NOW + 1.5 * hour)),
    ]
    _later(monkeypatch, 2 * hour)
    root_pem, tsa_root = _pem(root, tmp_path / "root.pem"), _pem(tsa, tmp_path / "tsa.pem")
    r = verify_report(pdf, trust_root=root_pem, tsa_root=tsa_root, crl=crls)
    assert r.ok, r.lines()
    assert "an issuing CA's certificate was revoked on" in _detail(r, "trust")
    assert "after the trusted timestamp" in _detail(r, "trust")
    unproven = verify_report(pdf, trust_root=root_pem, crl=crls)
    assert _status(unproven, "trust") == "fail"


def test_an_expired_intermediate_passes_with_a_trusted_timestamp(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the signer's own expiry sent the chain back to the signing time."""
    root, _, tsa, pdf = _three_level(unsigned_pdf, tmp_path, inter_days=10, leaf_days=365)
    root_pem, tsa_root = _pem(root, tmp_path / "root.pem"), _pem(tsa, tmp_path / "tsa.pem")
    _later(monkeypatch, dt.timedelta(days=30))
    r = verify_report(pdf, trust_root=root_pem, tsa_root=tsa_root)
    assert r.ok, r.lines()
    assert "at the timestamp's time" in _detail(r, "trust")
    assert _status(verify_report(pdf, trust_root=root_pem), "trust") == "fail"


def test_a_timestamp_dated_outside_its_tsa_certificate_fails(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TSA certified yesterday vouched for a token dated 400 days ago, which then 'proved'
    a long-expired certificate signed in time."""
    import pyhanko.sign.signers.pdf_signer as pdf_signer
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from reports._sign import pyhanko_signer

    ca = _key("Audit CA", usage="ca", ca=True, start=-1000, end=3650)
    signer = _key("Auditor", issuer=ca, start=-500, end=-300)
    tsa = _key("New TSA", start=-1, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    back = NOW - dt.timedelta(days=400)

    class Back(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return back

    monkeypatch.setattr(pdf_signer, "datetime", Back)  # the signer claims the same time
    meta = signers.PdfSignatureMetadata(
        field_name="AuditorSignature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    out = BytesIO()
    signers.PdfSigner(meta, pyhanko_signer(signer), timestamper=_stamper(tsa, back)).sign_pdf(
        IncrementalPdfFileWriter(BytesIO(unsigned_pdf), strict=False), output=out
    )
    monkeypatch.undo()
    pdf = _write(tmp_path, "backdated.pdf", out.getvalue())
    r = verify_report(
        pdf, trust_root=_pem(ca, tmp_path / "ca.pem"), tsa_root=_pem(tsa, tmp_path / "t.pem")
    )
    assert not r.ok
    assert _status(r, "timestamp 1") == "fail"
    assert "outside the TSA certificate's validity" in _detail(r, "timestamp 1")


def test_with_crls_the_timestamp_authority_needs_one_too(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    """--crl held the signer's chain to 'require' but the TSA's to soft-fail: a revoked TSA
    key went unseen unless its CRL happened to be given."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    tsa_ca = _key("TSA CA", usage="ca", ca=True, start=-3650, end=3650)
    tsa = _key(
        "Issued TSA", start=-3650, end=3650, issuer=tsa_ca, eku=[ExtendedKeyUsageOID.TIME_STAMPING]
    )
    signer = _key("Auditor", issuer=ca)
    pdf = _write(tmp_path, "bt.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa_ca, tmp_path / "tsa-ca.pem")
    signer_crl = _write(tmp_path, "ca.crl", _crl(ca, []))
    tsa_clean = _write(tmp_path, "tsa-clean.crl", _crl(tsa_ca, []))
    tsa_revoked = _write(tmp_path, "tsa-revoked.crl", _crl(tsa_ca, [tsa]))
    both = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[signer_crl, tsa_clean])
    assert both.ok, both.lines()
    only_signer = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[signer_crl])
    assert _status(only_signer, "timestamp 1") == "fail"
    assert "no current CRL from its issuer" in _detail(only_signer, "timestamp 1")
    revoked = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[signer_crl, tsa_revoked])
    assert _status(revoked, "timestamp 1") == "fail"


# 12. second review: CRLs issued before the signing, a future timestamp, invalidity dates


def _crl_at(
    ca: SigningKey,
    entries: list[tuple[SigningKey, dt.datetime]],
    *,
    issued: dt.datetime,
    invalid_since: dt.datetime | None = None,
) -> bytes:
    """A CRL by `ca` issued at `issued`, revoking each key at its date (with a key
    compromise invalidity date when `invalid_since` is given)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(issued)
        .next_update(issued + dt.timedelta(days=7))
    )
    for key, at in entries:
        entry = x509.RevokedCertificateBuilder().serial_number(key.cert.serial_number)
        entry = entry.revocation_date(at)
        if invalid_since is not None:
            entry = entry.add_extension(
                x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False
            ).add_extension(x509.InvalidityDate(invalid_since.replace(tzinfo=None)), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_a_revocation_only_an_older_crl_lists_still_fails(
    unsigned_pdf: bytes, assessment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Revoked 2 hours before a forger signs; a CA drops the entry once the certificate
    has expired, so a year on only the CRL from before the signing lists it. Judged at the
    timestamp's time with only later CRLs, the report and the pack read VERIFIED."""
    from reports import build_pack
    from reports._pack import verify_pack

    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "forged.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    pack = build_pack(assessment, tmp_path / "p.zip", key=signer, timestamper=_stamper(tsa)).path
    hour, later = dt.timedelta(hours=1), NOW + dt.timedelta(days=400)
    crls = [
        _write(tmp_path, "old.crl", _crl_at(ca, [(signer, NOW - 2 * hour)], issued=NOW - hour)),
        _write(tmp_path, "new.crl", _crl_at(ca, [], issued=later - dt.timedelta(days=1))),
    ]
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "tsa.pem")
    _later(monkeypatch, dt.timedelta(days=400))
    r = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=crls)
    assert _status(r, "trust") == "fail", r.lines()
    assert "the signer's certificate was revoked on" in _detail(r, "trust")
    assert "is not before it" in _detail(r, "trust")
    p = verify_pack(pack, trust_root=root, tsa_root=tsa_root, crl=crls)
    assert _status(p, "trust (manifest)") == "fail" and _status(p, "report trust") == "fail"


def test_an_issuing_ca_revoked_before_the_signing_fails_though_later_crls_drop_it(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, inter, tsa, pdf = _three_level(unsigned_pdf, tmp_path, inter_days=60)
    hour, later = dt.timedelta(hours=1), NOW + dt.timedelta(days=400)
    crls = [
        _write(
            tmp_path, "root-old.crl", _crl_at(root, [(inter, NOW - 2 * hour)], issued=NOW - hour)
        ),
        _write(tmp_path, "root-new.crl", _crl_at(root, [], issued=later - dt.timedelta(days=1))),
        _write(tmp_path, "inter.crl", _crl_at(inter, [], issued=NOW + hour)),
    ]
    _later(monkeypatch, dt.timedelta(days=400))
    root_pem, tsa_root = _pem(root, tmp_path / "root.pem"), _pem(tsa, tmp_path / "tsa.pem")
    r = verify_report(pdf, trust_root=root_pem, tsa_root=tsa_root, crl=crls)
    assert _status(r, "trust") == "fail", r.lines()
    assert "an issuing CA's certificate was revoked on" in _detail(r, "trust")


def test_a_crl_signed_by_another_key_is_no_evidence_of_revocation(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    """The CRL scan reads only CRLs the issuer's key verifies: a home-made one naming the
    CA cannot put a revocation into the line."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    fake = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    pdf = _write(tmp_path, "s.pdf", sign_pdf(unsigned_pdf, signer))
    crls = [
        _write(tmp_path, "real.crl", _crl(ca, [])),
        _write(
            tmp_path, "fake.crl", _crl_at(fake, [(signer, NOW - dt.timedelta(days=2))], issued=NOW)
        ),
    ]
    r = verify_report(pdf, trust_root=_pem(ca, tmp_path / "ca.pem"), crl=crls)
    assert r.ok, r.lines()
    assert "revoked on" not in _detail(r, "trust")


def test_a_key_compromised_before_the_signing_fails_though_revoked_after(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRL entry's invalidity date says when the key was compromised: before the
    signing, so the timestamp proves nothing for it."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "f.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    hour = dt.timedelta(hours=1)
    crl = _crl_at(ca, [(signer, NOW + hour)], issued=NOW + 1.5 * hour, invalid_since=NOW - 5 * hour)
    c = _write(tmp_path, "kc.crl", crl)
    _later(monkeypatch, 2 * hour)
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "t.pem")
    r = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[c])
    assert _status(r, "trust") == "fail", r.lines()
    assert "reason: keyCompromise" in _detail(r, "trust")


def test_a_future_timestamp_proves_nothing(unsigned_pdf: bytes, tmp_path: Path) -> None:
    """A token dated 10 days ahead made a certificate valid only from 5 days ahead read
    'no longer valid now, but a trusted timestamp proves ...'."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca, start=5, end=30)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    stamper = _stamper(tsa, NOW + dt.timedelta(days=10))
    pdf = _write(tmp_path, "fut.pdf", _pyhanko_sign(unsigned_pdf, signer, timestamper=stamper))
    r = verify_report(
        pdf, trust_root=_pem(ca, tmp_path / "ca.pem"), tsa_root=_pem(tsa, tmp_path / "t.pem")
    )
    assert not r.ok
    assert "dated in the future" in _detail(r, "timestamp 1")
    assert "not valid until" in _detail(r, "certificate")


# 13. third review: stale CRLs, holds, delta and indirect CRLs, odd entries


def _sign_tbs(ca: SigningKey, tbs: Any) -> bytes:
    """Sign an asn1crypto TbsCertList with the CA key (sha256WithRSA) -> PEM CRL."""
    from asn1crypto import crl as acrl
    from asn1crypto import pem as apem
    from cryptography.hazmat.primitives.asymmetric import padding

    sig = ca.key.sign(tbs.dump(force=True), padding.PKCS1v15(), hashes.SHA256())
    cl = acrl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": sig,
        }
    )
    return apem.armor("X509 CRL", cl.dump())


def _asn1_crl(pem: bytes) -> Any:
    from asn1crypto import crl as acrl
    from asn1crypto import pem as apem

    return acrl.CertificateList.load(apem.unarmor(pem)[2])


def test_a_stale_crl_fails_with_a_timestamp_as_without(
    unsigned_pdf: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unexpired signer, trusted timestamp, only a stale CRL (issued after the signing,
    next update passed). Without a timestamp it fails 'no current CRL'."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca, end=60)
    tsa = _key("Long TSA", start=-3650, end=3650, eku=[ExtendedKeyUsageOID.TIME_STAMPING])
    pdf = _write(tmp_path, "s.pdf", sign_pdf(unsigned_pdf, signer, timestamper=_stamper(tsa)))
    nots = _write(tmp_path, "n.pdf", sign_pdf(unsigned_pdf, signer))
    stale = _write(tmp_path, "stale.crl", _crl_at(ca, [], issued=NOW + dt.timedelta(hours=1)))
    root, tsa_root = _pem(ca, tmp_path / "ca.pem"), _pem(tsa, tmp_path / "t.pem")
    _later(monkeypatch, dt.timedelta(days=20))
    r = verify_report(pdf, trust_root=root, tsa_root=tsa_root, crl=[stale])
    n = verify_report(nots, trust_root=root, crl=[stale])
    assert not r.ok and not n.ok  # it read VERIFIED with the timestamp
    assert "no current CRL from its issuer" in _detail(r, "trust")


def _entry(
    serial: int, at: dt.datetime, *extensions: tuple[x509.ExtensionType, bool]
) -> x509.RevokedCertificate:
    """A CRL entry revoking `serial` at `at`, with (extension, critical) pairs."""
    entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at)
    for ext, critical in extensions:
        entry = entry.add_extension(ext, critical=critical)
    return entry.build()


def _signed_crl(
    ca: SigningKey,
    *,
    issued: dt.datetime,
    until: dt.datetime,
    entries: tuple[x509.RevokedCertificate, ...] = (),
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> bytes:
    """A PEM CRL by `ca` with the given entries and CRL extensions."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(issued)
        .next_update(until)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    for entry in entries:
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def test_a_lifted_hold_in_an_older_crl_does_not_fail_the_signature(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    """Put on hold 10 days ago, released 5 days ago (later CRLs drop it); signs now.
    Verifier gives the old CRL with the hold and the current clean one."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca, start=-20)
    pdf = _write(tmp_path, "s.pdf", sign_pdf(unsigned_pdf, signer))
    day = dt.timedelta(days=1)
    hold = (x509.CRLReason(x509.ReasonFlags.certificate_hold), False)
    held = _signed_crl(
        ca,
        issued=NOW - 9 * day,
        until=NOW - 2 * day,
        entries=(_entry(signer.cert.serial_number, NOW - 10 * day, hold),),
    )
    crls = [_write(tmp_path, "held.crl", held), _write(tmp_path, "cur.crl", _crl(ca, []))]
    root = _pem(ca, tmp_path / "ca.pem")
    assert verify_report(pdf, trust_root=root, crl=crls[1:]).ok
    r = verify_report(pdf, trust_root=root, crl=crls)
    assert r.ok, r.lines()


def test_a_delta_crl_removing_a_hold_is_not_a_revocation(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    """A current base CRL that is clean and a delta CRL whose entry for the signer says
    removeFromCRL (hold released): the signer is not revoked."""
    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    pdf = _write(tmp_path, "s.pdf", sign_pdf(unsigned_pdf, signer))
    hour = dt.timedelta(hours=1)
    base = _signed_crl(
        ca,
        issued=NOW - 2 * hour,
        until=NOW + 7 * 24 * hour,
        extensions=((x509.CRLNumber(10), False),),
    )
    removed = (x509.CRLReason(x509.ReasonFlags.remove_from_crl), False)
    delta = _signed_crl(
        ca,
        issued=NOW - hour,
        until=NOW + 24 * hour,
        entries=(_entry(signer.cert.serial_number, NOW - 3 * hour, removed),),
        extensions=((x509.CRLNumber(11), False), (x509.DeltaCRLIndicator(10), True)),
    )
    crls = [_write(tmp_path, "base.crl", base), _write(tmp_path, "delta.crl", delta)]
    root = _pem(ca, tmp_path / "ca.pem")
    r = verify_report(pdf, trust_root=root, crl=crls)
    assert r.ok, r.lines()


def test_an_indirect_crl_entry_for_another_issuer_is_not_the_signers(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    """Audit CA issues an indirect CRL that also covers Other CA; it lists Other CA's
    certificate with serial S (certificateIssuer = Other CA). The signer, issued by Audit
    CA, happens to have the same serial S (small sequential serials)."""
    from cryptography.x509.oid import NameOID as N

    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(N.COMMON_NAME, "Auditor")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca.key, hashes.SHA256())
    )
    signer = SigningKey(key=key, cert=cert, chain=(ca.cert,))
    pdf = _write(tmp_path, "s.pdf", sign_pdf(unsigned_pdf, signer))
    other = x509.Name([x509.NameAttribute(N.COMMON_NAME, "Other CA")])
    entry = _entry(
        7, NOW - dt.timedelta(days=2), (x509.CertificateIssuer([x509.DirectoryName(other)]), True)
    )
    idp = x509.IssuingDistributionPoint(
        full_name=None,
        relative_name=None,
        only_contains_user_certs=False,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=True,
        only_contains_attribute_certs=False,
    )
    ind = _signed_crl(
        ca,
        issued=NOW - dt.timedelta(hours=1),
        until=NOW + dt.timedelta(days=7),
        entries=(entry,),
        extensions=((idp, True),),
    )
    crls = [_write(tmp_path, "ind.crl", ind), _write(tmp_path, "cur.crl", _crl(ca, []))]
    root = _pem(ca, tmp_path / "ca.pem")
    r = verify_report(pdf, trust_root=root, crl=crls)
    assert r.ok, r.lines()


def test_a_crl_entry_with_unreadable_extensions_fails_without_raising(
    unsigned_pdf: bytes, tmp_path: Path
) -> None:
    """A CA-signed CRL whose entry for the signer carries its reason twice: cryptography
    raised DuplicateExtension out of verify (a traceback). Listed, it fails, and no
    timestamp could excuse it: its date is unknown."""
    from asn1crypto import crl as acrl

    ca = _key("Audit CA", usage="ca", ca=True, start=-30, end=3650)
    signer = _key("Auditor", issuer=ca)
    pdf = _write(tmp_path, "s.pdf", sign_pdf(unsigned_pdf, signer))
    base = _asn1_crl(_crl(ca, [signer]))
    tbs = base["tbs_cert_list"]
    reason = {"extn_id": "crl_reason", "critical": False, "extn_value": "key_compromise"}
    exts = [reason, reason]
    rc = acrl.RevokedCertificate(
        {
            "user_certificate": signer.cert.serial_number,
            "revocation_date": tbs["revoked_certificates"][0]["revocation_date"],
            "crl_entry_extensions": exts,
        }
    )
    new = acrl.TbsCertList(
        {
            "version": "v2",
            "signature": tbs["signature"],
            "issuer": tbs["issuer"],
            "this_update": tbs["this_update"],
            "next_update": tbs["next_update"],
            "revoked_certificates": [rc],
        }
    )
    pem = _sign_tbs(ca, new)
    c = _write(tmp_path, "odd.crl", pem)
    r = verify_report(pdf, trust_root=_pem(ca, tmp_path / "ca.pem"), crl=[c])
    assert not r.ok
    assert "extensions cannot be read" in _detail(r, "trust")
