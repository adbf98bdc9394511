"""Verification of a signed report: signatures, coverage, trust, attachment and input hashes.

Each check gives one line; the report verifies only when no check fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
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
    "AttachmentError",
    "Check",
    "VerificationResult",
    "extract_attachment",
    "load_certs",
    "report_signer_pem",
    "verify_pdf_bytes",
    "verify_report",
]

ATTACHMENT_NAME = "assessment.json"


def _now() -> dt.datetime:
    """The moment certificates are checked at (a function, so tests can move it)."""
    return dt.datetime.now(dt.UTC)


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
        """True when every signer was checked against a trust root and chains to it."""
        trust = [c for c in self.checks if c.name == "trust" or c.name.startswith("trust ")]
        return bool(trust) and all(c.status == "ok" for c in trust)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]


MAX_NAME_TREE_NODES = 10_000
"""A name tree with more nodes than this is refused (a real report has one or two)."""

SIGNING_USAGES = {"digital_signature", "non_repudiation"}
"""Key usages that allow a certificate to sign documents; one of them must be present."""

CLOCK_SKEW = dt.timedelta(minutes=10)
"""How much earlier than the signer's claimed signing time a timestamp may read."""


class AttachmentError(ValueError):
    """The embedded files of a PDF cannot be read: a broken or cyclic name tree, a bad entry."""


