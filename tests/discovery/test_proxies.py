"""Proxy detection (mutual information, single-feature CV AUC) and leave-one-out refits."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from compliance.evidence.discovery import LeaveOneOutSection
from compliance.models import ModelHandle, load_model
from compliance.proxies import (
    auc_with_interval,
    fairness_gap,
    leave_one_out,
    mutual_information,
    proxy_strength,
    retrain_recipe,
)


def population(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    noisy = np.where(rng.random(n) < 0.1, rng.choice(["F", "M"], n), sex)
    return pd.DataFrame(
        {
            "sex": sex,
            "race": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
            # a column equal to the attribute with noise: a proxy
            "title": np.where(noisy == "F", "Ms", "Mr"),
            # a numeric proxy: shifted by two standard deviations between the groups
            "height": rng.normal(0, 1, n) + 2.0 * (sex == "M"),
            # independent features
            "colour": rng.choice(["red", "green", "blue", "grey"], n),
            "amount": rng.exponential(100.0, n),
        }
    )


def test_planted_proxies_are_flagged_and_independent_features_are_not() -> None:
    frame = population()
    results = proxy_strength(
        frame, ["title", "height", "colour", "amount"], ["sex", "race"], seed=0
    )
    by = {(r.feature, r.protected): r for r in results}
    title = by[("title", "sex")]
    assert title.flagged
    # 95% agreement between title and sex: AUC about 0.95
    assert title.auc is not None and 0.92 < title.auc < 0.98
    assert title.auc_ci_low is not None and title.auc_ci_low > 0.9
    assert title.mutual_information is not None and title.mutual_information > 0.6
    assert by[("height", "sex")].flagged
    height_auc = by[("height", "sex")].auc
    assert height_auc is not None and height_auc > 0.85  # N(0,1) vs N(2,1): 0.92
    for feature in ("colour", "amount"):
        r = by[(feature, "sex")]
        assert not r.flagged
        assert r.auc is not None and abs(r.auc - 0.5) < 0.05
        assert r.normalized_mi is not None and r.normalized_mi < 0.01
    for feature in ("title", "height", "colour", "amount"):
        assert not by[(feature, "race")].flagged
    assert all(r.n == len(frame) for r in results)


def test_a_feature_that_reveals_one_group_of_a_many_valued_attribute() -> None:
    frame = population(seed=1)
    rng = np.random.default_rng(2)
    frame["district"] = np.where(
        frame["race"] == "c", "east", rng.choice(["north", "south", "west"], len(frame))
    )
    r = next(x for x in proxy_strength(frame, ["district"], ["race"]) if x.feature == "district")
    assert r.flagged
    assert r.auc_group == "c"
    assert r.auc is not None and r.auc > 0.95


def test_rows_missing_the_attribute_are_left_out() -> None:
    frame = population(n=1000)
    frame.loc[:99, "sex"] = None
    (r,) = proxy_strength(frame, ["title"], ["sex"])
    assert r.n == 900


def test_mutual_information_known_values() -> None:
    a = np.array([0, 1] * 500)
    mi, nmi = mutual_information(a, a)
    assert mi == pytest.approx(1.0)
    assert nmi == pytest.approx(1.0)
    b = np.array([0, 0, 1, 1] * 250)
    mi, nmi = mutual_information(b, a)  # independent by construction
    assert mi == pytest.approx(0.0, abs=1e-12)
    four = np.repeat([0, 1, 2, 3], 250)
    mi, nmi = mutual_information(four, four // 2)  # the attribute is a function of x
    assert mi == pytest.approx(1.0)
    assert nmi == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 300),
    levels=st.integers(1, 6),
)
def test_auc_agrees_with_sklearn(seed: int, n: int, levels: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, levels + 1, n).astype(float)  # ties on purpose
    y = rng.integers(0, 2, n).astype(bool)
    auc, lo, hi = auc_with_interval(scores, y)
    if y.all() or not y.any():
        assert math.isnan(auc)
        return
    assert auc == pytest.approx(roc_auc_score(y, scores))
    assert lo <= auc <= hi


def test_fairness_gap_by_hand() -> None:
    y = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0])
    p = np.array([1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    g = pd.Series(["a"] * 6 + ["b"] * 6)
    # true positive rate: a 3/4, b 1/4
    assert fairness_gap(y, p, g, ["true_positive_rate"], min_size=1) == pytest.approx(0.5)
    # false positive rate: a 1/2, b 0/2; equal odds takes the larger gap
    assert fairness_gap(
        y, p, g, ["true_positive_rate", "false_positive_rate"], min_size=1
    ) == pytest.approx(0.5)
    assert fairness_gap(y, p, g, ["selection_rate"], min_size=1) == pytest.approx(4 / 6 - 1 / 6)
    assert fairness_gap(y, p, g, ["true_positive_rate"], min_size=5) is None
    assert fairness_gap(y, p, g, ["expected_calibration_error"], min_size=1) is None


# -------------------------------------------------------------------- leave-one-out


def credit_data(n: int, seed: int) -> pd.DataFrame:
    """Approval depends on income and, directly, on sex (a model that uses sex)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    income = rng.normal(50, 10, n)
    region = rng.choice(["n", "s"], n)
    logit = (income - 50) / 5 + 2.5 * (sex == "M") - 1.25
    approved = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"sex": sex, "income": income, "region": region, "approved": approved})


