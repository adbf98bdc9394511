"""CLI commands of the reports issue: `report`, `keygen`, `verify`, `pack`. Keep imports light."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the report commands to `app`."""
