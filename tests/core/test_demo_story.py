"""The demo reaches follow-up, problems, lessons, kudos and the pulse, so the README's tour lands
on data; it loads once (running it again changes nothing) and its log-ins work.

The tests read one demo, built once for the module (the `demo` fixture of tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.utils import timezone

from confiance.closure.models import Closure
from confiance.consumption.models import BudgetAlert
from confiance.core.demo import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SLUG, build_demo
from confiance.core.models import AuditEvent, Membership, Role, User, Workspace
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.followup.models import Commitment, Meeting, MeetingAttendee, Payment
from confiance.lessons.models import Kudos, Lesson
from confiance.problems.models import Problem
from confiance.pulse import selectors
from confiance.pulse.demo import build_pulse_demo
from confiance.pulse.models import PulseAnswer, PulseSurvey

pytestmark = pytest.mark.usefixtures("demo")


def test_demo_tells_follow_up_problems_lessons_kudos_and_a_closure_of_its_own_dates(db) -> None:
    statuses = set(Commitment.objects.values_list("side", "status"))
    for side in ("provider", "client"):
        for status in ("kept", "kept_late", "renegotiated", "broken", "open"):
            assert (side, status) in statuses, (side, status)
    assert set(Meeting.objects.values_list("status", flat=True)) >= {"held", "cancelled", "planned"}
    late = Meeting.objects.get(status="cancelled")
    assert late.cancellation_notice_hours is not None and late.cancellation_notice_hours < 24
    assert MeetingAttendee.objects.filter(attendance="absent").exists()
    paid = Payment.objects.filter(paid_date__isnull=False)
    assert any(p.paid_date > p.due_date for p in paid), "one payment was late"
    assert any(p.paid_date <= p.due_date for p in paid), "one was on time"
    assert set(Problem.objects.values_list("status", flat=True)) == {
        "raised",
        "acknowledged",
        "resolved",
        "closed",
    }
    assert Problem.objects.filter(proactive=True).exists()
    assert Problem.objects.filter(level__gte=1).exists()
    assert Lesson.objects.exists() and Kudos.objects.count() >= 2

    # The closed engagement: its closure is whole, and everything about it is dated in its past
    # (its budget notices are not dated today, its approval is on its planned end date).
    closed = Engagement.objects.get(status="closed")
    closure = Closure.objects.get(engagement=closed)
    assert closure.engagement.objectives.count() == 2
    assert set(closure.contributions.values_list("side", flat=True)) == {"provider", "client"}
    assert timezone.localdate(closure.approvals.get().approved_at) == closed.end_date
    alerts = BudgetAlert.objects.filter(engagement=closed)
    assert {a.level for a in alerts} == {"50", "80"}
    assert all(timezone.localdate(a.created_at) <= closed.end_date for a in alerts)
    assert all(a.consumed_minutes < a.budget_minutes for a in alerts)


def test_the_tour_s_engagement_names_its_objectives_and_people_of_both_sides(db) -> None:
    """The patient record migration's page showed "No objective recorded yet" and "No
    interlocutor named yet": the demo reached neither capability."""
    migration = Engagement.objects.get(title__startswith="Migration")
    assert migration.objectives.count() == 2
    assert set(migration.interlocutors.values_list("side", flat=True)) == {"provider", "client"}
    assert all(i.role for i in migration.interlocutors.all())
    from confiance.core.models import Notice

    # Agreed at its start: no notice today about objectives of weeks ago.
    assert not Notice.objects.filter(kind="engagement.objective_added").exists()


def test_time_is_logged_up_to_today_on_active_work_and_stops_with_ended_work(db) -> None:
    """The migration's team had logged nothing since mid-November while it fixed problems in
    December: the work was spread over too few days. Active engagements log up to the last
    working day, the totals are the plan's, and ended ones stop before their end."""
    from django.db.models import Max, Sum

    from confiance.consumption.models import TimeEntry

    today = timezone.localdate()
    planned = {"Migration": 31 * 480, "Refonte": 14 * 480, "Audit": 8832, "Pilote": 9 * 480}
    for engagement in Engagement.objects.exclude(status__in=["draft", "paused"]):
        logged = TimeEntry.objects.filter(engagement=engagement).aggregate(
            last=Max("date"), minutes=Sum("minutes")
        )
        assert logged["minutes"] == planned[engagement.title.split()[0]], engagement.title
        if engagement.status == EngagementStatus.ACTIVE:
            assert (today - logged["last"]).days <= 3, (engagement.title, logged["last"])
        else:
            assert engagement.end_date is not None and logged["last"] <= engagement.end_date


def test_demo_has_a_live_trust_alert(db) -> None:
    from confiance.trust.models import TrustAlert

    assert TrustAlert.objects.filter(closed_at__isnull=True).exists()


def _day(offset: int):
    from datetime import timedelta

    return timezone.localdate() + timedelta(days=offset)


