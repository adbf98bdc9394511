"""The acceptance of the attack suite on Adult (slow: about a minute on 2 cores).

Members are half of Adult's train split; the target a fully grown random forest. The
strongest attack must reach TPR >= 15% at 1% FPR and >= 5% at 0.1% FPR with at most 4
reference models in under 2 minutes, far above ART's learned black-box attack on the same
evaluation records; a null control (both sides non-members) must find nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_membership.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_membership", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_random_forest_acceptance_beside_art() -> None:
    bench = _bench()
    args = argparse.Namespace(reference_models=4, jobs=2, seed=0, art_train=6000)
    members, population, _ = bench.adult_splits(0)
    forest, model = bench.forest_target(members)
    assert bench.accuracy(forest, members) == 1.0
    start = time.perf_counter()
    outcome, _ = bench.run_suite(forest, members, population, args)
    seconds = time.perf_counter() - start
    best = next(r for r in outcome.results if r.name == outcome.strongest)
    assert best.reference_models <= 4
    assert (best.tpr_at_fpr["0.01"] or 0) >= 0.15
    assert (best.tpr_at_fpr["0.001"] or 0) >= 0.05
    assert seconds < 120
    pytest.importorskip("art")
    art = bench.run_art(model, members, population, outcome, args)
    assert art["tpr_at_fpr"]["0.01"] < best.tpr_at_fpr["0.01"]
    assert art["auc"] < (best.auc or 0)
    null = bench.null_control(forest, population, args)["rows"]
    for row in null:
        assert row["auc"] < 0.52 and row["epsilon_lower_bound"] < 0.5


@pytest.mark.slow
def test_lightgbm_readings_separate_default_from_shallow() -> None:
    """LightGBM defaults leak a little (benchmarks/README.md: moderate, not low): an attack's
    lower bound passes 3% at 1% FPR. A shallower LightGBM with the same population accuracy
    is not shown to leak (every lower bound under 3%) but not shown safe either (the best
    upper bound is over 3%): inconclusive. Both null controls find nothing."""
    bench = _bench()
    args = argparse.Namespace(reference_models=4, jobs=2, seed=0)
    members, population, _ = bench.adult_splits(0)
    outcomes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, params in (("default", None), ("shallow", bench.SHALLOW)):
            directory = Path(tmp) / name
            directory.mkdir()
            handle = bench.lightgbm_target(members, directory, params)
            outcomes[name], _ = bench.run_suite(handle, members, population, args)
            assert abs(bench.accuracy(handle, population) - 0.87) < 0.01
            for row in bench.null_control(handle, population, args)["rows"]:
                assert row["auc"] < 0.52 and row["epsilon_lower_bound"] < 0.5
    default, shallow = outcomes["default"], outcomes["shallow"]
    assert default.risk == "moderate", [r.summary for r in default.results]
    assert shallow.risk == "inconclusive", [r.summary for r in shallow.results]

    def lower_bound(r: Any) -> float:
        return float(r.tpr_at_fpr_bounds["0.01"].ci_low)

    assert max(lower_bound(r) for r in default.results) >= 0.03
    assert max(lower_bound(r) for r in shallow.results) < 0.03

    def best_tpr(outcome: Any) -> float:
        return max((r.tpr_at_fpr["0.01"] or 0.0) for r in outcome.results)

    assert best_tpr(default) > best_tpr(shallow)
