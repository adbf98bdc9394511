"""Policy packs: YAML files validated by a strict schema, with file, line and key in errors."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.errors import PolicyError
from policies._registry import CheckDef, Options, get_check
from policies._yaml import KeyPath, Marked, dotted, load_marked, parse_marked, policy_error

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PrincipleSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    description: str = ""


class CheckSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    principle: str
    title: str
    check: str
    severity: Literal["blocking", "advisory"]
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    thresholds: dict[str, Any] = Field(default_factory=dict)


class IndexSpec(_Strict):
    section: str
    title: str
    answered_by: list[str] = Field(default_factory=list)


class PackSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    version: str
    title: str
    jurisdiction: str
    description: str = ""
    principles: list[PrincipleSpec] = Field(min_length=1)
    checks: list[CheckSpec] = Field(min_length=1)
    index: list[IndexSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class PackCheck:
    """One check of a loaded pack, its function resolved and its options validated."""

    spec: CheckSpec
    definition: CheckDef
    params: Options
    thresholds: Options


@dataclass(frozen=True)
class Pack:
    """A validated policy pack."""

    spec: PackSpec
    checks: tuple[PackCheck, ...]
    source: Literal["builtin", "file"]
    path: str
    sha256: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    def principle_title(self, principle_id: str) -> str:
        for p in self.spec.principles:
            if p.id == principle_id:
                return p.title
        return principle_id


def _type_name(value: Any) -> str:
    return {
        str: "text",
        int: "an integer",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "a mapping",
        type(None): "empty",
    }.get(type(value), type(value).__name__)


def _raise_validation(
    marked: Marked, exc: ValidationError, prefix: KeyPath, model: type[BaseModel]
) -> None:
    err = exc.errors()[0]
    loc: KeyPath = prefix + tuple(err["loc"])
    line = marked.line_of(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _model_at(model, tuple(err["loc"])[:-1])
        allowed = ", ".join(parent.model_fields) if parent is not None else ""
        msg = f"unknown key '{loc[-1]}'" + (f" (allowed: {allowed})" if allowed else "")
    elif kind == "missing":
        msg = f"required key '{loc[-1]}' is missing"
    elif kind.endswith("_type") or kind in ("literal_error", "string_pattern_mismatch"):
        msg = f"{err['msg']}, got {_type_name(err.get('input'))} {err.get('input')!r}"
    elif kind == "value_error":
        msg = str(err["msg"]).removeprefix("Value error, ")
    elif isinstance(err.get("input"), int | float | str):
        msg = f"{err['msg']}, got {err.get('input')!r}"
    else:
        msg = err["msg"]
    raise policy_error(marked.path, line, loc, msg) from exc


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the key at `loc` (for the list of allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        field = fields.get(part) if isinstance(fields, dict) else None
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        inner = next(
            (a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if inner is None:
            return None
        current = inner
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def parse_pack(marked: Marked, *, source: Literal["builtin", "file"]) -> Pack:
    """Validate a parsed pack document; every error names the file, the line and the key."""
    if not isinstance(marked.data, dict):
        raise policy_error(
            marked.path, 1, None, f"a pack is a mapping of keys, got {_type_name(marked.data)}"
        )
    try:
        spec = PackSpec.model_validate(marked.data)
    except ValidationError as exc:
        _raise_validation(marked, exc, (), PackSpec)
        raise  # unreachable
    if source == "file" and spec.id in builtin_pack_ids():
        raise policy_error(
            marked.path, marked.line_of(("id",)), ("id",),
            f"{spec.id!r} is the id of a built-in pack; give your pack an id of its own "
            f"(e.g. {spec.id}-acme), so that no report or JUnit file shows it as the built-in",
        )  # fmt: skip
    principles = {p.id for p in spec.principles}
    seen: dict[str, int] = {}
    checks: list[PackCheck] = []
    for i, c in enumerate(spec.checks):
        base: KeyPath = ("checks", i)
        if c.id in seen:
            raise policy_error(
                marked.path, marked.line_of((*base, "id")), (*base, "id"),
                f"check id {c.id!r} is used twice (first in checks[{seen[c.id]}])",
            )  # fmt: skip
        seen[c.id] = i
        if c.principle not in principles:
            raise policy_error(
                marked.path, marked.line_of((*base, "principle")), (*base, "principle"),
                f"principle {c.principle!r} is not declared under 'principles' "
                f"(declared: {', '.join(sorted(principles))})",
            )  # fmt: skip
        definition = get_check(c.check)
        if definition is None:
            from policies._registry import registered_checks

            known = ", ".join(registered_checks())
            raise policy_error(
                marked.path, marked.line_of((*base, "check")), (*base, "check"),
                f"unknown check id {c.check!r} (registered: {known})",
            )  # fmt: skip
        params = _validate_options(marked, definition.params, c.params, (*base, "params"))
        thresholds = _validate_options(
            marked, definition.thresholds, c.thresholds, (*base, "thresholds")
        )
        problem = definition.validate(params, thresholds) if definition.validate else None
        if problem is not None:
            loc = (*base, *problem[0].split("."))
            raise policy_error(marked.path, marked.line_of(loc), loc, problem[1])
        checks.append(
            PackCheck(spec=c, definition=definition, params=params, thresholds=thresholds)
        )
    for i, entry in enumerate(spec.index):
        for j, ref in enumerate(entry.answered_by):
            if ref.split(".")[0] in (
                "fairness",
                "privacy",
                "discovery",
                "model",
                "inputs",
                "provenance",
                "policy",
            ):
                continue
            if ref not in seen:
                loc = ("index", i, "answered_by", j)
                raise policy_error(
                    marked.path, marked.line_of(loc), loc,
                    f"{ref!r} is neither a check id of this pack nor an assessment section",
                )  # fmt: skip
    digest = hashlib.sha256(marked.text.encode("utf-8")).hexdigest()
    return Pack(
        spec=spec, checks=tuple(checks), source=source, path=str(marked.path), sha256=digest
    )


def _validate_options(
    marked: Marked, model: type[Options], raw: dict[str, Any], loc: KeyPath
) -> Options:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        _raise_validation(marked, exc, loc, model)
        raise  # unreachable


def builtin_pack_ids() -> list[str]:
    """The ids of the packs shipped in `policies/packs/`."""
    folder = resources.files("policies") / "packs"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_pack(ref: str | Path) -> Pack:
    """A pack by built-in id (`feat`) or by path to a YAML file."""
    text_ref = str(ref)
    looks_like_path = (
        isinstance(ref, Path) or text_ref.endswith((".yaml", ".yml")) or "/" in text_ref
    )
    if not looks_like_path and re.match(ID_PATTERN, text_ref):
        resource = resources.files("policies") / "packs" / f"{text_ref}.yaml"
        if resource.is_file():
            path = Path(str(resource))
            return parse_pack(
                parse_marked(resource.read_text(encoding="utf-8"), path=path), source="builtin"
            )
        if not Path(text_ref).is_file():
            raise PolicyError(
                f"no built-in pack {text_ref!r} and no such file",
                field="policy",
                hint=f"built-in packs: {', '.join(builtin_pack_ids())}; or give a YAML file",
            )
    return parse_pack(load_marked(text_ref, what="policy pack"), source="file")


def location(pack: Pack, check_id: str) -> str:
    """`checks[i]` of a check id, for messages."""
    for i, c in enumerate(pack.spec.checks):
        if c.id == check_id:
            return dotted(("checks", i))
    return check_id
