"""Pure formatting for the report: numbers in words, percentages with margins, suppression.

Small counts are protected here, in one place. Primary suppression: every count the report
or a CSV prints goes through `count_text`/`count_cell` (or `Suppression.cell`/`csv`), and
every rate through `displayable`, which hides a rate whose numerator, complement or
denominator is under the minimum cell size (a rate and its group size would otherwise give
the small count back).

Complementary (secondary) suppression: a hidden count must not come back by subtraction
from the counts printed beside it, nor be pinned down by them together with what its mark
says ('<10': 0 to 9; 'suppressed': 10 or more). `protect` hides more counts until no sum a
reader can form has exactly one hidden term, or leaves a '<10' less than its whole range;
`fairness_suppression` applies it to the fairness tables, `exposure_suppression` to the
membership-inference groups, and `Suppression.shown` / `aggregate_shown` then say which
rates and aggregates can be printed. The report and the pack's CSV tables both ask these,
so they hide the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compliance.evidence._base import Estimate
from compliance.metric_names import AGGREGATES, CELLS, PROPORTIONS, REGRESSION_METRICS
from compliance.wording import METRIC_WORDS as METRIC_LABELS
from compliance.wording import PERCENT_METRICS, metric_words

if TYPE_CHECKING:
    from compliance.evidence.fairness import FairnessSection, GroupAggregate, SliceResult
    from compliance.evidence.privacy import AttackResult

__all__ = [
    "METRIC_LABELS",
    "PERCENT_METRICS",
    "SECONDARY",
    "Suppression",
    "count_cell",
    "count_text",
    "displayable",
    "estimate_text",
    "exposure_shown",
    "exposure_suppression",
    "fairness_suppression",
    "group_text",
    "metric_label",
    "number",
    "protect",
    "sibling_groups",
    "slice_key",
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


# --------------------------------------------------------------- complementary suppression

Key = tuple[tuple[str, str], ...]
"""A slice's attribute values, sorted by attribute; () is the whole population."""
Entry = tuple[Key, str]
"""One published count: a slice and a column ('n', 'members', 'found', ...)."""
Group = tuple[Entry, tuple[Entry, ...]]
"""A published total and the published parts that add up to it."""

SECONDARY = "suppressed"
"""How a count reads that is hidden only to protect another (it is not under the cell size)."""

# (numerator counts, denominator counts) of each rate, by count name.
_RATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **_PROPORTIONS,
    "scoring_rate": (
        ("scored_above_median",),
        ("scored_above_median", "scored_not_above_median"),
    ),
}
# Other functions of the counts (not one share of them): hidden whenever a count is.
_COUNT_FUNCTIONS = frozenset({"count", "balanced_accuracy"})
_AGGREGATE_SUFFIXES = ("_difference", "_ratio")


def slice_key(attributes: Mapping[str, Any]) -> Key:
    """{'sex': 'Female', 'age': '< 25'} → (('age', '< 25'), ('sex', 'Female'))."""
    return tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


def sibling_groups(keys: Iterable[Key], columns: Sequence[str]) -> list[Group]:
    """The sums between slices that a reader can form, for each count in `columns`.

    Siblings are the slices that share all but one attribute value (race = Black with each
    of its age groups; every race on its own). Their counts add up to those of the slice
    without that attribute (race = Black; for one attribute, the whole population, key ()),
    since every value, '(missing)' included, is a slice of its own. A parent that is not
    among `keys` (nor the whole population) is not published, so it makes no sum.
    """
    ordered = list(dict.fromkeys(keys))
    present = {*ordered, ()}
    sets: dict[tuple[Key, str], list[Key]] = {}
    for key in ordered:
        for i, (attr, _) in enumerate(key):
            parent = key[:i] + key[i + 1 :]
            if parent in present:
                sets.setdefault((parent, attr), []).append(key)
    return [
        ((parent, col), tuple((k, col) for k in children))
        for (parent, _), children in sets.items()
        for col in columns
    ]


def _safe(
    values: Mapping[Entry, int],
    hidden: Collection[Entry],
    total: Entry,
    parts: Sequence[Entry],
    min_cell: int,
) -> bool:
    """Whether no hidden count of one sum can be worked out, or pinned down past its mark.

    A reader knows the sum's total when it is printed, its printed parts, that a count
    marked '<10' is 0 to 9 and that one marked 'suppressed' is at least 10. The sum is safe
    when nothing in it is hidden; never when exactly one entry is (the total less the
    other parts gives it back); when its total is hidden along with a part; and otherwise
    when its hidden parts still leave every '<10' among them the whole range 0 to 9: for
    hidden parts adding up to T, h of them, k marked 'suppressed', T - 10k >= 9 when k > 0
    (a '<10' is at most T - 10k), and 9 <= T <= 9(h - 1) when k = 0 (with min_cell 10).
    """
    n_hidden = sum(e in hidden for e in (total, *parts))
    if n_hidden == 0:
        return True
    if n_hidden == 1:
        return False
    if total in hidden:
        return True
    gone = [values.get(e, 0) for e in parts if e in hidden]
    small = [v for v in gone if v < min_cell]
    if not small:
        return True
    k = len(gone) - len(small)
    t = sum(gone)
    if k:
        return t - min_cell * k >= min_cell - 1
    return min_cell - 1 <= t <= (min_cell - 1) * (len(gone) - 1)


