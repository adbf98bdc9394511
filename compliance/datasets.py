"""Bundled real data sets (Adult, German credit), read through the same path as a user's file.

Attribution: see `compliance/data/README.md`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from compliance.tables import read_table

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip

BUNDLED = {
    "adult-train": "adult_train.csv.gz",
    "adult-test": "adult_test.csv.gz",
    "german-credit": "german_credit.csv.gz",
}


def bundled_path(name: str) -> Path:
    """The path of a bundled data file, by its short name (see BUNDLED)."""
    if name not in BUNDLED:
        raise KeyError(f"unknown bundled data set {name!r}; known: {', '.join(BUNDLED)}")
    return Path(str(resources.files("compliance") / "data" / BUNDLED[name]))


def load_bundled(name: str) -> pd.DataFrame:
    """Read a bundled data set through `read_table`, as a user's file would be read."""
    return read_table(bundled_path(name))


def convert_adult(raw: str | Path) -> pd.DataFrame:
    """Turn UCI's headerless `adult.data`/`adult.test` into the bundled, headed form.

    The test split's first line is not data and its labels end with a dot; both are
    normalised, so train and test share the labels `<=50K` and `>50K`.
    """
    raw = Path(raw)
    skip = 1 if raw.name.endswith(".test") else 0
    frame = pd.read_csv(
        raw, header=None, names=ADULT_COLUMNS, skiprows=skip, skipinitialspace=True,
        na_values=["?"],
    )  # fmt: skip
    frame = frame.dropna(how="all")
    frame["income"] = frame["income"].str.rstrip(".")
    return frame.reset_index(drop=True)
