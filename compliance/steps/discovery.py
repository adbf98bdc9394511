"""The discovery step: slice search and proxy detection for the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compliance.errors import InputError

if TYPE_CHECKING:
    from compliance.evidence.discovery import DiscoverySection
    from compliance.runner import RunContext


def run(ctx: RunContext) -> DiscoverySection:
    raise InputError("slice discovery is not available yet", field="find-slices")
