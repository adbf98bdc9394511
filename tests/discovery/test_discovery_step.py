"""The discovery step: business slices from YAML, its errors, and the evidence it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compliance.errors import InputError
from compliance.evidence.discovery import DiscoverySection
from compliance.progress import Progress
from compliance.spec import AssessSpec
from compliance.steps import discovery
from compliance.tables import sha256_file


@dataclass
class FakeContext:
    """The attributes of the runner's RunContext the step reads."""

    spec: AssessSpec
    frame: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None = None
    model: object | None = None
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    inputs: list[tuple[str, str, str]] = field(default_factory=list)

    def add_input(self, path: Path, role: str) -> None:
        self.inputs.append((str(path), role, sha256_file(path)))


def make_data(n: int = 6000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "region": rng.choice(["North", "South", "East"], n),
            "product": rng.choice(["card", "loan"], n),
            "age": rng.integers(18, 70, n),
            "sex": rng.choice(["F", "M"], n),
            "title": "x",
        }
    )
    frame["title"] = np.where(frame["sex"] == "F", "Ms", "Mr")
    y = rng.integers(0, 2, n).astype(np.int8)
    bad = ((frame.region == "North") & (frame.age < 25)).to_numpy()
    yp = np.where(rng.random(n) < np.where(bad, 0.5, 0.05), 1 - y, y).astype(np.int8)
    frame["target"] = y
    return frame, y, yp


def make_ctx(tmp_path: Path, **spec_fields: object) -> FakeContext:
    frame, y, yp = make_data()
    spec = AssessSpec(
        data=tmp_path / "data.csv",
        target="target",
        protected=["sex"],
        out=tmp_path / "out",
        predictions_column=None,
        **spec_fields,  # type: ignore[arg-type]
    )
    return FakeContext(spec=spec, frame=frame, y_true=y, y_pred=yp)


SLICES_YAML = """
- name: Young northerners
  where: {region: North, age: [null, 25]}
- name: Cards
  where: {product: card}
- where: {region: East, age: 30}
- name: Nobody
  where: {region: West}
"""


def test_business_slices_are_always_reported(tmp_path: Path) -> None:
    path = tmp_path / "slices.yaml"
    path.write_text(SLICES_YAML, encoding="utf-8")
    ctx = make_ctx(tmp_path, slices_file=path)
    section = discovery.run(ctx)  # type: ignore[arg-type]
    assert section.slices_found == []  # no --find-slices: only the business slices
    assert [s.name for s in section.business_slices] == [
        "Young northerners",
        "Cards",
        None,
        "Nobody",
    ]
    young, cards, east30, nobody = section.business_slices
    f = ctx.frame
    mask = ((f.region == "North") & (f.age < 25)).to_numpy()
    assert young.n == int(mask.sum())
    assert young.value == pytest.approx(float((ctx.y_true != ctx.y_pred)[mask].mean()))
    assert young.definition == {"region": "North", "age": [None, 25.0]}
    assert young.description == "region is North and age under 25"
    assert young.p_adjusted is not None and young.p_adjusted < 1e-6
    assert cards.n == int((f["product"] == "card").sum())
    assert cards.p_adjusted is not None and cards.p_adjusted > 0.01  # cards are not worse
    assert east30.n == int(((f.region == "East") & (f.age == 30)).sum())
    assert east30.status == "ok"
    assert nobody.n == 0 and nobody.status == "insufficient_data"
    assert nobody.value is None and nobody.suppressed
    # Holm over the judged business slices: at least the raw p-value
    for s in (young, cards, east30):
        assert s.p_value is not None and s.p_adjusted is not None
        assert s.p_adjusted >= s.p_value
    assert ctx.inputs[0][0] == str(path) and ctx.inputs[0][1] == "slices"
    assert section.slices_file == str(path)


