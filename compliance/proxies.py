"""Proxy detection and leave-one-out importance of protected attributes.

Proxies (the evidence FEAT's F2 check reads): for every feature and every protected
attribute, how much the feature alone tells about the attribute.

- Mutual information, plug-in estimate in bits from the contingency counts of the
  feature's levels (categories, or numeric quantile bins) and the attribute's groups,
  and the same divided by the attribute's entropy (the share of the attribute's
  uncertainty the feature removes, 0 to 1).
- A cross-validated AUC of predicting each group of the attribute (one against the rest)
  from the feature alone. The classifier is the best one a single discrete feature
  allows: the group's share within the feature's level, learnt on the other folds
  (smoothed toward the group's overall share). The AUC is computed on each held-out fold
  and averaged over the folds, one per group; the strongest group is reported, with a
  Hanley-McNeil interval.
  A feature is flagged when that AUC reaches the threshold (0.7, "acceptable
  discrimination" in Hosmer and Lemeshow's scale) and its interval excludes 0.5.

Leave-one-out: each protected attribute that is a model input is dropped and the model
is refitted with its own recipe (its class and hyper-parameters, the same number of
boosting rounds) on the training set; the refit without it is compared with a refit with
it, so that the change is the attribute's, not the refit's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from compliance.evidence.discovery import LeaveOneOutResult, LeaveOneOutSection, ProxyResult
from compliance.slice_search import SLICE_METRICS, encode_features, protected_group_labels

__all__ = [
    "DEFAULT_AUC_THRESHOLD",
    "PROXY_METHOD",
    "auc_with_interval",
    "fairness_gap",
    "leave_one_out",
    "mutual_information",
    "proxy_strength",
    "retrain_recipe",
]

DEFAULT_AUC_THRESHOLD = 0.7

PROXY_METHOD = (
    "Mutual information (plug-in, bits) between the feature's levels (numeric features in "
    "{bins} quantile bins) and the attribute's groups, also divided by the attribute's "
    "entropy; and a {folds}-fold cross-validated one-vs-rest AUC of the attribute's "
    "strongest group, predicted from the feature alone by the group's smoothed share in "
    "the feature's level learnt on the other folds (the AUC of each held-out fold, "
    "averaged). Flagged when the AUC is at least {threshold} and its Hanley-McNeil "
    "{level:.0%} interval excludes 0.5."
)


def mutual_information(x_codes: np.ndarray, a_codes: np.ndarray) -> tuple[float, float]:
    """Plug-in mutual information (bits) of two code vectors, and MI / H(a)."""
    n = len(x_codes)
    if n == 0:
        return math.nan, math.nan
    kx = int(x_codes.max()) + 1
    ka = int(a_codes.max()) + 1
    cells = np.bincount(x_codes.astype(np.int64) * ka + a_codes, minlength=kx * ka)
    joint = cells.reshape(kx, ka) / n
    px = joint.sum(axis=1, keepdims=True)
    pa = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    mi = float(np.sum(joint[nz] * np.log2(joint[nz] / (px @ pa)[nz])))
    pa_nz = pa[pa > 0]
    h = float(-np.sum(pa_nz * np.log2(pa_nz)))
    mi = max(mi, 0.0)
    return mi, (mi / h if h > 0 else math.nan)


def auc_with_interval(
    scores: np.ndarray, positive: np.ndarray, *, level: float = 0.95
) -> tuple[float, float, float]:
    """Rank AUC (ties count half) with the Hanley-McNeil interval; NaNs if a class is empty."""
    positive = np.asarray(positive, dtype=bool)
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan, math.nan
    ranks = stats.rankdata(scores)
    auc = float((ranks[positive].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))
    return (auc, *_hanley_mcneil(auc, n1, n0, level))


def _oof_group_shares(
    x_codes: np.ndarray, a_codes: np.ndarray, n_groups: int, folds: np.ndarray, n_folds: int
) -> np.ndarray:
    """Out-of-fold P(group | level), smoothed toward the group's share with weight 1."""
    kx = int(x_codes.max()) + 1
    out = np.zeros((len(x_codes), n_groups))
    for f in range(n_folds):
        test = folds == f
        train = ~test
        counts = np.bincount(
            x_codes[train].astype(np.int64) * n_groups + a_codes[train], minlength=kx * n_groups
        ).reshape(kx, n_groups)
        prior = counts.sum(axis=0) / max(int(train.sum()), 1)
        shares = (counts + prior) / (counts.sum(axis=1, keepdims=True) + 1.0)
        out[test] = shares[x_codes[test]]
    return out


