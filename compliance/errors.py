"""The exception tree of the project.

ComplianceError
 ├── InputError        bad user input: a file, a column, a flag (exit code 2)
 │    ├── DataError     a data file that cannot be read or lacks a field
 │    ├── ModelLoadError a model artifact that cannot be loaded safely
 │    └── PolicyError   a malformed policy pack, attestation or waiver file
 └── ScoringError      a model that cannot score the data it was given (exit code 2)
"""

from __future__ import annotations

from pathlib import Path


class ComplianceError(Exception):
    """Root of every error this project raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class InputError(ComplianceError):
    """Bad input: the message names the file and the field."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ": ".join([", ".join(where)]) + ": " if where else ""
        super().__init__(prefix + message, hint=hint)
        self.path = None if path is None else str(path)
        self.field = field


class DataError(InputError):
    """A data file that cannot be read, or that lacks a column."""


class ModelLoadError(InputError):
    """A model artifact that cannot be loaded, or only unsafely."""


class PolicyError(InputError):
    """A malformed policy pack, attestation or waiver file."""


class ScoringError(ComplianceError):
    """The model could not score the data."""
