"""Shared fixtures: a small LightGBM model on bundled Adult, and its test-split predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compliance.datasets import bundled_path, load_bundled
from compliance.models import categorical_frame


@pytest.fixture(scope="session")
def adult_test_path() -> Path:
    return bundled_path("adult-test")


@pytest.fixture(scope="session")
def adult_lightgbm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LightGBM native text model trained on the Adult train split (about 1 s)."""
    import lightgbm as lgb

    frame = load_bundled("adult-train")
    y = (frame.pop("income") == ">50K").astype(int)
    model = lgb.LGBMClassifier(n_estimators=60, random_state=0, verbose=-1)
    model.fit(categorical_frame(frame), y)
    path = tmp_path_factory.mktemp("models") / "adult_lightgbm.txt"
    model.booster_.save_model(str(path))
    return path


@pytest.fixture(scope="session")
def adult_scored(adult_lightgbm: Path) -> pd.DataFrame:
    """The Adult test split with the model's labels (`y`, `pred`) and scores (`score`)."""
    from compliance.models import load_model

    frame = load_bundled("adult-test")
    handle = load_model(adult_lightgbm)
    X = frame.drop(columns=["income"])
    out = frame.copy()
    out["y"] = (frame["income"] == ">50K").astype(int)
    out["score"] = handle.predict_proba(X)[:, 1]
    out["pred"] = (out["score"] >= 0.5).astype(int)
    return out


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
