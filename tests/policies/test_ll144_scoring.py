"""NYC Local Law 144 for a tool that scores: scoring rates (the share of a category scored
above the sample's median) and impact ratios against the highest, through the user path."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from compliance.cli import app


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    rng = np.random.default_rng(3)
    n = 3_000
    frame = pd.DataFrame({
        "sex": rng.choice(["Female", "Male"], n),
        "race": rng.choice(["A", "B", "C", "D"], n, p=[0.6, 0.25, 0.14, 0.01]),
    })  # fmt: skip
    shift = np.where(frame["sex"] == "Female", -0.3, 0.0) + np.where(frame["race"] == "B", -0.6, 0)
    frame["fit"] = rng.normal(size=n) + shift
    frame["score"] = frame["fit"] + rng.normal(scale=0.5, size=n)
    path = tmp_path_factory.mktemp("ll144") / "scores.csv"
    frame.to_csv(path, index=False)
    return frame, path


def _assess_scores(path: Path, out: Path) -> dict[str, Any]:
    """`compliance assess` of the scores in `path` with the nyc-ll144 pack: the JSON."""
    result = CliRunner().invoke(app, [
        "assess", "-q", "--data", str(path), "--target", "fit", "--protected", "sex,race",
        "--task", "regression", "--predictions-column", "score", "--policy", "nyc-ll144",
        "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return dict(json.loads((out / "assessment.json").read_text()))


def _rates(frame: pd.DataFrame, column: str) -> dict[str, float]:
    above = frame["score"] > frame["score"].median()
    return {str(k): float(v) for k, v in above.groupby(frame[column]).mean().items()}


def test_scoring_rates_and_impact_ratios_for_a_scoring_model(
    scored: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    frame, path = scored
    out = tmp_path / "out"
    doc = _assess_scores(path, out)

    # the engine's scoring rate is pandas' share above the overall median, with a Wilson CI
    by_sex = _rates(frame, "sex")
    for s in doc["fairness"]["slices"]:
        if list(s["attributes"]) == ["sex"]:
            est = s["metrics"]["scoring_rate"]
            value = by_sex[s["attributes"]["sex"]]
            assert est["value"] == pytest.approx(value)
            assert 0 <= est["ci_low"] < value < est["ci_high"] <= 1
            above = round(value * s["n"])
            assert s["counts"] == {
                "scored_above_median": above, "scored_not_above_median": s["n"] - above
            }  # fmt: skip

    # LL144: each ratio is the category's scoring rate over the highest in its dimension
    ll = next(f for f in doc["policy"]["findings"] if f["check"] == "LL144-ratios")
    assert ll["status"] in ("pass", "warn") and ll["measured"]["rate"] == "scoring_rate"
    dims = {tuple(d["dimension"]): d for d in ll["measured"]["dimensions"]}
    by_race = _rates(frame, "race")
    eligible = {k: v for k, v in by_race.items() if (frame["race"] == k).mean() >= 0.02}
    top = max(eligible.values())
    for cat in dims[("race",)]["categories"]:
        race = cat["category"]["race"]
        assert cat["scoring_rate"] == pytest.approx(by_race[race])
        if race in eligible:
            assert cat["impact_ratio"] == pytest.approx(by_race[race] / top)
        else:  # D is about 1% of the data: left out of the ratios, still reported
            assert cat["excluded"] and cat["impact_ratio"] is None
    low = [k for k, v in eligible.items() if v / top < 0.8]
    assert low and ll["status"] == "warn"
    assert all(f"race={k}" in ll["message"] for k in low)

    # the submission pack's LL144 table names the scoring rate
    pack = CliRunner().invoke(app, [
        "pack", str(out / "assessment.json"), "--out", str(tmp_path / "pack.zip"),
    ])  # fmt: skip
    assert pack.exit_code == 0, pack.output
    with zipfile.ZipFile(tmp_path / "pack.zip") as z:
        name = next(n for n in z.namelist() if "ll144" in n)
        rows = list(csv.DictReader(io.StringIO(z.read(name).decode())))
    assert "scoring_rate" in rows[0] and "scored_above_median" in rows[0]
    b = next(r for r in rows if r["dimension"] == "race" and r["category"].endswith("B"))
    assert float(b["scoring_rate"]) == pytest.approx(by_race["B"], abs=1e-4)

    # the report reads as one on a scoring model: no confusion counts, no empty comparisons
    from compliance.assessment import load_assessment
    from reports import render_html

    html = render_html(load_assessment(out / "assessment.json"))
    assert "TP · FP · FN · TN" not in html and "No comparison could be stated" not in html
    assert "scoring rate (share scored above the median)" in html
    assert "Selection or scoring rates and impact ratios" in html
    # its groups are compared in plain words: race B's scoring rate (shifted down by 0.6)
    # against the best-served race, with Welch's t-test named in the method
    statement = re.search(r"On [0-9,]+ people in the group race = B, the scoring rate[^<]*", html)
    assert statement is not None and "statistically significant" in statement.group(0)
    assert "Welch" in html and "four-fifths threshold" not in html


def test_constant_scores_give_no_ratios_not_a_pass(
    scored: tuple[pd.DataFrame, Path], tmp_path: Path
) -> None:
    """Every score the same: no one is above the median, every scoring rate is 0 and no
    ratio exists. The check says so (no data), where it used to pass."""
    frame, _ = scored
    path = tmp_path / "constant.csv"
    frame.assign(score=40.0).to_csv(path, index=False)
    out = tmp_path / "out"
    doc = _assess_scores(path, out)
    ll = next(f for f in doc["policy"]["findings"] if f["check"] == "LL144-ratios")
    assert ll["status"] == "insufficient_data", ll["message"]
    assert "No impact ratio could be computed" in ll["message"]
    # a category under the cell size has no share either (share x total is its size)
    race = next(d for d in ll["measured"]["dimensions"] if d["dimension"] == ["race"])
    for cat in race["categories"]:
        assert (cat["share"] is None) == (cat["n"] == "fewer than 10"), cat
    # the four-fifths rule has no selection rate to judge on a scoring model: it says why
    ff = CliRunner().invoke(
        app, ["gate", str(out / "assessment.json"), "--policy", "eeoc-four-fifths"]
    )
    assert "four-fifths rule compares selection rates" in " ".join(ff.output.split())
