"""`compliance assess --find-slices --slices-file`: through the runner into the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from compliance.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def planted_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    n = 5000
    frame = pd.DataFrame(
        {
            "region": rng.choice(["North", "South", "East", "West"], n),
            "product": rng.choice(["card", "loan", "lease"], n),
            "tenure": rng.choice(["new", "old"], n),
            "sex": rng.choice(["F", "M"], n),
        }
    )
    y = rng.integers(0, 2, n)
    bad = ((frame.region == "West") & (frame["product"] == "lease")).to_numpy()
    frame["y"] = y
    frame["pred"] = np.where(rng.random(n) < np.where(bad, 0.5, 0.06), 1 - y, y)
    path = tmp_path_factory.mktemp("data") / "planted.csv"
    frame.to_csv(path, index=False)
    return path


def test_assess_with_found_and_business_slices(tmp_path: Path, planted_csv: Path) -> None:
    slices = tmp_path / "slices.yaml"
    slices.write_text("- {name: Cards, where: {product: card}}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "assess",
            "--quiet",
            "--data",
            str(planted_csv),
            "--target",
            "y",
            "--protected",
            "sex",
            "--predictions-column",
            "pred",
            "--bootstrap",
            "50",
            "--find-slices",
            "--slice-depth",
            "2",
            "--slices-file",
            str(slices),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "assessment.json").read_text())
    disc = doc["discovery"]
    assert disc["depth"] == 2
    top = disc["slices_found"][0]
    assert top["definition"] == {"region": "West", "product": "lease"}
    assert top["description"] == "region is West and product is lease"
    frame = pd.read_csv(planted_csv)
    rows = frame[(frame.region == "West") & (frame["product"] == "lease")]
    assert top["n"] == len(rows)
    assert top["value"] == pytest.approx(float((rows.y != rows.pred).mean()))
    assert top["p_adjusted"] < 1e-6
    assert "pred" not in disc["features"] and "y" not in disc["features"]
    (cards,) = disc["business_slices"]
    assert cards["name"] == "Cards" and cards["n"] == int((frame["product"] == "card").sum())
    assert {"slices", "evaluation"} <= {i["role"] for i in doc["inputs"]}
    assert disc["leave_one_out"]["available"] is False


def test_a_malformed_slices_file_exits_2_naming_file_and_field(
    tmp_path: Path, planted_csv: Path
) -> None:
    slices = tmp_path / "slices.yaml"
    slices.write_text("- {name: Cards, where: {prodct: card}}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "assess",
            "--quiet",
            "--data",
            str(planted_csv),
            "--target",
            "y",
            "--protected",
            "sex",
            "--predictions-column",
            "pred",
            "--bootstrap",
            "0",
            "--slices-file",
            str(slices),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert str(slices) in result.output
    assert "slices[0].where.prodct" in result.output
    assert not out.exists()
