"""Pack loading: the built-in packs, user packs, and each malformed-pack error message."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import policies
from compliance.errors import PolicyError

USER_PACK = """\
id: acme
version: "2.1"
title: Acme lending policy
jurisdiction: internal
principles:
  - id: fair
    title: Fairness
checks:
  - id: parity
    principle: fair
    title: Equal opportunity within 5 points
    check: fairness.primary_metric_parity
    severity: blocking
    thresholds:
      max_difference: 0.05
"""


def write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line of the first line of `path` that contains `fragment`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if fragment in line)


def test_builtin_packs_load_and_resolve_every_check() -> None:
    ids = policies.builtin_pack_ids()
    assert ids == ["eeoc-four-fifths", "eu-ai-act", "feat", "nyc-ll144", "privacy"]
    for pack_id in ids:
        pack = policies.load_pack(pack_id)
        assert pack.id == pack_id and pack.source == "builtin"
        assert len(pack.sha256) == 64
        for pc in pack.checks:
            assert policies.get_check(pc.spec.check) is pc.definition
    feat = policies.load_pack("feat")
    check_ids = [c.spec.id for c in feat.checks]
    for expected in [
        "F1",
        "F2",
        "F3",
        "F4",
        "E1",
        "E2",
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "T1",
        "T2",
        "T3",
    ]:
        assert expected in check_ids
    questions = {c.spec.id for c in feat.checks if c.definition.asks_question}
    assert {"E1", "E2", "A1", "A2", "A3", "A4", "A5", "T1", "T2", "T3", "F2", "F4"} <= questions
    assert "F1" not in questions


def test_eu_ai_act_index_points_at_checks_or_sections() -> None:
    pack = policies.load_pack("eu-ai-act")
    check_ids = {c.spec.id for c in pack.checks}
    sections = {e.section for e in pack.spec.index}
    assert {"1", "2(d)", "2(g)", "3", "9"} <= sections
    for entry in pack.spec.index:
        for ref in entry.answered_by:
            assert ref in check_ids or ref.split(".")[0] in {
                "model",
                "provenance",
                "inputs",
                "fairness",
            }


def test_user_pack_overrides_a_threshold(tmp_path: Path) -> None:
    path = write(tmp_path, USER_PACK)
    pack = policies.load_pack(path)
    assert (pack.id, pack.version, pack.source) == ("acme", "2.1", "file")
    assert pack.checks[0].thresholds.model_dump() == {"max_difference": 0.05, "min_ratio": None}
    default = policies.load_pack("feat").checks[0].thresholds
    assert default.model_dump()["max_difference"] == 0.10


def test_unknown_top_level_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        USER_PACK.replace("jurisdiction: internal\n", "jurisdiction: internal\nowner: me\n"),
    )
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    assert str(path) in msg
    assert f"line {line_of(path, 'owner:')}:" in msg
    assert "field 'owner'" in msg and "unknown key 'owner'" in msg
    assert "allowed: id, version, title" in msg


def test_unknown_key_in_check_params_names_its_line(tmp_path: Path) -> None:
    text = USER_PACK.replace(
        "    thresholds:\n", "    params:\n      agianst: overall\n    thresholds:\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    assert f"line {line_of(path, 'agianst')}:" in msg
    assert "field 'checks[0].params.agianst'" in msg
    assert "allowed: metric, against, include_intersections, min_denominator" in msg


def test_wrong_type_names_line_key_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, USER_PACK.replace("max_difference: 0.05", "max_difference: five points"))
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    assert f"line {line_of(path, 'max_difference')}:" in msg
    assert "field 'checks[0].thresholds.max_difference'" in msg
    assert "'five points'" in msg


def test_version_must_be_text_not_a_number(tmp_path: Path) -> None:
    path = write(tmp_path, USER_PACK.replace('version: "2.1"', "version: 2.1"))
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    assert f"{path}, field 'version': line 2:" in msg
    assert "a number 2.1" in msg


def test_wrong_severity_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, USER_PACK.replace("severity: blocking", "severity: fatal"))
    with pytest.raises(
        PolicyError, match=r"field 'checks\[0\]\.severity': line 13: .*'blocking' or 'advisory'"
    ):
        policies.load_pack(path)


def test_unknown_check_id_names_line_and_lists_known(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        USER_PACK.replace("check: fairness.primary_metric_parity", "check: fairness.parity"),
    )
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    assert f"line {line_of(path, 'fairness.parity')}:" in msg
    assert "field 'checks[0].check'" in msg
    assert "unknown check id 'fairness.parity'" in msg
    assert "fairness.primary_metric_parity" in msg  # the registered ones are listed


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    text = USER_PACK.replace("    title: Fairness\n", "    title: [Fairness\n")
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    assert str(path) in msg and "not valid YAML" in msg
    # PyYAML reports the flow sequence as unclosed where the next key begins.
    assert f"line {line_of(path, 'checks:')}:" in msg


def test_bad_indentation_is_bad_yaml_with_its_line(tmp_path: Path) -> None:
    text = USER_PACK.replace("    title: Fairness\n", "    title: Fairness\n   bad: indent\n")
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match=rf"line {line_of(path, 'bad: indent')}: not valid YAML"):
        policies.load_pack(path)


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        USER_PACK.replace(
            "title: Acme lending policy\n", "title: Acme lending policy\ntitle: Again\n"
        ),
    )
    with pytest.raises(
        PolicyError, match=r"field 'title': line 4: duplicate key \(first given on line 3\)"
    ):
        policies.load_pack(path)


def test_undeclared_principle_and_duplicate_check(tmp_path: Path) -> None:
    path = write(tmp_path, USER_PACK.replace("principle: fair", "principle: ethics"))
    with pytest.raises(PolicyError, match=r"checks\[0\]\.principle': line 10: principle 'ethics'"):
        policies.load_pack(path)
    second = USER_PACK + USER_PACK[USER_PACK.index("  - id: parity") :]
    path = write(tmp_path, second, "twice.yaml")
    with pytest.raises(PolicyError, match=r"checks\[1\]\.id'.*used twice"):
        policies.load_pack(path)


def test_missing_required_key_and_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, USER_PACK.replace("    severity: blocking\n", ""))
    with pytest.raises(
        PolicyError, match=r"checks\[0\]\.severity'.*required key 'severity' is missing"
    ):
        policies.load_pack(path)
    empty = write(tmp_path, "", "empty.yaml")
    with pytest.raises(PolicyError, match="the file is empty"):
        policies.load_pack(empty)


def test_unknown_pack_id_and_missing_file() -> None:
    with pytest.raises(PolicyError, match="no built-in pack 'fet'") as err:
        policies.load_pack("fet")
    assert err.value.hint is not None and "feat" in err.value.hint
    with pytest.raises(PolicyError, match="no such policy pack"):
        policies.load_pack("missing/pack.yaml")


def test_entry_point_check_is_found(
    build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user check registered through the `compliance.checks` entry point group."""
    import importlib.metadata as md

    from policies import _registry

    (tmp_path / "acme_checks_for_test.py").write_text(
        textwrap.dedent(
            """
            from policies import Outcome, check

            @check("acme.always_warn", register=False)
            def always_warn(ctx, params, thresholds):
                return Outcome("warn", "Acme says look again.", {"n": ctx.assessment.model.kind})
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = md.EntryPoint(
        name="acme.always_warn",
        value="acme_checks_for_test:always_warn",
        group=_registry.ENTRY_POINT_GROUP,
    )
    monkeypatch.setattr(
        md, "entry_points", lambda group: [ep] if group == _registry.ENTRY_POINT_GROUP else []
    )
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    try:
        pack_path = write(
            tmp_path,
            USER_PACK.replace(
                "check: fairness.primary_metric_parity", "check: acme.always_warn"
            ).replace("    thresholds:\n      max_difference: 0.05\n", ""),
        )
        pack = policies.load_pack(pack_path)
        assert pack.checks[0].definition.id == "acme.always_warn"
        section = policies.evaluate(build["assessment"](), [pack])
        finding = section.findings[0]
        assert (finding.status, finding.function, finding.measured) == (
            "warn", "acme.always_warn", {"n": "predictions"},
        )  # fmt: skip
    finally:
        policies.unregister_check("acme.always_warn")
        monkeypatch.setattr(_registry, "_entry_points_loaded", False)


def test_broken_entry_point_is_a_policy_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as md

    from policies import _registry

    ep = md.EntryPoint(
        name="bad", value="no_such_module_xyz:check", group=_registry.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(md, "entry_points", lambda group: [ep])
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)
    with pytest.raises(
        PolicyError, match=r"entry point bad = no_such_module_xyz:check .* cannot be loaded"
    ):
        policies.get_check("nothing.registered")
    monkeypatch.setattr(_registry, "_entry_points_loaded", False)


def test_public_api_is_pinned() -> None:
    assert sorted(policies.__all__) == sorted(
        [
            "ENTRY_POINT_GROUP", "Answers", "CheckContext", "CheckDef", "NoOptions", "Options",
            "Outcome", "Pack", "PackCheck", "Waivers", "builtin_pack_ids", "check", "evaluate",
            "evaluate_inputs", "findings_json", "get_check", "junit_xml", "load_answers",
            "load_pack", "load_waivers", "questionnaire_text", "register_check",
            "registered_checks", "unregister_check", "verdict_of", "write_text",
        ]
    )  # fmt: skip


def test_a_check_that_raises_is_a_policy_error(build: Any, tmp_path: Path) -> None:
    @policies.check("test.broken", register=False)
    def broken(ctx: object, params: object, thresholds: object) -> policies.Outcome:
        raise ZeroDivisionError("division by zero")

    policies.register_check(broken)
    try:
        text = USER_PACK.replace("check: fairness.primary_metric_parity", "check: test.broken")
        pack = policies.load_pack(
            write(tmp_path, text.replace("    thresholds:\n      max_difference: 0.05\n", ""))
        )
        with pytest.raises(
            PolicyError, match=r"check 'test.broken' \(acme/parity\) raised ZeroDivisionError"
        ):
            policies.evaluate(build["assessment"](), [pack])
    finally:
        policies.unregister_check("test.broken")


def test_list_options_are_written_as_yaml_lists(tmp_path: Path) -> None:
    text = USER_PACK + (
        "  - id: ll144\n    principle: fair\n    title: Ratios\n    check: fairness.impact_ratios\n"
        "    severity: advisory\n    params:\n      unknown_values: [N/A, '(missing)']\n"
        "  - id: drift\n    principle: fair\n    title: Drift\n    check: baseline.drift\n"
        "    severity: blocking\n    params:\n      metrics: [accuracy]\n"
    )
    pack = policies.load_pack(write(tmp_path, text))
    assert pack.checks[1].params.model_dump()["unknown_values"] == ["N/A", "(missing)"]
    assert pack.checks[2].params.model_dump()["metrics"] == ["accuracy"]
    bad = write(tmp_path, text.replace("metrics: [accuracy]", "metrics: accuracy"), "bad.yaml")
    line = line_of(bad, "metrics: accuracy")
    with pytest.raises(PolicyError, match=rf"checks\[2\]\.params\.metrics': line {line}: .*list"):
        policies.load_pack(bad)


def test_every_builtin_check_and_pack_is_documented() -> None:
    readme = (Path(policies.__file__).parent / "README.md").read_text(encoding="utf-8")
    for check_id, definition in policies.registered_checks().items():
        assert f"`{check_id}`" in readme, check_id
        for name, field in definition.thresholds.model_fields.items():
            assert f"`{name}`" in readme, (check_id, name)
            if isinstance(field.default, float):
                assert (
                    f"`{name}` {field.default:g}" in readme or f"`{name}` {field.default}" in readme
                ), name
    for pack_id in policies.builtin_pack_ids():
        assert f"`{pack_id}`" in readme


@pytest.mark.parametrize("status", ["waived", "ok"])
def test_a_check_returning_a_bad_status_is_refused(build: Any, tmp_path: Path, status: str) -> None:
    @policies.check("test.bad_status", register=False)
    def bad(ctx: object, params: object, thresholds: object) -> policies.Outcome:
        return policies.Outcome(status, "Claims something.")  # type: ignore[arg-type]

    policies.register_check(bad)
    try:
        text = USER_PACK.replace("check: fairness.primary_metric_parity", "check: test.bad_status")
        text = text.replace("    thresholds:\n      max_difference: 0.05\n", "")
        pack = policies.load_pack(write(tmp_path, text))
        with pytest.raises(PolicyError, match=f"returned the status '{status}'"):
            policies.evaluate(build["assessment"](), [pack])
    finally:
        policies.unregister_check("test.bad_status")


PRIVACY_CHECK = """\
  - id: mia
    principle: fair
    title: MIA at most 3%
    check: privacy.membership_tpr
    severity: blocking
    thresholds: {max_tpr_at_1pct_fpr: 0.03, max_tpr_at_01pct_fpr: 0.005}
"""


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        # a percentage written where a fraction belongs would pass every slice
        ("max_difference: 0.05", "max_difference: 10", "thresholds.max_difference",
         "rate from 0 to 1, so a gap of 10 can never be exceeded"),
        ("max_difference: 0.05", "max_difference: -0.05", "thresholds.max_difference",
         "at least 0 is expected, got -0.05"),
        ("max_difference: 0.05", "max_difference: .nan", "thresholds.max_difference",
         "finite number"),
        ("max_difference: 0.05", "max_difference: .inf", "thresholds.max_difference",
         "finite number"),
        ("max_difference: 0.05", "max_difference: 0.05\n      min_ratio: 80",
         "thresholds.min_ratio", "from 0 to 1 is expected (write 0.03 for 3%), got 80"),
        ("    thresholds:", "    params: {min_denominator: -5}\n    thresholds:",
         "params.min_denominator", "greater than or equal to 1, got -5"),
        ("max_tpr_at_1pct_fpr: 0.03", "max_tpr_at_1pct_fpr: 3", "thresholds.max_tpr_at_1pct_fpr",
         "got 3"),
        ("max_tpr_at_01pct_fpr: 0.005", "max_tpr_at_01pct_fpr: .nan",
         "thresholds.max_tpr_at_01pct_fpr", "finite number"),
    ],
)  # fmt: skip
def test_out_of_range_thresholds_are_refused_with_line(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    text = (USER_PACK + PRIVACY_CHECK).replace(old, new, 1)
    path = write(tmp_path, text)
    index = 1 if "tpr" in field else 0
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    msg = str(err.value)
    key = field.split(".")[-1]
    assert f"{path}, field 'checks[{index}].{field}': line {line_of(path, key + ':')}:" in msg
    assert message in msg


def _load_error(tmp_path: Path, check: str, options: str) -> tuple[Path, str]:
    """Load the user pack with its one check swapped for `check` with `options`: the
    PolicyError's message."""
    text = USER_PACK.replace("check: fairness.primary_metric_parity", f"check: {check}").replace(
        "    thresholds:\n      max_difference: 0.05\n", f"    {options}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        policies.load_pack(path)
    return path, str(err.value)


@pytest.mark.parametrize(
    ("check", "options", "field", "message"),
    [
        ("fairness.four_fifths", "params: {alpha: 5}", "params.alpha", "at most 1"),
        ("fairness.four_fifths", "params: {alpha: 0}", "params.alpha", "above 0"),
        ("fairness.four_fifths", "params: {alpha: .nan}", "params.alpha", "finite"),
        ("fairness.four_fifths", "thresholds: {min_ratio: .nan}", "thresholds.min_ratio", "finite"),
        ("fairness.four_fifths", "thresholds: {min_ratio: -1}", "thresholds.min_ratio", "got -1"),
        ("fairness.impact_ratios", "params: {exclude_below_share: 2}",
         "params.exclude_below_share", "got 2"),
        ("fairness.data_model_review", "thresholds: {min_share: 5}", "thresholds.min_share",
         "got 5"),
        ("privacy.empirical_epsilon", "thresholds: {max_epsilon_lower_bound: .nan}",
         "thresholds.max_epsilon_lower_bound", "finite"),
        ("privacy.attribute_inference", "thresholds: {max_advantage: 2}",
         "thresholds.max_advantage", "got 2"),
        ("baseline.drift", "thresholds: {tolerance: -1}", "thresholds.tolerance", "at least 0"),
    ],
)  # fmt: skip
def test_each_check_range_checks_its_options(
    tmp_path: Path, check: str, options: str, field: str, message: str
) -> None:
    path, msg = _load_error(tmp_path, check, options)
    assert f"field 'checks[0].{field}': line {line_of(path, options[:8])}:" in msg
    assert message in msg


@pytest.mark.parametrize(
    ("check", "options", "field"),
    [
        ("fairness.primary_metric_parity", "params: {metric: true_positve_rate}", "params.metric"),
        ("fairness.four_fifths", "params: {metric: true_positive_rate}", "params.metric"),
        ("fairness.data_model_review", "params: {performance_metric: balanced_acc}",
         "params.performance_metric"),
        ("baseline.drift", "params: {metrics: [accuracy, roc_acu]}", "params.metrics"),
    ],
)  # fmt: skip
def test_unknown_metric_is_refused_listing_the_known(
    tmp_path: Path, check: str, options: str, field: str
) -> None:
    path, msg = _load_error(tmp_path, check, options)
    assert f"field 'checks[0].{field}" in msg and f"line {line_of(path, 'params:')}:" in msg
    assert "unknown" in msg and "(known: " in msg


def test_a_regression_metric_may_take_a_gap_over_one(tmp_path: Path) -> None:
    text = USER_PACK.replace(
        "    thresholds:", "    params: {metric: mean_absolute_error}\n    thresholds:"
    ).replace("max_difference: 0.05", "max_difference: 2500")
    pack = policies.load_pack(write(tmp_path, text))
    assert pack.checks[0].thresholds.model_dump()["max_difference"] == 2500


def test_parity_metrics_are_those_the_engine_compares() -> None:
    from compliance.fairness import DISPARITY_METRICS
    from compliance.regression_comparisons import TERMS
    from policies._builtin._common import PARITY_METRICS

    assert set(PARITY_METRICS) == {*DISPARITY_METRICS, *TERMS}


def test_a_metric_of_the_other_task_is_missing_evidence_not_small_slices(build: Any) -> None:
    fairness = build["fairness"](build["standard"]())
    pack_text = USER_PACK.replace(
        "    thresholds:", "    params: {metric: mean_absolute_error}\n    thresholds:"
    )
    from policies._yaml import parse_marked

    pack = policies._packs.parse_pack(
        parse_marked(pack_text, path=Path("acme.yaml")), source="file"
    )
    finding = policies.evaluate(build["assessment"](fairness=fairness), [pack]).findings[0]
    assert finding.status == "insufficient_data"
    assert "holds no mean absolute error" in finding.message and "too small" not in finding.message
