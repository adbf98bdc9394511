"""Fixtures of the attack-suite tests: small Adult splits and target models on them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from compliance.datasets import load_bundled
from compliance.models import ModelHandle

ADULT_CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native-country",
]


def adult_frame() -> pd.DataFrame:
    """Bundled Adult (train and test), deduplicated, with missing categories filled."""
    full = pd.concat([load_bundled("adult-train"), load_bundled("adult-test")], ignore_index=True)
    for col in full.columns:
        if not pd.api.types.is_numeric_dtype(full[col]):
            full[col] = full[col].fillna("missing").astype(str)
    return full.drop_duplicates(ignore_index=True)


def sklearn_handle(estimator: Any, features: list[str]) -> ModelHandle:
    return ModelHandle(
        kind="sklearn",
        path=None,
        estimator=estimator,
        feature_names=features,
        predict_proba_fn=estimator.predict_proba,
        predict_fn=estimator.predict,
        classes=list(estimator.classes_),
    )


def ordinal_forest(n_estimators: int = 40, seed: int = 0) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    pre = make_column_transformer(
        (
            OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
            ADULT_CATEGORICAL,
        ),
        remainder="passthrough",
    )
    return make_pipeline(pre, RandomForestClassifier(n_estimators=n_estimators, random_state=seed))


@pytest.fixture(scope="session")
def adult_small() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3,000 members and 6,000 population records from Adult (disjoint)."""
    full = adult_frame().sample(9000, random_state=3, ignore_index=True)
    return full.iloc[:3000].reset_index(drop=True), full.iloc[3000:].reset_index(drop=True)


@pytest.fixture(scope="session")
def forest_target(adult_small: tuple[pd.DataFrame, pd.DataFrame]) -> ModelHandle:
    """A fully grown random forest trained on the members (memorises them)."""
    members, _ = adult_small
    X = members.drop(columns="income")
    model = ordinal_forest().fit(X, members["income"])
    return sklearn_handle(model, list(X.columns))


@pytest.fixture(scope="session")
def make_handle() -> Callable[[Any, list[str]], ModelHandle]:
    return sklearn_handle


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def forest_factory() -> Callable[..., Any]:
    return ordinal_forest


@pytest.fixture(scope="session")
def adult_full() -> pd.DataFrame:
    return adult_frame()
