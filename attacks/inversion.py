"""Model inversion for differentiable (torch) models: MIFace-style gradient ascent.

For each class c, gradient ascent from the mean input on log p(c | x) with a small L2
pull towards the mean, inside the data's per-feature bounds, reconstructs one
representative input of the class (Fredrikson et al. 2015). How recognisable the
reconstructions are is measured by an evaluator trained separately (an SVC on evaluation
data): its accuracy on the reconstructions against chance, and against the baseline of
the mean input, which carries no class information. Reconstructions are class
prototypes, not individual training records. torch is imported lazily.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from attacks._roc import clopper_pearson
from compliance.evidence._base import Estimate
from compliance.evidence.privacy import InversionResult
from compliance.models import ModelHandle

__all__ = ["invert_classes", "run_inversion"]


def _is_torch_module(obj: Any) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(obj, torch.nn.Module | torch.jit.ScriptModule)


def invert_classes(
    module: Any,
    n_classes: int,
    *,
    init: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    steps: int = 300,
    lr: float = 0.05,
    l2: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """One reconstruction per class, shape (n_classes, n_features). Deterministic: it starts
    from `init` and draws nothing at random (torch's global random state is left alone)."""
    import torch

    lo = torch.tensor(np.array(lower, dtype=np.float32))
    hi = torch.tensor(np.array(upper, dtype=np.float32))
    start = torch.tensor(np.array(init, dtype=np.float32))
    scale = torch.clamp(hi - lo, min=1e-6)
    out = []
    was_training = getattr(module, "training", False)
    module.eval()
    for c in range(n_classes):
        # optimise in units of the feature ranges so one step size fits every feature
        u = ((start - lo) / scale).clone().requires_grad_(True)
        u0 = u.detach().clone()
        opt = torch.optim.Adam([u], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            x = lo + u * scale
            logp = torch.log_softmax(module(x.unsqueeze(0)), dim=1)[0, c]
            loss = -logp + l2 * torch.sum((u - u0) ** 2)
            torch.autograd.backward(loss)
            opt.step()
            with torch.no_grad():
                u.clamp_(0.0, 1.0)
        out.append((lo + u.detach() * scale).numpy())
    if was_training:
        module.train()
    return np.vstack(out).astype(float)


def run_inversion(
    model: ModelHandle | None,
    X_eval: np.ndarray,
    y_eval: np.ndarray,
    *,
    shape: tuple[int, ...] | None = None,
    steps: int = 300,
    seed: int = 0,
) -> InversionResult:
    """Reconstruct a representative input per class and measure how recognisable it is.

    `X_eval`, `y_eval` (class indices) train the evaluator; they should not be the target's
    training data. Non-differentiable targets get a result marked not applicable.
    """
    if model is None or not _is_torch_module(model.estimator):
        kind = "no model (outputs-only audit)" if model is None else f"a {model.kind} model"
        return InversionResult(
            applicable=False,
            reason="gradient-based inversion needs a differentiable (torch) model whose "
            f"input gradients it can follow; this is {kind}, which this tool does not "
            "differentiate (tree ensembles and black-box outputs have no such gradients)",
        )
    from sklearn.svm import SVC

    start = time.perf_counter()
    X = np.asarray(X_eval, dtype=float)
    y = np.asarray(y_eval, dtype=int)
    classes = np.unique(y)
    mean = X.mean(axis=0)
    # the model's own class count: a class missing from the evaluation data still gets a
    # reconstruction, which the evaluator cannot recognise
    import torch

    module = model.estimator
    was_training = bool(getattr(module, "training", False))
    module.eval()  # a module saved in train mode: no BatchNorm update, no dropout draw
    try:
        with torch.no_grad():
            outputs = module(torch.tensor(mean[None, :], dtype=torch.float32)).shape[-1]
    finally:
        if was_training:
            module.train()
    n_classes = max(int(outputs), int(classes.max()) + 1)
    recon = invert_classes(
        model.estimator,
        n_classes,
        init=mean,
        lower=X.min(axis=0),
        upper=X.max(axis=0),
        steps=steps,
        seed=seed,
    )
    evaluator = SVC(gamma="scale", random_state=seed).fit(X, y)
    pred = evaluator.predict(recon)
    recognised = int((pred == np.arange(n_classes)).sum())
    base_pred = evaluator.predict(mean[None, :])[0]
    baseline = int(base_pred in classes)  # the mean input is "recognised" for one class at most
    rate = recognised / n_classes
    ci_low, ci_high = clopper_pearson(recognised, n_classes, alpha=0.05)
    return InversionResult(
        applicable=True,
        n_classes=n_classes,
        recognised=recognised,
        recognition_rate=round(rate, 6),
        recognition_ci=Estimate(
            value=round(rate, 6), ci_low=round(ci_low, 6), ci_high=round(ci_high, 6)
        ),
        chance_rate=round(1 / n_classes, 6),
        baseline_recognised=baseline,
        evaluator=f"SVC(gamma='scale') trained on {len(X)} evaluation records",
        shape=list(shape) if shape else [X.shape[1]],
        reconstructions=[[round(float(v), 5) for v in row] for row in recon],
        seconds=round(time.perf_counter() - start, 3),
        summary=(
            f"MIFace-style inversion: a separately trained evaluator recognises {recognised} of "
            f"{n_classes} class reconstructions ({rate:.0%}, 95% CI {ci_low:.0%}-{ci_high:.0%}; "
            f"chance {1 / n_classes:.0%}; the mean "
            f"input, which carries no class information, is recognised for {baseline}). "
            "Reconstructions show what the model learned of each class (a class prototype), "
            "not individual training records."
        ),
    )
