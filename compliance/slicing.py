"""Slices: protected attributes alone and their intersections, as groups of fine cells.

One pass factorises every protected column (numeric ones binned into named bins) and
combines the codes into one "fine group" per row: the finest partition, the full
intersection of all protected attributes that occur. Every slice (an attribute alone,
or an intersection of up to `depth` attributes) is a union of fine groups, so its
statistics are sums of the fine groups' statistics: a small matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from compliance.errors import DataError

MISSING_LABEL = "(missing)"
MAX_CATEGORIES = 50


@dataclass(frozen=True)
class Slice:
    """One slice: its attribute values and the fine groups it unites."""

    attributes: dict[str, str]
    dimension: tuple[str, ...]


@dataclass(frozen=True)
class SliceIndex:
    """Rows mapped to fine groups, and slices as unions of fine groups."""

    fine_codes: np.ndarray
    n_fine: int
    slices: list[Slice]
    membership: np.ndarray  # (n_slices, n_fine) 0/1 float; row 0 is the whole population
    bins: dict[str, list[str]]
    bin_edges: dict[str, list[float]]

    @property
    def dimensions(self) -> list[tuple[str, ...]]:
        seen: dict[tuple[str, ...], None] = {}
        for s in self.slices[1:]:
            seen.setdefault(s.dimension, None)
        return list(seen)


def _fmt(x: float) -> str:
    """The shortest text that reads back as `x` (so no two edges share a label)."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def bin_labels(edges: list[float]) -> list[str]:
    """Readable names of the bins cut at `edges`: '< 25', '25 to < 40', ..., '>= 60'."""
    labels = [f"< {_fmt(edges[0])}"]
    labels += [f"{_fmt(lo)} to < {_fmt(hi)}" for lo, hi in pairwise(edges)]
    labels.append(f">= {_fmt(edges[-1])}")
    return labels


def quantile_edges(values: np.ndarray, n_bins: int) -> list[float]:
    """Inner cut points at the quantiles of `values`, duplicates removed."""
    finite = values[np.isfinite(values)]
    qs = np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1], method="lower")
    edges = sorted({float(q) for q in qs})
    lo = float(finite.min())
    return [e for e in edges if e > lo] or [float(np.median(finite)) + 0.5]


def _is_binnable(series: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(series)
        and not pd.api.types.is_bool_dtype(series)
        and (series.nunique(dropna=True) > 10)
    )


def attribute_codes(
    series: pd.Series,
    *,
    edges: list[float] | None,
    n_quantiles: int,
    categorical: bool = False,
) -> tuple[np.ndarray, list[str], list[float] | None]:
    """Each row's group code for one attribute, the groups' labels, and the bin edges used
    (given, or the quantiles of the values) if binned.

    Categorical values are sorted by label; bins keep their order; missing values form
    the group "(missing)", last. Only groups that occur are kept. `categorical` keeps
    a numeric attribute's values as they are (no quantile bins) when no edges are given.
    """
    if edges is not None or (not categorical and _is_binnable(series)):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        if edges is None:
            edges = quantile_edges(values, n_quantiles)
        bin_names = bin_labels(edges)
        codes = np.searchsorted(np.asarray(edges), values, side="right").astype(np.int64)
        codes[~np.isfinite(values)] = len(bin_names)
        labels = [*bin_names, MISSING_LABEL]
    else:
        raw, uniques = pd.factorize(series, use_na_sentinel=True)
        names = [
            str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
            for v in uniques
        ]
        distinct, remap = np.unique(np.asarray(names, dtype=str), return_inverse=True)
        labels = [str(x) for x in distinct] + [MISSING_LABEL]
        table = np.append(np.asarray(remap, dtype=np.int64).ravel(), len(distinct))
        codes = table[raw]  # the sentinel -1 picks the last entry: missing
    present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    compress = np.full(len(labels), -1, dtype=np.int64)
    compress[present] = np.arange(len(present))
    return compress[codes], [labels[i] for i in present], edges