def regular_file(path: str | Path, field: str | None = None) -> Path:
    """`path` as a Path when it is a regular file; otherwise an InputError that says what it is."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=p, field=field)
    if not p.is_file():
        raise InputError("not a regular file", path=p, field=field)
    return p


def _parsed_blocks(data: bytes, kind: Any) -> list[Any]:
    """Every block of a PEM file, or the one object of a DER file, parsed as `kind` (an
    asn1crypto type) in full, so that a bad file fails here and not later."""
    from asn1crypto import pem

    if pem.detect(data):
        ders = [der for _, _, der in pem.unarmor(data, multiple=True)]
        if not ders:
            raise ValueError("no PEM block")
    else:
        ders = [data]
    parsed = [kind.load(der) for der in ders]
    for item in parsed:
        item.native  # noqa: B018 - forces a full parse
    return parsed


def load_certs(path: str | Path, field: str = "trust-root") -> list[Any]:
    """Every certificate of a PEM bundle, or the one certificate of a DER file (asn1crypto)."""
    from asn1crypto import x509 as asn1_x509

    p = regular_file(path, field)
    data = p.read_bytes()
    if not data.strip():
        raise InputError("empty file", path=p, field=field)
    if b"PRIVATE KEY-----" in data:
        raise InputError(
            "this file holds a private key, not a certificate",
            path=p,
            field=field,
            hint="give the certificate (e.g. signing-cert.pem from `compliance keygen`); "
            "keep the key file private",
        )
    try:
        certs = _parsed_blocks(data, asn1_x509.Certificate)
    except Exception as exc:
        raise InputError(
            f"not a readable certificate ({_reason(exc)})",
            path=p,
            field=field,
            hint="give a PEM or DER certificate; convert a .p7b bundle with "
            "`openssl pkcs7 -print_certs -in FILE -out certs.pem`",
        ) from exc
    return certs


def load_crls(paths: list[Path]) -> list[Any]:
    """Every CRL of the given PEM or DER files (asn1crypto), for offline revocation checks."""
    from asn1crypto import crl

    out: list[Any] = []
    for path in paths:
        p = regular_file(path, "crl")
        data = p.read_bytes()
        if not data.strip():
            raise InputError("empty file", path=p, field="crl")
        try:
            lists = _parsed_blocks(data, crl.CertificateList)
        except Exception as exc:
            raise InputError(
                f"not a readable certificate revocation list ({_reason(exc)})",
                path=p,
                field="crl",
                hint="give a CRL in PEM (-----BEGIN X509 CRL-----) or DER form",
            ) from exc
        out.extend(lists)
    return out


def signer_context(
    roots: list[Any] | None,
    crls: list[Any] | None,
    moment: dt.datetime,
    *,
    past: bool = False,
) -> Any:
    """pyHanko's validation context for a chain at `moment`: with CRLs, every certificate
    below the root must be shown unrevoked by one of them; nothing is fetched.

    `past`: `moment` is a signing time a trusted timestamp proves, and the chain is judged
    as it stood then by what is known now: only CRLs issued after it and still current
    count (an older one cannot list a revocation made between its issue and the signing),
    and a revocation dated after it does not count against it."""
    from pyhanko_certvalidator import ValidationContext

    if past and crls:
        # issued after the signing, and still current: a stale CRL says nothing of today
        crls = [
            c
            for c in crls
            if c["tbs_cert_list"]["this_update"].native > moment
            and (
                c["tbs_cert_list"]["next_update"].native is None
                or c["tbs_cert_list"]["next_update"].native >= _now()
            )
        ]
    return ValidationContext(
        trust_roots=roots or [],
        allow_fetching=False,
        moment=moment,
        crls=crls or [],
        revocation_mode="require" if crls is not None and (crls or past) else "soft-fail",
        retroactive_revinfo=past,
    )


# pyHanko's indications of a chain that fails now for an expiry or a revocation with no
# proof the signature came first: the ones ETSI EN 319 102-1 past signature validation
# starts from (not TRY_LATER: a stale CRL is no evidence of today, timestamp or not)
_SINCE_SIGNING = {
    "OUT_OF_BOUNDS_NO_POE",
    "OUT_OF_BOUNDS_NOT_REVOKED",
    "REVOKED_NO_POE",
    "REVOKED_CA_NO_POE",
}


def since_signing(
    status: Any, proven: dt.datetime | None, now: dt.datetime, signed_data: Any = None
) -> bool:
    """Whether a chain validated at `now` is judged again at `proven`, the signing time a
    trusted timestamp proves (PAdES B-T, ETSI past signature validation): the signer's
    certificate has expired since, or pyHanko found a certificate on the path expired or
    revoked with no proof the signature came first (for an expired issuing CA it says only
    that the path fails: then a certificate the signature carries must have expired). Then
    the time changes, and with it which CRLs count (`signer_context(past=True)`);
    `trust_check` reads every CRL given for a revocation before the signing."""
    if proven is None or proven > now:
        return False
    if now > status.signing_cert.not_valid_after:
        return True
    code = getattr(status.trust_problem_indic, "name", None)
    if status.trusted:
        return False
    if code in _SINCE_SIGNING:
        return True
    carried = signed_data["certificates"] if signed_data is not None else None
    return code == "CERTIFICATE_CHAIN_GENERAL_FAILURE" and any(
        choice.name == "certificate" and choice.chosen.not_valid_after < now
        for choice in (carried if carried is not None and carried.native else [])
    )


def revoked_on_path(path: Any, crls: list[Any] | None) -> tuple[Any, dt.datetime, str, bool] | None:
    """The earliest revocation of a certificate below the root of `path` listed in `crls`,
    from a CRL whose signature the certificate's issuer on the path verifies:
    (certificate, date, reason, dated). The date is the CRL entry's invalidity date where it
    gives one (when the key is known to have been compromised), else its revocation date;
    `dated` is False when the entry's extensions cannot be read, so its date is no bound.

    Every CRL given is read, stale ones too, which pyHanko passes over: a CA may drop an
    entry once the certificate has expired, so an old CRL can be the one that lists it.
    A hold (certificateHold, removeFromCRL) is left to pyHanko and the current CRLs, for it
    can be lifted; indirect CRLs, whose entries may name other issuers, are not read here."""
    from cryptography import x509

    if not crls or path is None:
        return None
    certs = list(path.iter_certs(include_root=True))
    found: list[tuple[Any, dt.datetime, str, bool]] = []
    for issuer, cert in itertools.pairwise(certs):
        try:
            key = x509.load_der_x509_certificate(issuer.dump()).public_key()
        except Exception:  # a key cryptography cannot read verifies no CRL
            continue
        for c in crls:
            if c["tbs_cert_list"]["issuer"] != cert.issuer:
                continue
            try:
                parsed = x509.load_der_x509_crl(c.dump())
                if not parsed.is_signature_valid(key):  # type: ignore[arg-type]
                    continue
                if _indirect(parsed):
                    continue
                entry = parsed.get_revoked_certificate_by_serial_number(cert.serial_number)
            except Exception:  # an unverifiable CRL is no evidence either way
                continue
            if entry is None:
                continue
            when, reason = entry.revocation_date_utc, "unspecified"
            try:
                for ext in entry.extensions:
                    if isinstance(ext.value, x509.InvalidityDate):
                        when = min(when, ext.value.invalidity_date_utc)
                    elif isinstance(ext.value, x509.CRLReason):
                        reason = ext.value.reason.value
            except Exception:  # a verified CRL lists it: revoked, since an unknown date
                found.append((cert, when, "its CRL entry's extensions cannot be read", False))
                continue
            if reason in ("certificateHold", "removeFromCRL"):
                continue
            found.append((cert, when, reason, True))
    return min(found, key=lambda f: (f[3], f[1])) if found else None


def _indirect(crl: Any) -> bool:
    """Whether a CRL (cryptography) is indirect: its entries may name other issuers."""
    from cryptography import x509

    try:
        point = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return False
    return bool(point.indirect_crl)


def _name_tree_values(tree: Any) -> Iterator[tuple[str, Any]]:
    """(key, raw value) of every entry of a PDF name tree; a cycle or a shared node, or more
    than MAX_NAME_TREE_NODES nodes, raise AttachmentError instead of looping."""
    from pyhanko.pdf_utils import generic

    stack = [tree]
    seen: set[tuple[int, int]] = set()
    nodes = 0
    while stack:
        raw = stack.pop()
        if isinstance(raw, generic.IndirectObject):
            ref = (raw.reference.idnum, raw.reference.generation)
            if ref in seen:
                raise AttachmentError(
                    f"the embedded-files name tree reaches object {ref[0]} twice (a cycle)"
                )
            seen.add(ref)
        nodes += 1
        if nodes > MAX_NAME_TREE_NODES:
            raise AttachmentError(
                f"the embedded-files name tree has more than {MAX_NAME_TREE_NODES} nodes"
            )
        node = raw.get_object()
        if not isinstance(node, generic.DictionaryObject):
            raise AttachmentError("a node of the embedded-files name tree is not a dictionary")
        if "/Kids" in node:
            kids = node.raw_get("/Kids").get_object()
            if not isinstance(kids, generic.ArrayObject):
                raise AttachmentError("/Kids of the embedded-files name tree is not an array")
            stack.extend(kids.raw_get(i) for i in range(len(kids)))
        if "/Names" in node:
            arr = node["/Names"]
            if not isinstance(arr, generic.ArrayObject):
                raise AttachmentError("/Names of the embedded-files name tree is not an array")
            for i in range(0, len(arr) - 1, 2):
                yield str(arr[i]), arr.raw_get(i + 1)


def _embedded_file(reader: Any, name: str) -> bytes | None:
    """The bytes of the embedded file `name`, None when there is none; AttachmentError when
    the name tree or that file cannot be read, or two files carry the name. Broken entries
    under other names are passed over."""
    try:
        tree = reader.root["/Names"].raw_get("/EmbeddedFiles")
    except KeyError:
        return None
    found: list[bytes] = []
    for key, raw in _name_tree_values(tree):
        try:
            spec = raw.get_object()
            shown = str(spec.get("/UF", spec.get("/F", key)))
        except Exception:  # an unrelated broken entry does not hide assessment.json
            shown = key
        if name not in (key, shown):
            continue
        try:
            ef = spec["/EF"]
            found.append(ef.get("/UF", ef.get("/F")).get_object().data)
        except Exception as exc:  # a damaged entry can fail anywhere in the parser
            raise AttachmentError(f"{name} cannot be read ({_reason(exc)})") from exc
    if len(found) > 1:
        raise AttachmentError(f"{len(found)} embedded files are named {name}")
    return found[0] if found else None


def extract_attachment(pdf: bytes, name: str = ATTACHMENT_NAME) -> bytes | None:
    """The bytes of the embedded file `name`, or None when the PDF has none by that name
    (AttachmentError when the attachments cannot be read)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    return _embedded_file(reader, name)


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


