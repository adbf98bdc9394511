"""Attestation questionnaires and waivers: YAML files a person fills, strictly validated."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compliance.errors import PolicyError
from compliance.evidence.policy import AttestationRecord
from policies._packs import Pack, _raise_validation
from policies._yaml import Marked, load_marked, policy_error

QUESTIONNAIRE_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _date_text(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _not_blank(v: Any) -> Any:
    """Text of spaces only reads as signed but names nobody: refused."""
    if isinstance(v, str) and v and not v.strip():
        raise ValueError("is blank (spaces only): write it, or leave it out")
    return v


BARE = {"yes", "no", "y", "n", "true", "false", "on", "off"}
"""Answers that say nothing but yes or no (YAML reads some as true/false)."""
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


class AnswerSpec(_Strict):
    pack: str
    check: str
    principle: str = ""
    question: str = ""
    expected_evidence: str = ""
    answer: str | None = None
    evidence: str | None = None
    name: str | None = None
    role: str | None = None
    date: str | None = None
    compliant: bool | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        v = _date_text(v)
        if isinstance(v, str) and v.strip():
            try:
                dt.date.fromisoformat(v.strip())
            except ValueError as exc:
                raise ValueError(f"a date is written YYYY-MM-DD, got {v!r}") from exc
        return v

    @field_validator("answer", "evidence", "name", "role", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, bool | int | float):
            return str(v) if not isinstance(v, bool) else ("yes" if v else "no")
        return _not_blank(v)


class QuestionnaireSpec(_Strict):
    questionnaire: int = QUESTIONNAIRE_VERSION
    packs: list[str] = Field(default_factory=list)
    items: list[AnswerSpec] = Field(default_factory=list)


class WaiverSpec(_Strict):
    pack: str
    check: str
    justification: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: dt.date

    @field_validator("justification", "approver", mode="before")
    @classmethod
    def _signed(cls, v: Any) -> Any:
        return _not_blank(v)

    @field_validator("expires", mode="before")
    @classmethod
    def _expires(cls, v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return v.date()
        if isinstance(v, str):
            try:
                return dt.date.fromisoformat(v.strip())
            except ValueError as exc:
                raise ValueError(f"an expiry date is written YYYY-MM-DD, got {v!r}") from exc
        return v


class WaiversSpec(_Strict):
    waivers: list[WaiverSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class Answers:
    """A loaded questionnaire: answers by (pack, check), with their lines for errors."""

    items: dict[tuple[str, str], AnswerSpec]
    marked: Marked


@dataclass(frozen=True)
class Waivers:
    items: list[tuple[WaiverSpec, int | None]]
    path: str


def _status(a: AnswerSpec) -> str:
    filled = [bool(x and str(x).strip()) for x in (a.answer, a.name, a.role, a.date)]
    if all(filled):
        return "answered"
    return "incomplete" if any(filled) else "open"


def record(pack: Pack, check_id: str, answer: AnswerSpec | None) -> AttestationRecord:
    """The attestation record of one question of `pack`, answered or not."""
    pc = next(c for c in pack.checks if c.spec.id == check_id)
    params = pc.params
    base: dict[str, Any] = {
        "pack": pack.id,
        "check": check_id,
        "principle": pack.principle_title(pc.spec.principle),
        "question": getattr(params, "question", ""),
        "expected_evidence": getattr(params, "expected_evidence", ""),
    }
    if answer is None:
        return AttestationRecord(**base, status="open")
    return AttestationRecord(
        **base,
        answer=answer.answer, evidence=answer.evidence, name=answer.name, role=answer.role,
        date=answer.date, compliant=answer.compliant,
        status=_status(answer),  # type: ignore[arg-type]
    )  # fmt: skip


def questionnaire_text(packs: Sequence[Pack]) -> str:
    """The questionnaire of every question of `packs`, as YAML a person fills in."""
    items = []
    for pack in packs:
        for pc in pack.checks:
            if not pc.definition.asks_question:
                continue
            items.append({
                "pack": pack.id, "check": pc.spec.id,
                "principle": pack.principle_title(pc.spec.principle),
                "question": getattr(pc.params, "question", ""),
                "expected_evidence": getattr(pc.params, "expected_evidence", ""),
                "answer": None, "evidence": None, "name": None, "role": None, "date": None,
                "compliant": None,
            })  # fmt: skip
    header = (
        "# Attestation questionnaire. For each item fill `answer`, `evidence` (a document or\n"
        "# ticket reference), and who answers: `name`, `role`, `date` (YYYY-MM-DD).\n"
        "# Set `compliant: false` when the answer shows the requirement is not met: the\n"
        "# finding then fails. Items left empty stay `open` in the assessment.\n"
        "# Give it back with --attestations.\n"
    )
    body = {
        "questionnaire": QUESTIONNAIRE_VERSION,
        "packs": [f"{p.id}@{p.version}" for p in packs],
        "items": items,
    }
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def load_answers(path: str | Path) -> Answers:
    marked = load_marked(path, what="attestation questionnaire")
    if not isinstance(marked.data, dict):
        raise policy_error(
            marked.path, 1, None, "a questionnaire is a mapping with an 'items' list"
        )
    try:
        spec = QuestionnaireSpec.model_validate(marked.data)
    except ValidationError as exc:
        _raise_validation(marked, exc, (), QuestionnaireSpec)
        raise
    items: dict[tuple[str, str], AnswerSpec] = {}
    raw_items = marked.data.get("items") or []
    for i, item in enumerate(spec.items):
        loc = ("items", i, "answer")
        raw = raw_items[i].get("answer") if isinstance(raw_items[i], dict) else None
        bare = isinstance(raw, bool) or (isinstance(raw, str) and raw.strip().lower() in BARE)
        if bare and item.compliant is None:
            raise policy_error(
                marked.path, marked.line_of(loc), loc,
                f"a bare yes/no answer ({raw!r}) says too little: write the answer in words "
                "and set compliant: true or false",
            )  # fmt: skip
        for text in _DATE.findall(item.answer or ""):
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise policy_error(
                    marked.path, marked.line_of(loc), loc,
                    f"{text} is not a date (written YYYY-MM-DD, but no such day)",
                ) from None  # fmt: skip
        key = (item.pack, item.check)
        if key in items:
            loc = ("items", i, "check")
            raise policy_error(
                marked.path, marked.line_of(loc), loc, f"{item.pack}/{item.check} is answered twice"
            )
        items[key] = item
    return Answers(items=items, marked=marked)


def _refuse(marked: Marked, i: int, field: str, message: str) -> PolicyError:
    """The error for item i's `field` of a questionnaire, with its line."""
    loc = ("items", i, field)
    return policy_error(marked.path, marked.line_of(loc), loc, message)


