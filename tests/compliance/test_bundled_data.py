"""Bundled data loads through the user's path; it matches the shared originals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from compliance.datasets import convert_adult, load_bundled

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_bundled_sets_load_with_expected_shape() -> None:
    train = load_bundled("adult-train")
    test = load_bundled("adult-test")
    german = load_bundled("german-credit")
    assert train.shape == (32561, 15) and test.shape == (16281, 15)
    assert set(train["income"].unique()) == set(test["income"].unique()) == {"<=50K", ">50K"}
    assert german.shape == (1000, 10) and set(german["risk"].unique()) == {0, 1}
    assert train["workclass"].isna().sum() == 1836  # '?' read as missing


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not beside this checkout")
@pytest.mark.parametrize(
    ("raw", "name"), [("adult.data", "adult-train"), ("adult.test", "adult-test")]
)
def test_bundled_adult_equals_conversion_of_the_original(raw: str, name: str) -> None:
    converted = convert_adult(SHARED / raw)
    bundled = load_bundled(name)
    pd.testing.assert_frame_equal(converted.reset_index(drop=True), bundled, check_dtype=False)
