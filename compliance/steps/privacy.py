"""The privacy step: runs the attack suite (`attacks`) for the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compliance.errors import InputError

if TYPE_CHECKING:
    from compliance.evidence.privacy import PrivacySection
    from compliance.runner import RunContext


def run(ctx: RunContext) -> PrivacySection:
    raise InputError("the privacy attack suite is not available yet", field="attacks")
