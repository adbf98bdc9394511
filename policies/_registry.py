"""The registry of check functions, by id.

A check reads the saved evidence and returns an `Outcome`; the evaluator turns it into a
`Finding` with the pack's principle, title, severity and thresholds. Built-in checks
register themselves on import; user checks come from the `compliance.checks` entry point
group, each entry point naming a `CheckDef` made with the `check` decorator:

    [project.entry-points."compliance.checks"]
    "acme.coverage" = "acme_checks:coverage"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from compliance.errors import PolicyError

if TYPE_CHECKING:
    from compliance.assessment import Assessment
    from compliance.evidence.policy import AttestationRecord

OutcomeStatus = Literal["pass", "fail", "warn", "open", "insufficient_data", "not_applicable"]

ENTRY_POINT_GROUP = "compliance.checks"
DEFAULT_MIN_CELL = 10
"""The minimum cell size when the assessment holds no fairness evidence (which records it)."""


class Options(BaseModel):
    """Base of a check's parameters and thresholds: strict types, unknown keys refused,
    NaN and infinity refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _fraction(v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"a fraction from 0 to 1 is expected (write 0.03 for 3%), got {v:g}")
    return v


def _level(v: float) -> float:
    if not 0.0 < v <= 1.0:
        raise ValueError(f"a level above 0 and at most 1 is expected (e.g. 0.05), got {v:g}")
    return v


def _non_negative(v: float) -> float:
    if v < 0:
        raise ValueError(f"a number of at least 0 is expected, got {v:g}")
    return v


Fraction = Annotated[float, AfterValidator(_fraction)]
"""A rate, ratio, share or gap between rates: 0 to 1 (a percentage written as 3 is refused)."""
Level = Annotated[float, AfterValidator(_level)]
"""A significance level: above 0, at most 1."""
NonNegative = Annotated[float, AfterValidator(_non_negative)]
"""A finite number of at least 0 (an epsilon, a tolerance)."""
Count = Annotated[int, Field(ge=1)]
"""A number of rows: at least 1."""


class NoOptions(Options):
    """A check without parameters (or without thresholds)."""


@dataclass(frozen=True)
class Outcome:
    """What a check says: a status, one plain sentence, the figures and the slices involved."""

    status: OutcomeStatus
    message: str
    measured: dict[str, Any] = field(default_factory=dict)
    slices: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CheckContext:
    """What a check may read: the assessment, a baseline, a person's answer, the date."""

    assessment: Assessment
    pack: str
    check: str
    as_of: date
    baseline: Assessment | None = None
    attestation: AttestationRecord | None = None

    @property
    def min_cell(self) -> int:
        """The assessment's minimum cell size: smaller group sizes and counts are never
        shown in a finding (`policies._builtin._common.size`)."""
        fairness = self.assessment.fairness
        return fairness.min_cell if fairness is not None else DEFAULT_MIN_CELL


CheckFunc = Callable[[CheckContext, Any, Any], Outcome]
OptionsCheck = Callable[[Any, Any], "tuple[str, str] | None"]
"""Checks a pack's params and thresholds together when the pack is loaded: None, or the
key (`thresholds.max_difference`) and the reason it is refused."""


@dataclass(frozen=True)
class CheckDef:
    """A registered check function with the models of its parameters and thresholds."""

    id: str
    func: CheckFunc
    params: type[Options] = NoOptions
    thresholds: type[Options] = NoOptions
    summary: str = ""
    validate: OptionsCheck | None = None

    @property
    def asks_question(self) -> bool:
        """Whether the check needs a person's answer (its parameters carry a question)."""
        return "question" in self.params.model_fields


_REGISTRY: dict[str, CheckDef] = {}
_entry_points_loaded = False


def check(
    id: str,
    *,
    params: type[Options] = NoOptions,
    thresholds: type[Options] = NoOptions,
    summary: str = "",
    register: bool = True,
    validate: OptionsCheck | None = None,
) -> Callable[[CheckFunc], CheckDef]:
    """Decorator: make a function a check with id `id` (and register it)."""

    def wrap(func: CheckFunc) -> CheckDef:
        definition = CheckDef(
            id=id,
            func=func,
            params=params,
            thresholds=thresholds,
            summary=summary or (func.__doc__ or "").strip().split("\n")[0],
            validate=validate,
        )
        if register:
            register_check(definition)
        return definition

    return wrap


def register_check(definition: CheckDef, *, replace: bool = False) -> None:
    """Add a check to the registry; an id already taken by another function is refused."""
    current = _REGISTRY.get(definition.id)
    if current is not None and current.func is not definition.func and not replace:
        raise PolicyError(f"check id {definition.id!r} is already registered", field="check")
    _REGISTRY[definition.id] = definition


def unregister_check(id: str) -> None:
    _REGISTRY.pop(id, None)


def _load_builtins() -> None:
    from policies import _builtin  # noqa: F401  (registers on import)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            raise PolicyError(
                f"entry point {ep.name} = {ep.value} of group {ENTRY_POINT_GROUP} cannot be "
                f"loaded: {type(exc).__name__}: {exc}",
                field="check",
            ) from exc
        if not isinstance(obj, CheckDef):
            raise PolicyError(
                f"entry point {ep.name} = {ep.value} is a {type(obj).__name__}, not a check "
                "made with policies.check(...)",
                field="check",
            )
        register_check(obj)


def get_check(id: str) -> CheckDef | None:
    """The check registered under `id`, looking at installed entry points when needed."""
    _load_builtins()
    if id not in _REGISTRY:
        _load_entry_points()
    return _REGISTRY.get(id)


def registered_checks() -> dict[str, CheckDef]:
    """Every registered check, built-in and from entry points."""
    _load_builtins()
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))
