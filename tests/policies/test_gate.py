"""`compliance gate` and `compliance attest init`: exit codes, JUnit XML, JSON, start-up."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from compliance.cli import app

HERE = Path(__file__).parent
HEAVY = (
    "torch", "matplotlib", "weasyprint", "lightgbm", "sklearn", "scipy", "pandas", "numpy",
    "cryptography", "pyhanko",
)  # fmt: skip


@pytest.fixture
def saved(build: Any, tmp_path: Path) -> dict[str, Path]:
    """Two saved assessments: one where sex=F fails F1 and four-fifths, one where all pass."""
    failing = build["assessment"](fairness=build["fairness"](build["standard"]()))
    race_only = [s for s in build["standard"]() if "race" in s.attributes]
    passing = build["assessment"](fairness=build["fairness"](race_only, half_width=0.01))
    paths = {"fail": tmp_path / "failing.json", "pass": tmp_path / "passing.json"}
    failing.write(paths["fail"])
    passing.write(paths["pass"])
    return paths


def gate(*args: str) -> Any:
    return CliRunner().invoke(app, ["gate", *args])


def test_exit_codes(saved: dict[str, Path], tmp_path: Path) -> None:
    ok = gate(str(saved["pass"]), "--policy", "eeoc-four-fifths")
    assert ok.exit_code == 0, ok.output
    assert "verdict: PASS" in ok.output
    bad = gate(str(saved["fail"]), "--policy", "eeoc-four-fifths")
    assert bad.exit_code == 1
    assert (
        "FAIL     eeoc-four-fifths/four-fifths" in bad.output and "sex=F ratio 0.52" in bad.output
    )
    # open attestations alone do not fail the gate, unless asked
    feat_ok = gate(str(saved["pass"]), "--policy", "feat", "-q")
    assert feat_ok.exit_code == 0 and "verdict: OPEN" in feat_ok.output
    assert gate(str(saved["pass"]), "--policy", "feat", "--fail-on-open", "-q").exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "nope"], "no built-in pack 'nope'"),
        (["--policy", "feat", "--as-of", "tomorrow"], "--as-of takes a date"),
        (["--policy", "feat", "--waivers", "missing.yaml"], "missing.yaml: no such waivers file"),
        ([], "no policy pack recorded in the assessment"),
    ],
)
def test_bad_input_exits_2(saved: dict[str, Path], args: list[str], message: str) -> None:
    result = gate(str(saved["fail"]), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_missing_or_invalid_assessment_exits_2(tmp_path: Path) -> None:
    assert gate(str(tmp_path / "none.json"), "--policy", "feat").exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": "1.0", "created_at": 3}', encoding="utf-8")
    result = gate(str(broken), "--policy", "feat")
    assert result.exit_code == 2 and "broken.json" in result.output


def test_an_impossible_date_is_bad_input_with_its_line(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    """YAML reads 2026-02-30 as a date it cannot make: exit 2 naming the file, the line
    and the field, not a traceback with exit 1 (which the gate uses for a failure)."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - pack: eeoc-four-fifths\n    check: four-fifths\n"
        "    justification: plan R-12\n"
        "    approver: CRO\n    expires: 2026-02-30\n",
        encoding="utf-8",
    )
    result = gate(str(saved["fail"]), "--policy", "eeoc-four-fifths", "--waivers", str(waivers))
    assert result.exit_code == 2, result.output
    assert "waivers.yaml" in result.output and "waivers[0].expires" in result.output
    assert "line 6" in result.output and "day is out of range" in result.output
    assert "Traceback" not in result.output
    # a date as a key is found too, with its line
    from compliance.errors import PolicyError
    from policies._yaml import parse_marked

    with pytest.raises(PolicyError, match=r"field 'notes.2026-02-30': line 3: not a valid"):
        parse_marked("a: 1\nnotes:\n  2026-02-30: x\n", path=tmp_path / "k.yaml")


def test_expired_waiver_fails_the_gate(saved: dict[str, Path], tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - pack: eeoc-four-fifths\n    check: four-fifths\n"
        "    justification: plan R-12\n"
        "    approver: CRO\n    expires: 2026-12-31\n",
        encoding="utf-8",
    )
    args = [str(saved["fail"]), "--policy", "eeoc-four-fifths", "--waivers", str(waivers)]
    valid = gate(*args, "--as-of", "2026-12-31")
    assert valid.exit_code == 0 and "WAIVED" in valid.output
    expired = gate(*args, "--as-of", "2027-01-01")
    assert expired.exit_code == 1 and "expired on 2026-12-31" in expired.output


