"""A readable terminal summary of an assessment: the worst slices first."""

from __future__ import annotations

from pathlib import Path

from compliance.assessment import Assessment
from compliance.metrics import HIGHER_IS_BETTER, OUTCOME_METRICS
from compliance.wording import PERCENT_METRICS


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def _slice_name(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in attrs.items()) or "everyone"


def print_summary(assessment: Assessment, *, out_dir: Path | None = None, top: int = 10) -> None:
    """Print the primary metric per slice (worst first) and where the files are."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    fair = assessment.fairness
    metric = fair.primary_metric if fair is not None else None
    if fair is not None and fair.task == "regression":
        metric = "mean_absolute_error"  # no metric selection for a model that predicts a number
    if fair is not None and metric and metric in fair.overall.metrics:
        sel = fair.metric_selection
        console.print(
            f"[bold]Primary fairness metric:[/bold] {metric.replace('_', ' ')}"
            + (f" ({sel.parity_metric.replace('_', ' ')})" if sel else "")
        )
        fmt = _pct if metric in PERCENT_METRICS else _num
        overall = fair.overall.metrics[metric]
        console.print(
            f"Overall: {fmt(overall.value)} "
            f"(95% CI {fmt(overall.ci_low)}–{fmt(overall.ci_high)}), n = {fair.overall.n:,}"
        )
        higher_better = HIGHER_IS_BETTER.get(metric, True)
        if sel is not None and metric in OUTCOME_METRICS and not sel.positive_label_favourable:
            higher_better = False
        rows = [d for d in fair.disparities if d.metric == metric and d.reference != "overall"]
        reliable = [d for d in rows if (d.n_denominator or 0) >= fair.min_slice_size]
        rows = reliable + [d for d in rows if d not in reliable]
        # worst first: the smallest ratio to the best-served group, or the largest where a
        # lower value serves people better (an error rate)
        rows.sort(
            key=lambda d: (
                (d.n_denominator or 0) < fair.min_slice_size,
                (1.0 if d.ratio.value is None else d.ratio.value) * (1 if higher_better else -1),
            )
        )
        table = Table(
            title=f"Worst slices by {metric.replace('_', ' ')} (against the best-served group)"
        )
        for col in ("slice", "n", "value (95% CI)", "reference", "ratio (95% CI)", "p adj."):
            table.add_column(col, justify="right" if col != "slice" else "left")
        by_attrs = {tuple(sorted(s.attributes.items())): s for s in fair.slices}
        for d in rows[:top]:
            s = by_attrs[tuple(sorted(d.slice.items()))]
            est = s.metrics[metric]
            ref = d.reference if isinstance(d.reference, str) else _slice_name(d.reference)
            table.add_row(
                _slice_name(d.slice),
                "<" + str(fair.min_cell) if s.suppressed and s.n < fair.min_cell else f"{s.n:,}",
                f"{fmt(est.value)} ({fmt(est.ci_low)}–{fmt(est.ci_high)})",
                ref,
                "—"
                if d.ratio.value is None
                else f"{d.ratio.value:.2f} ({d.ratio.ci_low or 0:.2f}–{d.ratio.ci_high or 0:.2f})",
                "—"
                if d.p_adjusted is None
                else f"{d.p_adjusted:.3g}" + (" *" if d.significant else ""),
            )
        console.print(table)
        insufficient = [s for s in fair.slices if s.status == "insufficient_data"]
        if insufficient:
            console.print(
                f"{len(insufficient)} slice(s) under {fair.min_slice_size} rows: "
                "insufficient data, not judged."
            )
    if assessment.discovery is not None:
        from compliance.evidence.discovery import discovery_lines

        lines = discovery_lines(
            assessment.discovery, min_cell=fair.min_cell if fair is not None else 10
        )
        if lines:
            console.print("[bold]Slices where the model fails, proxies and attribute use[/bold]")
            for line in lines:
                console.print(f"  {line}", highlight=False, soft_wrap=True)
    if assessment.privacy is not None:
        from compliance.evidence.privacy import privacy_lines

        lines = privacy_lines(assessment.privacy)
        if lines:
            console.print("[bold]Privacy[/bold]")
            for line in lines:
                console.print(f"  {line}", highlight=False, soft_wrap=True)
    if assessment.policy is not None:
        console.print(f"[bold]Policy verdict:[/bold] {assessment.policy.verdict}")
        findings = assessment.policy.findings
        shown = [f for f in findings if f.status in ("fail", "warn")]
        for f in shown:
            mark = "" if f.severity == "blocking" else " (advisory)"
            console.print(
                f"  {f.status.upper():5} {f.pack}/{f.check}{mark}: {f.title}. {f.message}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        waiting = [f for f in findings if f.status == "open"]
        if waiting:
            packs = " ".join(f"--policy {pack}" for pack in dict.fromkeys(f.pack for f in waiting))
            console.print(
                f"  OPEN  {len(waiting)} check(s) wait for a person's answer "
                f"({', '.join(f'{f.pack}/{f.check}' for f in waiting)}): "
                f"`compliance attest init {packs}` writes the questionnaire.",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        if shown or waiting:
            console.print("  Every check, with its figures: `compliance gate` on the assessment.")
    for w in assessment.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    if out_dir is not None:
        console.print(f"Assessment written to [bold]{out_dir / 'assessment.json'}[/bold]")
