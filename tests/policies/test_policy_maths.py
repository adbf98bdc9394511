"""Property tests for the small pure functions the checks rest on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency

import policies
from compliance.errors import PolicyError
from policies._builtin._common import holm, two_proportion_p

pvalues = st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=12)


@given(pvalues)
def test_holm_matches_its_definition(ps: list[float | None]) -> None:
    adjusted = holm(ps)
    present = sorted((p, i) for i, p in enumerate(ps) if p is not None)
    m = len(present)
    for rank, (_p, i) in enumerate(present):
        # Holm: the running maximum of (m - j) * p_(j) over the first ranks, capped at 1.
        expected = min(1.0, max((m - j) * present[j][0] for j in range(rank + 1)))
        assert adjusted[i] == pytest.approx(expected)
        assert ps[i] is not None and ps[i] <= adjusted[i] <= 1.0  # type: ignore[operator]
    assert all((a is None) == (p is None) for a, p in zip(adjusted, ps, strict=True))


@settings(max_examples=200)
@given(st.integers(1, 400), st.integers(1, 400), st.floats(0, 1), st.floats(0, 1))
def test_two_proportion_p_is_the_chi_square_test(n1: int, n2: int, r1: float, r2: float) -> None:
    x1, x2 = round(r1 * n1), round(r2 * n2)
    p = two_proportion_p(x1, n1, x2, n2)
    assert p is not None and 0.0 <= p <= 1.0
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    if min(x1 + x2, n1 + n2 - x1 - x2) == 0:
        assert p == 1.0  # nobody (or everybody) selected: no difference to test
        return
    assert p == pytest.approx(chi2_contingency(table, correction=False)[1], rel=1e-7, abs=1e-12)
    assert two_proportion_p(x2, n2, x1, n1) == pytest.approx(p)


def test_a_taken_check_id_is_refused() -> None:
    @policies.check("attestation", register=False)
    def impostor(ctx: object, params: object, thresholds: object) -> policies.Outcome:
        return policies.Outcome("pass", "Always.")

    with pytest.raises(PolicyError, match="check id 'attestation' is already registered"):
        policies.register_check(impostor)
    assert policies.get_check("attestation") is not impostor