def test_junit_validates_against_a_junit_schema(saved: dict[str, Path], tmp_path: Path) -> None:
    from lxml import etree

    junit, out_json = tmp_path / "gate.xml", tmp_path / "gate.json"
    result = gate(str(saved["fail"]), "--policy", "feat", "--policy", "eeoc-four-fifths",
                  "--junit", str(junit), "--json", str(out_json), "-q")  # fmt: skip
    assert result.exit_code == 1
    schema = etree.XMLSchema(etree.parse(str(HERE / "junit.xsd")))
    doc = etree.parse(str(junit))
    schema.assertValid(doc)
    findings = json.loads(out_json.read_text(encoding="utf-8"))
    assert findings["exit_code"] == 1 and findings["verdict"] == "fail"
    cases = doc.findall(".//testcase")
    assert len(cases) == len(findings["findings"])  # one test case per check
    blocking_fails = [
        f for f in findings["findings"] if f["status"] == "fail" and f["severity"] == "blocking"
    ]
    assert (
        int(doc.getroot().get("failures")) == len(blocking_fails) == len(doc.findall(".//failure"))
    )
    opened = [
        f
        for f in findings["findings"]
        if f["status"] in ("open", "insufficient_data", "not_applicable")
    ]
    assert len(doc.findall(".//skipped")) == len(opened)
    f1 = next(c for c in cases if c.get("classname") == "feat.F1")
    assert f1.find("failure") is not None and "sex=F" in f1.find("failure").get("message")
    suites = {s.get("name"): s for s in doc.findall("testsuite")}
    assert set(suites) == {"feat", "eeoc-four-fifths"}
    assert suites["feat"].find("properties/property").get("value") == "1.0"


def test_schema_rejects_a_malformed_junit_file() -> None:
    """The schema is a real check: a report without the required counts is refused."""
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(HERE / "junit.xsd")))
    bad = etree.fromstring(
        b'<testsuites><testsuite name="x"><testcase name="a"/></testsuite></testsuites>'
    )
    assert not schema.validate(bad)
    two = etree.fromstring(
        b'<testsuites><testsuite name="x" tests="1" failures="1" errors="0"><testcase name="a">'
        b"<failure/><skipped/></testcase></testsuite></testsuites>"
    )
    assert not schema.validate(two)


