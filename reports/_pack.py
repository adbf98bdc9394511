"""The regulator submission pack: a zip a regulator can check without trusting the sender.

It holds the signed PDF, assessment.json, CSV tables, the filled attestations, the signer's
certificate, a manifest.json with the SHA-256 of every file, and a detached CMS signature of
the manifest that `openssl cms -verify` accepts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compliance.assessment import Assessment
from compliance.errors import InputError
from reports._format import (
    SECONDARY,
    exposure_shown,
    exposure_suppression,
    fairness_suppression,
    group_text,
    slice_key,
)
from reports._verify import Check, VerificationResult

if TYPE_CHECKING:
    from pyhanko.sign.timestamps.api import TimeStamper

    from reports._keys import SigningKey

__all__ = ["PackResult", "build_pack", "pack_tables", "sign_manifest", "verify_pack"]

MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.json.p7s"
SIGNER_CERT = "signer-cert.pem"
REPORT_SIGNER_CERT = "report-signer-cert.pem"
REPORT = "report.pdf"
OPENSSL_CHECK = (
    "openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json "
    "-CAfile SENDER-CERT.pem -purpose any -out /dev/null"
)
TOOL_CHECK = "compliance verify submission-pack.zip --trust-root SENDER-CERT.pem"
ZIP_CHECK = [
    "python3 - submission-pack.zip <<'EOF'",
    "import hashlib, json, stat, sys, zipfile",
    "z = zipfile.ZipFile(sys.argv[1]); infos = z.infolist(); names = [i.filename for i in infos]",
    "m = json.loads(z.read('manifest.json')); files = {f['path']: f['sha256'] for f in m['files']}",
    "ok = (len(names) == len(set(names))",
    "      and sorted(names) == sorted([*files, 'manifest.json', 'manifest.json.p7s'])",
    "      and not any(stat.S_ISLNK(i.external_attr >> 16) for i in infos)",
    "      and all(hashlib.sha256(z.read(p)).hexdigest() == h for p, h in files.items()))",
    "for n in ('manifest.json', 'manifest.json.p7s'): open(n, 'wb').write(z.read(n))",
    "print('files match the manifest' if ok else 'FAILED: the zip does not match its manifest')",
    "EOF",
]


@dataclass(frozen=True)
class PackResult:
    """A written pack: its path, the files it holds, and the manifest's SHA-256."""

    path: Path
    files: tuple[str, ...]
    manifest_sha256: str
    self_signed: bool


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8")