def test_every_act_of_the_demo_story_carries_its_day_in_the_story(db) -> None:
    """Ages, targets, late payments and trust facts follow the story's dates, not the day the
    demo was loaded; nothing is dated after now but the meetings still planned."""
    from confiance.core.models import Notice, NoticeEmail
    from confiance.followup.models import CommitmentStatusChange, FactReview, Renegotiation
    from confiance.problems import clock
    from confiance.problems.models import ProblemBreach, ProblemEvent
    from confiance.problems.services import problem_settings_for
    from confiance.trust.models import TrustFact

    now = timezone.now()
    local = timezone.localdate

    # Commitments: kept four (provider) and three (client) days after their due dates.
    late = {c.text.split(" / ")[0]: c for c in Commitment.objects.filter(status="kept_late")}
    assert (
        local(late["Test run on cardiology"].status_changed_at)
        - late["Test run on cardiology"].due_date
    ).days == 4
    assert (
        local(late["Open access to the test server"].status_changed_at)
        - late["Open access to the test server"].due_date
    ).days == 3
    overdue = Commitment.objects.get(text__startswith="Sign off batch 1")
    assert overdue.is_overdue() and (local() - overdue.due_date).days == 4
    for commitment in Commitment.objects.all():
        assert commitment.created_at < now and local(commitment.created_at) < local()
        if commitment.status_changed_at is not None:
            assert commitment.created_at < commitment.status_changed_at < now
    for proposal in Renegotiation.objects.all():
        assert proposal.proposed_at < proposal.decided_at < now

    # Payments: the deposit two days early, the October invoice 14 days late, each recorded on
    # the day it arrived; November's is not due.
    paid = {p.label.split(" / ")[0]: p for p in Payment.objects.all()}
    assert paid["Deposit 30 %"].promptness_days == -2
    assert paid["Invoice October"].promptness_days == 14
    assert paid["Invoice October"].paid_date == _day(-6)
    for payment in Payment.objects.filter(paid_date__isnull=False):
        assert local(payment.paid_recorded_at) == payment.paid_date
    assert paid["Invoice November"].paid_date is None
    assert paid["Invoice November"].due_date > local()

    # Meetings: the check-in cancelled the evening before (14 h), three days ago.
    cancelled = Meeting.objects.get(status="cancelled")
    assert cancelled.cancellation_notice_hours == 14
    assert local(cancelled.cancelled_at) == _day(-3)
    for meeting in Meeting.objects.all():
        assert meeting.created_at < now
        assert (meeting.starts_at > now) == (meeting.status == "planned")

    # Problems: raised on the story's days; targets met or missed as told.
    raised = {p.title.split(" / ")[0]: p for p in Problem.objects.all()}
    assert {title: local(p.created_at) for title, p in raised.items()} == {
        "Duplicate patient records after batch 1": _day(-38),
        "Legacy export truncates accented names": _day(-12),
        "Night batch slows the ward terminals": _day(-2),
        "Allergy codes missing from the export": _day(-3),
    }
    settings = problem_settings_for(raised["Allergy codes missing from the export"].workspace_id)

    def missed(title: str) -> set[str]:
        problem = raised[title]
        targets = clock.targets(problem, list(problem.events.all()), settings, now)
        return {t.kind for t in targets if t.breached}

    assert missed("Duplicate patient records after batch 1") == set()
    assert missed("Legacy export truncates accented names") == set()
    assert missed("Night batch slows the ward terminals") == set()  # its update clock paused
    assert missed("Allergy codes missing from the export") == {"acknowledge", "owner"}
    escalation = ProblemEvent.objects.get(kind="escalated")
    assert escalation.before_breach and local(escalation.at) == _day(-2)
    breaches = ProblemBreach.objects.order_by("detected_at")
    assert [(b.kind, local(b.detected_at)) for b in breaches] == [
        ("acknowledge", _day(-3)),
        ("owner", _day(-3)),
    ]
    closed = raised["Duplicate patient records after batch 1"]
    assert closed.acknowledged_at - closed.created_at < settings.target("acknowledge") / 2
    assert local(Lesson.objects.get(problem=closed).created_at) == _day(-34)

    # Nothing dated after now, and the notices of past acts carry their day and sent no e-mail.
    moments = [
        *CommitmentStatusChange.objects.values_list("changed_at", flat=True),
        *ProblemEvent.objects.values_list("at", flat=True),
        *MeetingAttendee.objects.exclude(recorded_at=None).values_list("recorded_at", flat=True),
        *FactReview.objects.values_list("recorded_at", flat=True),
        *Kudos.objects.values_list("created_at", flat=True),
        *Notice.objects.values_list("created_at", flat=True),
        *TrustFact.objects.values_list("at", flat=True),
    ]
    assert moments and max(moments) <= now
    notice = Notice.objects.filter(
        kind="problem.raised", params__title__startswith="Allergy"
    ).first()
    assert notice is not None and local(notice.created_at) == _day(-3)
    assert notice.email == NoticeEmail.OFF

    # Trust facts sit on the story's days: the late payment on the day it was paid.
    invoice_fact = TrustFact.objects.get(indicator="payment_late")
    assert local(invoice_fact.at) == paid["Invoice October"].paid_date
    target_facts = TrustFact.objects.filter(indicator="problem_target_missed")
    assert {local(f.at) for f in target_facts} == {_day(-3)}


