"""What the reader sees: plain-words findings with margins, suppression, every section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from compliance.assessment import Assessment, InputFile, ModelInfo, Provenance
from reports import pack_tables, render_html
from reports._context import build_context


def test_plain_words_statement_has_margin_size_reference_and_threshold(
    assessment: Assessment,
) -> None:
    ctx = build_context(assessment, assessment_json=assessment.to_json())
    texts = [s["text"] for s in ctx["fairness"]["statements"]]
    female = next(t for t in texts if "sex = Female" in t and "selection rate" in t)
    assert female.startswith(
        "On 2,240 people in the group sex = Female, the selection rate was 27% (95% CI 25–29%) "
        "against 36% for the best-served group (sex = Male): an impact ratio of 0.74"
    )
    assert "below the four-fifths threshold of 0.80" in female
    tpr = next(t for t in texts if "true positive rate" in t)
    assert "On 690 people in the group sex = Female whose true outcome was 'yes'" in tpr


def test_small_counts_are_suppressed_everywhere(assessment: Assessment) -> None:
    ctx = build_context(assessment, assessment_json=assessment.to_json())
    rows = {r["group"]: r for d in ctx["fairness"]["dims"] for r in d["rows"]}
    tiny = rows["unknown"]  # n = 7: neither its size nor any rate is printed
    assert tiny["n"] == "<10"
    assert all(v == "insufficient data" for v, _ in tiny["cells"])
    # age 90+ (n = 40): the age groups add up to everyone, so its size is hidden too, or
    # the whole population less the other ages would give back the 7; and with it every
    # rate, which would narrow the size down again
    small = rows["90+"]
    assert small["n"] == "suppressed"
    assert all(v == "suppressed" for v, _ in small["cells"])
    said = [s["text"] for s in ctx["fairness"]["statements"] if "age = 90+" in s["text"]]
    assert said == []
    html = render_html(assessment)
    assert "age = unknown" not in html and "TP · FP · FN · TN" not in html
    csv = pack_tables(assessment)["tables/slices.csv"].decode()
    header = csv.splitlines()[0].split(",")
    assert not {"tp", "fp", "fn", "tn"} & set(header)  # confusion counts: assessment.json only
    tiny_line = next(line for line in csv.splitlines() if line.startswith("age = unknown"))
    assert re.search(r"(^|,)[1-9](,|$)", tiny_line) is None and tiny_line.count("<10") == 1
    small_line = next(line for line in csv.splitlines() if line.startswith("age = 90+"))
    assert ",suppressed," in small_line and re.search(r",40,", small_line) is None


def _hidden(text: str) -> bool:
    return text in ("<10", "suppressed")


def _sizes(ctx: dict[str, Any]) -> dict[tuple[tuple[str, str], ...], str]:
    """Every fairness table row's printed group size, by slice."""
    out = {}
    for d in ctx["fairness"]["dims"]:
        attrs = d["name"].split(" × ")
        for r in d["rows"]:
            out[tuple(sorted(zip(attrs, r["group"].split(" · "), strict=True)))] = r["n"]
    return out


def test_sibling_groups_never_leave_one_small_group_size(adult_assessment: Assessment) -> None:
    """Within race by age, the age groups of one race add up to that race: a lone '<10'
    (Amer-Indian-Eskimo, >= 60: 4 people) would be the race less its other ages. No sum
    of siblings and their parent has exactly one hidden size; and the large groups keep
    their rates (race = Black, 1,561 people, lost them to a table of every cell)."""
    ctx = build_context(adult_assessment, assessment_json="{}")
    sizes = _sizes(ctx)
    assert len(sizes) == 49
    sizes[()] = "16,281"  # the whole population: printed
    sums = 0
    for key in sizes:
        for i in range(len(key)):
            parent = key[:i] + key[i + 1 :]
            siblings = [
                k for k in sizes
                if dict(k).keys() == dict(key).keys() and set(parent) <= set(k)
            ]  # fmt: skip
            hidden = [k for k in (parent, *siblings) if _hidden(sizes[k])]
            assert len(hidden) != 1, (parent, hidden)
            sums += 1
    assert sums > 60
    aie = (("age", ">= 60"), ("race", "Amer-Indian-Eskimo"))
    assert sizes[aie] == "<10"
    assert sizes[(("age", "< 25"), ("race", "Amer-Indian-Eskimo"))] == "suppressed"
    rows = {r["group"]: r for d in ctx["fairness"]["dims"] for r in d["rows"]}
    black = dict(zip(ctx["fairness"]["table_metrics"], rows["Black"]["cells"], strict=True))
    assert rows["Black"]["n"] == "1,561"
    assert all(black[m][0].endswith("%") for m in ("selection rate", "true positive rate"))


