"""The assessment's JSON Schema, its round trip, the Veritas tree and the public API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import compliance
from compliance.assessment import SCHEMA_VERSION, Assessment, load_assessment
from compliance.cli import app
from compliance.errors import InputError
from compliance.veritas import select_metric


def test_schema_command_prints_the_json_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "Assessment"
    assert {"schema_version", "inputs", "fairness", "privacy", "policy"} <= set(
        schema["properties"]
    )


def test_public_api_is_pinned() -> None:
    assert compliance.__all__ == [
        "AssessSpec", "Assessment", "ComplianceError", "FairnessOptions", "InputError",
        "ModelHandle", "assess_fairness", "load_assessment", "load_model", "read_table",
        "run_assessment", "select_metric",
    ]  # fmt: skip
    for name in compliance.__all__:
        assert getattr(compliance, name) is not None


def test_round_trip_and_errors_name_file_and_field(tmp_path: Path, adult_scored) -> None:
    out = tmp_path / "run"
    data = tmp_path / "d.csv"
    adult_scored.head(2000).to_csv(data, index=False)
    res = CliRunner().invoke(
        app,
        [
            "assess",
            "-q",
            "--data",
            str(data),
            "--target",
            "y",
            "--protected",
            "sex",
            "--predictions-column",
            "pred",
            "--bootstrap",
            "10",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    a = load_assessment(out / "assessment.json")
    assert isinstance(a, Assessment)
    assert Assessment.model_validate_json(a.to_json()) == a
    doc = json.loads((out / "assessment.json").read_text())
    doc["fairness"]["slices"][0]["n"] = "many"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"bad\.json.*fairness\.slices\.0\.n"):
        load_assessment(bad)
    doc["schema_version"] = "0.1"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=f"schema_version.*{SCHEMA_VERSION}"):
        load_assessment(bad)


def test_older_files_still_read_with_the_auc_bound_bug_mended(tmp_path: Path, adult_scored) -> None:
    """Before 1.2 the engine could write a ROC AUC interval bound just past 1. A 1.1 file
    holding one reads (the bound as 1), where the new check would refuse it; a 1.2 file
    holding one is refused, as the engine no longer writes one. A 1.1 regression file,
    which has no group comparisons, renders saying so, not claiming Welch tests."""
    out = tmp_path / "run"
    data = tmp_path / "d.csv"
    adult_scored.head(2000).to_csv(data, index=False)
    res = CliRunner().invoke(app, [
        "assess", "-q", "--data", str(data), "--target", "y", "--protected", "sex",
        "--predictions-column", "pred", "--scores-column", "score", "--bootstrap", "10",
        "--out", str(out),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "assessment.json").read_text())
    doc["fairness"]["slices"][0]["metrics"]["roc_auc"]["ci_high"] = 1.0015
    old = tmp_path / "old.json"
    doc["schema_version"] = "1.1"
    old.write_text(json.dumps(doc))
    auc = load_assessment(old).fairness.slices[0].metrics["roc_auc"]  # type: ignore[union-attr]
    assert auc.ci_high == 1.0
    doc["schema_version"] = SCHEMA_VERSION
    old.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"roc_auc\.ci_high is 1\.0015, outside 0 to 1"):
        load_assessment(old)

    from reports import render_html

    reg = tmp_path / "reg"
    res = CliRunner().invoke(app, [
        "assess", "-q", "--data", str(data), "--target", "age", "--protected", "sex",
        "--task", "regression", "--predictions-column", "hours-per-week", "--out", str(reg),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads((reg / "assessment.json").read_text())
    doc["schema_version"] = "1.1"
    doc["fairness"]["disparities"], doc["fairness"]["aggregates"] = [], []
    old.write_text(json.dumps(doc))
    html = " ".join(render_html(load_assessment(old)).split())
    assert "written before this tool compared the groups" in html
    assert "Welch" not in html and "best-served group" not in html


@pytest.mark.parametrize(
    ("favourable", "priority", "impact", "concern", "parity", "primary"),
    [
        (True, "benefit", "normal", "eligible", "equal_opportunity", "true_positive_rate"),
        (True, "benefit", "normal", "inclusive", "fpr_parity", "false_positive_rate"),
        (True, "benefit", "significant", "eligible", "ppv_parity", "precision"),
        (True, "harm", "normal", "eligible", "fnr_parity", "false_negative_rate"),
        (True, "harm", "selective", "both", "calibration_by_group", "expected_calibration_error"),
        (False, "benefit", "normal", "eligible", "tnr_parity", "true_negative_rate"),
        (False, "benefit", "significant", "eligible", "npv_parity", "negative_predictive_value"),
        (False, "harm", "normal", "both", "equal_odds", "true_positive_rate"),
    ],
)
def test_veritas_tree(favourable, priority, impact, concern, parity, primary) -> None:
    sel = select_metric(
        fair_priority=priority,
        fair_impact=impact,
        fair_concern=concern,
        positive_label_favourable=favourable,
    )
    assert (sel.parity_metric, sel.primary_metric) == (parity, primary)
    assert parity.replace("_", " ") in sel.reason


def test_veritas_refuses_not_applicable_combination() -> None:
    with pytest.raises(InputError, match="not applicable"):
        select_metric(
            fair_priority="benefit",
            fair_impact="significant",
            fair_concern="both",
            positive_label_favourable=True,
        )
