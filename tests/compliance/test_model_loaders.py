"""Each model format loads through its safe loader; unsafe files are refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from typer.testing import CliRunner

from compliance.cli import app
from compliance.errors import ModelLoadError
from compliance.models import load_model


@pytest.fixture(scope="module")
def numeric_data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=["f0", "f1", "f2", "f3"])
    y = (X["f0"] + 0.5 * X["f1"] + rng.normal(scale=0.5, size=300) > 0).astype(int).to_numpy()
    return X, y


def test_skops_pipeline_with_default_trusted_types(tmp_path: Path) -> None:
    import skops.io as sio

    frame = pd.DataFrame({"a": ["x", "y", "z", "x"] * 25, "b": np.arange(100.0)})
    y = (frame["b"] % 3 == 0).astype(int)
    pipe = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(), ["a"]), ("num", StandardScaler(), ["b"])]),
        LogisticRegression(),
    )
    pipe.fit(frame, y)
    path = tmp_path / "pipe.skops"
    sio.dump(pipe, path)
    handle = load_model(path)
    assert handle.kind == "sklearn"
    np.testing.assert_allclose(handle.predict_proba(frame), pipe.predict_proba(frame))
    assert handle.feature_names == ["a", "b"]


def test_skops_refuses_untrusted_type_by_name_and_trust_type_allows_it(
    tmp_path: Path, numeric_data
) -> None:
    import lightgbm as lgb
    import skops.io as sio

    X, y = numeric_data
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    path = tmp_path / "lgbm.skops"
    sio.dump(model, path)
    with pytest.raises(ModelLoadError) as info:
        load_model(path)
    untrusted = sio.get_untrusted_types(file=path)
    assert "lightgbm.sklearn.LGBMClassifier" in untrusted
    assert "lightgbm.sklearn.LGBMClassifier" in str(info.value)
    assert "--trust-type" in (info.value.hint or "")
    handle = load_model(path, trust_types=untrusted)
    np.testing.assert_allclose(handle.predict_proba(X), model.predict_proba(X))
    assert handle.trusted_types == untrusted


class _Exploit:
    def __reduce__(self):  # runs os.system on unpickling
        return (os.system, (f"touch {os.environ['EXPLOIT_MARKER']}",))


def test_malicious_pickle_runs_nothing_without_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "pwned"
    monkeypatch.setenv("EXPLOIT_MARKER", str(marker))
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Exploit()))
    result = CliRunner().invoke(app, [
        "assess", "-q", "--data", "x.csv", "--target", "y", "--protected", "s",
        "--model", str(path), "--out", str(tmp_path / "out"),
    ])  # fmt: skip
    # the data file is missing too; the model is refused before anything is unpickled
    with pytest.raises(ModelLoadError, match="refused to load a pickle"):
        load_model(path)
    assert result.exit_code == 2
    assert not marker.exists()
    # with the flag the code does run: the flag is a real trust decision
    with pytest.raises(ModelLoadError):
        load_model(path, trust_pickle=True)
    assert marker.exists()


def test_trusted_pickle_is_recorded(tmp_path: Path, numeric_data) -> None:
    import joblib

    X, y = numeric_data
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(X, y), path)
    frame = X.assign(y=y, s=np.where(X["f2"] > 0, "a", "b"))
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "assess", "-q", "--data", str(data), "--target", "y", "--protected", "s",
        "--model", str(path), "--trust-pickle", "--bootstrap", "20", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    import json

    doc = json.loads((out / "assessment.json").read_text())
    assert doc["model"]["trusted_pickle"] is True
    assert any("--trust-pickle" in w for w in doc["warnings"])


def test_lightgbm_native_text(adult_lightgbm: Path, adult_scored: pd.DataFrame) -> None:
    handle = load_model(adult_lightgbm)
    X = adult_scored.drop(columns=["income", "y", "score", "pred"]).head(200)
    p = handle.predict_proba(X)
    assert p.shape == (200, 2)
    np.testing.assert_allclose(p[:, 1], adult_scored["score"].head(200))


def test_xgboost_json_and_ubj(tmp_path: Path, numeric_data) -> None:
    xgb = pytest.importorskip("xgboost")
    X, y = numeric_data
    model = xgb.XGBClassifier(n_estimators=10, max_depth=3).fit(X, y)
    for suffix in ("json", "ubj"):
        path = tmp_path / f"model.{suffix}"
        model.save_model(path)
        handle = load_model(path)
        np.testing.assert_allclose(
            handle.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1], rtol=1e-6
        )


def test_onnx_via_onnxruntime(tmp_path: Path, numeric_data) -> None:
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    X, y = numeric_data
    model = LogisticRegression().fit(X.to_numpy(np.float32), y)
    onx = skl2onnx.convert_sklearn(
        model,
        initial_types=[("input", FloatTensorType([None, 4]))],
        options={id(model): {"zipmap": False}},
    )
    path = tmp_path / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    handle = load_model(path)
    np.testing.assert_allclose(
        handle.predict_proba(X), model.predict_proba(X.to_numpy(np.float32)), atol=1e-5
    )


@pytest.mark.torch
def test_exported_program(tmp_path: Path, numeric_data) -> None:
    torch = pytest.importorskip("torch")
    X, _ = numeric_data
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    example = torch.from_numpy(np.array(X.to_numpy(np.float32)))
    batch = torch.export.Dim("batch")
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
    path = tmp_path / "net.pt2"
    torch.export.save(program, str(path))
    handle = load_model(path)
    with torch.no_grad():
        expected = torch.softmax(net(example), dim=1).numpy()
    np.testing.assert_allclose(handle.predict_proba(X), expected, atol=1e-6)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_module_and_refused_state_dict(tmp_path: Path, numeric_data) -> None:
    torch = pytest.importorskip("torch")
    X, _ = numeric_data
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.script(net), str(path))
    handle = load_model(path)
    with torch.no_grad():
        expected = torch.softmax(
            net(torch.from_numpy(np.array(X.to_numpy(np.float32)))), dim=1
        ).numpy()
    np.testing.assert_allclose(handle.predict_proba(X), expected, atol=1e-6)
    weights = tmp_path / "weights.pt"
    torch.save(net.state_dict(), weights)
    with pytest.raises(ModelLoadError, match="state dict"):
        load_model(weights)


def test_unknown_format_is_named(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\0")
    with pytest.raises(ModelLoadError, match=r"model\.bin.*unknown model format"):
        load_model(path)