@pytest.fixture(scope="module")
def lightgbm_on_credit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import lightgbm as lgb

    train = credit_data(4000, 0)
    X = train.drop(columns="approved")
    for c in ("sex", "region"):
        X[c] = X[c].astype("category")
    booster = lgb.train(
        {"objective": "binary", "num_leaves": 7, "verbosity": -1, "seed": 0},
        lgb.Dataset(X, label=train["approved"]),
        num_boost_round=40,
    )
    path = tmp_path_factory.mktemp("loo") / "credit.txt"
    booster.save_model(str(path))
    return path


def _loo(model: ModelHandle, inputs: list[str], protected: list[str]) -> LeaveOneOutSection:
    train = credit_data(4000, 0)
    evaluation = credit_data(3000, 1)
    y_eval = evaluation["approved"].to_numpy()
    pred = model.predict(evaluation[inputs])
    y_pred = (np.asarray(pred).astype(str) == "1").astype(int)
    return leave_one_out(
        model,
        train,
        evaluation,
        y_train_raw=train["approved"],
        y_train=train["approved"].to_numpy(),
        y_eval=y_eval,
        y_pred_original=y_pred,
        labels=("0", "1"),
        inputs=inputs,
        protected=protected,
        fairness_metric="demographic_parity",
        fairness_metrics=["selection_rate"],
        seed=0,
    )


def test_leave_one_out_with_lightgbm(lightgbm_on_credit: Path) -> None:
    model = load_model(lightgbm_on_credit)
    section = _loo(model, ["sex", "income", "region"], ["sex", "region"])
    assert section.available
    assert section.recipe is not None and "lightgbm" in section.recipe
    sex = next(r for r in section.results if r.attribute == "sex")
    assert sex.available
    assert sex.n_train == 4000 and sex.n_eval == 3000
    # sex carries real signal here: dropping it costs accuracy and AUC
    assert sex.accuracy_change is not None and sex.accuracy_change < -0.02
    assert sex.auc_change is not None and sex.auc_change < -0.02
    # and the model without it no longer selects by sex (income is independent of sex)
    assert sex.fairness_gap_with is not None and sex.fairness_gap_with > 0.3
    assert sex.fairness_gap_without is not None and sex.fairness_gap_without < 0.08
    assert sex.fairness_gap_change == pytest.approx(
        sex.fairness_gap_without - sex.fairness_gap_with
    )
    # the refit with every input reproduces the submitted model's behaviour closely
    assert sex.original_accuracy == pytest.approx(sex.accuracy_with, abs=0.02)
    region = next(r for r in section.results if r.attribute == "region")
    # region carries no signal: dropping it changes little
    assert region.accuracy_change is not None and abs(region.accuracy_change) < 0.02


def test_leave_one_out_with_sklearn_and_a_protected_attribute_not_input() -> None:
    from sklearn.linear_model import LogisticRegression

    train = credit_data(4000, 0)
    X = pd.DataFrame({"is_m": (train["sex"] == "M").astype(float), "income": train["income"]})
    est = LogisticRegression().fit(X, train["approved"])
    model = ModelHandle(
        kind="sklearn",
        path=None,
        estimator=est,
        feature_names=["is_m", "income"],
        predict_proba_fn=est.predict_proba,
        predict_fn=est.predict,
    )
    for frame in (train,):
        frame["is_m"] = (frame["sex"] == "M").astype(float)
    evaluation = credit_data(3000, 1)
    evaluation["is_m"] = (evaluation["sex"] == "M").astype(float)
    section = leave_one_out(
        model,
        train,
        evaluation,
        y_train_raw=train["approved"],
        y_train=train["approved"].to_numpy(),
        y_eval=evaluation["approved"].to_numpy(),
        y_pred_original=est.predict(evaluation[["is_m", "income"]]),
        labels=("0", "1"),
        inputs=["is_m", "income"],
        protected=["is_m", "sex"],
        fairness_metric="equal_opportunity",
        fairness_metrics=["true_positive_rate"],
    )
    by = {r.attribute: r for r in section.results}
    assert by["is_m"].available
    assert by["is_m"].accuracy_change is not None and by["is_m"].accuracy_change < -0.02
    assert by["is_m"].fairness_metric == "equal_opportunity"
    assert not by["sex"].available
    assert by["sex"].reason is not None and "not a model input" in by["sex"].reason


