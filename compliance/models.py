"""Safe loading of model artifacts into one ModelHandle.

Each format goes through its own safe native loader: skops for scikit-learn (trusted
types only), LightGBM's text format, XGBoost JSON/UBJ, ONNX through onnxruntime, torch
with `weights_only=True`. Plain pickle/joblib runs arbitrary code on load, so it is
refused unless the caller passes `trust_pickle=True`, which the assessment records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compliance.errors import ModelLoadError, ScoringError

SKOPS_SUFFIXES = (".skops",)
LIGHTGBM_SUFFIXES = (".lgb", ".lgbm", ".txt")
XGBOOST_SUFFIXES = (".json", ".ubj")
ONNX_SUFFIXES = (".onnx",)
TORCH_SUFFIXES = (".pt", ".pth", ".pt2")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


@dataclass
class ModelHandle:
    """A loaded model: scoring functions plus what the attacks need to retrain it.

    `estimator` is the native object (a scikit-learn estimator, a LightGBM Booster, an
    XGBoost Booster, an onnxruntime session, a torch module) so that reference models
    can be trained with the target's own recipe.
    """

    kind: str
    path: str | None
    estimator: Any
    feature_names: list[str] | None
    predict_proba_fn: Callable[[pd.DataFrame], np.ndarray] | None
    predict_fn: Callable[[pd.DataFrame], np.ndarray]
    classes: list[Any] = field(default_factory=lambda: [0, 1])
    trusted_pickle: bool = False
    trusted_types: list[str] = field(default_factory=list)

    @property
    def has_proba(self) -> bool:
        return self.predict_proba_fn is not None

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns of `frame`, in the model's order."""
        if self.feature_names is None:
            return frame
        missing = [c for c in self.feature_names if c not in frame.columns]
        if missing:
            raise ScoringError(
                f"the model expects column(s) {', '.join(missing)} that the data lacks",
                hint="pass the same feature columns the model was trained on",
            )
        return frame[self.feature_names]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities, shape (n, n_classes)."""
        if self.predict_proba_fn is None:
            raise ScoringError(f"the {self.kind} model has no probability output")
        try:
            proba = np.asarray(self.predict_proba_fn(self.features(frame)), dtype=float)
        except ScoringError:
            raise
        except Exception as exc:
            raise ScoringError(
                f"the model could not score the data ({type(exc).__name__}: {exc})"
            ) from exc
        if proba.ndim == 1:
            proba = np.column_stack([1.0 - proba, proba])
        return proba

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted labels (or values, for regression)."""
        try:
            return np.asarray(self.predict_fn(self.features(frame)))
        except ScoringError:
            raise
        except Exception as exc:
            raise ScoringError(
                f"the model could not score the data ({type(exc).__name__}: {exc})"
            ) from exc

    def loss(self, frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """Per-example cross-entropy loss, given labels as class indices into `classes`."""
        proba = self.predict_proba(frame)
        idx = np.asarray(y, dtype=int)
        p = np.clip(proba[np.arange(len(idx)), idx], 1e-12, 1.0)
        return np.asarray(-np.log(p))


def load_model(
    path: str | Path,
    *,
    trust_types: Sequence[str] = (),
    trust_pickle: bool = False,
) -> ModelHandle:
    """Load a model artifact by its file type through its safe loader."""
    p = Path(path)
    if not p.is_file():
        raise ModelLoadError("no such file", path=p)
    name = p.name.lower()
    if name.endswith(PICKLE_SUFFIXES):
        return _load_pickle(p, trust_pickle=trust_pickle)
    if name.endswith(SKOPS_SUFFIXES):
        return _load_skops(p, trust_types=list(trust_types))
    if name.endswith(ONNX_SUFFIXES):
        return _load_onnx(p)
    if name.endswith(TORCH_SUFFIXES):
        return _load_torch(p)
    if name.endswith(XGBOOST_SUFFIXES):
        return _load_xgboost(p)
    if name.endswith(LIGHTGBM_SUFFIXES):
        return _load_lightgbm(p)
    raise ModelLoadError(
        "unknown model format; expected .skops, LightGBM text (.txt/.lgb), XGBoost "
        "(.json/.ubj), .onnx, torch (.pt/.pth), or pickle/joblib with --trust-pickle",
        path=p,
    )


def _from_sklearn(est: Any, *, kind: str, path: Path, **extra: Any) -> ModelHandle:
    names = getattr(est, "feature_names_in_", None)
    proba = est.predict_proba if hasattr(est, "predict_proba") else None
    classes = list(getattr(est, "classes_", [0, 1]))
    return ModelHandle(
        kind=kind,
        path=str(path),
        estimator=est,
        feature_names=None if names is None else [str(n) for n in names],
        predict_proba_fn=proba,
        predict_fn=est.predict,
        classes=classes,
        **extra,
    )


def _load_skops(path: Path, *, trust_types: list[str]) -> ModelHandle:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise ModelLoadError(f"not a readable skops file ({exc})", path=path) from exc
    refused = [t for t in untrusted if t not in trust_types]
    if refused:
        raise ModelLoadError(
            "refused to load types that skops does not trust by default: " + ", ".join(refused),
            path=path,
            hint="if you know where this file came from, trust each with --trust-type NAME",
        )
    try:
        est = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelLoadError(f"skops could not load the model ({exc})", path=path) from exc
    return _from_sklearn(est, kind="sklearn", path=path, trusted_types=list(untrusted))


def _load_pickle(path: Path, *, trust_pickle: bool) -> ModelHandle:
    if not trust_pickle:
        raise ModelLoadError(
            "refused to load a pickle/joblib file: loading one runs any code it contains",
            path=path,
            hint="save the model with skops or a native format; or, if you trust its "
            "author, pass --trust-pickle (the report will record it)",
        )
    import joblib

    try:
        est = joblib.load(path)
    except Exception as exc:
        raise ModelLoadError(f"could not unpickle ({exc})", path=path) from exc
    if hasattr(est, "predict"):
        return _from_sklearn(est, kind="pickle", path=path, trusted_pickle=True)
    raise ModelLoadError(f"the pickled object ({type(est).__name__}) has no predict()", path=path)


def categorical_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Non-numeric columns as pandas categories, as LightGBM and XGBoost expect."""
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype("category")
    return out


def _load_lightgbm(path: Path) -> ModelHandle:
    import lightgbm as lgb

    with path.open("rb") as fh:
        first_line = fh.readline(64).strip()
    if first_line != b"tree":
        # LightGBM's own parser would print a '[Fatal]' line of its own before failing
        raise ModelLoadError(
            "not a LightGBM text model (its first line is not 'tree')",
            path=path,
            hint="save one with booster.save_model(path), or give a .skops/.json/.onnx model",
        )
    try:
        booster = lgb.Booster(model_file=str(path))
    except Exception as exc:
        raise ModelLoadError(f"not a LightGBM text model ({exc})", path=path) from exc
    objective = str(booster.params.get("objective", "")) if booster.params else ""
    pandas_categorical = getattr(booster, "pandas_categorical", None)

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        cat_cols = [
            c
            for c in out.columns
            if out[c].dtype == object
            or pd.api.types.is_string_dtype(out[c])
            or isinstance(out[c].dtype, pd.CategoricalDtype)
        ]
        if pandas_categorical:
            for col, cats in zip(cat_cols, pandas_categorical, strict=False):
                values = out[col].astype(str).where(out[col].notna())
                # values unseen in training become missing, as LightGBM treats them
                out[col] = pd.Categorical(values.where(values.isin(cats)), categories=cats)
        else:
            out = categorical_frame(out)
        return out

    if objective.startswith("regression") or objective in ("l2", "l1", "huber", "poisson"):

        def predict(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(booster.predict(prepare(frame)))

        proba_fn = None
    else:

        def proba_fn(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(booster.predict(prepare(frame)))

        def predict(frame: pd.DataFrame) -> np.ndarray:
            return (proba_fn(frame) >= 0.5).astype(int)

    return ModelHandle(
        kind="lightgbm",
        path=str(path),
        estimator=booster,
        feature_names=list(booster.feature_name()),
        predict_proba_fn=proba_fn,
        predict_fn=predict,
    )


def _load_xgboost(path: Path) -> ModelHandle:
    try:
        import xgboost as xgb
    except ImportError as exc:
        raise ModelLoadError(
            "XGBoost is not installed", path=path, hint="pip install 'compliance-audit[formats]'"
        ) from exc
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except Exception as exc:
        raise ModelLoadError(f"not an XGBoost JSON/UBJ model ({exc})", path=path) from exc
    names = booster.feature_names

    def proba_fn(frame: pd.DataFrame) -> np.ndarray:
        dm = xgb.DMatrix(categorical_frame(frame), enable_categorical=True)
        return np.asarray(booster.predict(dm))

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return (proba_fn(frame) >= 0.5).astype(int)

    return ModelHandle(
        kind="xgboost",
        path=str(path),
        estimator=booster,
        feature_names=None if names is None else list(names),
        predict_proba_fn=proba_fn,
        predict_fn=predict,
    )


def _load_onnx(path: Path) -> ModelHandle:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelLoadError(
            "onnxruntime is not installed",
            path=path,
            hint="pip install 'compliance-audit[formats]'",
        ) from exc
    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelLoadError(f"not a loadable ONNX model ({exc})", path=path) from exc
    inputs = sess.get_inputs()
    outputs = [o.name for o in sess.get_outputs()]

    def run(frame: pd.DataFrame) -> list[Any]:
        if len(inputs) == 1:
            feed = {inputs[0].name: frame.to_numpy(dtype=np.float32)}
        else:
            feed = {}
            for inp in inputs:
                col = frame[inp.name].to_numpy()
                dtype = (
                    np.float32
                    if "float" in inp.type
                    else (np.int64 if "int" in inp.type else object)
                )
                feed[inp.name] = col.astype(dtype).reshape(-1, 1)
        return list(sess.run(None, feed))

    def proba_fn(frame: pd.DataFrame) -> np.ndarray:
        res = run(frame)
        out = res[1] if len(res) > 1 else res[0]
        if isinstance(out, list):  # zipmap: a list of {class: prob}
            keys = sorted(out[0])
            return np.array([[row[k] for k in keys] for row in out], dtype=float)
        return np.asarray(out, dtype=float)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(run(frame)[0]).ravel()

    names = [i.name for i in inputs] if len(inputs) > 1 else None
    return ModelHandle(
        kind="onnx",
        path=str(path),
        estimator=sess,
        feature_names=names,
        predict_proba_fn=proba_fn if len(outputs) > 1 else None,
        predict_fn=predict,
    )


def _load_torch(path: Path) -> ModelHandle:
    try:
        import torch
    except ImportError as exc:
        raise ModelLoadError(
            "torch is not installed", path=path, hint="pip install 'compliance-audit[torch]'"
        ) from exc
    try:
        if path.name.lower().endswith(".pt2"):
            module = torch.export.load(str(path)).module()
        elif _is_torchscript(path):
            module = torch.jit.load(str(path))  # type: ignore[no-untyped-call]
        else:
            module = torch.load(str(path), weights_only=True)
    except Exception as exc:
        raise ModelLoadError(
            f"torch refused or failed to load it with weights_only=True ({exc})",
            path=path,
            hint="save a TorchScript module (torch.jit.save) or a state dict with a recipe",
        ) from exc
    if not callable(module):
        raise ModelLoadError(
            "the file holds weights only (a state dict), not a runnable module",
            path=path,
            hint="save it with torch.jit.save, or name a recipe that builds the module",
        )

    def proba_fn(frame: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(np.array(frame.to_numpy(dtype=np.float32)))
            logits = module(x)
            return torch.softmax(logits, dim=1).numpy()

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(proba_fn(frame).argmax(axis=1))

    return ModelHandle(
        kind="torch",
        path=str(path),
        estimator=module,
        feature_names=None,
        predict_proba_fn=proba_fn,
        predict_fn=predict,
    )


def _is_torchscript(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("constants.pkl") for n in zf.namelist())
    except zipfile.BadZipFile:
        return False
