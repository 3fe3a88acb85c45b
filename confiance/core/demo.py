"""Build the demo workspace: a consultancy, two clients, engagements in different states.

Everything is written through the services, as a person would through the pages. Running it
again changes nothing: the demo workspace is made once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from confiance.core import services
from confiance.core.models import Membership, Role, User, Workspace
from confiance.engagements.models import ContactOrigin, Engagement, EngagementStatus
from confiance.engagements.services import engagement_create, engagement_set_status

DEMO_SLUG = "meridian"
DEMO_PASSWORD = "demo-confiance-2026"  # noqa: S105 - published demo log-in


@dataclass(frozen=True)
class DemoLogin:
    label: str
    email: str
    password: str


DEMO_LOGINS = [
    DemoLogin("Provider member (consultant)", "hugo.bernard@meridian.example", DEMO_PASSWORD),
    DemoLogin("Workspace owner", "claire.martin@meridian.example", DEMO_PASSWORD),
    DemoLogin(
        "Client contact (Hôpital Saint-Roch)", "sophie.lefevre@saint-roch.example", DEMO_PASSWORD
    ),
    DemoLogin("Invited expert", "nadia.haddad@expert.example", DEMO_PASSWORD),
]


def _user(email: str, full_name: str) -> User:
    return services.user_create(email=email, password=DEMO_PASSWORD, full_name=full_name)


@transaction.atomic
def build_demo() -> bool:
    """Create the demo workspace if it does not exist; True when it was created now."""
    if Workspace.objects.filter(slug=DEMO_SLUG).exists():
        return False
    claire = _user("claire.martin@meridian.example", "Claire Martin")
    services.workspace_create(name="Meridian Conseil", owner=claire, slug=DEMO_SLUG)
    owner = Membership.objects.select_related("workspace", "user").get(
        user=claire, workspace__slug=DEMO_SLUG
    )
    saint_roch = services.client_create(membership=owner, name="Hôpital Saint-Roch")
    velocite = services.client_create(membership=owner, name="Transports Vélocité")

    hugo = _user("hugo.bernard@meridian.example", "Hugo Bernard")
    ines = _user("ines.moreau@meridian.example", "Inès Moreau")
    sophie = _user("sophie.lefevre@saint-roch.example", "Sophie Lefèvre")
    marc = _user("marc.dubois@velocite.example", "Marc Dubois")
    nadia = _user("nadia.haddad@expert.example", "Nadia Haddad")
    services.membership_add(by=owner, user=hugo, role=Role.MEMBER)
    services.membership_add(by=owner, user=ines, role=Role.FINANCE)
    services.membership_add(by=owner, user=sophie, role=Role.CLIENT, client=saint_roch)
    services.membership_add(by=owner, user=marc, role=Role.CLIENT, client=velocite)
    services.membership_add(by=owner, user=nadia, role=Role.EXPERT)

    today = timezone.localdate()
    month = timedelta(days=30)
    stories = [
        dict(
            client=saint_roch,
            title="Migration du dossier patient / Patient record migration",
            reference="SR-2026-01",
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.PEER_REFERRAL,
            lead=claire,
            start_date=today - 2 * month,
            end_date=today + 2 * month,
            summary=(
                "Move 1.2 million patient records from the legacy system to the new platform "
                "without interrupting care. Migration par lots, validée service par service."
            ),
            internal_notes="The CIO referred us after the audit; keep her informed weekly.",
        ),
        dict(
            client=saint_roch,
            title="Audit de la planification des urgences / ER scheduling audit",
            reference="SR-2025-07",
            # Closed below through its closure, once its history is logged.
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.PEER_REFERRAL,
            lead=hugo,
            start_date=today - 9 * month,
            end_date=today - 6 * month,
            summary="Audit of the emergency department's shift planning. Livré en avance.",
            internal_notes="Delivered 6 days early and 8 % under budget.",
        ),
        dict(
            client=saint_roch,
            title="Cadrage de la plateforme de données / Data platform scoping",
            reference="SR-2026-04",
            status=EngagementStatus.DRAFT,
            contact_origin=ContactOrigin.EXISTING_CLIENT,
            lead=claire,
            start_date=today + month,
            end_date=today + 3 * month,
            summary="Scoping study, not yet proposed to the client.",
            internal_notes="Draft: the client does not see it until it is proposed.",
        ),
        dict(
            client=velocite,
            title="Refonte de la planification des tournées / Route planning redesign",
            reference="TV-2026-02",
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.TENDER,
            lead=hugo,
            start_date=today - month,
            end_date=today + 4 * month,
            summary=(
                "Redesign of daily route planning for 140 drivers. "
                "Ateliers avec les chefs d'équipe."
            ),
            internal_notes="Won on price; watch the scope.",
        ),
        dict(
            client=velocite,
            title="Pilote capteurs entrepôt / Warehouse sensors pilot",
            reference="TV-2025-11",
            # Stopped early below, with its reason, once its history is logged.
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.COLD_PROSPECTING,
            lead=claire,
            start_date=today - 5 * month,
            end_date=today - 3 * month,
            summary=(
                "Stopped early by common agreement: the sensors could not be installed before "
                "the peak season. Arrêt honnête plutôt qu'une livraison dégradée."
            ),
        ),
        dict(
            client=velocite,
            title="Télématique de la flotte / Fleet telematics",
            reference="TV-2026-03",
            status=EngagementStatus.PAUSED,
            contact_origin=ContactOrigin.EXISTING_CLIENT,
            lead=hugo,
            start_date=today - month // 2,
            end_date=today + 5 * month,
            summary="Paused while the client chooses its telematics vendor.",
        ),
    ]
    engagements = [engagement_create(membership=owner, **story) for story in stories]  # type: ignore[arg-type]
    _consumption(owner, engagements, claire=claire, hugo=hugo, today=today)
    from confiance.core.demo_story import build_followup_story, build_problem_story

    members = {
        m.user_id: m
        for m in Membership.objects.select_related("workspace", "user").filter(
            workspace=owner.workspace
        )
    }
    migration = engagements[0]
    _objectives_and_people(
        owner,
        migration,
        people=[
            (claire, MIGRATION_ROLES[0]),
            (hugo, MIGRATION_ROLES[1]),
            (sophie, MIGRATION_ROLES[2]),
        ],
    )
    build_followup_story(
        engagement=migration,
        owner=owner,
        consultant=members[hugo.pk],
        finance=members[ines.pk],
        client=members[sophie.pk],
        today=today,
    )
    build_problem_story(
        engagement=migration,
        owner=owner,
        consultant=members[hugo.pk],
        client=members[sophie.pk],
        today=today,
    )
    from confiance.alignment.demo import build_alignment_demo

    build_alignment_demo(
        engagement=migration, consultant=members[hugo.pk], client=members[sophie.pk]
    )
    from confiance.emergence.demo import build_emergence_demo

    build_emergence_demo(
        engagement=migration,
        owner=owner,
        consultant=members[hugo.pk],
        expert=members[nadia.pk],
        client=members[sophie.pk],
    )
    from confiance.pulse.demo import build_pulse_demo

    build_pulse_demo(owner.workspace)
    # Trust is computed from all of the above, with its history, as the periodic refresh does.
    from confiance.trust.tasks import trust_refresh_all

    trust_refresh_all.call()
    return True


def _consumption(
    owner: Membership, engagements: list[Engagement], *, claire: User, hugo: User, today: date
) -> None:
    """Budgets, rates, time logged over the weeks, estimates: the consumption both sides see."""
    from confiance.consumption import services as consumption

    rng = random.Random(2026)  # the same story every time
    migration, er_audit, _scoping, routes, sensors, _fleet = engagements
    plans = [
        # engagement, budget days, amount, days consumed, remaining estimate (days), final status
        (migration, "60", "57000", 31, 27, None),
        (er_audit, "20", "18000", 18.4, None, EngagementStatus.CLOSED),
        (routes, "40", "34000", 14, 30, None),
        (sensors, "25", "22500", 9, None, EngagementStatus.STOPPED_EARLY),
    ]
    for engagement, days, amount, consumed_days, remaining_days, final in plans:
        if engagement.status != EngagementStatus.ACTIVE:
            engagement_set_status(
                membership=owner, engagement=engagement, status=EngagementStatus.ACTIVE
            )
        for name in ("Analysis", "Workshops", "Build", "Project management"):
            consumption.activity_create(membership=owner, engagement=engagement, name=name)
        consumption.team_member_set(
            membership=owner, engagement=engagement, user=claire, title="Director"
        )
        consumption.team_member_set(
            membership=owner, engagement=engagement, user=hugo, title="Senior consultant"
        )
        consumption.rate_set(
            membership=owner, engagement=engagement, title="Director", daily_rate=Decimal(1100)
        )
        consumption.rate_set(
            membership=owner,
            engagement=engagement,
            title="Senior consultant",
            daily_rate=Decimal(850),
        )
        consumption.budget_revise(
            membership=owner,
            engagement=engagement,
            days=Decimal(days),
            amount=Decimal(amount),
            reason="Budget of the signed proposal / Budget de la proposition signée",
            at=datetime.combine(
                engagement.start_date or today, time(9, 0), tzinfo=timezone.get_current_timezone()
            ),
        )
        activities = list(engagement.activities.all())
        end = min(engagement.end_date or today, today)
        start = engagement.start_date or end - timedelta(days=60)
        if final == EngagementStatus.STOPPED_EARLY:
            end = start + (end - start) * 3 // 5  # the work stopped well before the planned end
        workdays = [
            start + timedelta(days=i)
            for i in range((end - start).days + 1)
            if (start + timedelta(days=i)).weekday() < 5
        ]
        total = int(Decimal(str(consumed_days)) * 480)
        # Spread the work over every working day up to today (an active engagement's team is
        # still logging) with ordinary day-to-day noise: Hugo every day, Claire on Tuesdays and
        # Thursdays; the last day takes what rounding left, so the total is the plan's.
        slots = [
            (day, person)
            for day in workdays
            for person in ((hugo, claire) if day.weekday() in (1, 3) else (hugo,))
        ]
        weights = [rng.uniform(0.6, 1.4) for _slot in slots]
        shares = [round(total * w / sum(weights) / 30) * 30 for w in weights]
        shares[-1] = total - sum(shares[:-1])
        items = []
        for (day, person), minutes in zip(slots, shares, strict=True):
            if minutes <= 0:
                continue
            late = rng.random() < 0.08  # now and then, logged a week late
            logged = datetime.combine(
                day + timedelta(days=7 if late else 0),
                time(18, 0),
                tzinfo=timezone.get_current_timezone(),
            )
            items.append(
                consumption.EntryInput(
                    person=person,
                    date=day,
                    minutes=minutes,
                    activity=rng.choice(activities),
                    shared_note=rng.choice(NOTES),
                    logged_at=min(logged, timezone.now()),
                )
            )
        consumption.time_entries_log(membership=owner, engagement=engagement, items=items)
        if remaining_days is not None:
            consumption.remaining_estimate_set(
                membership=owner,
                engagement=engagement,
                remaining_minutes=remaining_days * 480,
                note="Re-estimated at the weekly review / Réestimé en revue hebdomadaire",
            )
        if final == EngagementStatus.CLOSED:
            _close_through_the_closure(owner, engagement)
        elif final is not None:
            # Stopped the evening after its last day of work, months ago: never the load day.
            last_day = max((item.date for item in items), default=end)
            engagement_set_status(
                membership=owner,
                engagement=engagement,
                status=final,
                reason=STOP_REASON if final == EngagementStatus.STOPPED_EARLY else "",
                at=datetime.combine(
                    last_day + timedelta(days=1),
                    time(17, 0),
                    tzinfo=timezone.get_current_timezone(),
                ),
            )


def _objectives_and_people(
    owner: Membership, engagement: Engagement, *, people: list[tuple[User, str]]
) -> None:
    """What the engagement aims at, and who speaks for each side, as its page shows them."""
    from confiance.engagements.services import interlocutor_set, objective_add

    for text, measure in MIGRATION_OBJECTIVES:
        # Agreed at the start, weeks ago in the story: nobody is told of them today.
        objective_add(
            membership=owner,
            engagement=engagement,
            text=text,
            success_measure=measure,
            tell=False,
        )
    for user, role in people:
        interlocutor_set(  # named weeks ago in the story too
            membership=owner, engagement=engagement, user=user, role=role, tell=False
        )


MIGRATION_OBJECTIVES = [
    (
        "Move every ward's records without interrupting care / Migrer sans interrompre les soins",
        "No care interruption reported; each ward signs off its batch / Chaque service valide",
    ),
    (
        "No patient record lost or duplicated / Aucun dossier perdu ni dupliqué",
        "Counts and duplicate checks reconciled after each batch / Comptages rapprochés",
    ),
]
MIGRATION_ROLES = [
    "Engagement lead / Directrice de mission",
    "Senior consultant, data migration / Consultant senior, migration des données",
    "Project lead for the hospital / Cheffe de projet de l'hôpital",
]


def _close_through_the_closure(owner: Membership, engagement: Engagement) -> None:
    """An engagement is closed only by the client's approval of its closure analysis: each
    objective assessed, both sides' retrospective (its lessons go to the library), then the
    client's approval on the planned end date; each step on its day of the engagement's last
    week, never the day the demo is loaded."""
    from confiance.closure import selectors as closure_selectors
    from confiance.closure import services as closure_services
    from confiance.engagements.services import objective_add

    lead = Membership.objects.select_related("workspace", "user").get(
        workspace_id=engagement.workspace_id, user=engagement.lead
    )
    contact = (
        Membership.objects.select_related("workspace", "user")
        .filter(
            workspace_id=engagement.workspace_id, role=Role.CLIENT, client_id=engagement.client_id
        )
        .order_by("user__email")
        .last()
    )
    assert contact is not None
    objectives = [
        (
            objective_add(
                membership=owner,
                engagement=engagement,
                text=text,
                success_measure=measure,
                tell=False,  # months ago, in the story
            ),
            attainment,
            evidence,
        )
        for text, measure, attainment, evidence in AUDIT_OBJECTIVES
    ]
    end = engagement.end_date or timezone.localdate()

    def before_end(days: int, hour: int) -> datetime:
        return datetime.combine(
            end - timedelta(days=days), time(hour, 0), tzinfo=timezone.get_current_timezone()
        )

    closure = closure_services.closure_start(
        membership=owner, engagement=engagement, outcome="completed", at=before_end(5, 10)
    )
    for objective, attainment, evidence in objectives:
        closure_services.objective_assess(
            membership=lead,
            closure=closure,
            objective=objective,
            attainment=attainment,
            evidence=evidence,
            at=before_end(4, 11),
        )
    closure_services.retrospective_write(
        membership=lead,
        closure=closure,
        side="provider",
        at=before_end(3, 15),
        **AUDIT_RETRO_PROVIDER,
    )
    closure_services.retrospective_write(
        membership=contact,
        closure=closure,
        side="client",
        at=before_end(2, 15),
        **AUDIT_RETRO_CLIENT,
    )
    closure_services.closure_approve(
        membership=contact,
        closure=closure,
        seen_hash=closure_selectors.current_hash(fetched_by=contact, closure=closure),
        open_items_acknowledged=True,
        at=datetime.combine(end, time(16, 0), tzinfo=timezone.get_current_timezone()),
    )


AUDIT_OBJECTIVES = [
    (
        "Map the shift planning of the emergency department / Cartographier la planification",
        "Every rota rule written down and checked with the head nurse",
        "attained",
        "42 rules documented, reviewed with the head nurse on 28 May / 42 règles validées",
    ),
    (
        "Cut unfilled night shifts by a third / Réduire d'un tiers les nuits non pourvues",
        "Unfilled night shifts over four weeks, before and after",
        "partly",
        "From 18 to 14 over four weeks: better, short of the third / De 18 à 14 en quatre semaines",
    ),
]
AUDIT_RETRO_PROVIDER = {
    "went_well": "Weekly reviews with the head nurse / Revue hebdomadaire avec la cadre",
    "to_improve": "Ask for the rota export on day one / Demander les plannings dès le départ",
    "lessons": "Get the data extract before the kick-off / Obtenir l'extraction avant le lancement",
}
AUDIT_RETRO_CLIENT = {
    "went_well": "We saw the days consumed every week / Le consommé visible chaque semaine",
    "to_improve": "Involve the night team earlier / Associer l'équipe de nuit plus tôt",
    "lessons": "",
}


STOP_REASON = (
    "The sensors could not be installed before the peak season; both sides agreed to stop "
    "rather than deliver a degraded pilot. / Les capteurs ne pouvaient être posés avant le pic "
    "d'activité : arrêt d'un commun accord plutôt qu'un pilote dégradé."
)

NOTES = [
    "Workshop with the department heads / Atelier avec les chefs de service",
    "Data mapping of the legacy tables / Cartographie des données historiques",
    "Weekly steering meeting / Comité de pilotage hebdomadaire",
    "Test run on a sample / Essai sur un échantillon",
    "Documentation for the users / Documentation pour les utilisateurs",
    "",
]


def build_demo_logins_text() -> str:
    lines = ["Demo log-ins (password for all: " + DEMO_PASSWORD + "):"]
    lines += [f"  {login.label:<38} {login.email}" for login in DEMO_LOGINS]
    return "\n".join(lines)


__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DEMO_SLUG", "build_demo", "build_demo_logins_text"]
