"""Membership inference on small Adult splits: power, honesty of fallbacks, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attacks import MEMBERSHIP_ATTACKS, MembershipOptions, run_membership
from compliance.errors import InputError
from compliance.evidence._base import Estimate
from compliance.evidence.privacy import AttackResult
from compliance.models import ModelHandle

FAST = MembershipOptions(reference_models=2, max_eval=1500, population_z=1000, label_queries=4)


@pytest.fixture(scope="module")
def forest_outcome(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> Any:
    members, population = adult_small
    return run_membership(
        forest_target, members, population, target="income", options=FAST, protected=["sex", "race"]
    )


def _by_name(outcome: Any) -> dict[str, AttackResult]:
    return {r.name: r for r in outcome.results}


def test_every_default_attack_reports_the_required_figures(forest_outcome: Any) -> None:
    results = _by_name(forest_outcome)
    assert set(results) == {
        "loss",
        "lira_offline",
        "lira_online",
        "rmia",
        "rmia_online",
        "label_only",
    }
    for r in results.values():
        assert set(r.tpr_at_fpr) == {"0.01", "0.001"}
        assert r.n_members == r.n_nonmembers == 1500
        assert r.epsilon_lower_bound is not None and r.epsilon_lower_bound >= 0
        assert r.roc[-1] == (1.0, 1.0)
        assert r.risk in {"low", "inconclusive", "moderate", "high"} and r.summary
    assert results["rmia"].reference_models == 2 and results["loss"].reference_models == 0
    assert results["rmia"].reference_family is not None
    assert (
        "RandomForestClassifier" in results["rmia"].reference_family
        or "Pipeline" in results["rmia"].reference_family
    )
    assert results["rmia"].reference_seconds is not None and results["rmia"].reference_seconds > 0


def test_reference_attacks_expose_a_memorising_forest(forest_outcome: Any) -> None:
    """A fully grown forest on 3,000 rows leaks: RMIA is far above random guessing."""
    results = _by_name(forest_outcome)
    rmia = results["rmia_online"]
    assert rmia.auc is not None and rmia.auc > 0.75
    assert (rmia.tpr_at_fpr["0.01"] or 0) > 0.08  # 8x random guessing at 1% FPR
    assert rmia.epsilon_lower_bound is not None and rmia.epsilon_lower_bound > 1.0
    # on 1,500 non-members the 1% FPR threshold rests on 15 false positives: the
    # distribution-free lower bound is past 5x random guessing but under 10x; the reading
    # is high on epsilon: nearly every member gets the forest's full vote, and the share of
    # non-members below a threshold is many times the share of members (TNR against FNR)
    bounds = rmia.tpr_at_fpr_bounds["0.01"]
    assert bounds.ci_low is not None and 0.05 < bounds.ci_low < 0.10
    assert rmia.epsilon_lower_bound > 2.0
    assert rmia.risk == "high" and forest_outcome.risk == "high"
    assert "epsilon passes 2" in (rmia.summary or "")
    assert forest_outcome.strongest in {"rmia", "rmia_online"}
    # reference models calibrate per-record difficulty: better than the plain loss
    assert rmia.auc > (results["loss"].auc or 0)
    # offline LiRA on one OUT model per record still beats random guessing at 1% FPR
    assert (results["lira_offline"].tpr_at_fpr["0.01"] or 0) > 0.015


def test_slices_report_protected_groups(forest_outcome: Any) -> None:
    rmia = _by_name(forest_outcome)["rmia_online"]
    groups = {next(iter(s.attributes.items())) for s in rmia.slices}
    assert ("sex", "Female") in groups and ("sex", "Male") in groups
    small = [s for s in rmia.slices if s.insufficient]
    assert small and all(s.auc is None and min(s.n_members, s.n_nonmembers) < 30 for s in small)
    big = [s for s in rmia.slices if not s.insufficient]
    assert all(s.auc is not None and 0 <= (s.tpr_at_fpr["0.01"] or 0) <= 1 for s in big)
    male = next(s for s in big if s.attributes == {"sex": "Male"})
    female = next(s for s in big if s.attributes == {"sex": "Female"})
    assert male.n_members + female.n_members == rmia.n_members
    # each judged group's share caught carries its Clopper-Pearson interval at the threshold
    from scipy import stats

    for s in big:
        ci = s.tpr_at_fpr_ci["0.01"]
        k = round((s.tpr_at_fpr["0.01"] or 0) * s.n_members)
        low = 0.0 if k == 0 else stats.beta.ppf(0.025, k, s.n_members - k + 1)
        high = 1.0 if k == s.n_members else stats.beta.ppf(0.975, k + 1, s.n_members - k)
        assert ci.value == s.tpr_at_fpr["0.01"]
        assert ci.ci_low == pytest.approx(low, abs=1e-6)
        assert ci.ci_high == pytest.approx(high, abs=1e-6)
    assert all(not s.tpr_at_fpr_ci for s in small)


def test_a_regularised_model_reads_as_low_risk(
    adult_small: tuple[pd.DataFrame, pd.DataFrame], make_handle: Callable[..., ModelHandle]
) -> None:
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    members, population = adult_small
    X = members.drop(columns="income")
    pre = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_exclude="number")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(X, members["income"])
    out = run_membership(
        make_handle(model, list(X.columns)),
        members,
        population,
        target="income",
        attacks=["loss", "rmia"],
        options=FAST,
    )
    for r in out.results:
        assert r.auc is not None and r.auc < 0.56
        assert r.risk == "low", r.summary
        assert (r.epsilon_lower_bound or 0) < 0.5


def test_determinism_and_json_round_trip_for_every_registered_attack(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    opts = MembershipOptions(
        reference_models=2, max_eval=400, population_z=300, label_queries=2, seed=7
    )
    runs = [
        run_membership(
            forest_target,
            members,
            population,
            target="income",
            attacks=list(MEMBERSHIP_ATTACKS),
            options=opts,
            protected=["sex"],
        )
        for _ in range(2)
    ]
    assert [r.name for r in runs[0].results] == list(MEMBERSHIP_ATTACKS)
    for a, b in zip(runs[0].results, runs[1].results, strict=True):
        strip = {"seconds", "reference_seconds"}
        assert a.model_dump(exclude=strip) == b.model_dump(exclude=strip)
        assert AttackResult.model_validate_json(a.model_dump_json()) == a
    other = run_membership(
        forest_target,
        members,
        population,
        target="income",
        attacks=["rmia"],
        options=MembershipOptions(reference_models=2, max_eval=400, population_z=300, seed=8),
    )
    assert other.results[0].auc != runs[0].results[list(MEMBERSHIP_ATTACKS).index("rmia")].auc


def test_overlap_between_members_and_population_is_refused_with_a_count(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    leaky = pd.concat([population, members.iloc[:7]], ignore_index=True)
    with pytest.raises(InputError, match=r"7 of the population's 6007 rows also appear") as info:
        run_membership(
            forest_target, members, leaky, target="income", options=FAST, population_path="pop.csv"
        )
    assert info.value.field == "population" and info.value.path == "pop.csv"


def test_population_too_small_for_reference_models(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    with pytest.raises(InputError, match="too few to train 3 reference model"):
        run_membership(
            forest_target,
            members,
            population.iloc[:1200],
            target="income",
            attacks=["rmia"],
            options=MembershipOptions(reference_models=3, max_eval=1500),
        )
    # the number the refusal asks for is the fewest rows that run: one fewer is refused
    from attacks.membership import _population_needed

    opts = MembershipOptions(reference_models=2, max_eval=400)
    need = _population_needed(len(members), opts.max_eval, paired=True)
    with pytest.raises(InputError, match=f"give at least {need} population rows"):
        run_membership(
            forest_target, members, population.iloc[: need - 1], target="income",
            attacks=["rmia"], options=opts,
        )  # fmt: skip
    ran = run_membership(
        forest_target, members, population.iloc[:need], target="income",
        attacks=["rmia"], options=opts,
    )  # fmt: skip
    assert ran.results[0].reference_models == 2
    # attacks without reference models still run on the small population
    out = run_membership(
        forest_target,
        members,
        population.iloc[:1200],
        target="income",
        attacks=["loss"],
        options=FAST,
    )
    assert out.results[0].n_nonmembers == 1200


def test_unknown_attack_is_refused(forest_target: ModelHandle, adult_small: Any) -> None:
    members, population = adult_small
    with pytest.raises(InputError, match=r"unknown membership attack.*shadow"):
        run_membership(forest_target, members, population, target="income", attacks=["shadow"])


def test_model_without_probabilities_falls_back_to_label_only(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    labels_only = ModelHandle(
        kind="sklearn",
        path=None,
        estimator=forest_target.estimator,
        feature_names=forest_target.feature_names,
        predict_proba_fn=None,
        predict_fn=forest_target.predict_fn,
        classes=forest_target.classes,
    )
    out = run_membership(labels_only, members, population, target="income", options=FAST)
    assert [r.name for r in out.results] == ["label_only"]
    assert any("no probabilities" in n and "label-only attack ran instead" in n for n in out.notes)
    r = out.results[0]
    assert r.reference_models == 0
    # members of a memorising forest keep their label under perturbation more often
    assert r.auc is not None and r.auc > 0.53


def test_outputs_only_audit_uses_recorded_predictions(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    feats = forest_target.feature_names
    m = members.assign(pred=forest_target.predict(members[feats]))
    p = population.assign(pred=forest_target.predict(population[feats]))
    out = run_membership(
        None,
        m,
        p,
        target="income",
        predictions_column="pred",
        options=FAST,
        attacks=["loss", "rmia", "label_only"],
    )
    assert [r.name for r in out.results] == ["label_only"]
    assert any("no probabilities" in n for n in out.notes)
    assert any("recorded prediction is correct" in n for n in out.results[0].notes)
    assert out.results[0].auc is not None and out.results[0].auc > 0.55  # train accuracy 1.0
    with pytest.raises(InputError, match="predictions"):
        run_membership(None, members, population, target="income", options=FAST)


def test_exposure_of_a_numeric_attribute_is_per_bin_not_per_value() -> None:
    import numpy as np

    from attacks import evaluate_scores
    from compliance.slicing import bin_labels

    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame({"age": rng.integers(17, 91, n), "sex": rng.choice(["F", "M"], n)})
    is_member = np.repeat([1, 0], n // 2)
    scores = rng.normal(size=n) + is_member
    auto = evaluate_scores("loss", is_member, scores, seed=0, frame=frame, protected=["age"])
    ages = [s.attributes["age"] for s in auto.slices]
    assert 2 <= len(ages) <= 4 and not any(a.isdigit() for a in ages)
    given = evaluate_scores(
        "loss",
        is_member,
        scores,
        seed=0,
        frame=frame,
        protected=["age", "sex"],
        bins={"age": [25, 40, 60]},
    )
    groups = {(k, v) for s in given.slices for k, v in s.attributes.items()}
    assert groups == {("age", b) for b in bin_labels([25, 40, 60])} | {("sex", "F"), ("sex", "M")}
    # with edges given, attributes they do not name stay value by value (as in the engine)
    small = frame.assign(age=frame["age"] % 12)
    per_value = evaluate_scores(
        "loss", is_member, scores, seed=0, frame=small, protected=["age"], bins={}
    )
    assert len(per_value.slices) == 12


def test_suite_bounds_hold_jointly(
    forest_outcome: Any,
    forest_target: ModelHandle,
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Six attacks: each bound at 1 - 0.05/12, so that the worst reading, which rests on
    12 lower bounds (TPR and epsilon per attack), holds at 95% (Bonferroni); one attack
    alone: at 97.5%. The wider level gives a smaller (never larger) bound."""
    import policies
    from compliance.assessment import Assessment, ModelInfo, Provenance
    from compliance.evidence.privacy import PrivacySection

    results = _by_name(forest_outcome)
    for r in results.values():
        assert r.epsilon_confidence == pytest.approx(1 - 0.05 / 12)
    assert any(
        "one-sided at 99.5% confidence, so that the worst reading over the 12 lower bounds of "
        "the 6 attack(s) holds at 95% (Bonferroni)" in n
        for n in forest_outcome.notes
    )
    members, population = adult_small
    alone = run_membership(
        forest_target, members, population, target="income", options=FAST, attacks=["rmia"]
    )
    (single,) = alone.results
    assert single.epsilon_confidence == pytest.approx(0.975)
    assert single.tpr_at_fpr == results["rmia"].tpr_at_fpr  # same scores, same seed
    assert (single.epsilon_lower_bound or 0) >= (results["rmia"].epsilon_lower_bound or 0)
    section = PrivacySection(membership=list(results.values()))
    assessment = Assessment(
        created_at="2026-11-29T00:00:00+00:00",
        provenance=Provenance(
            tool_version="0", python="3.11", platform="test", packages={}, seed=0, command=[]
        ),
        inputs=[],
        model=ModelInfo(kind="predictions", description="test", task="binary"),
        privacy=section,
    )
    evaluated = policies.evaluate(assessment, [policies.load_pack("privacy")])
    p2 = next(f for f in evaluated.findings if f.check == "P2")
    # the largest of 6 epsilon bounds, each at 1 - 0.05/12: jointly 97.5%
    assert "at 97.5% confidence over the 6 attacks" in p2.message


