"""One shared test over every registered check, and the checks that read newer evidence."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

import policies
from compliance.evidence._base import Estimate
from compliance.evidence.discovery import DiscoverySection, ProxyResult
from compliance.evidence.policy import FINDING_STATUSES
from compliance.evidence.privacy import AttributeInferenceResult, DPReference, PrivacySection

DAY = dt.date(2026, 11, 29)
REQUIRED_PARAMS = {
    "attestation": {"question": "Q?"},
    "evidence.recorded": {"section": "fairness", "what": "w"},
}


def contexts(build: Any) -> list[Any]:
    full = build["assessment"](fairness=build["fairness"](build["standard"]()))
    return [
        policies.CheckContext(assessment=build["assessment"](), pack="p", check="c", as_of=DAY),
        policies.CheckContext(assessment=full, pack="p", check="c", as_of=DAY, baseline=full),
    ]


@pytest.mark.parametrize("check_id", sorted(policies.registered_checks()))
def test_every_check_is_deterministic_serialisable_and_strict(check_id: str, build: Any) -> None:
    definition = policies.registered_checks()[check_id]
    params = definition.params.model_validate(REQUIRED_PARAMS.get(check_id, {}))
    thresholds = definition.thresholds()
    for ctx in contexts(build):
        first = definition.func(ctx, params, thresholds)
        second = definition.func(ctx, params, thresholds)
        assert first == second
        assert first.status in FINDING_STATUSES and first.status != "waived"
        assert first.message.endswith(".") and len(first.message) > 20
        json.dumps(first.measured)  # JSON-serialisable figures
        json.dumps(first.slices)
    # Unknown keys and wrong types are refused by every check's options.
    with pytest.raises(ValidationError):
        definition.params.model_validate({**REQUIRED_PARAMS.get(check_id, {}), "no_such_option": 1})
    for name, field in definition.thresholds.model_fields.items():
        if field.annotation in (float, float | None):
            with pytest.raises(ValidationError):
                definition.thresholds.model_validate({name: "high"})


def test_f2_flags_proxies_from_the_discovery_evidence(build: Any, tmp_path: Any) -> None:
    proxies = [
        ProxyResult(feature="relationship", protected="sex", n=1000, mutual_information=0.3,
                    normalized_mi=0.4, auc=0.84, auc_ci_low=0.82, auc_ci_high=0.86,
                    auc_group="Female", flagged=True),
        ProxyResult(feature="age", protected="sex", n=1000, mutual_information=0.01,
                    normalized_mi=0.01, auc=0.55, auc_ci_low=0.52, auc_ci_high=0.58,
                    auc_group="Female", flagged=False),
    ]  # fmt: skip
    discovery = DiscoverySection(
        proxies=proxies, proxy_method="test", features=["sex", "age", "relationship"]
    )
    assessment = build["assessment"](
        fairness=build["fairness"](build["standard"]()), discovery=discovery
    )
    feat = policies.load_pack("feat")
    f2 = next(
        f for f in policies.evaluate(assessment, [feat], as_of=DAY).findings if f.check == "F2"
    )
    assert f2.status == "open" and "relationship for sex (AUC 0.84)" in f2.message
    assert f2.measured["protected_inputs"] == ["sex"]
    answers = tmp_path / "a.yaml"
    answers.write_text(
        "items:\n  - pack: feat\n    check: F2\n    answer: sex is not an input\n    name: A\n"
        "    role: B\n    date: 2026-11-01\n",
        encoding="utf-8",
    )
    section = policies.evaluate(
        assessment, [feat], answers=policies.load_answers(answers), as_of=DAY
    )
    f2 = next(f for f in section.findings if f.check == "F2")
    assert f2.status == "warn" and [p["feature"] for p in f2.measured["proxies"]] == [
        "relationship"
    ]


def test_attribute_inference_and_dp_reference(build: Any) -> None:
    def result(attr: str, adv: float, lo: float) -> AttributeInferenceResult:
        return AttributeInferenceResult(
            attribute=attr, n_records=2000, n_classes=2, model_queried=True,
            attack_accuracy=Estimate(value=0.7), attack_balanced_accuracy=None,
            baseline_accuracy=Estimate(value=0.7 - adv), baseline_balanced_accuracy=None,
            advantage=Estimate(value=adv, ci_low=lo, ci_high=adv + 0.01), majority_rate=0.6,
            seconds=1.0, summary="s",
        )  # fmt: skip

    dp = DPReference(method="diffprivlib", epsilon_target=1.0, epsilon_spent=1.0, delta=0.0,
                     accuracy=0.79, n_train=100, n_test=100, seconds=1.0)  # fmt: skip
    privacy = PrivacySection(
        attribute=[result("sex", 0.004, -0.003), result("race", 0.05, 0.03)], dp_reference=[dp]
    )
    section = policies.evaluate(
        build["assessment"](privacy=privacy), [policies.load_pack("privacy")], as_of=DAY
    )
    by = {f.check: f for f in section.findings}
    assert by["P3"].status == "fail" and by["P3"].slices == [{"attribute": "race"}]
    # An advantage over the threshold whose interval includes 0 is neither shown nor
    # ruled out: a warning, not a pass.
    privacy = PrivacySection(attribute=[result("race", 0.05, -0.01)])
    p3 = next(
        f
        for f in policies.evaluate(
            build["assessment"](privacy=privacy), [policies.load_pack("privacy")], as_of=DAY
        ).findings
        if f.check == "P3"
    )
    assert p3.status == "warn"
    assert (
        by["P5"].status == "pass"
        and "diffprivlib at epsilon 1.00: accuracy 79.0%" in by["P5"].message
    )
