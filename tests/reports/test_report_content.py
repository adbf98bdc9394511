"""What the reader sees: plain-words findings with margins, suppression, every section."""

from __future__ import annotations

import re
from pathlib import Path

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
    tiny = rows["unknown"]  # n = 7: neither its size nor any count nor any rate is printed
    assert tiny["n"] == "<10"
    assert tiny["counts"] == ["<10", "<10", "<10", "<10"]
    assert all(v == "insufficient data" for v, _ in tiny["cells"])
    small = rows["90+"]  # n = 40 with tp = 3: the size prints, tp and rates built on it do not
    assert small["n"] == "40"
    assert small["counts"][0] == "<10"  # tp
    labels = ctx["fairness"]["table_metrics"]
    cells = dict(zip(labels, small["cells"], strict=True))
    assert cells["true positive rate"] == ("suppressed", "")
    assert cells["precision"] == ("suppressed", "")
    # Its selection rate (15 of 40) gives no small count back, so it may be stated.
    said = [s["text"] for s in ctx["fairness"]["statements"] if "age = 90+" in s["text"]]
    assert said and all("selection rate" in t and t.startswith("On 40 people") for t in said)
    html = render_html(assessment)
    assert "age = unknown" not in html
    csv = pack_tables(assessment)["tables/slices.csv"].decode()
    tiny_line = next(line for line in csv.splitlines() if line.startswith("age = unknown"))
    assert re.search(r"(^|,)[1-9](,|$)", tiny_line) is None
    assert tiny_line.count("<10") == 5  # n and the four cells


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