def _f(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


def _fairness_tables(assessment: Assessment) -> dict[str, bytes]:
    """slices.csv, disparities.csv and aggregates.csv, hiding what the report hides
    (`fairness_suppression`): the same counts, rates, comparisons and aggregates."""
    fairness = assessment.fairness
    if fairness is None:
        return {}
    supp = fairness_suppression(fairness)
    metrics = [m for m in fairness.overall.metrics if m != "count"]
    header = ["slice", *fairness.protected, "n", "status"]
    for m in metrics:
        header += [m, f"{m}_ci_low", f"{m}_ci_high"]
    rows = []
    for s in [fairness.overall, *fairness.slices]:
        key = slice_key(s.attributes)
        row: list[Any] = [group_text(s.attributes) if s.attributes else "overall"]
        row += [s.attributes.get(a, "") for a in fairness.protected]
        row += [supp.csv(key, "n", s.n), s.status]
        for m in metrics:
            e = s.metrics.get(m)
            ok = supp.shown(s, m) and e is not None
            row += [_f(e.value), _f(e.ci_low), _f(e.ci_high)] if ok and e else ["", "", ""]
        rows.append(row)
    out = {"tables/slices.csv": _csv(header, rows)}
    by_key = {slice_key(s.attributes): s for s in fairness.slices}
    drows = []
    for d in fairness.disparities:
        found = by_key.get(slice_key(d.slice))
        ref = (
            fairness.overall if isinstance(d.reference, str) else by_key.get(slice_key(d.reference))
        )
        # a difference or ratio with a hidden rate on either side would give that rate back
        if (
            found is None
            or ref is None
            or not (supp.shown(found, d.metric) and supp.shown(ref, d.metric))
        ):
            continue
        drows.append(
            [
                d.metric,
                " × ".join(d.dimension),
                group_text(d.slice),
                group_text(d.reference),
                _f(d.difference.value),
                _f(d.difference.ci_low),
                _f(d.difference.ci_high),
                _f(d.ratio.value),
                _f(d.ratio.ci_low),
                _f(d.ratio.ci_high),
                d.test,
                _f(d.p_value),
                _f(d.p_adjusted),
                d.significant,
                "" if d.four_fifths_flag is None else d.four_fifths_flag,
            ]
        )
    out["tables/disparities.csv"] = _csv(
        [
            "metric", "dimension", "slice", "reference", "difference", "difference_ci_low",
            "difference_ci_high", "ratio", "ratio_ci_low", "ratio_ci_high", "test", "p_value",
            "p_adjusted", "significant", "four_fifths_flag",
        ],
        drows,
    )  # fmt: skip
    arows = []
    for a in fairness.aggregates:
        if supp.aggregate_shown(fairness, a):
            figures = [_f(a.value.value), _f(a.value.ci_low), _f(a.value.ci_high), ""]
        else:
            figures = ["", "", "", supp.aggregate_note()]
        arows.append([a.name, " × ".join(a.dimension), *figures])
    out["tables/aggregates.csv"] = _csv(
        ["name", "dimension", "value", "ci_low", "ci_high", "note"], arows
    )
    return out


LL144_PACK = "nyc-ll144"
LL144_CHECK = "LL144-ratios"
"""The finding whose figures the LL144 table shows (policies/packs/nyc-ll144.yaml)."""


def _ll144_count(v: Any, min_cell: int, hidden: bool) -> str:
    """A count of the LL144 table: the number, '<10' under the cell size (policies already
    write those as words), 'suppressed' when hidden to protect another."""
    if v is None:
        return ""
    if isinstance(v, str) or (isinstance(v, int) and v < min_cell):
        return f"<{min_cell}"
    return SECONDARY if hidden else str(v)


def _ll144_table(assessment: Assessment) -> bytes | None:
    """NYC Local Law 144 impact ratios, as the `nyc-ll144` pack's LL144-ratios finding
    computed them (2% exclusion rule, unknown categories, each dimension on its own).

    None when that pack did not run. Its categories are slices of the fairness tables and
    follow their suppression (`fairness_suppression`): a size hidden there is hidden here
    with its share, and a rate, its ratio and its count are printed only where the fairness
    tables print that rate (`Suppression.shown`). A dimension's unknown-category total is
    hidden when the size of one of its unknown categories is.
    """
    policy, fairness = assessment.policy, assessment.fairness
    if policy is None or fairness is None:
        return None
    finding = next(
        (f for f in policy.findings if f.pack == LL144_PACK and f.check == LL144_CHECK), None
    )
    dims = finding.measured.get("dimensions") if finding is not None else None
    if finding is None or not isinstance(dims, list):
        return None
    supp = fairness_suppression(fairness)
    mc = supp.min_cell
    by_key = {slice_key(s.attributes): s for s in fairness.slices}
    rate = str(finding.measured.get("rate") or "selection_rate")
    counted = "selected" if rate == "selection_rate" else "scored_above_median"
    below = finding.measured.get("exclude_below_share")
    under = f"under {below:.0%} of the data" if isinstance(below, float) else "too small"
    rows: list[list[Any]] = []
    for d in dims:
        dim = " × ".join(d.get("dimension") or [])
        unknown_hidden = False
        for c in d.get("categories") or []:
            key = slice_key(c.get("category") or {})
            s = by_key.get(key)
            n_hidden = s is None or supp.hides(key, "n")
            size = _ll144_count(c.get("n"), mc, n_hidden)
            shown = s is not None and supp.shown(s, rate)
            unknown_hidden |= bool(c.get("unknown")) and not size.isdigit()
            notes = []
            if c.get("unknown"):
                notes.append("unknown category: excluded from the ratios")
            elif c.get("excluded"):
                notes.append(f"excluded from the ratios: {under}")
            if size == SECONDARY:
                notes.append(f"size suppressed: it would give back a size under {mc}")
            if not shown and c.get(rate) is not None:
                notes.append(f"rate suppressed: it would give back a count under {mc}")
            rows.append(
                [
                    dim,
                    group_text(c.get("category") or {}),
                    size,
                    _f(c.get("share")) if size.isdigit() else "",
                    _ll144_count(c.get(counted), mc, not shown),
                    _f(c.get(rate)) if shown else "",
                    _f(c.get("impact_ratio")) if shown else "",
                    bool(c.get("excluded")),
                    bool(c.get("unknown")),
                    "; ".join(notes),
                ]
            )
        rows.append(
            [
                dim,
                "unknown category (all records)",
                _ll144_count(d.get("unknown_count"), mc, unknown_hidden),
                "",
                "",
                "",
                "",
                True,
                True,
                "records whose category in this dimension is unknown",
            ]
        )
    header = [
        "dimension", "category", "n", "share", counted, rate, "impact_ratio",
        "excluded", "unknown", "note",
    ]  # fmt: skip
    return _csv(header, rows)


def _privacy_tables(assessment: Assessment) -> dict[str, bytes]:
    privacy = assessment.privacy
    if privacy is None:
        return {}
    mc = assessment.fairness.min_cell if assessment.fairness else 10
    out: dict[str, bytes] = {}
    if privacy.membership:
        out["tables/membership.csv"] = _csv(
            [
                "attack",
                "auc",
                "tpr_at_1pct_fpr",
                "tpr_at_0.1pct_fpr",
                "epsilon_lower_bound",
                "n_members",
                "n_nonmembers",
                "reference_models",
                "seconds",
            ],
            [
                [
                    a.name,
                    _f(a.auc),
                    _f(a.tpr_at_fpr.get("0.01")),
                    _f(a.tpr_at_fpr.get("0.001")),
                    _f(a.epsilon_lower_bound),
                    a.n_members,
                    a.n_nonmembers,
                    a.reference_models,
                    f"{a.seconds:.2f}",
                ]
                for a in privacy.membership
            ],
        )
        # Each attack's groups by name, not by the share found, so that a row's place gives
        # no hidden share away (`exposure_suppression` says which are hidden).
        srows = []
        for a in privacy.membership:
            exposure = exposure_suppression(a, mc)
            for s in sorted(a.slices, key=lambda x: slice_key(x.attributes)):
                key = slice_key(s.attributes)
                shown = exposure_shown(exposure, s.attributes)
                srows.append(
                    [
                        a.name,
                        group_text(s.attributes),
                        exposure.csv(key, "members", s.n_members),
                        exposure.csv(key, "nonmembers", s.n_nonmembers),
                        _f(s.auc),
                        _f(s.tpr_at_fpr.get("0.01")) if shown else "",
                    ]
                )
        out["tables/membership_slices.csv"] = _csv(
            ["attack", "group", "n_members", "n_nonmembers", "auc", "tpr_at_1pct_fpr"], srows
        )
    attribute = getattr(privacy, "attribute", []) or []
    if attribute:
        out["tables/attribute_inference.csv"] = _csv(
            [
                "attribute",
                "n_records",
                "attack_accuracy",
                "baseline_accuracy",
                "advantage",
                "advantage_ci_low",
                "advantage_ci_high",
                "majority_rate",
            ],
            [
                [
                    r.attribute,
                    r.n_records,
                    _f(r.attack_accuracy.value),
                    _f(r.baseline_accuracy.value),
                    _f(r.advantage.value),
                    _f(r.advantage.ci_low),
                    _f(r.advantage.ci_high),
                    _f(r.majority_rate),
                ]
                for r in attribute
            ],
        )
    dp = getattr(privacy, "dp_reference", []) or []
    if dp:
        out["tables/dp_reference.csv"] = _csv(
            ["method", "epsilon_target", "epsilon_spent", "delta", "accuracy", "n_train", "n_test"],
            [
                [
                    d.method,
                    d.epsilon_target,
                    _f(d.epsilon_spent),
                    d.delta,
                    _f(d.accuracy),
                    d.n_train,
                    d.n_test,
                ]
                for d in dp
            ],
        )
    return out


def pack_tables(assessment: Assessment) -> dict[str, bytes]:
    """Every CSV table of the pack, by its path inside the zip (small counts suppressed)."""
    out = _fairness_tables(assessment)
    ll144 = _ll144_table(assessment)
    if ll144 is not None:
        out["tables/nyc_ll144_impact_ratios.csv"] = ll144
    out.update(_privacy_tables(assessment))
    policy = assessment.policy
    if policy is not None:
        out["tables/findings.csv"] = _csv(
            [
                "pack",
                "check",
                "principle",
                "severity",
                "status",
                "title",
                "message",
                "measured",
                "threshold",
            ],
            [
                [
                    f.pack,
                    f.check,
                    f.principle,
                    f.severity,
                    f.status,
                    f.title,
                    f.message,
                    json.dumps(f.measured, sort_keys=True),
                    json.dumps(f.threshold, sort_keys=True),
                ]
                for f in policy.findings
            ],
        )
        attestations = getattr(policy, "attestations", []) or []
        if attestations:
            out["attestations/attestations.csv"] = _csv(
                [
                    "pack",
                    "check",
                    "principle",
                    "question",
                    "answer",
                    "evidence",
                    "name",
                    "role",
                    "date",
                    "status",
                ],
                [
                    [
                        a.pack,
                        a.check,
                        a.principle,
                        a.question,
                        a.answer,
                        a.evidence,
                        a.name,
                        a.role,
                        a.date,
                        a.status,
                    ]
                    for a in attestations
                ],
            )
        waivers = getattr(policy, "waivers", []) or []
        if waivers:
            out["tables/waivers.csv"] = _csv(
                ["pack", "check", "justification", "approver", "expires", "status"],
                [
                    [w.pack, w.check, w.justification, w.approver, w.expires, w.status]
                    for w in waivers
                ],
            )
    return out


def sign_manifest(
    manifest: bytes, key: SigningKey, timestamper: TimeStamper | None = None
) -> bytes:
    """A detached CMS (PKCS#7) signature of `manifest`, DER, SHA-256, signer cert included;
    with `timestamper`, an RFC 3161 timestamp of the signature in its unsigned attributes
    (as in PAdES B-T), so the pack verifies after the certificate expires."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    from reports._keys import check_signing_key

    check_signing_key(key)
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest)
        .add_signer(key.cert, key.key, hashes.SHA256())
    )
    for c in key.chain:
        builder = builder.add_certificate(c)
    der = builder.sign(
        Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    )
    return der if timestamper is None else _timestamped(der, timestamper)


def _timestamped(der: bytes, timestamper: TimeStamper) -> bytes:
    """`der` (a CMS signature) with a timestamp token of its signature value added."""
    import asyncio

    from asn1crypto import cms

    from reports._sign import SigningError
    from reports._sync import outside_event_loop

    info = cms.ContentInfo.load(der)
    signer_info = info["content"]["signer_infos"][0]
    imprint = hashlib.sha256(signer_info["signature"].native).digest()
    try:
        token = outside_event_loop(
            lambda: asyncio.run(timestamper.async_timestamp(imprint, "sha256"))
        )
    except Exception as exc:  # pyHanko and aiohttp raise many kinds
        raise SigningError(
            f"timestamping the pack manifest failed: {type(exc).__name__}: {exc}",
            hint="check --tsa-url and the network",
        ) from exc
    signer_info["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})]
    )
    return bytes(info.dump(force=True))


def _readme(self_signed: bool) -> bytes:
    lines = [
        "Regulator submission pack",
        "=========================",
        "",
        "report.pdf          the signed report (PDF/A-3b, assessment.json attached)",
        "assessment.json     the complete evidence, machine-readable, with every count: it is",
        "                    for the regulator's checks, not for publication",
        "tables/             CSV tables: a count under the minimum cell size reads '<' and that",
        "                    size ('<10'); one hidden so that such a count cannot be worked",
        "                    out by subtraction reads 'suppressed'. Rates of large groups are",
        "                    printed in full, so a small count can still be worked out by",
        "                    subtraction: not a publication-safe release. findings.csv hides",
        "                    what the tables hide, except the LL144 finding's 'measured'",
        "                    values, which keep counts of 10 or more and rates",
        "attestations/       the filled attestations, when any were given",
        "signer-cert.pem     the certificate of the key that signed the manifest (and the report,",
        "                    unless report-signer-cert.pem holds the report signer's)",
        "manifest.json       the SHA-256 of every other file in this pack",
        "manifest.json.p7s   a detached CMS signature of manifest.json",
        "",
        "SENDER-CERT.pem below is the certificate the sender gave you out of band. The copy",
        "in this pack (signer-cert.pem) proves nothing by itself: anyone can re-sign a pack",
        "with a key of their own. Compare fingerprints if that is all you have:",
        "  openssl x509 -in signer-cert.pem -noout -fingerprint -sha256",
        "",
        "To check the pack with the tool (signed manifest, exactly the listed files, their",
        "hashes, the signed report and that it carries this assessment.json):",
        "",
        f"  {TOOL_CHECK}",
        "",
        "Without the tool, next to the zip. Check the zip itself rather than an unzipped copy:",
        "unzip drops '..' from names and keeps only one of two entries with the same name, which",
        "hides an added or doubled file. This also writes manifest.json and its signature out:",
        "",
        *(f"  {line}" for line in ZIP_CHECK),
        f"  {OPENSSL_CHECK}",
        "",
    ]
    if self_signed:
        lines += [
            "NOTE: this pack was signed with a self-signed key. The signature shows the files",
            "are unchanged since signing; it does not show who signed them.",
            "",
        ]
    return "\n".join(lines).encode("utf-8")


def build_pack(
    assessment: Assessment,
    out: str | Path,
    *,
    key: SigningKey,
    assessment_json: str | None = None,
    report_pdf: str | Path | None = None,
    attestations: str | Path | None = None,
    tsa_url: str | None = None,
    timestamper: TimeStamper | None = None,
) -> PackResult:
    """Write the submission pack to `out` (a .zip), rendering and signing the report if needed."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from reports._keys import check_signing_key
    from reports._render import build_report
    from reports._verify import extract_attachment, report_signer_pem, verify_report

    check_signing_key(key)
    if timestamper is None and tsa_url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(tsa_url, timeout=20)

    out = Path(out)
    text = assessment.to_json() if assessment_json is None else assessment_json
    files: dict[str, bytes] = {}
    if report_pdf is not None:
        rp = Path(report_pdf)
        if not rp.is_file():
            raise InputError("no such file", path=rp, field="report")
        checked = verify_report(rp)
        if not checked.ok:
            raise InputError(
                "the report does not verify: "
                + "; ".join(f"{c.name}: {c.detail}" for c in checked.failed()),
                path=rp,
                field="report",
                hint="pack a report as signed, or let `compliance pack` render and sign one",
            )
        files[REPORT] = rp.read_bytes()
        attached = extract_attachment(files[REPORT])
        if attached != text.encode("utf-8"):
            sha = hashlib.sha256(attached).hexdigest()[:16] if attached is not None else "none"
            raise InputError(
                f"the report's attached assessment.json (SHA-256 {sha}…) is not the one being "
                f"packed (SHA-256 {hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}…)",
                path=rp,
                field="report",
                hint="pack the assessment.json the report was made from",
            )
        signer = report_signer_pem(files[REPORT])
        if signer is not None and signer != key.cert_pem():
            files[REPORT_SIGNER_CERT] = signer
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_pdf = out.with_name(out.name + ".report.tmp")
        try:
            build_report(
                assessment,
                tmp_pdf,
                key=key,
                assessment_json=text,
                tsa_url=tsa_url,
                timestamper=timestamper,
            )
            files[REPORT] = tmp_pdf.read_bytes()
        finally:
            tmp_pdf.unlink(missing_ok=True)
    files["assessment.json"] = text.encode("utf-8")
    files.update(pack_tables(assessment))
    if attestations is not None:
        ap = Path(attestations)
        if not ap.is_file():
            raise InputError("no such file", path=ap, field="attestations")
        files[f"attestations/{ap.name}"] = ap.read_bytes()
    files[SIGNER_CERT] = b"".join(c.public_bytes(Encoding.PEM) for c in (key.cert, *key.chain))
    files["README.txt"] = _readme(key.self_signed)
    manifest = {
        "format": "compliance-audit submission pack 1",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "assessment_created_at": assessment.created_at,
        "signer": key.subject,
        "signer_certificate_sha256": key.fingerprint.replace(":", "").lower(),
        "self_signed": key.self_signed,
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        ],
        "verify": OPENSSL_CHECK,
    }
    manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    files[MANIFEST] = manifest_bytes
    files[MANIFEST_SIGNATURE] = sign_manifest(manifest_bytes, key, timestamper)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    tmp.replace(out)
    return PackResult(
        path=out,
        files=tuple(sorted(files)),
        manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
        self_signed=key.self_signed,
    )


