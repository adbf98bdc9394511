"""Slice discovery on Adult: this project's SliceLine against the `sliceline` package.

A LightGBM model is trained on the bundled Adult train split and scored on the test split;
both searches look for the slices where it errs, over the same 14 features encoded the
same way (numeric features in quartiles), at the same depth, minimum support, alpha and k.
The script reports both wall times and whether the top slices agree.

    .venv/bin/python benchmarks/bench_slices.py [--depth 3] [--min-support 32] [--k 10]

Needs the `bench` extra (`sliceline`). Prints a Markdown table, and JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from compliance.datasets import load_bundled
from compliance.slice_search import (
    EncodedFeatures,
    encode_features,
    find_slices,
    get_slice_metric,
    sliceline,
)

TARGET = "income"
POSITIVE = ">50K"


def train_and_predict(
    seed: int, split: str = "test"
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, float]:
    """Train LightGBM on Adult train; return the `split` frame, labels, predictions, fit time."""
    import lightgbm as lgb

    train = load_bundled("adult-train")
    test = load_bundled(f"adult-{split}")
    features = [c for c in train.columns if c != TARGET]
    cats = [c for c in features if not pd.api.types.is_numeric_dtype(train[c])]

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[features].copy()
        for c in cats:
            levels = sorted(train[c].dropna().astype(str).unique())
            out[c] = pd.Categorical(out[c].astype("string"), categories=levels)
        return out

    y_train = (train[TARGET] == POSITIVE).to_numpy(dtype=np.int8)
    y_test = (test[TARGET] == POSITIVE).to_numpy(dtype=np.int8)
    start = time.perf_counter()
    params = {
        "objective": "binary",
        "num_leaves": 31,
        "learning_rate": 0.1,
        "seed": seed,
        "verbosity": -1,
        "num_threads": 2,
    }
    booster = lgb.train(params, lgb.Dataset(prepare(train), label=y_train), num_boost_round=200)
    fit = time.perf_counter() - start
    pred = (np.asarray(booster.predict(prepare(test))) >= 0.5).astype(np.int8)
    return test, y_test, pred, fit


def labels_matrix(enc: EncodedFeatures) -> np.ndarray:
    """The encoded levels as text, the input the `sliceline` package one-hot encodes."""
    out = np.empty(enc.codes.shape, dtype=object)
    for j, levels in enumerate(enc.levels):
        text = np.array([str(v) for v in levels], dtype=object)
        out[:, j] = text[enc.codes[:, j]]
    return out


def run_package(
    X: np.ndarray, errors: np.ndarray, *, depth: int, min_support: int, alpha: float, k: int
) -> tuple[list[frozenset[tuple[int, str]]], list[float], float]:
    from sliceline.slicefinder import Slicefinder

    start = time.perf_counter()
    sf = Slicefinder(alpha=alpha, k=k, max_l=depth, min_sup=min_support, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sf.fit(X, errors)
    elapsed = time.perf_counter() - start
    slices = []
    for row in sf.top_slices_:
        slices.append(frozenset((j, str(v)) for j, v in enumerate(row) if v is not None))
    scores = [float(s["slice_score"]) for s in sf.top_slices_statistics_]
    return slices, scores, elapsed


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--min-support", type=int, default=32)
    ap.add_argument("--alpha", type=float, default=0.95)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--quantile-bins", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--split",
        choices=["test", "train"],
        default="test",
        help="the Adult split searched (train: in-sample predictions, twice the rows)",
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each; the best counts")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    frame, y_true, y_pred, fit_s = train_and_predict(args.seed, args.split)
    features = [c for c in frame.columns if c != TARGET]
    errors = (y_true != y_pred).astype(np.float64)
    metric = get_slice_metric("error_rate")

    ours_full = []
    report = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = find_slices(
            frame,
            y_true,
            y_pred,
            features=features,
            protected=["sex", "race"],
            metric=metric,
            max_depth=args.depth,
            min_support=args.min_support,
            alpha=args.alpha,
            k=args.k,
            quantile_bins=args.quantile_bins,
        )
        ours_full.append(time.perf_counter() - start)
    assert report is not None
    enc = encode_features(frame, features, quantile_bins=args.quantile_bins)
    ours_search = []
    result = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = sliceline(
            enc.codes,
            enc.n_levels,
            errors,
            max_depth=args.depth,
            min_support=args.min_support,
            alpha=args.alpha,
            k=args.k,
        )
        ours_search.append(time.perf_counter() - start)
    assert result is not None
    X = labels_matrix(enc)
    pkg_times = []
    pkg_slices: list[frozenset[tuple[int, str]]] = []
    pkg_scores: list[float] = []
    for _ in range(args.repeat):
        pkg_slices, pkg_scores, t = run_package(
            X, errors, depth=args.depth, min_support=args.min_support, alpha=args.alpha, k=args.k
        )
        pkg_times.append(t)
    ours = [frozenset((f, str(enc.levels[f][v])) for f, v in c.items) for c in result.top]
    ours_scores = [c.score for c in result.top]
    common = set(ours) & set(pkg_slices)
    top1 = bool(ours and pkg_slices and ours[0] == pkg_slices[0])
    score_diff = max(
        (abs(a - b) for a, b in zip(ours_scores, pkg_scores, strict=False)), default=float("nan")
    )
    out = {
        "split": args.split,
        "rows": len(frame),
        "features": len(features),
        "depth": args.depth,
        "min_support": args.min_support,
        "alpha": args.alpha,
        "k": args.k,
        "error_rate": float(errors.mean()),
        "model_fit_s": round(fit_s, 2),
        "ours_search_s": round(min(ours_search), 3),
        "ours_full_s": round(min(ours_full), 3),
        "sliceline_pkg_s": round(min(pkg_times), 3),
        "ours_evaluated": result.evaluated,
        "ours_pruned": result.pruned,
        "family_size": report.family_size,
        "top_k_common": len(common),
        "top_k_ours": len(ours),
        "top_k_pkg": len(pkg_slices),
        "top1_same": top1,
        "max_score_diff_by_rank": score_diff,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "reported": [
            {
                "description": s.description,
                "n": s.n,
                "value": round(s.value or 0, 3),
                "ci": [round(s.ci_low or 0, 3), round(s.ci_high or 0, 3)],
                "p_adjusted": s.p_adjusted,
                "overlaps_protected": s.overlaps_protected,
            }
            for s in report.slices
        ],
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"Adult test split: {out['rows']} rows, {out['features']} features, "
            f"error rate {out['error_rate']:.3f}; depth {args.depth}, min support "
            f"{args.min_support}, alpha {args.alpha}, k {args.k}"
        )
        print()
        print(f"| | wall time (best of {args.repeat}) |")
        print("|---|---|")
        print(f"| this project, search only | {out['ours_search_s']:.3f} s |")
        print(f"| this project, search + statistics + merge | {out['ours_full_s']:.3f} s |")
        print(f"| `sliceline` {_version()} | {out['sliceline_pkg_s']:.3f} s |")
        print()
        print(
            f"Top-{args.k} agreement: {out['top_k_common']} of {out['top_k_pkg']} slices in "
            f"common; same top slice: {top1}; largest score difference by rank: "
            f"{score_diff:.2e}"
        )
        print()
        print("Reported slices (after merging near-duplicates):")
        for r in out["reported"]:
            print(
                f"- {r['description']}: n={r['n']}, error rate {r['value']} "
                f"[{r['ci'][0]}, {r['ci'][1]}], p_adj={r['p_adjusted']:.2g}, "
                f"protected overlap={r['overlaps_protected']}"
            )
    return out


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("sliceline")
    except metadata.PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
