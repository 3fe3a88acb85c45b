"""Trust that carries over: a returning client's new engagement starts from the earlier
engagements' final evidence, discounted, not from the contact origin's fixed base rate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.engagements.models import Engagement
from confiance.engagements.services import engagement_create
from confiance.trust.carryover import CARRY_OVER
from confiance.trust.models import TrustState
from confiance.trust.opinion import Opinion, discount
from confiance.trust.services import base_rate_for, opinions_of, trust_settings_for, trust_update
from tests.conftest import World

pytestmark = pytest.mark.django_db


def evidence_on(world: World, engagement: Engagement, days: int) -> None:
    """Time logged promptly on `days` different days: transparency evidence, client→provider."""
    for day in range(days):
        time_entry_log(
            membership=world.owner,
            engagement=engagement,
            item=EntryInput(
                person=world.member.user,
                date=timezone.localdate() - timedelta(days=day),
                minutes=60,
            ),
        )
    trust_update(engagement=engagement)


def new_engagement(world: World, client: object, title: str = "Next") -> Engagement:
    return engagement_create(
        membership=world.owner,
        client=client,  # type: ignore[arg-type]
        title=title,
        contact_origin="existing_client",
        status="active",
    )


def test_a_first_engagement_starts_from_its_contact_origin(world: World) -> None:
    assert base_rate_for(world.engagement) == 0.7  # peer referral, no earlier engagement


def test_a_returning_clients_engagement_starts_from_the_earlier_evidence_discounted(
    world: World,
) -> None:
    evidence_on(world, world.engagement, days=10)
    earlier = TrustState.objects.filter(engagement=world.engagement)
    assert earlier.exists()
    following = new_engagement(world, world.client_a)
    origin = trust_settings_for(world.workspace).base_rate("existing_client")
    carried = base_rate_for(following)
    # Time logged days after the work: the earlier engagement showed late logging, so the new one
    # starts below the fixed rate, by half the earlier distance (CARRY_OVER, it just ended).
    settings = trust_settings_for(world.workspace)
    opinions = opinions_of(earlier, origin, settings.half_life, max(s.at for s in earlier))
    both = [opinions[("c2p", "overall")], opinions[("p2c", "overall")]]
    overall = Opinion(
        sum(o.belief for o in both) / 2,
        sum(o.disbelief for o in both) / 2,
        sum(o.uncertainty for o in both) / 2,
        origin,
    )
    expected = discount(Opinion.dogmatic(CARRY_OVER, 0.5), overall).projected()
    assert carried == pytest.approx(expected, abs=0.01)
    assert overall.projected() < carried < origin
    assert carried - origin == pytest.approx(CARRY_OVER * (overall.projected() - origin), abs=0.01)
    # Another client's engagement keeps its own origin's rate.
    assert base_rate_for(new_engagement(world, world.client_b, "Other")) == origin


def test_old_evidence_vouches_less_and_later_engagements_never_feed_earlier_ones(
    world: World,
) -> None:
    evidence_on(world, world.engagement, days=10)
    fresh = base_rate_for(new_engagement(world, world.client_a))
    # The same evidence, as if the earlier engagement's last fact were two half-lives old.
    TrustState.objects.filter(engagement=world.engagement).update(
        at=timezone.now() - timedelta(days=180)
    )
    aged = base_rate_for(new_engagement(world, world.client_a, "Later"))
    origin = trust_settings_for(world.workspace).base_rate("existing_client")
    assert fresh < aged < origin
    # The earlier engagement is not moved by the ones that came after it.
    assert base_rate_for(world.engagement) == 0.7