MAX_PACK_ENTRIES = 1_000
MAX_ENTRY_BYTES = 512 * 1024 * 1024
"""Entries are read up to this many bytes (decompressed), whatever their header claims."""
MAX_PACK_BYTES = 2 * 1024 * 1024 * 1024
"""All entries together are read up to this many bytes (decompressed)."""


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry may not be in a pack: an unsafe name, a link, not a plain file."""
    import re
    import stat

    name = info.filename
    if name.startswith("/") or "\\" in name or re.match(r"[A-Za-z]:", name):
        return f"{name!r}: an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return f"{name!r}: an empty, '.' or '..' path part"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name!r}: a symbolic link"
    if info.is_dir() or (stat.S_IFMT(mode) and not stat.S_ISREG(mode)):
        return f"{name!r}: not a plain file"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"{name!r}: larger than {MAX_ENTRY_BYTES // 2**20} MiB"
    return None


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int = MAX_ENTRY_BYTES) -> bytes:
    """The entry's bytes, refusing more than MAX_ENTRY_BYTES (or what is left of the pack's
    `budget`) whatever the header says."""
    limit = min(MAX_ENTRY_BYTES, budget)
    out = bytearray()
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            out += chunk
            if len(out) > limit:
                raise ValueError(
                    f"{info.filename}: larger than {limit // 2**20} MiB"
                    + (" (what is left of the pack's limit)" if limit < MAX_ENTRY_BYTES else "")
                )
    return bytes(out)


def _read_entries(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Every entry's bytes, at most MAX_PACK_BYTES together (a zip bomb stops there)."""
    content: dict[str, bytes] = {}
    left = MAX_PACK_BYTES
    for info in infos:
        content[info.filename] = _read_entry(zf, info, left)
        left -= len(content[info.filename])
    return content


