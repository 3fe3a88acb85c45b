"""Binomial subjective-logic opinions, their fusion and discounting, and decaying evidence.

Follows Audun Jøsang, *Subjective Logic: A Formalism for Reasoning Under
Uncertainty*, Springer, 2016 (chapter 3 for opinions and their Beta mapping,
section 12.3 for cumulative fusion, 12.5 for averaging fusion, 14.3 for trust
discounting). Framework-free: nothing here imports Django, so it is tested
without a database.

An opinion ``(b, d, u, a)`` about "this party can be relied on" holds a belief
``b``, a disbelief ``d`` and an uncertainty ``u`` with ``b + d + u = 1``, and a
base rate ``a`` (the prior, here from the contact's origin). With ``r`` positive
and ``s`` negative pieces of evidence and the non-informative prior weight
``W = 2``::

    b = r / (r + s + W)    d = s / (r + s + W)    u = W / (r + s + W)
    P = b + a * u          (projected probability)

A *dogmatic* opinion has ``u = 0`` (infinite evidence); a *vacuous* one has
``u = 1`` (no evidence at all).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce

__all__ = [
    "DEFAULT_HALF_LIFE",
    "DEFAULT_PRIOR_WEIGHT",
    "Evidence",
    "Masses",
    "Opinion",
    "averaging_fuse",
    "cumulative_fuse",
    "decay_factor",
    "discount",
    "evidence_masses",
    "fuse_many",
    "projected_of",
    "weighted_average",
    "weighted_average_masses",
]

DEFAULT_PRIOR_WEIGHT = 2.0
"""The non-informative prior weight ``W`` (two outcomes, a uniform prior)."""

DEFAULT_HALF_LIFE = timedelta(days=90)
"""DESIGN.md's default half-life of evidence; the configured value wins."""

_TOLERANCE = 1e-9
"""How far ``b + d + u`` may be from 1 in a valid opinion."""

_ROUNDING_SLACK = 1e-6
"""How far a computed sum may drift before renormalising would hide a bug."""


@dataclass(frozen=True, slots=True)
class Opinion:
    """A binomial opinion ``(belief, disbelief, uncertainty, base_rate)``.

    Each component lies in [0, 1] and ``belief + disbelief + uncertainty == 1``
    within 1e-9; anything else raises ``ValueError``. Integers are stored as floats.
    """

    belief: float
    disbelief: float
    uncertainty: float
    base_rate: float

    def __post_init__(self) -> None:
        for name in ("belief", "disbelief", "uncertainty", "base_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a float, not {type(value).__name__}")
            if not 0.0 <= value <= 1.0:  # also rejects NaN
                raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
            object.__setattr__(self, name, float(value))
        total = self.belief + self.disbelief + self.uncertainty
        if abs(total - 1.0) > _TOLERANCE:
            raise ValueError(f"belief + disbelief + uncertainty must be 1, got {total!r}")

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_evidence(
        cls,
        r: float,
        s: float,
        base_rate: float,
        prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    ) -> Opinion:
        """The opinion from ``r`` positive and ``s`` negative (possibly decayed) evidence.

        ``b = r/(r+s+W)``, ``d = s/(r+s+W)``, ``u = W/(r+s+W)`` with ``W = prior_weight``.
        """
        return cls(*evidence_masses(r, s, base_rate, prior_weight))

    @classmethod
    def vacuous(cls, base_rate: float) -> Opinion:
        """Total ignorance ``(0, 0, 1, a)``: its projected probability is the base rate."""
        return cls(0.0, 0.0, 1.0, base_rate)

    @classmethod
    def dogmatic(cls, belief: float, base_rate: float) -> Opinion:
        """Certainty ``(b, 1 - b, 0, a)``: a bare probability, as if from infinite evidence."""
        if not 0.0 <= belief <= 1.0:
            raise ValueError(f"belief must lie in [0, 1], got {belief!r}")
        return cls(belief, 1.0 - belief, 0.0, base_rate)

    # -- reading ----------------------------------------------------------------------

    @property
    def is_dogmatic(self) -> bool:
        """True when ``u == 0``: no amount of new evidence would move it."""
        return self.uncertainty == 0.0

    @property
    def is_vacuous(self) -> bool:
        """True when ``u == 1``: nothing is known beyond the base rate."""
        return self.uncertainty == 1.0

    def projected(self) -> float:
        """The projected probability ``P = b + a * u``, the figure to show."""
        # b + a*u <= b + u <= 1 exactly; the min() only absorbs rounding.
        return min(1.0, self.belief + self.base_rate * self.uncertainty)

    def to_evidence(self, prior_weight: float = DEFAULT_PRIOR_WEIGHT) -> tuple[float, float]:
        """The evidence ``(r, s)`` this opinion stands for: ``r = W*b/u``, ``s = W*d/u``.

        A dogmatic opinion (``u == 0``) stands for infinite evidence whose split
        ``b : d`` an infinity cannot carry, so it raises ``ValueError`` rather than
        returning ``math.inf`` that would turn later arithmetic into NaN.
        """
        _check_prior_weight(prior_weight)
        if self.is_dogmatic:
            raise ValueError("a dogmatic opinion (uncertainty 0) stands for infinite evidence")
        return (
            prior_weight * self.belief / self.uncertainty,
            prior_weight * self.disbelief / self.uncertainty,
        )

    def variance(self, prior_weight: float = DEFAULT_PRIOR_WEIGHT) -> float:
        """Variance of the equivalent Beta distribution, for an uncertainty band.

        The opinion maps to ``Beta(alpha = r + W*a, beta = s + W*(1 - a))`` with
        ``(r, s) = to_evidence(W)``, whose variance
        ``alpha*beta / ((alpha + beta)**2 * (alpha + beta + 1))`` simplifies, since
        ``alpha + beta = W/u`` and ``alpha/(alpha + beta) = P``, to
        ``P * (1 - P) * u / (W + u)``. That form also holds in the limits: 0 for
        a dogmatic opinion, ``P * (1 - P) / (W + 1)`` for a vacuous one.
        """
        return variance_of(self.masses(), prior_weight)

    def band(
        self, z: float = 1.0, prior_weight: float = DEFAULT_PRIOR_WEIGHT
    ) -> tuple[float, float]:
        """``(P - z*sigma, P + z*sigma)`` clipped to [0, 1], sigma from ``variance()``.

        A display aid, not a credible interval: the Beta is skewed near 0 and 1.
        """
        return band_of(self.masses(), z, prior_weight)

    def masses(self) -> Masses:
        """``(belief, disbelief, uncertainty, base_rate)``, for the functions on tuples below."""
        return (self.belief, self.disbelief, self.uncertainty, self.base_rate)


