"""AssessSpec: everything a user asks of one assessment run (the CLI's options, typed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class AssessSpec:
    """The inputs and options of `compliance assess`. Validation happens in the runner."""

    data: Path
    target: str
    protected: list[str]
    out: Path
    model: Path | None = None
    predictions_column: str | None = None
    scores_column: str | None = None
    positive_label: str | None = None
    task: Literal["binary", "regression"] = "binary"
    bootstrap: int = 1000
    seed: int = 0
    depth: int = 2
    min_slice_size: int = 30
    min_cell: int = 10
    bins: dict[str, list[float]] = field(default_factory=dict)
    quantile_bins: int = 4
    reference: dict[str, str] = field(default_factory=dict)
    correction: Literal["holm", "fdr_bh"] = "holm"
    alpha: float = 0.05
    ci_level: float = 0.95
    fair_priority: Literal["benefit", "harm"] = "benefit"
    fair_impact: Literal["normal", "significant", "selective"] = "normal"
    fair_concern: Literal["eligible", "inclusive", "both"] = "eligible"
    positive_label_favourable: bool = True
    trust_types: list[str] = field(default_factory=list)
    trust_pickle: bool = False
    overwrite: bool = False
    # privacy attack suite
    train: Path | None = None
    population: Path | None = None
    attacks: list[str] = field(default_factory=list)
    reference_models: int = 4
    jobs: int = 1
    sensitive: list[str] = field(default_factory=list)
    recipe: str | None = None
    dp_epsilons: list[float] = field(default_factory=lambda: [1.0, 8.0])
    dp_delta: float | None = None
    # slice discovery
    find_slices: bool = False
    slice_depth: int = 3
    slice_metric: str = "error_rate"
    slices_file: Path | None = None
    proxies: bool = False
    # policies
    policies: list[str] = field(default_factory=list)
    attestations: Path | None = None
    waivers: Path | None = None
    baseline: Path | None = None
    # outputs beyond assessment.json
    report: bool = False
    pack: bool = False
    sign_key: Path | None = None
    command: list[str] = field(default_factory=list)
