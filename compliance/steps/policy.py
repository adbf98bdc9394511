"""The policy step: evaluates policy packs on the finished assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compliance.assessment import Assessment
    from compliance.runner import RunContext


def run(ctx: RunContext, assessment: Assessment) -> Assessment:
    """Evaluate `ctx.spec.policies` on `assessment`; record the packs' files as inputs."""
    from policies import evaluate_inputs

    spec = ctx.spec
    with ctx.progress.step(f"Policy packs: {', '.join(spec.policies)}"):
        section, used = evaluate_inputs(
            assessment,
            spec.policies,
            attestations=spec.attestations,
            waivers=spec.waivers,
            baseline=spec.baseline,
        )
    before = len(ctx.inputs)
    for path, role in used:
        ctx.add_input(path, role)
    inputs = [*assessment.inputs, *ctx.inputs[before:]]
    return assessment.model_copy(update={"policy": section, "inputs": inputs})
