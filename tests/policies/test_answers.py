"""Attestation questionnaires (init, open until filled) and waivers (expiry)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

import policies
from compliance.errors import PolicyError

DAY = dt.date(2026, 11, 29)


def fill(text: str, *, skip: set[str] = frozenset(), unsigned: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    doc = yaml.safe_load(text)
    for item in doc["items"]:
        if item["check"] in skip:
            continue
        item["answer"] = f"Answer to {item['check']}"
        item["evidence"] = f"DOC-{item['check']}"
        if item["check"] not in unsigned:
            item.update(name="Ada Lovelace", role="Head of Model Risk", date=dt.date(2026, 11, 20))
    return yaml.safe_dump(doc, sort_keys=False)


def test_questionnaire_lists_every_question_with_principle_and_evidence() -> None:
    feat = policies.load_pack("feat")
    text = policies.questionnaire_text([feat])
    doc = yaml.safe_load(text)
    asked = [c.spec.id for c in feat.checks if c.definition.asks_question]
    assert [i["check"] for i in doc["items"]] == asked
    a4 = next(i for i in doc["items"] if i["check"] == "A4")
    assert a4["principle"] == "Accountability"
    assert "appeal" in a4["question"] and a4["expected_evidence"]
    assert all(
        i[k] is None for i in doc["items"] for k in ("answer", "evidence", "name", "role", "date")
    )
    assert doc["packs"] == ["feat@1.0"]


def test_answers_turn_open_into_pass_and_incomplete_stays_open(build: Any, tmp_path: Path) -> None:
    feat = policies.load_pack("feat")
    path = tmp_path / "answers.yaml"
    path.write_text(
        fill(policies.questionnaire_text([feat]), skip={"T3"}, unsigned={"A1"}), encoding="utf-8"
    )
    assessment = build["assessment"](fairness=build["fairness"](build["standard"]()))
    section = policies.evaluate(assessment, [feat], answers=policies.load_answers(path), as_of=DAY)
    by = {f.check: f for f in section.findings}
    assert by["A4"].status == "pass"
    assert by["A4"].message.startswith(
        "Answered by Ada Lovelace (Head of Model Risk) on 2026-11-20"
    )
    assert by["A4"].attestation is not None and by["A4"].attestation.evidence == "DOC-A4"
    assert by["T3"].status == "open"
    assert by["A1"].status == "open" and "name, role, date missing" in by["A1"].message
    records = {a.check: a.status for a in section.attestations}
    assert records["A4"] == "answered" and records["T3"] == "open" and records["A1"] == "incomplete"
    # F2 is answered, but the evidence holds no proxy search: a warning says so.
    assert by["F2"].status == "warn" and "no proxy search" in by["F2"].message


def test_answer_to_a_question_the_pack_does_not_ask(build: Any, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "questionnaire: 1\nitems:\n  - pack: feat\n    check: A4\n    answer: ok\n"
        "  - pack: feat\n    check: F1\n    answer: fine\n",
        encoding="utf-8",
    )
    answers = policies.load_answers(path)
    with pytest.raises(
        PolicyError, match=r"field 'items\[1\]\.check': line 7: pack 'feat' asks no question 'F1'"
    ):
        policies.evaluate(
            build["assessment"](), [policies.load_pack("feat")], answers=answers, as_of=DAY
        )


def test_questionnaire_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("items:\n  - pack: feat\n    check: A4\n    answr: typo\n", encoding="utf-8")
    with pytest.raises(
        PolicyError, match=r"answers.yaml, field 'items\[0\]\.answr': line 4: unknown key 'answr'"
    ):
        policies.load_answers(path)
    path.write_text(
        "items:\n  - pack: feat\n    check: A4\n    date: 20/11/2026\n", encoding="utf-8"
    )
    with pytest.raises(PolicyError, match=r"line 4: .*YYYY-MM-DD"):
        policies.load_answers(path)


WAIVERS = """\
waivers:
  - pack: eeoc-four-fifths
    check: four-fifths
    justification: Remediation plan R-12 retrains with reweighing before 2027-01-31.
    approver: Grace Hopper, Chief Risk Officer
    expires: {expires}
