"""Differential-privacy reference points: DP models of the same task, with their accountant's
epsilon, for the privacy-utility trade-off beside the target's figures.

- `train_dp_logistic`: diffprivlib's LogisticRegression (objective perturbation), whose
  `BudgetAccountant` records the epsilon spent.
- `train_dp_sgd`: a small torch MLP trained with opacus DP-SGD (RDP accountant), made
  private for a target epsilon at a given delta; `get_epsilon(delta)` is the spend.

Features must be numeric and bounded; `TabularEncoder` turns a frame into such features
with categories and scaling bounds fixed from public data, so that the encoding itself
learns nothing from the private training set. torch and opacus are imported lazily.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from compliance.evidence.privacy import DPReference

__all__ = [
    "DPModel",
    "TabularEncoder",
    "dp_reference_points",
    "mlp_recipe",
    "train_dp_logistic",
    "train_dp_sgd",
]


@dataclass(frozen=True)
class TabularEncoder:
    """One-hot categories and [0, 1]-scaled numbers, with bounds fixed in advance.

    Built from public data (`from_public`); applying it reads nothing else from the data it
    encodes, so it adds no privacy loss. Numbers are clipped to their public bounds. Every
    encoded row has an L2 norm of at most sqrt(number of columns of the frame).
    """

    numeric: dict[str, tuple[float, float]]
    categories: dict[str, list[str]]

    @classmethod
    def from_public(cls, frame: pd.DataFrame) -> TabularEncoder:
        numeric: dict[str, tuple[float, float]] = {}
        categories: dict[str, list[str]] = {}
        for col in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[col]):
                numeric[col] = (float(frame[col].min()), float(frame[col].max()))
            else:
                categories[col] = sorted(frame[col].dropna().astype(str).unique().tolist())
        return cls(numeric=numeric, categories=categories)

    @property
    def data_norm(self) -> float:
        return float(np.sqrt(len(self.numeric) + len(self.categories)))

    @property
    def columns(self) -> list[str]:
        return list(self.numeric) + [f"{c}={v}" for c, vs in self.categories.items() for v in vs]

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts: dict[str, np.ndarray] = {}
        for col, (lo, hi) in self.numeric.items():
            span = hi - lo if hi > lo else 1.0
            values = pd.to_numeric(frame[col], errors="coerce").fillna(lo).to_numpy(dtype=float)
            parts[col] = np.clip((values - lo) / span, 0.0, 1.0)
        for col, values in self.categories.items():
            as_str = frame[col].astype(str).to_numpy()
            for v in values:
                parts[f"{col}={v}"] = (as_str == v).astype(float)
        return pd.DataFrame(parts, index=frame.index)


@dataclass
class DPModel:
    """A trained DP model with what its accountant says it spent."""

    method: str
    estimator: Any
    epsilon_target: float
    epsilon_spent: float
    delta: float
    seconds: float

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.method.startswith("opacus"):
            import torch

            with torch.no_grad():
                logits = self.estimator(torch.tensor(np.array(X, dtype=np.float32)))
                return torch.softmax(logits, dim=1).numpy().astype(float)
        return np.asarray(self.estimator.predict_proba(np.asarray(X, dtype=float)), dtype=float)


def train_dp_logistic(
    X: np.ndarray, y: np.ndarray, *, epsilon: float, data_norm: float, seed: int = 0
) -> DPModel:
    """diffprivlib LogisticRegression at `epsilon` (pure DP: delta = 0)."""
    from diffprivlib import BudgetAccountant
    from diffprivlib.models import LogisticRegression

    start = time.perf_counter()
    accountant = BudgetAccountant()
    model = LogisticRegression(
        epsilon=epsilon, data_norm=data_norm, random_state=seed, accountant=accountant, max_iter=200
    )
    with warnings.catch_warnings():
        # diffprivlib 0.6.6 passes L-BFGS-B options that scipy >= 1.15 deprecates
        warnings.filterwarnings(
            "ignore", message=".*`disp` and `iprint`.*", category=DeprecationWarning
        )
        model.fit(np.asarray(X, dtype=float), np.asarray(y, dtype=int))
    spent_eps, spent_delta = accountant.total()
    return DPModel(
        method="diffprivlib LogisticRegression",
        estimator=model,
        epsilon_target=epsilon,
        epsilon_spent=float(spent_eps),
        delta=float(spent_delta),
        seconds=time.perf_counter() - start,
    )


def _mlp(n_in: int, hidden: int, seed: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def mlp_recipe(X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """A reference-model recipe (`--recipe attacks.dp:mlp_recipe`): the same one-hidden-layer
    MLP as `train_dp_sgd`, trained without privacy (Adam, 10 epochs of batches of 256)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    data = TensorDataset(
        torch.tensor(np.array(X, dtype=np.float32)), torch.tensor(np.array(y, dtype=np.int64))
    )
    loader = DataLoader(
        data, batch_size=256, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    module = _mlp(data.tensors[0].shape[1], 32, seed)
    optimiser = torch.optim.Adam(module.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(10):
        for xb, yb in loader:
            optimiser.zero_grad()
            torch.autograd.backward(loss_fn(module(xb), yb))
            optimiser.step()
    module.eval()
    return module


def train_dp_sgd(
    X: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float,
    delta: float,
    epochs: int = 5,
    batch_size: int = 256,
    max_grad_norm: float = 1.0,
    lr: float = 0.5,
    hidden: int = 32,
    seed: int = 0,
) -> DPModel:
    """A one-hidden-layer MLP trained with opacus DP-SGD to (`epsilon`, `delta`)."""
    import torch
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    start = time.perf_counter()
    torch.manual_seed(seed)
    data = TensorDataset(
        torch.tensor(np.array(X, dtype=np.float32)),
        torch.tensor(np.array(y, dtype=np.int64)),
    )
    loader = DataLoader(
        data, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )
    module = _mlp(data.tensors[0].shape[1], hidden, seed)
    optimiser = torch.optim.SGD(module.parameters(), lr=lr)
    with warnings.catch_warnings():
        # opacus warns that its default RNG is not cryptographically secure (research use)
        # and torch warns about the per-sample gradient hooks opacus installs
        warnings.filterwarnings("ignore", message=".*[Ss]ecure RNG.*")
        warnings.filterwarnings("ignore", message=".*full backward hook.*")
        warnings.filterwarnings(
            "ignore", message=".*Optimal order is the (largest|smallest) alpha.*"
        )
        engine = PrivacyEngine(accountant="rdp")
        module, optimiser, loader = engine.make_private_with_epsilon(
            module=module,
            optimizer=optimiser,
            data_loader=loader,
            target_epsilon=epsilon,
            target_delta=delta,
            epochs=epochs,
            max_grad_norm=max_grad_norm,
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        module.train()
        for _ in range(epochs):
            for xb, yb in loader:
                if len(xb) == 0:
                    continue
                optimiser.zero_grad()
                loss_fn(module(xb), yb).backward()
                optimiser.step()
        spent = float(engine.get_epsilon(delta))
    plain = module._module if hasattr(module, "_module") else module
    plain.eval()
    return DPModel(
        method="opacus DP-SGD (MLP, RDP accountant)",
        estimator=plain,
        epsilon_target=epsilon,
        epsilon_spent=spent,
        delta=delta,
        seconds=time.perf_counter() - start,
    )


def dp_reference_points(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    epsilons: Sequence[float] = (1.0, 8.0),
    delta: float | None = None,
    data_norm: float,
    methods: Sequence[str] = ("diffprivlib",),
    seed: int = 0,
) -> list[DPReference]:
    """Train a DP model per method and epsilon; report test accuracy and the spend.

    Each model is also attacked with the loss attack (its training records against the
    test records) and its split-threshold empirical epsilon lower bound is recorded, which
    must not exceed the accountant's epsilon.
    """
    from attacks._roc import epsilon_lower_bound

    delta = delta if delta is not None else 1.0 / len(X_train) ** 2
    out: list[DPReference] = []
    for method in methods:
        for eps in epsilons:
            if method == "diffprivlib":
                m = train_dp_logistic(X_train, y_train, epsilon=eps, data_norm=data_norm, seed=seed)
            elif method == "opacus":
                m = train_dp_sgd(X_train, y_train, epsilon=eps, delta=delta, seed=seed)
            else:
                raise ValueError(f"unknown DP method {method!r}; known: diffprivlib, opacus")
            p_test = m.predict_proba(X_test)
            accuracy = float((p_test.argmax(axis=1) == np.asarray(y_test)).mean())
            n = min(len(X_train), len(X_test))
            # a random sample of the training records (not the first n), against as many
            # test records; the bound subtracts the model's delta as the DP definition does
            rows = np.random.default_rng(seed).choice(len(X_train), n, replace=False)
            p_in = _true_proba(m.predict_proba(X_train[rows]), np.asarray(y_train)[rows])
            p_out = _true_proba(p_test[:n], y_test[:n])
            bound = epsilon_lower_bound(
                np.r_[np.ones(n), np.zeros(n)],
                np.log(np.r_[p_in, p_out]),
                seed=seed,
                delta=m.delta,
            )
            out.append(
                DPReference(
                    method=m.method,
                    epsilon_target=eps,
                    epsilon_spent=round(m.epsilon_spent, 6),
                    delta=m.delta,
                    accuracy=round(accuracy, 6),
                    n_train=len(X_train),
                    n_test=len(X_test),
                    seconds=round(m.seconds, 3),
                    empirical_epsilon_lower_bound=round(bound.value, 6),
                )
            )
    return out


def _true_proba(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    idx = np.asarray(y, dtype=int)
    return np.asarray(np.clip(proba[np.arange(idx.size), idx], 1e-12, 1.0))
