"""The terminal summary in an 80-column terminal or a pipe: figures wrap, never cut."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from compliance.cli import app


@pytest.fixture(scope="module")
def scored_csv(tmp_path_factory: pytest.TempPathFactory, adult_scored: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("data") / "scored.csv"
    adult_scored.to_csv(path, index=False)
    return path


def _run(csv: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        app,
        [
            "assess",
            "--data",
            str(csv),
            "--target",
            "y",
            "--protected",
            "sex,race",
            "--predictions-column",
            "pred",
            "--bootstrap",
            "100",
            "--out",
            str(out),
            *extra,
        ],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_intervals_are_never_cut_at_80_columns(tmp_path: Path, scored_csv: Path) -> None:
    """The table cut intervals short, with an ellipsis, at 80 columns or in a CI log."""
    output = _run(scored_csv, tmp_path / "a")
    table = output[output.index("Worst slices") :]
    assert "…" not in table
    assert all(len(line) <= 80 for line in table.splitlines()[:40]), table


def test_nothing_ranked_says_so_instead_of_an_empty_table(tmp_path: Path, scored_csv: Path) -> None:
    output = _run(scored_csv, tmp_path / "b", "--min-slice-size", "5000")
    assert "No comparison by true positive rate could be ranked." in output
    assert "Worst slices" not in output
