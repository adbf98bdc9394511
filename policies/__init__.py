"""Policy packs as code: checks that turn saved evidence into findings an officer can sign.

A pack (YAML, `policies/packs/*.yaml` or a user's file) names checks registered by id
(`policies.check`), their thresholds and severities. `evaluate` runs them on an
Assessment, with attestation answers, waivers and a baseline, and returns the
PolicySection the gate, the report and the runner record.
"""

from compliance.evidence.policy import verdict_of
from policies._answers import (
    Answers,
    Waivers,
    load_answers,
    load_waivers,
    questionnaire_text,
)
from policies._evaluate import evaluate, evaluate_inputs
from policies._packs import Pack, PackCheck, builtin_pack_ids, load_pack
from policies._registry import (
    ENTRY_POINT_GROUP,
    CheckContext,
    CheckDef,
    NoOptions,
    Options,
    Outcome,
    check,
    get_check,
    register_check,
    registered_checks,
    unregister_check,
)
from policies._writers import findings_json, junit_xml, write_text

__all__ = [
    "ENTRY_POINT_GROUP",
    "Answers",
    "CheckContext",
    "CheckDef",
    "NoOptions",
    "Options",
    "Outcome",
    "Pack",
    "PackCheck",
    "Waivers",
    "builtin_pack_ids",
    "check",
    "evaluate",
    "evaluate_inputs",
    "findings_json",
    "get_check",
    "junit_xml",
    "load_answers",
    "load_pack",
    "load_waivers",
    "questionnaire_text",
    "register_check",
    "registered_checks",
    "unregister_check",
    "verdict_of",
    "write_text",
]
