"""The runner: from an AssessSpec to a written assessment directory.

It is, with the CLI, the only code that ties the packages together: it loads the
inputs, runs the fairness engine, then the optional steps (privacy attacks, slice
discovery, policies, report), and writes everything into a temporary directory that
replaces the output directory only once all of it succeeded.
"""

from __future__ import annotations

import contextlib
import math
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from compliance.assessment import Assessment, FairnessSection, InputFile, ModelInfo, Provenance
from compliance.errors import DataError, InputError, ScoringError
from compliance.fairness import FairnessOptions, assess_fairness
from compliance.labels import encode_binary_target, validate_scores
from compliance.models import ModelHandle, load_model
from compliance.progress import Progress
from compliance.spec import AssessSpec
from compliance.tables import read_table, require_columns, sha256_file

KEY_PACKAGES = (
    "numpy", "pandas", "scikit-learn", "fairlearn", "lightgbm", "xgboost", "skops",
    "onnxruntime", "torch", "opacus", "diffprivlib", "pydantic", "weasyprint", "pyhanko",
)  # fmt: skip


@dataclass
class RunContext:
    """What the steps of a run share: the spec, the loaded data and the model's outputs."""

    spec: AssessSpec
    frame: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None
    model: ModelHandle | None
    progress: Progress
    fairness: FairnessSection | None = None
    inputs: list[InputFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add_input(self, path: Path, role: str) -> None:
        self.inputs.append(
            InputFile(path=str(path), sha256=sha256_file(path), role=role, size=path.stat().st_size)
        )


def package_versions() -> dict[str, str]:
    """Versions of the key packages that are installed (absent ones are left out)."""
    out: dict[str, str] = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == "xgboost":
                with contextlib.suppress(metadata.PackageNotFoundError):
                    out[name] = metadata.version("xgboost-cpu")
    return out


def tool_version() -> str:
    try:
        return metadata.version("compliance-audit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _check_spec(spec: AssessSpec) -> None:
    if spec.model is None and spec.predictions_column is None:
        raise InputError("give --model FILE, or --predictions-column COL for an outputs-only audit")
    if spec.model is not None and spec.predictions_column is not None:
        raise InputError("give either --model or --predictions-column, not both")
    if not spec.protected:
        raise InputError(
            "name at least one protected attribute with --protected", field="protected"
        )
    if spec.bootstrap < 0:
        raise InputError(f"--bootstrap must be 0 or more, got {spec.bootstrap}", field="bootstrap")
    if spec.depth < 1:
        raise InputError(f"--depth must be at least 1, got {spec.depth}", field="depth")
    if spec.quantile_bins < 2:
        raise InputError(
            f"--quantile-bins must be at least 2, got {spec.quantile_bins}",
            field="quantile_bins",
        )
    if spec.jobs == 0:
        raise InputError(
            "--jobs must be 1 or more (or negative: -1 uses every core, -2 all but one)",
            field="jobs",
        )
    if not spec.attacks and (spec.train is not None or spec.population is not None):
        given = "--train" if spec.train is not None else "--population"
        raise InputError(
            f"{given} is for the privacy attacks, and none was asked for",
            field=given.lstrip("-"),
            hint="add --attacks membership,attribute (or drop --train and --population)",
        )
    bad_eps = [e for e in spec.dp_epsilons if not (math.isfinite(e) and e > 0)]
    if bad_eps:
        raise InputError(
            f"--dp-epsilon must be a positive number, got {bad_eps[0]:g}", field="dp_epsilon"
        )
    if spec.dp_delta is not None and not 0 < spec.dp_delta < 1:
        raise InputError(
            f"--dp-delta must lie between 0 and 1 (and below 1/n for n training records), "
            f"got {spec.dp_delta:g}",
            field="dp_delta",
        )
    if spec.target in spec.sensitive:
        raise InputError(
            f"--sensitive names the target {spec.target!r}: attribute inference infers an "
            "attribute the model does not predict",
            field="sensitive",
        )
    if spec.task == "regression" and spec.scores_column is not None:
        raise InputError(
            "--scores-column is for a binary classifier's probabilities; a regression's "
            "predictions are its scores (give them with --predictions-column)",
            field="scores_column",
        )
    if len(set(spec.protected)) != len(spec.protected):
        twice = next(a for a in spec.protected if spec.protected.count(a) > 1)
        raise InputError(f"--protected names {twice!r} twice", field=twice)
    if spec.target in spec.protected:
        raise InputError(
            f"the target {spec.target!r} cannot also be a protected attribute",
            field=spec.target,
        )
    inputs = [
        spec.data, spec.model, spec.train, spec.population, spec.slices_file,
        spec.attestations, spec.waivers, spec.baseline, spec.sign_key,
        *(Path(p) for p in spec.policies if p.endswith((".yaml", ".yml"))),
    ]  # fmt: skip
    check_output_dir(spec.out, overwrite=spec.overwrite, inputs=inputs)


def check_output_dir(out: Path, *, overwrite: bool, inputs: Iterable[Path | None] = ()) -> None:
    """Refuse an output directory whose replacement would destroy something.

    The outputs are written aside and then replace `out` whole. So `out` must not be a
    file, the working directory or a folder above it, or a folder holding an input; a
    non-empty folder this tool did not write (no assessment.json) needs --overwrite.
    """
    if out.exists() and not out.is_dir():
        raise InputError("is a file; --out names a directory to write", path=out, field="out")
    target = out.resolve()
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        raise InputError(
            "--out would replace the working directory or a folder holding it; "
            "name a new directory",
            path=out,
            field="out",
        )
    for item in inputs:
        if item is None:
            continue
        where = item.resolve()
        if where == target or target in where.parents:
            raise InputError(
                f"--out would replace a directory holding the input {item}; choose another --out",
                path=out,
                field="out",
            )
    if (
        out.exists()
        and any(out.iterdir())
        and not overwrite
        and not (out / "assessment.json").exists()
    ):
        raise InputError(
            "the output directory exists and holds files this tool did not write; choose "
            "another --out, or pass --overwrite to replace it and everything in it",
            path=out,
            field="out",
        )


def load_context(spec: AssessSpec, progress: Progress) -> RunContext:
    """Read the data, load the model and score the data: everything the steps need."""
    _check_spec(spec)
    frame = read_table(spec.data)
    require_columns(frame, [spec.target], path=spec.data, what="target")
    require_columns(frame, list(spec.protected), path=spec.data, what="protected attribute")
    model: ModelHandle | None = None
    y_true = frame[spec.target]
    if y_true.isna().any():
        raise DataError(
            f"{int(y_true.isna().sum())} rows have no target value",
            path=spec.data,
            field=spec.target,
        )
    scores: np.ndarray | None = None
    if spec.model is not None:
        with progress.step("Loading the model"):
            model = load_model(
                spec.model, trust_types=spec.trust_types, trust_pickle=spec.trust_pickle
            )
        X = frame.drop(columns=[spec.target])
        with progress.step("Scoring the evaluation data"):
            try:
                if spec.task == "binary" and model.has_proba:
                    proba = model.predict_proba(X)
                    if proba.shape[1] != 2:
                        raise ScoringError(
                            f"the model gives {proba.shape[1]} class probabilities; a binary "
                            "model was expected",
                        )
                    scores = proba[:, 1]
                    y_pred_raw = model.predict(X)
                else:
                    y_pred_raw = model.predict(X)
            except ScoringError as exc:
                raise ScoringError(
                    f"{spec.model}: {exc}",
                    hint="check that --data holds the model's feature columns",
                ) from exc
    else:
        assert spec.predictions_column is not None
        require_columns(frame, [spec.predictions_column], path=spec.data, what="predictions")
        y_pred_raw = frame[spec.predictions_column].to_numpy()
        if spec.scores_column is not None:
            require_columns(frame, [spec.scores_column], path=spec.data, what="scores")
            scores = validate_scores(
                frame[spec.scores_column], path=spec.data, field=spec.scores_column
            )
    if spec.task == "binary":
        y_true_enc, labels = encode_binary_target(
            y_true, positive_label=spec.positive_label, path=spec.data, field=spec.target
        )
        y_pred_enc = _encode_predictions(y_pred_raw, labels, model, spec)
    else:
        y_true_enc = pd.to_numeric(y_true, errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(y_true_enc).all():
            raise DataError(
                "a regression target must be a finite number on every row",
                path=spec.data,
                field=spec.target,
            )
        y_pred_enc = _numeric_predictions(y_pred_raw, spec)
    ctx = RunContext(
        spec=spec, frame=frame, y_true=y_true_enc, y_pred=y_pred_enc, scores=scores,
        model=model, progress=progress,
    )  # fmt: skip
    ctx.add_input(spec.data, "evaluation")
    if spec.model is not None:
        ctx.add_input(spec.model, "model")
    if model is not None and model.trusted_pickle:
        ctx.warnings.append(
            f"The model {spec.model} was loaded from a pickle with --trust-pickle: loading it "
            "could run arbitrary code; this run trusted its author."
        )
    return ctx


def _numeric_predictions(y_pred_raw: np.ndarray, spec: AssessSpec) -> np.ndarray:
    """A regression's predictions as numbers: each must be a finite number."""
    field_name = spec.predictions_column or "model predictions"
    raw = pd.Series(y_pred_raw)
    values: np.ndarray = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        missing = int(raw.isna().sum())
        example = next((v for v in raw[bad] if not pd.isna(v)), None)
        what = (
            f"{missing} rows have no prediction"
            if example is None
            else f"{int(bad.sum())} predictions are not numbers (such as {str(example)!r}); "
            "a regression's predictions must be numeric"
        )
        raise DataError(what, path=spec.model or spec.data, field=field_name)
    return values


def _encode_predictions(
    y_pred_raw: np.ndarray, labels: tuple[str, str], model: ModelHandle | None, spec: AssessSpec
) -> np.ndarray:
    """Map predictions onto 0/1 with the same positive label as the target."""
    field_name = spec.predictions_column or "model predictions"
    series = pd.Series(y_pred_raw)
    if (
        model is not None
        and model.classes
        and len(model.classes) == 2
        and set(series.unique()) <= set(model.classes)
    ):
        series = series.astype(str)
    negative, positive = labels
    as_str = series.astype(str).str.strip()
    values = set(as_str.unique())
    if values <= {negative, positive}:
        return np.asarray((as_str == positive).to_numpy(dtype=np.int8))
    if values <= {"0", "1"} or values <= {"0.0", "1.0"} or values <= {"False", "True"}:
        return np.asarray(as_str.isin(["1", "1.0", "True"]).to_numpy(dtype=np.int8))
    raise DataError(
        f"predictions take values {sorted(values)[:5]} that are neither the target's labels "
        f"({negative!r}, {positive!r}) nor 0/1",
        path=spec.model or spec.data,
        field=field_name,
    )


def run_assessment(spec: AssessSpec, *, progress: Progress | None = None) -> Assessment:
    """Run an assessment and write `spec.out/assessment.json` (and whatever else was asked)."""
    progress = progress or Progress(enabled=False)
    ctx = load_context(spec, progress)
    options = FairnessOptions.from_spec(spec)
    sensitive = ctx.frame[list(spec.protected)]
    method = f"{spec.bootstrap} bootstrap draws" if spec.task == "binary" else "normal intervals"
    with progress.step(f"Fairness per slice ({method})"):
        fairness = assess_fairness(
            ctx.y_true, ctx.y_pred, ctx.scores, sensitive, options=options, data_path=spec.data
        )
    ctx.fairness = fairness
    from compliance.steps import discovery as discovery_step
    from compliance.steps import privacy as privacy_step

    privacy = privacy_step.run(ctx) if spec.attacks else None
    wants_proxies = spec.proxies or ("feat" in spec.policies and spec.task == "binary")
    discovery = (
        discovery_step.run(ctx) if (spec.find_slices or spec.slices_file or wants_proxies) else None
    )
    model_info = _model_info(ctx)
    assessment = Assessment(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        provenance=Provenance(
            tool_version=tool_version(),
            python=sys.version.split()[0],
            platform=platform.platform(terse=True),
            packages=package_versions(),
            seed=spec.seed,
            command=list(spec.command),
        ),
        inputs=ctx.inputs,
        model=model_info,
        fairness=fairness,
        privacy=privacy,
        discovery=discovery,
        warnings=ctx.warnings,
    )
    if spec.policies:
        from compliance.steps import policy as policy_step

        assessment = policy_step.run(ctx, assessment)
    write_outputs(assessment, spec, progress)
    return assessment


def _model_info(ctx: RunContext) -> ModelInfo:
    spec = ctx.spec
    if ctx.model is None:
        desc = f"outputs-only audit: predictions in column '{spec.predictions_column}'"
        if spec.scores_column:
            desc += f", scores in column '{spec.scores_column}'"
        return ModelInfo(kind="predictions", description=desc, task=spec.task)
    m = ctx.model
    return ModelInfo(
        kind=m.kind,
        path=m.path,
        description=f"{m.kind} model {type(m.estimator).__name__}",
        task=spec.task,
        trusted_pickle=m.trusted_pickle,
        trusted_types=m.trusted_types,
    )


def write_outputs(assessment: Assessment, spec: AssessSpec, progress: Progress) -> None:
    """Write every output into a temporary directory, then move it into place."""
    spec.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".assess-", dir=spec.out.parent))
    try:
        assessment.write(tmp / "assessment.json")
        if spec.report or spec.pack:
            from compliance.steps import outputs as outputs_step

            outputs_step.run(assessment, spec, tmp, progress)
        if spec.out.exists():
            shutil.rmtree(spec.out)
        tmp.replace(spec.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
