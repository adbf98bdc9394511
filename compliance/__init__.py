"""Fairness and privacy compliance assessment of ML models, with signed evidence.

Public names are loaded lazily so that `compliance --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AssessSpec",
    "Assessment",
    "ComplianceError",
    "FairnessOptions",
    "InputError",
    "ModelHandle",
    "assess_fairness",
    "load_assessment",
    "load_model",
    "read_table",
    "run_assessment",
    "select_metric",
]

_WHERE = {
    "AssessSpec": "compliance.spec",
    "Assessment": "compliance.assessment",
    "ComplianceError": "compliance.errors",
    "FairnessOptions": "compliance.fairness",
    "InputError": "compliance.errors",
    "ModelHandle": "compliance.models",
    "assess_fairness": "compliance.fairness",
    "load_assessment": "compliance.assessment",
    "load_model": "compliance.models",
    "read_table": "compliance.tables",
    "run_assessment": "compliance.runner",
    "select_metric": "compliance.veritas",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'compliance' has no attribute {name!r}")