def test_find_slices_and_proxies_in_one_section(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, find_slices=True, bins={"age": [25, 40, 55]})
    section = discovery.run(ctx)  # type: ignore[arg-type]
    assert section.metric == "error_rate"
    assert section.depth == 3 and section.min_support == 30
    top = section.slices_found[0]
    assert top.definition == {"region": "North", "age": [None, 25.0]}
    assert top.source == "search"
    assert section.slices_tested is not None and section.slices_tested > len(section.slices_found)
    assert section.bin_edges["age"] == [25.0, 40.0, 55.0]
    # the target is not searched; the protected attribute is
    assert "target" not in section.features and "sex" in section.features
    title = next(p for p in section.proxies if p.feature == "title")
    assert title.flagged and title.auc == pytest.approx(1.0)
    assert all(not p.flagged for p in section.proxies if p.feature != "title")
    assert section.leave_one_out is not None and not section.leave_one_out.available
    assert "outputs-only" in (section.leave_one_out.reason or "")
    # the evidence round-trips through JSON unchanged
    again = DiscoverySection.model_validate_json(section.model_dump_json())
    assert again == section


def test_leave_one_out_needs_a_training_set(tmp_path: Path, adult_lightgbm: Path) -> None:
    from compliance.datasets import load_bundled
    from compliance.models import load_model

    model = load_model(adult_lightgbm)
    frame = load_bundled("adult-test").head(3000)
    y = (frame["income"] == ">50K").to_numpy(dtype=np.int8)
    pred = model.predict(frame.drop(columns="income")).astype(np.int8)
    spec = AssessSpec(
        data=tmp_path / "d.csv",
        target="income",
        protected=["sex"],
        out=tmp_path / "o",
        find_slices=True,
        slice_depth=2,
    )
    ctx = FakeContext(spec=spec, frame=frame, y_true=y, y_pred=pred, model=model)
    section = discovery.run(ctx)  # type: ignore[arg-type]
    assert section.leave_one_out is not None and not section.leave_one_out.available
    assert "--train" in (section.leave_one_out.reason or "")
    relationship = next(
        p for p in section.proxies if p.feature == "relationship" and p.protected == "sex"
    )
    assert relationship.flagged  # "Husband"/"Wife" stand in for sex


@pytest.mark.slow
def test_leave_one_out_on_adult(tmp_path: Path, adult_lightgbm: Path) -> None:
    from compliance.datasets import bundled_path, load_bundled
    from compliance.models import load_model

    model = load_model(adult_lightgbm)
    frame = load_bundled("adult-test")
    y = (frame["income"] == ">50K").to_numpy(dtype=np.int8)
    pred = model.predict(frame.drop(columns="income")).astype(np.int8)
    spec = AssessSpec(
        data=tmp_path / "d.csv",
        target="income",
        protected=["sex", "race"],
        out=tmp_path / "o",
        slices_file=None,
        find_slices=True,
        train=bundled_path("adult-train"),
        positive_label=">50K",
    )
    ctx = FakeContext(spec=spec, frame=frame, y_true=y, y_pred=pred, model=model)
    section = discovery.run(ctx)  # type: ignore[arg-type]
    loo = section.leave_one_out
    assert loo is not None and loo.available
    sex = next(r for r in loo.results if r.attribute == "sex")
    assert sex.fairness_metric == "equal_opportunity"
    assert sex.accuracy_with is not None and sex.original_accuracy is not None
    assert sex.accuracy_with == pytest.approx(sex.original_accuracy, abs=0.01)
    assert sex.accuracy_change is not None and abs(sex.accuracy_change) < 0.02
    assert any(i[1] == "training" for i in ctx.inputs)


