"""Evidence of slice discovery and proxy detection (slice-discovery issue)."""

from __future__ import annotations

from pydantic import Field

from compliance.evidence._base import Frozen


class FoundSlice(Frozen):
    definition: dict[str, str | list[float]]
    description: str
    n: int
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    p_adjusted: float | None
    overlaps_protected: bool


class DiscoverySection(Frozen):
    slices_found: list[FoundSlice] = Field(default_factory=list)
