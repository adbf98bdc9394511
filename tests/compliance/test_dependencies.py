"""The dependency pins hold: every diffprivlib model the project uses imports and fits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


@pytest.mark.filterwarnings("ignore::diffprivlib.utils.PrivacyLeakWarning")
def test_diffprivlib_models_fit_with_installed_scikit_learn() -> None:
    from diffprivlib.models import LogisticRegression, RandomForestClassifier

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(400, 3))
    y = (X[:, 0] > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diffprivlib and scipy deprecations, not our concern here
        lr = LogisticRegression(epsilon=5.0, data_norm=2.0, random_state=0).fit(X, y)
        rf = RandomForestClassifier(
            epsilon=5.0,
            n_estimators=5,
            bounds=([0, 0, 0], [1, 1, 1]),
            classes=[0, 1],
            random_state=0,
        ).fit(X, y)
    assert lr.score(X, y) > 0.6
    assert rf.score(X, y) > 0.6
