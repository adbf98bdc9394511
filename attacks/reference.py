"""Reference ("shadow") models trained with the target's own recipe.

The recipe is read from the target artifact: a scikit-learn estimator is cloned with its
hyperparameters (`sklearn.base.clone`), a LightGBM Booster is retrained with the training
parameters stored in its model file and its number of rounds, an XGBoost Booster with the
tree parameters of its saved configuration and its number of rounds, and a torch model
with a recipe the user names (`module:function`, called as `function(X, y, seed)` with
float32 features and int64 labels, returning a `torch.nn.Module` that outputs logits).
When none of these is available (an ONNX session, a torch module without a recipe) the
fallback family is a scikit-learn histogram gradient-boosting pipeline, reported as such:
attacks calibrated on a different family are weaker, so their figures understate risk.

Every reference model is trained in its own joblib task (`jobs` in parallel) and returns
only its probabilities of the positive class on the points asked for.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from compliance.errors import InputError
from compliance.models import ModelHandle
from compliance.progress import Progress

__all__ = [
    "FALLBACK_FAMILY",
    "ReferenceSignals",
    "Trainer",
    "make_trainer",
    "train_reference_models",
]

FALLBACK_FAMILY = "fallback: OrdinalEncoder + HistGradientBoostingClassifier (black-box target)"

# LightGBM parameters that shape the trained model; the rest of a model file's parameter
# block (I/O, device, seeds, aliases) is left out so that retraining does not warn.
_LGB_TRAIN_PARAMS = (
    "boosting",
    "objective",
    "num_iterations",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_data_in_leaf",
    "min_sum_hessian_in_leaf",
    "bagging_fraction",
    "bagging_freq",
    "feature_fraction",
    "feature_fraction_bynode",
    "lambda_l1",
    "lambda_l2",
    "min_gain_to_split",
    "max_bin",
    "max_cat_threshold",
    "cat_l2",
    "cat_smooth",
    "max_cat_to_onehot",
    "min_data_per_group",
    "extra_trees",
    "path_smooth",
    "is_unbalance",
    "scale_pos_weight",
    "boost_from_average",
    "linear_tree",
    "max_delta_step",
)


@dataclass(frozen=True)
class Trainer:
    """How to train one reference model: `fit(X, y01, y_raw, seed)` gives a scorer.

    The scorer maps a feature frame to the probability of the positive class.
    """

    family: str
    fit: Callable[[pd.DataFrame, np.ndarray, np.ndarray, int], Callable[[pd.DataFrame], np.ndarray]]
    fallback: bool = False


def _categorise(frame: pd.DataFrame, categories: dict[str, list[Any]]) -> pd.DataFrame:
    out = frame.copy()
    for col, cats in categories.items():
        values = out[col].astype(str).where(out[col].notna())
        out[col] = pd.Categorical(values.where(values.isin(cats)), categories=cats)
    return out


def _sklearn_trainer(model: ModelHandle, positive_label: str) -> Trainer:
    from sklearn.base import clone

    est = model.estimator
    classes = [str(c) for c in model.classes]

    def fit(
        X: pd.DataFrame, y01: np.ndarray, y_raw: np.ndarray, seed: int
    ) -> Callable[[pd.DataFrame], np.ndarray]:
        ref = clone(est)
        seeded = {
            k: seed for k in ref.get_params() if k == "random_state" or k.endswith("__random_state")
        }
        if seeded:
            ref.set_params(**seeded)
        raw = np.asarray(y_raw).astype(str)
        if set(np.unique(raw)) <= set(classes):
            lookup = {str(c): c for c in model.classes}
            y_fit: np.ndarray = np.array([lookup[v] for v in raw], dtype=object)
            if all(isinstance(c, (int, np.integer)) for c in model.classes):
                y_fit = y_fit.astype(int)
        else:
            y_fit = np.asarray(y01, dtype=int)
        ref.fit(X, y_fit)
        ref_classes = [str(c) for c in ref.classes_]
        col = (
            ref_classes.index(positive_label)
            if positive_label in ref_classes
            else len(ref_classes) - 1
        )

        def score(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(ref.predict_proba(frame), dtype=float)[:, col]

        return score

    return Trainer(family=f"sklearn.base.clone of {type(est).__name__}", fit=fit)


def _lightgbm_trainer(model: ModelHandle, frames: list[pd.DataFrame]) -> Trainer:
    import lightgbm as lgb

    booster = model.estimator
    params = {k: v for k, v in (booster.params or {}).items() if k in _LGB_TRAIN_PARAMS}
    params["num_iterations"] = booster.current_iteration()
    params.setdefault("objective", "binary")
    params.update(verbosity=-1, num_threads=1, deterministic=True, force_col_wise=True)
    categories = _shared_categories(frames)

    def fit(
        X: pd.DataFrame, y01: np.ndarray, y_raw: np.ndarray, seed: int
    ) -> Callable[[pd.DataFrame], np.ndarray]:
        ref = lgb.train(
            {**params, "seed": seed}, lgb.Dataset(_categorise(X, categories), label=y01)
        )

        def score(frame: pd.DataFrame) -> np.ndarray:
            return np.asarray(ref.predict(_categorise(frame, categories)), dtype=float)

        return score

    return Trainer(
        family="lightgbm.train with the model file's parameters "
        f"({params['num_iterations']} rounds)",
        fit=fit,
    )


def _xgb_depth(node: dict[str, Any]) -> int:
    children = node.get("children") or []
    return 0 if not children else 1 + max(_xgb_depth(c) for c in children)


def _xgboost_trainer(model: ModelHandle, frames: list[pd.DataFrame]) -> Trainer:
    """XGBoost's model file keeps the trees but not the training parameters: the objective
    and number of rounds are read, max_depth is measured on the trees, and the rest (the
    learning rate, regularisation) are XGBoost's defaults, which the family name says."""
    import xgboost as xgb

    booster = model.estimator
    config = json.loads(booster.save_config())
    objective = config["learner"].get("objective", {}).get("name", "binary:logistic")
    depth = max(
        (_xgb_depth(json.loads(tree)) for tree in booster.get_dump(dump_format="json")), default=6
    )
    params: dict[str, Any] = {"objective": objective, "max_depth": max(depth, 1), "nthread": 1}
    rounds = int(booster.num_boosted_rounds())
    categories = _shared_categories(frames)

    def fit(
        X: pd.DataFrame, y01: np.ndarray, y_raw: np.ndarray, seed: int
    ) -> Callable[[pd.DataFrame], np.ndarray]:
        dtrain = xgb.DMatrix(_categorise(X, categories), label=y01, enable_categorical=True)
        ref = xgb.train({**params, "seed": seed}, dtrain, num_boost_round=rounds)

        def score(frame: pd.DataFrame) -> np.ndarray:
            dm = xgb.DMatrix(_categorise(frame, categories), enable_categorical=True)
            return np.asarray(ref.predict(dm), dtype=float)

        return score

    return Trainer(
        family=f"xgboost.train, {rounds} rounds, max_depth {params['max_depth']} read from the "
        "trees, other parameters at XGBoost defaults (the model file does not keep them)",
        fit=fit,
    )


