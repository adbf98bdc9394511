"""Acceptance on Adult: the depth-3 search over 14 features, against the `sliceline` package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_slices.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_slices_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_adult_depth3_search_is_fast_and_agrees_with_sliceline() -> None:
    pytest.importorskip("sliceline")
    out = _bench().main(["--repeat", "1", "--json"])
    assert out["features"] == 14 and out["depth"] == 3
    assert out["ours_full_s"] < 30.0
    assert out["ours_full_s"] < out["sliceline_pkg_s"]
    # the same top-k slices with the same scores, rank by rank
    assert out["top_k_ours"] == out["top_k_pkg"] == 10
    assert out["top_k_common"] == 10
    assert out["top1_same"]
    assert out["max_score_diff_by_rank"] < 1e-9
    assert out["reported"], "the merged report keeps at least one slice"