def _manifest_files(manifest: bytes) -> dict[str, dict[str, Any]]:
    """The manifest's files by path; ValueError when it is not what build_pack writes."""
    try:
        parsed = json.loads(manifest)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc
    files = parsed.get("files") if isinstance(parsed, dict) else None
    if not isinstance(files, list):
        raise ValueError("no list of files")
    out: dict[str, dict[str, Any]] = {}
    for f in files:
        if not (
            isinstance(f, dict)
            and isinstance(f.get("path"), str)
            and isinstance(f.get("sha256"), str)
            and isinstance(f.get("size"), int)
        ):
            raise ValueError("a file entry without path, sha256 and size")
        if f["path"] in out:
            raise ValueError(f"{f['path']!r} is listed twice")
        out[f["path"]] = f
    return out


def _manifest_signature_checks(
    manifest: bytes,
    p7s: bytes,
    roots: list[Any] | None,
    expected_sha256: Any,
    tsa_roots: list[Any] | None = None,
    crls: list[Any] | None = None,
) -> list[Check]:
    """The detached CMS signature of the manifest, checked by pyHanko as the report's is,
    with its timestamp if it has one."""
    import asyncio

    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    from reports._sync import outside_event_loop
    from reports._verify import (
        SIGNING_USAGES,
        _now,
        _quiet_pyhanko,
        _reason,
        certificate_check,
        cms_container_problems,
        signer_context,
        since_signing,
        timestamp_check,
        trust_check,
    )

    now = _now()

    def validate(signed_data: Any, at: datetime) -> Any:
        vc = signer_context(roots, crls, at, past=at != now)
        ts_vc = signer_context(tsa_roots, crls, now)
        with _quiet_pyhanko():
            return outside_event_loop(
                lambda: asyncio.run(
                    async_validate_detached_cms(
                        manifest,
                        signed_data,
                        signer_validation_context=vc,
                        ts_validation_context=ts_vc,
                        key_usage_settings=KeyUsageConstraints(key_usage=SIGNING_USAGES),
                    )
                )
            )

    try:
        signed_data = cms.ContentInfo.load(p7s)["content"]
        signer_info = signed_data["signer_infos"][0]
        status = validate(signed_data, now)
    except Exception as exc:  # a damaged signature can fail anywhere in the parser
        return [
            Check(
                "manifest signature",
                "fail",
                f"{MANIFEST_SIGNATURE} cannot be read ({_reason(exc)})",
            ),
            Check("trust (manifest)", "skip", "not checked: the signature is invalid"),
        ]
    signer = status.signing_cert
    if not (status.intact and status.valid):
        return [
            Check("manifest signature", "fail", f"{MANIFEST} does not match its signature"),
            Check("trust (manifest)", "skip", "not checked: the signature is invalid"),
        ]
    checks = [
        Check(
            "manifest signature",
            "ok",
            f"{MANIFEST} is intact and signed by {signer.subject.human_friendly}",
        )
    ]
    problems = cms_container_problems(signed_data, signer_info, signer)
    if signer.sha256.hex() != expected_sha256:
        problems.append("the manifest names another signer certificate than the one that signed")
    if problems:
        checks.append(Check("manifest signature container", "fail", "; ".join(problems)))
    proven: datetime | None = None
    ts = status.timestamp_validity
    if ts is not None:
        stamp = timestamp_check(
            "timestamp (manifest)", ts, signer, status.signer_reported_dt, tsa_roots, crls
        )
        checks.append(stamp)
        proven = ts.timestamp if stamp.status == "ok" else None
    cert = certificate_check(
        "certificate (manifest)", signer, now, proven, timestamped=ts is not None
    )
    checks.append(cert)
    now_status = None
    if (
        cert.status == "ok"
        and roots is not None
        and since_signing(status, proven, now, signed_data)
    ):
        assert proven is not None  # valid when the timestamp proves it signed, not now
        now_status, status = status, validate(signed_data, proven)
    if roots is None:
        checks.append(
            Check("trust (manifest)", "skip", "not checked; give --trust-root CERT to check it")
        )
    elif cert.status == "fail":
        checks.append(
            Check("trust (manifest)", "skip", "not checked: the signer's certificate cannot sign")
        )
    else:
        checks.append(trust_check("trust (manifest)", status, roots, crls, proven, now_status))
    return checks


