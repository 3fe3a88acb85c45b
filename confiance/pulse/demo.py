"""Pulse rounds for the demo workspace, written through the pulse services.

Two months of fortnightly rounds on the two active engagements, and the current round open:
- the patient record migration has three people on each side, so each closed round shows its
  means (common language improving as the teams learn each other's words);
- the route planning redesign has one client contact, who signs his answers, so the provider
  sees them; its provider side (two people) stays hidden, as the rule wants.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from confiance.core.models import Membership, Role, User, Workspace
from confiance.engagements.models import Engagement
from confiance.pulse import services
from confiance.pulse.models import PulseSurvey

ROUNDS_AGO_DAYS = (56, 42, 28, 14)

# Per round (oldest first): scores for common language, vision, discretion, receptivity,
# proximity.
MIGRATION_CLIENT = [
    [(3, 3, 5, 3, 3), (2, 3, 5, 4, 3), (3, 4, 4, 3, 4)],
    [(3, 4, 5, 4, 3), (3, 3, 5, 4, 4), (4, 4, 5, 3, 4)],
    [(4, 4, 5, 4, 4), (4, 4, 5, 4, 4), (4, 5, 5, 4, 4)],
    [(5, 4, 5, 5, 4), (4, 5, 5, 4, 5), (5, 5, 5, 4, 4)],
]
MIGRATION_PROVIDER = [
    [(3, 4, 5, 3, 3), (3, 3, 5, 3, 4), (2, 4, 5, 4, 3)],
    [(4, 4, 5, 3, 4), (3, 4, 5, 4, 4), (4, 4, 5, 4, 3)],
    [(4, 4, 5, 4, 4), (4, 5, 5, 4, 4), (4, 4, 5, 4, 4)],
    [(5, 5, 5, 4, 4), (4, 5, 5, 5, 4), (5, 4, 5, 4, 5)],
]
ROUTES_CLIENT = [(3, 3, 4, 3, 2), (3, 4, 4, 3, 3), (4, 4, 4, 4, 3), (4, 4, 5, 4, 4)]
ROUTES_COMMENTS = [
    "We rarely see the team on site. / On voit peu l'équipe sur place.",
    "",
    "The workshops with the team leaders helped. / Les ateliers ont aidé.",
    "Good rhythm now. / Bon rythme désormais.",
]


def _answer(membership: Membership, survey: PulseSurvey, values: tuple[int, ...], **kw: object):  # type: ignore[no-untyped-def]
    fields = ("common_language", "common_vision", "discretion", "receptivity", "proximity")
    return services.pulse_answer_submit(
        membership=membership,
        survey=survey,
        answer=services.AnswerInput(**dict(zip(fields, values, strict=True)), **kw),  # type: ignore[arg-type]
        now=min(survey.opened_at + timedelta(hours=20), timezone.now()),
    )


def _member(workspace: Workspace, user: User) -> Membership:
    return Membership.objects.select_related("workspace", "user").get(
        workspace=workspace, user=user
    )


def build_pulse_demo(workspace: Workspace) -> None:
    """Add pulse rounds and answers to the demo workspace (once)."""
    from confiance.consumption.services import team_member_set
    from confiance.core import services as core
    from confiance.core.demo import DEMO_PASSWORD

    if PulseSurvey.objects.filter(workspace=workspace).exists():
        return
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace=workspace, role=Role.OWNER
    )
    migration = Engagement.objects.get(workspace=workspace, reference="SR-2026-01")
    routes = Engagement.objects.get(workspace=workspace, reference="TV-2026-02")

    def person(email: str, name: str, role: str, client: object = None) -> Membership:
        user = core.user_create(email=email, password=DEMO_PASSWORD, full_name=name)
        return core.membership_add(by=owner, user=user, role=role, client=client)  # type: ignore[arg-type]

    # Enough people for the migration's means to show: three on each side.
    thomas = person("thomas.petit@meridian.example", "Thomas Petit", Role.MEMBER)
    team_member_set(membership=owner, engagement=migration, user=thomas.user, title="Consultant")
    paul = person("paul.girard@saint-roch.example", "Paul Girard", Role.CLIENT, migration.client)
    lea = person("lea.fontaine@saint-roch.example", "Léa Fontaine", Role.CLIENT, migration.client)

    def by_email(email: str) -> Membership:
        return _member(workspace, User.objects.get(email=email))

    claire = owner
    hugo = by_email("hugo.bernard@meridian.example")
    sophie = by_email("sophie.lefevre@saint-roch.example")
    marc = by_email("marc.dubois@velocite.example")

    now = timezone.now()
    for i, days in enumerate(ROUNDS_AGO_DAYS):
        at = now - timedelta(days=days)
        survey = services.pulse_round_open(engagement=migration, now=at, notify=False)
        assert survey is not None
        for m, values in zip((sophie, paul, lea), MIGRATION_CLIENT[i], strict=True):
            _answer(m, survey, values)
        for m, values in zip((claire, hugo, thomas), MIGRATION_PROVIDER[i], strict=True):
            _answer(m, survey, values)
        survey = services.pulse_round_open(engagement=routes, now=at, notify=False)
        assert survey is not None
        _answer(marc, survey, ROUTES_CLIENT[i], comment=ROUTES_COMMENTS[i], signed=True)
        _answer(hugo, survey, (4, 4, 5, 4, 3))
    # The current round: open now, people notified; Hugo answered, Sophie has yet to.
    current = services.pulse_round_open(engagement=migration, now=now)
    assert current is not None
    _answer(hugo, current, (5, 5, 5, 4, 4))
    services.pulse_round_open(engagement=routes, now=now)
