"""The submission pack: every file hashed in the manifest, the manifest signed for openssl."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compliance.assessment import Assessment, PackRef
from compliance.cli import app
from reports import SigningKey, build_pack, pack_tables, verify_report
from reports._format import group_text, slice_key

OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def pack_dir(
    assessment: Assessment,
    assessment_file: Path,
    signing_key: SigningKey,
    signed_report: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    d = tmp_path_factory.mktemp("pack")
    attest = d / "attestations.yaml"
    attest.write_text("audit_date:\n  answer: Example Audit LLP\n", encoding="utf-8")
    out = d / "pack.zip"
    result = build_pack(
        assessment,
        out,
        key=signing_key,
        assessment_json=assessment_file.read_text(encoding="utf-8"),
        report_pdf=signed_report,
        attestations=attest,
    )
    assert result.path == out
    unpacked = d / "unpacked"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(unpacked)
    return unpacked


def test_pack_holds_the_expected_files(pack_dir: Path, assessment_file: Path) -> None:
    names = {str(p.relative_to(pack_dir)) for p in pack_dir.rglob("*") if p.is_file()}
    for required in (
        "report.pdf",
        "assessment.json",
        "manifest.json",
        "manifest.json.p7s",
        "signer-cert.pem",
        "README.txt",
        "tables/slices.csv",
        "tables/disparities.csv",
        "tables/nyc_ll144_impact_ratios.csv",
        "tables/membership.csv",
        "tables/attribute_inference.csv",
        "tables/findings.csv",
        "attestations/attestations.csv",
        "attestations/attestations.yaml",
    ):
        assert required in names, required
    assert (pack_dir / "assessment.json").read_bytes() == assessment_file.read_bytes()


def test_manifest_hashes_every_other_file(pack_dir: Path) -> None:
    manifest = json.loads((pack_dir / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    on_disk = {str(p.relative_to(pack_dir)) for p in pack_dir.rglob("*") if p.is_file()} - {
        "manifest.json",
        "manifest.json.p7s",
    }
    assert set(listed) == on_disk
    for path, digest in listed.items():
        assert hashlib.sha256((pack_dir / path).read_bytes()).hexdigest() == digest
    assert manifest["self_signed"] is True


def test_the_packed_report_verifies(pack_dir: Path) -> None:
    result = verify_report(pack_dir / "report.pdf", trust_root=pack_dir / "signer-cert.pem")
    assert result.ok, result.lines()


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
def test_openssl_cms_verify_accepts_the_manifest_signature(pack_dir: Path, tmp_path: Path) -> None:
    assert OPENSSL is not None
    cmd = [
        OPENSSL, "cms", "-verify", "-binary", "-inform", "DER",
        "-in", str(pack_dir / "manifest.json.p7s"), "-content", str(pack_dir / "manifest.json"),
        "-CAfile", str(pack_dir / "signer-cert.pem"), "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    ok = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "Verification successful" in ok.stderr
    tampered = tmp_path / "manifest.json"
    tampered.write_bytes((pack_dir / "manifest.json").read_bytes().replace(b'"size"', b'"Size"', 1))
    cmd[cmd.index(str(pack_dir / "manifest.json"))] = str(tampered)
    bad = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


def test_csv_tables_suppress_small_counts(pack_dir: Path) -> None:
    ll144 = (pack_dir / "tables/nyc_ll144_impact_ratios.csv").read_text(encoding="utf-8")
    tiny = next(line for line in ll144.splitlines() if "age = unknown" in line)
    assert ",<10,," in tiny and "excluded" in tiny
    female = next(line for line in ll144.splitlines() if "sex = Female" in line)
    assert female.split(",")[2] == "2240"


def test_pack_command_renders_and_signs_when_no_report_is_given(
    assessment_file: Path, key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    key, _ = key_files
    out = tmp_path / "cli-pack.zip"
    result = CliRunner().invoke(
        app, ["pack", str(assessment_file), "--out", str(out), "--key", str(key)]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        assert "report.pdf" in zf.namelist()
        (tmp_path / "r.pdf").write_bytes(zf.read("report.pdf"))
    assert verify_report(tmp_path / "r.pdf").ok


def test_a_tampered_report_is_not_packed(
    assessment: Assessment, signing_key: SigningKey, signed_report: Path, tmp_path: Path
) -> None:
    from compliance.errors import InputError

    data = bytearray(signed_report.read_bytes())
    data[len(data) // 3] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not verify"):
        build_pack(assessment, tmp_path / "p.zip", key=signing_key, report_pdf=bad)
    assert not (tmp_path / "p.zip").exists()


def test_report_signed_by_another_key_ships_its_certificate(
    assessment: Assessment, signed_report: Path, tmp_path: Path
) -> None:
    from reports import generate_self_signed

    other = generate_self_signed("Pack signer", key_size=2048)
    result = build_pack(assessment, tmp_path / "p.zip", key=other, report_pdf=signed_report)
    assert "report-signer-cert.pem" in result.files


def _ll144_rows(assessment: Assessment) -> dict[tuple[str, str], dict[str, str]]:
    import csv
    import io

    text = pack_tables(assessment)["tables/nyc_ll144_impact_ratios.csv"].decode()
    return {(r["dimension"], r["category"]): r for r in csv.DictReader(io.StringIO(text))}


def test_ll144_table_shows_the_packs_finding(assessment: Assessment) -> None:
    """The table is the LL144-ratios finding's figures: the 2% exclusion rule, the unknown
    category count, each dimension on its own, no whole-population row, and no count of
    a suppressed category."""
    assert assessment.policy is not None
    finding = next(f for f in assessment.policy.findings if f.check == "LL144-ratios")
    rows = _ll144_rows(assessment)
    assert {dim for dim, _ in rows} == {"sex", "age"}  # no row for everyone
    female = rows[("sex", "sex = Female")]
    sex = next(d for d in finding.measured["dimensions"] if d["dimension"] == ["sex"])
    ratio = next(c for c in sex["categories"] if c["category"] == {"sex": "Female"})
    assert female["n"] == "2240" and female["selected"] == "600"
    assert float(female["impact_ratio"]) == pytest.approx(ratio["impact_ratio"])
    assert float(female["share"]) == pytest.approx(2240 / 5000)
    # age 90+: 40 of 5,000 (0.8%) is under 2%: reported, but out of the ratios. Its size
    # is the next-smallest beside the 7 of unknown age, so the fairness tables hide it to
    # protect those 7, and so does this table: its share and its rate (15 / 40) too, which
    # would give the size back.
    old = rows[("age", "age = 90+")]
    assert old["excluded"] == "True" and old["impact_ratio"] == ""
    assert "under 2% of the data" in old["note"]
    assert old["n"] == "suppressed" and old["selected"] == "suppressed"
    assert old["share"] == old["selection_rate"] == ""
    assert "size suppressed" in old["note"] and "rate suppressed" in old["note"]
    # the 7 people of unknown age: no count, share, rate or ratio; and the unknown total
    tiny = rows[("age", "age = unknown")]
    assert tiny["n"] == "<10" and tiny["unknown"] == "True"
    assert tiny["selected"] == "<10" and tiny["share"] == tiny["selection_rate"] == ""
    unknown = rows[("age", "unknown category (all records)")]
    assert unknown["n"] == "<10"
    assert rows[("sex", "unknown category (all records)")]["n"] == "<10"  # 0
    young = rows[("age", "age = 18-25")]
    assert float(young["impact_ratio"]) == pytest.approx(1.0)  # highest among the eligible


def test_ll144_table_hides_what_the_fairness_tables_hide(assessment: Assessment) -> None:
    """The LL144 categories are slices of slices.csv: a size hidden there is hidden here
    (else the two tables together give it back), and a rate printed here is printed there.
    The sexes add up to 5,000: with one made small, the size hidden beside it in
    slices.csv to protect it is hidden here too."""
    import policies

    fair = assessment.fairness
    assert fair is not None
    small = {"n": 8, "counts": {"tp": 2, "fp": 2, "fn": 2, "tn": 2}}
    slices = [
        s.model_copy(update=small) if s.attributes == {"sex": "Female"} else s for s in fair.slices
    ]
    changed = assessment.model_copy(update={"fairness": fair.model_copy(update={"slices": slices})})
    section = policies.evaluate(
        changed, [policies.load_pack("nyc-ll144")], as_of=date(2026, 11, 29)
    )
    changed = changed.model_copy(update={"policy": section})
    finding = next(f for f in section.findings if f.check == "LL144-ratios")
    ll144, fairness_rows = _ll144_rows(changed), _slices(changed)
    compared = 0
    for d in finding.measured["dimensions"]:
        for c in d["categories"]:
            row = ll144[(" × ".join(d["dimension"]), group_text(c["category"]))]
            there = fairness_rows[slice_key(c["category"])]
            assert row["n"] == there["n"], c["category"]
            if row["selection_rate"]:
                assert there["selection_rate"], c["category"]
                assert float(row["selection_rate"]) == pytest.approx(float(there["selection_rate"]))
            compared += 1
    assert compared >= 6
    sexes = {c: r["n"] for (d, c), r in ll144.items() if d == "sex"}
    assert sexes["sex = Female"] == "<10"
    assert "suppressed" in sexes.values()  # the complement, hidden with it


def test_ll144_table_is_left_out_when_the_pack_did_not_run(assessment: Assessment) -> None:
    assert assessment.policy is not None
    # another pack (its id happens to name NYC) ran, not nyc-ll144: no LL144 table
    others = assessment.policy.model_copy(
        update={
            "packs": [PackRef(id="nyc-internal-review", version="1", title="Internal review")],
            "findings": [
                f.model_copy(update={"pack": "nyc-internal-review"})
                for f in assessment.policy.findings
                if f.check != "LL144-ratios"
            ],
        }
    )
    for policy in (None, others):
        tables = pack_tables(assessment.model_copy(update={"policy": policy}))
        assert "tables/nyc_ll144_impact_ratios.csv" not in tables
        assert "tables/slices.csv" in tables


COUNT_COLUMNS = ("n",)  # group sizes: confusion counts are in assessment.json only
Key = tuple[tuple[str, str], ...]


def _table(assessment: Assessment, name: str) -> list[dict[str, str]]:
    import csv
    import io

    text = pack_tables(assessment)[f"tables/{name}"].decode()
    return list(csv.DictReader(io.StringIO(text)))


def _slices(assessment: Assessment) -> dict[Key, dict[str, str]]:
    """slices.csv by slice: the whole population is (), race = Black is (('race', 'Black'),)."""
    assert assessment.fairness is not None
    protected = assessment.fairness.protected
    return {
        tuple(sorted((a, r[a]) for a in protected if r[a])): r
        for r in _table(assessment, "slices.csv")
    }


def _sums(rows: dict[Key, dict[str, str]]) -> list[tuple[tuple[Key, str], list[tuple[Key, str]]]]:
    """Every sum a reader can form from slices.csv: (total, parts), as (slice, column).
    Siblings (all attribute values alike but one) add up to their parent."""
    out: list[tuple[tuple[Key, str], list[tuple[Key, str]]]] = []
    for key in rows:
        for i in range(len(key)):
            parent = key[:i] + key[i + 1 :]
            siblings = [
                k for k in rows if dict(k).keys() == dict(key).keys() and set(parent) <= set(k)
            ]
            if key == min(siblings):  # each set once
                out += [((parent, c), [(k, c) for k in siblings]) for c in COUNT_COLUMNS]
    return out


def _hidden(text: str) -> bool:
    return not text.isdigit()


@pytest.mark.parametrize("which", ["assessment", "adult_assessment"])
def test_no_hidden_count_is_alone_in_a_sum(which: str, request: pytest.FixtureRequest) -> None:
    """Complementary suppression in slices.csv: a sum with exactly one hidden term gives it
    back by subtraction (race = Other: 135 - 14 - 11 - 109 = FP 1), so none has one."""
    rows = _slices(request.getfixturevalue(which))
    sums = _sums(rows)
    for total, parts in sums:
        hidden = [e for e in (total, *parts) if _hidden(rows[e[0]][e[1]])]
        assert len(hidden) != 1, (total, hidden)
    assert sum(1 for t, p in sums if any(_hidden(rows[k][c]) for k, c in (t, *p))) >= 1


def test_hidden_counts_cannot_be_pinned_down_from_the_csv(adult_assessment: Assessment) -> None:
    """A reader with slices.csv alone, solving for the hidden group sizes from every sum of
    siblings, '<10' meaning 0 to 9 and 'suppressed' at least 10: no small size comes out
    as one value, or as few; each still has at least four possible values."""
    import numpy as np
    from scipy.optimize import linprog

    rows = _slices(adult_assessment)
    assert not {"tp", "fp", "fn", "tn"} & set(next(iter(rows.values())))
    cells = {(k, c): r[c] for k, r in rows.items() for c in COUNT_COLUMNS}
    hidden = sorted(e for e, v in cells.items() if _hidden(v))
    col = {e: i for i, e in enumerate(hidden)}
    eq: list[np.ndarray] = []
    eq_b: list[float] = []
    for total, parts in _sums(rows):
        row, const = np.zeros(len(hidden)), 0.0
        for e, c in {total: 1.0, **{p: -1.0 for p in parts}}.items():
            if e in col:
                row[col[e]] += c
            else:
                const += c * int(cells[e])
        eq.append(row)
        eq_b.append(-const)
    bounds = [(0, 9) if cells[e] == "<10" else (10, None) for e in hidden]
    small = [e for e in hidden if cells[e] == "<10"]
    assert len(small) >= 2  # Amer-Indian-Eskimo and Other, each aged 60 or more
    for e in small:
        c = np.zeros(len(hidden))
        c[col[e]] = 1.0
        lo = linprog(c, A_eq=eq, b_eq=eq_b, bounds=bounds)
        hi = linprog(-c, A_eq=eq, b_eq=eq_b, bounds=bounds)
        assert lo.status == 0 and hi.status == 0
        assert np.floor(-hi.fun + 1e-6) - np.ceil(lo.fun - 1e-6) >= 3, (e, lo.fun, -hi.fun)


def test_csv_and_report_hide_the_same_counts(adult_assessment: Assessment) -> None:
    from reports._context import build_context

    ctx = build_context(adult_assessment, assessment_json="{}")
    rows = _slices(adult_assessment)
    for d in ctx["fairness"]["dims"]:
        attrs = d["name"].split(" × ")
        for r in d["rows"]:
            key = tuple(sorted(zip(attrs, r["group"].split(" · "), strict=True)))
            assert r["n"].replace(",", "") == rows[key]["n"], key


def test_csv_comparisons_and_aggregates_rest_on_printed_rates(
    adult_assessment: Assessment,
) -> None:
    """A difference or ratio with a hidden rate on either side gives that rate back; an
    aggregate over groups, one of whose rates is hidden, too (equalized odds 0.00 over age
    says age < 25 has no false positive)."""
    rows = {r["slice"]: r for r in _table(adult_assessment, "slices.csv")}
    compared = _table(adult_assessment, "disparities.csv")
    assert compared  # sex = Female against sex = Male, on the TPR
    for d in compared:
        assert rows[d["slice"]][d["metric"]] and rows[d["reference"]][d["metric"]], d
    # race = Other has 1 false positive: no FPR comparison of it is printed
    assert not any(
        d["slice"] == "race = Other" and d["metric"] == "false_positive_rate" for d in compared
    )
    aggregates = {
        (a["name"], a["dimension"]): a for a in _table(adult_assessment, "aggregates.csv")
    }
    odds = aggregates[("equalized_odds_ratio", "age")]
    assert odds["value"] == odds["ci_low"] == ""
    assert odds["note"] == "suppressed: rests on a group with a count under 10"
    assert aggregates[("equalized_odds_ratio", "race × age")]["value"] == ""
    assert aggregates[("demographic_parity_ratio", "sex")]["value"] == "0.316"


def test_csv_membership_groups_hide_small_implied_counts(adult_assessment: Assessment) -> None:
    """A group's TPR times its members is a count of people: printed only when the members
    found and missed are 10 or more, and never the one hidden in an attribute's groups
    (they add up to the attack's total). Rows by group, not by TPR."""
    table = _table(adult_assessment, "membership_slices.csv")
    assert [r["group"] for r in table] == sorted(r["group"] for r in table)
    hidden: dict[str, int] = {}
    for r in table:
        attribute = r["group"].split(" ")[0]
        if not r["tpr_at_1pct_fpr"]:
            hidden[attribute] = hidden.get(attribute, 0) + 1
            continue
        members = int(r["n_members"])
        found = round(float(r["tpr_at_1pct_fpr"]) * members)
        assert min(found, members - found) >= 10, r
    # race: AIE (5 found) and Other (3), and Black (21), or AIE + Other = 8 would pin each
    # to 0-8; age: < 25 (5) and >= 60 (47) with it
    assert hidden == {"race": 3, "age": 2}


def _rezip(src: Path, out: Path, edit: str) -> Path:
    """A copy of the pack `src` with one third-party change."""
    import stat
    import warnings

    with zipfile.ZipFile(src) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    if edit == "extra":
        entries.append(("tables/regulator_note.csv", b"note\napproved\n"))
    elif edit == "removed":
        entries = [e for e in entries if e[0] != "tables/slices.csv"]
    elif edit == "renamed":
        entries = [("tables/s.csv" if n == "tables/slices.csv" else n, d) for n, d in entries]
    elif edit == "traversal":
        entries.append(("../../evil.txt", b"outside\n"))
    elif edit == "duplicate":
        entries.insert(0, ("assessment.json", b'{"title": "All checks passed"}'))
    elif edit == "changed":
        entries = [(n, d + b"\n" if n == "tables/slices.csv" else d) for n, d in entries]
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as zf:
        warnings.simplefilter("ignore")  # the duplicate name
        for name, data in entries:
            zf.writestr(name, data)
        if edit == "symlink":
            link = zipfile.ZipInfo("tables/passwd.csv")
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(link, "/etc/passwd")
    return out


def test_the_pack_verifies_with_the_signers_certificate(
    pack_dir: Path, key_files: tuple[Path, Path]
) -> None:
    _, cert = key_files
    cli = CliRunner().invoke(
        app, ["verify", str(pack_dir.parent / "pack.zip"), "--trust-root", str(cert)]
    )
    assert cli.exit_code == 0, cli.output
    lines = cli.output.splitlines()
    assert any(x.startswith("OK   pack files: all ") for x in lines)
    assert any(x.startswith("OK   trust (manifest):") for x in lines)
    assert any(x.startswith("OK   report trust:") for x in lines)
    assert "OK   report evidence: the report carries the packed assessment.json" in lines


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("extra", "FAIL pack files: not in the manifest: tables/regulator_note.csv"),
        ("removed", "FAIL pack files: listed in the manifest but missing"),
        ("renamed", "FAIL pack files: not in the manifest: tables/s.csv"),
        (
            "changed",
            "FAIL pack files: SHA-256 or size differs from the manifest: tables/slices.csv",
        ),
        ("traversal", "FAIL pack entries: '../../evil.txt': an empty, '.' or '..' path part"),
        ("duplicate", "FAIL pack entries: 'assessment.json': more than one entry"),
        ("symlink", "FAIL pack entries: 'tables/passwd.csv': a symbolic link"),
    ],
)
def test_a_tampered_pack_fails_with_the_reason(
    pack_dir: Path, key_files: tuple[Path, Path], tmp_path: Path, edit: str, expected: str
) -> None:
    bad = _rezip(pack_dir.parent / "pack.zip", tmp_path / f"{edit}.zip", edit)
    _, cert = key_files
    cli = CliRunner().invoke(app, ["verify", str(bad), "--trust-root", str(cert)])
    assert cli.exit_code == 1, cli.output
    assert any(x.startswith(expected) for x in cli.output.splitlines()), cli.output
    assert f"NOT VERIFIED: {bad}:" in cli.output