# -- operators -----------------------------------------------------------------------


def cumulative_fuse(a: Opinion, b: Opinion, *, relative_weight: float = 0.5) -> Opinion:
    """Cumulative fusion ``a (+) b`` (Jøsang 2016, section 12.3): pooling independent evidence.

    With ``u_A != 0`` or ``u_B != 0``, and ``k = u_A + u_B - u_A*u_B``::

        b = (b_A*u_B + b_B*u_A) / k      d = (d_A*u_B + d_B*u_A) / k      u = u_A*u_B / k
        a = (a_A*u_B + a_B*u_A - (a_A + a_B)*u_A*u_B) / (u_A + u_B - 2*u_A*u_B)
            unless u_A = u_B = 1, where a = (a_A + a_B) / 2

    (the base rate is computed in the equal, cancellation-free form
    ``(a_A*u_B*(1 - u_A) + a_B*u_A*(1 - u_B)) / (u_B*(1 - u_A) + u_A*(1 - u_B))``:
    the base rates averaged with weights ``(1 - u)/u``, each side's amount of evidence).
    If exactly one is dogmatic these give that one back: its evidence is infinite.
    If both are dogmatic (``u_A = u_B = 0``), the limit depends on how fast each
    ``u`` went to 0, expressed as the relative weight ``gamma_A`` of ``a``
    (``gamma_B = 1 - gamma_A``, equal by default)::

        b = gamma_A*b_A + gamma_B*b_B    d = gamma_A*d_A + gamma_B*d_B    u = 0
        a = gamma_A*a_A + gamma_B*a_B

    For two opinions from evidence with one base rate, the result is the opinion
    of the summed evidence; the vacuous opinion is the neutral element.
    """
    gamma = _check_relative_weight(relative_weight)
    u_a, u_b = a.uncertainty, b.uncertainty
    if u_a == 0.0 and u_b == 0.0:
        return _make(
            gamma * a.belief + (1.0 - gamma) * b.belief,
            gamma * a.disbelief + (1.0 - gamma) * b.disbelief,
            0.0,
            gamma * a.base_rate + (1.0 - gamma) * b.base_rate,
        )
    if u_a == 0.0 or u_b == 0.0:
        # The limit of the formulas below, taken directly so that a tiny u does
        # not lose the dogmatic opinion's belief to underflow.
        dogmatic = a if u_a == 0.0 else b
        return _make(dogmatic.belief, dogmatic.disbelief, 0.0, dogmatic.base_rate)
    k = u_a + u_b - u_a * u_b
    if u_a == 1.0 and u_b == 1.0:
        base_rate = (a.base_rate + b.base_rate) / 2.0
    else:
        weight_a = u_b * (1.0 - u_a)
        weight_b = u_a * (1.0 - u_b)
        base_rate = (a.base_rate * weight_a + b.base_rate * weight_b) / (weight_a + weight_b)
    return _make(
        (a.belief * u_b + b.belief * u_a) / k,
        (a.disbelief * u_b + b.disbelief * u_a) / k,
        u_a * u_b / k,
        base_rate,
    )