def test_a_rate_beside_a_hidden_group_size_is_hidden() -> None:
    """A rate to six digits narrows a hidden size to a few values (a group of 200 with five
    rates printed: multiples of 20), and the size gives back a small sibling's: with the
    size hidden, the rates go too; scores, which do not follow from counts, stay."""
    from reports._format import Suppression, slice_key

    from .conftest import make_slice

    young = make_slice({"age": "< 25"}, tn=2830, fp=0, fn=21, tp=11)
    young = young.model_copy(
        update={"metrics": {**young.metrics, "roc_auc": young.metrics["accuracy"]}}
    )
    key = slice_key(young.attributes)
    printed = Suppression(10, frozenset())
    hidden = Suppression(10, frozenset({(key, "n")}))
    assert printed.shown(young, "negative_predictive_value")
    assert not hidden.shown(young, "negative_predictive_value")
    assert not hidden.shown(young, "balanced_accuracy")
    assert hidden.shown(young, "roc_auc")
    assert not printed.shown(young, "false_positive_rate")  # 0 false positives: primary


def test_aggregates_resting_on_a_hidden_rate_are_suppressed(
    adult_assessment: Assessment,
) -> None:
    """Age < 25 has no false positive (a hidden 0): an equalized odds ratio of 0.00 over
    age would say so. An aggregate prints only when every group's rate it is built from
    is printed."""
    ctx = build_context(adult_assessment, assessment_json="{}")
    values = {(a["name"], a["dimension"]): a["value"] for a in ctx["fairness"]["aggregates"]}
    assert values[("equalized odds ratio", "age")] == (
        "suppressed: rests on a group with a count under 10"
    )
    assert values[("demographic parity ratio", "sex")].startswith("0.32 (95% CI")
    html = render_html(adult_assessment)
    assert "0.00 (95% CI 0.00–0.00)" not in html


def test_membership_exposure_hides_small_implied_counts(adult_assessment: Assessment) -> None:
    """6.8% of 74 members is 5 people: a group's share found is printed only when the
    members found and those missed are both 10 or more (and not the one hidden count of
    an attribute, whose groups add up to the attack's total). Hidden shares follow the
    ranked ones, so that a row's place does not give the share away."""
    ctx = build_context(adult_assessment, assessment_json="{}")
    table = ctx["privacy"]["membership"][0]["slices"]
    found = {r["group"]: r["tpr1"] for r in table}
    assert found["race = Amer-Indian-Eskimo"] == "suppressed"  # 5 of 74
    assert found.get("race = Other", "suppressed") == "suppressed"  # 3 of 68 (row 11: cut)
    assert found["age < 25"] == "suppressed"  # 5 of 1,363
    assert found["age >= 60"] == "suppressed"  # 47: the other age hidden with it
    assert found["race = Asian-Pac-Islander"] == "7.9%"  # 22 of 277
    shown = [r["tpr1"] != "suppressed" for r in table]
    assert shown == sorted(shown, reverse=True)  # printed first, then the hidden
    for r in table:
        if r["tpr1"] != "suppressed":
            members = int(r["members"].replace(",", ""))
            hit = round(float(r["tpr1"].rstrip("%")) / 100 * members)
            assert min(hit, members - hit) >= 10, r


