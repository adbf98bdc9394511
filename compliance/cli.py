"""The `compliance` command line. Heavy imports stay inside the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from compliance.errors import ComplianceError

app = typer.Typer(
    name="compliance",
    help="Assess ML models for fairness and privacy compliance, and produce signed evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, hint: str | None = None, code: int = 2) -> None:
    """Print one clear error line (and a hint) on stderr and exit with `code`."""
    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True)
    # the message and hint are plain text: "[formats]" in a hint is not a style tag
    err.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err.print(f"[dim]hint: {escape(hint)}[/dim]", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn a ComplianceError into one message and exit code 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ComplianceError as exc:
            fail(str(exc), exc.hint)

    return wrapper  # type: ignore[return-value]


def _parse_mapping(items: list[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            fail(f"{flag} takes ATTRIBUTE=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _parse_bins(items: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for item in items:
        key, _, edges = item.partition("=")
        try:
            values = [float(x) for x in edges.split(",") if x.strip()]
        except ValueError:
            fail(f"--bins takes ATTRIBUTE=EDGE,EDGE,... with numbers, got {item!r}")
        if not key or len(values) < 1 or sorted(values) != values:
            fail(f"--bins takes ATTRIBUTE=EDGE,EDGE,... with increasing numbers, got {item!r}")
        out[key.strip()] = values
    return out


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@app.command()
@handle_errors
def assess(
    data: Annotated[Path, typer.Option("--data", help="Evaluation data (CSV or Parquet).")],
    target: Annotated[str, typer.Option("--target", help="The label column.")],
    protected: Annotated[
        list[str],
        typer.Option(
            "--protected", help="Protected attribute column(s), comma-separated or repeated."
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Model artifact (.skops, LightGBM .txt, XGBoost .json/.ubj, .onnx, .pt).",
        ),
    ] = None,
    predictions_column: Annotated[
        str | None,
        typer.Option(
            "--predictions-column", help="Outputs-only audit: the column of predicted labels."
        ),
    ] = None,
    scores_column: Annotated[
        str | None,
        typer.Option(
            "--scores-column",
            help="Outputs-only audit: the column of scores (probability of the positive label).",
        ),
    ] = None,
    positive_label: Annotated[
        str | None,
        typer.Option(
            "--positive-label",
            help="The target value that counts as positive (default: 1, or the larger value).",
        ),
    ] = None,
    task: Annotated[str, typer.Option("--task", help="binary or regression.")] = "binary",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap draws for confidence intervals.")
    ] = 1000,
    seed: Annotated[
        int,
        typer.Option("--seed", help="Random seed; the same inputs and seed give the same JSON."),
    ] = 0,
    depth: Annotated[
        int, typer.Option("--depth", help="Intersections of up to this many protected attributes.")
    ] = 2,
    min_slice_size: Annotated[
        int,
        typer.Option(
            "--min-slice-size",
            help="Slices smaller than this are 'insufficient data', never judged.",
        ),
    ] = 30,
    min_cell: Annotated[
        int, typer.Option("--min-cell", help="Counts under this are suppressed in reports.")
    ] = 10,
    bins: Annotated[
        list[str],
        typer.Option("--bins", help="Bin edges for a numeric protected attribute: age=25,40,60."),
    ] = [],  # noqa: B006
    quantile_bins: Annotated[
        int,
        typer.Option(
            "--quantile-bins", help="Quantile bins for numeric protected attributes without --bins."
        ),
    ] = 4,
    reference: Annotated[
        list[str],
        typer.Option(
            "--reference",
            help="Reference group per attribute: sex=Male (default: the most favoured).",
        ),
    ] = [],  # noqa: B006
    correction: Annotated[
        str, typer.Option("--correction", help="Multiple-comparison correction: holm or fdr_bh.")
    ] = "holm",
    fair_priority: Annotated[
        str,
        typer.Option(
            "--fair-priority",
            help="Veritas: is the priority to measure the decision's benefit or its harm to "
            "the people it is about?",
        ),
    ] = "benefit",
    fair_impact: Annotated[
        str, typer.Option("--fair-impact", help="Veritas: normal, significant or selective impact.")
    ] = "normal",
    fair_concern: Annotated[
        str,
        typer.Option(
            "--fair-concern", help="Veritas: concern for the eligible, the inclusive, or both."
        ),
    ] = "eligible",
    positive_label_unfavourable: Annotated[
        bool,
        typer.Option(
            "--positive-label-unfavourable",
            help="The positive label (for a scoring model: a high score) is the unfavourable "
            "outcome (e.g. default).",
        ),
    ] = False,
    trust_type: Annotated[
        list[str],
        typer.Option(
            "--trust-type", help="Trust one more type when loading a skops file (repeatable)."
        ),
    ] = [],  # noqa: B006
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="Allow loading a pickle/joblib model (runs its code; recorded in the report).",
        ),
    ] = False,
    train: Annotated[
        Path | None,
        typer.Option("--train", help="The model's training set (members), for privacy attacks."),
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population", help="Data of the same distribution the model never saw (non-members)."
        ),
    ] = None,
    attacks: Annotated[
        list[str],
        typer.Option(
            "--attacks",
            help="Privacy attacks: membership, attribute, inversion, dp, or one attack by name "
            "(loss, lira_offline, lira_online, rmia, rmia_online, label_only).",
        ),
    ] = [],  # noqa: B006
    reference_models: Annotated[
        int, typer.Option("--reference-models", help="Reference models for LiRA/RMIA.")
    ] = 4,
    jobs: Annotated[
        int, typer.Option("--jobs", help="Parallel jobs for training reference models.")
    ] = 1,
    sensitive: Annotated[
        list[str],
        typer.Option(
            "--sensitive",
            help="Attributes to infer by attribute inference (default: the protected ones).",
        ),
    ] = [],  # noqa: B006
    recipe: Annotated[
        str | None,
        typer.Option(
            "--recipe",
            help="Training recipe module:function for reference models of torch targets.",
        ),
    ] = None,
    dp_epsilon: Annotated[
        list[float],
        typer.Option("--dp-epsilon", help="Epsilon of a DP reference model (repeatable)."),
    ] = [1.0, 8.0],  # noqa: B006
    dp_delta: Annotated[
        float | None,
        typer.Option("--dp-delta", help="Delta of the DP reference models (default 1/n^2)."),
    ] = None,
    find_slices: Annotated[
        bool, typer.Option("--find-slices", help="Search for the slices where the model fails.")
    ] = False,
    proxies: Annotated[
        bool,
        typer.Option(
            "--proxies",
            help="Measure how well each feature predicts each protected attribute "
            "(on by default with --policy feat).",
        ),
    ] = False,
    slice_depth: Annotated[
        int,
        typer.Option(
            "--slice-depth", help="Conjunctions of up to this many conditions in the slice search."
        ),
    ] = 3,
    slice_metric: Annotated[
        str,
        typer.Option(
            "--slice-metric",
            help="Metric the slice search ranks by (error_rate, false_negative_rate, ...).",
        ),
    ] = "error_rate",
    slices_file: Annotated[
        Path | None,
        typer.Option(
            "--slices-file", help="YAML file of business slices that are always reported."
        ),
    ] = None,
    policy: Annotated[
        list[str], typer.Option("--policy", help="Policy pack id or YAML file (repeatable).")
    ] = [],  # noqa: B006
    attestations: Annotated[
        Path | None, typer.Option("--attestations", help="Filled attestation questionnaire (YAML).")
    ] = None,
    waivers: Annotated[Path | None, typer.Option("--waivers", help="Waivers file (YAML).")] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="A previous assessment.json to compare against."),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write the signed PDF report.")
    ] = False,
    pack: Annotated[
        bool, typer.Option("--pack", help="Also write the regulator submission pack.")
    ] = False,
    sign_key: Annotated[
        Path | None, typer.Option("--sign-key", help="PKCS#12 or PEM key for signing.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("assessment-out"),
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an --out directory this tool did not write, and everything in it "
            "(one it wrote, holding assessment.json, is always replaced whole; never the "
            "working directory or one holding an input).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Assess a model (or its outputs) for fairness per protected slice, and optionally privacy."""
    from compliance.progress import Progress
    from compliance.runner import run_assessment
    from compliance.spec import AssessSpec
    from compliance.summary import print_summary

    if task not in ("binary", "regression"):
        fail(f"--task must be binary or regression, got {task!r}")
    if correction not in ("holm", "fdr_bh"):
        fail(f"--correction must be holm or fdr_bh, got {correction!r}")
    for name, value, allowed in (
        ("--fair-priority", fair_priority, ("benefit", "harm")),
        ("--fair-impact", fair_impact, ("normal", "significant", "selective")),
        ("--fair-concern", fair_concern, ("eligible", "inclusive", "both")),
    ):
        if value not in allowed:
            fail(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    spec = AssessSpec(
        data=data, target=target, protected=_split(protected), out=out, model=model,
        predictions_column=predictions_column, scores_column=scores_column,
        positive_label=positive_label, task=task,  # type: ignore[arg-type]
        bootstrap=bootstrap, seed=seed, depth=depth, min_slice_size=min_slice_size,
        min_cell=min_cell, bins=_parse_bins(bins), quantile_bins=quantile_bins,
        reference=_parse_mapping(reference, "--reference"),
        correction=correction,  # type: ignore[arg-type]
        fair_priority=fair_priority,  # type: ignore[arg-type]
        fair_impact=fair_impact,  # type: ignore[arg-type]
        fair_concern=fair_concern,  # type: ignore[arg-type]
        positive_label_favourable=not positive_label_unfavourable,
        trust_types=list(trust_type), trust_pickle=trust_pickle, overwrite=overwrite,
        train=train, population=population, attacks=_split(attacks),
        reference_models=reference_models, jobs=jobs, sensitive=_split(sensitive), recipe=recipe,
        dp_epsilons=list(dp_epsilon), dp_delta=dp_delta,
        find_slices=find_slices, slice_depth=slice_depth, slice_metric=slice_metric,
        slices_file=slices_file, proxies=proxies, policies=list(policy), attestations=attestations,
        waivers=waivers, baseline=baseline, report=report, pack=pack, sign_key=sign_key,
        command=["compliance", *sys.argv[1:]],
    )  # fmt: skip
    progress = Progress(enabled=not quiet)
    assessment = run_assessment(spec, progress=progress)
    print_summary(assessment, out_dir=out)


@app.command()
def schema() -> None:
    """Print the JSON Schema of assessment.json."""
    from compliance.assessment import json_schema

    typer.echo(json_schema())


@app.command()
@handle_errors
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("demo-out"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap draws.")] = 1000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """The main job, offline: train a model on bundled Adult data and assess it end to end."""
    from compliance.demo import run_demo

    run_demo(out=out, bootstrap=bootstrap, quiet=quiet)


def _register_extensions() -> None:
    """Command groups that live in their own modules (each imports lightly)."""
    from compliance import cli_gate, cli_reports

    cli_gate.register(app)
    cli_reports.register(app)


_register_extensions()


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m compliance.cli`
    main()