def protect(
    values: Mapping[Entry, int],
    hidden: Iterable[Entry],
    groups: Sequence[Group],
    *,
    min_cell: int,
    fixed: Collection[Entry] = (),
) -> frozenset[Entry]:
    """Complementary suppression: the `hidden` entries and those hidden to protect them.

    A group is a total and the parts that add up to it. While a group is not `_safe`, its
    smallest printed part is hidden too (its total, when no part is left). Exactly one
    hidden entry thus always gets a second, the next-smallest; and a '<10' hidden beside
    counts that are barely over the cell size gets more: ages 4 ('<10') and 11 hidden
    under a known total leave 15 with the 11 at least 10, so the '<10' at most 5; a third
    sibling is hidden too. A newly hidden entry
    is checked in its other groups in turn, until every group is safe. Entries in `fixed`
    are printed elsewhere anyway, so they are never chosen. Ties go to the first listed.
    """
    out = set(hidden)
    changed = True
    while changed:
        changed = False
        for total, parts in groups:
            if _safe(values, out, total, parts, min_cell):
                continue
            free = [e for e in parts if e not in out and e not in fixed]
            if not free and total not in out and total not in fixed:
                free = [total]
            if free:
                out.add(min(free, key=lambda e: values.get(e, 0)))
                changed = True
    return frozenset(out)


@dataclass(frozen=True)
class Suppression:
    """The counts hidden in a set of tables, primary and complementary, by (slice, column)."""

    min_cell: int
    hidden: frozenset[Entry] = frozenset()

    def hides(self, key: Key, column: str) -> bool:
        return (key, column) in self.hidden

    def mark(self, key: Key, column: str, value: int | None) -> str | None:
        """'<10' for a count under the cell size, 'suppressed' for one hidden to protect
        another, None for a count that can be printed (or is unknown)."""
        if value is None:
            return None
        if value < self.min_cell:
            return f"<{self.min_cell}"
        return SECONDARY if (key, column) in self.hidden else None

    def cell(self, key: Key, column: str, value: int | None) -> str:
        """A count for a report table: '1,240', '<10' or 'suppressed' ('—' when unknown)."""
        if value is None:
            return "—"
        return self.mark(key, column, value) or number(value)

    def csv(self, key: Key, column: str, value: int | None) -> str:
        """A count for a CSV: '1240', '<10' or 'suppressed' ('' when unknown)."""
        if value is None:
            return ""
        return self.mark(key, column, value) or str(value)

    def shown(self, s: SliceResult, metric: str) -> bool:
        """Whether slice `s`'s `metric` can be printed without giving a hidden count back.

        Printed only when `displayable` (no numerator, complement or denominator under the
        cell size) and, for a function of the counts (a rate, the balanced accuracy) or a
        regression's metric, when the group's size is printed: a rate to six digits beside
        its interval narrows a hidden size to a few values, and the size then gives back a
        small sibling's; a regression's MAE, RMSE and the MAE's normal interval give its
        standard deviation and so its size, as does a Welch test's degrees of freedom.
        Scores (ROC AUC, Brier, calibration) do not follow from the counts and stay printed.
        Slices with insufficient data: never.
        """
        if s.status != "ok" or not displayable(metric, s.counts, s.n, self.min_cell):
            return False
        if (slice_key(s.attributes), "n") not in self.hidden:
            return True
        return (
            metric not in _RATES
            and metric not in _COUNT_FUNCTIONS
            and metric not in REGRESSION_METRICS
        )

    def aggregate_shown(self, fairness: FairnessSection, aggregate: GroupAggregate) -> bool:
        """Whether a between-group aggregate can be printed.

        An aggregate (a difference max - min or a ratio min / max of one rate over the
        groups of a dimension with enough data) is printed only when that rate is printed
        for every one of those groups: it is then worked out from printed figures and adds
        nothing. Otherwise it rests on a hidden rate and can give it back: an equalized
        odds ratio of 0.00 says some group's false-positive count is 0. One of unknown make
        is printed only when no count of those groups is hidden.
        """

        base = aggregate.name
        for suffix in _AGGREGATE_SUFFIXES:
            base = base.removesuffix(suffix)
        dim = set(aggregate.dimension)
        groups = [s for s in fairness.slices if s.status == "ok" and set(s.attributes) == dim]
        metrics = AGGREGATES.get(base)
        if metrics is None and base in REGRESSION_METRICS:
            metrics = (base,)  # a regression metric's spread over the groups
        if metrics is None:
            return not any(
                self.hides(slice_key(s.attributes), c) for s in groups for c in ("n", *s.counts)
            )
        return all(self.shown(s, m) for s in groups for m in metrics)

    def aggregate_note(self) -> str:
        return f"suppressed: rests on a group with a count under {self.min_cell}"