def _reason(exc: BaseException | str, limit: int = 160) -> str:
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


def _fp(cert: Any) -> str:
    """SHA-256 fingerprint of an asn1crypto certificate, as `openssl x509 -fingerprint` shows."""
    return str(cert.sha256.hex(":").upper())


def _who(cert: Any) -> str:
    return f"{cert.subject.human_friendly} (SHA-256 {_fp(cert)})"


def _issued_by(child: Any, parent: Any) -> bool:
    from cryptography import x509

    try:
        x509.load_der_x509_certificate(child.dump()).verify_directly_issued_by(
            x509.load_der_x509_certificate(parent.dump())
        )
    except Exception:  # a wrong issuer, or an algorithm cryptography does not know
        return False
    return True


def cms_container_problems(signed_data: Any, signer_info: Any, signer: Any) -> list[str]:
    """What sits in the unsigned part of a CMS signature beyond what a signer writes.

    The unsigned attributes and the certificate set are not covered by the signature, so
    anyone can add to them without breaking it: only one signature timestamp token may be
    there, and only the signer's certificate and the certificates that issued it.
    """
    from asn1crypto import core

    problems: list[str] = []
    unsigned = signer_info["unsigned_attrs"]
    tokens = 0
    if not isinstance(unsigned, core.Void):
        for attr in unsigned:
            kind = str(attr["type"].native)
            if kind == "signature_time_stamp_token":
                tokens += len(attr["values"])
            else:
                problems.append(f"an unsigned attribute {kind} was added to the signature")
    if tokens > 1:
        problems.append(f"{tokens} timestamp tokens in the unsigned attributes (one is written)")
    if not isinstance(signed_data["crls"], core.Void):
        problems.append("unsigned revocation data was added to the signature")
    certs: list[Any] = []
    for choice in (
        signed_data["certificates"]
        if not isinstance(signed_data["certificates"], core.Void)
        else []
    ):
        if choice.name != "certificate":
            problems.append(f"a {choice.name} entry was added to the certificate set")
        else:
            certs.append(choice.chosen)
    allowed = {signer.sha256}
    current = signer
    while not current.self_issued:
        parent = next(
            (
                c
                for c in certs
                if c.sha256 not in allowed
                and c.subject == current.issuer
                and _issued_by(current, c)
            ),
            None,
        )
        if parent is None:
            break
        allowed.add(parent.sha256)
        current = parent
    hashes = [c.sha256 for c in certs]
    for c in certs:
        if c.sha256 not in allowed:
            problems.append(f"a certificate not on the signer's chain was added ({_who(c)})")
    if len(hashes) != len(set(hashes)):
        problems.append("a certificate appears twice in the certificate set")
    return problems


