"""The discovery step: slice search, business slices, proxies and leave-one-out for the runner.

The business-slices file is YAML: a list (or a mapping with one key, `slices`, holding
the list) of slices, each with an optional `name` and a `where` mapping of column to
value; a value is a category (text or number), `(missing)`, or `[low, high]` for
low <= x < high with `null` for an open end::

    - name: Young applicants in the north
      where: {region: North, age: [null, 25]}
    - where: {product: card}
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from compliance.errors import InputError
from compliance.evidence.discovery import DiscoverySection, LeaveOneOutSection
from compliance.evidence.discovery import SliceDefinition as _Definition
from compliance.proxies import (
    DEFAULT_AUC_THRESHOLD,
    PROXY_METHOD,
    leave_one_out,
    proxy_strength,
    retrain_recipe,
)
from compliance.slice_search import (
    MULTIPLE_TESTING_NOTE,
    SLICE_METRICS,
    evaluate_definitions,
    find_slices,
    get_slice_metric,
)

if TYPE_CHECKING:
    from compliance.runner import RunContext

SCORE_ALPHA = 0.95
MAX_REPORTED = 10
PROXY_FOLDS = 5
PROXY_BINS = 10
SLICE_KEYS = {"name", "where"}


def run(ctx: RunContext) -> DiscoverySection:
    """Run whatever discovery the spec asks for and return its evidence."""
    spec = ctx.spec
    if spec.task != "binary":
        raise InputError(
            "slice discovery and proxy detection need a binary task",
            field="task",
            hint="drop --find-slices, --slices-file and --proxies for a regression model",
        )
    if spec.slice_metric not in SLICE_METRICS:
        raise InputError(
            f"unknown metric {spec.slice_metric!r}; known: {', '.join(SLICE_METRICS)}",
            field="slice-metric",
        )
    if spec.slice_depth < 1:
        raise InputError(f"must be at least 1, got {spec.slice_depth}", field="slice-depth")
    metric = get_slice_metric(
        spec.slice_metric, positive_label_favourable=spec.positive_label_favourable
    )
    frame = ctx.frame
    features = _features(ctx)
    y_true = np.asarray(ctx.y_true)
    y_pred = np.asarray(ctx.y_pred)
    fields: dict[str, Any] = {
        "metric": metric.name,
        "metric_higher_is_worse": metric.higher_is_worse,
        "ci_level": spec.ci_level,
        "correction": "holm",
        "correction_note": MULTIPLE_TESTING_NOTE,
        "features": features,
    }
    if spec.find_slices:
        with ctx.progress.step(f"Searching slices up to depth {spec.slice_depth}"):
            report = find_slices(
                frame,
                y_true,
                y_pred,
                features=features,
                protected=list(spec.protected),
                metric=metric,
                max_depth=spec.slice_depth,
                min_support=spec.min_slice_size,
                alpha=SCORE_ALPHA,
                k=MAX_REPORTED,
                bins=spec.bins,
                quantile_bins=spec.quantile_bins,
                ci_level=spec.ci_level,
                min_cell=spec.min_cell,
            )
        fields.update(
            depth=spec.slice_depth,
            min_support=spec.min_slice_size,
            score_alpha=SCORE_ALPHA,
            bin_edges=report.encoded.edges,
            rows_searched=report.eligible_rows,
            slices_evaluated=report.search.evaluated,
            slices_tested=report.family_size,
            slices_tested_exact=report.family_exact,
            slices_found=report.slices,
        )
    if spec.slices_file is not None:
        definitions = load_business_slices(spec.slices_file, frame)
        ctx.add_input(Path(spec.slices_file), "slices")
        fields["slices_file"] = str(spec.slices_file)
        fields["business_slices"] = evaluate_definitions(
            frame,
            y_true,
            y_pred,
            definitions,
            protected=list(spec.protected),
            metric=metric,
            ci_level=spec.ci_level,
            min_slice_size=spec.min_slice_size,
            min_cell=spec.min_cell,
            bins=spec.bins,
            quantile_bins=spec.quantile_bins,
            correction=spec.correction,
        )
        fields["business_correction"] = spec.correction
    proxy_features = [f for f in features if f not in spec.protected]
    with ctx.progress.step("Proxies of protected attributes"):
        fields["proxies"] = proxy_strength(
            frame,
            proxy_features,
            list(spec.protected),
            seed=spec.seed,
            folds=PROXY_FOLDS,
            quantile_bins=PROXY_BINS,
            bins=spec.bins,
            auc_threshold=DEFAULT_AUC_THRESHOLD,
            ci_level=spec.ci_level,
            protected_quantile_bins=spec.quantile_bins,
        )
    fields["proxy_auc_threshold"] = DEFAULT_AUC_THRESHOLD
    fields["proxy_method"] = PROXY_METHOD.format(
        bins=PROXY_BINS, folds=PROXY_FOLDS, threshold=DEFAULT_AUC_THRESHOLD, level=spec.ci_level
    )
    fields["leave_one_out"] = _leave_one_out(ctx, features)
    return DiscoverySection(**fields)


def _features(ctx: RunContext) -> list[str]:
    """Every column but the target and the prediction and score columns."""
    spec = ctx.spec
    skip = {spec.target, spec.predictions_column, spec.scores_column}
    return [c for c in ctx.frame.columns if c not in skip]


# -------------------------------------------------------------- business slices


def _fail(path: Path, field: str, message: str) -> InputError:
    return InputError(message, path=path, field=field)


def load_business_slices(
    path: str | Path, frame: pd.DataFrame
) -> list[tuple[str | None, _Definition]]:
    """Read and check a business-slices YAML file against the evaluation data's columns."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", path=p, field="slices-file")
    try:
        raw: Any = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "slices"
        raise _fail(p, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except UnicodeDecodeError as exc:
        raise _fail(p, "slices", "not a UTF-8 text file") from exc
    if isinstance(raw, dict):
        extra = sorted(set(raw) - {"slices"})
        if extra:
            raise _fail(p, str(extra[0]), "unknown key; the file holds a list under 'slices'")
        raw = raw.get("slices")
    if not isinstance(raw, list) or not raw:
        raise _fail(p, "slices", "expected a non-empty list of slices, each with 'where'")
    out: list[tuple[str | None, _Definition]] = []
    for i, item in enumerate(raw):
        at = f"slices[{i}]"
        if not isinstance(item, dict):
            raise _fail(p, at, f"expected a mapping with 'where', got {type(item).__name__}")
        unknown = sorted(str(k) for k in set(item) - SLICE_KEYS)
        if unknown:
            raise _fail(p, f"{at}.{unknown[0]}", "unknown key; allowed: name, where")
        name = item.get("name")
        if name is not None and not isinstance(name, str):
            raise _fail(p, f"{at}.name", f"must be text, got {name!r}")
        conditions = item.get("where")
        if not isinstance(conditions, dict) or not conditions:
            raise _fail(p, f"{at}.where", "expected a non-empty mapping of column to value")
        definition: _Definition = {}
        for col, value in conditions.items():
            fld = f"{at}.where.{col}"
            if col not in frame.columns:
                shown = ", ".join(map(str, list(frame.columns)[:20]))
                raise _fail(p, fld, f"no such column in the evaluation data (it has: {shown})")
            definition[str(col)] = _condition(p, fld, value, frame[col])
        out.append((name, definition))
    return out


def _condition(p: Path, fld: str, value: object, col: pd.Series) -> str | list[float | None]:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _fail(p, fld, f"must be finite, got {value!r}")
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list):
        if len(value) != 2 or not all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in value
        ):
            raise _fail(p, fld, f"an interval is [low, high] with numbers or null, got {value!r}")
        if not pd.api.types.is_numeric_dtype(col):
            raise _fail(p, fld, "an interval needs a numeric column")
        low, high = (None if v is None else float(v) for v in value)
        if low is not None and high is not None and not low < high:
            raise _fail(p, fld, f"low must be under high, got {value!r}")
        return [low, high]
    raise _fail(p, fld, f"expected a value or [low, high], got {type(value).__name__}")