def test_privacy_notes_say_which_attack_they_are_about(adult_assessment: Assessment) -> None:
    """The section's notes print under attribute inference: 'Evaluated on 8132 members'
    beside 'Inferring sex of 5000 training records' read as one attack."""
    ctx = build_context(adult_assessment, assessment_json="{}")
    notes = ctx["privacy"]["notes"]
    assert notes[1].startswith("Membership inference: evaluated on 8132 members sampled")
    assert notes[0].startswith("Membership inference: each attack's epsilon bound")
    html = render_html(adult_assessment)
    assert "Membership inference: evaluated on 8132 members" in html
    assert ">Evaluated on 8132" not in html


def test_every_section_is_rendered(assessment: Assessment) -> None:
    html = render_html(assessment)
    for heading in (
        "Executive summary",
        "Findings by principle",
        "Fairness across protected groups",
        "Membership inference",
        "Attribute inference",
        "Model inversion",
        "Differential-privacy reference",
        "Attestations and waivers",
        "Appendix A — Methodology",
        "Appendix B — Reproducibility",
    ):
        assert heading in html, heading
    assert html.count("data:image/svg+xml;base64,") >= 5  # fairness, ROC, attribute charts
    assert html.count("data:image/png;base64,") == 2  # the two inversion prototypes
    assert "Example Audit LLP" in html and "Chief Risk Officer" in html
    assert "compliance assess --data eval.csv --seed 7" in html
    assert "Unsigned draft" in html


def test_a_minimal_assessment_renders(tmp_path: Path) -> None:
    bare = Assessment(
        created_at="2026-11-29T06:00:00+00:00",
        provenance=Provenance(
            tool_version="0", python="3.11", platform="x", packages={}, seed=0, command=[]
        ),
        inputs=[InputFile(path="p.csv", sha256="0" * 64, role="evaluation", size=1)],
        model=ModelInfo(kind="predictions", description="outputs only", task="binary"),
    )
    html = render_html(bare)
    assert "NOT JUDGED" in html
    assert "Fairness across protected groups" not in html