def _hex_form_ok(sig: Any, data: bytes) -> bool:
    """True when /Contents is one hex string in one case, as a signer writes it: pyHanko
    reads mixed case and spaces alike, so an edit there would change the file unnoticed."""
    import re

    try:
        _, end1, start2, _ = (int(x) for x in sig.byte_range)
    except (TypeError, ValueError):
        return False
    return re.fullmatch(rb"<(?:[0-9A-F]*|[0-9a-f]*)>", data[end1:start2]) is not None


_INDICATIONS = {
    "OUT_OF_BOUNDS_NO_POE": "a certificate on the path is expired or not yet valid",
    "OUT_OF_BOUNDS_NOT_REVOKED": "a certificate on the path is expired or not yet valid",
    "NO_CERTIFICATE_CHAIN_FOUND": "no path to a trusted root",
    "CHAIN_CONSTRAINTS_FAILURE": "no valid path to it",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "the path cannot be validated",
    "TRY_LATER": "no current CRL from its issuer among those given (a stale CRL, its "
    "next update passed, says nothing of today)",
    "CRYPTO_CONSTRAINTS_FAILURE": "a weak algorithm or key size",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "a weak algorithm or key size",
    "REVOKED": "a certificate was revoked",
    "REVOKED_NO_POE": "a certificate was revoked",
    "REVOKED_CA_NO_POE": "an issuing CA's certificate was revoked",
    "SIG_CONSTRAINTS_FAILURE": "the key usage does not allow signing",
}


def _indication(indic: Any, crls: list[Any] | None = None) -> str:
    if indic is None:
        return ""
    name = str(getattr(indic, "name", indic))
    text = _INDICATIONS.get(name, name)
    if crls is not None and name == "CERTIFICATE_CHAIN_GENERAL_FAILURE":
        text += (
            "; with --crl, a certificate below the root may have no current CRL from its "
            "issuer among those given"
        )
    return f" ({text}; pyHanko: {name})"


def _roots_text(roots: list[Any]) -> str:
    if len(roots) == 1:
        return f"the trusted root {_who(roots[0])}"
    return f"any of the {len(roots)} certificates of --trust-root"


def trust_check(
    name: str,
    status: Any,
    roots: list[Any],
    crls: list[Any] | None = None,
    proven: dt.datetime | None = None,
    now_status: Any = None,
) -> Check:
    """Whether a valid signature's signer chains to one of `roots` (pyHanko's path
    validation, with revocation against `crls` when given), naming the root that was used.
    A root that is not a CA may vouch only for itself: pyHanko lets any trust anchor issue.

    `now_status` is the validation at the current time when `status` is the one at
    `proven`, a signing time a trusted timestamp proves (see `since_signing`). A revocation
    (pyHanko's, or listed in any CRL given) fails the signature unless it is dated after
    `proven`: the timestamp then proves the signature came first."""
    signer = status.signing_cert
    path = status.validation_path
    trusted = bool(status.trusted)
    revocations = [
        (d.revocation_date, str(d.revocation_reason.native), bool(d.ca_revoked))
        for d in (
            getattr(status, "revocation_details", None),
            getattr(now_status, "revocation_details", None),
        )
        if d is not None
    ]
    listed = revoked_on_path(path or getattr(now_status, "validation_path", None), crls)
    if listed is not None and not listed[3]:
        whose = "an issuing CA's" if listed[0].sha256 != signer.sha256 else "the signer's"
        return Check(
            name,
            "fail",
            f"{whose} certificate is listed in a CRL given ({listed[2]}), so when it was "
            f"revoked is unknown and no timestamp can show the signature came first "
            f"(signer {_who(signer)})",
        )
    if listed is not None:
        revocations.append((listed[1], listed[2], listed[0].sha256 != signer.sha256))
    first = min(revocations, key=lambda r: r[0]) if revocations else None
    after = ""
    if first is not None:
        when, reason, ca_revoked = first
        whose = "an issuing CA's" if ca_revoked else "the signer's"
        what = f"{whose} certificate was revoked on {when:%Y-%m-%d %H:%M UTC} (reason: {reason})"
        if proven is None or when <= proven:
            why = (
                "no trusted timestamp proves the signature was made before"
                if proven is None
                else f"the trusted timestamp ({proven:%Y-%m-%d %H:%M UTC}) is not before it"
            )
            return Check(name, "fail", f"{what}; {why} (signer {_who(signer)})")
        after = (
            f"; {what}, after the trusted timestamp ({proven:%Y-%m-%d %H:%M UTC}) that proves "
            "the signature was made before"
        )
    elif trusted and now_status is not None:
        indic = now_status.trust_problem_indic
        code = str(getattr(indic, "name", indic)) if indic is not None else ""
        now_why = _INDICATIONS.get(code, code) if code else "the signer's certificate expired"
        after = f", at the timestamp's time (checked now, it fails: {now_why})"
    if not trusted or path is None:
        return Check(
            name,
            "fail",
            f"the signer {_who(signer)} does not chain to {_roots_text(roots)}"
            + _indication(status.trust_problem_indic, crls),
        )
    anchor = path[0]
    which = next((i for i, r in enumerate(roots, 1) if r.sha256 == anchor.sha256), 0)
    where = f", certificate {which} of {len(roots)} in --trust-root" if len(roots) > 1 else ""
    if anchor.sha256 == signer.sha256:
        return Check(
            name,
            "ok",
            f"the signer's certificate is itself the trusted root{where}: the file is "
            "unchanged since this key signed it; who holds the key rests on how you got the "
            "certificate" + ("; a trusted root is not checked for revocation" if crls else ""),
        )
    if not _can_issue(anchor):
        return Check(
            name,
            "fail",
            f"the trusted root {_who(anchor)} is not a CA certificate (basicConstraints "
            f"CA:TRUE with keyCertSign), so it cannot vouch for {_who(signer)}",
        )
    # the CRLs that spoke for this chain: from its issuers (and, judged at the signing
    # time, issued after it and still current)
    issuers = [c.issuer for c in path.iter_certs(include_root=False)]
    own = [c for c in crls or [] if c["tbs_cert_list"]["issuer"] in issuers]
    if not crls or "was revoked on" in after:
        checked = ""
    elif now_status is not None and proven is not None:
        later = sum(1 for c in own if c["tbs_cert_list"]["this_update"].native > proven)
        checked = f"; not revoked in the {later} CRL(s) from its issuers issued after the timestamp"
    else:
        checked = f"; not revoked in the {len(own)} CRL(s) from its issuers"
    return Check(
        name, "ok", f"the signer chains to the trusted root {_who(anchor)}{where}{checked}{after}"
    )


