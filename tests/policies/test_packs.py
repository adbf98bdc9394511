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
