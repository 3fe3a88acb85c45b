"""Engagement histories over 120 days, built through the services with a moving clock.

Each story is a healthy engagement's rhythm (time logged, meetings held, commitments kept,
invoices paid, pulse rounds answered) with, for a trouble archetype, what goes wrong from some
day on, and the day the client would complain. Stories vary in team size, number of client
contacts and rhythm (how often time is logged, meetings held, commitments made), so that a rule
tuned to one history does not pass the others.

The periodic work runs each day as the worker's schedule runs it (problem checks, pulse rounds,
the trust refresh with its alerts); live updates on each write are left to that refresh here
(tasks are not run at once), which is what a worker under load amounts to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from confiance.consumption.services import (
    EntryInput,
    budget_revise,
    remaining_estimate_set,
    team_member_set,
    time_entries_log,
)
from confiance.core.models import Client, Membership, Role, User, Workspace
from confiance.core.services import client_create, membership_add, user_create, workspace_create
from confiance.engagements.models import ContactOrigin, Engagement, EngagementStatus
from confiance.followup.models import Attendance, Commitment, Renegotiation
from confiance.followup.services import (
    commitment_create,
    commitment_set_status,
    meeting_create,
    meeting_record,
    payment_create,
    payment_mark_paid,
    renegotiation_decide,
    renegotiation_propose,
)
from confiance.problems.services import (
    problem_acknowledge,
    problem_breaches_check,
    problem_owner_name,
    problem_raise,
    problem_resolve,
    problem_update_post,
)
from confiance.pulse.models import PulseInvitee, PulseSurvey
from confiance.pulse.services import AnswerInput, pulse_answer_submit, pulse_open_due
from confiance.trust.models import TrustAlert
from confiance.trust.tasks import trust_refresh_all
from tests.trust.scenario_figures import Outcome

DAYS = 120
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday


@dataclass
class Story:
    name: str
    team: int = 2  # provider people logging time
    contacts: int = 2  # client contacts
    log_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # weekdays time is logged
    hours: float = 6.0  # per person and day logged
    meeting_every: int = 14  # days
    commitment_every: int = 14  # days, a provider commitment due a week later
    budget_days: int = 0  # 0: enough for the whole plan with a 15 % margin
    # Trouble: from `trouble_from` on (day index), the change below; `complaint` is the day the
    # client would complain. None for a healthy story.
    trouble: str = ""
    trouble_from: int = 0
    complaint: int | None = None
    # Healthy variations that must not alarm.
    problem_handled_on: int | None = None  # a client problem handled within its targets
    scope_revision_on: int | None = None  # more work, budget raised the same week
    renegotiated_once_on: int | None = None  # one renegotiation, agreed


STORIES: list[Story] = [
    # -- healthy ----------------------------------------------------------------------------
    Story("steady-small", team=1, contacts=1, meeting_every=7, commitment_every=7),
    Story("steady-large", team=4, contacts=4, hours=7, meeting_every=14, commitment_every=14),
    Story(
        "part-time",
        team=2,
        contacts=2,
        log_days=(0, 2, 4),
        hours=4,
        meeting_every=14,
        commitment_every=21,
    ),
    Story("problem-handled", team=3, contacts=3, problem_handled_on=40),
    Story(
        "scope-grows",
        team=2,
        contacts=1,
        meeting_every=10,
        scope_revision_on=50,
        renegotiated_once_on=30,
    ),
    Story("fortnightly-rhythm", team=3, contacts=2, meeting_every=14, commitment_every=28),
    # -- trouble ----------------------------------------------------------------------------
    # The team works faster than planned while its estimate of what remains stays rosy.
    Story("budget-rosy", team=3, contacts=2, trouble="overrun", trouble_from=30, complaint=95),
    # The provider stops talking: no meeting, no commitment, no answer; time is still logged.
    Story("provider-silent", team=2, contacts=3, trouble="silent", trouble_from=35, complaint=80),
    # The client's pulse declines a little every round.
    Story("pulse-decline", team=2, contacts=3, trouble="pulse", trouble_from=20, complaint=100),
    # Deadlines renegotiated again and again, then kept late.
    Story(
        "renegotiations", team=2, contacts=2, trouble="renegotiate", trouble_from=25, complaint=85
    ),
    # A deliverable left open past its date.
    Story(
        "overdue-commitment", team=1, contacts=1, trouble="overdue", trouble_from=40, complaint=70
    ),
    # A client problem nobody acknowledges.
    Story("problem-ignored", team=3, contacts=2, trouble="ignored", trouble_from=45, complaint=68),
    # A problem acknowledged, then no progress update for weeks.
    Story("problem-stalled", team=2, contacts=2, trouble="stalled", trouble_from=40, complaint=72),
    # The provider's people skip meetings.
    Story(
        "meetings-missed",
        team=3,
        contacts=2,
        meeting_every=7,
        trouble="absent",
        trouble_from=30,
        complaint=80,
    ),
    # Commitments withdrawn by the provider instead of being kept.
    Story(
        "withdrawals",
        team=2,
        contacts=1,
        commitment_every=7,
        trouble="withdraw",
        trouble_from=30,
        complaint=75,
    ),
    # Time logged weeks late: the client cannot see the consumption as it happens.
    Story("late-logging", team=2, contacts=2, trouble="late_log", trouble_from=30, complaint=90),
    # The client stops paying (the provider's side would escalate).
    Story("unpaid", team=2, contacts=2, trouble="unpaid", trouble_from=30, complaint=80),
    # Small team, one contact, commitments broken.
    Story(
        "broken-promises",
        team=1,
        contacts=1,
        commitment_every=7,
        trouble="broken",
        trouble_from=35,
        complaint=80,
    ),
]


@dataclass
class Cast:
    workspace: Workspace
    owner: Membership
    finance: Membership
    providers: list[Membership]
    contacts: list[Membership]
    client: Client
    engagement: Engagement


_people = 0


def _person(prefix: str) -> User:
    global _people
    _people += 1
    return user_create(
        email=f"{prefix}{_people}@scenario.test", password="x", full_name=f"{prefix} {_people}"
    )


def _cast(story: Story, workspace: Workspace, owner: Membership, finance: Membership) -> Cast:
    client = client_create(membership=owner, name=f"Client of {story.name}")
    providers = [
        membership_add(by=owner, user=_person("dev"), role=Role.MEMBER) for _ in range(story.team)
    ]
    contacts = [
        membership_add(by=owner, user=_person("contact"), role=Role.CLIENT, client=client)
        for _ in range(story.contacts)
    ]
    from confiance.engagements.services import engagement_create

    engagement = engagement_create(
        membership=owner,
        client=client,
        title=story.name,
        status=EngagementStatus.ACTIVE,
        contact_origin=ContactOrigin.PEER_REFERRAL,
        start_date=T0.date(),
        end_date=T0.date() + timedelta(days=DAYS + 20),
        lead=providers[0].user,
    )
    for member in providers:
        team_member_set(membership=owner, engagement=engagement, user=member.user)
    return Cast(workspace, owner, finance, providers, contacts, client, engagement)


def _planned_minutes(story: Story) -> int:
    per_week = len(story.log_days) * story.team * story.hours * 60
    return int(per_week * (DAYS + 20) / 7)


class Run:
    """One story's state while the clock moves."""

    def __init__(self, story: Story, cast: Cast) -> None:
        self.story = story
        self.cast = cast
        self.open_commitments: list[Commitment] = []
        self.problem = None
        self.late_entries: list[tuple[Membership, date, int]] = []
        self.pulse_days: list[int] = []
        self.answered: set[int] = set()
        self.unpaid: list = []

    @property
    def troubled(self) -> bool:
        return bool(self.story.trouble)

    def trouble(self, kind: str, day: int) -> bool:
        return self.story.trouble == kind and day >= self.story.trouble_from

    # -- the days ---------------------------------------------------------------------------

    def start(self) -> None:
        story, cast = self.story, self.cast
        planned = _planned_minutes(story)
        days = Decimal(story.budget_days or round(planned * 1.15 / 480))
        budget_revise(
            membership=cast.owner,
            engagement=cast.engagement,
            days=days,
            amount=None,
            reason="Initial plan",
        )

    def day(self, day: int, today: date) -> None:
        story, cast = self.story, self.cast
        engagement = cast.engagement
        lead = cast.providers[0]
        # Time logged.
        if today.weekday() in story.log_days:
            minutes = int(story.hours * 60)
            if self.trouble("overrun", day):
                minutes = int(minutes * 1.6)
            if self.trouble("late_log", day):
                for member in cast.providers:
                    self.late_entries.append((member, today, minutes))
            else:
                self._log(today, [(m, today, minutes) for m in cast.providers])
        if self.late_entries and today.weekday() == 4 and self.trouble("late_log", day):
            # Logged in bulk a few weeks late, on Fridays.
            due = [e for e in self.late_entries if (today - e[1]).days >= 21]
            if due:
                self._log(today, due)
                self.late_entries = [e for e in self.late_entries if e not in due]
        # The team's estimate of what remains: honest, or rosy once the pace ran away.
        if today.weekday() == 0 and day >= 7:
            self._estimate(day)
        # Meetings.
        if day % story.meeting_every == 3:
            self._meeting(day, today)
        # Provider commitments.
        if day % story.commitment_every == 1 and not self.trouble("silent", day):
            text = f"Deliver increment {day}"
            if self.trouble("broken", day) or self.trouble("withdraw", day):
                text = f"Deliver module {day}"
            self.open_commitments.append(
                commitment_create(
                    membership=lead,
                    engagement=engagement,
                    side="provider",
                    owner=lead.user,
                    text=text,
                    due_date=today + timedelta(days=7),
                )
            )
        self._commitments(day, today)
        # A client commitment now and then (an answer, an access), kept by the client.
        if day % 21 == 5:
            contact = cast.contacts[day % len(cast.contacts)]
            kept = commitment_create(
                membership=contact,
                engagement=engagement,
                side="client",
                owner=contact.user,
                text=f"Give access {day}",
                due_date=today + timedelta(days=5),
            )
            commitment_set_status(membership=contact, commitment=kept, status="kept")
        # Invoices monthly, paid within the month (or not).
        if day % 30 == 10:
            payment = payment_create(
                membership=cast.finance,
                engagement=engagement,
                kind="invoice",
                label=f"Invoice {day}",
                amount=Decimal("5000"),
                issue_date=today,
                due_date=today + timedelta(days=30),
            )
            self.unpaid.append(payment)
        for payment in list(self.unpaid):
            if today == payment.due_date - timedelta(days=3) and not self.trouble("unpaid", day):
                payment_mark_paid(membership=cast.finance, payment=payment, paid_date=today)
                self.unpaid.remove(payment)
        self._problems(day, today)
        self._pulse(day)
        self._healthy_variations(day, today)

    def _log(self, today: date, items: list[tuple[Membership, date, int]]) -> None:
        time_entries_log(
            membership=self.cast.owner,
            engagement=self.cast.engagement,
            items=[EntryInput(person=m.user, date=d, minutes=minutes) for m, d, minutes in items],
        )

    def _estimate(self, day: int) -> None:
        story = self.story
        per_day = story.team * story.hours * 60 * len(story.log_days) / 7
        remaining = int(per_day * max(0, DAYS + 20 - day))
        remaining_estimate_set(
            membership=self.cast.owner,
            engagement=self.cast.engagement,
            remaining_minutes=remaining,  # the plan's rate, even when the pace ran away
        )

    def _meeting(self, day: int, today: date) -> None:
        cast = self.cast
        if self.trouble("silent", day):
            return
        starts = timezone.now() + timedelta(hours=2)
        people = [m.user for m in cast.providers[:2]] + [m.user for m in cast.contacts[:2]]
        meeting = meeting_create(
            membership=cast.providers[0],
            engagement=cast.engagement,
            title=f"Weekly review {day}",
            starts_at=starts,
            duration_minutes=60,
            channel="video",
            attendees=people,
        )
        attendance = {}
        for user in people:
            provider = any(user == m.user for m in cast.providers)
            absent = provider and self.trouble("absent", day)
            attendance[user.pk] = Attendance.ABSENT if absent else Attendance.PRESENT
        with time_machine.travel(starts + timedelta(hours=1), tick=False):
            meeting_record(
                membership=cast.providers[0],
                meeting=meeting,
                attendance=attendance,
                minutes="Progress reviewed.",
                internal_notes="",
            )

    def _commitments(self, day: int, today: date) -> None:
        lead = self.cast.providers[0]
        contact = self.cast.contacts[0]
        for commitment in list(self.open_commitments):
            commitment.refresh_from_db()
            if commitment.status not in ("open", "renegotiated"):
                self.open_commitments.remove(commitment)
                continue
            days_left = (commitment.due_date - today).days
            if self.trouble("overdue", day):
                continue  # left open past its date
            renegotiating = self.trouble("renegotiate", day) and days_left == 1
            if renegotiating and commitment.renegotiations.count() < 2:
                proposal = renegotiation_propose(
                    membership=lead,
                    commitment=commitment,
                    reason="Not ready yet",
                    new_due_date=commitment.due_date + timedelta(days=7),
                )
                renegotiation_decide(membership=contact, renegotiation=proposal, agree=True)
                continue
            if self.trouble("renegotiate", day) and days_left >= -3:
                continue  # then kept a few days late
            if self.trouble("broken", day) and days_left <= 1:
                commitment_set_status(membership=lead, commitment=commitment, status="broken")
                continue
            if self.trouble("withdraw", day) and days_left <= 1:
                commitment_set_status(membership=lead, commitment=commitment, status="withdrawn")
                continue
            if (
                self.story.renegotiated_once_on is not None
                and commitment.created_at.date() >= self._date(self.story.renegotiated_once_on)
                and not Renegotiation.objects.filter(
                    commitment__engagement=self.cast.engagement
                ).exists()
                and days_left == 2
            ):
                proposal = renegotiation_propose(
                    membership=lead,
                    commitment=commitment,
                    reason="The client asked for a change first",
                    new_due_date=commitment.due_date + timedelta(days=5),
                )
                renegotiation_decide(membership=contact, renegotiation=proposal, agree=True)
                continue
            if days_left <= 1:
                commitment_set_status(membership=lead, commitment=commitment, status="kept")

    def _problems(self, day: int, today: date) -> None:
        cast = self.cast
        raise_on = self.story.problem_handled_on
        if self.story.trouble in ("ignored", "stalled") and day == self.story.trouble_from:
            raise_on = day
        if day == raise_on:
            self.problem = problem_raise(
                membership=cast.contacts[0],
                engagement=cast.engagement,
                title="The export fails",
                severity="high",
            )
            if self.story.trouble != "ignored":
                problem_acknowledge(membership=cast.providers[0], problem=self.problem)
                problem_owner_name(
                    membership=cast.providers[0], problem=self.problem, owner=cast.providers[0].user
                )
        if self.problem is not None and self.story.problem_handled_on is not None:
            age = day - self.story.problem_handled_on
            if age in (1, 2):
                problem_update_post(
                    membership=cast.providers[0], problem=self.problem, text="Fix under way."
                )
            if age == 3:
                problem_resolve(membership=cast.providers[0], problem=self.problem, text="Fixed.")
                self.problem = None

    def _pulse(self, day: int) -> None:
        cast = self.cast
        for survey in PulseSurvey.objects.filter(
            engagement=cast.engagement, closes_at__gt=timezone.now()
        ).exclude(pk__in=self.answered):
            self.answered.add(survey.pk)
            for invitee in PulseInvitee.objects.filter(survey=survey).select_related("user"):
                membership = Membership.objects.get(user=invitee.user, workspace=cast.workspace)
                scores = [4, 4, 5, 4, 4]
                if invitee.side == "client" and self.trouble("pulse", day):
                    # One virtue a point lower each round: a gentle, steady decline.
                    declined = sum(1 for d in self.pulse_days if d >= self.story.trouble_from)
                    for k in range(min(declined + 1, 8)):
                        scores[k % 5] = max(1, scores[k % 5] - 1)
                pulse_answer_submit(
                    membership=membership, survey=survey, answer=AnswerInput(*scores)
                )
            self.pulse_days.append(day)

    def _healthy_variations(self, day: int, today: date) -> None:
        story, cast = self.story, self.cast
        if story.scope_revision_on is not None and day == story.scope_revision_on:
            planned = _planned_minutes(story) * 1.3
            budget_revise(
                membership=cast.owner,
                engagement=cast.engagement,
                days=Decimal(round(planned * 1.15 / 480)),
                amount=None,
                reason="Scope extended with the client",
            )
            story.hours *= 1.3

    def _date(self, day: int) -> date:
        return (T0 + timedelta(days=day)).date()


