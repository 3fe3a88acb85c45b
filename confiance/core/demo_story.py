"""The demo's follow-up, problems, lessons and kudos: one story told through the services.

On the patient record migration (Claire leads, Hugo consults, Sophie is the client's contact):
commitments of both sides kept on time, kept late, renegotiated by agreement and broken; meetings
held with everyone's attendance, one missed by the client, one cancelled the evening before;
a deposit paid on time and an invoice paid late; problems in every state, one raised proactively
by the provider and one escalated before any target was missed; a lesson drawn from a resolved
problem; kudos both ways. Dates are relative to today so the story stays current, and every act
carries its own day in the story (never the day the demo was loaded).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from confiance.core.models import Membership, User
from confiance.engagements.models import Engagement
from confiance.followup import services as followup
from confiance.followup.models import Attendance, Commitment, Renegotiation
from confiance.lessons import services as lessons
from confiance.problems import services as problems


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def build_followup_story(
    *,
    engagement: Engagement,
    owner: Membership,
    consultant: Membership,
    finance: Membership,
    client: Membership,
    today: date,
) -> None:
    """Commitments, meetings and payments of both sides on one engagement, each act on its day."""
    claire, hugo, sophie = owner.user, consultant.user, client.user

    def day(offset: int, hour: int = 10, minute: int = 0) -> datetime:
        return _at(today + timedelta(days=offset), hour, minute)

    def commit(
        by: Membership, side: str, who: User, text: str, due_in: int, made: int
    ) -> Commitment:
        return followup.commitment_create(
            membership=by,
            engagement=engagement,
            side=side,
            owner=who,
            text=text,
            due_date=today + timedelta(days=due_in),
            at=day(made, 9),
        )

    def mark(by: Membership, commitment: Commitment, status: str, on: int, note: str = "") -> None:
        followup.commitment_set_status(
            membership=by, commitment=commitment, status=status, note=note, at=day(on, 17)
        )

    # Provider side: kept before its date, kept four days late, renegotiated, broken, open.
    mark(
        consultant,
        commit(
            consultant, "provider", hugo, "Map the legacy tables / Cartographie des tables", 3, -20
        ),
        "kept",
        -2,
    )
    mark(
        consultant,
        commit(
            consultant, "provider", hugo, "Test run on cardiology / Essai en cardiologie", -20, -40
        ),
        "kept",
        -16,
        "Delivered four days after the date / Livré quatre jours après la date",
    )
    renegotiated = commit(
        consultant,
        "provider",
        claire,
        "Batch plan for the wards / Plan des lots par service",
        -2,
        -30,
    )
    proposal = followup.renegotiation_propose(
        membership=owner,
        commitment=renegotiated,
        reason="The ward list changed / La liste des services a changé",
        new_due_date=today + timedelta(days=9),
        at=day(-5, 11),
    )
    followup.renegotiation_decide(
        membership=client, renegotiation=proposal, agree=True, at=day(-4, 15)
    )
    mark(
        owner,
        commit(
            owner, "provider", claire, "Weekly report on Fridays / Rapport le vendredi", -30, -55
        ),
        "broken",
        -29,
        "Two weekly reports were skipped / Deux rapports hebdomadaires manqués",
    )
    commit(consultant, "provider", hugo, "Migrate radiology / Migrer la radiologie", 12, -10)

    # Client side: kept three days late, kept on time, renegotiated, broken, overdue.
    mark(
        client,
        commit(
            client, "client", sophie, "Open access to the test server / Accès au serveur", -9, -15
        ),
        "kept",
        -6,
        "Opened three days after the date / Ouvert trois jours après la date",
    )
    mark(
        client,
        commit(
            client, "client", sophie, "Name the ward referents / Nommer les référents", -15, -18
        ),
        "kept",
        -16,
    )
    asked = commit(client, "client", sophie, "Validate batch 2 / Valider le lot 2", -1, -14)
    proposal = followup.renegotiation_propose(
        membership=client,
        commitment=asked,
        reason="The head nurse is away / La cadre de santé est absente",
        new_due_date=today + timedelta(days=6),
        at=day(-3, 9),
    )
    followup.renegotiation_decide(
        membership=owner, renegotiation=proposal, agree=True, at=day(-2, 14)
    )
    mark(
        owner,
        commit(client, "client", sophie, "Freeze the legacy schema / Geler le schéma", -25, -50),
        "broken",
        -24,
        "The schema changed during batch 2 / Le schéma a changé pendant le lot 2",
    )
    commit(client, "client", sophie, "Sign off batch 1 / Recette du lot 1", -4, -20)  # overdue

    # Meetings: held with everyone, held with the client absent, cancelled the evening before,
    # and the next steering committee.
    everyone = [claire, hugo, sophie]
    steering = followup.meeting_create(
        membership=owner,
        engagement=engagement,
        title="Steering committee / Comité de pilotage",
        starts_at=day(-21, 10),
        duration_minutes=90,
        channel="on_site",
        location="Hôpital Saint-Roch, salle B",
        attendees=everyone,
        at=day(-28, 9),
    )
    followup.meeting_record(
        membership=owner,
        meeting=steering,
        attendance={u.pk: Attendance.PRESENT for u in everyone},
        minutes="Batch plan agreed. / Plan des lots validé.",
        internal_notes="Sophie worries about the night batches.",
        at=day(-21, 12),
    )
    workshop = followup.meeting_create(
        membership=consultant,
        engagement=engagement,
        title="Data workshop / Atelier données",
        starts_at=day(-7, 14),
        duration_minutes=120,
        channel="video",
        attendees=everyone,
        at=day(-12, 9),
    )
    followup.meeting_record(
        membership=consultant,
        meeting=workshop,
        attendance={
            claire.pk: Attendance.PRESENT,
            hugo.pk: Attendance.PRESENT,
            sophie.pk: Attendance.ABSENT,
        },
        minutes="Mapping reviewed without the client. / Cartographie revue sans le client.",
        internal_notes="",
        at=day(-7, 17),
    )
    late = followup.meeting_create(
        membership=consultant,
        engagement=engagement,
        title="Weekly check-in / Point hebdomadaire",
        starts_at=day(-2, 9),
        duration_minutes=30,
        channel="video",
        attendees=everyone,
        at=day(-9, 9),
    )
    followup.meeting_cancel(
        membership=consultant,
        meeting=late,
        reason="Go-live incident / Incident de mise en prod",
        at=day(-3, 19),  # the evening before: 14 hours' notice
    )
    followup.meeting_create(
        membership=owner,
        engagement=engagement,
        title="Steering committee / Comité de pilotage",
        starts_at=day(8, 10),
        duration_minutes=90,
        channel="on_site",
        location="Hôpital Saint-Roch, salle B",
        attendees=everyone,
        at=day(-1, 9),
    )

    # Payments: the deposit two days early, the October invoice 14 days late, November's not due.
    deposit = followup.payment_create(
        membership=finance,
        engagement=engagement,
        kind="deposit",
        label="Deposit 30 % / Acompte 30 %",
        amount=Decimal("17100.00"),
        issue_date=today - timedelta(days=60),
        due_date=today - timedelta(days=45),
        at=day(-60, 9),
    )
    followup.payment_mark_paid(
        membership=finance,
        payment=deposit,
        paid_date=today - timedelta(days=47),
        at=day(-47, 16),
    )
    invoice = followup.payment_create(
        membership=finance,
        engagement=engagement,
        kind="invoice",
        label="Invoice October / Facture octobre",
        amount=Decimal("12750.00"),
        issue_date=today - timedelta(days=35),
        due_date=today - timedelta(days=20),
        at=day(-35, 9),
    )
    followup.payment_mark_paid(
        membership=finance,
        payment=invoice,
        paid_date=today - timedelta(days=6),
        at=day(-6, 16),
    )
    followup.payment_create(
        membership=finance,
        engagement=engagement,
        kind="invoice",
        label="Invoice November / Facture novembre",
        amount=Decimal("11900.00"),
        issue_date=today - timedelta(days=3),
        due_date=today + timedelta(days=27),
        at=day(-3, 9),
    )
    assert Renegotiation.objects.filter(commitment__engagement=engagement).count() == 2


def build_problem_story(
    *,
    engagement: Engagement,
    owner: Membership,
    consultant: Membership,
    client: Membership,
    today: date,
) -> None:
    """Problems in every state, one proactive, one escalated early, one whose targets were
    missed; a lesson; kudos both ways. Each step on its day and hour (targets: ProblemSettings'
    defaults, tightened by the client's priority)."""
    hugo = consultant.user

    def day(offset: int, hour: int, minute: int = 0) -> datetime:
        return _at(today + timedelta(days=offset), hour, minute)

    # Closed: acknowledged in 75 minutes and owned in 90 (high priority: 2 h and 4 h targets).
    closed = problems.problem_raise(
        membership=client,
        engagement=engagement,
        title="Duplicate patient records after batch 1 / Doublons après le lot 1",
        description="About 40 patients appear twice in the new platform.",
        severity="high",
        client_priority="high",
        at=day(-38, 9),
    )
    problems.problem_acknowledge(membership=owner, problem=closed, at=day(-38, 10, 15))
    problems.problem_owner_name(membership=owner, problem=closed, owner=hugo, at=day(-38, 10, 30))
    problems.problem_plan_share(
        membership=consultant,
        problem=closed,
        plan="Merge the duplicates, then check identities before each batch.",
        at=day(-38, 14),
    )
    problems.problem_update_post(
        membership=consultant,
        problem=closed,
        text="38 of 41 duplicates merged / 38 sur 41.",
        at=day(-37, 11),
    )
    problems.problem_resolve(
        membership=consultant, problem=closed, text="All merged / Fusionnés.", at=day(-35, 16)
    )
    problems.problem_confirm(membership=client, problem=closed, at=day(-34, 9, 30))
    lessons.lesson_create(
        membership=consultant,
        problem=closed,
        title="Check identities before each batch / Vérifier les identités avant chaque lot",
        text=(
            "Run the duplicate check on the source before every migration batch, not after: "
            "merging afterwards costs ten times more. / Contrôler les doublons à la source."
        ),
        tags="migration, data quality, doublons",
        at=day(-34, 11),
    )

    # Proactive: seen by the provider, owned at once, resolved the next day.
    proactive = problems.problem_raise(
        membership=consultant,
        engagement=engagement,
        title="Legacy export truncates accented names / L'export tronque les accents",
        description="Seen in our own checks before the client noticed.",
        severity="medium",
        at=day(-12, 10),
    )
    problems.problem_owner_name(
        membership=consultant, problem=proactive, owner=hugo, at=day(-12, 10, 30)
    )
    problems.problem_resolve(
        membership=consultant,
        problem=proactive,
        text="Export re-run in UTF-8 / Export en UTF-8.",
        at=day(-11, 15),
    )

    # Escalated early: critical (1 h to acknowledge, 2 h to own, an update every 12 h),
    # escalated 45 minutes in; its update clock paused 10.5 hours later.
    escalated = problems.problem_raise(
        membership=client,
        engagement=engagement,
        title="Night batch slows the ward terminals / Le lot de nuit ralentit les postes",
        severity="critical",
        client_priority="critical",
        at=day(-2, 21),
    )
    problems.problem_acknowledge(membership=consultant, problem=escalated, at=day(-2, 21, 30))
    problems.problem_owner_name(
        membership=consultant, problem=escalated, owner=hugo, at=day(-2, 21, 40)
    )
    problems.problem_escalate(
        membership=consultant, problem=escalated, level=1, person=owner.user, at=day(-2, 21, 45)
    )
    problems.problem_update_post(
        membership=consultant,
        problem=escalated,
        text="Batches moved to 2 a.m. while we tune the indexes / Lots déplacés à 2 h.",
        at=day(-2, 23, 30),
    )
    # Then a specific question to the client: the clock pauses (for at most a week).
    problems.problem_wait_on_client(
        membership=consultant,
        problem=escalated,
        text="Which wards can move their night batch? / Quels services peuvent décaler le lot ?",
        at=day(-1, 10),
    )

    # Left unacknowledged: its targets (4 h to acknowledge, 8 h to own) were missed, and the
    # worker's check told so when each was missed.
    allergy = problems.problem_raise(
        membership=client,
        engagement=engagement,
        title="Allergy codes missing from the export / Codes allergies absents",
        severity="medium",
        at=day(-3, 10),
    )
    for moment in (day(-3, 14, 5), day(-3, 18, 5)):
        problems.problem_breaches_check(now=moment, engagement=engagement, in_history=True)
    assert allergy.breaches.count() == 2

    lessons.kudos_give(
        membership=client,
        engagement=engagement,
        recipients=[hugo],
        text="Hugo found the accent bug before our nurses did. / Merci Hugo !",
        at=day(-11, 17),
    )
    lessons.kudos_give(
        membership=owner,
        engagement=engagement,
        recipients=[client.user],
        text="Sophie organised the ward referents in two days. / Bravo Sophie.",
        at=day(-16, 18),
    )
