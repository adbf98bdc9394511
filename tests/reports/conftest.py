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


# The demo's counts (census income; sex, race and age to depth 2), (tn, fp, fn, tp) of each
# slice: many cells under 10, and groups that add up to their parents as real slices do.
ADULT_OVERALL = (11647, 788, 1378, 2468)
ADULT_SLICES: list[tuple[dict[str, str], int, int, int, int]] = [
    ({"sex": "Female"}, 4729, 102, 248, 342),
    ({"sex": "Male"}, 6918, 686, 1130, 2126),
    ({"race": "Amer-Indian-Eskimo"}, 138, 2, 8, 11),
    ({"race": "Asian-Pac-Islander"}, 311, 36, 46, 87),
    ({"race": "Black"}, 1349, 33, 79, 100),
    ({"race": "Other"}, 109, 1, 11, 14),
    ({"race": "White"}, 9740, 716, 1234, 2256),
    ({"age": "< 25"}, 2830, 0, 21, 11),
    ({"age": "25 to < 40"}, 4621, 282, 580, 775),
    ({"age": "40 to < 60"}, 3182, 442, 633, 1493),
    ({"age": ">= 60"}, 1014, 64, 144, 189),
    ({"sex": "Female", "race": "Amer-Indian-Eskimo"}, 63, 0, 3, 0),
    ({"sex": "Female", "race": "Asian-Pac-Islander"}, 135, 10, 11, 15),
    ({"sex": "Female", "race": "Black"}, 702, 9, 20, 22),
    ({"sex": "Female", "race": "Other"}, 40, 1, 0, 5),
    ({"sex": "Female", "race": "White"}, 3789, 82, 214, 300),
    ({"sex": "Male", "race": "Amer-Indian-Eskimo"}, 75, 2, 5, 11),
    ({"sex": "Male", "race": "Asian-Pac-Islander"}, 176, 26, 35, 72),
    ({"sex": "Male", "race": "Black"}, 647, 24, 59, 78),
    ({"sex": "Male", "race": "Other"}, 69, 0, 11, 9),
    ({"sex": "Male", "race": "White"}, 5951, 634, 1020, 1956),
    ({"sex": "Female", "age": "< 25"}, 1302, 0, 6, 3),
    ({"sex": "Female", "age": "25 to < 40"}, 1685, 42, 106, 149),
    ({"sex": "Female", "age": "40 to < 60"}, 1329, 55, 111, 178),
    ({"sex": "Female", "age": ">= 60"}, 413, 5, 25, 12),
    ({"sex": "Male", "age": "< 25"}, 1528, 0, 15, 8),
    ({"sex": "Male", "age": "25 to < 40"}, 2936, 240, 474, 626),
    ({"sex": "Male", "age": "40 to < 60"}, 1853, 387, 522, 1315),
    ({"sex": "Male", "age": ">= 60"}, 601, 59, 119, 177),
    ({"race": "Amer-Indian-Eskimo", "age": "< 25"}, 29, 0, 0, 0),
    ({"race": "Amer-Indian-Eskimo", "age": "25 to < 40"}, 67, 1, 3, 4),
    ({"race": "Amer-Indian-Eskimo", "age": "40 to < 60"}, 39, 1, 5, 6),
    ({"race": "Amer-Indian-Eskimo", "age": ">= 60"}, 3, 0, 0, 1),
    ({"race": "Asian-Pac-Islander", "age": "< 25"}, 69, 0, 1, 0),
    ({"race": "Asian-Pac-Islander", "age": "25 to < 40"}, 140, 22, 22, 38),
    ({"race": "Asian-Pac-Islander", "age": "40 to < 60"}, 80, 12, 19, 45),
    ({"race": "Asian-Pac-Islander", "age": ">= 60"}, 22, 2, 4, 4),
    ({"race": "Black", "age": "< 25"}, 254, 0, 1, 0),
    ({"race": "Black", "age": "25 to < 40"}, 577, 9, 21, 31),
    ({"race": "Black", "age": "40 to < 60"}, 413, 23, 50, 63),
    ({"race": "Black", "age": ">= 60"}, 105, 1, 7, 6),
    ({"race": "Other", "age": "< 25"}, 35, 0, 0, 1),
    ({"race": "Other", "age": "25 to < 40"}, 49, 1, 7, 6),
    ({"race": "Other", "age": "40 to < 60"}, 20, 0, 3, 6),
    ({"race": "Other", "age": ">= 60"}, 5, 0, 1, 1),
    ({"race": "White", "age": "< 25"}, 2443, 0, 19, 10),
    ({"race": "White", "age": "25 to < 40"}, 3788, 249, 527, 696),
    ({"race": "White", "age": "40 to < 60"}, 2630, 406, 556, 1373),
    ({"race": "White", "age": ">= 60"}, 879, 61, 132, 177),
]
# The demo's strongest membership attack (rmia_online) by group: (attributes, members,
# non-members, AUC, TPR at 1% FPR); 6.8% of 74 members is 5 people.
ADULT_EXPOSURE: list[tuple[dict[str, str], int, int, float, float]] = [
    ({"race": "Asian-Pac-Islander"}, 277, 250, 0.639, 0.079422),
    ({"race": "Amer-Indian-Eskimo"}, 74, 96, 0.520, 0.067568),
    ({"age": ">= 60"}, 698, 659, 0.625, 0.067335),
    ({"age": "40 to < 60"}, 2814, 2937, 0.602, 0.050817),
    ({"sex": "Male"}, 5412, 5419, 0.606, 0.044531),
    ({"race": "Other"}, 68, 66, 0.570, 0.044118),
    ({"race": "White"}, 6909, 6942, 0.592, 0.039224),
    ({"age": "25 to < 40"}, 3257, 3116, 0.600, 0.038993),
    ({"sex": "Female"}, 2720, 2713, 0.555, 0.029779),
    ({"race": "Black"}, 804, 778, 0.569, 0.026119),
    ({"age": "< 25"}, 1363, 1420, 0.520, 0.003668),
]
ADULT_PRIVACY_NOTES = [
    "Membership inference: each attack's epsilon bound is at 99.2% confidence so that the "
    "largest of the 6 holds at 95% (Bonferroni).",
    "Membership inference: evaluated on 8132 members sampled from 16280 training records "
    "and 8132 non-members sampled from 16265 population records (seed 0).",
]


