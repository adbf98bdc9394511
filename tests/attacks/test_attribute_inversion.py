"""Attribute inference against its imputation baseline; MIFace inversion on digits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from attacks import run_attribute_inference, run_inversion
from compliance.errors import InputError
from compliance.evidence.privacy import AttributeInferenceResult, InversionResult
from compliance.models import ModelHandle


def test_attribute_inference_is_judged_against_imputation(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    r = run_attribute_inference(
        forest_target,
        members,
        population,
        target="income",
        attribute="sex",
        max_records=1500,
        max_train=3000,
    )
    assert r.model_queried and r.n_records == 1500 and r.n_classes == 2
    # sex is largely predictable from relationship etc.: the baseline is strong on its own
    assert r.baseline_accuracy.value is not None and r.baseline_accuracy.value > 0.75
    adv = r.advantage
    assert adv.value == pytest.approx(
        (r.attack_accuracy.value or 0) - (r.baseline_accuracy.value or 0), abs=1e-6
    )
    assert adv.value is not None and adv.ci_low is not None and adv.ci_high is not None
    assert adv.ci_low < adv.value < adv.ci_high
    assert adv.ci_high - adv.ci_low < 0.05
    assert "advantage" in r.summary
    assert AttributeInferenceResult.model_validate_json(r.model_dump_json()) == r
    again = run_attribute_inference(
        forest_target,
        members,
        population,
        target="income",
        attribute="sex",
        max_records=1500,
        max_train=3000,
    )
    assert again.model_dump(exclude={"seconds"}) == r.model_dump(exclude={"seconds"})


def test_attribute_inference_refuses_a_continuous_attribute(
    forest_target: ModelHandle, adult_small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    members, population = adult_small
    with pytest.raises(InputError, match=r"'fnlwgt' has \d+"):
        run_attribute_inference(
            forest_target, members, population, target="income", attribute="fnlwgt"
        )


def test_inversion_reconstructs_recognisable_digits() -> None:
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    perm = np.random.default_rng(0).permutation(len(X))
    train, held = perm[:900], perm[900:]
    torch.manual_seed(0)
    net = torch.nn.Linear(64, 10)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    xt, yt = torch.tensor(X[train], dtype=torch.float32), torch.tensor(y[train])
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    handle = ModelHandle(
        kind="torch",
        path=None,
        estimator=net,
        feature_names=None,
        predict_proba_fn=None,
        predict_fn=lambda f: np.zeros(len(f)),
    )
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    r = run_inversion(handle, X[held], y[held], shape=(8, 8), steps=200)
    assert torch.rand(1) == before  # the global random state is left alone
    assert r.applicable and r.n_classes == 10 and r.shape == [8, 8]
    # Clopper-Pearson on r.recognised of 10: 10/10 gives (0.69, 1), 8/10 (0.44, 0.97)
    ci = r.recognition_ci
    assert ci is not None and ci.ci_low is not None and ci.ci_high is not None
    assert ci.ci_low < r.recognition_rate <= ci.ci_high and ci.ci_low > 0.4
    # a class the evaluation data lacks still counts: the model's 10 outputs, not 9 labels
    nine = y[held] != 9
    short = run_inversion(handle, X[held][nine], y[held][nine], steps=200)
    assert short.n_classes == 10 and short.recognised <= 9
    assert r.recognised >= 8 and r.baseline_recognised is not None and r.baseline_recognised <= 1
    assert r.recognition_rate is not None and r.recognition_rate > 5 * (r.chance_rate or 1)
    assert len(r.reconstructions) == 10 and len(r.reconstructions[0]) == 64
    assert all(0.0 <= v <= 1.0 for row in r.reconstructions for v in row)
    assert InversionResult.model_validate_json(r.model_dump_json()) == r
    again = run_inversion(handle, X[held], y[held], shape=(8, 8), steps=200)
    assert again.reconstructions == r.reconstructions


def test_inversion_is_not_applicable_to_trees(forest_target: ModelHandle) -> None:
    r = run_inversion(forest_target, np.zeros((4, 2)), np.array([0, 1, 0, 1]))
    assert not r.applicable and r.reason is not None and "differentiable" in r.reason
    assert "sklearn" in r.reason


def test_an_attack_that_fails_to_learn_is_inconclusive_not_reassuring(
    forest_target: ModelHandle,
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The attack sees everything the baseline sees and more. When its classifier fails
    (scikit-learn's gradient boosting did, on 'education' with fnlwgt: 16% right against
    the baseline's 43%), the run says it bounds nothing, not 'no evidence'."""
    import sklearn.ensemble
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier

    made: list[int] = []

    def classifier(**kw: object) -> object:
        made.append(1)
        if len(made) >= 2:  # the attacks' classifiers (and prior): always the rarer value
            return DummyClassifier(strategy="constant", constant="Female")
        return HistGradientBoostingClassifier(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sklearn.ensemble, "HistGradientBoostingClassifier", classifier)
    members, population = adult_small
    r = run_attribute_inference(
        forest_target, members, population, target="income", attribute="sex",
        max_records=800, max_train=2000,
    )  # fmt: skip
    assert r.advantage.ci_high is not None and r.advantage.ci_high < 0
    assert "inconclusive" in r.summary and "bounds nothing" in r.summary
    assert "no evidence" not in r.summary