def test_models_without_a_recipe_say_why() -> None:
    handle = ModelHandle(
        kind="onnx",
        path=None,
        estimator=object(),
        feature_names=None,
        predict_proba_fn=None,
        predict_fn=lambda f: np.zeros(len(f)),
    )
    recipe, reason = retrain_recipe(handle)
    assert recipe is None
    assert reason is not None and "onnx" in reason
    section = leave_one_out(
        handle,
        pd.DataFrame({"a": [1]}),
        pd.DataFrame({"a": [1]}),
        y_train_raw=pd.Series([1]),
        y_train=np.array([1]),
        y_eval=np.array([1]),
        y_pred_original=np.array([1]),
        labels=("0", "1"),
        inputs=["a"],
        protected=["a"],
        fairness_metric="x",
        fairness_metrics=["selection_rate"],
    )
    assert not section.available
    assert section.reason == reason


def test_xgboost_files_do_not_keep_their_recipe() -> None:
    handle = ModelHandle(
        kind="xgboost",
        path=None,
        estimator=object(),
        feature_names=None,
        predict_proba_fn=None,
        predict_fn=lambda f: np.zeros(len(f)),
    )
    recipe, reason = retrain_recipe(handle)
    assert recipe is None
    assert reason is not None and "training parameters" in reason


def test_a_pipeline_that_needs_the_column_reports_why() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = credit_data(2000, 0)
    evaluation = credit_data(1000, 1)
    inputs = ["sex", "income", "region"]
    pipe = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(), ["sex", "region"])], remainder="passthrough"),
        LogisticRegression(max_iter=500),
    ).fit(train[inputs], train["approved"])
    model = ModelHandle(
        kind="sklearn",
        path=None,
        estimator=pipe,
        feature_names=inputs,
        predict_proba_fn=pipe.predict_proba,
        predict_fn=pipe.predict,
    )
    section = leave_one_out(
        model,
        train,
        evaluation,
        y_train_raw=train["approved"],
        y_train=train["approved"].to_numpy(),
        y_eval=evaluation["approved"].to_numpy(),
        y_pred_original=pipe.predict(evaluation[inputs]),
        labels=("0", "1"),
        inputs=inputs,
        protected=["sex"],
        fairness_metric="demographic_parity",
        fairness_metrics=["selection_rate"],
    )
    assert section.available  # the refit with every input works
    (sex,) = section.results
    assert not sex.available
    assert sex.reason is not None and "cannot be refitted without it" in sex.reason


def test_a_numeric_protected_attribute_is_grouped_in_bins() -> None:
    rng = np.random.default_rng(8)
    n = 4000
    age = rng.integers(18, 80, n)
    frame = pd.DataFrame(
        {
            "age": age,
            "pension": np.where(age >= 65, "yes", "no"),  # reveals the oldest group
            "colour": rng.choice(["red", "blue"], n),
        }
    )
    results = proxy_strength(frame, ["pension", "colour"], ["age"], bins={"age": [30, 50, 65]})
    by = {r.feature: r for r in results}
    assert by["pension"].flagged
    assert by["pension"].auc_group == "65 or more"
    assert by["pension"].auc == pytest.approx(1.0)
    assert not by["colour"].flagged


def test_cross_validated_auc_of_an_independent_feature_is_unbiased() -> None:
    """Pooling out-of-fold scores would bias this below 0.5 (about 0.49 here)."""
    aucs = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        n = 3000
        frame = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "colour": rng.integers(0, 4, n)})
        (r,) = proxy_strength(frame, ["colour"], ["sex"], seed=seed)
        assert r.auc is not None
        aucs.append(r.auc)
    assert abs(float(np.mean(aucs)) - 0.5) < 3 * float(np.std(aucs)) / np.sqrt(len(aucs)) + 1e-3