def check_answers(answers: Answers, packs: Sequence[Pack], as_of: dt.date | None = None) -> None:
    """An answer to a question no evaluated pack asks is refused, with its line; so is one
    for a pack that is neither evaluated, nor built in, nor listed in the questionnaire's
    `packs` (a misspelt pack: its answers would be lost), and one dated after `as_of`."""
    from policies._packs import builtin_pack_ids

    by_id = {p.id: p for p in packs}
    listed = {str(p).split("@")[0] for p in answers.marked.data.get("packs") or []}
    known = {*by_id, *builtin_pack_ids(), *listed}
    marked = answers.marked
    for i, (key, item) in enumerate(answers.items.items()):
        signed = item.date.strip() if item.date else ""
        if as_of is not None and signed and dt.date.fromisoformat(signed) > as_of:
            raise _refuse(
                marked, i, "date",
                f"{item.date} is in the future: an answer evaluated then cannot be signed after "
                f"{as_of.isoformat()}",
            )  # fmt: skip
        pack = by_id.get(key[0])
        if pack is None:
            if key[0] in known:
                continue  # a questionnaire may cover packs not evaluated this time
            raise _refuse(
                marked, i, "pack",
                f"pack {key[0]!r} is neither evaluated here nor a built-in pack nor listed "
                f"under 'packs' (evaluated: {', '.join(by_id)}), so its answers would be lost",
            )  # fmt: skip
        pc = next((c for c in pack.checks if c.spec.id == key[1]), None)
        if pc is None or not pc.definition.asks_question:
            raise _refuse(
                marked, i, "check",
                f"pack {key[0]!r} asks no question {key[1]!r}",
            )  # fmt: skip


def load_waivers(path: str | Path) -> Waivers:
    marked = load_marked(path, what="waivers file")
    if not isinstance(marked.data, dict):
        raise policy_error(
            marked.path, 1, None, "a waivers file is a mapping with a 'waivers' list"
        )
    try:
        spec = WaiversSpec.model_validate(marked.data)
    except ValidationError as exc:
        _raise_validation(marked, exc, (), WaiversSpec)
        raise
    return Waivers(
        items=[(w, marked.line_of(("waivers", i))) for i, w in enumerate(spec.waivers)],
        path=str(marked.path),
    )
