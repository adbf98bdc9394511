"""The discovery evidence in plain sentences (for the summary and the report)."""

from __future__ import annotations

from compliance.evidence.discovery import (
    DiscoverySection,
    FoundSlice,
    GroupShare,
    LeaveOneOutResult,
    LeaveOneOutSection,
    ProxyResult,
    discovery_lines,
    slice_sentence,
)


def _slice(**kw: object) -> FoundSlice:
    base: dict[str, object] = {
        "definition": {"role": "husband", "age": [None, 25.0]},
        "description": "role is husband and age under 25",
        "n": 1234,
        "metric": "error_rate",
        "value": 0.265,
        "ci_low": 0.255,
        "ci_high": 0.276,
        "rest_value": 0.13,
        "p_value": 1e-9,
        "p_adjusted": 2e-5,
        "overlaps_protected": True,
        "protected_composition": {
            "sex": GroupShare(group="M", share=1.0, share_overall=0.67),
            "race": GroupShare(group="White", share=0.9, share_overall=0.85),
        },
    }
    base.update(kw)
    return FoundSlice.model_validate(base)


def test_a_found_slice_in_words() -> None:
    text = slice_sentence(_slice())
    assert text == (
        "role is husband and age under 25 (1,234 rows): error rate 26.5% (95% CI 25.5%-27.6%)"
        " against 13.0% elsewhere, p < 0.001 after correction; overlaps a protected group"
        " (sex: 100% M, against 67% of all)"
    )


def test_small_and_insufficient_slices_hide_their_counts() -> None:
    s = _slice(n=7, status="insufficient_data", value=None, name="Tiny", suppressed=True)
    assert slice_sentence(s, min_cell=10) == (
        "Tiny: role is husband and age under 25 (fewer than 10 rows): insufficient data to "
        "judge the error rate"
    )


def test_concentration_rule() -> None:
    assert GroupShare(group="M", share=0.96, share_overall=0.67).concentrated
    assert not GroupShare(group="W", share=0.96, share_overall=0.85).concentrated
    assert GroupShare(group="F", share=0.55, share_overall=0.33).concentrated
    assert not GroupShare(group="F", share=0.45, share_overall=0.20).concentrated


def test_the_section_in_sentences() -> None:
    section = DiscoverySection(
        metric="false_negative_rate",
        depth=2,
        min_support=30,
        slices_tested=1500,
        slices_found=[_slice(p_adjusted=0.0123, overlaps_protected=False)],
        proxies=[
            ProxyResult(
                feature="title",
                protected="sex",
                n=100,
                mutual_information=0.7,
                normalized_mi=0.7,
                auc=0.95,
                auc_ci_low=0.93,
                auc_ci_high=0.97,
                auc_group="F",
                flagged=True,
            ),
            ProxyResult(
                feature="colour",
                protected="sex",
                n=100,
                mutual_information=0.0,
                normalized_mi=0.0,
                auc=0.5,
                auc_ci_low=0.45,
                auc_ci_high=0.55,
                auc_group="F",
                flagged=False,
            ),
        ],
        proxy_auc_threshold=0.7,
        leave_one_out=LeaveOneOutSection(
            available=True,
            results=[
                LeaveOneOutResult(
                    attribute="sex",
                    available=True,
                    accuracy_change=-0.021,
                    fairness_metric="equal_opportunity",
                    fairness_gap_change=-0.15,
                ),
                LeaveOneOutResult(attribute="race", available=False, reason="not a model input"),
            ],
        ),
    )
    lines = discovery_lines(section)
    assert lines[0] == (
        "Slice search by false negative rate, conjunctions of up to 2 conditions, at least 30 "
        "rows each; 1,500 slices in the corrected family."
    )
    assert lines[1].endswith("p = 0.012 after correction")
    assert lines[2] == "Proxies for protected attributes: title for sex (F), AUC 0.95."
    assert lines[3] == (
        "Without sex the refitted model's accuracy changes by -2.1 points and its equal "
        "opportunity gap by -15.0 points."
    )
    assert lines[4] == "Leave-one-out of race: not a model input."
