"""Acceptance on Adult: a LightGBM model, `sex` and `race` protected, the built-in packs.

Expected figures are computed here from the model's own predictions on the test split
(`adult_scored`), independently of the fairness engine, and compared with the findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from scipy.stats import chi2_contingency
from typer.testing import CliRunner

from compliance.assessment import Assessment, load_assessment
from compliance.cli import app
from compliance.runner import run_assessment
from compliance.spec import AssessSpec

THRESHOLD = 0.10  # feat F1's documented default


@pytest.fixture(scope="module")
def adult(
    adult_test_path: Path, adult_lightgbm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Assessment:
    out = tmp_path_factory.mktemp("adult-policy") / "out"
    spec = AssessSpec(
        data=adult_test_path, target="income", protected=["sex", "race"], out=out,
        model=adult_lightgbm, positive_label=">50K", bootstrap=200, seed=0,
        policies=["feat", "eeoc-four-fifths", "nyc-ll144"],
    )  # fmt: skip
    run_assessment(spec)
    return load_assessment(out / "assessment.json")


def tpr(frame: pd.DataFrame) -> tuple[float, int]:
    positives = frame[frame["y"] == 1]
    return float(positives["pred"].mean()), len(positives)


def group(frame: pd.DataFrame, attrs: dict[str, str]) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for k, v in attrs.items():
        mask &= frame[k].astype(str) == v
    return frame[mask]


def finding(a: Assessment, pack: str, check: str) -> Any:
    assert a.policy is not None
    return next(f for f in a.policy.findings if f.pack == pack and f.check == check)


def test_feat_f1_fails_exactly_the_slices_outside_threshold(
    adult: Assessment, adult_scored: pd.DataFrame
) -> None:
    assert adult.fairness is not None and adult.fairness.primary_metric == "true_positive_rate"
    f1 = finding(adult, "feat", "F1")
    min_positives = adult.fairness.min_slice_size
    expected_fail: list[dict[str, str]] = []
    expected_pass: list[dict[str, str]] = []
    for row in f1.measured["slices"]:
        if row["reference"] is None:
            continue
        value, positives = tpr(group(adult_scored, row["slice"]))
        ref_value, _ = tpr(group(adult_scored, row["reference"]))
        if positives < min_positives:
            assert row["verdict"] == "insufficient_data", row
            continue
        # The finding's gap is the gap of the model's own predictions.
        assert row["difference"] == pytest.approx(value - ref_value, abs=1e-9)
        (expected_fail if abs(value - ref_value) > THRESHOLD else expected_pass).append(
            row["slice"]
        )
    assert f1.status == "fail"
    assert sorted(map(str, f1.slices)) == sorted(map(str, expected_fail))
    verdicts = {str(r["slice"]): r["verdict"] for r in f1.measured["slices"]}
    assert all(verdicts[str(s)] == "pass" for s in expected_pass)
    # Named: with this model, Black people who earn >50K are recognised less often than
    # White people by more than 0.10 (about 0.105); women's gap to men (about 0.075) is under.
    assert {"race": "Black"} in expected_fail
    assert {"sex": "Female"} in expected_pass
    # Every failing slice is a Black group (race=Black, and both sexes within it).
    assert all(s.get("race") == "Black" for s in expected_fail), expected_fail


def test_attestations_open_until_a_filled_questionnaire(adult: Assessment, tmp_path: Path) -> None:
    assert adult.policy is not None
    opened = [f.check for f in adult.policy.findings if f.pack == "feat" and f.status == "open"]
    assert set(opened) == {"F2", "F4", "E1", "E2", "A1", "A2", "A3", "A4", "A5", "T1", "T2", "T3"}
    saved = tmp_path / "assessment.json"
    adult.write(saved)
    questionnaire = tmp_path / "answers.yaml"
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["attest", "init", "--policy", "feat", "--out", str(questionnaire)]
        ).exit_code
        == 0
    )
    doc = yaml.safe_load(questionnaire.read_text(encoding="utf-8"))
    for item in doc["items"]:
        item.update(answer=f"See {item['check']}", evidence="MRM-2026-118", name="Ada Lovelace",
                    role="Head of Model Risk", date="2026-11-20")  # fmt: skip
        if item["check"] == "F4":
            item["answer"] = "Next review on 2099-06-30; monthly drift report to the MRM committee."
    questionnaire.write_text(yaml.safe_dump(doc), encoding="utf-8")
    json_out = tmp_path / "gate.json"
    args = ["gate", str(saved), "--policy", "feat", "--attestations", str(questionnaire)]
    result = runner.invoke(app, [*args, "--json", str(json_out), "-q"])
    assert result.exit_code == 1  # F1 still fails
    import json

    findings = {f["check"]: f for f in json.loads(json_out.read_text(encoding="utf-8"))["findings"]}
    for check in ("F4", "E1", "E2", "A1", "A2", "A3", "A4", "A5", "T1", "T2", "T3"):
        assert findings[check]["status"] == "pass", check
        assert findings[check]["attestation"]["name"] == "Ada Lovelace"
    assert findings["F2"]["status"] in ("pass", "warn")
    assert findings["F1"]["status"] == "fail"


def shown(n: int, min_cell: int = 10) -> int | str:
    """A count as findings show it: under the minimum cell size, only 'fewer than 10'."""
    return n if n >= min_cell else f"fewer than {min_cell}"


def test_four_fifths_and_ll144_on_adult(adult: Assessment, adult_scored: pd.DataFrame) -> None:
    ff = finding(adult, "eeoc-four-fifths", "four-fifths")
    rows = {str(r["slice"]): r for r in ff.measured["comparisons"]}
    women, men = group(adult_scored, {"sex": "Female"}), group(adult_scored, {"sex": "Male"})
    sel_w, sel_m = int(women["pred"].sum()), int(men["pred"].sum())
    row = rows[str({"sex": "Female"})]
    assert row["highest"] == {"sex": "Male"}
    assert row["ratio"] == pytest.approx((sel_w / len(women)) / (sel_m / len(men)))
    p = chi2_contingency(
        [[sel_w, len(women) - sel_w], [sel_m, len(men) - sel_m]], correction=False
    )[1]
    assert row["p_value"] == pytest.approx(p, rel=1e-6, abs=1e-300)
    assert row["verdict"] == ("fail" if row["ratio"] < 0.8 else "pass")

    ll = finding(adult, "nyc-ll144", "LL144-ratios")
    dims = {tuple(d["dimension"]): d for d in ll.measured["dimensions"]}
    race = dims[("race",)]
    n = len(adult_scored)
    shares = adult_scored["race"].value_counts() / n
    rates = adult_scored.groupby("race")["pred"].mean()
    eligible = [r for r in rates.index if shares[r] >= 0.02]
    top = max(eligible, key=lambda r: rates[r])
    assert race["highest"] == {"race": top}
    for cat in race["categories"]:
        name = cat["category"]["race"]
        assert cat["n"] == shown(int((adult_scored["race"] == name).sum()))
        assert cat["excluded"] == bool(shares[name] < 0.02)
        if not cat["excluded"]:
            assert cat["impact_ratio"] == pytest.approx(rates[name] / rates[top])
        else:
            assert cat["impact_ratio"] is None and cat["selection_rate"] == pytest.approx(
                rates[name]
            )
    assert race["unknown_count"] == shown(int(adult_scored["race"].isna().sum()))
    assert ("race", "sex") in dims  # intersections, each against the highest intersection


def test_unknown_category_count_from_missing_values(
    adult_test_path: Path, adult_lightgbm: Path, tmp_path: Path
) -> None:
    frame = pd.read_csv(adult_test_path)
    blank = frame.sample(n=123, random_state=1).index
    frame.loc[blank, "race"] = None
    data = tmp_path / "adult_some_race_unknown.csv"
    frame.to_csv(data, index=False)
    spec = AssessSpec(
        data=data, target="income", protected=["sex", "race"], out=tmp_path / "out",
        model=adult_lightgbm, positive_label=">50K", bootstrap=0, policies=["nyc-ll144"],
    )  # fmt: skip
    a = run_assessment(spec)
    ll = finding(a, "nyc-ll144", "LL144-ratios")
    dims = {tuple(d["dimension"]): d for d in ll.measured["dimensions"]}
    assert dims[("race",)]["unknown_count"] == 123
    assert dims[("sex",)]["unknown_count"] == "fewer than 10"  # 0, under the minimum cell
    assert "race: 123" in ll.message