def _torch_trainer(recipe: str | Callable[..., Any]) -> Trainer:
    if callable(recipe):
        fn, name = recipe, getattr(recipe, "__qualname__", "recipe")
    else:
        module_name, _, func_name = recipe.partition(":")
        if not module_name or not func_name:
            raise InputError(f"a recipe is 'module:function', got {recipe!r}", field="recipe")
        try:
            fn = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError) as exc:
            raise InputError(
                f"cannot import the recipe {recipe!r} ({exc})", field="recipe"
            ) from exc
        name = recipe

    def fit(
        X: pd.DataFrame, y01: np.ndarray, y_raw: np.ndarray, seed: int
    ) -> Callable[[pd.DataFrame], np.ndarray]:
        import torch

        module = fn(X.to_numpy(dtype=np.float32), np.asarray(y01, dtype=np.int64), seed)
        module.eval()

        def score(frame: pd.DataFrame) -> np.ndarray:
            with torch.no_grad():
                logits = module(torch.tensor(np.array(frame, dtype=np.float32)))
                return torch.softmax(logits, dim=1)[:, 1].numpy().astype(float)

        return score

    return Trainer(family=f"torch recipe {name}", fit=fit)


def _fallback_trainer(frames: list[pd.DataFrame]) -> Trainer:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder
    from threadpoolctl import threadpool_limits

    categories = _shared_categories(frames)

    def fit(
        X: pd.DataFrame, y01: np.ndarray, y_raw: np.ndarray, seed: int
    ) -> Callable[[pd.DataFrame], np.ndarray]:
        cats = [c for c in X.columns if c in categories]
        pre = make_column_transformer(
            (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats),
            remainder="passthrough",
        )
        ref = make_pipeline(pre, HistGradientBoostingClassifier(random_state=seed))
        # one OpenMP thread per model: joblib runs the models in parallel
        with threadpool_limits(limits=1, user_api="openmp"):
            ref.fit(X.astype({c: str for c in cats}), y01)

        def score(frame: pd.DataFrame) -> np.ndarray:
            with threadpool_limits(limits=1, user_api="openmp"):
                proba = ref.predict_proba(frame.astype({c: str for c in cats}))
            return np.asarray(proba)[:, 1]

        return score

    return Trainer(family=FALLBACK_FAMILY, fit=fit, fallback=True)


