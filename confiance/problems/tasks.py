"""Background tasks of problems: the scheduled breach check and its messages."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from confiance.engagements.models import Engagement
from confiance.problems.models import Problem


@task()
def check_problems() -> int:
    """Find the targets missed since the last check and tell the right people; returns how many."""
    from confiance.problems.services import problem_breaches_check

    return len(problem_breaches_check())


def problem_link(problem: Problem) -> str:
    return reverse(
        "problem-detail",
        kwargs={
            "ws": problem.workspace.slug,
            "pk": problem.engagement_id,
            "problem_id": problem.pk,
        },
    )


def engagement_problems_link(engagement: Engagement) -> str:
    return reverse("problem-list", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
