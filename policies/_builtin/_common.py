"""Small helpers shared by the built-in checks: reading evidence defensively, wording."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from compliance.evidence.fairness import FairnessSection, SliceResult
from compliance.wording import RATE_METRICS, metric_words

if TYPE_CHECKING:
    from reports._format import Suppression

UNBOUNDED_METRICS = ("mean_absolute_error", "root_mean_squared_error", "mean_prediction")
"""A regression's metrics that are not rates: a gap between groups may exceed 1."""
PARITY_METRICS = (*RATE_METRICS, "roc_auc", *UNBOUNDED_METRICS, "scoring_rate")
"""The metrics the fairness engine compares between groups (`Disparity.metric`): a
classifier's rates and ROC AUC, a regression's errors, mean prediction and scoring rate
(compliance.fairness.DISPARITY_METRICS and compliance.regression_comparisons.TERMS, kept
here so the gate imports no engine; a test holds them equal)."""
PERFORMANCE_METRICS = (
    "accuracy", "balanced_accuracy", "roc_auc", "precision", "true_positive_rate",
    "true_negative_rate", "negative_predictive_value",
)  # fmt: skip
"""Per-group performance metrics where higher is better (the data and model review)."""


def known_name(value: str, allowed: Iterable[str], what: str = "metric") -> str:
    """`value` when it is among `allowed`; else a ValueError listing them (a pack that
    misspells a metric is refused when it is loaded, not read as missing evidence)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r} (known: {', '.join(allowed)})")
    return value


def words(metric: str) -> str:
    return metric_words(metric)


def slice_name(attributes: Mapping[str, str]) -> str:
    """`{'sex': 'Female', 'race': 'Black'}` → `sex=Female, race=Black`."""
    return ", ".join(f"{k}={v}" for k, v in attributes.items()) or "everyone"


def dimension_of(attributes: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(sorted(attributes))


def num(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def pvalue(value: float | None) -> str:
    """A p-value as people read it: `p=0.032`, `p<0.0001`."""
    if value is None or not math.isfinite(value):
        return "p n/a"
    return "p<0.0001" if value < 1e-4 else f"p={value:.4f}"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def size(n: int | str | None, min_cell: int) -> int | str | None:
    """A group size or cell count as a finding may show it, in its message or `measured`.

    Under the minimum cell size the number itself is suppressed: 'fewer than 10'
    (DESIGN: slice counts under a minimum cell size are suppressed). Words (an already
    suppressed count) and None pass through.
    """
    if n is None or isinstance(n, str) or n >= min_cell:
        return n
    return f"fewer than {min_cell}"


def n_text(n: int | str | None, min_cell: int) -> str:
    """`n=1234`, or `n fewer than 10` under the minimum cell size."""
    shown = size(n, min_cell)
    return f"n {shown}" if isinstance(shown, str) else f"n={'n/a' if shown is None else shown}"


SECONDARY = "suppressed"
"""A figure hidden only to protect a small one (the report's word for it)."""


class Disclosure:
    """What a finding may print of the fairness evidence: what the report's tables print.

    The report hides a group size under the minimum cell size and, by complementary
    suppression, the sizes that would give it back by subtraction
    (`reports._format.fairness_suppression`); it prints a rate only when its numerator,
    complement and denominator are at least the cell size and the group's size is printed
    (`Suppression.shown`). A finding follows the same rules, so the report and the finding
    together give nothing back. The report's module is imported here, not at the top: the
    gate pays for it only when a fairness check runs.
    """

    def __init__(self, fairness: FairnessSection) -> None:
        from reports._format import fairness_suppression

        self.fairness = fairness
        self.min_cell = fairness.min_cell
        self.supp: Suppression = fairness_suppression(fairness)

    def size(self, s: SliceResult | None, n: int | None = None) -> int | str | None:
        """A slice's size as the tables print it: the number, 'fewer than 10' or
        'suppressed' (hidden to protect a small one)."""
        n = s.n if s is not None else n
        if n is None or n < self.min_cell:
            return size(n, self.min_cell)
        if s is not None and self.supp.hides(slice_key(s.attributes), "n"):
            return SECONDARY
        return n

    def shown(self, s: SliceResult | None, metric: str) -> bool:
        """Whether slice `s`'s `metric` (or a figure worked out from it) may be printed."""
        return s is not None and self.supp.shown(s, metric)

    def value(self, s: SliceResult | None, metric: str) -> float | None:
        return metric_value(s, metric) if s is not None and self.shown(s, metric) else None

    def bases(self, metric: str, slices: Iterable[SliceResult]) -> dict[Key, int | str]:
        """Each slice's rate base (the rows its `metric` rests on: its actual positives for
        the true positive rate) as a finding may print it.

        Printed only where the slice's rate is; and since the bases of sibling slices add up
        to their parent's (race = A's positives are those of its age groups), a hidden base
        gets companions until no subtraction gives it back (`reports._format.protect`)."""
        from compliance.metric_names import PROPORTIONS
        from reports._format import protect, sibling_groups

        slices = list(slices)
        cells = PROPORTIONS.get(metric, (None, None))[1]
        values = {(k, "base"): v for k, v in raw_bases(metric, slices).items()}
        primary = [(slice_key(s.attributes), "base") for s in slices if not self.shown(s, metric)]
        groups = [
            g
            for g in sibling_groups((slice_key(s.attributes) for s in slices), ["base"])
            if g[0] in values and all(e in values for e in g[1])
        ]
        if cells is None:  # a base that is not a sum (the group's size, min(pos, neg))
            groups = []
        hidden = protect(values, primary, groups, min_cell=self.min_cell)
        out: dict[Key, int | str] = {}
        for (key, _), v in values.items():
            if v < self.min_cell:
                out[key] = f"fewer than {self.min_cell}"
            else:
                out[key] = SECONDARY if (key, "base") in hidden else v
        return out


Key = tuple[tuple[str, str], ...]


def raw_bases(metric: str, slices: Iterable[SliceResult]) -> dict[Key, int]:
    """Each slice's rate base from its counts (its actual positives for the true positive
    rate); the group's size for a metric that is not one share of the counts."""
    from compliance.metric_names import CELLS, PROPORTIONS

    cells = PROPORTIONS.get(metric, (None, None))[1]
    out: dict[Key, int] = {}
    for s in slices:
        if cells is not None and all(CELLS[i] in s.counts for i in cells):
            out[slice_key(s.attributes)] = sum(s.counts[CELLS[i]] for i in cells)
        else:
            out[slice_key(s.attributes)] = s.n
    return out


def slice_key(attributes: Mapping[str, str]) -> Key:
    """The report's key of a slice (`reports._format.slice_key`)."""
    return tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`count(1, 'slice')` → `1 slice`; `count(3, 'category', 'categories')` → `3 categories`."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def listing(items: list[str], limit: int = 6) -> str:
    if len(items) <= limit:
        return "; ".join(items)
    return "; ".join(items[:limit]) + f"; and {len(items) - limit} more"


def judged_slices(fairness: FairnessSection, *, include_intersections: bool) -> list[SliceResult]:
    """Protected slices (single attributes, and intersections when asked), overall excluded."""
    out = []
    for s in fairness.slices:
        if not s.attributes:
            continue
        if len(s.attributes) > 1 and not include_intersections:
            continue
        out.append(s)
    return out


def metric_value(s: SliceResult, metric: str) -> float | None:
    est = s.metrics.get(metric)
    return None if est is None else est.value


def selected_count(s: SliceResult) -> int | None:
    """How many of the slice were predicted positive (selected)."""
    c = s.counts
    if "tp" in c and "fp" in c:
        return int(c["tp"]) + int(c["fp"])
    for key in ("selected", "predicted_positive", "n_selected"):
        if key in c:
            return int(c[key])
    rate = metric_value(s, "selection_rate")
    if rate is None:
        return None
    return round(rate * s.n)


def positive_label_count(s: SliceResult) -> int | None:
    """How many of the slice carry the positive label."""
    c = s.counts
    if "tp" in c and "fn" in c:
        return int(c["tp"]) + int(c["fn"])
    for key in ("positives", "label_positive", "n_positive"):
        if key in c:
            return int(c[key])
    return None


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (no scipy: the gate stays light)."""
    if n1 <= 0 or n2 <= 0:
        return None
    p = (x1 + x2) / (n1 + n2)
    var = p * (1 - p) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values, None kept in place."""
    indexed = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    m = len(indexed)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def section_items(obj: Any, *names: str) -> list[dict[str, Any]] | None:
    """The first present, non-None attribute of `obj` among `names`, as a list of dicts.

    Evidence sections grow as other engines land; a check reads them by name and treats
    an absent section as missing evidence instead of failing.
    """
    if obj is None:
        return None
    for name in names:
        value = getattr(obj, name, None)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            return [_as_dict(v) for v in value]
        return [_as_dict(value)]
    return None


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "model_dump"):
        dumped = value.model_dump()
        return dumped if isinstance(dumped, dict) else {"value": dumped}
    if isinstance(value, dict):
        return value
    return {"value": value}


def first_number(item: Mapping[str, Any], *keys: str) -> float | None:
    """The first key of `item` holding a finite number (an Estimate's value counts)."""
    for key in keys:
        v = item.get(key)
        if isinstance(v, Mapping):
            v = v.get("value")
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float) and math.isfinite(v):
            return float(v)
    return None


def names(items: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(i.get("name") or i.get("attack") or i.get("attribute") or "?") for i in items]
