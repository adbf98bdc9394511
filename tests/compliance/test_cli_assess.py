"""`compliance assess`: the happy path, determinism, and one clear message per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from compliance.assessment import SCHEMA_VERSION
from compliance.cli import app

runner = CliRunner()


def _assess(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["assess", "--quiet", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory, adult_scored: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("data") / "scored.csv"
    adult_scored.sample(4000, random_state=0).to_csv(path, index=False)
    return path


def test_outputs_only_audit_writes_assessment(tmp_path: Path, small_csv: Path) -> None:
    out = tmp_path / "out"
    code, output = _assess(
        "--data", str(small_csv), "--target", "y", "--protected", "sex,race",
        "--predictions-column", "pred", "--scores-column", "score", "--bootstrap", "200",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    doc = json.loads((out / "assessment.json").read_text())
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["model"]["kind"] == "predictions"
    assert [i["role"] for i in doc["inputs"]] == ["evaluation"]
    assert len(doc["inputs"][0]["sha256"]) == 64
    fair = doc["fairness"]
    assert fair["primary_metric"] == "true_positive_rate"
    assert {tuple(s["attributes"]) for s in fair["slices"]} == {
        ("sex",),
        ("race",),
        ("sex", "race"),
    }
    female = next(s for s in fair["slices"] if s["attributes"] == {"sex": "Female"})
    frame = pd.read_csv(small_csv)
    sub = frame[frame["sex"] == "Female"]
    assert female["n"] == len(sub)
    assert female["metrics"]["selection_rate"]["value"] == pytest.approx(sub["pred"].mean())
    est = female["metrics"]["selection_rate"]
    assert est["ci_low"] < est["value"] < est["ci_high"]
    assert any(d["four_fifths_flag"] is not None for d in fair["disparities"])
    assert "Worst slices" in output


def test_summary_without_intervals_prints_none(tmp_path: Path, small_csv: Path) -> None:
    """--bootstrap 0 gives no intervals: the terminal prints the values alone, never a
    made-up '(0.00-0.00)'; slices whose rate rests on too few people are not ranked."""
    code, output = _assess(
        "--data", str(small_csv), "--target", "y", "--protected", "sex,race",
        "--predictions-column", "pred", "--bootstrap", "0", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, output
    assert "0.00–0.00" not in output and "—–—" not in output
    assert "Worst slices by" in output and "not judged, not ranked" in output


def test_model_assessment_is_byte_identical_apart_from_created_at(
    tmp_path: Path, adult_lightgbm: Path, adult_test_path: Path
) -> None:
    docs = []
    for name in ("a", "b"):
        out = tmp_path / name
        code, output = _assess(
            "--data", str(adult_test_path), "--target", "income", "--positive-label", ">50K",
            "--protected", "sex", "--protected", "age", "--bins", "age=25,40,60",
            "--model", str(adult_lightgbm), "--bootstrap", "100", "--seed", "7", "--out", str(out),
        )  # fmt: skip
        assert code == 0, output
        text = (out / "assessment.json").read_text()
        docs.append([line for line in text.splitlines() if '"created_at"' not in line])
    assert docs[0] == docs[1]
    doc = json.loads((tmp_path / "a" / "assessment.json").read_text())
    assert doc["fairness"]["bins"]["age"] == ["< 25", "25 to < 40", "40 to < 60", ">= 60"]
    assert doc["model"]["kind"] == "lightgbm"
    assert doc["provenance"]["seed"] == 7
    assert "lightgbm" in doc["provenance"]["packages"]


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def _bad(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "never"
    code, output = _assess(*args, "--out", str(out))
    assert code == 2, output
    assert not out.exists(), "no partial output on bad input"
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".assess-")]) == 0
    return " ".join(output.split())


def test_missing_data_file(tmp_path: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(tmp_path / "nope.csv"),
        "--target",
        "y",
        "--protected",
        "sex",
        "--predictions-column",
        "p",
    )
    assert "nope.csv" in msg and "no such file" in msg


def test_missing_target_column(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(small_csv),
        "--target",
        "label",
        "--protected",
        "sex",
        "--predictions-column",
        "pred",
    )
    assert "scored.csv" in msg and "'label'" in msg and "target column not found" in msg


def test_unknown_protected_attribute(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(small_csv),
        "--target",
        "y",
        "--protected",
        "gender",
        "--predictions-column",
        "pred",
    )
    assert "scored.csv" in msg and "'gender'" in msg and "protected attribute" in msg


def test_three_classes_when_binary_asked(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(small_csv),
        "--target",
        "race",
        "--protected",
        "sex",
        "--predictions-column",
        "pred",
    )
    assert "'race'" in msg and "binary target" in msg and "5 classes" in msg


def test_non_numeric_scores(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(small_csv),
        "--target",
        "y",
        "--protected",
        "sex",
        "--predictions-column",
        "pred",
        "--scores-column",
        "workclass",
    )
    assert "'workclass'" in msg and "scores must be numeric" in msg


def test_empty_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("y,pred,sex\n")
    msg = _bad(
        tmp_path,
        "--data",
        str(path),
        "--target",
        "y",
        "--protected",
        "sex",
        "--predictions-column",
        "pred",
    )
    assert "empty.csv" in msg and "has no rows" in msg


def test_protected_attribute_with_no_values(tmp_path: Path, small_csv: Path) -> None:
    frame = pd.read_csv(small_csv).assign(region=np.nan)
    path = tmp_path / "no_region.csv"
    frame.to_csv(path, index=False)
    msg = _bad(
        tmp_path,
        "--data",
        str(path),
        "--target",
        "y",
        "--protected",
        "sex,region",
        "--predictions-column",
        "pred",
    )
    assert "no_region.csv" in msg and "'region'" in msg and "slices would be empty" in msg


def test_protected_attribute_with_one_value(tmp_path: Path, small_csv: Path) -> None:
    """Every row Male: no groups to compare (a four-fifths or LL144 check would pass on the
    one group against itself)."""
    frame = pd.read_csv(small_csv).assign(sex="Male")
    path = tmp_path / "one_sex.csv"
    frame.to_csv(path, index=False)
    msg = _bad(
        tmp_path, "--data", str(path), "--target", "y", "--protected", "sex",
        "--predictions-column", "pred",
    )  # fmt: skip
    assert "one_sex.csv" in msg and "'sex'" in msg and "no groups to compare" in msg


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("words", "300 predictions are not numbers (such as '<=50K')"),
        ("holes", "40 rows have no prediction"),
    ],
)
def test_regression_predictions_must_be_numbers(
    tmp_path: Path, small_csv: Path, column: str, message: str
) -> None:
    frame = pd.read_csv(small_csv).head(300)
    frame["words"] = "<=50K"
    frame["holes"] = frame["score"].where(frame.index >= 40)
    path = tmp_path / "reg.csv"
    frame.to_csv(path, index=False)
    msg = _bad(
        tmp_path, "--data", str(path), "--target", "age", "--protected", "sex",
        "--task", "regression", "--predictions-column", column,
    )  # fmt: skip
    assert "reg.csv" in msg and f"'{column}'" in msg and message in msg


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--quantile-bins", "1"], "--quantile-bins must be at least 2"),
        (["--jobs", "0"], "--jobs must be 1 or more"),
        (["--train", "x.csv"], "--train is for the privacy attacks, and none was asked for"),
        (["--attacks", "attribute", "--sensitive", "age"], "--sensitive names the target 'age'"),
        (
            ["--task", "regression", "--scores-column", "score"],
            "--scores-column is for a binary classifier",
        ),
    ],
)
def test_options_that_cannot_apply(
    tmp_path: Path, small_csv: Path, extra: list[str], message: str
) -> None:
    msg = _bad(
        tmp_path, "--data", str(small_csv), "--target", "age", "--protected", "sex",
        "--predictions-column", "pred", *extra,
    )  # fmt: skip
    assert message in msg


def test_scores_must_be_probabilities(tmp_path: Path, small_csv: Path) -> None:
    """Logits (or 0-100 scores) gave a Brier score of 2.26 and, once such figures were
    refused, a traceback: they are bad input, named, with the way out."""
    frame = pd.read_csv(small_csv)
    frame["logit"] = np.log(frame["score"] / (1 - frame["score"]))
    path = _write(frame, tmp_path / "logits.csv")
    msg = _bad(
        tmp_path, "--data", str(path), "--target", "y", "--protected", "sex",
        "--predictions-column", "pred", "--scores-column", "logit",
    )  # fmt: skip
    assert "logits.csv" in msg and "'logit'" in msg
    assert "probabilities between 0 and 1" in msg and "1 / (1 + exp(-logit))" in msg


def test_an_infinite_regression_target_is_refused(tmp_path: Path, small_csv: Path) -> None:
    frame = pd.read_csv(small_csv).head(300)
    frame["hours"] = frame["hours-per-week"].astype(float)
    frame.loc[5, "hours"] = np.inf
    path = _write(frame, tmp_path / "inf.csv")
    msg = _bad(
        tmp_path, "--data", str(path), "--target", "hours", "--protected", "sex",
        "--task", "regression", "--predictions-column", "age",
    )  # fmt: skip
    assert "inf.csv" in msg and "'hours'" in msg and "finite number on every row" in msg


def test_unknown_reference_group(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(small_csv),
        "--target",
        "y",
        "--protected",
        "sex",
        "--predictions-column",
        "pred",
        "--reference",
        "sex=Other",
    )
    assert "'sex'" in msg and "'Other' is not a group of sex" in msg


def test_model_that_cannot_score_the_data(
    tmp_path: Path, small_csv: Path, adult_lightgbm: Path
) -> None:
    frame = pd.read_csv(small_csv).drop(columns=["education"])
    path = tmp_path / "lacks_a_feature.csv"
    frame.to_csv(path, index=False)
    msg = _bad(
        tmp_path,
        "--data",
        str(path),
        "--target",
        "y",
        "--protected",
        "sex",
        "--model",
        str(adult_lightgbm),
    )
    assert "adult_lightgbm.txt" in msg and "education" in msg


def test_predictions_that_are_not_labels(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(
        tmp_path,
        "--data",
        str(small_csv),
        "--target",
        "y",
        "--protected",
        "sex",
        "--predictions-column",
        "score",
    )
    assert "'score'" in msg and "neither the target's labels" in msg


def test_neither_model_nor_predictions(tmp_path: Path, small_csv: Path) -> None:
    msg = _bad(tmp_path, "--data", str(small_csv), "--target", "y", "--protected", "sex")
    assert "--predictions-column" in msg


def test_regression_task_gives_error_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 600), "y": rng.normal(size=600)})
    noise = frame["g"].map({"a": 0.1, "b": 1.0, "c": 0.5})
    frame["yhat"] = frame["y"] + noise * rng.normal(size=600)
    path = tmp_path / "reg.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    code, output = _assess(
        "--data",
        str(path),
        "--target",
        "y",
        "--protected",
        "g",
        "--task",
        "regression",
        "--predictions-column",
        "yhat",
        "--out",
        str(out),
    )
    assert code == 0, output
    doc = json.loads((out / "assessment.json").read_text())
    b = next(s for s in doc["fairness"]["slices"] if s["attributes"] == {"g": "b"})
    sub = frame[frame["g"] == "b"]
    mae = (sub["yhat"] - sub["y"]).abs().mean()
    assert b["metrics"]["mean_absolute_error"]["value"] == pytest.approx(mae)
    assert (
        b["metrics"]["mean_absolute_error"]["ci_low"]
        < mae
        < b["metrics"]["mean_absolute_error"]["ci_high"]
    )
    assert b["metrics"]["root_mean_squared_error"]["value"] == pytest.approx(
        np.sqrt(((sub["yhat"] - sub["y"]) ** 2).mean())
    )
    # b's errors are ten times a's: compared with a (the best served) by Welch's t-test
    gap = next(
        d
        for d in doc["fairness"]["disparities"]
        if d["metric"] == "mean_absolute_error" and d["slice"] == {"g": "b"}
        and d["reference"] == {"g": "a"}
    )  # fmt: skip
    assert gap["test"] == "welch" and gap["significant"] and gap["ratio"]["value"] > 5
    # the terminal table puts the worst first: for an error, the largest ratio to the best
    assert "Worst slices by mean absolute error" in output
    table = output[output.index("Worst slices") :]
    assert table.index("g=b") < table.index("g=c")


def test_parquet_and_german_credit_through_the_user_path(tmp_path: Path) -> None:
    from compliance.datasets import bundled_path

    frame = pd.read_csv(bundled_path("german-credit"))
    rng = np.random.default_rng(0)
    frame["decision"] = np.where(rng.random(len(frame)) < 0.8, frame["risk"], 1 - frame["risk"])
    path = tmp_path / "german.parquet"
    frame.to_parquet(path)
    out = tmp_path / "out"
    code, output = _assess(
        "--data", str(path), "--target", "risk", "--protected", "sex,age",
        "--predictions-column", "decision", "--bootstrap", "100", "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    doc = json.loads((out / "assessment.json").read_text())
    assert doc["fairness"]["overall"]["n"] == 1000
    assert len(doc["fairness"]["bins"]["age"]) == 4  # age binned into quartiles
    male = next(s for s in doc["fairness"]["slices"] if s["attributes"] == {"sex": "male"})
    sub = frame[frame["sex"] == "male"]
    assert male["metrics"]["accuracy"]["value"] == pytest.approx(
        (sub["decision"] == sub["risk"]).mean()
    )