def test_no_attack_left_to_run_is_a_clear_input_error(
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """An outputs-only audit cannot train reference models: asking only for RMIA leaves
    nothing to run, which is said in one message (it used to divide by zero)."""
    members, population = adult_small
    with pytest.raises(InputError, match="no membership attack can run here: Outputs-only"):
        run_membership(
            None, members.assign(pred=0, score=0.5), population.assign(pred=0, score=0.5),
            target="income", options=FAST, attacks=["rmia"],
            predictions_column="pred", scores_column="score",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("low", "high", "eps", "risk", "bounds", "why"),
    [
        # both bounds under 3% and epsilon under 0.5: low
        (0.012, 0.0291, 0.3, "low", "at least 1.20% and at most 2.91%", "upper bound is under 3%"),
        # 3.4% measured, bounds 2.9%-4.0%: neither shown above 3% nor ruled out
        (0.029, 0.040, 0.3, "inconclusive", "at least 2.90% and at most 4.00%", "straddle 3%"),
        # lower bound 3.97% (printed rounded down), over 3x random guessing: moderate
        (0.0397, 0.05, 0.3, "moderate", "at least 3.97% and", "lower bound passes 3%"),
        # a low TPR, but epsilon 0.6 >= 0.5: moderate, and the sentence says epsilon decided
        (0.016, 0.025, 0.6, "moderate", "at least 1.60% and at most 2.50%", "epsilon passes 0.5"),
        # lower bound 11.16% >= 10%: high
        (0.1116, 0.13, 0.0, "high", "at least 11.16% and", "lower bound passes 10%"),
        # epsilon >= 2 is high whatever the TPR
        (0.02, 0.05, 2.1, "high", "at least 2.00% and at most 5.00%", "epsilon passes 2"),
    ],
)
def test_risk_rule_bands_and_the_bound_it_prints(
    low: float, high: float, eps: float, risk: str, bounds: str, why: str
) -> None:
    """The rule compares the one-sided bounds on TPR at 1% FPR (at the attack's
    confidence) with 3% and 10%, and the epsilon bound with 0.5 and 2: high and moderate
    need the lower bound (or epsilon) past the line, low needs the upper bound under 3%;
    in between the reading is inconclusive. The sentence prints both bounds (the lower
    rounded down, the upper rounded up) and says which one decided."""
    from attacks.membership import assess_risk

    tpr = (low + high) / 2
    result = AttackResult(
        name="rmia", auc=0.6, tpr_at_fpr={"0.01": tpr, "0.001": tpr / 5},
        tpr_at_fpr_ci={"0.01": Estimate(value=tpr, ci_low=low + 0.001, ci_high=high - 0.001)},
        tpr_at_fpr_bounds={"0.01": Estimate(value=tpr, ci_low=low, ci_high=high)},
        epsilon_lower_bound=eps, epsilon_confidence=0.95, n_members=4000, n_nonmembers=4000,
        reference_models=4, seconds=1.0,
    )  # fmt: skip
    got, sentence = assess_risk(result)
    assert got == risk, sentence
    assert sentence.startswith(f"{risk} membership risk")
    assert bounds in sentence and f"with empirical epsilon >= {eps:.2f}" in sentence, sentence
    assert why in sentence, sentence


def test_a_file_without_recorded_bounds_reads_them_from_clopper_pearson() -> None:
    """Schema 1.2 and older hold no `tpr_at_fpr_bounds`: 42 of 1,070 members gives the
    one-sided Clopper-Pearson bounds 2.998% and 5.048% at 95% (scipy's beta quantiles), so
    inconclusive; the lower bound prints rounded down (to the nearest it read 'at least
    3.00%') and the upper rounded up."""
    from attacks.membership import assess_risk

    result = AttackResult(
        name="rmia", auc=0.6, tpr_at_fpr={"0.01": 42 / 1070, "0.001": 0.005},
        epsilon_lower_bound=0.3, epsilon_confidence=0.95, n_members=1070, n_nonmembers=1070,
        reference_models=4, seconds=1.0,
    )  # fmt: skip
    risk, words = assess_risk(result)
    assert (
        risk == "inconclusive"
        and "at least 2.99% and at most 5.05%" in words
        and "straddle" in words
    ), words


def test_an_upper_bound_just_under_the_line_never_prints_as_the_line() -> None:
    from attacks.membership import assess_risk

    result = AttackResult(
        name="rmia", auc=0.55, tpr_at_fpr={"0.01": 0.02, "0.001": 0.002},
        tpr_at_fpr_bounds={"0.01": Estimate(value=0.02, ci_low=0.012, ci_high=0.029991)},
        epsilon_lower_bound=0.1, epsilon_confidence=0.95, n_members=9000, n_nonmembers=9000,
        reference_models=4, seconds=1.0,
    )  # fmt: skip
    risk, words = assess_risk(result)
    assert risk == "low" and "at most 2.9991%" in words, words


def test_tied_top_scores_get_a_note_with_the_random_tie_break() -> None:
    """40% of members and 28% of non-members share the top score: no threshold flags 1%
    of non-members, so TPR at 1% FPR reads 0 (below random guessing). A note gives what
    flagging the tied records at random finds: 1% / 28% of the tied 40% of members."""
    from attacks.membership import evaluate_scores

    n = 2000
    rng = np.random.default_rng(0)
    is_member = np.r_[np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)]
    scores = rng.random(2 * n) * 0.9
    scores[: int(0.40 * n)] = 1.0
    scores[n : n + int(0.28 * n)] = 1.0
    r = evaluate_scores("loss", is_member, scores, seed=0)
    assert r.tpr_at_fpr["0.01"] == 0.0
    note = next(x for x in r.notes if x.startswith("at 1.0% FPR"))
    assert f"finds {0.01 / 0.28 * 0.40:.2%} of members" in note


