"""The outputs step: the signed report and the submission pack, written into `out_dir`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from compliance.errors import InputError

if TYPE_CHECKING:
    from compliance.assessment import Assessment
    from compliance.progress import Progress
    from compliance.spec import AssessSpec


def run(assessment: Assessment, spec: AssessSpec, out_dir: Path, progress: Progress) -> None:
    raise InputError("reports are not available yet", field="report")
