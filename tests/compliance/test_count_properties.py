"""Properties of the count arithmetic: row order is irrelevant, slices add up, draws are honest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.fairness import compute_slice_statistics
from compliance.metrics import count_metrics
from compliance.slicing import build_slices
from compliance.stats import adjust_pvalues


@st.composite
def labelled_rows(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=5, max_value=200))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    a, b = rng.choice(["x", "y", "z"], size=n), rng.choice(["p", "q"], size=n)
    a[:2], b[:2] = ["x", "y"], ["p", "q"]  # two groups at least: one is no comparison
    return pd.DataFrame({
        "a": a,
        "b": b,
        "y": rng.integers(0, 2, size=n),
        "pred": rng.integers(0, 2, size=n),
        "score": rng.random(n),
    })  # fmt: skip


def _stats(frame: pd.DataFrame, scores: bool):
    index = build_slices(frame, ["a", "b"], depth=2)
    return compute_slice_statistics(
        frame["y"].to_numpy(), frame["pred"].to_numpy(),
        frame["score"].to_numpy() if scores else None, index, bootstrap=0,
    )  # fmt: skip


def _by_slice(stats) -> dict:
    return {
        tuple(sorted(s.attributes.items())): {k: v[i] for k, v in stats.values.items()}
        for i, s in enumerate(stats.index.slices)
    }


@settings(max_examples=40, deadline=None)
@given(labelled_rows(), st.integers(min_value=0, max_value=1000), st.booleans())
def test_permuting_rows_changes_nothing(frame: pd.DataFrame, seed: int, scores: bool) -> None:
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    a, b = _by_slice(_stats(frame, scores)), _by_slice(_stats(shuffled, scores))
    assert a.keys() == b.keys()
    for key in a:
        for metric, value in a[key].items():
            np.testing.assert_allclose(
                value, b[key][metric], rtol=1e-12, atol=1e-12, equal_nan=True
            )


@settings(max_examples=40, deadline=None)
@given(labelled_rows())
def test_slices_of_one_dimension_add_up_to_the_whole(frame: pd.DataFrame) -> None:
    stats = _stats(frame, scores=False)
    overall = stats.counts[0]
    for dim in stats.index.dimensions:
        ids = [i for i, s in enumerate(stats.index.slices) if s.dimension == dim]
        np.testing.assert_array_equal(stats.counts[ids].sum(axis=0), overall)
    merged = count_metrics(
        stats.counts[[i for i, s in enumerate(stats.index.slices) if s.dimension == ("a",)]].sum(
            axis=0
        )
    )
    for metric, value in merged.items():
        np.testing.assert_allclose(value, stats.values[metric][0], equal_nan=True)


def test_multinomial_draws_match_row_resampling() -> None:
    """The count bootstrap has the spread of resampling rows (same mean and s.d. within 10%)."""
    rng = np.random.default_rng(1)
    n = 4000
    frame = pd.DataFrame({
        "a": rng.choice(["x", "y"], size=n, p=[0.8, 0.2]),
        "y": rng.integers(0, 2, size=n),
    })  # fmt: skip
    frame["pred"] = np.where(rng.random(n) < 0.8, frame["y"], 1 - frame["y"])
    index = build_slices(frame, ["a"], depth=1)
    stats = compute_slice_statistics(
        frame["y"].to_numpy(), frame["pred"].to_numpy(), None, index, bootstrap=2000, seed=3
    )
    sid = next(i for i, s in enumerate(index.slices) if s.attributes == {"a": "y"})
    ours = stats.draws["true_positive_rate"][:, sid]
    rows = []
    for _ in range(2000):
        sample = frame.iloc[rng.integers(0, n, size=n)]
        sub = sample[sample["a"] == "y"]
        rows.append(((sub["y"] == 1) & (sub["pred"] == 1)).sum() / (sub["y"] == 1).sum())
    rows_arr = np.array(rows)
    assert ours.mean() == pytest.approx(rows_arr.mean(), abs=0.005)
    assert ours.std() == pytest.approx(rows_arr.std(), rel=0.1)


def test_holm_and_bh_agree_with_hand_computed_values() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(adjust_pvalues(p, "fdr_bh"), [0.02, 0.04, 0.04, 0.02])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=30))
def test_adjusted_pvalues_are_at_least_the_raw_ones(p: list[float]) -> None:
    arr = np.array(p)
    for method in ("holm", "fdr_bh"):
        adj = adjust_pvalues(arr, method)
        assert np.all(adj >= arr - 1e-15) and np.all(adj <= 1.0)
