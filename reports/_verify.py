"""Verification of a signed report: signatures, coverage, trust, attachment and input hashes.

Each check gives one line; the report verifies only when no check fails.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from compliance.errors import InputError
from reports._sync import outside_event_loop

__all__ = [
    "Check",
    "VerificationResult",
    "extract_attachment",
    "report_signer_pem",
    "verify_report",
]

ATTACHMENT_NAME = "assessment.json"

CheckStatus = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    """One verification check: its name, outcome and a line of detail."""

    name: str
    status: CheckStatus
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<4} {self.name}: {self.detail}"


@dataclass(frozen=True)
class VerificationResult:
    """All checks of one verification; `ok` when none failed."""

    path: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.status != "fail" for c in self.checks)

    @property
    def signer_trusted(self) -> bool:
        """True when the signer was checked against a trust root and chains to it."""
        return any(c.name == "trust" and c.status == "ok" for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]


def _load_cert(path: Path) -> Any:
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    if not path.is_file():
        raise InputError("no such file", path=path, field="trust-root")
    data = path.read_bytes()
    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data, multiple=False)
        cert = asn1_x509.Certificate.load(data)
        cert.native  # noqa: B018 - forces a full parse, so a bad file fails here
    except Exception as exc:
        raise InputError(
            f"not a readable certificate ({exc})", path=path, field="trust-root"
        ) from exc
    return cert


def _embedded_files(reader: Any) -> dict[str, bytes]:
    """Every embedded file of the document's name tree, by name."""
    out: dict[str, bytes] = {}
    root = reader.root
    try:
        names = root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        return out
    stack = [names]
    while stack:
        node = stack.pop()
        if "/Kids" in node:
            stack.extend(k.get_object() for k in node["/Kids"])
        if "/Names" in node:
            arr = node["/Names"]
            for i in range(0, len(arr) - 1, 2):
                spec = arr[i + 1].get_object()
                name = str(spec.get("/UF", spec.get("/F", arr[i])))
                stream = spec["/EF"].get("/UF", spec["/EF"].get("/F")).get_object()
                out[name] = stream.data
    return out


def extract_attachment(pdf: bytes, name: str = ATTACHMENT_NAME) -> bytes | None:
    """The bytes of the embedded file `name`, or None when the PDF has none by that name."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    return _embedded_files(reader).get(name)


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs each failed trust path with a traceback; the Check lines say it instead."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def report_signer_pem(pdf: bytes) -> bytes | None:
    """The PEM certificate of the last signature's signer, or None when unsigned."""
    from asn1crypto import pem
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        sigs = PdfFileReader(BytesIO(pdf), strict=False).embedded_signatures
    except Exception:  # an unreadable file has no signer to report
        return None
    if not sigs:
        return None
    return bytes(pem.armor("CERTIFICATE", sigs[-1].signer_cert.dump()))


_PARSER_PACKAGES = frozenset({"asn1crypto", "pyhanko", "pyhanko_certvalidator"})


_OUR_PACKAGES = frozenset({"compliance", "reports", "attacks", "policies"})


def _raised_by_parser(exc: BaseException) -> bool:
    """True when `exc` was raised inside pyHanko or asn1crypto, i.e. they could not read the
    file's data; an error raised in this project's code is a bug and must not be hidden."""
    modules: list[str] = []
    tb = exc.__traceback__
    while tb is not None:
        modules.append(str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0])
        tb = tb.tb_next
    # the innermost frame of either side decides: a parser calling into the standard
    # library (json, struct, ...) still failed on the file's data
    for top in reversed(modules):
        if top in _PARSER_PACKAGES:
            return True
        if top in _OUR_PACKAGES:
            return False
    return False