def build_slices(
    frame: pd.DataFrame,
    attributes: list[str],
    *,
    depth: int,
    bins: dict[str, list[float]] | None = None,
    n_quantiles: int = 4,
    path: str | Path | None = None,
) -> SliceIndex:
    """Factorise the protected columns and enumerate the slices up to `depth`."""
    bins = bins or {}
    unknown = [b for b in bins if b not in attributes]
    if unknown:
        raise DataError(
            f"--bins names {unknown[0]!r}, which is not a protected attribute", field=unknown[0]
        )
    codes: list[np.ndarray] = []
    uniques: list[np.ndarray] = []
    bin_names: dict[str, list[str]] = {}
    bin_edges: dict[str, list[float]] = {}
    for attr in attributes:
        if frame[attr].isna().all():
            raise DataError(
                "every value of the protected attribute is missing: its slices would be empty",
                path=path,
                field=attr,
            )
        edges = bins.get(attr)
        if edges is not None:
            present = frame[attr].dropna()
            numeric = pd.to_numeric(present, errors="coerce")
            if numeric.isna().any():
                example = present[numeric.isna()].iloc[0]
                raise DataError(
                    f"--bins cuts a number, but this protected attribute holds values like "
                    f"{str(example)!r}; drop --bins {attr}=... for a categorical attribute",
                    path=path,
                    field=attr,
                )
        code, labels, used = attribute_codes(frame[attr], edges=edges, n_quantiles=n_quantiles)
        if used is not None:
            bin_names[attr] = bin_labels(used)
            bin_edges[attr] = [float(e) for e in used]
        uniq = np.asarray(labels, dtype=object)
        if len(uniq) == 1:
            raise DataError(
                f"every row has the same value ({labels[0]!r}): there are no groups to "
                "compare; drop it from --protected, or assess data that holds its other groups",
                path=path,
                field=attr,
            )
        if len(uniq) > MAX_CATEGORIES:
            raise DataError(
                f"the protected attribute has {len(uniq)} distinct values (more than "
                f"{MAX_CATEGORIES}); bin it with --bins or choose a categorical attribute",
                path=path,
                field=attr,
            )
        codes.append(code.astype(np.int64))
        uniques.append(uniq)
    # mixed-radix combination, then compress to the fine groups that occur
    combined = np.zeros(len(frame), dtype=np.int64)
    for code, uniq in zip(codes, uniques, strict=True):
        combined = combined * len(uniq) + code
    radix = int(np.prod([len(u) for u in uniques], dtype=np.float64))
    if radix >= 2**62:
        raise DataError(
            f"{len(attributes)} protected attributes have too many combinations of values "
            f"({radix:.3g}); assess fewer at once",
            path=path,
            field=",".join(attributes),
        )
    if radix <= 4 * len(frame) + 1024:  # O(n) compression when the code space is small
        present = np.bincount(combined, minlength=radix) > 0
        fine_keys = np.flatnonzero(present)
        fine_codes = (np.cumsum(present) - 1)[combined]
    else:
        fine_keys, fine_codes = np.unique(combined, return_inverse=True)
    n_fine = len(fine_keys)
    # decode each fine group's code per attribute
    fine_attr_codes = np.zeros((n_fine, len(attributes)), dtype=np.int64)
    rest = fine_keys.copy()
    for j in range(len(attributes) - 1, -1, -1):
        size = len(uniques[j])
        fine_attr_codes[:, j] = rest % size
        rest //= size
    slices = [Slice(attributes={}, dimension=())]
    rows = [np.ones(n_fine)]
    for d in range(1, min(depth, len(attributes)) + 1):
        for dim in combinations(range(len(attributes)), d):
            sub = fine_attr_codes[:, list(dim)]
            keys, inverse = np.unique(sub, axis=0, return_inverse=True)
            inverse = np.asarray(inverse).ravel()
            for k, key in enumerate(keys):
                attrs = {attributes[a]: str(uniques[a][key[i]]) for i, a in enumerate(dim)}
                slices.append(Slice(attributes=attrs, dimension=tuple(attributes[a] for a in dim)))
                rows.append((inverse == k).astype(float))
    return SliceIndex(
        fine_codes=np.asarray(fine_codes).ravel(),
        n_fine=n_fine,
        slices=slices,
        membership=np.vstack(rows),
        bins=bin_names,
        bin_edges=bin_edges,
    )
