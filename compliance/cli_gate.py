"""CLI commands of the policies issue: `gate` and `attest`. Keep imports light."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the policy commands to `app`."""