def test_the_ended_engagements_are_told_on_the_days_they_ended(db) -> None:
    """The pilot stopped early and the closed audit ended months ago: their stop, their closure
    and every notice about them carry those days, never the day the demo was loaded (the
    client's notices said "the closure analysis awaits your approval" today, for an analysis
    approved in June, and "stopped early" was dated today for a pilot of the summer)."""
    from confiance.consumption.models import TimeEntry
    from confiance.core.models import Notice, NoticeEmail

    local = timezone.localdate
    pilot = Engagement.objects.get(status=EngagementStatus.STOPPED_EARLY)
    assert pilot.stopped_at is not None and pilot.end_date is not None
    last_worked = max(TimeEntry.objects.filter(engagement=pilot).values_list("date", flat=True))
    assert last_worked < local(pilot.stopped_at) <= pilot.end_date

    closed = Engagement.objects.get(status=EngagementStatus.CLOSED)
    closure = Closure.objects.get(engagement=closed)
    approved = closure.approvals.get().approved_at
    steps = [
        closure.started_at,
        *closure.assessments.values_list("assessed_at", flat=True),
        *closure.contributions.order_by("updated_at").values_list("updated_at", flat=True),
    ]
    assert steps == sorted(steps) and steps[-1] < approved
    assert local(closure.started_at) >= closed.start_date

    ended = {pilot.title: local(pilot.stopped_at), closed.title: closed.end_date}
    told = Notice.objects.filter(params__engagement__in=list(ended))
    kinds = set(told.values_list("kind", flat=True))
    assert {"engagement.stopped_early", "closure.awaiting", "closure.approved"} <= kinds
    late = [
        (n.kind, local(n.created_at))
        for n in told
        if local(n.created_at) > ended[n.params["engagement"]]
    ]
    assert late == [], late
    assert all(n.email == NoticeEmail.OFF for n in told if n.kind.startswith(("closure", "engage")))


def test_the_invited_expert_lands_on_an_opportunity_with_its_discussion(db, client) -> None:
    """The tour's third step: Nadia sees no engagement, but an opportunity she was invited to,
    where the client and the provider discuss and she put herself forward for a role."""
    from confiance.core.demo import DEMO_SLUG
    from confiance.emergence.models import Opportunity

    opportunity = Opportunity.objects.get()
    assert opportunity.phase == "converging"
    client.force_login(opportunity.participants.get(user__email__startswith="nadia").user)
    home = client.get(f"/w/{DEMO_SLUG}/", follow=True)
    assert home.redirect_chain[-1][0] == f"/w/{DEMO_SLUG}/opportunities/"
    assert "Plateforme de données des urgences" in home.content.decode()
    assert client.get(f"/w/{DEMO_SLUG}/engagements/1/").status_code == 404
    base = f"/w/{DEMO_SLUG}/opportunities/{opportunity.pk}/"
    assert "Data architect" in client.get(base).content.decode()
    assert "admission events" in client.get(base + "discussion/").content.decode()


def test_demo_is_idempotent_and_tells_a_story(db) -> None:
    # The first build, on an empty database, answered True (the `demo` fixture asserts it).
    counts = (User.objects.count(), Engagement.objects.count(), AuditEvent.objects.count())
    assert build_demo() is False
    assert (User.objects.count(), Engagement.objects.count(), AuditEvent.objects.count()) == counts
    workspace = Workspace.objects.get(slug=DEMO_SLUG)
    assert workspace.clients.count() == 2
    statuses = set(workspace.engagements.values_list("status", flat=True))
    assert {
        EngagementStatus.ACTIVE,
        EngagementStatus.CLOSED,
        EngagementStatus.STOPPED_EARLY,
    } <= statuses
    roles = set(Membership.objects.filter(workspace=workspace).values_list("role", flat=True))
    assert roles == {Role.OWNER, Role.MEMBER, Role.FINANCE, Role.CLIENT, Role.EXPERT}


def test_demo_log_ins_work(client, db) -> None:
    for demo_login in DEMO_LOGINS:
        assert client.login(username=demo_login.email, password=DEMO_PASSWORD), demo_login.email
        client.logout()


def test_demo_command_prints_the_log_ins(db, capsys) -> None:
    call_command("demo")  # the demo is there already: the log-ins are printed all the same
    out = capsys.readouterr().out
    for demo_login in DEMO_LOGINS:
        assert demo_login.email in out


def test_demo_has_rounds_with_visible_means_and_a_signed_side(db, client: HttpClient) -> None:
    """The demo workspace carries pulse rounds that show each rule of the pulse."""
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
