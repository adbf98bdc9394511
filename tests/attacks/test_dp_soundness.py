"""Soundness: on DP-trained models, the empirical epsilon lower bound of every attack stays
at or below the accountant's epsilon. (On a memorising forest the same bound exceeds 1:
see test_membership, so the bound is not trivially 0.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from attacks import (
    MembershipOptions,
    TabularEncoder,
    dp_reference_points,
    run_membership,
    train_dp_sgd,
)
from attacks.dp import train_dp_logistic
from compliance.models import ModelHandle

# diffprivlib 0.6.6 passes L-BFGS-B options that scipy deprecates (in reference-model fits)
DIFFPRIVLIB_SCIPY = "ignore:scipy.optimize. The `disp` and `iprint`:DeprecationWarning"


def _encoded(
    members: pd.DataFrame, population: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Numeric, bounded features; categories and bounds read from the population (public)."""
    encoder = TabularEncoder.from_public(population.drop(columns="income"))
    m = encoder.transform(members.drop(columns="income")).assign(
        income=members["income"].to_numpy()
    )
    p = encoder.transform(population.drop(columns="income")).assign(
        income=population["income"].to_numpy()
    )
    return m, p, encoder.data_norm


def _handle(kind: str, estimator: Any, proba: Any, features: list[str]) -> ModelHandle:
    return ModelHandle(
        kind=kind,
        path=None,
        estimator=estimator,
        feature_names=features,
        predict_proba_fn=proba,
        predict_fn=lambda f: proba(f).argmax(axis=1),
        classes=[0, 1],
    )


@pytest.mark.filterwarnings(DIFFPRIVLIB_SCIPY)
def test_diffprivlib_logistic_regression_bound_stays_below_its_epsilon(
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    members, population = adult_small
    m, p, norm = _encoded(members, population)
    features = [c for c in m.columns if c != "income"]
    y = (members["income"] == ">50K").to_numpy(int)
    eps = 0.5
    dp = train_dp_logistic(m[features].to_numpy(), y, epsilon=eps, data_norm=norm, seed=0)
    assert dp.epsilon_spent == pytest.approx(eps)
    est = dp.estimator

    def proba(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(est.predict_proba(frame.to_numpy(dtype=float)))

    handle = _handle("sklearn", est, proba, features)
    out = run_membership(
        handle,
        m,
        p,
        target="income",
        options=MembershipOptions(reference_models=2, max_eval=1500, population_z=1000),
    )
    assert {r.name for r in out.results} >= {"loss", "rmia", "rmia_online", "lira_offline"}
    for r in out.results:
        assert r.epsilon_lower_bound is not None and r.epsilon_lower_bound <= eps, r.name
        assert r.risk == "low", r.summary


def _dp_recipe(X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    return train_dp_sgd(X, y, epsilon=1.0, delta=1e-5, epochs=3, seed=seed).estimator


def _torch_handle(module: Any, features: list[str]) -> ModelHandle:
    import torch

    def proba(frame: pd.DataFrame) -> np.ndarray:
        with torch.no_grad():
            logits = module(torch.tensor(np.array(frame, dtype=np.float32)))
            return torch.softmax(logits, dim=1).numpy().astype(float)

    return _handle("torch", module, proba, features)


def test_opacus_dp_sgd_bound_stays_below_its_epsilon(
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    pytest.importorskip("opacus")
    members, population = adult_small
    m, p, _ = _encoded(members, population)
    features = [c for c in m.columns if c != "income"]
    y = (members["income"] == ">50K").to_numpy(int)
    dp = train_dp_sgd(m[features].to_numpy(), y, epsilon=1.0, delta=1e-5, epochs=3, seed=0)
    assert 0.5 < dp.epsilon_spent <= 1.0 + 1e-6
    out = run_membership(
        _torch_handle(dp.estimator, features),
        m,
        p,
        target="income",
        recipe=_dp_recipe,
        attacks=["loss", "rmia", "rmia_online", "label_only"],
        options=MembershipOptions(
            reference_models=2, max_eval=1500, population_z=1000, label_queries=2
        ),
    )
    assert (
        out.results[1].reference_family is not None
        and "_dp_recipe" in out.results[1].reference_family
    )
    for r in out.results:
        assert r.epsilon_lower_bound is not None and r.epsilon_lower_bound <= dp.epsilon_spent, (
            r.name
        )


@pytest.mark.filterwarnings(DIFFPRIVLIB_SCIPY)
def test_dp_reference_points_report_accountant_and_utility(
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    members, population = adult_small
    m, p, norm = _encoded(members, population)
    features = [c for c in m.columns if c != "income"]
    refs = dp_reference_points(
        m[features].to_numpy(),
        (members["income"] == ">50K").to_numpy(int),
        p[features].to_numpy()[:3000],
        (population["income"] == ">50K").to_numpy(int)[:3000],
        epsilons=(0.1, 8.0),
        data_norm=norm,
    )
    assert [r.epsilon_target for r in refs] == [0.1, 8.0]
    for r in refs:
        assert r.epsilon_spent == pytest.approx(r.epsilon_target)
        assert r.empirical_epsilon_lower_bound is not None
        assert r.empirical_epsilon_lower_bound <= r.epsilon_spent
    # more budget buys accuracy: epsilon 8 beats epsilon 0.1 on the same split
    assert refs[1].accuracy > refs[0].accuracy


@pytest.mark.slow
def test_opacus_at_epsilon_1_on_adult_with_dp_reference_models(adult_full: pd.DataFrame) -> None:
    """The acceptance figure: an opacus model at epsilon 1 on half of Adult's train split."""
    pytest.importorskip("opacus")
    full = adult_full
    train = full.sample(frac=0.5, random_state=0)
    rest = full.drop(index=train.index)
    m, p, _ = _encoded(train.reset_index(drop=True), rest.reset_index(drop=True))
    features = [c for c in m.columns if c != "income"]
    y = (m["income"] == ">50K").to_numpy(int)
    dp = train_dp_sgd(m[features].to_numpy(), y, epsilon=1.0, delta=1e-5, epochs=3, seed=0)
    out = run_membership(
        _torch_handle(dp.estimator, features),
        m,
        p,
        target="income",
        recipe=_dp_recipe,
        options=MembershipOptions(reference_models=4),  # the recipe lives in a test module
    )
    for r in out.results:
        print(r.name, r.auc, r.tpr_at_fpr, r.epsilon_lower_bound, dp.epsilon_spent)
        assert r.epsilon_lower_bound is not None and r.epsilon_lower_bound <= min(
            1.0, dp.epsilon_spent
        )
