"""The policy step: evaluates policy packs on the finished assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compliance.errors import InputError

if TYPE_CHECKING:
    from compliance.assessment import Assessment
    from compliance.runner import RunContext


def run(ctx: RunContext, assessment: Assessment) -> Assessment:
    raise InputError("policy packs are not available yet", field="policy")