"""


def test_waiver_valid_until_expiry_then_a_failure(build: Any, tmp_path: Path) -> None:
    assessment = build["assessment"](fairness=build["fairness"](build["standard"]()))
    pack = policies.load_pack("eeoc-four-fifths")
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVERS.format(expires="2026-12-31"), encoding="utf-8")
    waivers = policies.load_waivers(path)

    before = policies.evaluate(assessment, [pack], waivers=waivers, as_of=dt.date(2026, 12, 31))
    f = next(f for f in before.findings if f.check == "four-fifths")
    assert f.status == "waived" and f.waived_status == "fail"
    assert f.waiver is not None and f.waiver.status == "active" and f.waiver.expires == "2026-12-31"
    assert "Grace Hopper" in f.message
    # The advisory intersections check still fails, but advisory: the verdict passes.
    assert before.verdict == "pass"

    after = policies.evaluate(assessment, [pack], waivers=waivers, as_of=dt.date(2027, 1, 1))
    f = next(f for f in after.findings if f.check == "four-fifths")
    assert f.status == "fail" and f.waiver is not None and f.waiver.status == "expired"
    assert "expired on 2026-12-31" in f.message
    assert after.verdict == "fail"
    assert [w.status for w in after.waivers] == ["expired"]


def test_waiver_on_a_passing_check_is_unused(build: Any, tmp_path: Path) -> None:
    slices = [s for s in build["standard"]() if "race" in s.attributes]
    assessment = build["assessment"](fairness=build["fairness"](slices))
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVERS.format(expires="2026-12-31"), encoding="utf-8")
    section = policies.evaluate(
        assessment,
        [policies.load_pack("eeoc-four-fifths")],
        waivers=policies.load_waivers(path),
        as_of=DAY,
    )
    assert [w.status for w in section.waivers] == ["unused"]
    assert next(f for f in section.findings if f.check == "four-fifths").status == "pass"


def test_waiver_errors(build: Any, tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(WAIVERS.format(expires="next year"), encoding="utf-8")
    with pytest.raises(PolicyError, match=r"field 'waivers\[0\]\.expires': line 6: .*YYYY-MM-DD"):
        policies.load_waivers(path)
    path.write_text(
        WAIVERS.format(expires="2027-01-01").replace(
            "four-fifths\n    just", "five-sixths\n    just"
        ),
        encoding="utf-8",
    )
    assessment = build["assessment"](fairness=build["fairness"](build["standard"]()))
    with pytest.raises(
        PolicyError,
        match=r"line 2: waiver for eeoc-four-fifths/five-sixths, which no evaluated pack checks",
    ):
        policies.evaluate(
            assessment,
            [policies.load_pack("eeoc-four-fifths")],
            waivers=policies.load_waivers(path),
            as_of=DAY,
        )
    path.write_text(
        WAIVERS.format(expires="2027-01-01").replace(
            "    approver: Grace Hopper, Chief Risk Officer\n", ""
        ),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="required key 'approver' is missing"):
        policies.load_waivers(path)


def test_an_answer_that_says_not_met_fails(build: Any, tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "items:\n  - pack: feat\n    check: A4\n    answer: there is no appeal channel yet\n"
        "    name: Ada\n    role: CRO\n    date: 2026-11-20\n    compliant: false\n",
        encoding="utf-8",
    )
    section = policies.evaluate(
        build["assessment"](),
        [policies.load_pack("feat")],
        answers=policies.load_answers(path),
        as_of=DAY,
    )
    a4 = next(f for f in section.findings if f.check == "A4")
    assert a4.status == "fail" and a4.severity == "blocking"
    assert "Attested as not met by Ada (CRO) on 2026-11-20" in a4.message
    assert section.verdict == "fail"
    path.write_text(
        path.read_text(encoding="utf-8").replace("compliant: false", "compliant: maybe"),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"field 'items\[0\]\.compliant': line 8"):
        policies.load_answers(path)


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        ("Next review on 2027-03-31; drift dashboard weekly.", "pass", "Next review on 2027-03-31"),
        ("Reviewed yearly; next on 2026-10-31.", "fail", "overdue on 2026-11-29"),
        ("We review it every year.", "open", "names no review date"),
    ],
)
def test_f4_review_date(build: Any, tmp_path: Path, answer: str, status: str, words: str) -> None:
    path = tmp_path / "answers.yaml"
    doc = {"items": [{"pack": "feat", "check": "F4", "answer": answer, "evidence": "MON-1",
                      "name": "Ada", "role": "CRO", "date": "2026-11-20"}]}  # fmt: skip
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    section = policies.evaluate(
        build["assessment"](),
        [policies.load_pack("feat")],
        answers=policies.load_answers(path),
        as_of=DAY,
    )
    f4 = next(f for f in section.findings if f.check == "F4")
    assert f4.status == status and words in f4.message


def _answers(tmp_path: Path, items: str, header: str = "") -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(f"questionnaire: 1\n{header}items:\n{items}", encoding="utf-8")
    return path


SIGNED = "    name: Ada\n    role: CRO\n    date: 2026-11-20\n"


def _evaluate(build: Any, path: Path, *packs: str) -> Any:
    return policies.evaluate(
        build["assessment"](),
        [policies.load_pack(p) for p in packs or ("feat",)],
        answers=policies.load_answers(path),
        as_of=DAY,
    )


def test_a_misspelt_pack_is_refused_not_silently_ignored(build: Any, tmp_path: Path) -> None:
    items = "  - pack: feat\n    check: A4\n    answer: Appeals go to the ombudsman\n" + SIGNED
    items += "  - pack: feet\n    check: E1\n    answer: Aligned with the code\n" + SIGNED
    path = _answers(tmp_path, items)
    with pytest.raises(
        PolicyError, match=r"field 'items\[1\]\.pack': line 9: pack 'feet' is neither evaluated"
    ):
        _evaluate(build, path)
    # a real pack that is not evaluated this time is fine: built in, or listed under packs
    ok = items.replace("pack: feet", "pack: nyc-ll144").replace("check: E1", "check: LL144-data")
    _evaluate(build, _answers(tmp_path, ok))
    custom = items.replace("pack: feet", "pack: acme")
    _evaluate(build, _answers(tmp_path, custom, header="packs: [feat@1.0, acme@2.1]\n"))


@pytest.mark.parametrize("field", ["name", "role", "answer"])
def test_blank_signer_fields_are_refused(tmp_path: Path, field: str) -> None:
    items = "  - pack: feat\n    check: A4\n    answer: Appeals go to the ombudsman\n" + SIGNED
    given = {"name": "Ada", "role": "CRO", "answer": "Appeals go to the ombudsman"}[field]
    items = items.replace(f"    {field}: {given}", f'    {field}: "   "')
    path = _answers(tmp_path, items)
    with pytest.raises(PolicyError, match=rf"field 'items\[0\]\.{field}': line \d+: is blank"):
        policies.load_answers(path)


def test_blank_approver_or_justification_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    for old in ("Grace Hopper, Chief Risk Officer", "Remediation plan R-12 retrains with "
                "reweighing before 2027-01-31."):  # fmt: skip
        path.write_text(WAIVERS.format(expires="2026-12-31").replace(old, '"   "'), "utf-8")
        with pytest.raises(PolicyError, match=r"field 'waivers\[0\]\.\w+': line \d: is blank"):
            policies.load_waivers(path)


def test_not_signed_off_names_the_missing_field(build: Any, tmp_path: Path) -> None:
    items = "  - pack: feat\n    check: A4\n    answer: Appeals go to the ombudsman\n"
    items += "    role: CRO\n    date: 2026-11-20\n"
    a4 = next(f for f in _evaluate(build, _answers(tmp_path, items)).findings if f.check == "A4")
    assert a4.status == "open" and "Answered but not signed off: name missing" in a4.message


@pytest.mark.parametrize("answer", ["no", "yes", "true", "'No'", "off"])
def test_a_bare_yes_or_no_needs_compliant(build: Any, tmp_path: Path, answer: str) -> None:
    items = f"  - pack: feat\n    check: E1\n    answer: {answer}\n" + SIGNED
    with pytest.raises(
        PolicyError, match=r"field 'items\[0\]\.answer': line 5: a bare yes/no answer"
    ) as err:
        policies.load_answers(_answers(tmp_path, items))
    assert "set compliant: true or false" in str(err.value)
    # with compliant stated, the bare answer is what it says
    path = _answers(tmp_path, items + "    compliant: false\n")
    e1 = next(f for f in _evaluate(build, path).findings if f.check == "E1")
    assert e1.status == "fail"


def test_an_impossible_date_in_an_answer_is_an_error(tmp_path: Path) -> None:
    """'next review 2027-02-30' was dropped silently and the last review date used."""
    items = "  - pack: feat\n    check: F4\n"
    items += "    answer: Reviewed 2025-01-01; next review 2027-02-30; monthly\n" + SIGNED
    with pytest.raises(
        PolicyError, match=r"field 'items\[0\]\.answer': line 5: 2027-02-30 is not a date"
    ):
        policies.load_answers(_answers(tmp_path, items))


def test_an_answer_dated_after_the_evaluation_is_refused(build: Any, tmp_path: Path) -> None:
    items = "  - pack: feat\n    check: A4\n    answer: Appeals go to the ombudsman\n"
    items += SIGNED.replace("2026-11-20", "2099-01-01")
    with pytest.raises(
        PolicyError,
        match=r"field 'items\[0\]\.date': line 8: 2099-01-01 is in the future: an answer "
        r"evaluated then cannot be signed after 2026-11-29",
    ):
        _evaluate(build, _answers(tmp_path, items))