def _cv_auc(
    scores: np.ndarray, positive: np.ndarray, folds: np.ndarray, n_folds: int, *, level: float
) -> tuple[float, float, float]:
    """Mean of the per-fold AUCs, with the Hanley-McNeil interval of an AUC on all rows.

    Pooling out-of-fold scores across folds would compare scores from different fits, and
    the share a fit learns for a level is anti-correlated with the held-out fold's share:
    an independent feature would score below 0.5. Within one fold the fit and the held-out
    rows are independent, so each fold's AUC is unbiased.
    """
    per_fold = []
    for f in range(n_folds):
        test = folds == f
        auc_f, _, _ = auc_with_interval(scores[test], positive[test], level=level)
        if not math.isnan(auc_f):
            per_fold.append(auc_f)
    if not per_fold:
        return math.nan, math.nan, math.nan
    auc = float(np.mean(per_fold))
    return (auc, *_hanley_mcneil(auc, int(positive.sum()), int((~positive).sum()), level))


def _hanley_mcneil(auc: float, n1: int, n0: int, level: float) -> tuple[float, float]:
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    half = float(stats.norm.ppf(0.5 + level / 2)) * math.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def proxy_strength(
    frame: pd.DataFrame,
    features: Sequence[str],
    protected: Sequence[str],
    *,
    seed: int = 0,
    folds: int = 5,
    quantile_bins: int = 10,
    bins: Mapping[str, Sequence[float]] | None = None,
    auc_threshold: float = DEFAULT_AUC_THRESHOLD,
    ci_level: float = 0.95,
    min_group: int = 10,
    protected_quantile_bins: int = 4,
) -> list[ProxyResult]:
    """Every feature against every protected attribute; rows missing the attribute are left out.

    A numeric protected attribute with many values is grouped by `bins`, else into
    `protected_quantile_bins` quantiles, as the slice search groups it.
    """
    enc = encode_features(frame, list(features), bins=bins, quantile_bins=quantile_bins)
    groups_of = protected_group_labels(
        frame, protected, bins=bins, quantile_bins=protected_quantile_bins
    )
    results: list[ProxyResult] = []
    rng = np.random.default_rng(seed)
    for attr in protected:
        col = groups_of[attr]
        known = col.notna().to_numpy()
        a_codes, groups = pd.factorize(col[known], sort=True)
        a_codes = np.asarray(a_codes, dtype=np.int64)
        n = int(known.sum())
        fold_of = rng.permutation(n) % folds
        for j, feature in enumerate(enc.names):
            x = enc.codes[known, j]
            mi, nmi = mutual_information(x, a_codes)
            best: tuple[float, float, float, str | None] = (math.nan, math.nan, math.nan, None)
            if len(groups) >= 2 and n >= 2 * folds:
                shares = _oof_group_shares(x, a_codes, len(groups), fold_of, folds)
                for g, name in enumerate(groups):
                    members = a_codes == g
                    if members.sum() < min_group or (~members).sum() < min_group:
                        continue
                    auc, lo, hi = _cv_auc(shares[:, g], members, fold_of, folds, level=ci_level)
                    if best[3] is None or auc > best[0]:
                        best = (auc, lo, hi, str(name))
                    if len(groups) == 2:
                        break  # both groups give the same AUC
            auc, lo, hi, group = best
            flagged = bool(
                group is not None and auc >= auc_threshold and not math.isnan(lo) and lo > 0.5
            )
            results.append(
                ProxyResult(
                    feature=feature,
                    protected=attr,
                    n=n,
                    mutual_information=mi,
                    normalized_mi=nmi,
                    auc=auc,
                    auc_ci_low=lo,
                    auc_ci_high=hi,
                    auc_group=group,
                    flagged=flagged,
                )
            )
    results.sort(key=lambda r: (r.protected, -(r.auc or 0.0), r.feature))
    return results


# ------------------------------------------------------------------ leave-one-out


_LGB_DROP = {
    "categorical_feature",
    "monotone_constraints",
    "interaction_constraints",
    "forcedsplits_filename",
    "forcedbins_filename",
    "feature_contri",
    "max_bin_by_feature",
    "num_iterations",
    "early_stopping_round",
    "early_stopping_min_delta",
    "metric",
    "local_listen_port",
    "time_out",
    "num_machines",
    "machine_list_filename",
    "machines",
    "gpu_platform_id",
    "gpu_device_id",
    "gpu_use_dp",
    "num_gpu",
    "device_type",
    "saved_feature_importance_type",
    "header",
    "precise_float_parser",
    "monotone_constraints_method",
    "monotone_penalty",
    "pre_partition",
    "two_round",
}


