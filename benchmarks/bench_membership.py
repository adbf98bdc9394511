"""Membership-inference benchmark on Adult: the suite beside IBM ART, in one run.

Setup (the acceptance of issue 3): bundled Adult (train and test splits, deduplicated,
missing categories filled), members = a random half of the train split (seed 0),
population = the other half plus the test split. Targets:

1. a fully grown scikit-learn RandomForest (100 trees, ordinal-encoded categories),
2. LightGBM with default parameters (100 rounds), saved and loaded as a native text file,
   then a shallower LightGBM (max_depth 4, 15 leaves) with the same population accuracy.

The suite runs every default attack with `--reference-models` (4) reference models trained
on `--jobs` (2) cores. ART's `MembershipInferenceBlackBox` (learned attack, random-forest
attack model) is trained on members and non-members that are not in the evaluation set and
evaluated on exactly the suite's evaluation records; its training sample is bounded by
`--art-train` per side (ART took 233 s on the full LightGBM setting, see DESIGN.md).

Run: .venv/bin/python benchmarks/bench_membership.py [--skip-art] [--skip-lightgbm]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attacks import MembershipOptions, run_membership, summarise_roc
from attacks._roc import epsilon_lower_bound
from compliance.datasets import load_bundled
from compliance.models import ModelHandle, load_model

TARGET = "income"


def adult_splits(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Members, population, and which population rows come from the train split."""
    train, test = load_bundled("adult-train"), load_bundled("adult-test")
    full = pd.concat([train, test], ignore_index=True)
    for col in full.columns:
        if not pd.api.types.is_numeric_dtype(full[col]):
            full[col] = full[col].fillna("missing").astype(str)
    is_train = np.r_[np.ones(len(train), bool), np.zeros(len(test), bool)]
    keep = ~full.duplicated()  # a record in both halves would be a member and a non-member
    full, is_train = full[keep].reset_index(drop=True), is_train[keep.to_numpy()]
    train_rows = np.flatnonzero(is_train)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(train_rows, train_rows.size // 2, replace=False)
    member_mask = np.zeros(len(full), bool)
    member_mask[chosen] = True
    population = full[~member_mask].reset_index(drop=True)
    return full[member_mask].reset_index(drop=True), population, is_train[~member_mask]


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != TARGET and not pd.api.types.is_numeric_dtype(frame[c])]


def forest_target(members: pd.DataFrame) -> tuple[ModelHandle, Any]:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = members.drop(columns=TARGET)
    pre = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            categorical_columns(members),
        ),
        remainder="passthrough",
    )
    model = make_pipeline(pre, RandomForestClassifier(n_estimators=100, random_state=0))
    model.fit(X, members[TARGET])
    handle = ModelHandle(
        kind="sklearn",
        path=None,
        estimator=model,
        feature_names=list(X.columns),
        predict_proba_fn=model.predict_proba,
        predict_fn=model.predict,
        classes=list(model.classes_),
    )
    return handle, model


# A shallower LightGBM (the same population accuracy as the defaults on Adult): the contrast
# that shows the risk reading separates a slightly overfit boosted model from one that is not.
SHALLOW = {"max_depth": 4, "num_leaves": 15}


def lightgbm_target(
    members: pd.DataFrame, directory: Path, params: dict[str, Any] | None = None
) -> ModelHandle:
    import lightgbm as lgb

    X = members.drop(columns=TARGET)
    for col in categorical_columns(members):
        X[col] = X[col].astype("category")
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, **(params or {})},
        lgb.Dataset(X, members[TARGET] == ">50K"),
    )
    path = directory / "lightgbm.txt"
    booster.save_model(str(path))
    return load_model(path)


def accuracy(handle: ModelHandle, frame: pd.DataFrame) -> float:
    proba = handle.predict_proba(frame.drop(columns=TARGET))
    pos = (
        [str(c) for c in handle.classes].index(">50K") if ">50K" in map(str, handle.classes) else 1
    )
    return float(((proba[:, pos] >= 0.5) == (frame[TARGET] == ">50K")).mean())