def _can_issue(cert: Any) -> bool:
    """Whether a trust anchor may vouch for another certificate: CA:TRUE with keyCertSign
    (pyHanko lets any anchor issue)."""
    usage = cert.key_usage_value
    return bool(cert.ca) and (usage is None or "key_cert_sign" in usage.native)


def certificate_check(
    name: str,
    cert: Any,
    now: dt.datetime | None = None,
    proven: dt.datetime | None = None,
    timestamped: bool = False,
) -> Check:
    """The signer's certificate: its fingerprint, and whether it can sign at `now` (validity
    period, key usage); checked even where pyHanko does not, as for a trust root.

    `proven` is a signing time a trusted timestamp proves: a certificate that has expired
    since, but was valid then, passes (the signature existed while it was valid, as PAdES
    B-T validation allows). `timestamped` says a timestamp is there but not trusted, for the
    hint on an expired certificate."""
    from cryptography import x509
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    from reports._keys import is_self_signed, signing_cert_problems

    now = now or _now()
    problems: list[str] = []
    span, self_signed, lapsed = "", False, ""
    try:
        c = x509.load_der_x509_certificate(cert.dump())
        problems = signing_cert_problems(c, now)
        if (
            problems
            and proven is not None
            and now > c.not_valid_after_utc
            and not signing_cert_problems(c, proven)
        ):
            lapsed = (
                f"; no longer valid now, but a trusted timestamp proves the signature was made "
                f"on {proven:%Y-%m-%d %H:%M UTC}, while it was"
            )
            problems = []
        span = f"valid {c.not_valid_before_utc:%Y-%m-%d} to {c.not_valid_after_utc:%Y-%m-%d}"
        self_signed = is_self_signed(c)
        expired = now > c.not_valid_after_utc
    except Exception as exc:  # an unreadable or unusual certificate is the file's fault
        problems.append(f"the certificate cannot be read ({_reason(exc)})")
        expired = False
    if not problems:
        try:  # pyHanko's own key usage check, as for a certificate below a root
            KeyUsageConstraints(key_usage=SIGNING_USAGES).validate(cert)
        except Exception as exc:
            problems.append(_reason(exc))
    if problems:
        hint = ""
        if expired and proven is None:
            hint = "; the signature may have been made while it was valid, but " + (
                "its timestamp proves that only with --tsa-root, the TSA's root"
                if timestamped
                else "no timestamp proves it"
            )
        return Check(name, "fail", f"{_who(cert)} cannot sign now: " + "; ".join(problems) + hint)
    kind = ", self-signed" if self_signed else ""
    return Check(name, "ok", f"{_who(cert)}, {span}{kind}{lapsed}")