def _reason(exc: BaseException, limit: int = 160) -> str:
    """The exception as one short line (asn1crypto messages can hold huge numbers)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _nonzero_padding(sig: Any) -> int:
    """How many bytes after the DER-encoded CMS in /Contents are not zero.

    The placeholder is padded with zeros; the padding is neither signed nor part of the
    CMS structure, so a change there is only caught by this check.
    """
    from asn1crypto import parser

    contents: bytes = sig.pkcs7_content
    _, _, _, header, body, trailer = parser.parse(contents, strict=False)
    der_length = len(header) + len(body) + len(trailer)
    return sum(1 for b in contents[der_length:] if b != 0)


def _pdfa_part(reader: Any) -> str | None:
    try:
        xmp = reader.root["/Metadata"].get_object().data.decode("utf-8", "replace")
    except Exception:
        return None
    import re

    part = re.search(r"pdfaid:part(?:>|=\")\s*(\d)", xmp)
    conf = re.search(r"pdfaid:conformance(?:>|=\")\s*([A-Za-z])", xmp)
    if not part:
        return None
    return f"PDF/A-{part.group(1)}{conf.group(1).lower() if conf else ''}"


def _signature_checks(reader: Any, trust_root: Path | None) -> list[Check]:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    not_checked = Check("trust", "skip", "not checked: the signature is invalid")
    checks: list[Check] = []
    try:
        sigs = list(reader.embedded_signatures)
    except Exception as exc:  # narrowed below to what the parsers raise on bad data
        if not _raised_by_parser(exc):
            raise
        reason = _reason(exc)
        return [
            Check("signature", "fail", f"the signature cannot be read (corrupted): {reason}"),
            not_checked,
        ]
    if not sigs:
        return [Check("signatures", "fail", "the file carries no signature")]
    roots = [_load_cert(trust_root)] if trust_root is not None else []
    statuses: list[Any] = []
    for i, sig in enumerate(sigs, start=1):
        label = f"signature {i} of {len(sigs)} ({sig.field_name})"
        vc = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            status = validate_pdf_signature(sig, vc, ts_validation_context=vc)
        except Exception as exc:  # narrowed below to what the parsers raise on bad data
            if not _raised_by_parser(exc):
                raise
            kind = "invalid" if isinstance(exc, SignatureValidationError) else "corrupted"
            checks.append(Check(label, "fail", f"cannot be validated ({kind}: {_reason(exc)})"))
            statuses.append(None)
            continue
        statuses.append(status)
        signer = status.signing_cert.subject.human_friendly
        if not status.intact:
            checks.append(
                Check(
                    label, "fail", f"NOT intact: the signed bytes changed after signing ({signer})"
                )
            )
        elif not status.valid:
            checks.append(
                Check(
                    label, "fail", f"intact, but the cryptographic signature is invalid ({signer})"
                )
            )
        else:
            when = status.signer_reported_dt
            stamp = f", signed {when:%Y-%m-%d %H:%M UTC}" if when else ""
            checks.append(Check(label, "ok", f"intact and valid, by {signer}{stamp}"))
        if _nonzero_padding(sig):
            checks.append(
                Check(
                    f"signature {i} padding",
                    "fail",
                    "the zero padding after the signature in /Contents was changed after signing",
                )
            )
        if status.timestamp_validity is not None:
            ts = status.timestamp_validity
            ts_ok = ts.intact and ts.valid
            checks.append(
                Check(
                    f"timestamp {i}",
                    "ok" if ts_ok else "fail",
                    f"RFC 3161 timestamp {ts.timestamp:%Y-%m-%d %H:%M:%S UTC} "
                    + ("intact and valid" if ts_ok else "NOT valid"),
                )
            )
    last = statuses[-1]
    last_ok = last is not None and last.intact and last.valid
    if last is not None:
        if last.coverage == SignatureCoverageLevel.ENTIRE_FILE:
            checks.append(Check("coverage", "ok", "the last signature covers the entire file"))
        else:
            checks.append(
                Check(
                    "coverage",
                    "fail",
                    "the last signature does not cover the entire file: content was appended "
                    "after signing (an incremental update could replace what is shown or attached)",
                )
            )
    if not last_ok:
        # pyHanko reports an invalid signature as untrusted; that is not a verdict on the signer
        checks.append(not_checked)
    elif trust_root is None:
        checks.append(
            Check("trust", "skip", "not checked; give --trust-root CERT to check the signer")
        )
    else:
        root_name = roots[0].subject.human_friendly
        if last.trusted:
            checks.append(
                Check("trust", "ok", f"the signer chains to the trusted root {root_name}")
            )
        else:
            checks.append(
                Check("trust", "fail", f"the signer does not chain to the trusted root {root_name}")
            )
    if last_ok:
        from reports._keys import is_self_signed

        try:
            from cryptography import x509

            cert = x509.load_der_x509_certificate(last.signing_cert.dump())
            if is_self_signed(cert):
                checks.append(
                    Check(
                        "signer",
                        "ok",
                        "self-signed certificate: proves the file is unchanged, not who signed it",
                    )
                )
        except ValueError:
            pass
    return checks


def _input_checks(assessment: dict[str, Any], data_dir: Path) -> list[Check]:
    from compliance.tables import sha256_file

    checks: list[Check] = []
    inputs = assessment.get("inputs") or []
    if not inputs:
        return [Check("inputs", "fail", "the embedded assessment lists no input files")]
    for item in inputs:
        name = Path(str(item.get("path", ""))).name
        label = f"input {name} ({item.get('role', 'input')})"
        candidate = data_dir / name
        if not candidate.is_file():
            checks.append(Check(label, "fail", f"not found in {data_dir}"))
            continue
        actual = sha256_file(candidate)
        if actual == item.get("sha256"):
            checks.append(Check(label, "ok", f"SHA-256 matches ({actual[:16]}…)"))
        else:
            checks.append(
                Check(
                    label,
                    "fail",
                    f"SHA-256 differs: the report records {str(item.get('sha256'))[:16]}…, "
                    f"the file has {actual[:16]}…",
                )
            )
    return checks


def verify_report(
    path: str | Path, *, trust_root: str | Path | None = None, data_dir: str | Path | None = None
) -> VerificationResult:
    """Check a signed report; one Check per line. Bad arguments raise InputError."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", path=p)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise InputError("not a directory", path=data_dir, field="data-dir")
    root = Path(trust_root) if trust_root is not None else None
    if root is not None:
        _load_cert(root)
    data = p.read_bytes()
    checks: list[Check] = []
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        reader.root  # noqa: B018 - forces the trailer and catalogue to be read
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        return VerificationResult(
            str(p), (Check("structure", "fail", f"not a readable PDF ({exc})"),)
        )
    with _quiet_pyhanko():
        checks.extend(outside_event_loop(lambda: _signature_checks(reader, root)))
    pdfa = _pdfa_part(reader)
    checks.append(
        Check("format", "ok", f"declares {pdfa}")
        if pdfa
        else Check("format", "fail", "no PDF/A identification in the metadata")
    )
    try:
        attached = _embedded_files(reader).get(ATTACHMENT_NAME)
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        attached = None
        checks.append(Check("attachment", "fail", f"the attachments cannot be read ({exc})"))
    assessment: dict[str, Any] | None = None
    if attached is not None:
        try:
            assessment = json.loads(attached)
        except ValueError:
            checks.append(Check("attachment", "fail", f"{ATTACHMENT_NAME} is not valid JSON"))
        else:
            digest = hashlib.sha256(attached).hexdigest()
            checks.append(
                Check("attachment", "ok", f"{ATTACHMENT_NAME} embedded (SHA-256 {digest[:16]}…)")
            )
    elif not any(c.name == "attachment" for c in checks):
        checks.append(Check("attachment", "fail", f"no embedded {ATTACHMENT_NAME}"))
    if data_dir is None:
        checks.append(
            Check("inputs", "skip", "not checked; give --data-dir DIR to hash the inputs")
        )
    elif assessment is not None:
        checks.extend(_input_checks(assessment, Path(data_dir)))
    else:
        checks.append(Check("inputs", "fail", "no embedded assessment to take the hashes from"))
    return VerificationResult(str(p), tuple(checks))
