"""Shared building blocks of the evidence models."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, field_validator


class Frozen(BaseModel):
    """A frozen, strict model: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Estimate(Frozen):
    """A point estimate with its confidence interval; `None` where undefined."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None

    @field_validator("value", "ci_low", "ci_high", mode="before")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        return _finite_or_none(v)
