"""Facts from the problems app: reactions in time, targets missed, proactive problems."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop

from confiance.trust.facts import Collect, Fact, Rows, model, url_or

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement


def problem_link(engagement: Engagement, problem_id: int) -> str:
    return url_or("problem-detail", "problem-list", engagement, problem_id=problem_id)


def events(engagement: Engagement, since: datetime | None) -> Any:
    """Every problem event since the moment: the probe of the three event indicators."""
    rows = model("problems", "ProblemEvent").objects.filter(problem__engagement=engagement)
    return rows.filter(at__gte=since) if since is not None else rows


def event_rows(kind: str) -> Rows:
    def rows(engagement: Engagement, since: datetime | None) -> Any:
        found = model("problems", "ProblemEvent").objects.filter(
            problem__engagement=engagement, kind=kind
        )
        if kind == "acknowledged":  # in time: no acknowledgement breach on that problem
            found = found.exclude(problem__breaches__kind="acknowledge")
        if kind == "escalated":  # early: before any target was missed
            found = found.filter(before_breach=True)
        return found.filter(at__gte=since) if since is not None else found

    return rows


def problem_events(kind: str, key: str, label: str) -> Collect:
    source = event_rows(kind)

    def collect(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
        rows = source(engagement, since)
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


def breach_rows(engagement: Engagement, since: datetime | None) -> Any:
    rows = model("problems", "ProblemBreach").objects.filter(problem__engagement=engagement)
    return rows.filter(detected_at__gte=since) if since is not None else rows


def problem_target_missed(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    rows = breach_rows(engagement, since).select_related("problem")
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


def proactive_rows(engagement: Engagement, since: datetime | None) -> Any:
    rows = model("problems", "Problem").objects.filter(engagement=engagement, proactive=True)
    return rows.filter(created_at__gte=since) if since is not None else rows


def problem_proactive(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    for problem in proactive_rows(engagement, since).iterator(chunk_size=1000):
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