def timestamp_check(
    name: str,
    ts: Any,
    signer: Any,
    claimed: Any,
    tsa_roots: list[Any] | None,
    crls: list[Any] | None = None,
) -> Check:
    """A timestamp token: valid, consistent with the signer's certificate and claimed
    signing time, and from a TSA that chains to --tsa-root. Without --tsa-root it is shown
    but is no evidence (SKIP): anyone can make a token with any time."""
    what = f"RFC 3161 timestamp {ts.timestamp:%Y-%m-%d %H:%M:%S UTC} by TSA {_who(ts.signing_cert)}"
    if not (ts.intact and ts.valid):
        return Check(name, "fail", f"{what}: the timestamp token is NOT valid")
    when = ts.timestamp
    if when < signer.not_valid_before:
        return Check(
            name,
            "fail",
            f"{what} predates the signer's certificate (valid from "
            f"{signer.not_valid_before:%Y-%m-%d %H:%M UTC}): it cannot be a timestamp of "
            "this signature",
        )
    if when > signer.not_valid_after:
        return Check(
            name,
            "fail",
            f"{what} is after the signer's certificate expired "
            f"({signer.not_valid_after:%Y-%m-%d %H:%M UTC})",
        )
    if claimed is not None and when < claimed - CLOCK_SKEW:
        return Check(
            name,
            "fail",
            f"{what} is earlier than the signing time the signer claims "
            f"({claimed:%Y-%m-%d %H:%M UTC})",
        )
    if when > _now() + CLOCK_SKEW:
        return Check(name, "fail", f"{what} is dated in the future")
    tsa = ts.signing_cert
    if not tsa.not_valid_before <= when <= tsa.not_valid_after:
        return Check(
            name,
            "fail",
            f"{what} lies outside the TSA certificate's validity "
            f"({tsa.not_valid_before:%Y-%m-%d} to {tsa.not_valid_after:%Y-%m-%d}): the TSA "
            "could not have issued it then",
        )
    if tsa_roots is None:
        return Check(
            name,
            "skip",
            f"{what}: not checked, so no evidence of the signing time (give --tsa-root CERT, "
            "the timestamp authority's root)",
        )
    if ts.trusted:
        anchor = ts.validation_path[0]
        if anchor.sha256 != ts.signing_cert.sha256 and not _can_issue(anchor):
            return Check(
                name,
                "fail",
                f"{what}: the timestamp root {_who(anchor)} is not a CA certificate "
                "(basicConstraints CA:TRUE with keyCertSign), so it cannot vouch for the TSA",
            )
        return Check(name, "ok", f"{what}, chains to the timestamp root {_who(anchor)}")
    return Check(
        name,
        "fail",
        f"{what}: the TSA does not chain to --tsa-root" + _indication(ts.trust_problem_indic, crls),
    )


def _changes_check(name: str, status: Any) -> Check:
    """What later revisions did to what an earlier signature signed (pyHanko's modification
    analysis): adding signatures or filling form fields is allowed, anything else is not."""
    from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    level = status.modification_level
    diff = status.diff_result
    if (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.docmdp_ok
        and level is not None
        and level <= ModificationLevel.FORM_FILLING
    ):
        fields = sorted(diff.changed_form_fields) if isinstance(diff, DiffResult) else []
        added = f" ({', '.join(fields)})" if fields else ""
        return Check(
            name,
            "ok",
            f"later revisions only add signatures or fill in form fields{added} "
            f"(pyHanko modification analysis: {level.name})",
        )
    reason = str(diff).strip().splitlines()[0] if diff is not None else ""
    return Check(
        name,
        "fail",
        f"what {status.signing_cert.subject.human_friendly} signed was changed by a later "
        f"revision (pyHanko modification analysis: "
        f"{level.name if level is not None else status.coverage.name}"
        + (f": {_reason(reason)}" if reason else "")
        + ")",
    )


