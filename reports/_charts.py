"""Charts for the report: matplotlib (Agg, imported lazily) → SVG → a data URI for an <img>."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Bar", "Interval", "bar_chart", "interval_chart", "roc_chart"]

INK = "#1f2a37"
ACCENT = "#1f5fa8"
WARN = "#b3261e"
MUTED = "#8a94a3"
SERIES = ("#1f5fa8", "#d9822b", "#2e8540", "#7b3fa0", "#b3261e", "#4a6572")


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: a label, a value and its confidence interval."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    flagged: bool = False


@dataclass(frozen=True)
class Bar:
    """One group of bars: a label and (series name, value) pairs."""

    label: str
    values: tuple[tuple[str, float], ...]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 8,
            "axes.edgecolor": MUTED,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
            # text as outlines: the chart looks the same whatever fonts the PDF renderer finds
            # (as <text>, long right-aligned labels were clipped at the left edge)
            "svg.fonttype": "path",
            "svg.hashsalt": "compliance-report",
        }
    )
    return plt


def _to_uri(fig: Any) -> str:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def interval_chart(
    rows: Sequence[Interval],
    *,
    xlabel: str,
    percent: bool,
    reference: float | None = None,
    reference_label: str = "",
    threshold: float | None = None,
    threshold_label: str = "",
) -> str:
    """Horizontal point-and-interval chart, one row per group; flagged rows in red."""
    plt = _pyplot()
    height = 0.6 + 0.28 * max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(6.4, height))
    scale = 100.0 if percent else 1.0
    for y, row in enumerate(reversed(rows)):
        colour = WARN if row.flagged else ACCENT
        if row.low is not None and row.high is not None:
            ax.plot([row.low * scale, row.high * scale], [y, y], color=colour, lw=2, alpha=0.55)
        ax.plot([row.value * scale], [y], "o", color=colour, ms=4.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r.label for r in reversed(rows)])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    if reference is not None and math.isfinite(reference):
        ax.axvline(reference * scale, color=MUTED, lw=1, ls="-")
        ax.annotate(reference_label, (reference * scale, len(rows) - 0.45), color=MUTED,
                    fontsize=7, ha="left", xytext=(3, 0), textcoords="offset points")  # fmt: skip
    if threshold is not None and math.isfinite(threshold):
        ax.axvline(threshold * scale, color=WARN, lw=1, ls="--")
        ax.annotate(threshold_label, (threshold * scale, -0.6), color=WARN, fontsize=7,
                    ha="right", xytext=(-3, 0), textcoords="offset points")  # fmt: skip
    ax.set_xlabel(xlabel + (" (%)" if percent else ""))
    ax.grid(axis="x", color="#e5e8ec", lw=0.6)
    ax.set_axisbelow(True)
    return _to_uri(fig)


def _thin(points: list[tuple[float, float]], *, step: float = 0.01) -> list[tuple[float, float]]:
    """Keep the points of a log-log curve that move at least `step` decades (and the ends).

    A ROC curve on thousands of records has thousands of steps; the eye sees a few hundred.
    """
    if len(points) <= 2:
        return points
    kept = [points[0]]
    for f, t in points[1:-1]:
        lf, lt = math.log10(kept[-1][0]), math.log10(kept[-1][1])
        if abs(math.log10(f) - lf) >= step or abs(math.log10(t) - lt) >= step:
            kept.append((f, t))
    kept.append(points[-1])
    return kept


def roc_chart(curves: Sequence[tuple[str, Sequence[tuple[float, float]]]]) -> str:
    """ROC curves on log-log axes, with the 1% and 0.1% false-positive-rate marks."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    floor = 1e-4
    for i, (name, points) in enumerate(curves):
        pts = _thin(sorted((max(f, floor), max(t, floor)) for f, t in points))
        if not pts:
            continue
        xs, ys = zip(*pts, strict=True)
        ax.plot(xs, ys, color=SERIES[i % len(SERIES)], lw=1.5, label=name, drawstyle="steps-post")
    grid = [floor * (1 / floor) ** (k / 50) for k in range(51)]
    ax.plot(grid, grid, color=MUTED, lw=1, ls=":", label="random guess")
    for fpr, label in ((0.01, "1% FPR"), (0.001, "0.1% FPR")):
        ax.axvline(fpr, color=WARN, lw=0.8, ls="--")
        ax.annotate(label, (fpr, 1.0), color=WARN, fontsize=7, rotation=90, ha="right",
                    va="top", xytext=(-2, -2), textcoords="offset points")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor, 1)
    ax.set_ylim(floor, 1.05)
    ax.set_xlabel("false positive rate (non-members flagged as members)")
    ax.set_ylabel("true positive rate (members found)")
    ax.grid(which="major", color="#e5e8ec", lw=0.6)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)
    return _to_uri(fig)


def bar_chart(groups: Sequence[Bar], *, ylabel: str, percent: bool) -> str:
    """Grouped horizontal bars: one group per label, one bar per series."""
    plt = _pyplot()
    series: list[str] = []
    for g in groups:
        for name, _ in g.values:
            if name not in series:
                series.append(name)
    fig, ax = plt.subplots(figsize=(6.0, 0.5 + 0.55 * len(groups) * max(len(series), 1) / 2))
    height = 0.8 / max(len(series), 1)
    scale = 100.0 if percent else 1.0
    for j, name in enumerate(series):
        ys, ws = [], []
        for i, g in enumerate(reversed(groups)):
            for sname, v in g.values:
                if sname == name and v is not None and math.isfinite(v):
                    ys.append(i + 0.4 - height * (j + 0.5))
                    ws.append(v * scale)
        ax.barh(ys, ws, height=height * 0.9, color=SERIES[j % len(SERIES)], label=name)
        for y, w in zip(ys, ws, strict=True):
            label = f"{w:.1f}" + ("%" if percent else "")
            ax.annotate(label, (w, y), xytext=(2, 0), textcoords="offset points", va="center",
                        fontsize=6.5, color=INK)  # fmt: skip
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([g.label for g in reversed(groups)])
    ax.set_xlabel(ylabel + (" (%)" if percent else ""))
    ax.set_xlim(0, 100 * 1.12 if percent else None)
    ax.grid(axis="x", color="#e5e8ec", lw=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _to_uri(fig)


def image_uri(png: bytes) -> str:
    """A PNG as a data URI (inversion reconstructions)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