def test_terminal_lines_name_the_attack_that_decides_the_suite_reading() -> None:
    """The strongest attack (highest TPR at 1% FPR) reads inconclusive, but another
    attack's epsilon bound of 0.6 makes the suite moderate: the lines must say which."""
    from attacks.membership import assess_risk
    from compliance.evidence.privacy import PrivacySection, privacy_lines

    def attack(name: str, tpr: float, low: float, high: float, eps: float) -> AttackResult:
        r = AttackResult(
            name=name, auc=0.56, tpr_at_fpr={"0.01": tpr, "0.001": tpr / 5},
            tpr_at_fpr_bounds={"0.01": Estimate(value=tpr, ci_low=low, ci_high=high)},
            epsilon_lower_bound=eps, epsilon_confidence=0.975, n_members=5000,
            n_nonmembers=5000, reference_models=4, seconds=1.0,
        )  # fmt: skip
        risk, summary = assess_risk(r)
        return r.model_copy(update={"risk": risk, "summary": summary})

    strongest = attack("rmia_online", 0.034, 0.029, 0.040, 0.2)
    other = attack("lira_offline", 0.025, 0.018, 0.033, 0.6)
    assert (strongest.risk, other.risk) == ("inconclusive", "moderate")
    section = PrivacySection(
        membership=[strongest, other], strongest_attack="rmia_online", membership_risk="moderate"
    )
    lines = privacy_lines(section)
    assert lines[0].startswith("Membership inference, the strongest of 2 attacks")
    assert "inconclusive membership risk" in lines[0]
    assert lines[1].startswith("The suite reads moderate from the lira_offline attack")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("no_score_column", "scores column not found"),
        ("missing_score", "1 rows have no score"),
        ("logit_score", "scores must be probabilities between 0 and 1"),
        ("missing_prediction", "1 rows have no prediction"),
    ],
)
def test_outputs_only_scores_and_predictions_must_be_complete_in_both_files(
    forest_target: ModelHandle,
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
    edit: str,
    message: str,
) -> None:
    """Records the target never saw on both sides (a null control): a population file
    without the scores column had every non-member scored NaN, then ranked lowest, and the
    loss attack read AUC 1.0, 'high' risk. Each such file is refused, naming it."""
    _, population = adult_small
    feats = forest_target.feature_names
    rows = np.random.default_rng(0).permutation(len(population))
    fake, pop = population.iloc[rows[:1500]], population.iloc[rows[1500:]]
    fake, pop = (
        f.assign(
            pred=forest_target.predict(f[feats]), score=forest_target.predict_proba(f[feats])[:, 1]
        ).reset_index(drop=True)
        for f in (fake, pop)
    )
    if edit == "no_score_column":
        pop = pop.drop(columns="score")
    elif edit == "missing_score":
        pop.loc[5, "score"] = np.nan
    elif edit == "logit_score":
        pop.loc[5, "score"] = 3.2
    else:
        pop.loc[5, "pred"] = None
    with pytest.raises(InputError, match=message) as info:
        run_membership(
            None, fake, pop, target="income", options=FAST, attacks=["loss", "label_only"],
            predictions_column="pred", scores_column="score", population_path="pop.csv",
        )  # fmt: skip
    assert info.value.path == "pop.csv"