def make_adult_fairness() -> FairnessSection:
    """The demo's fairness counts, with two comparisons and two aggregates of its own: the
    equalized odds ratio over age is 0.00 because age < 25 has no false positive."""
    overall = make_slice({}, *ADULT_OVERALL)
    slices = [make_slice(attrs, tn, fp, fn, tp) for attrs, tn, fp, fn, tp in ADULT_SLICES]
    by = {tuple(sorted(s.attributes.items())): s for s in slices}

    def get(**attrs: str) -> SliceResult:
        return by[tuple(sorted(attrs.items()))]

    return make_fairness().model_copy(
        update={
            "protected": ["sex", "race", "age"],
            "bins": {"age": ["< 25", "25 to < 40", "40 to < 60", ">= 60"]},
            "depth": 2,
            "overall": overall,
            "slices": slices,
            "disparities": [
                _disparity(get(race="Other"), get(race="White"), "selection_rate"),
                _disparity(get(race="Black"), get(race="White"), "selection_rate"),
                _disparity(get(age="< 25"), get(age="40 to < 60"), "selection_rate"),
                _disparity(get(age="< 25"), get(age="40 to < 60"), "true_positive_rate"),
                _disparity(get(sex="Female"), get(sex="Male"), "true_positive_rate"),
            ],
            "aggregates": [
                GroupAggregate(
                    name="demographic_parity_ratio",
                    dimension=["sex"],
                    value=Estimate(value=0.316, ci_low=0.29, ci_high=0.35),
                ),
                GroupAggregate(
                    name="equalized_odds_ratio",
                    dimension=["age"],
                    value=Estimate(value=0.0, ci_low=0.0, ci_high=0.0),
                ),
                GroupAggregate(
                    name="equalized_odds_ratio",
                    dimension=["race", "age"],
                    value=Estimate(value=0.0, ci_low=0.0, ci_high=0.0),
                ),
            ],
        }
    )


def make_adult_privacy() -> PrivacySection:
    attack = (
        make_privacy()
        .membership[0]
        .model_copy(
            update={
                "name": "rmia_online",
                "auc": 0.591,
                "tpr_at_fpr": {"0.01": 0.039597, "0.001": 0.005534},
                "n_members": 8132,
                "n_nonmembers": 8132,
                "slices": [
                    SliceExposure(
                        attributes=attrs,
                        n_members=members,
                        n_nonmembers=nonmembers,
                        auc=auc,
                        tpr_at_fpr={"0.01": tpr},
                    )
                    for attrs, members, nonmembers, auc, tpr in ADULT_EXPOSURE
                ],
            }
        )
    )
    return make_privacy().model_copy(
        update={
            "membership": [attack],
            "strongest_attack": "rmia_online",
            "notes": ADULT_PRIVACY_NOTES,
        }
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
def adult_assessment(assessment: Assessment) -> Assessment:
    """The synthetic assessment with the demo's fairness counts and membership groups (no
    policy: its findings are computed on the other counts)."""
    return assessment.model_copy(
        update={"fairness": make_adult_fairness(), "privacy": make_adult_privacy(), "policy": None}
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
