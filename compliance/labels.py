"""Validation and encoding of targets, predictions and scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from compliance.errors import DataError


def encode_binary_target(
    y: pd.Series, *, positive_label: str | None, path: str | Path, field: str
) -> tuple[np.ndarray, tuple[str, str]]:
    """Encode a two-valued target as 0/1; returns the codes and (negative, positive) labels.

    Without `positive_label`, 1 (or True) is positive when present, else the larger value.
    """
    as_str = y.astype(str).str.strip()
    values = sorted(as_str.unique())
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:6])
        raise DataError(
            f"a binary target was asked for but the column has {len(values)} classes ({shown})",
            path=path,
            field=field,
        )
    if positive_label is not None:
        if positive_label not in values:
            raise DataError(
                f"--positive-label {positive_label!r} is not a value of the target "
                f"({', '.join(repr(v) for v in values)})",
                path=path,
                field=field,
            )
        positive = positive_label
    elif "1" in values:
        positive = "1"
    elif "True" in values:
        positive = "True"
    else:
        positive = values[-1]
    others = [v for v in values if v != positive]
    negative = others[0] if others else "not " + positive
    return (as_str == positive).to_numpy(dtype=np.int8), (negative, positive)


def validate_scores(scores: pd.Series, *, path: str | Path, field: str) -> np.ndarray:
    """Scores must be numeric probabilities, present for every row."""
    numeric = pd.to_numeric(scores, errors="coerce")
    bad = numeric.isna() & scores.notna()
    if bad.any():
        example = scores[bad].iloc[0]
        raise DataError(
            f"scores must be numeric; {int(bad.sum())} rows are not (e.g. {example!r})",
            path=path,
            field=field,
        )
    if numeric.isna().any():
        raise DataError(f"{int(numeric.isna().sum())} rows have no score", path=path, field=field)
    values = np.asarray(numeric.to_numpy(dtype=float))
    outside = ~((values >= 0.0) & (values <= 1.0))
    if outside.any():
        raise DataError(
            f"scores must be probabilities between 0 and 1 (the Brier score and calibration "
            f"compare them with the labels); {int(outside.sum())} rows are not "
            f"(e.g. {values[outside][0]:g})",
            path=path,
            field=field,
            hint="turn logits into probabilities first (1 / (1 + exp(-logit)))",
        )
    return values
