"""The privacy step: runs the attack suite (`attacks`) for the runner.

`--attacks` takes families (`membership`, `attribute`, `inversion`, `dp`) and/or the names
of single membership attacks (`rmia_online`, `loss`, ...). Membership inference and
attribute inference need `--train` (the model's training set, the members) and
`--population` (records of the same distribution the model never saw).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from compliance.errors import InputError
from compliance.tables import read_table

if TYPE_CHECKING:
    from compliance.evidence.privacy import PrivacySection
    from compliance.runner import RunContext

DP_EPSILONS = (1.0, 8.0)


def _read(path: Path | None, role: str, option: str, ctx: RunContext) -> pd.DataFrame:
    if path is None:
        raise InputError(
            f"the privacy attacks {', '.join(ctx.spec.attacks)} need {option} FILE ({role})",
            field=option.lstrip("-"),
            hint="--train is the model's training set; --population holds records of the same "
            "distribution that the model never saw",
        )
    frame = read_table(path)
    ctx.add_input(path, "members" if role == "the training set" else "population")
    return frame


def _check_files(members: pd.DataFrame, population: pd.DataFrame, ctx: RunContext) -> list[str]:
    """Refuse a training or population file that cannot be compared with the evaluation
    data (exit 2, naming the file and the column); warn when the two files' label mixes
    differ, which the membership attacks would read as membership.
    """
    from scipy.stats import chi2_contingency

    from compliance.errors import DataError

    spec = ctx.spec
    files = ((spec.train, members), (spec.population, population))
    for path, frame in files:
        for col in ctx.frame.columns:
            if col == spec.target or col not in frame.columns:
                continue
            if not pd.api.types.is_numeric_dtype(ctx.frame[col]):
                continue
            if pd.api.types.is_numeric_dtype(frame[col]):
                continue
            bad = pd.to_numeric(frame[col], errors="coerce").isna() & frame[col].notna()
            if bad.any():
                raise DataError(
                    f"{int(bad.sum())} values are not numbers (such as "
                    f"{str(frame[col][bad].iloc[0])!r}), though the column is numeric in "
                    "the evaluation data",
                    path=path,
                    field=col,
                )
    if spec.target not in members.columns or spec.target not in population.columns:
        return []  # the attacks name the file without the target
    labels = [f[spec.target].dropna().astype(str).str.strip() for f in (members, population)]
    extra = sorted(set(labels[1]) - set(labels[0]))
    if extra and spec.task == "binary":
        raise DataError(
            f"labels {', '.join(map(repr, extra[:3]))} do not occur in the training set "
            f"(its labels: {', '.join(map(repr, sorted(set(labels[0]))[:5]))})",
            path=spec.population,
            field=spec.target,
            hint="the population must be labelled as the training set is",
        )
    if spec.task != "binary":
        return []
    values = sorted(set(labels[0]) | set(labels[1]))
    table = [[int((lab == v).sum()) for v in values] for lab in labels]
    shares = [[c / max(sum(row), 1) for c in row] for row in table]
    gap = max(abs(a - b) for a, b in zip(shares[0], shares[1], strict=True))
    p_value = chi2_contingency(table)[1] if len(values) > 1 else 1.0
    if gap < 0.05 or p_value >= 1e-6:
        return []
    worst = max(range(len(values)), key=lambda i: abs(shares[0][i] - shares[1][i]))
    return [
        f"The population's label mix differs from the training set's ({values[worst]!r}: "
        f"{shares[0][worst]:.1%} of the training set, {shares[1][worst]:.1%} of the "
        "population): the membership attacks then tell the two apart by label as well as "
        "by memorisation, so their figures overstate the risk. Use a population drawn as "
        "the training set was."
    ]


def fairness_edges(ctx: RunContext) -> dict[str, list[float]] | None:
    """The cut points of the protected attributes that the fairness engine binned.

    Membership exposure per protected group must use the fairness slices' groups, so the
    attacks take the engine's recorded edges. Attributes absent from them are taken value by
    value, as the engine took them. Without fairness evidence (None), the attacks bin as the
    engine would, on their data.
    """
    if ctx.fairness is None:
        return None
    return {attr: list(edges) for attr, edges in ctx.fairness.bin_edges.items()}


def run(ctx: RunContext) -> PrivacySection:
    from attacks import (
        ATTACK_FAMILIES,
        MEMBERSHIP_ATTACKS,
        MembershipOptions,
        TabularEncoder,
        dp_reference_points,
        run_attribute_inference,
        run_inversion,
        run_membership,
    )
    from compliance.evidence.privacy import PrivacySection

    spec = ctx.spec
    requested = [a.strip() for a in spec.attacks if a.strip()]
    unknown = [a for a in requested if a not in ATTACK_FAMILIES and a not in MEMBERSHIP_ATTACKS]
    if unknown:
        raise InputError(
            f"unknown attack(s) {', '.join(unknown)}; known: {', '.join(ATTACK_FAMILIES)}, or a "
            f"membership attack by name ({', '.join(MEMBERSHIP_ATTACKS)})",
            field="attacks",
        )
    single = [a for a in requested if a in MEMBERSHIP_ATTACKS]
    do_membership = "membership" in requested or bool(single)
    needs_data = do_membership or "attribute" in requested or "dp" in requested
    members = population = None
    if needs_data:
        members = _read(spec.train, "the training set", "--train", ctx)
        population = _read(spec.population, "non-members", "--population", ctx)
    notes: list[str] = []
    delta = spec.dp_delta
    if (
        "dp" in requested
        and members is not None
        and delta is not None
        and delta >= 1 / len(members)
    ):
        raise InputError(
            f"--dp-delta {spec.dp_delta:g} is not below 1/n for the {len(members)} training "
            f"records ({1 / len(members):.2g}): at such a delta a DP model may publish a "
            "record outright",
            field="dp_delta",
            hint="leave --dp-delta out for 1/n^2",
        )
    if members is not None and population is not None:
        mismatch = _check_files(members, population, ctx)
        notes += mismatch
        ctx.warnings.extend(mismatch)
    membership = []
    strongest = risk = None
    if do_membership:
        assert members is not None and population is not None
        outcome = run_membership(
            ctx.model,
            members,
            population,
            target=spec.target,
            positive_label=spec.positive_label,
            attacks=None if "membership" in requested else single,
            options=MembershipOptions(
                reference_models=spec.reference_models,
                seed=spec.seed,
                jobs=spec.jobs,
                min_slice_size=spec.min_slice_size,
                bins=fairness_edges(ctx),
                quantile_bins=spec.quantile_bins,
            ),
            protected=spec.protected,
            recipe=spec.recipe,
            predictions_column=spec.predictions_column,
            scores_column=spec.scores_column,
            members_path=spec.train,
            population_path=spec.population,
            progress=ctx.progress,
        )
        membership, strongest, risk = outcome.results, outcome.strongest, outcome.risk
        # the report prints the section's notes together: each names its attack
        notes += [f"Membership inference: {n[:1].lower()}{n[1:]}" for n in outcome.notes]
    attribute = []
    if "attribute" in requested:
        assert members is not None and population is not None
        if ctx.model is None or not ctx.model.has_proba:
            notes.append(
                "Attribute inference needs a model with probability outputs; it did not run."
            )
        else:
            binned = set(ctx.fairness.bins) if ctx.fairness is not None else set()
            for attr in spec.sensitive or spec.protected:
                if not spec.sensitive and attr in binned:
                    notes.append(
                        f"Attribute inference of '{attr}' did not run: it is numeric (binned "
                        "for fairness), and the attack infers categories; name categorical "
                        "attributes with --sensitive."
                    )
                    continue
                with ctx.progress.step(f"Attribute inference: {attr}"):
                    attribute.append(
                        run_attribute_inference(
                            ctx.model,
                            members,
                            population,
                            target=spec.target,
                            attribute=attr,
                            positive_label=spec.positive_label,
                            seed=spec.seed,
                            members_path=spec.train,
                            population_path=spec.population,
                        )
                    )
    inversion = None
    if "inversion" in requested:
        with ctx.progress.step("Model inversion"):
            X = ctx.frame.drop(columns=[spec.target])
            if ctx.model is not None and ctx.model.feature_names:
                X = X[ctx.model.feature_names]
            numeric = X.select_dtypes("number")
            inversion = run_inversion(
                ctx.model,
                numeric.to_numpy(dtype=float),
                np.asarray(ctx.y_true, dtype=int),
                seed=spec.seed,
            )
    dp_reference = []
    if "dp" in requested:
        assert members is not None and population is not None
        with ctx.progress.step("Differentially private reference models"):
            features = [c for c in members.columns if c != spec.target and c in ctx.frame.columns]
            from compliance.labels import encode_binary_target

            y_tr, _ = encode_binary_target(
                members[spec.target],
                positive_label=spec.positive_label,
                path=str(spec.train),
                field=spec.target,
            )
            encoder = TabularEncoder.from_public(population[features])
            methods = ["diffprivlib"]
            if ctx.model is not None and ctx.model.kind == "torch":
                methods.append("opacus")
            dp_reference = dp_reference_points(
                encoder.transform(members[features]).to_numpy(),
                y_tr,
                encoder.transform(ctx.frame[features]).to_numpy(),
                ctx.y_true,
                epsilons=spec.dp_epsilons or DP_EPSILONS,
                delta=spec.dp_delta,
                data_norm=encoder.data_norm,
                methods=methods,
                seed=spec.seed,
            )
            notes.append(
                "DP reference models are encoded with category lists and numeric bounds read "
                "from the population file (public data), and tested on the evaluation data."
            )
    target_accuracy = (
        round(float(np.mean(np.asarray(ctx.y_pred) == np.asarray(ctx.y_true))), 6)
        if spec.task == "binary"
        else None
    )
    return PrivacySection(
        membership=membership,
        membership_risk=risk,
        strongest_attack=strongest,
        attribute=attribute,
        inversion=inversion,
        dp_reference=dp_reference,
        target_accuracy=target_accuracy,
        seed=spec.seed,
        notes=notes,
    )