def _signature_checks(
    reader: Any,
    data: bytes,
    roots: list[Any] | None,
    tsa_roots: list[Any] | None,
    crls: list[Any] | None = None,
) -> list[Check]:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel

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
    usage = KeyUsageConstraints(key_usage=SIGNING_USAGES)
    statuses: list[Any] = []
    n = len(sigs)
    now = _now()
    for i, sig in enumerate(sigs, start=1):
        label = f"signature {i} of {n} ({sig.field_name})"
        suffix = "" if n == 1 else f" {i}"
        vc = signer_context(roots, crls, now)
        ts_vc = signer_context(tsa_roots, crls, now)
        try:
            status = validate_pdf_signature(
                sig, vc, ts_validation_context=ts_vc, key_usage_settings=usage
            )
        except Exception as exc:  # narrowed below to what the parsers raise on bad data
            if not _raised_by_parser(exc):
                raise
            kind = "invalid" if isinstance(exc, SignatureValidationError) else "corrupted"
            checks.append(Check(label, "fail", f"cannot be validated ({kind}: {_reason(exc)})"))
            checks.append(Check(f"trust{suffix}", "skip", not_checked.detail))
            statuses.append(None)
            continue
        statuses.append(status)
        signer = status.signing_cert
        who = signer.subject.human_friendly
        sound = status.intact and status.valid
        if not status.intact:
            checks.append(
                Check(label, "fail", f"NOT intact: the signed bytes changed after signing ({who})")
            )
        elif not status.valid:
            checks.append(
                Check(label, "fail", f"intact, but the cryptographic signature is invalid ({who})")
            )
        else:
            when = status.signer_reported_dt
            stamp = (
                f"; signing time claimed by the signer: {when:%Y-%m-%d %H:%M UTC}" if when else ""
            )
            checks.append(Check(label, "ok", f"intact and valid, by {who}{stamp}"))
        if _nonzero_padding(sig):
            checks.append(
                Check(
                    f"signature {i} padding",
                    "fail",
                    "the zero padding after the signature in /Contents was changed after signing",
                )
            )
        problems = cms_container_problems(sig.signed_data, sig.signer_info, signer)
        if not _hex_form_ok(sig, data):
            problems.insert(0, "the /Contents hex string was rewritten (case, spaces or bytes)")
        if problems:
            checks.append(
                Check(
                    f"signature {i} container",
                    "fail",
                    "the unsigned part of the signature was changed after signing: "
                    + "; ".join(problems),
                )
            )
        proven: dt.datetime | None = None  # the signing time a trusted timestamp proves
        for kind, ts in (
            ("timestamp", status.timestamp_validity),
            ("content timestamp", status.content_timestamp_validity),
        ):
            if ts is not None:
                check = timestamp_check(
                    f"{kind} {i}", ts, signer, status.signer_reported_dt, tsa_roots, crls
                )
                checks.append(check)
                if kind == "timestamp" and check.status == "ok":
                    proven = ts.timestamp
        if i < n:
            checks.append(_changes_check(f"changes after signature {i}", status))
        if not sound:
            checks.append(Check(f"trust{suffix}", "skip", not_checked.detail))
            continue
        cert = certificate_check(
            f"certificate{suffix}",
            signer,
            now,
            proven,
            timestamped=status.timestamp_validity is not None,
        )
        checks.append(cert)
        now_status = None
        if (
            cert.status == "ok"
            and roots is not None
            and since_signing(status, proven, now, sig.signed_data)
        ):
            # valid when a trusted timestamp proves it signed, not now: judged as of then
            assert proven is not None
            now_status, status = (
                status,
                validate_pdf_signature(
                    sig,
                    signer_context(roots, crls, proven, past=True),
                    ts_validation_context=ts_vc,
                    key_usage_settings=usage,
                ),
            )
        if roots is None:
            if i == n:
                checks.append(
                    Check(
                        "trust", "skip", "not checked; give --trust-root CERT to check the signer"
                    )
                )
        elif cert.status == "fail":
            checks.append(
                Check(f"trust{suffix}", "skip", "not checked: the signer's certificate cannot sign")
            )
        else:
            checks.append(trust_check(f"trust{suffix}", status, roots, crls, proven, now_status))
    last = statuses[-1]
    if last is not None:
        if last.coverage == SignatureCoverageLevel.ENTIRE_FILE:
            checks.append(Check("coverage", "ok", "the last signature covers the entire file"))
        else:
            level = last.modification_level
            checks.append(
                Check(
                    "coverage",
                    "fail",
                    "the last signature does not cover the entire file: content was appended "
                    "after signing (an incremental update could replace what is shown or attached)"
                    + (f"; pyHanko modification analysis: {level.name}" if level else ""),
                )
            )
    return checks


def _candidates(data_dir: Path, recorded: str) -> list[Path]:
    """Where an input recorded as `recorded` may be under `data_dir`: its recorded relative
    path, then each shorter tail of it, down to the bare name ('..' parts are dropped)."""
    parts = [p for p in Path(recorded.replace("\\", "/")).parts if p not in ("..", ".", "/")]
    parts = [p for p in parts if not Path(p).anchor]
    return [data_dir.joinpath(*parts[k:]) for k in range(len(parts))]


def _input_checks(assessment: dict[str, Any], data_dir: Path) -> list[Check]:
    from compliance.tables import sha256_file

    inputs = assessment.get("inputs")
    if not inputs:
        return [Check("inputs", "fail", "the embedded assessment lists no input files")]
    if not isinstance(inputs, list):
        return [Check("inputs", "fail", "the embedded assessment's 'inputs' is not a list")]
    names = [Path(str(item.get("path", ""))).name for item in inputs if isinstance(item, dict)]
    checks: list[Check] = []
    for k, item in enumerate(inputs, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("sha256"), str):
            checks.append(Check(f"input {k}", "fail", "malformed entry in the embedded assessment"))
            continue
        recorded = str(item.get("path", ""))
        name = Path(recorded).name
        label = f"input {name} ({item.get('role', 'input')})"
        found = next((c for c in _candidates(data_dir, recorded) if c.is_file()), None)
        shared = names.count(name) > 1
        if found is None:
            checks.append(Check(label, "fail", f"not found in {data_dir} (recorded as {recorded})"))
            continue
        actual = sha256_file(found)
        rel = found.relative_to(data_dir)
        if actual == item["sha256"]:
            checks.append(Check(label, "ok", f"{rel}: SHA-256 matches ({actual[:16]}…)"))
        elif shared:
            checks.append(
                Check(
                    label,
                    "fail",
                    f"{rel} is not the recorded file (SHA-256 {actual[:16]}…, recorded "
                    f"{item['sha256'][:16]}…); {names.count(name)} inputs are named {name}: "
                    f"put each under its recorded folders in --data-dir ({recorded})",
                )
            )
        else:
            checks.append(
                Check(
                    label,
                    "fail",
                    f"SHA-256 differs: the report records {item['sha256'][:16]}…, "
                    f"{rel} has {actual[:16]}…",
                )
            )
    return checks


