"""A readable terminal summary of an assessment: the worst slices first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from compliance.assessment import Assessment
from compliance.metric_names import favourable_direction
from compliance.wording import PERCENT_METRICS


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.3g}"


def _ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _with_ci(
    fmt: Callable[[float | None], str],
    value: float | None,
    low: float | None,
    high: float | None,
    label: str = "",
    sep: str = " ",
) -> str:
    """'0.82 (0.75-0.90)', or the value alone when it has no interval (--bootstrap 0)."""
    if value is None:
        return "—"
    if low is None or high is None:
        return fmt(value)
    return f"{fmt(value)}{sep}({label}{fmt(low)}–{fmt(high)})"


def _slice_name(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in attrs.items()) or "everyone"


def print_summary(assessment: Assessment, *, out_dir: Path | None = None, top: int = 10) -> None:
    """Print the primary metric per slice (worst first) and where the files are."""
    from rich import box
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
            f"Overall: {_with_ci(fmt, overall.value, overall.ci_low, overall.ci_high, '95% CI ')}"
            f", n = {fair.overall.n:,}"
        )
        higher_better = favourable_direction(
            metric, sel.positive_label_favourable if sel is not None else True
        )
        compared = [d for d in fair.disparities if d.metric == metric and d.reference != "overall"]
        # a rate resting on fewer people than the minimum slice size is not judged: not ranked
        rows = [d for d in compared if (d.n_denominator or 0) >= fair.min_slice_size]
        unranked = len(compared) - len(rows)
        # worst first: the smallest ratio to the best-served group, or the largest where a
        # lower value serves people better (an error rate)
        rows.sort(
            key=lambda d: (
                (1.0 if d.ratio.value is None else d.ratio.value) * (1 if higher_better else -1)
            )
        )
        against = "the reference group" if fair.reference else "the best-served group"
        if fair.reference and not all(a in fair.reference for a in fair.protected):
            against = "the reference or best-served group"
        table = Table(
            title=f"Worst slices by {metric.replace('_', ' ')} (against {against})",
            box=box.SIMPLE_HEAD,
        )
        for col in ("slice", "n", "value (95% CI)", "reference", "ratio (95% CI)", "p adj."):
            # figures wrap, never cut: a piped or 80-column terminal cut the interval short
            table.add_column(
                col,
                justify="right" if col != "slice" else "left",
                overflow="fold",
                min_width=13 if col == "value (95% CI)" else None,
            )
        by_attrs = {tuple(sorted(s.attributes.items())): s for s in fair.slices}
        for d in rows[:top]:
            s = by_attrs[tuple(sorted(d.slice.items()))]
            est = s.metrics[metric]
            ref = d.reference if isinstance(d.reference, str) else _slice_name(d.reference)
            table.add_row(
                _slice_name(d.slice),
                "<" + str(fair.min_cell) if s.suppressed and s.n < fair.min_cell else f"{s.n:,}",
                _with_ci(fmt, est.value, est.ci_low, est.ci_high, sep="\n"),
                ref,
                _with_ci(_ratio, d.ratio.value, d.ratio.ci_low, d.ratio.ci_high, sep="\n"),
                "—"
                if d.p_adjusted is None
                else f"{d.p_adjusted:.3g}" + (" *" if d.significant else ""),
            )
        if rows:
            console.print(table)
        else:
            console.print(f"No comparison by {metric.replace('_', ' ')} could be ranked.")
        if unranked:
            console.print(
                f"{unranked} comparison(s) rest on fewer than {fair.min_slice_size} people: "
                "not judged, not ranked."
            )
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
        # what needs action: failures, warnings, and blocking checks that had no data
        shown = [
            f
            for f in findings
            if f.status in ("fail", "warn")
            or (f.status == "insufficient_data" and f.severity == "blocking")
        ]
        for f in shown:
            mark = "" if f.severity == "blocking" else " (advisory)"
            status = "NO DATA" if f.status == "insufficient_data" else f.status.upper()
            console.print(
                f"  {status:5} {f.pack}/{f.check}{mark}: {f.title}. {f.message}",
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