def test_a_pack_re_signed_by_another_key_fails_trust(
    assessment: Assessment,
    assessment_file: Path,
    key_files: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    from reports import generate_self_signed
    from reports._pack import verify_pack

    other = generate_self_signed("Test auditor", key_size=2048)  # the same name
    out = tmp_path / "other.zip"
    build_pack(assessment, out, key=other, assessment_json=assessment_file.read_text("utf-8"))
    _, cert = key_files
    result = verify_pack(out, trust_root=cert)
    assert {c.name for c in result.failed()} == {"trust (manifest)", "report trust"}
    assert other.fingerprint in result.failed()[0].detail


def test_a_report_carrying_another_assessment_is_not_packed(
    assessment: Assessment, signing_key: SigningKey, signed_report: Path, tmp_path: Path
) -> None:
    from compliance.errors import InputError

    other = assessment.model_copy(update={"title": "Another run"})
    with pytest.raises(InputError, match="is not the one being packed"):
        build_pack(other, tmp_path / "p.zip", key=signing_key, report_pdf=signed_report)
    assert not (tmp_path / "p.zip").exists()


def test_the_readme_recipe_checks_the_zip_itself(pack_dir: Path, tmp_path: Path) -> None:
    """The README's Python check, run as written against a good and a padded pack."""
    import sys

    readme = (pack_dir / "README.txt").read_text(encoding="utf-8")
    assert "compliance verify submission-pack.zip --trust-root SENDER-CERT.pem" in readme
    lines = readme.splitlines()
    start = lines.index("  python3 - submission-pack.zip <<'EOF'")
    script = "\n".join(x[2:] for x in lines[start + 1 : lines.index("  EOF")])
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(pack_dir.parent / "pack.zip", good / "submission-pack.zip")
    bad = tmp_path / "bad"
    bad.mkdir()
    _rezip(pack_dir.parent / "pack.zip", bad / "submission-pack.zip", "extra")
    for folder, expected in ((good, "files match the manifest"), (bad, "FAILED")):
        run = subprocess.run(
            [sys.executable, "-", "submission-pack.zip"],
            input=script, cwd=folder, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert run.stdout.strip() == expected or run.stdout.startswith(expected), run.stderr


def test_a_pack_larger_than_the_reading_limit_in_all_fails_without_reading_on(
    assessment: Assessment,
    assessment_file: Path,
    key_files: tuple[Path, Path],
    signing_key: SigningKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each entry was capped but not their sum: 1,000 entries of 512 MiB could be read.
    With the pack's limit set under this pack's size, reading stops with a failure."""
    import reports._pack as pack_module

    out = tmp_path / "p.zip"
    build_pack(assessment, out, key=signing_key, assessment_json=assessment_file.read_text("utf-8"))
    monkeypatch.setattr(pack_module, "MAX_PACK_BYTES", 4096)
    result = pack_module.verify_pack(out, trust_root=key_files[1])
    assert [c.name for c in result.failed()] == ["pack entries"]
    assert "the pack's limit" in result.failed()[0].detail
