"""Reading tabular data files (CSV, Parquet) the one way every input takes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from compliance.errors import DataError

TABLE_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip", ".parquet", ".pq")


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (optionally compressed) or Parquet file into a DataFrame.

    Empty cells and `?` are read as missing values. Errors name the file.
    """
    p = Path(path)
    if not p.exists():
        raise DataError("no such file", path=p)
    if p.is_dir():
        raise DataError("is a directory, expected a CSV or Parquet file", path=p)
    name = p.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(p)
        elif name.endswith(TABLE_SUFFIXES):
            frame = pd.read_csv(p, na_values=["?"], skipinitialspace=True, low_memory=False)
        else:
            raise DataError(
                f"unsupported file type; expected one of {', '.join(TABLE_SUFFIXES)}", path=p
            )
    except DataError:
        raise
    except Exception as exc:  # pandas and pyarrow raise many kinds
        raise DataError(f"cannot be read as a table ({type(exc).__name__}: {exc})", path=p) from exc
    if frame.empty:
        raise DataError("has no rows", path=p)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def require_columns(
    frame: pd.DataFrame, columns: list[str], *, path: str | Path, what: str
) -> None:
    """Raise a DataError naming the first missing column and the columns that exist."""
    for col in columns:
        if col not in frame.columns:
            shown = ", ".join(list(frame.columns)[:30])
            raise DataError(f"{what} column not found; the file has: {shown}", path=path, field=col)
