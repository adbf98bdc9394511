"""Fixtures of the reports tests: a complete synthetic assessment, keys and a signed report.

The assessment is built from the pydantic models with every section filled, including a
group too small to report (n = 7) and one with a confusion cell under the minimum (tp = 3),
so that suppression can be checked. Its input files exist on disk, so hashes can be checked.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path

import pytest

from compliance.assessment import (
    Assessment,
    AttackResult,
    Disparity,
    Estimate,
    FairnessSection,
    Finding,
    GroupAggregate,
    InputFile,
    MetricSelection,
    ModelInfo,
    PackRef,
    PolicySection,
    PrivacySection,
    Provenance,
    SliceExposure,
    SliceResult,
)
from compliance.evidence.policy import AttestationRecord, WaiverRecord
from compliance.evidence.privacy import AttributeInferenceResult, DPReference, InversionResult
from reports import SigningKey, build_report, generate_self_signed

MIN_CELL = 10


def _ci(k: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(value=None)
    p = k / n
    half = 1.96 * math.sqrt(max(p * (1 - p), 1e-9) / n)
    return Estimate(value=p, ci_low=max(0.0, p - half), ci_high=min(1.0, p + half))


def make_slice(attrs: dict[str, str], tn: int, fp: int, fn: int, tp: int) -> SliceResult:
    n = tn + fp + fn + tp
    metrics = {
        "count": Estimate(value=float(n)),
        "selection_rate": _ci(fp + tp, n),
        "true_positive_rate": _ci(tp, fn + tp),
        "false_positive_rate": _ci(fp, tn + fp),
        "precision": _ci(tp, fp + tp),
        "accuracy": _ci(tn + tp, n),
        "roc_auc": Estimate(value=0.81, ci_low=0.78, ci_high=0.84),
    }
    counts = {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
    return SliceResult(
        attributes=attrs,
        n=n,
        status="ok" if n >= 30 else "insufficient_data",
        counts=counts,
        suppressed=n < MIN_CELL or min(counts.values()) < MIN_CELL,
        metrics=metrics,
    )


def _disparity(s: SliceResult, ref: SliceResult, metric: str) -> Disparity:
    a, b = s.metrics[metric].value, ref.metrics[metric].value
    assert a is not None and b is not None
    ratio = a / b
    return Disparity(
        metric=metric,
        dimension=list(s.attributes),
        slice=s.attributes,
        reference=ref.attributes,
        difference=Estimate(value=a - b, ci_low=a - b - 0.03, ci_high=a - b + 0.03),
        ratio=Estimate(value=ratio, ci_low=ratio - 0.05, ci_high=ratio + 0.05),
        test="z",
        p_value=1e-6,
        p_adjusted=4e-6,
        significant=True,
        four_fifths_flag=(ratio < 0.8) if metric == "selection_rate" else None,
    )


def make_fairness() -> FairnessSection:
    overall = make_slice({}, 3000, 700, 400, 900)
    female = make_slice({"sex": "Female"}, 1400, 150, 240, 450)
    male = make_slice({"sex": "Male"}, 1600, 550, 160, 450)
    young = make_slice({"age": "18-25"}, 700, 150, 80, 310)
    older = make_slice({"age": "26+"}, 2300, 550, 320, 590)
    small_cell = make_slice({"age": "90+"}, 20, 12, 5, 3)  # n = 40, tp = 3
    tiny = make_slice({"age": "unknown"}, 4, 1, 1, 1)  # n = 7
    slices = [female, male, young, older, small_cell, tiny]
    disparities = [
        _disparity(female, male, "selection_rate"),
        _disparity(female, male, "true_positive_rate"),
        _disparity(young, older, "selection_rate"),
        _disparity(small_cell, older, "selection_rate"),
    ]
    return FairnessSection(
        task="binary",
        target="approved",
        positive_label="yes",
        protected=["sex", "age"],
        bins={"age": ["18-25", "26+", "90+", "unknown"]},
        depth=1,
        min_slice_size=30,
        min_cell=MIN_CELL,
        bootstrap=200,
        ci_level=0.95,
        ci_method="percentile bootstrap",
        correction="holm",
        alpha=0.05,
        metric_selection=MetricSelection(
            fair_priority="benefit",
            fair_impact="normal",
            fair_concern="eligible",
            positive_label_favourable=True,
            primary_metric="true_positive_rate",
            parity_metric="equal_opportunity",
            metrics=["true_positive_rate"],
            reason="A positive prediction is a benefit; equal opportunity applies.",
        ),
        primary_metric="true_positive_rate",
        overall=overall,
        slices=slices,
        disparities=disparities,
        aggregates=[
            GroupAggregate(
                name="demographic_parity_ratio",
                dimension=["sex"],
                value=Estimate(value=0.6, ci_low=0.55, ci_high=0.66),
            )
        ],
    )


def make_privacy() -> PrivacySection:
    roc = [(0.0, 0.0), (0.0005, 0.004), (0.001, 0.01), (0.01, 0.06), (0.1, 0.3), (1.0, 1.0)]
    return PrivacySection(
        membership=[
            AttackResult(
                name="rmia",
                auc=0.61,
                tpr_at_fpr={"0.01": 0.06, "0.001": 0.01},
                tpr_at_fpr_ci={"0.01": Estimate(value=0.06, ci_low=0.05, ci_high=0.07)},
                epsilon_lower_bound=0.4,
                n_members=4000,
                n_nonmembers=4000,
                reference_models=4,
                seconds=12.5,
                roc=roc,
                slices=[
                    SliceExposure(
                        attributes={"sex": "Female"},
                        n_members=1900,
                        n_nonmembers=1950,
                        auc=0.60,
                        tpr_at_fpr={"0.01": 0.05},
                    )
                ],
            )
        ],
        attribute=[
            AttributeInferenceResult(
                attribute="sex",
                n_records=2000,
                n_classes=2,
                model_queried=True,
                attack_accuracy=Estimate(value=0.71, ci_low=0.69, ci_high=0.73),
                attack_balanced_accuracy=0.68,
                baseline_accuracy=Estimate(value=0.70, ci_low=0.68, ci_high=0.72),
                baseline_balanced_accuracy=0.67,
                advantage=Estimate(value=0.01, ci_low=-0.01, ci_high=0.03),
                majority_rate=0.66,
                seconds=3.0,
                summary="Inferring sex: the attack is within the imputation baseline.",
            )
        ],
        inversion=InversionResult(
            applicable=True,
            n_classes=2,
            recognised=2,
            recognition_rate=1.0,
            chance_rate=0.5,
            baseline_recognised=1,
            evaluator="SVC",
            shape=[4, 4],
            reconstructions=[[i / 16 for i in range(16)], [1 - i / 16 for i in range(16)]],
            summary="Two class prototypes were reconstructed.",
        ),
        dp_reference=[
            DPReference(
                method="diffprivlib LogisticRegression",
                epsilon_target=1.0,
                epsilon_spent=1.0,
                delta=1e-5,
                accuracy=0.79,
                n_train=8000,
                n_test=2000,
                seconds=2.0,
            )
        ],
    )


def ll144_finding(fairness: FairnessSection) -> Finding:
    """The `nyc-ll144` pack's LL144-ratios finding on `fairness`, as policies compute it."""
    import policies

    bare = Assessment(
        created_at="2026-11-29T06:00:00+00:00",
        provenance=Provenance(
            tool_version="0", python="3.11", platform="x", packages={}, seed=0, command=[]
        ),
        inputs=[],
        model=ModelInfo(kind="predictions", description="outputs only", task="binary"),
        fairness=fairness,
    )
    section = policies.evaluate(bare, [policies.load_pack("nyc-ll144")], as_of=date(2026, 11, 29))
    return next(f for f in section.findings if f.check == "LL144-ratios")