def test_an_advantage_that_rounds_to_zero_reads_plus_zero() -> None:
    from attacks.attribute import _signed_pct

    assert [_signed_pct(v) for v in (-0.00004, -0.003, 0.0123)] == ["+0.0%", "-0.3%", "+1.2%"]


def _paired(both: int, first_only: int, second_only: int, neither: int) -> tuple[Any, Any]:
    first = np.r_[np.ones(both + first_only), np.zeros(second_only + neither)].astype(bool)
    second = np.r_[
        np.ones(both), np.zeros(first_only), np.ones(second_only), np.zeros(neither)
    ].astype(bool)
    return first, second


def test_the_paired_interval_is_newcombes() -> None:
    """Newcombe's method 10 on the Cavo et al. (2012) table of Fagerland, Lydersen and
    Laake's 'Statistical Analysis of Contingency Tables', ch. 8: -0.0621 (-0.1186 to
    -0.0046). Five discordant records, all won by the first: McNemar's exact p is 0.0625,
    so the interval must include 0 (a normal interval on the differences, 0.0004 to
    0.0062, did not)."""
    from attacks.attribute import paired_difference_ci

    e = paired_difference_ci(*_paired(59, 6, 16, 80))
    assert (e.value, e.ci_low, e.ci_high) == pytest.approx((-0.0621, -0.1186, -0.0046), abs=1e-4)
    e = paired_difference_ci(*_paired(1200, 5, 0, 295))
    assert e.ci_low is not None and e.ci_low < 0 < (e.value or 0)


def test_an_attack_that_agrees_with_the_baseline_is_not_certain(
    adult_small: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """A model whose output is constant adds nothing: the attack predicts as the baseline
    does on every record. The advantage is 0, but 1,500 records do not prove it is exactly
    0 (the normal interval on the differences collapsed to 0 to 0)."""
    members, population = adult_small
    features = [c for c in members.columns if c != "income"]
    handle = ModelHandle(
        kind="sklearn", path=None, estimator=None, feature_names=features,
        predict_proba_fn=lambda f: np.full((len(f), 2), 0.5),
        predict_fn=lambda f: np.zeros(len(f)), classes=["<=50K", ">50K"],
    )  # fmt: skip
    r = run_attribute_inference(
        handle, members, population, target="income", attribute="sex",
        max_records=1500, max_train=3000,
    )  # fmt: skip
    adv = r.advantage
    assert adv.value is not None and abs(adv.value) < 0.01
    assert adv.ci_low is not None and adv.ci_high is not None
    assert adv.ci_low < adv.value < adv.ci_high and adv.ci_high - adv.ci_low > 0.002
    assert "no evidence" in r.summary


class _Lookup:
    """A model that memorised its training records exactly: 99% for a record's own label
    when every feature (sex included) matches a training record, 50% otherwise."""

    classes_ = np.array(["<=50K", ">50K"])

    def __init__(self, X: pd.DataFrame, y: pd.Series) -> None:
        self.columns = list(X.columns)
        rows = X.astype(str).itertuples(index=False)
        self.table = {tuple(r): label for r, label in zip(rows, y, strict=True)}

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.full((len(frame), 2), 0.5)
        for i, row in enumerate(frame[self.columns].astype(str).itertuples(index=False)):
            label = self.table.get(tuple(row))
            if label is not None:
                out[i] = [0.99, 0.01] if label == "<=50K" else [0.01, 0.99]
        return out

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_[self.predict_proba(frame).argmax(axis=1)])


