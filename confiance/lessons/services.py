"""Writes of lessons and kudos.

`lesson_create` is also the entry point of other apps (closure creates lessons from
retrospectives): pass `engagement=` without `problem=` and the lesson's source reads
"retrospective"; with `problem=` it reads "problem"; with neither, "other".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, User
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement
from confiance.ledger.services import ledger_append
from confiance.lessons.models import Kudos, Lesson, LessonRepeat, Tag
from confiance.problems.models import Problem

MAX_TAGS = 10
MAX_TAG_LENGTH = 40


def parse_tags(tags: str | Iterable[str]) -> list[str]:
    """'Data, migration;  data' -> ['data', 'migration']: lower case, unique, in order."""
    items = re.split(r"[,;]", tags) if isinstance(tags, str) else list(tags)
    seen: dict[str, None] = {}
    for item in items:
        name = " ".join(item.split()).lower()[:MAX_TAG_LENGTH]
        if name:
            seen.setdefault(name, None)
    return list(seen)


@transaction.atomic
def lesson_create(
    *,
    membership: Membership,
    title: str,
    text: str,
    tags: str | Iterable[str] = (),
    problem: Problem | None = None,
    engagement: Engagement | None = None,
    source_label: str = "",
    at: datetime | None = None,
) -> Lesson:
    """Add a lesson to the workspace's library, from a problem, a retrospective or elsewhere.

    `at`: when it was written; only the demo's story and tests set it (never user input)."""
    if not access.can_use_lessons(membership):
        raise PermissionDenied
    for obj in (problem, engagement):
        if obj is not None and obj.workspace_id != membership.workspace_id:
            raise PermissionDenied
    if problem is not None:
        engagement = engagement or problem.engagement
    errors: dict[str, str] = {}
    title, text = title.strip(), text.strip()
    if not title:
        errors["title"] = _("Give the lesson a title.")
    if not text:
        errors["text"] = _("Write what was learnt.")
    names = parse_tags(tags)
    if len(names) > MAX_TAGS:
        errors["tags"] = _("At most %(n)d tags.") % {"n": MAX_TAGS}
    if errors:
        raise ValidationError(errors)
    if not source_label:
        if problem is not None:
            source_label = Lesson.Source.PROBLEM
        elif engagement is not None:
            source_label = Lesson.Source.RETROSPECTIVE
        else:
            source_label = Lesson.Source.OTHER
    lesson = Lesson.objects.create(
        workspace_id=membership.workspace_id,
        title=title,
        text=text,
        source_label=source_label,
        problem=problem,
        engagement=engagement,
        created_by=membership.user,
        created_at=at or timezone.now(),
    )
    if names:
        existing = {t.name: t for t in Tag.objects.filter(workspace_id=membership.workspace_id)}
        missing = [
            Tag(workspace_id=membership.workspace_id, name=n) for n in names if n not in existing
        ]
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        lesson.tags.set(Tag.objects.filter(workspace_id=membership.workspace_id, name__in=names))
    audit_record(
        verb="lesson.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=lesson,
        data={"source": source_label, "problem": problem.pk if problem else None},
    )
    return lesson


@transaction.atomic
def lesson_repeat_link(*, membership: Membership, problem: Problem, lesson: Lesson) -> LessonRepeat:
    """Say that a problem repeats a lesson learnt before it: "this happened again"."""
    if not access.can_use_lessons(membership) or not (
        problem.workspace_id == lesson.workspace_id == membership.workspace_id
    ):
        raise PermissionDenied
    if lesson.created_at >= problem.created_at or lesson.problem_id == problem.pk:
        raise ValidationError(_("Only a lesson learnt before this problem can be repeated by it."))
    link, created = LessonRepeat.objects.get_or_create(
        lesson=lesson,
        problem=problem,
        defaults={"workspace_id": problem.workspace_id, "linked_by": membership.user},
    )
    if created:
        audit_record(
            verb="lesson.repeat",
            actor=membership.user,
            workspace=membership.workspace,
            target=link,
            data={"lesson": lesson.pk, "problem": problem.pk},
        )
    return link


def engagement_people(engagement: Engagement) -> QuerySet[User]:
    """People of either side of the engagement (engagements.selectors.engagement_people)."""
    from confiance.engagements.selectors import engagement_people as people

    return people(engagement=engagement)


@transaction.atomic
def kudos_give(
    *,
    membership: Membership,
    engagement: Engagement,
    recipients: Iterable[User],
    text: str,
    at: datetime | None = None,
) -> Kudos:
    """Credit named people (of either side) for a named success; it joins the engagement's log.

    `at`: when they were given; only the demo's story and tests set it (never user input)."""
    if not access.can_give_kudos(membership, engagement):
        raise PermissionDenied
    people = {u.pk: u for u in recipients}
    errors: dict[str, str] = {}
    text = text.strip()
    if not text:
        errors["text"] = _("Say what they did well.")
    allowed = set(engagement_people(engagement).values_list("pk", flat=True))
    if not people:
        errors["recipients"] = _("Name at least one person.")
    elif not set(people) <= allowed:
        errors["recipients"] = _("Name people who take part in this engagement.")
    elif set(people) == {membership.user_id}:
        errors["recipients"] = _("Kudos go to others.")
    if errors:
        raise ValidationError(errors)
    kudos = Kudos.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        author=membership.user,
        text=text,
        created_at=at or timezone.now(),
    )
    kudos.recipients.set(people.values())
    names = sorted(u.get_full_name() for u in people.values())
    ledger_append(
        engagement=engagement,
        kind="kudos.given",
        payload={
            "kudos": kudos.pk,
            "from": membership.user.get_full_name(),
            "to": names,
            "text": text,
        },
        actor=membership.user,
    )
    audit_record(
        verb="kudos.give",
        actor=membership.user,
        workspace=membership.workspace,
        target=kudos,
        data={"to": names},
    )
    from confiance.lessons.tasks import notify_kudos

    enqueue_on_commit(notify_kudos, kudos.pk, in_history=at is not None)
    return kudos
