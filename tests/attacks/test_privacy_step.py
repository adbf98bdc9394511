"""The privacy step through the runner and the CLI: the `privacy` section of the assessment."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import skops.io as sio
from typer.testing import CliRunner

import attacks
from compliance.cli import app


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory,
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
    forest_factory: Callable[..., Any],
) -> dict[str, Path]:
    members, population = adult_small
    d = tmp_path_factory.mktemp("privacy")
    model = forest_factory(n_estimators=30).fit(members.drop(columns="income"), members["income"])
    sio.dump(model, d / "rf.skops")
    members.to_csv(d / "members.csv", index=False)
    population.iloc[:4500].to_csv(d / "population.csv", index=False)
    population.iloc[4500:].to_csv(d / "eval.csv", index=False)
    return {
        "model": d / "rf.skops",
        "members": d / "members.csv",
        "population": d / "population.csv",
        "eval": d / "eval.csv",
        "dir": d,
    }


def _assess(files: dict[str, Path], out: Path, *extra: str) -> object:
    args = [
        "assess",
        "--data",
        str(files["eval"]),
        "--target",
        "income",
        "--protected",
        "sex",
        "--model",
        str(files["model"]),
        "--trust-type",
        "sklearn.tree._tree.Tree",
        "--bootstrap",
        "20",
        "--out",
        str(out),
        "--overwrite",
        *extra,
    ]
    return CliRunner().invoke(app, args)


@pytest.mark.filterwarnings("ignore:scipy.optimize. The `disp` and `iprint`:DeprecationWarning")
def test_assess_adds_a_privacy_section(files: dict[str, Path]) -> None:
    out = files["dir"] / "out"
    result = _assess(
        files,
        out,
        "--train",
        str(files["members"]),
        "--population",
        str(files["population"]),
        "--attacks",
        "membership,attribute,inversion,dp",
        "--reference-models",
        "2",
        "--policy",
        "privacy",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    doc = json.loads((out / "assessment.json").read_text())
    privacy = doc["privacy"]
    names = [a["name"] for a in privacy["membership"]]
    assert "rmia_online" in names and "label_only" in names
    for a in privacy["membership"]:
        for key in (
            "name",
            "auc",
            "tpr_at_fpr",
            "epsilon_lower_bound",
            "n_members",
            "n_nonmembers",
            "reference_models",
            "seconds",
            "slices",
        ):
            assert key in a
        assert set(a["tpr_at_fpr"]) == {"0.01", "0.001"}
    assert privacy["membership_risk"] == "high"
    assert [r["attribute"] for r in privacy["attribute"]] == ["sex"]
    assert privacy["inversion"]["applicable"] is False
    assert len(privacy["dp_reference"]) == 2
    roles = {i["role"] for i in doc["inputs"]}
    assert {"members", "population"} <= roles
    # the report prints the section's notes together, under the last attack: each names its own
    subjects = ("Membership inference: ", "Attribute inference", "DP reference", "Model inversion")
    assert privacy["notes"] and all(n.startswith(subjects) for n in privacy["notes"])
    assert any(n.startswith("Membership inference: evaluated on") for n in privacy["notes"])
    # the terminal summary reads the same evidence: the strongest attack's sentence, each
    # attribute-inference finding, and each DP reference point
    text = " ".join(result.output.split())  # type: ignore[attr-defined]
    strongest = next(a for a in privacy["membership"] if a["name"] == privacy["strongest_attack"])
    assert f"the strongest of {len(names)} attacks" in text
    assert " ".join(strongest["summary"].split()) in text
    assert strongest["summary"].startswith(f"{privacy['membership_risk']} membership risk")
    assert " ".join(privacy["attribute"][0]["summary"].split()) in text
    for dp in privacy["dp_reference"]:
        assert f"accuracy {dp['accuracy']:.1%}" in text
    # and names each privacy check that did not pass, not those that did
    findings = doc["policy"]["findings"]
    assert any(f["status"] == "fail" for f in findings)
    for f in findings:
        line = f"{f['status'].upper()} privacy/{f['check']}"
        assert (line in text) == (f["status"] in ("fail", "warn")), line


# attribute inference alone ran on such a population (its attack and baseline trained on
# members they were then scored on): the membership attacks alone refused it
@pytest.mark.parametrize("attack", ["loss", "attribute"])
def test_overlap_exits_2_with_the_count(
    files: dict[str, Path], tmp_path: Path, attack: str
) -> None:
    members = pd.read_csv(files["members"])
    leaky = pd.concat([pd.read_csv(files["population"]), members.iloc[:11]])
    leaky.to_csv(tmp_path / "leaky.csv", index=False)
    result = _assess(
        files,
        tmp_path / "out",
        "--train",
        str(files["members"]),
        "--population",
        str(tmp_path / "leaky.csv"),
        "--attacks",
        attack,
    )
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "11 of the population's 4511 rows also appear" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_missing_train_and_unknown_attack_exit_2(files: dict[str, Path], tmp_path: Path) -> None:
    result = _assess(files, tmp_path / "a", "--attacks", "membership")
    assert result.exit_code == 2 and "--train" in result.output  # type: ignore[attr-defined]
    result = _assess(
        files,
        tmp_path / "b",
        "--train",
        str(files["members"]),
        "--population",
        str(files["population"]),
        "--attacks",
        "shadow-models",
    )
    assert result.exit_code == 2 and "unknown attack(s) shadow-models" in result.output  # type: ignore[attr-defined]


def test_public_api_is_pinned() -> None:
    assert sorted(attacks.__all__) == sorted(
        [
            "ATTACK_FAMILIES",
            "DEFAULT_ATTACKS",
            "FALLBACK_FAMILY",
            "MEMBERSHIP_ATTACKS",
            "AttackInputs",
            "EpsilonBound",
            "MembershipAttack",
            "MembershipOptions",
            "MembershipOutcome",
            "RocSummary",
            "TabularEncoder",
            "check_overlap",
            "clopper_pearson",
            "dp_reference_points",
            "epsilon_lower_bound",
            "evaluate_scores",
            "make_trainer",
            "register",
            "roc_curve",
            "run_attribute_inference",
            "run_inversion",
            "run_membership",
            "summarise_roc",
            "tpr_at_fpr",
            "train_dp_logistic",
            "train_dp_sgd",
            "train_reference_models",
        ]
    )
    assert set(attacks.MEMBERSHIP_ATTACKS) == {
        "loss",
        "lira_offline",
        "lira_online",
        "rmia",
        "rmia_online",
        "label_only",
    }


def test_importing_the_suite_imports_neither_torch_nor_opacus() -> None:
    code = (
        "import sys, attacks, compliance.steps.privacy; "
        "print(sorted(m for m in ('torch', 'opacus') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bins", [[], ["--bins", "age=25,40,60"]], ids=["quantiles", "user-bins"])
def test_exposure_groups_are_the_fairness_slices(
    files: dict[str, Path], tmp_path: Path, bins: list[str]
) -> None:
    """A numeric protected attribute is grouped as the fairness engine groups it, not by
    raw value (no 'age = 17' rows, no 70 groups)."""
    out = tmp_path / "out"
    result = _assess(
        files,
        out,
        "--protected",
        "age",
        "--train",
        str(files["members"]),
        "--population",
        str(files["population"]),
        "--attacks",
        "loss",
        *bins,
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    doc = json.loads((out / "assessment.json").read_text())
    labels = doc["fairness"]["bins"]["age"]
    edges = doc["fairness"]["bin_edges"]["age"]
    assert len(edges) == len(labels) - 1
    if bins:
        assert labels == ["< 25", "25 to < 40", "40 to < 60", ">= 60"]
        assert edges == [25, 40, 60]
    fair_groups = {
        s["attributes"]["age"] for s in doc["fairness"]["slices"] if "age" in s["attributes"]
    }
    (loss,) = doc["privacy"]["membership"]
    groups = [s["attributes"]["age"] for s in loss["slices"] if "age" in s["attributes"]]
    assert groups and set(groups) <= set(labels) and set(groups) == fair_groups
    assert (
        sum(s["n_members"] for s in loss["slices"] if "age" in s["attributes"]) == loss["n_members"]
    )


def test_attribute_inference_skips_a_binned_numeric_protected_attribute(tmp_path: Path) -> None:
    """With age protected and no --sensitive, age is skipped with a note, sex is inferred."""
    import lightgbm as lgb

    from compliance.datasets import load_bundled
    from compliance.models import categorical_frame
    from compliance.runner import run_assessment
    from compliance.spec import AssessSpec

    train = load_bundled("adult-train").drop_duplicates()
    members, population = train.iloc[:3000], train.iloc[3000:9000]
    X = categorical_frame(members.drop(columns=["income"]))
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1, num_threads=1)
    model.fit(X, (members["income"] == ">50K").astype(int))
    model_path = tmp_path / "m.txt"
    model.booster_.save_model(str(model_path))
    paths = {}
    for name, frame in (("members", members), ("population", population)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    spec = AssessSpec(
        data=paths["population"], target="income", positive_label=">50K",
        protected=["sex", "age"], model=model_path, out=tmp_path / "out", bootstrap=0,
        train=paths["members"], population=paths["population"], attacks=["attribute"],
    )  # fmt: skip
    privacy = run_assessment(spec).privacy
    assert privacy is not None
    assert [a.attribute for a in privacy.attribute] == ["sex"]
    assert any("'age' did not run" in n for n in privacy.notes)


def _refused(result: object, out: Path) -> str:
    """The one-line message of a run refused with exit code 2 that wrote nothing."""
    text = " ".join(result.output.split())  # type: ignore[attr-defined]
    assert result.exit_code == 2, text  # type: ignore[attr-defined]
    assert not out.exists()
    return text


def _privacy_args(files: dict[str, Path], train: Path, population: Path, attacks: str) -> list[str]:
    return ["--train", str(train), "--population", str(population), "--attacks", attacks]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # a word in a numeric column of the training set: named, not a traceback
        (
            "train_words",
            "train.csv, field 'hours-per-week': 1 values are not numbers (such as 'forty')",
        ),
        # population labels written another way: the population is named, not the members
        ("population_dots", "population.csv, field 'income': labels '<=50K.', '>50K.' do not"),
    ],
)
def test_files_that_cannot_be_compared_exit_2(
    files: dict[str, Path], tmp_path: Path, edit: str, message: str
) -> None:
    train, population = pd.read_csv(files["members"]), pd.read_csv(files["population"])
    if edit == "train_words":
        train["hours-per-week"] = train["hours-per-week"].astype(object)
        train.loc[3, "hours-per-week"] = "forty"
    else:
        population["income"] = population["income"] + "."
    train.to_csv(tmp_path / "train.csv", index=False)
    population.to_csv(tmp_path / "population.csv", index=False)
    result = _assess(
        files, tmp_path / "out",
        *_privacy_args(files, tmp_path / "train.csv", tmp_path / "population.csv", "attribute"),
    )  # fmt: skip
    assert message in _refused(result, tmp_path / "out")


@pytest.mark.filterwarnings("ignore:scipy.optimize. The `disp` and `iprint`:DeprecationWarning")
def test_a_population_with_another_label_mix_is_warned_about(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """Only '<=50K' rows in the population: the attacks tell members from it by label, a
    false 'high' risk. The run says so in its warnings and privacy notes."""
    population = pd.read_csv(files["population"])
    population[population["income"] == "<=50K"].to_csv(tmp_path / "pop.csv", index=False)
    out = tmp_path / "out"
    result = _assess(
        files, out, *_privacy_args(files, files["members"], tmp_path / "pop.csv", "loss")
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    doc = json.loads((out / "assessment.json").read_text())
    assert any("label mix differs" in w for w in doc["warnings"])
    assert any("overstate the risk" in n for n in doc["privacy"]["notes"])
    assert "label mix differs" in " ".join(result.output.split())  # type: ignore[attr-defined]


def test_a_sensitive_attribute_missing_from_a_file_names_the_file(
    files: dict[str, Path], tmp_path: Path
) -> None:
    population = pd.read_csv(files["population"]).drop(columns=["relationship"])
    population.to_csv(tmp_path / "population.csv", index=False)
    result = _assess(
        files, tmp_path / "out",
        *_privacy_args(files, files["members"], tmp_path / "population.csv", "attribute"),
        "--sensitive", "relationship",
    )  # fmt: skip
    text = _refused(result, tmp_path / "out")
    assert "population.csv, field 'relationship': the population has no column" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # diffprivlib raised ValueError: a traceback and exit code 1
        (["--dp-epsilon", "0"], "--dp-epsilon must be a positive number, got 0"),
        (["--dp-epsilon", "-1"], "--dp-epsilon must be a positive number, got -1"),
        # both ran, silently: a delta of 2 is no privacy at all
        (["--dp-delta", "2"], "--dp-delta must lie between 0 and 1"),
        (["--dp-delta", "0.01"], "--dp-delta 0.01 is not below 1/n for the 3000 training"),
    ],
)
def test_bad_dp_budgets_exit_2(
    files: dict[str, Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    result = _assess(
        files, tmp_path / "out",
        *_privacy_args(files, files["members"], files["population"], "dp"), *extra,
    )  # fmt: skip
    assert message in _refused(result, tmp_path / "out")


def test_an_attribute_with_one_value_names_the_population(
    files: dict[str, Path], tmp_path: Path
) -> None:
    population = pd.read_csv(files["population"]).assign(sex="Male")
    population.to_csv(tmp_path / "population.csv", index=False)
    result = _assess(
        files, tmp_path / "out",
        *_privacy_args(files, files["members"], tmp_path / "population.csv", "attribute"),
    )  # fmt: skip
    text = _refused(result, tmp_path / "out")
    assert "population.csv, field 'sex': attribute inference needs a categorical" in text
    assert "'sex' has 1 in the population" in text
