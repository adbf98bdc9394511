"""Signing keys: load a PKCS#12 or PEM key with its certificate, or make a self-signed one.

Only RSA keys are accepted: pyHanko signs with ECDSA too, but an ECDSA signature moves the
file to PDF 2.0, which takes it out of PDF/A-3.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from compliance.errors import InputError

__all__ = [
    "SigningKey",
    "check_signing_key",
    "generate_self_signed",
    "is_self_signed",
    "load_signing_key",
    "signing_cert_problems",
]

DEMO_NOTICE = (
    "signed with a self-signed key: the signature proves the file is unchanged since "
    "signing, not who signed it"
)


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key, its certificate and any intermediate certificates."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def self_signed(self) -> bool:
        return is_self_signed(self.cert)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the certificate, colon-separated hex pairs."""
        return self.cert.fingerprint(hashes.SHA256()).hex(":").upper()

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def to_pem(self) -> bytes:
        """The unencrypted private key followed by the certificate chain, as one PEM file."""
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certs = b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (self.cert, *self.chain)
        )
        return key + certs

    def write_pem(self, path: Path) -> None:
        """Write key and certificate to `path`, readable by the owner only."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.to_pem())


def is_self_signed(cert: x509.Certificate) -> bool:
    """True when the certificate's issuer is its subject and its own key signed it."""
    if cert.issuer != cert.subject:
        return False
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or cert.signature_hash_algorithm is None:
        return False
    try:
        public.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            cert.signature_hash_algorithm,
        )
    except Exception:  # a bad signature, or an algorithm cryptography does not know
        return False
    return True


def signing_cert_problems(cert: x509.Certificate, at: dt.datetime | None = None) -> list[str]:
    """Why `cert` cannot sign documents at `at` (default now): its validity period, or a key
    usage without digitalSignature/nonRepudiation. Empty when it can."""
    at = at or dt.datetime.now(dt.UTC)
    problems = []
    if at < cert.not_valid_before_utc:
        problems.append(f"not valid until {cert.not_valid_before_utc:%Y-%m-%d %H:%M UTC}")
    if at > cert.not_valid_after_utc:
        problems.append(f"expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M UTC}")
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        problems.append("no key usage extension (digitalSignature or nonRepudiation needed)")
    else:
        if not (ku.digital_signature or ku.content_commitment):
            problems.append("its key usage does not allow signing (digitalSignature or "
                            "nonRepudiation needed)")  # fmt: skip
    return problems


def check_signing_key(key: SigningKey) -> None:
    """Refuse to sign with a certificate that verification would refuse."""
    problems = signing_cert_problems(key.cert)
    if problems:
        raise InputError(
            f"the signing certificate ({key.subject}) cannot sign: " + "; ".join(problems),
            field="key",
            hint="use a current certificate made for signing, e.g. from `compliance keygen`",
        )


def generate_self_signed(
    common_name: str = "Compliance demo signer",
    *,
    organization: str | None = None,
    days: int = 365,
    key_size: int = 3072,
) -> SigningKey:
    """A fresh RSA key with a self-signed certificate fit for document and CMS signing.

    The certificate is not a CA (basicConstraints CA:FALSE, no keyCertSign): its key cannot
    issue certificates that would chain to it under another name.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attrs)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key=key, cert=cert)


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise InputError("no such file", path=path, field=what)
    return path.read_bytes()


def load_signing_key(
    path: str | Path, *, cert: str | Path | None = None, password: str | None = None
) -> SigningKey:
    """Load an RSA key and its certificate from a PKCS#12 file or PEM file(s).

    A PEM file may hold the key and the certificate together; otherwise pass `cert`.
    """
    p = Path(path)
    data = _read(p, "key")
    pw = password.encode() if password else None
    certs: list[x509.Certificate] = []
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=pw)
        except TypeError as exc:
            raise InputError(
                "the key is encrypted; give its password", path=p, field="key",
                hint="set the password in the environment variable named by --password-env",
            ) from exc  # fmt: skip
        except ValueError as exc:
            raise InputError(f"no readable PEM private key ({exc})", path=p, field="key") from exc
        if b"CERTIFICATE-----" in data:
            certs.extend(x509.load_pem_x509_certificates(data))
    else:
        try:
            key_any, first, extra = pkcs12.load_key_and_certificates(data, pw)
        except ValueError as exc:
            raise InputError(
                f"neither a PEM key nor a readable PKCS#12 file, or a wrong password ({exc})",
                path=p,
                field="key",
            ) from exc
        if key_any is None:
            raise InputError("the PKCS#12 file holds no private key", path=p, field="key")
        key = key_any
        if first is not None:
            certs.append(first)
        certs.extend(extra)
    if cert is not None:
        cp = Path(cert)
        cdata = _read(cp, "cert")
        try:
            if b"-----BEGIN" in cdata:
                certs = list(x509.load_pem_x509_certificates(cdata)) + certs
            else:
                certs = [x509.load_der_x509_certificate(cdata), *certs]
        except ValueError as exc:
            raise InputError(f"not a readable certificate ({exc})", path=cp, field="cert") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(
            f"the key is {type(key).__name__.lstrip('_')}, not RSA; an ECDSA signature moves "
            "the PDF to version 2.0 and out of PDF/A-3",
            path=p,
            field="key",
            hint="make an RSA key, e.g. `compliance keygen`",
        )
    pub = key.public_key().public_numbers()
    leaf = next(
        (
            c
            for c in certs
            if isinstance(c.public_key(), rsa.RSAPublicKey)
            and c.public_key().public_numbers() == pub  # type: ignore[union-attr]
        ),
        None,
    )
    if leaf is None:
        raise InputError(
            "no certificate matches the private key",
            path=p,
            field="cert",
            hint="give the certificate with --cert, or keep it in the same PEM or PKCS#12 file",
        )
    chain = tuple(c for c in certs if c is not leaf)
    return SigningKey(key=key, cert=leaf, chain=chain)