def test_offline_lira_keeps_the_order_of_records_with_one_out_model_each() -> None:
    """Two reference models in an IN/OUT pair leave each record one OUT model: no spread
    around its OUT mean, so the pooled sigma is clamped to 1e-3. The score must still order
    records by how far the target's logit lies above their OUT mean; the normal logcdf of
    that z-score rounds to 0.0 past z = 38 and tied half of a forest's records at the top
    (TPR at 1% FPR 0.0 where the ordering finds 2.7%)."""
    from attacks.membership import AttackInputs, LiraOffline, _logit

    rng = np.random.default_rng(0)
    n = 400
    ref_in = np.zeros((2, n), dtype=bool)
    ref_in[0, : n // 2] = ref_in[1, n // 2 :] = True
    ref_p = rng.uniform(0.05, 0.95, (2, n))
    data = AttackInputs(
        is_member=np.r_[np.ones(n // 2), np.zeros(n // 2)].astype(np.int8),
        correct=np.ones(n, dtype=bool),
        target_p=rng.uniform(0.05, 0.95, n),
        ref_p=ref_p,
        ref_in=ref_in,
    )
    scores = LiraOffline().score(data)
    gap = _logit(data.target_p) - _logit(np.where(ref_in, ref_p[::-1], ref_p)[0])
    assert np.unique(scores).size == n
    assert (np.argsort(scores) == np.argsort(gap)).all()


def test_overlap_is_found_whatever_type_each_file_gives_a_column(
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """A numeric column with one empty cell reads as floats (39.0), the other file's as
    integers (39), and a file may quote numbers as text: compared as text, the 7 shared
    records went unseen and the run went on with members among the non-members."""
    from attacks import check_overlap

    members, population = adult_small
    columns = list(members.columns)
    leaky = pd.concat([population, members.iloc[:7]], ignore_index=True)
    as_float = leaky.astype({"age": float, "hours-per-week": float})
    as_float.loc[0, "capital-gain"] = np.nan  # the gap that made the file's column float
    as_text = leaky.astype({"fnlwgt": str}).assign(sex=" " + leaky["sex"])
    for frame in (as_float, as_text):
        with pytest.raises(InputError, match=r": 7 of the population's 6007 rows"):
            check_overlap(members, frame, columns=columns)
    # distinct values stay distinct, a missing value only matches a missing value
    check_overlap(members, population, columns=columns)
    other = members.iloc[:7].assign(age=members["age"].iloc[:7] + 0.5)
    check_overlap(members, other.astype({"age": float}), columns=columns)
    gap = members.iloc[:7].astype({"age": float})
    gap.loc[gap.index[0], "age"] = np.nan
    with pytest.raises(InputError, match=r": 6 of the population's 7 rows"):
        check_overlap(members, gap, columns=columns)


@pytest.fixture(scope="module")
def null_split(adult_small: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two disjoint sets of records the forest never saw: 1,500 play the members."""
    _, population = adult_small
    rows = np.random.default_rng(0).permutation(len(population))
    return (
        population.iloc[rows[:1500]].reset_index(drop=True),
        population.iloc[rows[1500:]].reset_index(drop=True),
    )


@pytest.mark.parametrize(
    ("k", "names"),
    [(2, list(MEMBERSHIP_ATTACKS)), (3, ["lira_offline", "rmia"])],
    ids=["paired", "offline"],
)
def test_null_control_every_attack_finds_nothing(
    forest_target: ModelHandle,
    null_split: tuple[pd.DataFrame, pd.DataFrame],
    k: int,
    names: list[str],
) -> None:
    """The target trained on neither side: every attack, on paired and on offline-only
    reference models, must read about AUC 0.5 (one standard error is 0.011 here), no
    epsilon, and no moderate or high risk."""
    fake, population = null_split
    opts = MembershipOptions(reference_models=k, max_eval=1500, population_z=1000, label_queries=4)
    out = run_membership(
        forest_target, fake, population, target="income", attacks=names, options=opts
    )
    assert [r.name for r in out.results] == names
    for r in out.results:
        assert r.auc is not None and abs(r.auc - 0.5) < 0.03, (r.name, r.auc)
        assert (r.epsilon_lower_bound or 0.0) < 0.5, r.summary
        assert r.risk in {"low", "inconclusive"}, r.summary


@pytest.mark.parametrize("k", [2, 3], ids=["paired", "offline"])
def test_reference_models_never_train_on_a_copy_of_an_evaluated_record_unrecorded(
    forest_target: ModelHandle,
    null_split: tuple[pd.DataFrame, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
    k: int,
) -> None:
    """Every population record twice: a non-member's copy trained reference models that
    the IN/OUT mask called OUT for it (members' copies are refused as overlap), so only
    non-members looked like training records to their OUT models. Over 6 seeds of this
    null control that lifted mean AUC to 0.521 (offline LiRA) and 0.522 (online RMIA).
    Now a reference model's training set holds a copy of an evaluated record exactly
    where the mask says IN, and the non-members are distinct records."""
    import attacks.membership as membership

    fake, population = null_split
    doubled = pd.concat([population, population], ignore_index=True)
    seen: dict[str, Any] = {}
    real = membership.train_reference_models

    def spy(trainer: Any, **kw: Any) -> Any:
        seen.update(kw, signals=real(trainer, **kw))
        return seen["signals"]

    monkeypatch.setattr(membership, "train_reference_models", spy)
    opts = MembershipOptions(reference_models=k, max_eval=1500, population_z=1000)
    out = run_membership(
        forest_target, fake, doubled, target="income", attacks=["rmia"], options=opts
    )
    rows = membership._row_hashes(seen["X"].assign(income=seen["y01"]))
    n_eval = 2 * out.results[0].n_members
    evaluated = rows[seen["points"][:n_eval]]
    assert np.unique(evaluated).size == n_eval
    for subset, trained_on in zip(seen["subsets"], seen["signals"].trained_on, strict=True):
        assert (np.isin(evaluated, rows[subset]) == trained_on[:n_eval]).all()
    assert any("are copies of evaluated non-members" in n for n in out.notes)
