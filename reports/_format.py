"""Pure formatting for the report: numbers in words, percentages with margins, suppression.

Small counts are protected here, in one place: every count the report or a CSV prints goes
through `count_text`/`count_cell`, and every rate through `displayable`, which hides a rate
whose numerator, complement or denominator is under the minimum cell size (a rate and its
group size would otherwise give the small count back).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from compliance.evidence._base import Estimate
from compliance.metrics import CELLS, PROPORTIONS
from compliance.wording import METRIC_WORDS as METRIC_LABELS
from compliance.wording import PERCENT_METRICS, metric_words

__all__ = [
    "METRIC_LABELS",
    "PERCENT_METRICS",
    "count_cell",
    "count_text",
    "displayable",
    "estimate_text",
    "group_text",
    "metric_label",
    "number",
    "value_text",
]

# (numerator cells, denominator cells) of each proportion, by cell name.
_PROPORTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    metric: (tuple(CELLS[i] for i in num), tuple(CELLS[i] for i in den))
    for metric, (num, den) in PROPORTIONS.items()
}


def metric_label(name: str) -> str:
    return metric_words(name)


def number(n: int | float) -> str:
    """1240 → '1,240'."""
    return f"{round(n):,}"


def count_text(n: int | None, min_cell: int) -> str:
    """A count for prose: the number, or 'fewer than 10' when under the minimum cell size."""
    if n is None:
        return "an unknown number of"
    return f"fewer than {min_cell}" if n < min_cell else number(n)


def count_cell(n: int | None, min_cell: int) -> str:
    """A count for a table cell: the number, or '<10' when under the minimum cell size."""
    if n is None:
        return "—"
    return f"<{min_cell}" if n < min_cell else number(n)


def displayable(metric: str, counts: Mapping[str, int], n: int, min_cell: int) -> bool:
    """Whether a slice's `metric` can be printed without revealing a count under `min_cell`."""
    if n < min_cell:
        return False
    if not counts:
        return True
    if metric in _PROPORTIONS:
        num_cells, den_cells = _PROPORTIONS[metric]
        num = sum(counts.get(c, 0) for c in num_cells)
        den = sum(counts.get(c, 0) for c in den_cells)
        return min(num, den - num, den) >= min_cell
    if metric == "scoring_rate" and "scored_above_median" in counts:
        above = counts["scored_above_median"]
        return min(above, n - above) >= min_cell
    if metric in ("roc_auc", "balanced_accuracy"):
        pos = counts.get("fn", 0) + counts.get("tp", 0)
        neg = counts.get("tn", 0) + counts.get("fp", 0)
        inner = [counts.get(c, 0) for c in CELLS] if metric == "balanced_accuracy" else []
        return min([pos, neg, *inner]) >= min_cell
    return True


def _decimals(lo: float | None, hi: float | None, scale: float) -> int:
    if lo is None or hi is None:
        return 1
    width = abs(hi - lo) * scale
    return 0 if width >= 3 else 1


def value_text(metric: str, value: float | None, *, decimals: int | None = None) -> str:
    """One value in the unit of its metric: '31%' for rates, '0.82' otherwise."""
    if value is None or not math.isfinite(value):
        return "undefined"
    if metric in PERCENT_METRICS:
        d = 1 if decimals is None else decimals
        return f"{value * 100:.{d}f}%"
    d = 2 if decimals is None else decimals + 2
    return f"{value:.{d}f}"


def estimate_text(metric: str, est: Estimate | None, *, ci_level: float = 0.95) -> str:
    """'31% (95% CI 28-34%)' or '0.82 (95% CI 0.80-0.84)', with an en dash."""
    if est is None or est.value is None:
        return "undefined"
    level = f"{ci_level * 100:g}% CI"
    if metric in PERCENT_METRICS:
        d = _decimals(est.ci_low, est.ci_high, 100)
        main = f"{est.value * 100:.{d}f}%"
        if est.ci_low is None or est.ci_high is None:
            return main
        return f"{main} ({level} {est.ci_low * 100:.{d}f}–{est.ci_high * 100:.{d}f}%)"
    main = f"{est.value:.2f}"
    if est.ci_low is None or est.ci_high is None:
        return main
    return f"{main} ({level} {_span(f'{est.ci_low:.2f}', f'{est.ci_high:.2f}')})"


def _span(low: str, high: str) -> str:
    """'0.38 (en dash) 0.41', or '-0.53 to -0.42' where a dash beside a minus sign misreads."""
    return f"{low} to {high}" if "-" in low + high else f"{low}–{high}"


def group_text(attributes: Mapping[str, Any] | str) -> str:
    """{'sex': 'Female', 'race': 'Black'} → 'sex = Female, race = Black'."""
    if isinstance(attributes, str):
        return "the whole population" if attributes == "overall" else attributes
    if not attributes:
        return "the whole population"
    return ", ".join(_pair(k, str(v)) for k, v in attributes.items())


def _pair(key: str, value: str) -> str:
    """'sex = Female'; a binned value reads as a range: 'age < 25', 'age 25 to < 40'."""
    if value[:1] in "<>≤≥" or " to " in value:
        return f"{key} {value}"
    return f"{key} = {value}"


def estimate_parts(metric: str, est: Estimate | None) -> tuple[str, str]:
    """('31%', '28-34%') for a table cell: the value and its interval, apart."""
    if est is None or est.value is None:
        return "undefined", ""
    if metric in PERCENT_METRICS:
        d = _decimals(est.ci_low, est.ci_high, 100)
        main = f"{est.value * 100:.{d}f}%"
        if est.ci_low is None or est.ci_high is None:
            return main, ""
        return main, f"{est.ci_low * 100:.{d}f}–{est.ci_high * 100:.{d}f}%"
    main = f"{est.value:.3f}"
    if est.ci_low is None or est.ci_high is None:
        return main, ""
    return main, _span(f"{est.ci_low:.3f}", f"{est.ci_high:.3f}")
