"""Numeric protected attributes: the cut points are recorded exactly and name distinct bins."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.fairness import FairnessOptions, assess_fairness
from compliance.slicing import attribute_codes, bin_labels, build_slices


def test_close_edges_keep_distinct_labels_and_exact_values() -> None:
    frame = pd.DataFrame({"x": np.arange(1_000_000, 1_000_040, dtype=float)})
    edges = [1_000_010.5, 1_000_020.25]
    index = build_slices(frame, ["x"], depth=1, bins={"x": edges})
    assert index.bin_edges == {"x": edges}
    labels = index.bins["x"]
    assert labels == ["< 1000010.5", "1000010.5 to < 1000020.25", ">= 1000020.25"]
    assert [s.attributes["x"] for s in index.slices[1:]] == labels


def test_quantile_edges_are_recorded_in_the_evidence() -> None:
    rng = np.random.default_rng(0)
    age = rng.integers(17, 90, size=2_000).astype(float)
    y = rng.integers(0, 2, size=2_000)
    section = assess_fairness(
        y, y, None, pd.DataFrame({"age": age}),
        options=FairnessOptions(bootstrap=0, quantile_bins=4),
    )  # fmt: skip
    edges = section.bin_edges["age"]
    assert edges == sorted(edges) and len(edges) == 3
    assert section.bins["age"] == bin_labels(edges)
    # the edges regroup the rows exactly as the slices did
    codes, labels, _ = attribute_codes(pd.Series(age), edges=edges, n_quantiles=4)
    counts = dict(zip(labels, np.bincount(codes), strict=True))
    assert counts == {s.attributes["age"]: s.n for s in section.slices}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=6, unique=True))
def test_bin_labels_name_every_edge_distinctly(edges: list[float]) -> None:
    edges = sorted(edges)
    labels = bin_labels(edges)
    assert len(set(labels)) == len(labels) == len(edges) + 1
    assert float(labels[0][2:]) == edges[0] and float(labels[-1][3:]) == edges[-1]