def fairness_suppression(fairness: FairnessSection) -> Suppression:
    """The group sizes to hide in the fairness tables, whole population included.

    The report and the pack print each slice's group size and its rates, not its confusion
    counts (those stay in assessment.json for the auditor): a table of every cell of every
    intersection forms so many sums that protecting its small counts hid the rates of
    groups as large as 1,561 people. Primary: every group size under `min_cell`.
    Complementary (`protect`): the sizes of sibling slices add up to their parent's
    (`sibling_groups`: the age groups of race = Amer-Indian-Eskimo add up to that race, the
    races to the whole population), so a lone hidden size gets a second, and more while a
    '<10' could still be narrowed. The whole population's size is printed throughout and
    never chosen. A rate is printed when `displayable` (its numerator, complement and
    denominator at least `min_cell`): see `Suppression.shown`.
    """
    values: dict[Entry, int] = {}
    for s in (fairness.overall, *fairness.slices):
        values[(slice_key(s.attributes), "n")] = s.n
    between = sibling_groups((slice_key(s.attributes) for s in fairness.slices), ["n"])
    groups = [g for g in between if g[0] in values and all(e in values for e in g[1])]
    primary = [e for e, v in values.items() if v < fairness.min_cell]
    hidden = protect(values, primary, groups, min_cell=fairness.min_cell, fixed={((), "n")})
    return Suppression(fairness.min_cell, hidden)


EXPOSURE_COLUMNS = ("members", "nonmembers", "found", "missed")


def exposure_suppression(attack: AttackResult, min_cell: int, fpr: str = "0.01") -> Suppression:
    """The membership-inference group counts to hide, for one attack: each group's members
    and non-members, and its members found and missed at the attack's `fpr` threshold.

    A group's TPR times its members is a count of people (6.8% of 74 members = 5), so the
    found and missed counts are printed whenever the TPR is. Primary: any of them under
    `min_cell`, and the found count of a group too small to judge (not printed, but the
    attack's total less the other groups' would give it). Complementary (`protect`):
    members = found + missed in each group, and each count adds up over the groups of one
    attribute to the attack's total (printed in the main table: never chosen). A group's
    TPR is printed only when neither its found nor its missed count is hidden.
    """
    values: dict[Entry, int] = {}
    primary: list[Entry] = []
    groups: list[Group] = []
    rows = [
        ((), attack.n_members, attack.n_nonmembers, attack.tpr_at_fpr.get(fpr)),
        *(
            (
                slice_key(s.attributes),
                s.n_members,
                s.n_nonmembers,
                None if s.insufficient else s.tpr_at_fpr.get(fpr),
            )
            for s in attack.slices
        ),
    ]
    for key, members, nonmembers, tpr in rows:
        found = None if tpr is None else round(tpr * members)
        values[(key, "members")] = members
        values[(key, "nonmembers")] = nonmembers
        # unknown (not printed, and not marked '<10'): sized as the smallest count that
        # is not small, so that `protect` reckons it no help to a small count beside it
        values[(key, "found")] = min_cell if found is None else found
        values[(key, "missed")] = min_cell if found is None else members - found
        if found is None:
            primary += [(key, "found"), (key, "missed")]
        groups.append(((key, "members"), ((key, "found"), (key, "missed"))))
    primary += [e for e, v in values.items() if e[0] != () and v < min_cell]
    keys = (slice_key(s.attributes) for s in attack.slices)
    groups += sibling_groups(keys, EXPOSURE_COLUMNS)
    fixed = {((), c) for c in EXPOSURE_COLUMNS}
    return Suppression(min_cell, protect(values, primary, groups, min_cell=min_cell, fixed=fixed))


def exposure_shown(supp: Suppression, attributes: Mapping[str, Any]) -> bool:
    """Whether a group's TPR (members found) can be printed under `exposure_suppression`."""
    key = slice_key(attributes)
    return not (supp.hides(key, "found") or supp.hides(key, "missed"))


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