def test_a_model_that_memorised_the_attribute_shows_an_advantage(
    adult_small: tuple[pd.DataFrame, pd.DataFrame], make_handle: Any
) -> None:
    """The positive control. Queried with a member's true sex, the lookup model is 99% sure
    of its label; with the other, 50%. The classifier learned on population records saw
    only 50% answers and learned nothing (advantage +0.0%, 'no evidence'); Fredrikson's
    estimator reads the memorised record: +6.7% (CI +5.2% to +8.2%) on these records."""
    members, population = adult_small
    X = members.drop(columns="income")
    lookup = _Lookup(X, members["income"])
    r = run_attribute_inference(
        make_handle(lookup, list(X.columns)), members, population, target="income",
        attribute="sex", max_records=1500, max_train=3000,
    )  # fmt: skip
    assert r.advantage.ci_low is not None and r.advantage.ci_low > 0.02
    assert "reveals the attribute" in r.summary and "(confidence)" in r.notes[0]


def test_a_model_that_never_saw_the_attribute_shows_none(
    adult_small: tuple[pd.DataFrame, pd.DataFrame], make_handle: Any
) -> None:
    """The negative control: a forest trained without sex is a function of the other
    features, which the baseline sees too; its advantage is within noise of 0."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    members, population = adult_small
    X = members.drop(columns=["income", "sex"])
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    forest = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical),
            remainder="passthrough",
        ),
        RandomForestClassifier(n_estimators=40, random_state=0),
    ).fit(X, members["income"])
    r = run_attribute_inference(
        make_handle(forest, list(X.columns)), members, population, target="income",
        attribute="sex", max_records=1500, max_train=3000,
    )  # fmt: skip
    adv = r.advantage
    assert not r.model_queried
    assert adv.ci_low is not None and adv.ci_high is not None and adv.value is not None
    assert adv.ci_low < 0 < adv.ci_high and abs(adv.value) < 0.02
    assert "no evidence" in r.summary


def test_the_attack_reported_is_one_whose_interval_shows_an_advantage() -> None:
    from attacks.attribute import reported_attack
    from compliance.evidence._base import Estimate

    learned = ("learned", np.zeros(1), Estimate(value=0.020, ci_low=-0.0047, ci_high=0.0448))
    confidence = ("confidence", np.ones(1), Estimate(value=0.016, ci_low=0.0066, ci_high=0.0259))
    assert reported_attack([learned, confidence])[0] == "confidence"
    weaker = ("confidence", np.ones(1), Estimate(value=0.010, ci_low=-0.01, ci_high=0.03))
    assert reported_attack([learned, weaker])[0] == "learned"


def test_inversion_leaves_a_module_saved_in_train_mode_unchanged() -> None:
    """A BatchNorm module in train mode crashed the class-count probe on one input (and
    would have moved its running statistics)."""
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(64, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 10)
    )
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    xt, yt = torch.tensor(X[:900], dtype=torch.float32), torch.tensor(y[:900])
    for _ in range(50):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    net.train()
    stats = net[1].running_mean.clone()
    handle = ModelHandle(
        kind="torch", path=None, estimator=net, feature_names=None,
        predict_proba_fn=None, predict_fn=lambda f: np.zeros(len(f)),
    )  # fmt: skip
    r = run_inversion(handle, X[900:], y[900:], steps=50)
    assert r.applicable and r.n_classes == 10
    assert net.training and torch.equal(net[1].running_mean, stats)