def test_unknown_metric_is_an_input_error(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, find_slices=True, slice_metric="f1")
    with pytest.raises(InputError, match="unknown metric 'f1'") as info:
        discovery.run(ctx)  # type: ignore[arg-type]
    assert info.value.field == "slice-metric"


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("- where: {region: [North}\n", "line 1", "not valid YAML"),
        ("{}\n", "slices", "non-empty list"),
        ("just text\n", "slices", "non-empty list"),
        ("slices: []\n", "slices", "non-empty list"),
        ("other: 1\nslices: [{where: {region: North}}]\n", "other", "unknown key"),
        ("- region: North\n", "slices[0].region", "unknown key"),
        ("- [1, 2]\n", "slices[0]", "expected a mapping"),
        ("- where: {}\n", "slices[0].where", "non-empty mapping"),
        ("- where: North\n", "slices[0].where", "non-empty mapping"),
        (
            "- {where: {region: North}}\n- {where: {regio: North}}\n",
            "slices[1].where.regio",
            "no such column",
        ),
        ("- {name: 3, where: {region: North}}\n", "slices[0].name", "must be text"),
        ("- {where: {age: [30]}}\n", "slices[0].where.age", "[low, high]"),
        ("- {where: {age: [40, 30]}}\n", "slices[0].where.age", "low must be under high"),
        ("- {where: {age: [a, 30]}}\n", "slices[0].where.age", "[low, high]"),
        ("- {where: {region: [1, 2]}}\n", "slices[0].where.region", "numeric column"),
        ("- {where: {region: {in: [North]}}}\n", "slices[0].where.region", "expected a value"),
        ("- {where: {age: .inf}}\n", "slices[0].where.age", "finite"),
    ],
)
def test_malformed_slices_file_names_the_file_and_field(
    tmp_path: Path, text: str, field: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    ctx = make_ctx(tmp_path, slices_file=path)
    with pytest.raises(InputError) as info:
        discovery.run(ctx)  # type: ignore[arg-type]
    err = info.value
    assert err.path == str(path)
    assert err.field == field
    assert message in str(err)
    assert str(path) in str(err)


def test_missing_slices_file(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, slices_file=tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="no such file") as info:
        discovery.run(ctx)  # type: ignore[arg-type]
    assert info.value.path == str(tmp_path / "nope.yaml")


def test_regression_task_is_refused(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, find_slices=True, task="regression")
    with pytest.raises(InputError) as info:
        discovery.run(ctx)  # type: ignore[arg-type]
    assert info.value.field == "task"


def test_same_inputs_and_seed_give_the_same_evidence(tmp_path: Path) -> None:
    path = tmp_path / "slices.yaml"
    path.write_text(SLICES_YAML, encoding="utf-8")
    first = discovery.run(make_ctx(tmp_path, find_slices=True, slices_file=path))  # type: ignore[arg-type]
    second = discovery.run(make_ctx(tmp_path, find_slices=True, slices_file=path))  # type: ignore[arg-type]
    assert first.model_dump_json() == second.model_dump_json()


def test_numbers_and_missing_values_in_a_slices_file(tmp_path: Path) -> None:
    path = tmp_path / "slices.yaml"
    path.write_text(
        "slices:\n"
        "  - {name: exact score, where: {score: 2}}\n"
        "  - {name: no region, where: {region: (missing)}}\n"
        "  - {name: half, where: {score: 2.5}}\n",
        encoding="utf-8",
    )
    ctx = make_ctx(tmp_path, slices_file=path)
    n = len(ctx.frame)
    ctx.frame["score"] = np.resize([1.0, 2.0, 2.5, 4.0], n)
    ctx.frame.loc[: n // 10 - 1, "region"] = None
    section = discovery.run(ctx)  # type: ignore[arg-type]
    exact, missing, half = section.business_slices
    assert exact.definition == {"score": "2"}
    assert exact.n == n // 4
    assert missing.n == n // 10
    assert missing.description == "region is missing"
    assert half.n == n // 4


def test_business_slices_follow_the_runs_correction(tmp_path: Path) -> None:
    path = tmp_path / "slices.yaml"
    path.write_text(SLICES_YAML, encoding="utf-8")
    holm_run = discovery.run(make_ctx(tmp_path, slices_file=path))  # type: ignore[arg-type]
    bh_run = discovery.run(make_ctx(tmp_path, slices_file=path, correction="fdr_bh"))  # type: ignore[arg-type]
    assert holm_run.business_correction == "holm" and bh_run.business_correction == "fdr_bh"
    judged = [s for s in bh_run.business_slices if s.p_value is not None]
    raw = [float(s.p_value or 0.0) for s in judged]
    m = len(raw)
    order = sorted(range(m), key=lambda i: raw[i])
    expected = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):  # BH by hand, from the largest p down
        i = order[rank]
        running = min(running, raw[i] * m / (rank + 1))
        expected[i] = running
    assert [s.p_adjusted for s in judged] == pytest.approx(expected)
    for a, b in zip(holm_run.business_slices, bh_run.business_slices, strict=True):
        if a.p_adjusted is not None and b.p_adjusted is not None:
            assert b.p_adjusted <= a.p_adjusted + 1e-12