def make_policy(fairness: FairnessSection) -> PolicySection:
    """LL144 findings: the ratios (a warning, waived until 2027-01-31), an auditor attested
    as met, and a publication attested as not met whose waiver expired on 2026-10-31."""
    ratios = ll144_finding(fairness)
    assert ratios.status == "warn"
    active = WaiverRecord(
        pack="nyc-ll144",
        check="LL144-ratios",
        justification="Remediation planned for Q1.",
        approver="Chief Risk Officer",
        expires="2027-01-31",
        status="active",
        source="waivers.yaml",
    )
    expired = WaiverRecord(
        pack="nyc-ll144",
        check="LL144-publication",
        justification="Publication deferred until the remediated model ships.",
        approver="General Counsel",
        expires="2026-10-31",
        status="expired",
        source="waivers.yaml",
    )
    auditor = AttestationRecord(
        pack="nyc-ll144",
        check="LL144-auditor",
        principle="Bias audit (§ 5-301)",
        question="Which independent auditor conducted this bias audit, and on what date?",
        answer="Example Audit LLP, 2026-11-01",
        evidence="Statement of independence, signed 2026-11-01.",
        name="A. Auditor",
        role="Partner",
        date="2026-11-01",
        compliant=True,
        status="answered",
    )
    publication = AttestationRecord(
        pack="nyc-ll144",
        check="LL144-publication",
        principle="Publication and notice (§ 5-303, § 5-304)",
        question="Where and on what date is the summary of results published?",
        answer="Not yet published.",
        name="B. Counsel",
        role="Head of Legal",
        date="2026-11-20",
        compliant=False,
        status="answered",
    )
    return PolicySection(
        packs=[PackRef(id="nyc-ll144", version="1.0", title="NYC Local Law 144", sha256="ab" * 32)],
        findings=[
            ratios.model_copy(
                update={
                    "status": "waived",
                    "waived_status": ratios.status,
                    "waiver": active,
                    "message": f"Waived until 2027-01-31 by Chief Risk Officer: Remediation "
                    f"planned for Q1. (the finding: {ratios.message})",
                }
            ),
            Finding(
                pack="nyc-ll144",
                check="LL144-auditor",
                principle="Bias audit (§ 5-301)",
                title="Independent auditor",
                function="attestation",
                severity="blocking",
                status="pass",
                message="Answered by A. Auditor (Partner) on 2026-11-01.",
                attestation=auditor,
            ),
            Finding(
                pack="nyc-ll144",
                check="LL144-publication",
                principle="Publication and notice (§ 5-303, § 5-304)",
                title="Summary of results published",
                function="attestation",
                severity="blocking",
                status="fail",
                waived_status="fail",
                waiver=expired,
                message="The waiver by General Counsel expired on 2026-10-31, so this counts as "
                "a failure again. Attested as not met by B. Counsel (Head of Legal) on "
                "2026-11-20: Not yet published.",
                attestation=publication,
            ),
        ],
        attestations=[auditor, publication],
        waivers=[active, expired],
        evaluated_on="2026-11-29",
        counts={"waived": 1, "pass": 1, "fail": 1},
        verdict="fail",
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inputs")
    (d / "eval.csv").write_text("approved,sex,age\nyes,Female,18-25\n", encoding="utf-8")
    (d / "model.txt").write_text("tree\nversion=v4\n", encoding="utf-8")
    return d


def _input(path: Path, role: str) -> InputFile:
    data = path.read_bytes()
    return InputFile(
        path=str(path), sha256=hashlib.sha256(data).hexdigest(), role=role, size=len(data)
    )


@pytest.fixture(scope="session")
def assessment(data_dir: Path) -> Assessment:
    return Assessment(
        created_at="2026-11-29T06:00:00+00:00",
        title="Credit approval model assessment",
        provenance=Provenance(
            tool_version="0.1.0",
            python="3.11.7",
            platform="Linux",
            packages={"numpy": "2.4.6", "weasyprint": "70.0"},
            seed=7,
            command=["compliance", "assess", "--data", "eval.csv", "--seed", "7"],
        ),
        inputs=[
            _input(data_dir / "eval.csv", "evaluation"),
            _input(data_dir / "model.txt", "model"),
        ],
        model=ModelInfo(
            kind="lightgbm", path="model.txt", description="LightGBM model", task="binary"
        ),
        fairness=make_fairness(),
        privacy=make_privacy(),
        policy=make_policy(make_fairness()),
        warnings=["A synthetic warning for the report."],
    )


@pytest.fixture(scope="session")
def assessment_file(assessment: Assessment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("assessment") / "assessment.json"
    assessment.write(path)
    return path


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_self_signed("Test auditor", key_size=2048)


@pytest.fixture(scope="session")
def key_files(
    signing_key: SigningKey, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("keys")
    signing_key.write_pem(d / "key.pem")
    (d / "cert.pem").write_bytes(signing_key.cert_pem())
    return d / "key.pem", d / "cert.pem"


@pytest.fixture(scope="session")
def signed_report(
    assessment: Assessment,
    assessment_file: Path,
    signing_key: SigningKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.pdf"
    build_report(
        assessment,
        out,
        key=signing_key,
        assessment_json=assessment_file.read_text(encoding="utf-8"),
    )
    return out
