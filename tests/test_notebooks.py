"""The walkthrough notebooks run from top to bottom (their kept outputs are not compared).

Each executes in a fresh kernel from `notebooks/`, in the default suite (the torch one
takes about 40 s on 2 cores).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

CASES = [
    pytest.param("01_fairness_per_slice_adult.ipynb", id="fairness-per-slice"),
    pytest.param("02_privacy_audit_torch_dp.ipynb", id="privacy-torch-dp", marks=pytest.mark.torch),
    pytest.param("03_assessment_gate_pack.ipynb", id="gate-and-pack"),
]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", CASES)
def test_notebook_runs(name: str) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if name.startswith("03") and shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    assert all(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "a cell printed nothing"
    )