def averaging_fuse(a: Opinion, b: Opinion, *, relative_weight: float = 0.5) -> Opinion:
    """Averaging fusion ``a (/) b`` (Jøsang 2016, section 12.5): sources that are not independent.

    With ``u_A != 0`` or ``u_B != 0``::

        b = (b_A*u_B + b_B*u_A) / (u_A + u_B)    d = (d_A*u_B + d_B*u_A) / (u_A + u_B)
        u = 2*u_A*u_B / (u_A + u_B)              a = (a_A + a_B) / 2

    If exactly one is dogmatic its belief and disbelief are returned with
    ``u = 0``. If both are dogmatic, ``b = gamma_A*b_A + gamma_B*b_B`` (and so for
    ``d``), ``u = 0``, with ``gamma_A = relative_weight`` and ``gamma_B = 1 - gamma_A``.
    The base rate is always the plain average. For opinions from evidence with
    one base rate, the result is the opinion of the *averaged* evidence. Unlike
    cumulative fusion, the vacuous opinion is not neutral (it dilutes), and the
    operator is not associative, so ``fuse_many`` with it weighs later opinions more.
    """
    gamma = _check_relative_weight(relative_weight)
    u_a, u_b = a.uncertainty, b.uncertainty
    base_rate = (a.base_rate + b.base_rate) / 2.0
    if u_a == 0.0 and u_b == 0.0:
        return _make(
            gamma * a.belief + (1.0 - gamma) * b.belief,
            gamma * a.disbelief + (1.0 - gamma) * b.disbelief,
            0.0,
            base_rate,
        )
    if u_a == 0.0 or u_b == 0.0:
        dogmatic = a if u_a == 0.0 else b  # the limit of the formulas below
        return _make(dogmatic.belief, dogmatic.disbelief, 0.0, base_rate)
    k = u_a + u_b
    return _make(
        (a.belief * u_b + b.belief * u_a) / k,
        (a.disbelief * u_b + b.disbelief * u_a) / k,
        2.0 * u_a * u_b / k,
        base_rate,
    )


def discount(trust_in_source: Opinion, opinion: Opinion) -> Opinion:
    """Probability-sensitive trust discounting (Jøsang 2016, section 14.3).

    What we conclude from ``opinion``, held by a source we trust as
    ``trust_in_source``: with ``P_T = trust_in_source.projected()``,
    ``b = P_T*b_x``, ``d = P_T*d_x``, ``u = 1 - b - d``, ``a = a_x``.
    Full trust leaves the opinion as it is; no trust (``P_T = 0``) leaves only
    uncertainty.
    """
    p_trust = trust_in_source.projected()
    belief = p_trust * opinion.belief
    disbelief = p_trust * opinion.disbelief
    return _make(belief, disbelief, 1.0 - belief - disbelief, opinion.base_rate)


def fuse_many(
    opinions: Iterable[Opinion],
    fuse: Callable[[Opinion, Opinion], Opinion] = cumulative_fuse,
) -> Opinion:
    """Fold ``fuse`` over ``opinions`` from left to right; an empty iterable raises ``ValueError``.

    Cumulative fusion is associative (it sums the evidence) as long as no two
    opinions are both dogmatic or both vacuous, so the order does not matter
    there; averaging fusion is not associative.
    """
    iterator = iter(opinions)
    try:
        first = next(iterator)
    except StopIteration:
        raise ValueError("fuse_many needs at least one opinion") from None
    return reduce(fuse, iterator, first)


def weighted_average(weighted: Iterable[tuple[Opinion, float]]) -> Opinion:
    """The weighted average of opinions about *different questions* (the dimensions of trust).

    ``b = sum(w_i*b_i)/sum(w_i)``, likewise ``d`` and ``u``; the base rate is averaged with
    weights ``w_i*u_i`` (plain weights when ``u = 0``), so that the projected probability is the
    weighted average of the projected probabilities::

        P = b + a*u = sum(w_i*(b_i + a_i*u_i)) / sum(w_i)

    It therefore lies between the lowest and the highest ``P_i``, and a vacuous opinion
    (nothing known about that question) keeps its share of uncertainty instead of being
    absorbed as cumulative fusion would. Weights must be >= 0 with a positive sum; an empty
    iterable raises ``ValueError``.
    """
    return Opinion(
        *weighted_average_masses(
            [((o.belief, o.disbelief, o.uncertainty, o.base_rate), w) for o, w in weighted]
        )
    )


