"""The demo workspace carries pulse rounds that show each rule of the pulse."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from confiance.core.demo import DEMO_SLUG, build_demo
from confiance.core.models import Membership
from confiance.engagements.models import Engagement
from confiance.pulse import selectors
from confiance.pulse.demo import build_pulse_demo
from confiance.pulse.models import PulseAnswer, PulseSurvey


@pytest.mark.django_db
def test_demo_has_rounds_with_visible_means_and_a_signed_side(client: HttpClient) -> None:
    build_demo()
    migration = Engagement.objects.get(workspace__slug=DEMO_SLUG, reference="SR-2026-01")
    routes = Engagement.objects.get(workspace__slug=DEMO_SLUG, reference="TV-2026-02")
    sophie = Membership.objects.select_related("workspace", "user").get(
        user__email="sophie.lefevre@saint-roch.example"
    )
    page = selectors.pulse_page(fetched_by=sophie, engagement=migration)
    assert page.open_round is not None and page.asked and page.my_answer is None
    closed = [r for r in page.rounds if not r.is_open]
    assert len(closed) == 4 and all(side.visible for r in closed for side in r.sides)
    claire = Membership.objects.select_related("workspace", "user").get(
        user__email="claire.martin@meridian.example"
    )
    routes_page = selectors.pulse_page(fetched_by=claire, engagement=routes)
    provider, client_side = routes_page.rounds[1].sides
    assert client_side.signed_by == "Marc Dubois" and not provider.visible
    # Sophie has a round waiting: the nav links to it.
    client.force_login(sophie.user)
    assert f'href="/w/{DEMO_SLUG}/pulse/"' in client.get(f"/w/{DEMO_SLUG}/pulse/").content.decode()
    # Running it again adds nothing.
    count = PulseAnswer.objects.count()
    build_pulse_demo(migration.workspace)
    assert PulseAnswer.objects.count() == count
    assert PulseSurvey.objects.filter(engagement=migration).count() == 5
