"""The demo reaches follow-up, problems, lessons and kudos, so the README's tour lands on data."""

from __future__ import annotations

from django.utils import timezone

from confiance.closure.models import Closure
from confiance.consumption.models import BudgetAlert
from confiance.core.demo import build_demo
from confiance.engagements.models import Engagement
from confiance.followup.models import Commitment, Meeting, MeetingAttendee, Payment
from confiance.lessons.models import Kudos, Lesson
from confiance.problems.models import Problem


def test_demo_tells_follow_up_problems_lessons_kudos_and_a_closure_of_its_own_dates(db) -> None:
    build_demo()
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


def test_demo_has_a_live_trust_alert(db) -> None:
    from confiance.trust.models import TrustAlert

    build_demo()
    assert TrustAlert.objects.filter(closed_at__isnull=True).exists()