# -- the same arithmetic on plain tuples ---------------------------------------------
# Ranking a thousand engagements builds fourteen thousand opinions only to read two numbers of
# each; these give the very same floats as the methods above (which are built on them) without
# an object each.

Masses = tuple[float, float, float, float]
"""``(belief, disbelief, uncertainty, base_rate)`` of an opinion, as a plain tuple."""


def evidence_masses(
    r: float, s: float, base_rate: float, prior_weight: float = DEFAULT_PRIOR_WEIGHT
) -> Masses:
    """``Opinion.from_evidence(r, s, base_rate, prior_weight)`` as a tuple."""
    _check_evidence(r, "r")
    _check_evidence(s, "s")
    _check_prior_weight(prior_weight)
    total = r + s + prior_weight
    return masses_of(r / total, s / total, prior_weight / total, base_rate)


def weighted_average_masses(weighted: Iterable[tuple[Masses, float]]) -> Masses:
    """``weighted_average`` of opinions given as tuples, as a tuple."""
    items = weighted if isinstance(weighted, list) else list(weighted)
    if not items:
        raise ValueError("weighted_average needs at least one opinion")
    weights = [weight for _opinion, weight in items]
    for weight in weights:
        if not 0.0 <= weight < math.inf:
            raise ValueError(f"a weight must be a finite number >= 0, got {weight!r}")
    fsum = math.fsum
    total = fsum(weights)
    if total <= 0.0:
        raise ValueError("the weights must have a positive sum")
    belief = fsum([o[0] * w for o, w in items]) / total
    disbelief = fsum([o[1] * w for o, w in items]) / total
    uncertain = fsum([o[2] * w for o, w in items])
    if uncertain > 0.0:
        base_rate = fsum([o[3] * o[2] * w for o, w in items]) / uncertain
    else:
        base_rate = fsum([o[3] * w for o, w in items]) / total
    return masses_of(belief, disbelief, uncertain / total, base_rate)


def projected_of(masses: Masses) -> float:
    """``Opinion.projected()`` of an opinion given as a tuple."""
    return min(1.0, masses[0] + masses[3] * masses[2])


def variance_of(masses: Masses, prior_weight: float = DEFAULT_PRIOR_WEIGHT) -> float:
    """``Opinion.variance()`` of an opinion given as a tuple (the formula is explained there)."""
    _check_prior_weight(prior_weight)
    p = projected_of(masses)
    uncertainty = masses[2]
    return p * (1.0 - p) * uncertainty / (prior_weight + uncertainty)


def band_of(
    masses: Masses, z: float = 1.0, prior_weight: float = DEFAULT_PRIOR_WEIGHT
) -> tuple[float, float]:
    """``Opinion.band()`` of an opinion given as a tuple."""
    if not z >= 0.0 or math.isinf(z):
        raise ValueError(f"z must be a finite number >= 0, got {z!r}")
    p = projected_of(masses)
    spread = z * math.sqrt(variance_of(masses, prior_weight))
    return max(0.0, p - spread), min(1.0, p + spread)


# -- decaying evidence ---------------------------------------------------------------


