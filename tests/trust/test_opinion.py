"""Tests of the subjective-logic core: worked examples, published vectors, properties.

No database: `confiance.trust.opinion` is pure Python. Expected values are
derived by hand in the comments. The "published" vectors are the ones in the
test suite of vs-uulm/go-subjectivelogic (Ulm University), re-derived here from
Jøsang (2016) before being used.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import astuple
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from confiance.trust.opinion import (
    DEFAULT_HALF_LIFE,
    DEFAULT_PRIOR_WEIGHT,
    Evidence,
    Opinion,
    averaging_fuse,
    cumulative_fuse,
    decay_factor,
    discount,
    fuse_many,
    weighted_average,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DAY = 86_400.0


def assert_close(actual: Opinion, expected: Opinion, tol: float = 1e-9) -> None:
    assert astuple(actual) == pytest.approx(astuple(expected), abs=tol)


def assert_valid(opinion: Opinion) -> None:
    b, d, u, a = astuple(opinion)
    assert all(0.0 <= x <= 1.0 for x in (b, d, u, a))
    assert math.isclose(b + d + u, 1.0, abs_tol=1e-9)
    p = opinion.projected()
    low, high = opinion.band(z=2.0)
    assert 0.0 <= low <= p <= high <= 1.0


# -- strategies ------------------------------------------------------------------------

unit = st.floats(min_value=0.0, max_value=1.0)
amounts = st.floats(min_value=0.0, max_value=1e6)
prior_weights = st.floats(min_value=0.1, max_value=10.0)


@st.composite
def masses_opinions(draw: st.DrawFn) -> Opinion:
    belief = draw(unit)
    disbelief = draw(st.floats(min_value=0.0, max_value=1.0 - belief))
    return Opinion(belief, disbelief, max(0.0, 1.0 - belief - disbelief), draw(unit))


evidence_opinions = st.builds(Opinion.from_evidence, amounts, amounts, unit)
# Neither dogmatic nor vacuous: some evidence, but finite.
informed_opinions = st.builds(
    Opinion.from_evidence,
    st.floats(min_value=0.01, max_value=1e4),
    st.floats(min_value=0.01, max_value=1e4),
    unit,
)
opinions = st.one_of(
    masses_opinions(),
    evidence_opinions,
    st.builds(Opinion.dogmatic, unit, unit),
    st.builds(Opinion.vacuous, unit),
)


# -- Opinion ---------------------------------------------------------------------------


def test_from_evidence_8_positive_2_negative_by_hand() -> None:
    # N = r + s + W = 8 + 2 + 2 = 12; P = 8/12 + 0.5 * 2/12 = 9/12.
    opinion = Opinion.from_evidence(8, 2, 0.5)
    assert_close(opinion, Opinion(8 / 12, 2 / 12, 2 / 12, 0.5))
    assert opinion.projected() == pytest.approx(0.75)


def test_from_evidence_without_evidence_is_vacuous() -> None:
    assert Opinion.from_evidence(0, 0, 0.3) == Opinion.vacuous(0.3)
    assert Opinion.vacuous(0.3).projected() == 0.3


def test_prior_weight_scales_the_uncertainty() -> None:
    # W = 10: N = 8 + 2 + 10 = 20.
    assert_close(Opinion.from_evidence(8, 2, 0.5, prior_weight=10), Opinion(0.4, 0.1, 0.5, 0.5))


def test_dogmatic_opinion_is_a_bare_probability() -> None:
    opinion = Opinion.dogmatic(0.7, 0.2)
    assert_close(opinion, Opinion(0.7, 0.3, 0.0, 0.2))
    assert opinion.is_dogmatic
    assert not opinion.is_vacuous
    assert opinion.projected() == 0.7


def test_to_evidence_inverts_from_evidence() -> None:
    assert Opinion(8 / 12, 2 / 12, 2 / 12, 0.5).to_evidence() == pytest.approx((8.0, 2.0))
    assert Opinion.vacuous(0.5).to_evidence() == (0.0, 0.0)


def test_to_evidence_of_a_dogmatic_opinion_raises() -> None:
    with pytest.raises(ValueError, match="infinite evidence"):
        Opinion.dogmatic(1.0, 0.5).to_evidence()


def test_variance_is_that_of_the_equivalent_beta() -> None:
    # (8, 2, a=0.5, W=2) -> Beta(alpha = 8 + 1, beta = 2 + 1):
    # var = 9*3 / (12**2 * 13) = 27/1872; also P(1-P)u/(W+u) = 0.1875 * (1/6) / (13/6).
    opinion = Opinion.from_evidence(8, 2, 0.5)
    assert opinion.variance() == pytest.approx(27 / 1872)
    sigma = math.sqrt(27 / 1872)
    assert opinion.band() == pytest.approx((0.75 - sigma, 0.75 + sigma))
    assert opinion.band(z=2.0) == pytest.approx((0.75 - 2 * sigma, 0.75 + 2 * sigma))


def test_vacuous_variance_is_that_of_the_prior_beta() -> None:
    # a = 0.3, W = 2 -> Beta(0.6, 1.4): 0.6*1.4 / (2**2 * 3) = 0.07.
    assert Opinion.vacuous(0.3).variance() == pytest.approx(0.07)


def test_band_of_a_dogmatic_opinion_is_a_point_and_is_clipped_to_unit_interval() -> None:
    assert Opinion.dogmatic(0.7, 0.5).band() == (0.7, 0.7)
    low, high = Opinion.vacuous(0.98).band(z=3.0)
    assert high == 1.0
    assert 0.0 < low < 0.98


@given(amounts, amounts, unit, prior_weights)
def test_variance_matches_the_beta_formula(r: float, s: float, a: float, w: float) -> None:
    alpha, beta = r + w * a, s + w * (1 - a)
    expected = alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))
    assert Opinion.from_evidence(r, s, a, w).variance(w) == pytest.approx(expected, abs=1e-12)


@given(amounts, amounts, unit, prior_weights)
def test_evidence_round_trips(r: float, s: float, a: float, w: float) -> None:
    back = Opinion.from_evidence(r, s, a, w).to_evidence(w)
    assert back == pytest.approx((r, s), rel=1e-9, abs=1e-9)


def test_opinion_accepts_rounding_noise_and_stores_floats() -> None:
    opinion = Opinion(0.1, 0.2, 0.7, 0.5)  # 0.1 + 0.2 + 0.7 == 1.0000000000000002
    assert opinion.belief == 0.1
    assert type(Opinion(1, 0, 0, 1).belief) is float


@pytest.mark.parametrize(
    "masses",
    [
        (0.5, 0.5, 0.5, 0.5),  # sums to 1.5
        (0.5, 0.5, 1e-8, 0.5),  # off by more than 1e-9
        (-0.1, 0.6, 0.5, 0.5),
        (1.1, -0.1, 0.0, 0.5),
        (0.5, 0.5, 0.0, 1.2),
        (0.5, 0.5, 0.0, -0.01),
        (math.nan, 0.5, 0.5, 0.5),
        (0.5, 0.5, 0.0, math.nan),
    ],
)
def test_invalid_opinion_is_rejected(masses: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError):
        Opinion(*masses)


def test_non_number_component_is_rejected() -> None:
    with pytest.raises(TypeError):
        Opinion(True, False, False, 0.5)  # bools are ints to mypy, not to the check


@pytest.mark.parametrize(
    ("r", "s", "w"),
    [(-1, 0, 2), (0, -0.5, 2), (math.inf, 0, 2), (math.nan, 0, 2), (1, 1, 0), (1, 1, -2)],
)
def test_from_evidence_rejects_negative_or_infinite_evidence_and_bad_prior(
    r: float, s: float, w: float
) -> None:
    with pytest.raises(ValueError):
        Opinion.from_evidence(r, s, 0.5, prior_weight=w)


def test_dogmatic_and_band_reject_out_of_range_arguments() -> None:
    with pytest.raises(ValueError):
        Opinion.dogmatic(1.5, 0.5)
    with pytest.raises(ValueError):
        Opinion.vacuous(0.5).band(z=-1.0)


def test_opinion_is_immutable() -> None:
    opinion = Opinion.vacuous(0.5)
    with pytest.raises(AttributeError):
        opinion.belief = 1.0  # type: ignore[misc]


# -- cumulative fusion -----------------------------------------------------------------


def test_cumulative_fusion_adds_evidence_by_hand() -> None:
    # u_A = 2/12, u_B = 2/6, k = 1/6 + 1/3 - 1/18 = 4/9,
    # b = (2/3 * 1/3 + 1/6 * 1/6) / (4/9) = 9/16, i.e. evidence (8 + 1, 2 + 3).
    fused = cumulative_fuse(Opinion.from_evidence(8, 2, 0.5), Opinion.from_evidence(1, 3, 0.5))
    assert_close(fused, Opinion(9 / 16, 5 / 16, 2 / 16, 0.5))


def test_cumulative_fusion_base_rate_weighs_each_side_by_its_evidence() -> None:
    # u_A = 1/6, u_B = 1/2: (0.2*0.5 + 0.8/6 - 1.0/12) / (1/6 + 1/2 - 2/12) = 0.15/0.5 = 0.3,
    # the base rates averaged with weights 10 and 2 (their amounts of evidence).
    fused = cumulative_fuse(Opinion.from_evidence(8, 2, 0.2), Opinion.from_evidence(1, 1, 0.8))
    assert_close(fused, Opinion(9 / 14, 3 / 14, 2 / 14, 0.3))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # k = 0.1 + 0.305 - 0.0305 = 0.3745; b = (0.6*0.305 + 0.091*0.1)/k;
        # d = (0.3*0.305 + 0.604*0.1)/k; u = 0.0305/k;
        # a = (0*0.305 + 0.4*0.1 - 0.4*0.0305) / (0.405 - 0.061) = 0.0278/0.344.
        (
            (0.6, 0.3, 0.1, 0.0),
            (0.091, 0.604, 0.305, 0.4),
            (0.5129506008011, 0.4056074766355, 0.08144192256342, 0.08081395348837),
        ),
        (
            (0.091, 0.604, 0.305, 0.4),
            (0.53, 0.227, 0.243, 1.0),
            (0.3877797355899, 0.4558215600831, 0.156398704327, 0.7465267528829),
        ),
        ((0.4, 0.0, 0.6, 0.5), (0.7, 0.0, 0.3, 0.5), (0.75, 0.0, 0.25, 0.5)),
        ((0.0, 1.0, 0.0, 0.5), (0.6, 0.3, 0.1, 0.0), (0.0, 1.0, 0.0, 0.5)),
        ((0.0, 0.0, 1.0, 0.5), (0.6, 0.3, 0.1, 0.0), (0.6, 0.3, 0.1, 0.0)),
    ],
)
def test_cumulative_fusion_published_vectors(
    a: tuple[float, float, float, float],
    b: tuple[float, float, float, float],
    expected: tuple[float, float, float, float],
) -> None:
    assert_close(cumulative_fuse(Opinion(*a), Opinion(*b)), Opinion(*expected), tol=1e-12)


def test_cumulative_fusion_of_two_dogmatic_opinions_averages_by_default() -> None:
    fused = cumulative_fuse(Opinion.dogmatic(1.0, 0.5), Opinion.dogmatic(0.0, 0.5))
    assert fused == Opinion(0.5, 0.5, 0.0, 0.5)


def test_cumulative_fusion_of_two_dogmatic_opinions_follows_the_relative_weight() -> None:
    # gamma_A = 0.75: b = 0.75*1 + 0.25*0; a = 0.75*0.2 + 0.25*0.6 = 0.3.
    fused = cumulative_fuse(
        Opinion.dogmatic(1.0, 0.2), Opinion.dogmatic(0.0, 0.6), relative_weight=0.75
    )
    assert_close(fused, Opinion(0.75, 0.25, 0.0, 0.3))


def test_cumulative_fusion_with_one_dogmatic_opinion_yields_it() -> None:
    dogmatic = Opinion.dogmatic(0.7, 0.2)
    other = Opinion.from_evidence(1, 9, 0.6)
    assert cumulative_fuse(dogmatic, other) == dogmatic
    assert cumulative_fuse(other, dogmatic) == dogmatic


def test_cumulative_fusion_of_two_vacuous_opinions_averages_base_rates() -> None:
    fused = cumulative_fuse(Opinion.vacuous(0.2), Opinion.vacuous(0.6))
    assert_close(fused, Opinion.vacuous(0.4))


def test_relative_weight_out_of_range_is_rejected() -> None:
    with pytest.raises(ValueError):
        cumulative_fuse(Opinion.vacuous(0.5), Opinion.vacuous(0.5), relative_weight=1.5)
    with pytest.raises(ValueError):
        averaging_fuse(Opinion.vacuous(0.5), Opinion.vacuous(0.5), relative_weight=-0.1)


@given(amounts, amounts, amounts, amounts, unit, prior_weights)
def test_cumulative_fusion_equals_summed_evidence(
    r1: float, s1: float, r2: float, s2: float, a: float, w: float
) -> None:
    fused = cumulative_fuse(
        Opinion.from_evidence(r1, s1, a, w), Opinion.from_evidence(r2, s2, a, w)
    )
    assert_close(fused, Opinion.from_evidence(r1 + r2, s1 + s2, a, w))


@given(opinions, unit)
def test_vacuous_opinion_is_neutral_for_cumulative_fusion(x: Opinion, a: float) -> None:
    if x.is_vacuous:  # then the base rates are averaged
        assert_close(cumulative_fuse(x, Opinion.vacuous(a)), Opinion.vacuous((x.base_rate + a) / 2))
    else:
        assert_close(cumulative_fuse(x, Opinion.vacuous(a)), x)
        assert_close(cumulative_fuse(Opinion.vacuous(a), x), x)


@given(unit, unit, opinions)
def test_dogmatic_opinion_absorbs_a_non_dogmatic_one_in_cumulative_fusion(
    belief: float, a: float, x: Opinion
) -> None:
    if x.is_dogmatic:
        return
    dogmatic = Opinion.dogmatic(belief, a)
    assert cumulative_fuse(dogmatic, x) == dogmatic


@given(opinions, opinions)
def test_cumulative_fusion_is_commutative(x: Opinion, y: Opinion) -> None:
    assert cumulative_fuse(x, y) == cumulative_fuse(y, x)


@given(informed_opinions, informed_opinions, informed_opinions)
def test_cumulative_fusion_is_associative_without_dogmatic_or_vacuous_opinions(
    x: Opinion, y: Opinion, z: Opinion
) -> None:
    left = cumulative_fuse(cumulative_fuse(x, y), z)
    right = cumulative_fuse(x, cumulative_fuse(y, z))
    assert_close(left, right, tol=1e-9)


# -- averaging fusion ------------------------------------------------------------------


def test_averaging_fusion_averages_evidence_by_hand() -> None:
    # u_A = 1/6, u_B = 1/3: b = (2/3 * 1/3 + 1/3 * 1/6) / (1/2) = 5/9,
    # u = 2 * (1/18) / (1/2) = 2/9, i.e. evidence ((8 + 2)/2, (2 + 2)/2) = (5, 2).
    fused = averaging_fuse(Opinion.from_evidence(8, 2, 0.5), Opinion.from_evidence(2, 2, 0.5))
    assert_close(fused, Opinion(5 / 9, 2 / 9, 2 / 9, 0.5))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # A vacuous opinion dilutes: b = 0.6/1.1, d = 0.3/1.1, u = 2*0.1/1.1, a = 0.25.
        ((0.0, 0.0, 1.0, 0.5), (0.6, 0.3, 0.1, 0.0), (6 / 11, 3 / 11, 2 / 11, 0.25)),
        # b = (0.6*0.305 + 0.091*0.1)/0.405 = 0.1921/0.405.
        (
            (0.6, 0.3, 0.1, 0.0),
            (0.091, 0.604, 0.305, 0.4),
            (0.4743209876543, 0.3750617283951, 0.1506172839506, 0.2),
        ),
        (
            (0.091, 0.604, 0.305, 0.4),
            (0.53, 0.227, 0.243, 1.0),
            (0.3353339416058, 0.3941733576642, 0.2704927007299, 0.7),
        ),
        ((0.0, 1.0, 0.0, 0.5), (0.6, 0.3, 0.1, 0.0), (0.0, 1.0, 0.0, 0.25)),
    ],
)
def test_averaging_fusion_published_vectors(
    a: tuple[float, float, float, float],
    b: tuple[float, float, float, float],
    expected: tuple[float, float, float, float],
) -> None:
    assert_close(averaging_fuse(Opinion(*a), Opinion(*b)), Opinion(*expected), tol=1e-12)


def test_averaging_fusion_of_two_dogmatic_opinions() -> None:
    assert averaging_fuse(Opinion.dogmatic(1.0, 0.2), Opinion.dogmatic(0.0, 0.6)) == Opinion(
        0.5, 0.5, 0.0, 0.4
    )
    weighted = averaging_fuse(
        Opinion.dogmatic(1.0, 0.2), Opinion.dogmatic(0.0, 0.6), relative_weight=0.75
    )
    assert_close(weighted, Opinion(0.75, 0.25, 0.0, 0.4))


def test_averaging_fusion_with_one_dogmatic_opinion_keeps_its_masses() -> None:
    dogmatic = Opinion.dogmatic(0.7, 0.2)
    other = Opinion.from_evidence(1, 9, 0.6)
    assert_close(averaging_fuse(dogmatic, other), Opinion(0.7, 0.3, 0.0, 0.4))
    assert_close(averaging_fuse(other, dogmatic), Opinion(0.7, 0.3, 0.0, 0.4))


def test_averaging_fusion_of_two_vacuous_opinions() -> None:
    assert_close(averaging_fuse(Opinion.vacuous(0.2), Opinion.vacuous(0.6)), Opinion.vacuous(0.4))


@given(amounts, amounts, amounts, amounts, unit, prior_weights)
def test_averaging_fusion_equals_averaged_evidence(
    r1: float, s1: float, r2: float, s2: float, a: float, w: float
) -> None:
    fused = averaging_fuse(Opinion.from_evidence(r1, s1, a, w), Opinion.from_evidence(r2, s2, a, w))
    assert_close(fused, Opinion.from_evidence((r1 + r2) / 2, (s1 + s2) / 2, a, w))


@given(opinions, opinions)
def test_averaging_fusion_is_commutative(x: Opinion, y: Opinion) -> None:
    assert averaging_fuse(x, y) == averaging_fuse(y, x)


@given(opinions)
def test_averaging_fusion_is_idempotent(x: Opinion) -> None:
    assert_close(averaging_fuse(x, x), x)


# -- discounting -----------------------------------------------------------------------


def test_discount_by_hand() -> None:
    # P_T = 0.75: b = 0.75 * 2/3 = 0.5, d = 0.75 * 1/6 = 0.125, u = 0.375.
    trust = Opinion.from_evidence(8, 2, 0.5)
    assert_close(discount(trust, Opinion.from_evidence(8, 2, 0.5)), Opinion(0.5, 0.125, 0.375, 0.5))


@pytest.mark.parametrize(
    ("trust", "x", "expected"),
    [
        # P_T = 0.6: (0.6*0.091, 0.6*0.604, 1 - 0.4170, 0.4).
        ((0.6, 0.3, 0.1, 0.0), (0.091, 0.604, 0.305, 0.4), (0.0546, 0.3624, 0.583, 0.4)),
        # P_T = 0.091 + 0.4*0.305 = 0.213.
        ((0.091, 0.604, 0.305, 0.4), (0.6, 0.3, 0.1, 0.0), (0.1278, 0.0639, 0.8083, 0.0)),
        # A vacuous trust with base rate 0.5 halves the masses.
        ((0.0, 0.0, 1.0, 0.5), (0.6, 0.3, 0.1, 0.0), (0.3, 0.15, 0.55, 0.0)),
    ],
)
def test_discount_published_vectors(
    trust: tuple[float, float, float, float],
    x: tuple[float, float, float, float],
    expected: tuple[float, float, float, float],
) -> None:
    assert_close(discount(Opinion(*trust), Opinion(*x)), Opinion(*expected), tol=1e-12)


@given(opinions)
def test_discount_by_vacuous_trust_with_base_rate_zero_is_vacuous(x: Opinion) -> None:
    assert discount(Opinion.vacuous(0.0), x) == Opinion.vacuous(x.base_rate)


@given(opinions)
def test_discount_by_full_distrust_is_vacuous(x: Opinion) -> None:
    assert discount(Opinion.dogmatic(0.0, 0.9), x) == Opinion.vacuous(x.base_rate)


@given(opinions)
def test_discount_by_full_trust_leaves_the_opinion(x: Opinion) -> None:
    assert_close(discount(Opinion.dogmatic(1.0, 0.5), x), x)


@given(opinions, opinions)
def test_discount_never_lowers_uncertainty(trust: Opinion, x: Opinion) -> None:
    assert discount(trust, x).uncertainty >= x.uncertainty - 1e-12


# -- every output is an opinion --------------------------------------------------------


@given(opinions, opinions, st.floats(min_value=0.0, max_value=1.0))
def test_every_operator_returns_a_valid_opinion(x: Opinion, y: Opinion, gamma: float) -> None:
    assert_valid(x)
    assert_valid(y)
    assert_valid(cumulative_fuse(x, y, relative_weight=gamma))
    assert_valid(averaging_fuse(x, y, relative_weight=gamma))
    assert_valid(discount(x, y))
    assert_valid(discount(y, x))
    assert_valid(fuse_many([x, y, x]))
    assert_valid(fuse_many([x, y, x], fuse=averaging_fuse))


@given(amounts, amounts, unit, prior_weights)
def test_from_evidence_returns_a_valid_opinion(r: float, s: float, a: float, w: float) -> None:
    assert_valid(Opinion.from_evidence(r, s, a, w))


# -- fuse_many -------------------------------------------------------------------------


def test_fuse_many_pools_all_the_evidence() -> None:
    parts = [Opinion.from_evidence(r, s, 0.5) for r, s in [(3, 1), (0, 2), (5, 0)]]
    assert_close(fuse_many(parts), Opinion.from_evidence(8, 3, 0.5))


def test_fuse_many_folds_the_given_operator() -> None:
    x, y, z = (Opinion.from_evidence(r, 1, 0.5) for r in (1, 4, 9))
    assert fuse_many([x, y, z], fuse=averaging_fuse) == averaging_fuse(averaging_fuse(x, y), z)


def test_fuse_many_of_one_opinion_is_that_opinion() -> None:
    x = Opinion.from_evidence(3, 1, 0.5)
    assert fuse_many(iter([x])) is x


def test_fuse_many_of_nothing_raises() -> None:
    with pytest.raises(ValueError, match="at least one"):
        fuse_many([])


@given(st.lists(informed_opinions, min_size=1, max_size=6), st.randoms())
def test_fuse_many_cumulative_does_not_depend_on_order(
    parts: list[Opinion], rng: random.Random
) -> None:
    shuffled = list(parts)
    rng.shuffle(shuffled)
    assert_close(fuse_many(shuffled), fuse_many(parts), tol=1e-9)


# -- decay -----------------------------------------------------------------------------


def test_decay_halves_at_the_half_life() -> None:
    h = DEFAULT_HALF_LIFE.total_seconds()
    assert decay_factor(0.0, h) == 1.0
    assert decay_factor(h, h) == 0.5
    assert decay_factor(2 * h, h) == 0.25
    assert decay_factor(math.inf, h) == 0.0


@pytest.mark.parametrize(
    ("elapsed", "half_life"),
    [(-1.0, DAY), (math.nan, DAY), (1.0, 0.0), (1.0, -DAY), (1.0, math.inf), (1.0, math.nan)],
)
def test_decay_factor_rejects_negative_time_and_bad_half_life(
    elapsed: float, half_life: float
) -> None:
    with pytest.raises(ValueError):
        decay_factor(elapsed, half_life)


@given(
    st.floats(min_value=0.0, max_value=1e10),
    st.floats(min_value=0.0, max_value=1e10),
    st.floats(min_value=1.0, max_value=1e9),
)
def test_decay_is_monotone_non_increasing(t1: float, t2: float, h: float) -> None:
    earlier, later = sorted((t1, t2))
    assert 0.0 <= decay_factor(later, h) <= decay_factor(earlier, h) <= 1.0


@given(st.floats(min_value=0.0, max_value=1e8), st.floats(min_value=1.0, max_value=1e8))
def test_one_more_half_life_halves_the_factor(t: float, h: float) -> None:
    assert decay_factor(t + h, h) == pytest.approx(decay_factor(t, h) / 2, rel=1e-9, abs=1e-300)


# -- Evidence --------------------------------------------------------------------------

NINETY_DAYS = timedelta(days=90)


def test_adding_after_one_half_life_halves_the_old_evidence() -> None:
    later = T0 + NINETY_DAYS
    assert Evidence(4, 2, T0).add(1, 0, later, NINETY_DAYS) == Evidence(3, 1, later)


def test_a_late_event_is_decayed_instead_of_the_accumulator() -> None:
    later = T0 + NINETY_DAYS
    assert Evidence(3, 1, later).add(2, 2, T0, NINETY_DAYS) == Evidence(4, 2, later)


def test_decayed_to_values_evidence_later() -> None:
    assert Evidence(4, 2, T0).decayed_to(T0 + 2 * NINETY_DAYS, NINETY_DAYS) == Evidence(
        1, 0.5, T0 + 2 * NINETY_DAYS
    )


def test_decayed_to_an_earlier_time_raises() -> None:
    with pytest.raises(ValueError, match="back to"):
        Evidence(1, 0, T0).decayed_to(T0 - timedelta(seconds=1), NINETY_DAYS)


def test_the_same_instant_in_another_timezone_does_not_decay() -> None:
    paris = T0.astimezone(timezone(timedelta(hours=1)))
    assert Evidence(4, 2, T0).decayed_to(paris, NINETY_DAYS).positive == 4.0


@pytest.mark.parametrize(
    "naive_use",
    [
        lambda: Evidence(0, 0, datetime(2025, 1, 6)),
        lambda: Evidence.empty(T0).add(1, 0, datetime(2025, 2, 6), NINETY_DAYS),
        lambda: Evidence.empty(T0).decayed_to(datetime(2025, 2, 6), NINETY_DAYS),
    ],
)
def test_naive_datetimes_are_rejected(naive_use: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        naive_use()


@pytest.mark.parametrize(("positive", "negative"), [(-1, 0), (0, -1), (math.nan, 0), (0, math.inf)])
def test_negative_or_non_finite_evidence_is_rejected(positive: float, negative: float) -> None:
    with pytest.raises(ValueError):
        Evidence(positive, negative, T0)
    with pytest.raises(ValueError):
        Evidence.empty(T0).add(positive, negative, T0, NINETY_DAYS)


def test_evidence_opinion_is_from_evidence() -> None:
    assert Evidence(8, 2, T0).opinion(0.5) == Opinion.from_evidence(8, 2, 0.5)
    assert Evidence(8, 2, T0).opinion(0.5, prior_weight=10) == Opinion.from_evidence(
        8, 2, 0.5, prior_weight=10
    )
    assert Evidence.empty(T0).opinion(0.3) == Opinion.vacuous(0.3)
    assert DEFAULT_PRIOR_WEIGHT == 2.0


events = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=100.0),
        st.floats(min_value=0.0, max_value=100.0),
        st.integers(min_value=0, max_value=400 * 86_400),
    ),
    min_size=1,
    max_size=8,
)


@given(events, st.randoms(), st.integers(min_value=3_600, max_value=365 * 86_400))
def test_incremental_updates_in_any_order_equal_the_batch_computation(
    batch: list[tuple[float, float, int]], rng: random.Random, half_life_seconds: int
) -> None:
    half_life = timedelta(seconds=half_life_seconds)
    arrival = list(batch)
    rng.shuffle(arrival)

    accumulated = Evidence.empty(T0)
    for positive, negative, offset in arrival:
        accumulated = accumulated.add(positive, negative, T0 + timedelta(seconds=offset), half_life)

    last = max(offset for _, _, offset in batch)
    weights = [decay_factor(last - offset, half_life_seconds) for _, _, offset in batch]
    expected_positive = math.fsum(p * w for (p, _, _), w in zip(batch, weights, strict=True))
    expected_negative = math.fsum(n * w for (_, n, _), w in zip(batch, weights, strict=True))

    assert accumulated.at == T0 + timedelta(seconds=last)
    assert accumulated.positive == pytest.approx(expected_positive, rel=1e-9, abs=1e-9)
    assert accumulated.negative == pytest.approx(expected_negative, rel=1e-9, abs=1e-9)
    assert_valid(accumulated.opinion(0.5))


# -- weighted average (the overall figure of a direction) -------------------------------

weights = st.floats(min_value=0.01, max_value=10.0)


def test_weighted_average_by_hand() -> None:
    # Reliability known well and good, transparency unknown: half of each.
    known = Opinion.from_evidence(8.0, 0.0, 0.5)  # (0.8, 0, 0.2), P = 0.9
    unknown = Opinion.vacuous(0.5)  # P = 0.5
    mean = weighted_average([(known, 1.0), (unknown, 1.0)])
    assert_close(mean, Opinion(0.4, 0.0, 0.6, 0.5))
    assert mean.projected() == pytest.approx(0.7)


@given(st.lists(st.tuples(opinions, weights), min_size=1, max_size=6))
def test_weighted_average_lies_between_the_lowest_and_highest_dimension(
    items: list[tuple[Opinion, float]],
) -> None:
    mean = weighted_average(items)
    assert_valid(mean)
    projected = [o.projected() for o, _w in items]
    assert min(projected) - 1e-9 <= mean.projected() <= max(projected) + 1e-9
    expected = math.fsum(o.projected() * w for o, w in items) / math.fsum(w for _o, w in items)
    assert mean.projected() == pytest.approx(expected, abs=1e-9)


@given(st.lists(st.tuples(informed_opinions, weights), min_size=1, max_size=5), weights, unit)
def test_a_dimension_without_evidence_raises_the_uncertainty(
    items: list[tuple[Opinion, float]], weight: float, a: float
) -> None:
    before = weighted_average(items)
    after = weighted_average([*items, (Opinion.vacuous(a), weight)])
    assert after.uncertainty > before.uncertainty
    # Never more certain than the dimensions it summarises.
    assert after.uncertainty >= min(o.uncertainty for o, _w in items) - 1e-9


@given(opinions, weights)
def test_weighted_average_of_one_opinion_is_that_opinion(x: Opinion, w: float) -> None:
    mean = weighted_average([(x, w)])
    assert mean.projected() == pytest.approx(x.projected(), abs=1e-9)
    assert mean.uncertainty == pytest.approx(x.uncertainty, abs=1e-9)


def test_weighted_average_rejects_nothing_and_bad_weights() -> None:
    with pytest.raises(ValueError):
        weighted_average([])
    with pytest.raises(ValueError):
        weighted_average([(Opinion.vacuous(0.5), 0.0)])
    with pytest.raises(ValueError):
        weighted_average([(Opinion.vacuous(0.5), -1.0)])


def _dimensions() -> tuple[str, ...]:
    from confiance.trust import indicators

    return indicators.DIMENSIONS


_EVIDENCE = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(
    found=st.dictionaries(
        st.tuples(st.sampled_from(["c2p", "p2c"]), st.sampled_from(list(_dimensions()))),
        st.tuples(_EVIDENCE, _EVIDENCE),
    ),
    base_rate=st.floats(min_value=0.0, max_value=1.0),
)
def test_the_portfolio_ranking_weighs_each_direction_as_the_trust_page(
    found: dict[tuple[str, str], tuple[float, float]], base_rate: float
) -> None:
    # The ranking's inlined weighted average gives overall_of's very floats, bit for bit.
    from confiance.trust.selectors import _overall
    from confiance.trust.services import overall_of

    opinions = {key: Opinion.from_evidence(r, s, base_rate) for key, (r, s) in found.items()}
    for direction in ("c2p", "p2c"):
        expected = astuple(overall_of(opinions, direction, base_rate))
        assert _overall(found, direction, base_rate) == expected


@given(r=_EVIDENCE, s=_EVIDENCE, base_rate=st.floats(min_value=0.0, max_value=1.0))
def test_a_heat_map_cell_shows_the_figure_of_its_opinion(
    r: float, s: float, base_rate: float
) -> None:
    from confiance.trust.opinion import evidence_masses
    from confiance.trust.selectors import Figure, _heat_cell

    cell = _heat_cell(evidence_masses(r, s, base_rate))
    figure = Figure("reliability", "", Opinion.from_evidence(r, s, base_rate))
    assert (cell.projected, cell.low, cell.high) == (figure.projected, figure.low, figure.high)


def test_a_heat_map_cell_is_grey_until_enough_is_known_then_coloured_by_its_figure() -> None:
    from confiance.trust.opinion import evidence_masses
    from confiance.trust.selectors import _heat_cell

    def css(r: float, s: float) -> str:
        return _heat_cell(evidence_masses(r, s, 0.5)).css

    assert css(0.0, 0.0) == "heat-unknown"  # u = 1
    assert css(0.4, 0.0) == "heat-unknown"  # u = 2/2.4 > 0.8
    assert css(20.0, 0.0) == "heat-high"  # P = (20 + 1)/22
    assert css(6.0, 3.0) == "heat-mid"  # P = 7/11 = 0.64
    assert css(5.0, 5.0) == "heat-low"  # P = 0.5
    assert css(0.0, 20.0) == "heat-bad"  # P = 1/22


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_portfolio_names_each_kind_of_alert_as_the_alert_does(language: str) -> None:
    from django.utils import translation

    from confiance.trust.models import TrustAlert
    from confiance.trust.tables import _kind_labels

    with translation.override(language):
        labels = _kind_labels(translation.get_language())
        for kind, _label in TrustAlert._meta.get_field("kind").flatchoices:  # type: ignore[union-attr]
            assert labels[kind] == TrustAlert(kind=kind).get_kind_display()
        assert "gone" not in labels  # a kind no longer offered is shown as is (portfolio_rows)