def test_attest_init_writes_the_questionnaire(tmp_path: Path) -> None:
    out = tmp_path / "q.yaml"
    result = CliRunner().invoke(
        app, ["attest", "init", "--policy", "feat", "--policy", "nyc-ll144", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    checks = {(i["pack"], i["check"]) for i in doc["items"]}
    assert ("feat", "A4") in checks and ("nyc-ll144", "LL144-auditor") in checks
    again = CliRunner().invoke(app, ["attest", "init", "--policy", "feat", "--out", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_gate_is_light_and_fast(saved: dict[str, Path]) -> None:
    """The gate on a saved assessment imports no heavy library and answers in under 1 s."""
    script = (
        "import sys, json\n"
        "from compliance.cli import app\n"
        "try:\n"
        f"    app(['gate', {str(saved['fail'])!r}, '--policy', 'feat',"
        " '--policy', 'eeoc-four-fifths', '--policy', 'nyc-ll144', '--policy', 'privacy',"
        " '--policy', 'eu-ai-act', '-q'])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'code': code, 'heavy': heavy}))\n"
    )
    best = float("inf")
    for _ in range(2):  # the first run may pay for a cold file cache
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False
        )
        best = min(best, time.perf_counter() - start)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"code": 1, "heavy": []}
    assert best < 1.0, f"gate took {best:.2f} s"


def test_write_assessment_keeps_attestations_and_waivers(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    from compliance.assessment import load_assessment

    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - pack: eeoc-four-fifths\n    check: four-fifths\n"
        "    justification: plan R-12\n    approver: CRO\n    expires: 2026-12-31\n",
        encoding="utf-8",
    )
    copy = tmp_path / "with-policy.json"
    result = gate(str(saved["fail"]), "--policy", "eeoc-four-fifths", "--waivers", str(waivers),
                  "--as-of", "2026-12-01", "--write-assessment", str(copy), "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    a = load_assessment(copy)
    assert a.policy is not None and [w.status for w in a.policy.waivers] == ["active"]
    assert [i.role for i in a.inputs] == ["waivers"]
    # The gate reads the recorded packs back when none is named.
    again = gate(str(copy), "-q")
    assert again.exit_code == 1 and "eeoc-four-fifths 1.0" in again.output


def test_baseline_regression_is_a_blocking_finding(
    build: Any, saved: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "gate.json"
    args = ["--policy", "eeoc-four-fifths", "--baseline", str(saved["pass"]), "--json", str(out)]
    same = gate(str(saved["pass"]), *args, "-q")
    assert same.exit_code == 0
    body = json.loads(out.read_text(encoding="utf-8"))
    drift = next(f for f in body["findings"] if f["pack"] == "baseline")
    assert drift["status"] == "pass" and body["baseline"]["path"] == str(saved["pass"])
    # race=B's true positive rate falls from 0.70 to 0.60: its gap to race=A grows by 0.10.
    slices = [
        build["slice"]({"race": "A"}, 500, 90, 100, 300),
        build["slice"]({"race": "B"}, 480, 60, 180, 270),
    ]
    later = tmp_path / "later.json"
    build["assessment"](fairness=build["fairness"](slices, half_width=0.01)).write(later)
    worse = gate(str(later), *args, "-q")
    body = json.loads(out.read_text(encoding="utf-8"))
    drift = next(f for f in body["findings"] if f["pack"] == "baseline")
    assert worse.exit_code == 1 and drift["status"] == "fail" and drift["severity"] == "blocking"
    (row,) = drift["measured"]["worse"]
    assert row["slice"] == {"race": "B"}
    assert row["worse_by"] == pytest.approx((0.75 - 0.6) - (0.75 - 0.7))
    four_fifths = next(f for f in body["findings"] if f["check"] == "four-fifths")
    assert four_fifths["status"] != "fail"  # the exit code 1 is the drift's alone


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        # a folder as --json, after a good --junit: nothing of either is written
        (["--junit", "{out}/g.xml", "--json", "{out}"], "{out}: is a directory (--json)"),
        (["--junit", "{out}/g.xml", "--write-assessment", "{out}"],
         "{out}: is a directory (--write-assessment)"),
        (["--json", "{out}/same", "--junit", "{out}/same"],
         "{out}/same: is given to both --junit and --json"),
        (["--json", "{assessment}"], "{assessment}: is the assessment the gate reads; --json"),
        (["--write-assessment", "{assessment}"], "is the assessment the gate reads"),
        (["--junit", "{out}/g.xml", "--json", "{out}/g.xml/x.json"], "is a file, not a folder"),
    ],
)  # fmt: skip
def test_bad_output_paths_exit_2_and_write_nothing(
    saved: dict[str, Path], tmp_path: Path, outputs: list[str], message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if "g.xml/x.json" in " ".join(outputs):
        (out / "g.xml").write_text("keep", encoding="utf-8")
    before = saved["fail"].read_bytes()
    fill = {"out": str(out), "assessment": str(saved["fail"])}
    args = [a.format(**fill) for a in outputs]
    result = gate(str(saved["fail"]), "--policy", "feat", *args, "-q")
    assert result.exit_code == 2, result.output
    assert message.format(**fill) in result.output.replace("\n", "")
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert _left(out) in ([], ["g.xml"]) and not list(tmp_path.glob("**/*.tmp"))
    assert saved["fail"].read_bytes() == before
    if (out / "g.xml").exists():
        assert (out / "g.xml").read_text(encoding="utf-8") == "keep"


def test_outputs_are_written_through_links_and_devices(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    """A character device or a pipe is written through, never replaced by a regular file;
    a link is followed (the file it names gets the result, the link stays a link)."""
    import os
    import stat
    import threading

    target = tmp_path / "real.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = gate(str(saved["fail"]), "--policy", "feat", "--json", str(link),
                  "--junit", str(fifo), "-q")  # fmt: skip
    reader.join(timeout=10)
    assert result.exit_code == 1, result.output
    assert link.is_symlink() and json.loads(target.read_text(encoding="utf-8"))["exit_code"] == 1
    assert stat.S_ISFIFO(fifo.stat().st_mode) and got and got[0].startswith(b"<?xml")
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_fail_on_open_writes_blocking_open_checks_as_junit_failures(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    """--fail-on-open exits 1 on open blocking checks: the JUnit file must then show red
    too, not 0 failures and every case skipped. The root counts its skipped cases."""
    from lxml import etree

    junit = tmp_path / "gate.xml"
    result = gate(str(saved["pass"]), "--policy", "feat", "--fail-on-open",
                  "--junit", str(junit), "-q")  # fmt: skip
    assert result.exit_code == 1, result.output
    doc = etree.parse(str(junit))
    etree.XMLSchema(etree.parse(str(HERE / "junit.xsd"))).assertValid(doc)
    root = doc.getroot()
    failures = doc.findall(".//failure")
    assert int(root.get("failures")) == len(failures) > 0
    assert all("(--fail-on-open)" in f.get("message") for f in failures)
    assert int(root.get("skipped")) == len(doc.findall(".//skipped"))
    # without the option, the same open checks are skipped and the gate exits 0
    plain = gate(str(saved["pass"]), "--policy", "feat", "--junit", str(junit), "-q")
    assert plain.exit_code == 0
    doc = etree.parse(str(junit))
    assert doc.getroot().get("failures") == "0" and doc.findall(".//failure") == []
    assert int(doc.getroot().get("skipped")) == len(doc.findall(".//skipped")) > 0


def test_as_of_before_the_assessment_is_warned(saved: dict[str, Path]) -> None:
    """An --as-of in the past revives expired waivers: the gate says so, loudly."""
    result = gate(str(saved["pass"]), "--policy", "eeoc-four-fifths", "--as-of", "2026-10-01")
    assert result.exit_code == 0
    assert "warning: --as-of 2026-10-01 is before the assessment was made (2026-11-01)" in (
        result.output.replace("\n", " ")
    )
    later = gate(str(saved["pass"]), "--policy", "eeoc-four-fifths", "--as-of", "2026-11-02")
    assert "warning" not in later.output


def test_a_file_pack_may_not_take_a_builtin_id(saved: dict[str, Path], tmp_path: Path) -> None:
    text = (policies_dir() / "feat.yaml").read_text(encoding="utf-8")
    copy = tmp_path / "my-feat.yaml"
    copy.write_text(text, encoding="utf-8")
    result = gate(str(saved["pass"]), "--policy", str(copy))
    assert result.exit_code == 2
    assert "my-feat.yaml, field 'id': line" in result.output
    assert "'feat' is the id of a built-in pack" in result.output.replace("\n", " ")


def policies_dir() -> Path:
    import policies

    return Path(policies.__file__).parent / "packs"


def test_a_recorded_pack_that_changed_is_warned(saved: dict[str, Path], tmp_path: Path) -> None:
    pack = tmp_path / "acme.yaml"
    text = (policies_dir() / "eeoc-four-fifths.yaml").read_text(encoding="utf-8")
    pack.write_text(text.replace("id: eeoc-four-fifths", "id: acme"), encoding="utf-8")
    recorded = tmp_path / "recorded.json"
    first = gate(str(saved["pass"]), "--policy", str(pack), "--write-assessment", str(recorded))
    assert first.exit_code == 0, first.output
    again = gate(str(recorded))
    assert again.exit_code == 0 and "warning" not in again.output
    pack.write_text(pack.read_text(encoding="utf-8").replace("min_ratio: 0.8", "min_ratio: 0.7"))
    changed = gate(str(recorded))
    assert "warning: pack acme" in changed.output and "has changed since the assessment" in (
        changed.output.replace("\n", " ")
    )


def test_verdict_says_when_nothing_could_be_judged(build: Any, tmp_path: Path) -> None:
    """Every slice too small: both four-fifths checks lack data; the verdict says that none
    of the checks could be judged, not only 'OPEN'."""
    small = [build["slice"]({"sex": s}, 400, 100, 100, 400, min_n=5000) for s in ("M", "F")]
    path = tmp_path / "small.json"
    build["assessment"](fairness=build["fairness"](small)).write(path)
    result = gate(str(path), "--policy", "eeoc-four-fifths")
    assert result.exit_code == 0
    assert "none of the 2 checks could be judged" in result.output


def test_policy_takes_commas(saved: dict[str, Path]) -> None:
    result = gate(str(saved["pass"]), "--policy", "eeoc-four-fifths,privacy", "-q")
    assert "packs: eeoc-four-fifths 1.0, privacy 1.0" in result.output
    empty = gate(str(saved["pass"]), "--policy", "")
    assert empty.exit_code == 2 and "--policy takes a pack id or a YAML file" in empty.output


def test_a_pack_file_named_in_a_comma_list_is_never_overwritten(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    """`--policy privacy,pack.yaml --json pack.yaml` replaced the user's pack with JSON: the
    input guard ran before the comma list was split."""
    pack = tmp_path / "pack.yaml"
    text = Path("policies/packs/eeoc-four-fifths.yaml").read_text(encoding="utf-8")
    pack.write_text(text.replace("id: eeoc-four-fifths", "id: acme-four-fifths"), encoding="utf-8")
    before = pack.read_bytes()
    result = gate(str(saved["fail"]), "--policy", f"privacy,{pack}", "--json", str(pack), "-q")
    assert result.exit_code == 2, result.output
    assert "policy pack" in result.output and pack.read_bytes() == before


def test_a_created_at_that_is_not_a_date_does_not_crash_the_gate(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    doc = json.loads(saved["fail"].read_text(encoding="utf-8"))
    doc["created_at"] = "last Tuesday"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    result = gate(str(edited), "--policy", "eeoc-four-fifths", "--as-of", "2026-11-29", "-q")
    # it was a ValueError traceback; now the gate judges the file (sex=F fails four-fifths)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