def decay_factor(elapsed_seconds: float, half_life_seconds: float) -> float:
    """``2 ** (-elapsed/half_life)``: 1 now, 0.5 after one half-life, towards 0 after.

    A negative or NaN elapsed time, or a half-life that is not a finite number
    above 0, raises ``ValueError``.
    """
    if math.isnan(elapsed_seconds) or elapsed_seconds < 0.0:
        raise ValueError(f"elapsed time must be >= 0, got {elapsed_seconds!r}")
    if not 0.0 < half_life_seconds < math.inf:
        raise ValueError(f"half-life must be a finite number > 0, got {half_life_seconds!r}")
    return math.exp2(-elapsed_seconds / half_life_seconds)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Decaying positive and negative evidence, valued as of ``at``.

    Updates are O(1) per event: ``r <- r * 2**(-dt/h) + dr`` (likewise ``s``).
    The value at a time ``T`` is ``sum(dr_i * 2**(-(T - t_i)/h))`` whatever the
    order in which events arrived, provided one half-life ``h`` is used
    throughout. Datetimes must be timezone-aware.
    """

    positive: float
    negative: float
    at: datetime

    def __post_init__(self) -> None:
        _check_evidence(self.positive, "positive")
        _check_evidence(self.negative, "negative")
        _check_aware(self.at, "at")
        object.__setattr__(self, "positive", float(self.positive))
        object.__setattr__(self, "negative", float(self.negative))

    @classmethod
    def empty(cls, at: datetime) -> Evidence:
        """No evidence yet, as of ``at``."""
        return cls(0.0, 0.0, at)

    def decayed_to(self, when: datetime, half_life: timedelta) -> Evidence:
        """The same evidence valued at the later time ``when``; an earlier ``when`` raises."""
        _check_aware(when, "when")
        if when < self.at:
            raise ValueError(f"cannot decay evidence from {self.at} back to {when}")
        factor = decay_factor((when - self.at).total_seconds(), _seconds(half_life))
        return Evidence(self.positive * factor, self.negative * factor, when)

    def add(
        self, positive: float, negative: float, when: datetime, half_life: timedelta
    ) -> Evidence:
        """Record an event of weight ``positive``/``negative`` that happened at ``when``.

        An event at or after ``at`` decays the accumulator to ``when`` first; an
        event older than ``at`` (arriving late) is decayed to ``at`` instead, so
        the result does not depend on the order of arrival.
        """
        _check_evidence(positive, "positive")
        _check_evidence(negative, "negative")
        _check_aware(when, "when")
        if when >= self.at:
            now = self.decayed_to(when, half_life)
            return Evidence(now.positive + positive, now.negative + negative, when)
        factor = decay_factor((self.at - when).total_seconds(), _seconds(half_life))
        return Evidence(
            self.positive + positive * factor, self.negative + negative * factor, self.at
        )

    def opinion(self, base_rate: float, prior_weight: float = DEFAULT_PRIOR_WEIGHT) -> Opinion:
        """The opinion from this evidence as of ``at``; ``decayed_to(now, h)`` first for now."""
        return Opinion.from_evidence(self.positive, self.negative, base_rate, prior_weight)


# -- helpers -------------------------------------------------------------------------


def _make(belief: float, disbelief: float, uncertainty: float, base_rate: float) -> Opinion:
    """An ``Opinion`` from computed masses, with floating-point noise removed.

    Rounding can leave a mass a hair below 0 or above 1, or the sum a few ulps
    off 1; those are clamped and renormalised. A larger error is a bug and is
    left for ``Opinion`` to reject.
    """
    return Opinion(*masses_of(belief, disbelief, uncertainty, base_rate))


def masses_of(belief: float, disbelief: float, uncertainty: float, base_rate: float) -> Masses:
    """The masses `_make` gives its opinion, as a tuple."""
    # _clamp leaves a value of [0, 1] as it is (the usual case, tested first), and dividing by
    # a total of exactly 1.0 changes nothing: both shortcuts give the same floats.
    if not (0.0 <= belief <= 1.0 and 0.0 <= disbelief <= 1.0 and 0.0 <= uncertainty <= 1.0):
        belief, disbelief, uncertainty = _clamp(belief), _clamp(disbelief), _clamp(uncertainty)
    total = math.fsum((belief, disbelief, uncertainty))
    if total != 1.0 and total > 0.0 and abs(total - 1.0) <= _ROUNDING_SLACK:
        belief, disbelief, uncertainty = belief / total, disbelief / total, uncertainty / total
    return (
        belief,
        disbelief,
        uncertainty,
        base_rate if 0.0 <= base_rate <= 1.0 else _clamp(base_rate),
    )


def _clamp(value: float) -> float:
    if -_ROUNDING_SLACK <= value < 0.0:
        return 0.0
    if 1.0 < value <= 1.0 + _ROUNDING_SLACK:
        return 1.0
    return value


def _check_evidence(value: float, name: str) -> None:
    if not 0.0 <= value < math.inf:  # also rejects NaN
        raise ValueError(f"{name} evidence must be a finite number >= 0, got {value!r}")


def _check_prior_weight(prior_weight: float) -> None:
    if not 0.0 < prior_weight < math.inf:
        raise ValueError(f"prior weight must be a finite number > 0, got {prior_weight!r}")


def _check_relative_weight(relative_weight: float) -> float:
    if not 0.0 <= relative_weight <= 1.0:
        raise ValueError(f"relative weight must lie in [0, 1], got {relative_weight!r}")
    return relative_weight


def _check_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


def _seconds(half_life: timedelta) -> float:
    return half_life.total_seconds()
