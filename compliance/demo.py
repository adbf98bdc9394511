"""`compliance demo`: the main job, offline, on the bundled Adult data set."""

from __future__ import annotations

import shutil
from pathlib import Path

from compliance.datasets import bundled_path, load_bundled
from compliance.progress import Progress


def train_demo_model(path: Path, *, seed: int = 0) -> None:
    """Train a LightGBM classifier on the Adult train split and save its native text model."""
    import lightgbm as lgb
    import pandas as pd

    frame = load_bundled("adult-train")
    y = (frame.pop("income") == ">50K").astype(int)
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].astype("category")
    model = lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=31, random_state=seed, verbose=-1)
    model.fit(frame, y)
    model.booster_.save_model(str(path))


def run_demo(*, out: Path, bootstrap: int = 1000, quiet: bool = False) -> None:
    """Train a model on bundled Adult, assess it on the test split, write the outputs."""
    from compliance.runner import run_assessment
    from compliance.spec import AssessSpec
    from compliance.summary import print_summary

    progress = Progress(enabled=not quiet)
    work = out.parent / (out.name + ".inputs")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    model_path = work / "adult_lightgbm.txt"
    with progress.step("Training a LightGBM model on bundled Adult (train split)"):
        train_demo_model(model_path)
    spec = AssessSpec(
        data=bundled_path("adult-test"),
        target="income",
        positive_label=">50K",
        protected=["sex", "race", "age"],
        bins={"age": [25.0, 40.0, 60.0]},
        model=model_path,
        out=out,
        overwrite=True,
        bootstrap=bootstrap,
        command=["compliance", "demo", "--out", str(out)],
    )
    assessment = run_assessment(spec, progress=progress)
    print_summary(assessment, out_dir=out)
