"""Benchmark: the fairness engine against fairlearn's MetricFrame on the same arrays.

1,000,000 rows, two protected attributes with 5 and 4 levels (20 intersections), the
twelve count metrics; ours with 1,000 bootstrap draws (and slices for each attribute
alone as well as the intersections), fairlearn without any bootstrap. Also the peak
memory of our computation (tracemalloc) against the size of the input arrays.

    .venv/bin/python benchmarks/bench_fairness.py [--rows 1000000] [--draws 1000] [--scores]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from compliance.fairness import FairnessOptions, assess_fairness


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    a = rng.choice(np.array(["a0", "a1", "a2", "a3", "a4"], dtype=object), size=n)
    b = rng.choice(np.array(["b0", "b1", "b2", "b3"], dtype=object), size=n)
    y = rng.integers(0, 2, size=n)
    score = np.clip(0.5 * y + rng.normal(0.25, 0.2, size=n), 0, 1)
    pred = (score >= 0.5).astype(np.int64)
    return y, pred, score, pd.DataFrame({"a": a, "b": b})


def run_ours(y, pred, score, sens, draws: int) -> object:
    opts = FairnessOptions(bootstrap=draws, depth=2, seed=0)
    return assess_fairness(y, pred, score, sens, options=opts)


def run_fairlearn(y, pred, sens) -> float:
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )  # fmt: skip
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, precision_score

    def npv(t, p):
        return ((t == 0) & (p == 0)).sum() / max((p == 0).sum(), 1)

    def fdr(t, p):
        return ((t == 0) & (p == 1)).sum() / max((p == 1).sum(), 1)

    def for_(t, p):
        return ((t == 1) & (p == 0)).sum() / max((p == 0).sum(), 1)

    metrics = {
        "count": count, "selection_rate": selection_rate, "tpr": true_positive_rate,
        "fpr": false_positive_rate, "tnr": true_negative_rate, "fnr": false_negative_rate,
        "precision": precision_score, "npv": npv, "fdr": fdr, "for": for_,
        "accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score,
    }  # fmt: skip
    start = time.perf_counter()
    MetricFrame(metrics=metrics, y_true=y, y_pred=pred, sensitive_features=sens)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--scores", action="store_true", help="also AUC, Brier and ECE per slice")
    parser.add_argument("--skip-fairlearn", action="store_true")
    args = parser.parse_args()
    y, pred, score, sens = make_data(args.rows)
    score_arg = score if args.scores else None
    input_bytes = y.nbytes + pred.nbytes + (score.nbytes if args.scores else 0)
    input_bytes += sum(int(sens[c].memory_usage(deep=True, index=False)) for c in sens)
    run_ours(y[:1000], pred[:1000], None, sens.iloc[:1000], 10)  # warm imports
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run_ours(y, pred, score_arg, sens, args.draws)
        times.append(time.perf_counter() - start)
    ours = min(times)
    tracemalloc.start()
    run_ours(y, pred, score_arg, sens, args.draws)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"rows={args.rows:,} draws={args.draws} scores={args.scores}")
    print(f"ours: {ours:.3f} s (best of 3: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"ours peak memory: {peak / 2**20:.1f} MiB; input arrays {input_bytes / 2**20:.1f} MiB; "
          f"ratio {peak / input_bytes:.2f}")  # fmt: skip
    if not args.skip_fairlearn:
        theirs = run_fairlearn(y, pred, sens)
        print(f"fairlearn MetricFrame, no bootstrap: {theirs:.2f} s")
        print(f"speed-up (fairlearn without bootstrap / ours with {args.draws} draws): "
              f"{theirs / ours:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
