"""Facts from the problems app: reactions in time, targets missed, proactive problems."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from confiance.trust.facts import Collect, Fact, model, url_or

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement


def problem_link(engagement: Engagement, problem_id: int) -> str:
    return url_or("problem-detail", "problem-list", engagement, problem_id=problem_id)


def problem_events(kind: str, key: str, label: str) -> Collect:
    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        rows = model("problems", "ProblemEvent").objects.filter(
            problem__engagement=engagement, kind=kind
        )
        if kind == "acknowledged":  # in time: no acknowledgement breach on that problem
            rows = rows.exclude(problem__breaches__kind="acknowledge")
        if kind == "escalated":  # early: before any target was missed
            rows = rows.filter(before_breach=True)
        if since is not None:
            rows = rows.filter(at__gte=since)
        for event in rows.select_related("problem").iterator(chunk_size=1000):
            yield Fact(
                key,
                event.at,
                1.0,
                0.0,
                label,
                problem_link(engagement, event.problem_id),
                "problems.problemevent",
                str(event.pk),
                {"title": event.problem.title},
            )

    return collect


BREACH_LABELS = {
    "acknowledge": gettext_noop("Not acknowledged in time: %(title)s"),
    "owner": gettext_noop("No owner named in time: %(title)s"),
    "update": gettext_noop("No progress update in time: %(title)s"),
}


def problem_target_missed(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    rows = (
        model("problems", "ProblemBreach")
        .objects.filter(problem__engagement=engagement)
        .select_related("problem")
    )
    if since is not None:
        rows = rows.filter(detected_at__gte=since)
    for breach in rows.iterator(chunk_size=1000):
        yield Fact(
            "problem_target_missed",
            breach.detected_at,
            0.0,
            1.0,
            BREACH_LABELS.get(breach.kind, gettext_noop("Target missed: %(title)s")),
            problem_link(engagement, breach.problem_id),
            "problems.problembreach",
            str(breach.pk),
            {"title": breach.problem.title},
        )


def problem_proactive(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    rows = model("problems", "Problem").objects.filter(engagement=engagement, proactive=True)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    for problem in rows.iterator(chunk_size=1000):
        yield Fact(
            "problem_proactive",
            problem.created_at,
            1.0,
            0.0,
            gettext_noop("Problem raised by us before the client noticed: %(title)s"),
            problem_link(engagement, problem.pk),
            "problems.problem",
            str(problem.pk),
            {"title": problem.title},
        )