def _not_a_pdf(data: bytes) -> str | None:
    """Why `data` is not a PDF at all (bad input, exit 2), or None."""
    if not data:
        return "empty file"
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return (
            "a zip archive, not a PDF (check a submission pack with `compliance verify PACK.zip`)"
        )
    if data.lstrip()[:1] in (b"{", b"["):
        return "a JSON file, not a PDF"
    if b"%PDF-" not in data[:1024]:
        return "not a PDF (no %PDF- header)"
    return None


def verify_report(
    path: str | Path,
    *,
    trust_root: str | Path | None = None,
    data_dir: str | Path | None = None,
    tsa_root: str | Path | None = None,
    crl: list[Path] | None = None,
) -> VerificationResult:
    """Check a signed report; one Check per line. Bad arguments raise InputError."""
    p = regular_file(path)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise InputError("not a directory", path=data_dir, field="data-dir")
    roots = load_certs(trust_root) if trust_root is not None else None
    tsa_roots = load_certs(tsa_root, "tsa-root") if tsa_root is not None else None
    crls = load_crls(crl) if crl else None
    data = p.read_bytes()
    why = _not_a_pdf(data)
    if why is not None:
        raise InputError(why, path=p)
    return verify_pdf_bytes(
        data,
        str(p),
        roots=roots,
        tsa_roots=tsa_roots,
        crls=crls,
        data_dir=Path(data_dir) if data_dir is not None else None,
    )


_NOT_INTEGRITY = ("trust", "certificate", "timestamp", "content timestamp")


def verify_pdf_bytes(
    data: bytes,
    label: str,
    *,
    roots: list[Any] | None = None,
    tsa_roots: list[Any] | None = None,
    crls: list[Any] | None = None,
    data_dir: Path | None = None,
) -> VerificationResult:
    """verify_report on bytes already read; `roots` and `tsa_roots` from load_certs, `crls`
    from load_crls."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        reader.root  # noqa: B018 - forces the trailer and catalogue to be read
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        return VerificationResult(
            label, (Check("structure", "fail", f"not a readable PDF ({_reason(exc)})"),)
        )
    with _quiet_pyhanko():
        signed = outside_event_loop(lambda: _signature_checks(reader, data, roots, tsa_roots, crls))
    checks: list[Check] = []
    pdfa = _pdfa_part(reader)
    checks.append(
        Check("format", "ok", f"declares {pdfa}")
        if pdfa
        else Check("format", "fail", "no PDF/A identification in the metadata")
    )
    try:
        attached = _embedded_file(reader, ATTACHMENT_NAME)
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        attached = None
        checks.append(
            Check("attachment", "fail", f"the attachments cannot be read ({_reason(exc)})")
        )
    assessment: dict[str, Any] | None = None
    if attached is not None:
        try:
            loaded = json.loads(attached)
        except (ValueError, RecursionError):
            checks.append(
                Check("attachment", "fail", f"{ATTACHMENT_NAME} is not valid JSON (or too deep)")
            )
        else:
            if isinstance(loaded, dict):
                assessment = loaded
                digest = hashlib.sha256(attached).hexdigest()
                checks.append(
                    Check(
                        "attachment", "ok", f"{ATTACHMENT_NAME} embedded (SHA-256 {digest[:16]}…)"
                    )
                )
            else:
                checks.append(
                    Check("attachment", "fail", f"{ATTACHMENT_NAME} is not a JSON object")
                )
    elif not any(c.name == "attachment" for c in checks):
        checks.append(Check("attachment", "fail", f"no embedded {ATTACHMENT_NAME}"))
    if data_dir is None:
        checks.append(
            Check("inputs", "skip", "not checked; give --data-dir DIR to hash the inputs")
        )
    elif assessment is not None:
        checks.extend(_input_checks(assessment, data_dir))
    else:
        checks.append(Check("inputs", "fail", "no embedded assessment to take the hashes from"))
    if any(c.status == "fail" and not c.name.startswith(_NOT_INTEGRITY) for c in signed):
        # what the file shows past a broken signature or coverage is not what was signed
        checks = [
            Check(c.name, "skip", f"not vouched for, the file failed the checks above: {c.detail}")
            if c.status == "ok"
            else c
            for c in checks
        ]
    return VerificationResult(label, (*signed, *checks))
