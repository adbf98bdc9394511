"""Fixes from the statistical review of the fairness engine (each fails on the old code)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compliance.evidence.fairness import Disparity, FairnessSection
from compliance.fairness import FairnessOptions, assess_fairness


def _frame(groups: dict[str, tuple[int, int]], seed: int = 0) -> pd.DataFrame:
    """Rows of groups g -> (n, how many predicted positive); labels at random."""
    rng = np.random.default_rng(seed)
    parts = []
    for g, (n, selected) in groups.items():
        pred = np.zeros(n, dtype=int)
        pred[:selected] = 1
        parts.append(pd.DataFrame({"g": g, "y": rng.integers(0, 2, n), "pred": pred}))
    return pd.concat(parts, ignore_index=True)


def _assess(frame: pd.DataFrame, attrs: list[str] | None = None, **options: object):
    opts = FairnessOptions(**{"depth": 1, "bootstrap": 0, **options})  # type: ignore[arg-type]
    return assess_fairness(
        frame["y"].to_numpy(), frame["pred"].to_numpy(), None, frame[attrs or ["g"]], options=opts
    )


def _find(section: FairnessSection, metric: str, slice_: dict[str, str], ref: object) -> Disparity:
    found = [
        d
        for d in section.disparities
        if d.metric == metric and d.slice == slice_ and d.reference == ref
    ]
    assert len(found) == 1, (metric, slice_, ref)
    return found[0]


# ---------------------------------------------------------------- H1


def test_four_fifths_reads_favourable_rates_when_the_positive_label_is_unfavourable() -> None:
    # the positive label is "default": A is refused 36% of the time, B 8%
    frame = _frame({"A": (200, 72), "B": (200, 16)})
    sec = _assess(frame, positive_label_favourable=False)
    d = _find(sec, "selection_rate", {"g": "A"}, {"g": "B"})
    assert d.ratio.value == pytest.approx(0.36 / 0.08)  # the ratio of the metric, as named
    assert d.four_fifths_ratio is not None
    assert d.four_fifths_ratio.value == pytest.approx(0.64 / 0.92)
    assert d.four_fifths_flag is True


def test_four_fifths_is_unchanged_when_the_positive_label_is_favourable() -> None:
    frame = _frame({"A": (200, 72), "B": (200, 120)})
    sec = _assess(frame)
    d = _find(sec, "selection_rate", {"g": "A"}, {"g": "B"})
    assert d.four_fifths_ratio is not None
    assert d.four_fifths_ratio.value == d.ratio.value == pytest.approx(72 / 120)
    assert d.four_fifths_flag is True
    assert _find(sec, "selection_rate", {"g": "A"}, "overall").four_fifths_flag is None