def _shared_categories(frames: list[pd.DataFrame]) -> dict[str, list[Any]]:
    """One fixed category list per non-numeric column, over all frames, so codes agree."""
    out: dict[str, list[Any]] = {}
    first = frames[0]
    for col in first.columns:
        if not pd.api.types.is_numeric_dtype(first[col]):
            values = pd.concat([f[col] for f in frames]).dropna().astype(str).unique()
            out[col] = sorted(values.tolist())
    return out


def make_trainer(
    model: ModelHandle,
    *,
    frames: list[pd.DataFrame],
    positive_label: str,
    recipe: str | Callable[..., Any] | None = None,
) -> Trainer:
    """The reference-model recipe of `model`, or the documented fallback family."""
    if recipe is not None:
        return _torch_trainer(recipe)
    if model.kind in ("sklearn", "pickle") and hasattr(model.estimator, "get_params"):
        return _sklearn_trainer(model, positive_label)
    if model.kind == "lightgbm":
        return _lightgbm_trainer(model, frames)
    if model.kind == "xgboost":
        return _xgboost_trainer(model, frames)
    return _fallback_trainer(frames)


@dataclass(frozen=True)
class ReferenceSignals:
    """Reference models' probabilities of the positive class on the points of interest."""

    proba: np.ndarray  # (k, n_points)
    trained_on: np.ndarray  # (k, n_points) bool: the point was in that model's training set
    family: str
    fallback: bool
    seconds: float
    train_size: int


def _train_one(
    trainer: Trainer,
    X_train: pd.DataFrame,
    y01: np.ndarray,
    y_raw: np.ndarray,
    X_points: pd.DataFrame,
    seed: int,
) -> np.ndarray:
    score = trainer.fit(X_train, y01, y_raw, seed)
    return score(X_points)


def train_reference_models(
    trainer: Trainer,
    *,
    X: pd.DataFrame,
    y01: np.ndarray,
    y_raw: np.ndarray,
    subsets: list[np.ndarray],
    points: np.ndarray,
    seed: int,
    jobs: int = 1,
    progress: Progress | None = None,
) -> ReferenceSignals:
    """Train one reference model per subset of the rows of X; score X[points] with each.

    `subsets` holds the row indices of each model's training set; `points` the rows to
    score. Returns the probabilities with a mask of which points each model trained on.
    """
    from joblib import Parallel, delayed

    progress = progress or Progress(enabled=False)
    start = time.perf_counter()
    X_points = X.iloc[points]
    tasks = (
        delayed(_train_one)(
            trainer, X.iloc[idx], y01[idx], y_raw[idx], X_points, int(seed * 7919 + i + 1)
        )
        for i, idx in enumerate(subsets)
    )
    results: Iterator[np.ndarray] = Parallel(n_jobs=jobs, return_as="generator")(tasks)
    proba = np.vstack(
        list(progress.track(results, total=len(subsets), description="Training reference models"))
    )
    mask = np.zeros((len(subsets), points.size), dtype=bool)
    for i, idx in enumerate(subsets):
        mask[i] = np.isin(points, idx)
    return ReferenceSignals(
        proba=proba,
        trained_on=mask,
        family=trainer.family,
        fallback=trainer.fallback,
        seconds=time.perf_counter() - start,
        train_size=int(np.mean([len(s) for s in subsets])) if subsets else 0,
    )