# ---------------------------------------------------------------- leave-one-out


def _fairness_metric(ctx: RunContext) -> tuple[str, list[str]]:
    """The Veritas parity metric and the per-slice rates it compares.

    The fairness step's own selection when the context carries it; otherwise the same
    tree (`compliance.veritas`) walked with the spec's answers. Where the tree has no
    metric for the answers, the error rate stands in.
    """
    fairness = getattr(ctx, "fairness", None)
    selection = getattr(fairness, "metric_selection", None)
    if selection is None:
        from compliance.veritas import select_metric

        spec = ctx.spec
        try:
            selection = select_metric(
                fair_priority=spec.fair_priority,
                fair_impact=spec.fair_impact,
                fair_concern=spec.fair_concern,
                positive_label_favourable=spec.positive_label_favourable,
            )
        except InputError:
            return "error_rate", ["error_rate"]
    return str(selection.parity_metric), [str(m) for m in selection.metrics]


def _leave_one_out(ctx: RunContext, features: list[str]) -> LeaveOneOutSection:
    spec = ctx.spec
    if ctx.model is None:
        return LeaveOneOutSection(
            available=False, reason="an outputs-only audit has no model to refit"
        )
    recipe, reason = retrain_recipe(ctx.model)
    if recipe is None:
        return LeaveOneOutSection(available=False, reason=reason)
    if spec.train is None:
        return LeaveOneOutSection(
            available=False,
            reason="no training set was given (--train): the model cannot be refitted",
        )
    from compliance.labels import encode_binary_target
    from compliance.tables import read_table, require_columns

    train_path = Path(spec.train)
    train = read_table(train_path)
    inputs = list(ctx.model.feature_names or features)
    require_columns(train, [spec.target, *inputs], path=train_path, what="training")
    if not any(i.path == str(train_path) for i in ctx.inputs):
        ctx.add_input(train_path, "training")
    y_raw = train[spec.target]
    if y_raw.isna().any():
        raise InputError(
            f"{int(y_raw.isna().sum())} rows have no target value",
            path=train_path,
            field=spec.target,
        )
    y01, labels = encode_binary_target(
        y_raw, positive_label=spec.positive_label, path=train_path, field=spec.target
    )
    parity, rates = _fairness_metric(ctx)
    with ctx.progress.step("Leave-one-out refits of protected inputs"):
        section = leave_one_out(
            ctx.model,
            train,
            ctx.frame,
            y_train_raw=y_raw,
            y_train=y01,
            y_eval=np.asarray(ctx.y_true),
            y_pred_original=np.asarray(ctx.y_pred),
            labels=labels,
            inputs=inputs,
            protected=list(spec.protected),
            fairness_metric=parity,
            fairness_metrics=rates,
            seed=spec.seed,
            min_size=spec.min_slice_size,
            bins=spec.bins,
            quantile_bins=spec.quantile_bins,
        )
    return section