def run_suite(
    handle: ModelHandle, members: pd.DataFrame, population: pd.DataFrame, args: argparse.Namespace
) -> tuple[Any, float]:
    start = time.perf_counter()
    out = run_membership(
        handle,
        members,
        population,
        target=TARGET,
        protected=["sex", "race"],
        options=MembershipOptions(
            reference_models=args.reference_models, jobs=args.jobs, seed=args.seed
        ),
    )
    return out, time.perf_counter() - start


def run_art(
    model: Any,
    members: pd.DataFrame,
    population: pd.DataFrame,
    outcome: Any,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """ART's learned black-box attack on the forest, evaluated on the suite's records."""
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
    from art.estimators.classification.scikitlearn import ScikitlearnRandomForestClassifier

    pre, forest = model[:-1], model[-1]
    rng = np.random.default_rng(args.seed + 1)
    eval_m, eval_n = outcome.member_rows, outcome.nonmember_rows
    spare_m = np.setdiff1d(np.arange(len(members)), eval_m)
    spare_n = np.setdiff1d(np.arange(len(population)), eval_n)
    n_train = min(args.art_train, spare_m.size, spare_n.size)
    tr_m = rng.choice(spare_m, n_train, replace=False)
    tr_n = rng.choice(spare_n, n_train, replace=False)

    def xy(frame: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        part = frame.iloc[rows]
        x = np.asarray(pre.transform(part.drop(columns=TARGET)), dtype=np.float32)
        y = (part[TARGET] == ">50K").to_numpy(int)
        return x, np.eye(2)[y]

    classifier = ScikitlearnRandomForestClassifier(model=forest)
    attack = MembershipInferenceBlackBox(classifier, attack_model_type="rf")
    start = time.perf_counter()
    attack.fit(*xy(members, tr_m), *xy(population, tr_n))
    xm, ym = xy(members, eval_m)
    xn, yn = xy(population, eval_n)
    scores = np.r_[
        np.ravel(attack.infer(xm, ym, probabilities=True))[: len(eval_m)],
        np.ravel(attack.infer(xn, yn, probabilities=True))[: len(eval_n)],
    ]
    seconds = time.perf_counter() - start
    is_member = np.r_[np.ones(len(eval_m)), np.zeros(len(eval_n))]
    s = summarise_roc(is_member, scores)
    eps = epsilon_lower_bound(is_member, scores, seed=args.seed)
    return {
        "name": "ART MembershipInferenceBlackBox "
        f"(rf attack model, trained on {n_train}+{n_train})",
        "auc": s.auc,
        "tpr_at_fpr": s.tpr_at_fpr,
        "epsilon_lower_bound": eps.value,
        "reference_models": 0,
        "seconds": seconds,
        "n": len(eval_m),
    }


def _control(
    handle: ModelHandle,
    fake_members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    label: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The two RMIA attacks where no "member" was trained on: they must find nothing."""
    start = time.perf_counter()
    out = run_membership(
        handle,
        fake_members.reset_index(drop=True),
        nonmembers.reset_index(drop=True),
        target=TARGET,
        attacks=["rmia_online", "rmia"],
        options=MembershipOptions(
            reference_models=args.reference_models, jobs=args.jobs, seed=args.seed
        ),
    )
    rows = suite_rows(out)
    for r in rows:
        r["name"] = label.format(r["name"])
        r["seconds"] = time.perf_counter() - start
    return {"rows": rows}


def null_control(
    handle: ModelHandle, population: pd.DataFrame, args: argparse.Namespace
) -> dict[str, Any]:
    """The strongest attack where both sides are non-members: it must find nothing.

    The population (records the target never saw) is split in two; one half plays the
    members. Any AUC above 0.5 or positive epsilon here would be an artefact of the method.
    """
    rng = np.random.default_rng(args.seed + 2)
    perm = rng.permutation(len(population))
    half = len(perm) // 2
    return _control(
        handle,
        population.iloc[perm[:half]],
        population.iloc[perm[half:]],
        "null control: {} (both sides non-members)",
        args,
    )


def split_control(
    handle: ModelHandle,
    population: pd.DataFrame,
    from_train: np.ndarray,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The strongest attack with unseen train-split records as "members" against test-split
    records: it must find nothing, or the members-against-population result could come from
    a difference between Adult's two files rather than from the model."""
    return _control(
        handle,
        population[from_train],
        population[~from_train],
        "split control: {} (unseen train-split against test-split)",
        args,
    )


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| attack | AUC | TPR@1%FPR | TPR@0.1%FPR (95% CI) | eps lower bound | ref. models "
        "| seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ci = r.get("ci", "")
        lines.append(
            f"| {r['name']} | {r['auc']:.3f} | {r['tpr_at_fpr']['0.01']:.1%} | "
            f"{r['tpr_at_fpr']['0.001']:.2%}{ci} | {r['epsilon_lower_bound']:.2f} | "
            f"{r['reference_models']} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def suite_rows(outcome: Any) -> list[dict[str, Any]]:
    rows = []
    for r in outcome.results:
        ci = r.tpr_at_fpr_ci["0.001"]
        rows.append(
            {
                "name": r.name,
                "auc": r.auc,
                "tpr_at_fpr": r.tpr_at_fpr,
                "ci": f" ({ci.ci_low:.2%}-{ci.ci_high:.2%})",
                "epsilon_lower_bound": r.epsilon_lower_bound,
                "reference_models": r.reference_models,
                "seconds": r.seconds,
                "risk": r.risk,
                "tpr_bounds_at_1pct": [
                    r.tpr_at_fpr_bounds["0.01"].ci_low,
                    r.tpr_at_fpr_bounds["0.01"].ci_high,
                ],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference-models", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--art-train", type=int, default=6000, help="ART attack-training records per side (bounded)"
    )
    parser.add_argument("--skip-art", action="store_true")
    parser.add_argument("--skip-lightgbm", action="store_true")
    parser.add_argument("--skip-null", action="store_true", help="skip the null and split controls")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    # pandas 3 warns when the LightGBM loader maps categories unseen in training to missing
    warnings.filterwarnings("ignore", message="Constructing a Categorical with a dtype and values")

    members, population, from_train = adult_splits(args.seed)
    print(
        f"Adult: {len(members)} members (half the train split), "
        f"{len(population)} population records"
    )
    report: dict[str, Any] = {}

    t = time.perf_counter()
    forest, model = forest_target(members)
    print(
        f"\n## Random forest (fully grown, 100 trees): fit {time.perf_counter() - t:.1f} s, "
        f"train accuracy {accuracy(forest, members):.3f}, "
        f"population accuracy {accuracy(forest, population):.3f}"
    )
    outcome, seconds = run_suite(forest, members, population, args)
    rows = suite_rows(outcome)
    print(
        f"suite: {seconds:.1f} s in all ({args.jobs} jobs); "
        f"strongest: {outcome.strongest}; risk: {outcome.risk}"
    )
    if not args.skip_art:
        art = run_art(model, members, population, outcome, args)
        rows.append(art)
    if not args.skip_null:
        rows += null_control(forest, population, args)["rows"]
    print(table(rows))
    report["random_forest"] = {
        "suite_seconds": seconds,
        "rows": rows,
        "strongest": outcome.strongest,
    }

    if not args.skip_lightgbm:
        boosted = (
            ("lightgbm", "LightGBM defaults (100 rounds)", None, True),
            ("lightgbm_shallow", f"LightGBM, shallower ({SHALLOW})", SHALLOW, False),
        )
        for key, title, params, controls in boosted:
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                lgbm = lightgbm_target(members, Path(tmp), params)
                print(
                    f"\n## {title}: fit {time.perf_counter() - t:.1f} s, "
                    f"train accuracy {accuracy(lgbm, members):.3f}, "
                    f"population accuracy {accuracy(lgbm, population):.3f}"
                )
                outcome, seconds = run_suite(lgbm, members, population, args)
            rows = suite_rows(outcome)
            print(
                f"suite: {seconds:.1f} s in all; strongest: {outcome.strongest}; "
                f"risk: {outcome.risk}"
            )
            if controls and not args.skip_null:
                rows += null_control(lgbm, population, args)["rows"]
                rows += split_control(lgbm, population, from_train, args)["rows"]
            print(table(rows))
            strongest = next(r for r in outcome.results if r.name == outcome.strongest)
            print(strongest.summary)
            report[key] = {"suite_seconds": seconds, "rows": rows, "risk": outcome.risk}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
