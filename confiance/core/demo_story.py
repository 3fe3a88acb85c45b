"""The demo's follow-up, problems, lessons and kudos: one story told through the services.

On the patient record migration (Claire leads, Hugo consults, Sophie is the client's contact):
commitments of both sides kept on time, kept late, renegotiated by agreement and broken; meetings
held with everyone's attendance, one missed by the client, one cancelled the evening before;
a deposit paid on time and an invoice paid late; problems in every state, one raised proactively
by the provider and one escalated before any target was missed; a lesson drawn from a resolved
problem; kudos both ways. Dates are relative to today so the story stays current.
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


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=timezone.get_current_timezone())


def build_followup_story(
    *,
    engagement: Engagement,
    owner: Membership,
    consultant: Membership,
    finance: Membership,
    client: Membership,
    today: date,
) -> None:
    """Commitments, meetings and payments of both sides on one engagement."""
    claire, hugo, sophie = owner.user, consultant.user, client.user

    def commit(by: Membership, side: str, who: User, text: str, due_in: int) -> Commitment:
        return followup.commitment_create(
            membership=by,
            engagement=engagement,
            side=side,
            owner=who,
            text=text,
            due_date=today + timedelta(days=due_in),
        )

    def mark(by: Membership, commitment: Commitment, status: str, note: str = "") -> None:
        followup.commitment_set_status(
            membership=by, commitment=commitment, status=status, note=note
        )

    # Provider side.
    mark(
        consultant,
        commit(consultant, "provider", hugo, "Map the legacy tables / Cartographie des tables", 3),
        "kept",
    )
    mark(
        consultant,
        commit(consultant, "provider", hugo, "Test run on cardiology / Essai en cardiologie", -20),
        "kept",
        "Delivered four days after the date / Livré quatre jours après la date",
    )
    renegotiated = commit(
        consultant, "provider", claire, "Batch plan for the wards / Plan des lots par service", -2
    )
    proposal = followup.renegotiation_propose(
        membership=owner,
        commitment=renegotiated,
        reason="The ward list changed / La liste des services a changé",
        new_due_date=today + timedelta(days=9),
    )
    followup.renegotiation_decide(membership=client, renegotiation=proposal, agree=True)
    mark(
        owner,
        commit(owner, "provider", claire, "Weekly report on Fridays / Rapport le vendredi", -30),
        "broken",
        "Two weekly reports were skipped / Deux rapports hebdomadaires manqués",
    )
    commit(consultant, "provider", hugo, "Migrate radiology / Migrer la radiologie", 12)

    # Client side.
    mark(
        client,
        commit(client, "client", sophie, "Open access to the test server / Accès au serveur", 2),
        "kept",
    )
    mark(
        client,
        commit(client, "client", sophie, "Name the ward referents / Nommer les référents", -15),
        "kept",
    )
    asked = commit(client, "client", sophie, "Validate batch 2 / Valider le lot 2", -1)
    proposal = followup.renegotiation_propose(
        membership=client,
        commitment=asked,
        reason="The head nurse is away / La cadre de santé est absente",
        new_due_date=today + timedelta(days=6),
    )
    followup.renegotiation_decide(membership=owner, renegotiation=proposal, agree=True)
    mark(
        owner,
        commit(client, "client", sophie, "Freeze the legacy schema / Geler le schéma", -25),
        "broken",
        "The schema changed during batch 2 / Le schéma a changé pendant le lot 2",
    )
    commit(client, "client", sophie, "Sign off batch 1 / Recette du lot 1", -4)  # overdue

    # Meetings: held with everyone, held with the client absent, cancelled the evening before.
    everyone = [claire, hugo, sophie]
    steering = followup.meeting_create(
        membership=owner,
        engagement=engagement,
        title="Steering committee / Comité de pilotage",
        starts_at=_at(today - timedelta(days=21), 10),
        duration_minutes=90,
        channel="on_site",
        location="Hôpital Saint-Roch, salle B",
        attendees=everyone,
    )
    followup.meeting_record(
        membership=owner,
        meeting=steering,
        attendance={u.pk: Attendance.PRESENT for u in everyone},
        minutes="Batch plan agreed. / Plan des lots validé.",
        internal_notes="Sophie worries about the night batches.",
    )
    workshop = followup.meeting_create(
        membership=consultant,
        engagement=engagement,
        title="Data workshop / Atelier données",
        starts_at=_at(today - timedelta(days=7), 14),
        duration_minutes=120,
        channel="video",
        attendees=everyone,
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
    )
    late = followup.meeting_create(
        membership=consultant,
        engagement=engagement,
        title="Weekly check-in / Point hebdomadaire",
        starts_at=timezone.now() + timedelta(hours=14),
        duration_minutes=30,
        channel="video",
        attendees=everyone,
    )
    followup.meeting_cancel(
        membership=consultant, meeting=late, reason="Go-live incident / Incident de mise en prod"
    )
    followup.meeting_create(
        membership=owner,
        engagement=engagement,
        title="Steering committee / Comité de pilotage",
        starts_at=_at(today + timedelta(days=8), 10),
        duration_minutes=90,
        channel="on_site",
        location="Hôpital Saint-Roch, salle B",
        attendees=everyone,
    )

    # Payments: the deposit on time, the first invoice late, the second not due yet.
    deposit = followup.payment_create(
        membership=finance,
        engagement=engagement,
        kind="deposit",
        label="Deposit 30 % / Acompte 30 %",
        amount=Decimal("17100.00"),
        issue_date=today - timedelta(days=60),
        due_date=today - timedelta(days=45),
    )
    followup.payment_mark_paid(
        membership=finance, payment=deposit, paid_date=today - timedelta(days=47)
    )
    invoice = followup.payment_create(
        membership=finance,
        engagement=engagement,
        kind="invoice",
        label="Invoice October / Facture octobre",
        amount=Decimal("12750.00"),
        issue_date=today - timedelta(days=35),
        due_date=today - timedelta(days=20),
    )
    followup.payment_mark_paid(
        membership=finance, payment=invoice, paid_date=today - timedelta(days=6)
    )
    followup.payment_create(
        membership=finance,
        engagement=engagement,
        kind="invoice",
        label="Invoice November / Facture novembre",
        amount=Decimal("11900.00"),
        issue_date=today - timedelta(days=3),
        due_date=today + timedelta(days=27),
    )
    assert Renegotiation.objects.filter(commitment__engagement=engagement).count() == 2


def build_problem_story(
    *, engagement: Engagement, owner: Membership, consultant: Membership, client: Membership
) -> None:
    """Problems in every state, one proactive, one escalated early; a lesson; kudos both ways."""
    hugo = consultant.user

    closed = problems.problem_raise(
        membership=client,
        engagement=engagement,
        title="Duplicate patient records after batch 1 / Doublons après le lot 1",
        description="About 40 patients appear twice in the new platform.",
        severity="high",
        client_priority="high",
    )
    problems.problem_acknowledge(membership=owner, problem=closed)
    problems.problem_owner_name(membership=owner, problem=closed, owner=hugo)
    problems.problem_plan_share(
        membership=consultant,
        problem=closed,
        plan="Merge the duplicates, then check identities before each batch.",
    )
    problems.problem_update_post(
        membership=consultant, problem=closed, text="38 of 41 duplicates merged / 38 sur 41."
    )
    problems.problem_resolve(membership=consultant, problem=closed, text="All merged / Fusionnés.")
    problems.problem_confirm(membership=client, problem=closed)
    lessons.lesson_create(
        membership=consultant,
        problem=closed,
        title="Check identities before each batch / Vérifier les identités avant chaque lot",
        text=(
            "Run the duplicate check on the source before every migration batch, not after: "
            "merging afterwards costs ten times more. / Contrôler les doublons à la source."
        ),
        tags="migration, data quality, doublons",
    )

    proactive = problems.problem_raise(
        membership=consultant,
        engagement=engagement,
        title="Legacy export truncates accented names / L'export tronque les accents",
        description="Seen in our own checks before the client noticed.",
        severity="medium",
    )
    problems.problem_owner_name(membership=consultant, problem=proactive, owner=hugo)
    problems.problem_resolve(
        membership=consultant, problem=proactive, text="Export re-run in UTF-8 / Export en UTF-8."
    )

    escalated = problems.problem_raise(
        membership=client,
        engagement=engagement,
        title="Night batch slows the ward terminals / Le lot de nuit ralentit les postes",
        severity="critical",
        client_priority="critical",
    )
    problems.problem_acknowledge(membership=consultant, problem=escalated)
    problems.problem_owner_name(membership=consultant, problem=escalated, owner=hugo)
    problems.problem_escalate(membership=consultant, problem=escalated, level=1, person=owner.user)
    problems.problem_update_post(
        membership=consultant,
        problem=escalated,
        text="Batches moved to 2 a.m. while we tune the indexes / Lots déplacés à 2 h.",
    )

    problems.problem_raise(
        membership=client,
        engagement=engagement,
        title="Allergy codes missing from the export / Codes allergies absents",
        severity="medium",
    )

    lessons.kudos_give(
        membership=client,
        engagement=engagement,
        recipients=[hugo],
        text="Hugo found the accent bug before our nurses did. / Merci Hugo !",
    )
    lessons.kudos_give(
        membership=owner,
        engagement=engagement,
        recipients=[client.user],
        text="Sophie organised the ward referents in two days. / Bravo Sophie.",
    )