def test_pages_render_to_png(signed_report: Path, tmp_path: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(str(signed_report))
    assert len(pdf) >= 2
    for i in range(2):
        image = pdf[i].render(scale=30 / 72).to_pil()
        image.save(tmp_path / f"p-{i + 1}.png")
        assert image.size[0] > 200 and image.getextrema() != ((255, 255), (255, 255), (255, 255))
    pdf.close()
    assert len(list(tmp_path.glob("p-*.png"))) == 2


def test_discovery_slices_render_with_small_ones_suppressed(assessment: Assessment) -> None:
    from compliance.evidence.discovery import DiscoverySection, FoundSlice

    def found(description: str, n: int, value: float) -> FoundSlice:
        return FoundSlice(
            definition={"education": "HS-grad"}, description=description, n=n,
            metric="error_rate", value=value, ci_low=value - 0.02, ci_high=value + 0.02,
            p_adjusted=0.0001, overlaps_protected=False, suppressed=n < 10,
        )  # fmt: skip

    with_discovery = assessment.model_copy(
        update={
            "discovery": DiscoverySection(
                metric="error_rate",
                depth=2,
                min_support=30,
                slices_tested=120,
                slices_found=[found("education is HS-grad", 1_685, 0.311), found("tiny", 6, 0.5)],
            )
        }
    )
    ctx = build_context(with_discovery, assessment_json="{}")
    rows = {r["description"]: r for r in ctx["discovery"]["rows"]}
    assert rows["education is HS-grad"]["value"] == "31.1% (29.1–33.1%)"
    assert rows["tiny"]["n"] == "<10" and rows["tiny"]["value"] == "suppressed"
    assert any("Slice search by error rate" in line for line in ctx["discovery"]["lines"])
    html = render_html(with_discovery)
    assert "Slices, proxies and attribute use" in html


def test_waivers_and_attestations_read_in_full(assessment: Assessment) -> None:
    """A waived finding shows its own status, the waiver's state and expiry; an attested
    finding shows who answered and whether they said the requirement is met."""
    ctx = build_context(assessment, assessment_json=assessment.to_json())
    findings = {f["check"]: f for p in ctx["policy"]["principles"] for f in p["findings"]}
    ratios = findings["nyc-ll144/LL144-ratios"]
    assert ratios["status_label"] == "Waived" and ratios["waived_status"] == "Warning"
    assert ratios["waiver_status"] == "active"
    assert ratios["waiver"].startswith("Active until 2027-01-31 (inclusive). Approved by Chief")
    published = findings["nyc-ll144/LL144-publication"]
    assert published["status_label"] == "Fail" and published["waived_status"] is None
    assert published["waiver_status"] == "expired"
    assert published["waiver"].startswith("Expired on 2026-10-31")
    assert published["attestation"] == (
        "Answered by B. Counsel (Head of Legal) on 2026-11-20. Requirement met: no."
    )
    auditor = findings["nyc-ll144/LL144-auditor"]
    assert auditor["attestation"].endswith("Requirement met: yes.")
    assert auditor["waiver"] is None and auditor["waived_status"] is None
    met = {a["check"]: a["met"] for a in ctx["policy"]["attestations"]}
    assert met == {"nyc-ll144/LL144-auditor": "Yes", "nyc-ll144/LL144-publication": "No"}
    waivers = {w["check"]: w for w in ctx["policy"]["waivers"]}
    assert waivers["nyc-ll144/LL144-ratios"]["status_label"] == "Active"
    assert waivers["nyc-ll144/LL144-ratios"]["finding"] == "Warning → Waived"
    assert waivers["nyc-ll144/LL144-publication"]["status_label"] == "Expired"
    assert waivers["nyc-ll144/LL144-publication"]["finding"] == "Fail"
    html = render_html(assessment)
    assert "(was Warning)" in html and "Waiver (active)" in html and "Waiver (expired)" in html
    assert "Requirement met: no." in html and "<th>Requirement met</th>" in html
    assert "Warning → Waived" in html


def test_key_figure_for_membership_names_the_risk_interval_and_epsilon(
    assessment: Assessment,
) -> None:
    privacy = assessment.privacy
    assert privacy is not None
    weak = privacy.membership[0].model_copy(
        update={"name": "loss", "tpr_at_fpr": {"0.01": 0.09, "0.001": 0.0}}
    )
    # the suite's strongest attack (by its own rule) is the one stated, not the largest TPR
    updated = privacy.model_copy(
        update={
            "membership": [*privacy.membership, weak],
            "strongest_attack": "rmia",
            "membership_risk": "moderate",
        }
    )
    ctx = build_context(
        assessment.model_copy(update={"privacy": updated}), assessment_json=assessment.to_json()
    )
    line = next(h for h in ctx["headlines"] if "membership-inference" in h)
    assert line.startswith(
        "Membership risk: moderate. The strongest membership-inference attack (rmia)"
    )
    assert "found 6.0% (95% CI 5.0%–7.0%) of training records" in line
    assert "proves epsilon ≥ 0.40" in line and "4,000 members" in line


def test_a_finding_chart_shows_the_reference_group_it_was_judged_against(
    adult_assessment: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    import policies
    from reports import _charts
    from reports._context import _finding_chart

    assessment = adult_assessment
    section = policies.evaluate(assessment, [policies.load_pack("feat")])
    f1 = next(f for f in section.findings if f.check == "F1")
    assert f1.status in ("fail", "warn") and f1.slices
    drawn: list[Any] = []
    monkeypatch.setattr(
        _charts, "interval_chart", lambda rows, **kw: drawn.extend(rows) or "data:,"
    )
    assert _finding_chart(f1, assessment.fairness) is not None
    refs = {str(r["reference"]) for r in f1.measured["slices"] if r["slice"] in f1.slices}
    marked = [row for row in drawn if "(reference, n=" in row.label]
    assert marked and len(marked) == len(refs) and not any(row.flagged for row in marked)
    assert any(row.flagged for row in drawn if row not in marked)


def test_privacy_bounds_read_rounded_down_and_at_the_level_they_hold(
    assessment: Assessment,
) -> None:
    """An epsilon bound of 0.8779 reads 0.87, never the 0.88 it does not reach; the
    strongest of 6 attacks, each bound at 99.2%, holds at 95% over the 6. A label-only
    reading says what it bounds; each group's own false-positive rate is shown."""
    assert assessment.privacy is not None
    first = assessment.privacy.membership[0]
    six = [
        first.model_copy(
            update={
                "name": f"attack{i}",
                "epsilon_lower_bound": 0.877879 if i == 0 else 0.1,
                "epsilon_confidence": 1 - 0.05 / 6,
                "slices": [
                    s.model_copy(update={"fpr_at_threshold": {"0.01": 0.024}}) for s in first.slices
                ],
            }
        )
        for i in range(6)
    ]
    privacy = assessment.privacy.model_copy(
        update={"membership": six, "strongest_attack": "attack0"}
    )
    html = " ".join(render_html(assessment.model_copy(update={"privacy": privacy})).split())
    assert "proves epsilon ≥ 0.87 at 95% confidence over the 6 attacks" in html
    assert "0.88" not in html
    # schema 1.4: each at 1 - 0.05/12, so the largest of the 6 holds at 97.5%
    at_14 = privacy.model_copy(
        update={
            "membership": [a.model_copy(update={"epsilon_confidence": 1 - 0.05 / 12}) for a in six]
        }
    )
    html_14 = " ".join(render_html(assessment.model_copy(update={"privacy": at_14})).split())
    assert "proves epsilon ≥ 0.87 at 97.5% confidence over the 6 attacks" in html_14
    assert "Its non-members flagged" in html and "2.4%" in html
    alone = privacy.model_copy(
        update={
            "membership": [six[0].model_copy(update={"name": "label_only"})],
            "strongest_attack": "label_only",
        }
    )
    html = " ".join(render_html(assessment.model_copy(update={"privacy": alone})).split())
    assert "Only the label-only attack could run" in html


def test_an_unfavourable_positive_label_states_the_favourable_impact_ratio() -> None:
    """The positive label is 'default': A is refused 36% of the time, B 8%. The four-fifths
    rule compares approval rates, 0.64 / 0.92 = 0.70 (flagged); the sentence printed the
    ratio of refusal rates, 4.50, 'at or above the four-fifths threshold'."""
    import numpy as np
    import pandas as pd

    from compliance.fairness import FairnessOptions, assess_fairness
    from reports._context import disparity_sentence

    rng = np.random.default_rng(0)
    rows = []
    for g, n, refused in (("A", 200, 72), ("B", 200, 16)):
        pred = np.r_[np.ones(refused, dtype=int), np.zeros(n - refused, dtype=int)]
        rows.append(pd.DataFrame({"g": g, "y": rng.integers(0, 2, n), "pred": pred}))
    frame = pd.concat(rows, ignore_index=True)
    section = assess_fairness(
        frame["y"].to_numpy(), frame["pred"].to_numpy(), None, frame[["g"]],
        options=FairnessOptions(depth=1, bootstrap=0, positive_label_favourable=False),
    )  # fmt: skip
    by_key = {tuple(sorted(s.attributes.items())): s for s in section.slices}
    d = next(
        d for d in section.disparities
        if d.metric == "selection_rate" and d.slice == {"g": "A"} and d.reference == {"g": "B"}
    )  # fmt: skip
    text = disparity_sentence(d, section, by_key)
    assert text is not None
    assert "an impact ratio of the favourable outcome's rates of 0.70" in text, text
    assert "below the four-fifths threshold" in text


def test_the_contents_line_on_the_cover_gives_each_sections_page(
    signed_report: Path,
) -> None:
    """The contents sat at the end of the executive summary, which overflowed: page 3 of
    the demo held its last four lines and nothing else. It is now one line on the cover,
    and its page numbers are where the sections' headings are."""
    import re

    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument(str(signed_report))
    texts = [" ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    pdf.close()
    cover = texts[0]
    assert cover.count("Contents:") == 1
    for title in ("Executive summary", "Methodology", "Reproducibility"):
        page = int(re.search(rf"{title} p\. (\d+)", cover).group(1))  # type: ignore[union-attr]
        assert title in texts[page - 1], (title, page)
    assert "Executive summary" in texts[1] and "Contents:" not in texts[1]