def run_all(stories: list[Story] | None = None) -> list[Outcome]:
    """Build every story day by day in one workspace; the alerts each one raised."""
    # Copies: a story changes its own rhythm as it runs (scope-grows logs more hours).
    stories = [replace(story) for story in stories or STORIES]
    owner_user = _person("owner")
    workspace = workspace_create(name="Scenarios", owner=owner_user, slug="scenarios")
    owner = Membership.objects.get(user=owner_user, workspace=workspace)
    finance = membership_add(by=owner, user=_person("finance"), role=Role.FINANCE)
    runs: list[Run] = []
    with time_machine.travel(T0, tick=False) as clock:
        for story in stories:
            runs.append(Run(story, _cast(story, workspace, owner, finance)))
        for run in runs:
            run.start()
        for day in range(DAYS):
            moment = T0 + timedelta(days=day)
            clock.move_to(moment + timedelta(hours=1))
            today = timezone.localdate()
            for run in runs:
                run.day(day, today)
            # What the worker's schedule runs (confiance/core/schedule.py), at the end of the day.
            clock.move_to(moment + timedelta(hours=10))
            problem_breaches_check()
            pulse_open_due()
            trust_refresh_all.call()
    results = []
    for run in runs:
        alerts = list(
            TrustAlert.objects.filter(engagement=run.cast.engagement).order_by("opened_at")
        )
        first = alerts[0] if alerts else None
        results.append(
            Outcome(
                name=run.story.name,
                complaint=run.story.complaint,
                first_alert_day=(first.opened_at - T0).days if first else None,
                alerts=tuple(f"d{(a.opened_at - T0).days}:{a.kind}/{a.direction}" for a in alerts),
                of=len(STORIES),
            )
        )
    return results
