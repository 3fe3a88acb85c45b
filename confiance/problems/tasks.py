"""Background tasks of problems: the breach check (also run by cron) and its messages."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from confiance.core.models import Membership, Notice, Role, User
from confiance.problems.models import Problem, ProblemBreach


@task()
def check_problems() -> int:
    """Find the targets missed since the last check and tell the right people; returns how many."""
    from confiance.problems.services import problem_breaches_check

    return len(problem_breaches_check())


def _link(problem: Problem) -> str:
    return reverse(
        "problem-detail",
        kwargs={
            "ws": problem.workspace.slug,
            "pk": problem.engagement_id,
            "problem_id": problem.pk,
        },
    )


@task()
def send_breach_email(breach_id: int) -> None:
    """E-mail each person notified of a breach (the in-app notice was written with it)."""
    breach = ProblemBreach.objects.select_related(
        "problem__engagement", "problem__workspace", "problem__owner"
    ).get(pk=breach_id)
    problem = breach.problem
    link = settings.SITE_URL + _link(problem)
    for user in User.objects.filter(pk__in=breach.notified_ids, is_active=True):
        with translation.override(settings.LANGUAGE_CODE):
            context = {"breach": breach, "problem": problem, "link": link}
            subject = render_to_string("problems/email/breach_subject.txt", context).strip()
            body = render_to_string("problems/email/breach_body.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@task()
def notify_problem_raised(problem_id: int) -> None:
    """A client raised a problem: the engagement lead (or the workspace owners) hear of it."""
    problem = Problem.objects.select_related("engagement__lead", "workspace").get(pk=problem_id)
    if problem.raised_side != Problem.Side.CLIENT:
        return
    engagement = problem.engagement
    if engagement.lead is not None:
        people = [engagement.lead]
    else:
        people = [
            m.user
            for m in Membership.objects.filter(
                workspace_id=problem.workspace_id, role=Role.OWNER
            ).select_related("user")
        ]
    Notice.objects.bulk_create(
        Notice(
            workspace_id=problem.workspace_id,
            user=user,
            kind="problem.raised",
            params={"title": problem.title, "engagement": engagement.title},
            link=_link(problem),
        )
        for user in people
        if user.is_active
    )