def retrain_recipe(model: Any) -> tuple[str | None, str | None]:
    """The recipe a model can be refitted with, or why it cannot: (recipe, reason)."""
    kind = getattr(model, "kind", None)
    est = getattr(model, "estimator", None)
    if kind == "lightgbm":
        return "lightgbm.train with the model's own parameters and number of rounds", None
    if kind in ("sklearn", "pickle") and hasattr(est, "fit") and hasattr(est, "get_params"):
        return f"sklearn.base.clone of {type(est).__name__}, refitted", None
    if kind == "xgboost":
        return None, (
            "an XGBoost model file keeps its trees but not its training parameters (a loaded "
            "booster reports the defaults), so it cannot be refitted with its own recipe; "
            "leave-one-out needs a LightGBM or scikit-learn model"
        )
    return None, (
        f"a {kind} model carries no training recipe this tool can replay; leave-one-out "
        "needs a LightGBM or scikit-learn model"
    )


def _as_categories(train: pd.DataFrame, other: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = train.copy()
    other = other.copy()
    for col in train.columns:
        c = train[col]
        if (
            c.dtype == object
            or pd.api.types.is_string_dtype(c)
            or isinstance(c.dtype, pd.CategoricalDtype)
        ):
            cats = pd.Index(sorted(c.dropna().astype(str).unique()))
            train[col] = pd.Categorical(c.astype("string"), categories=cats)
            other[col] = pd.Categorical(other[col].astype("string"), categories=cats)
    return train, other


def _refit_predict(
    model: Any,
    X_train: pd.DataFrame,
    y_train_raw: pd.Series,
    y_train01: np.ndarray,
    X_eval: pd.DataFrame,
    labels: tuple[str, str],
    *,
    seed: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Refit `model`'s recipe on X_train, return 0/1 predictions and positive scores on X_eval."""
    if model.kind == "lightgbm":
        import lightgbm as lgb

        booster = model.estimator
        params = {k: v for k, v in dict(booster.params or {}).items() if k not in _LGB_DROP}
        # one thread: OpenMP runtimes of other libraries in this process (scikit-learn's)
        # make LightGBM's multi-threaded training tens of times slower here
        params.update(verbosity=-1, num_threads=1)
        params.setdefault("seed", seed)
        rounds = max(int(booster.current_iteration()), 1)
        tr, ev = _as_categories(X_train, X_eval)
        fitted = lgb.train(params, lgb.Dataset(tr, label=y_train01), num_boost_round=rounds)
        proba = np.asarray(fitted.predict(ev), dtype=float)
        return (proba >= 0.5).astype(np.int8), proba
    from sklearn.base import clone

    est = clone(model.estimator)
    classes = [str(c) for c in getattr(model.estimator, "classes_", [])]
    raw_labels = set(classes) == set(labels)
    y_fit = y_train_raw.astype(str).str.strip().to_numpy() if raw_labels else y_train01
    est.fit(X_train, y_fit)
    fitted_classes = [str(c) for c in est.classes_]
    positive = labels[1] if raw_labels else "1"
    pred = np.asarray(est.predict(X_eval)).astype(str)
    pred01 = (pred == positive).astype(np.int8)
    score: np.ndarray | None = None
    if hasattr(est, "predict_proba") and positive in fitted_classes:
        score = np.asarray(est.predict_proba(X_eval), dtype=float)[
            :, fitted_classes.index(positive)
        ]
    return pred01, score


def fairness_gap(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: pd.Series,
    metrics: Sequence[str],
    *,
    min_size: int = 30,
) -> float | None:
    """Largest minus smallest value across the groups with at least `min_size` eligible rows.

    With several metrics (equal odds compares two rates) the largest of their gaps; None
    when no metric is count-based or fewer than two groups are large enough.
    """
    gaps = []
    g = groups.astype(str).to_numpy()
    names = np.unique(g[groups.notna().to_numpy()])
    for metric in metrics:
        if metric not in SLICE_METRICS:
            continue
        m = SLICE_METRICS[metric]
        eligible = np.asarray(m.eligible(y_true, y_pred), dtype=bool)
        event = np.zeros(len(y_true), dtype=bool)
        event[eligible] = np.asarray(m.event(y_true[eligible], y_pred[eligible]), dtype=bool)
        values = []
        for name in names:
            rows = (g == name) & eligible
            if rows.sum() >= min_size:
                values.append(event[rows].mean())
        if len(values) >= 2:
            gaps.append(float(max(values) - min(values)))
    return max(gaps) if gaps else None


def _accuracy_auc(
    y: np.ndarray, pred: np.ndarray, score: np.ndarray | None
) -> tuple[float, float | None]:
    acc = float(np.mean(y == pred))
    if score is None:
        return acc, None
    auc, _, _ = auc_with_interval(score, y == 1)
    return acc, (None if math.isnan(auc) else auc)


def _failure(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


def _change(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def leave_one_out(
    model: Any,
    train: pd.DataFrame,
    evaluation: pd.DataFrame,
    *,
    y_train_raw: pd.Series,
    y_train: np.ndarray,
    y_eval: np.ndarray,
    y_pred_original: np.ndarray,
    labels: tuple[str, str],
    inputs: Sequence[str],
    protected: Sequence[str],
    fairness_metric: str,
    fairness_metrics: Sequence[str],
    seed: int = 0,
    min_size: int = 30,
    bins: Mapping[str, Sequence[float]] | None = None,
    quantile_bins: int = 4,
) -> LeaveOneOutSection:
    """Refit without each protected input; compare with a refit on every input.

    `inputs` are the model's input columns in order; `train` and `evaluation` must hold
    them. Attributes that are not inputs are reported as not available, with the reason.
    """
    recipe, reason = retrain_recipe(model)
    if recipe is None:
        return LeaveOneOutSection(available=False, reason=reason)
    X_train = train[list(inputs)]
    X_eval = evaluation[list(inputs)]
    try:
        pred_with, score_with = _refit_predict(
            model, X_train, y_train_raw, y_train, X_eval, labels, seed=seed
        )
    except Exception as exc:  # a recipe that cannot be replayed on this data
        return LeaveOneOutSection(
            available=False,
            recipe=recipe,
            reason=f"refitting the model on the training set failed ({_failure(exc)})",
        )
    acc_with, auc_with = _accuracy_auc(y_eval, pred_with, score_with)
    results: list[LeaveOneOutResult] = []
    for attr in protected:
        if attr not in inputs:
            results.append(
                LeaveOneOutResult(
                    attribute=attr,
                    available=False,
                    reason="not a model input: the model does not see it, so there is "
                    "nothing to leave out",
                )
            )
            continue
        rest = [c for c in inputs if c != attr]
        try:
            pred_wo, score_wo = _refit_predict(
                model, X_train[rest], y_train_raw, y_train, X_eval[rest], labels, seed=seed
            )
        except Exception as exc:  # e.g. a pipeline that names the column it lost
            results.append(
                LeaveOneOutResult(
                    attribute=attr,
                    available=False,
                    reason=f"the model's recipe cannot be refitted without it ({_failure(exc)})",
                )
            )
            continue
        acc_wo, auc_wo = _accuracy_auc(y_eval, pred_wo, score_wo)
        groups = protected_group_labels(evaluation, [attr], bins=bins, quantile_bins=quantile_bins)[
            attr
        ]
        gap_with = fairness_gap(y_eval, pred_with, groups, fairness_metrics, min_size=min_size)
        gap_wo = fairness_gap(y_eval, pred_wo, groups, fairness_metrics, min_size=min_size)
        results.append(
            LeaveOneOutResult(
                attribute=attr,
                available=True,
                n_train=len(train),
                n_eval=len(evaluation),
                accuracy_with=acc_with,
                accuracy_without=acc_wo,
                accuracy_change=acc_wo - acc_with,
                auc_with=auc_with,
                auc_without=auc_wo,
                auc_change=_change(auc_with, auc_wo),
                fairness_metric=fairness_metric,
                fairness_gap_with=gap_with,
                fairness_gap_without=gap_wo,
                fairness_gap_change=_change(gap_with, gap_wo),
                original_accuracy=float(np.mean(y_eval == y_pred_original)),
                original_fairness_gap=fairness_gap(
                    y_eval, y_pred_original, groups, fairness_metrics, min_size=min_size
                ),
            )
        )
    return LeaveOneOutSection(available=True, recipe=recipe, results=results)
