"""`compliance demo`: the main job, offline, on the bundled Adult data set.

It trains a LightGBM model on a random half of the Adult train split (the members), keeps
the other half as non-members, and runs the whole assessment on the test split: fairness
per slice, the privacy attack suite, the `feat` and `privacy` policy packs, and the signed
report and submission pack with a self-signed demo key.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from compliance.datasets import bundled_path, load_bundled
from compliance.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

    from compliance.assessment import Assessment

DEMO_POLICIES = ("feat", "privacy")
DEMO_ATTACKS = ("membership", "attribute")
DEMO_SENSITIVE = ("sex",)


def _fit(frame: pd.DataFrame, path: Path, seed: int) -> None:
    import lightgbm as lgb

    from compliance.models import categorical_frame

    X = categorical_frame(frame.drop(columns=["income"]))
    y = (frame["income"] == ">50K").astype(int)
    model = lgb.LGBMClassifier(
        n_estimators=200, learning_rate=0.05, num_leaves=31, random_state=seed, verbose=-1
    )
    model.fit(X, y)
    model.booster_.save_model(str(path))


def train_demo_model(path: Path, *, seed: int = 0) -> None:
    """Train a LightGBM classifier on the whole Adult train split; save its native text model."""
    _fit(load_bundled("adult-train"), path, seed)


def split_members(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random half of Adult train (members) and the rest (non-members).

    Adult holds duplicate rows; a non-member identical to a member would be a member in
    all but name, so such rows are dropped from the non-members.
    """
    import numpy as np

    frame = load_bundled("adult-train")
    order = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    members = frame.iloc[order[:half]].reset_index(drop=True)
    rest = frame.iloc[order[half:]].reset_index(drop=True)
    merged = rest.merge(members.drop_duplicates(), how="left", indicator=True)
    population = merged[merged["_merge"] == "left_only"].drop(columns="_merge")
    return members, population.drop_duplicates().reset_index(drop=True)


def _available_policies() -> list[str]:
    try:
        from policies import builtin_pack_ids
    except ImportError:
        return []
    known = set(builtin_pack_ids())
    return [p for p in DEMO_POLICIES if p in known]


def _available_attacks() -> list[str]:
    try:
        import attacks
    except ImportError:
        return []
    families = getattr(attacks, "ATTACK_FAMILIES", ())
    return [a for a in DEMO_ATTACKS if a in families]


def run_demo(*, out: Path, bootstrap: int = 1000, quiet: bool = False, seed: int = 0) -> Assessment:
    """Train a model on bundled Adult, assess it end to end, write the signed outputs."""
    from rich.console import Console

    from compliance.errors import InputError
    from compliance.runner import check_output_dir, run_assessment
    from compliance.spec import AssessSpec
    from compliance.steps.outputs import DEMO_CERT_NAME, PACK_NAME, REPORT_NAME
    from compliance.summary import print_summary

    progress = Progress(enabled=not quiet)
    check_output_dir(out, overwrite=False)
    work = out.parent / (out.name + ".inputs")
    model_path = work / "adult_lightgbm.txt"
    if work.exists():
        if not model_path.exists():
            raise InputError(
                "exists and is not an earlier demo's inputs; choose another --out",
                path=work,
                field="out",
            )
        shutil.rmtree(work)
    work.mkdir(parents=True)
    members_path = work / "members.csv.gz"
    population_path = work / "population.csv.gz"
    data_path = work / "adult_test.csv.gz"
    shutil.copyfile(bundled_path("adult-test"), data_path)
    attacks = _available_attacks()
    with progress.step("Training a LightGBM model on half of bundled Adult (the members)"):
        members, population = split_members(seed)
        members.to_csv(members_path, index=False)
        population.to_csv(population_path, index=False)
        _fit(members, model_path, seed)
    policies = _available_policies()
    spec = AssessSpec(
        data=data_path,
        target="income",
        positive_label=">50K",
        protected=["sex", "race", "age"],
        bins={"age": [25.0, 40.0, 60.0]},
        model=model_path,
        out=out,
        bootstrap=bootstrap,
        seed=seed,
        train=members_path if attacks else None,
        population=population_path if attacks else None,
        attacks=attacks,
        sensitive=list(DEMO_SENSITIVE),
        policies=policies,
        report=True,
        pack=True,
        command=["compliance", "demo", "--out", str(out)],
    )
    assessment = run_assessment(spec, progress=progress)
    if quiet:
        return assessment
    print_summary(assessment, out_dir=out)
    console = Console()
    verdict = assessment.policy.verdict.upper() if assessment.policy else "NOT JUDGED"
    console.print(f"[bold]Verdict ({', '.join(policies) or 'no policy packs'}):[/bold] {verdict}")
    console.print(f"Signed report:   {out / REPORT_NAME}")
    console.print(f"Submission pack: {out / PACK_NAME}")
    console.print(f"Inputs:          {work}")
    console.print(
        "Signed with a self-signed demo key: the signature proves integrity, not identity.\n"
        f"Check it: compliance verify {out / REPORT_NAME} --trust-root {out / DEMO_CERT_NAME} "
        f"--data-dir {work}\n"
        f"and the pack: compliance verify {out / PACK_NAME} --trust-root {out / DEMO_CERT_NAME}",
        highlight=False,
        soft_wrap=True,
    )
    return assessment