def verify_pack(
    path: str | Path,
    *,
    trust_root: str | Path | None = None,
    tsa_root: str | Path | None = None,
    data_dir: str | Path | None = None,
    crl: list[Path] | None = None,
) -> VerificationResult:
    """Check a submission pack: the signed manifest, that the zip holds exactly the files it
    lists (no extra, missing, duplicate, linked or '..' entries), their hashes, the packed
    report (as verify_report) and that the report carries the packed assessment.json."""
    from reports._verify import (
        ATTACHMENT_NAME,
        extract_attachment,
        load_certs,
        load_crls,
        regular_file,
        verify_pdf_bytes,
    )

    p = regular_file(path)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise InputError("not a directory", path=data_dir, field="data-dir")
    roots = load_certs(trust_root) if trust_root is not None else None
    tsa_roots = load_certs(tsa_root, "tsa-root") if tsa_root is not None else None
    crls = load_crls(crl) if crl else None
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip archive ({exc})", path=p) from exc
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        problems = [x for x in (_entry_problem(i) for i in infos) if x is not None]
        dupes = sorted({n for n in names if names.count(n) > 1})
        problems += [f"{n!r}: more than one entry" for n in dupes]
        if len(infos) > MAX_PACK_ENTRIES:
            problems.append(f"{len(infos)} entries (at most {MAX_PACK_ENTRIES})")
        if problems:
            return VerificationResult(str(p), (Check("pack entries", "fail", "; ".join(problems)),))
        missing = [n for n in (MANIFEST, MANIFEST_SIGNATURE) if n not in names]
        if missing:
            return VerificationResult(
                str(p), (Check("manifest", "fail", f"no {' or '.join(missing)} in the pack"),)
            )
        try:
            content = _read_entries(zf, infos)
        except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
            return VerificationResult(
                str(p), (Check("pack entries", "fail", f"cannot be read ({exc})"),)
            )
    manifest = content.pop(MANIFEST)
    p7s = content.pop(MANIFEST_SIGNATURE)
    try:
        listed = _manifest_files(manifest)
        declared = json.loads(manifest).get("signer_certificate_sha256")
    except ValueError as exc:
        return VerificationResult(
            str(p), (Check("manifest", "fail", f"{MANIFEST} is not a pack manifest ({exc})"),)
        )
    checks = _manifest_signature_checks(manifest, p7s, roots, declared, tsa_roots, crls)
    extra = sorted(set(content) - set(listed))
    absent = sorted(set(listed) - set(content))
    changed = sorted(
        n
        for n in set(listed) & set(content)
        if hashlib.sha256(content[n]).hexdigest() != listed[n]["sha256"]
        or len(content[n]) != listed[n]["size"]
    )
    for what, which in (
        ("not in the manifest", extra),
        ("listed in the manifest but missing (removed or renamed)", absent),
        ("SHA-256 or size differs from the manifest", changed),
    ):
        if which:
            checks.append(Check("pack files", "fail", f"{what}: {', '.join(which)}"))
    if not (extra or absent or changed):
        checks.append(Check("pack files", "ok", f"all {len(listed)} files match the manifest"))
    report = content.get(REPORT) if REPORT in listed else None
    if report is None:
        checks.append(Check("report", "fail", f"no {REPORT} in the pack"))
        return VerificationResult(str(p), tuple(checks))
    checked = verify_pdf_bytes(
        report,
        f"{p}:{REPORT}",
        roots=roots,
        tsa_roots=tsa_roots,
        crls=crls,
        data_dir=Path(data_dir) if data_dir is not None else None,
    )
    checks += [Check(f"report {c.name}", c.status, c.detail) for c in checked.checks]
    try:
        attached = extract_attachment(report, ATTACHMENT_NAME)
    except Exception:  # the report's own checks above say why it cannot be read
        attached = None
    packed = content.get("assessment.json")
    if attached is None or packed is None:
        evidence_gap = (
            "the report carries no assessment.json"
            if attached is None
            else "the pack holds no assessment.json"
        )
        checks.append(Check("report evidence", "fail", evidence_gap))
    else:
        checks.append(
            Check("report evidence", "ok", "the report carries the packed assessment.json")
            if attached == packed
            else Check(
                "report evidence",
                "fail",
                "the report's attached assessment.json differs from the packed one",
            )
        )
    return VerificationResult(str(p), tuple(checks))
