"""Reads of lessons and kudos: the library, similar lessons, "the same mistake twice", kudos.

"The same mistake twice": a problem is a repeat when a member linked it to an existing lesson
("this happened again"), or when its title and description are similar to a lesson written
before the problem was raised, with a TF-IDF cosine of at least REPEAT_THRESHOLD (0.35: in
tests on short texts, unrelated problems score under 0.15 and a rephrasing of the same mishap
over 0.4). Lessons learnt from the problem itself never count. IDF weights come from the whole
library, so a lesson's words weigh the same for every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from confiance import access
from confiance.core.models import Membership, User
from confiance.engagements.models import Engagement
from confiance.lessons.models import Kudos, Lesson, LessonRepeat, Tag
from confiance.lessons.similarity import TfIdfIndex
from confiance.problems.models import Problem

REPEAT_THRESHOLD = 0.35
# Shown beside a new problem from this similarity up: loose on purpose, people judge.
SIMILAR_THRESHOLD = 0.1
SIMILAR_LIMIT = 5


def _require_lessons(membership: Membership) -> None:
    if not access.can_use_lessons(membership):
        raise Http404


def lesson_list(*, fetched_by: Membership, tag: str = "") -> QuerySet[Lesson]:
    """The workspace's lessons, newest first, optionally those with one tag."""
    _require_lessons(fetched_by)
    lessons = (
        Lesson.objects.filter(workspace_id=fetched_by.workspace_id)
        .select_related("problem", "engagement", "created_by")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .annotate(repeat_count=Count("repeats", distinct=True))
    )
    if tag:
        lessons = lessons.filter(tags__name=tag.lower())
    return lessons


def tag_list(*, fetched_by: Membership) -> QuerySet[Tag]:
    """The workspace's tags that are in use, with how many lessons carry each."""
    _require_lessons(fetched_by)
    return (
        Tag.objects.filter(workspace_id=fetched_by.workspace_id)
        .annotate(lesson_count=Count("lessons"))
        .filter(lesson_count__gt=0)
        .order_by("name")
    )


@dataclass(frozen=True)
class Similar:
    lesson: Lesson
    score: float

    @property
    def percent(self) -> int:
        return round(100 * self.score)


def _index(lessons: list[Lesson]) -> TfIdfIndex:
    return TfIdfIndex({lesson.pk: f"{lesson.title}\n{lesson.text}" for lesson in lessons})


def similar_lessons(
    *,
    fetched_by: Membership,
    text: str,
    exclude_problem: Problem | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Similar]:
    """The workspace's lessons most similar to a text (a new problem), best first."""
    if not access.can_use_lessons(fetched_by) or not text.strip():
        return []
    lessons = list(Lesson.objects.filter(workspace_id=fetched_by.workspace_id))
    if exclude_problem is not None:
        lessons = [lesson for lesson in lessons if lesson.problem_id != exclude_problem.pk]
    by_pk = {lesson.pk: lesson for lesson in lessons}
    ranked = _index(lessons).similar(text, limit=limit, threshold=SIMILAR_THRESHOLD)
    return [Similar(by_pk[pk], score) for pk, score in ranked]  # type: ignore[index]


@dataclass
class RepeatFigure:
    """How many problems repeat a lesson already learnt, out of all problems."""

    repeats: int
    total: int
    repeated: list[Problem] = field(default_factory=list)

    @property
    def percent(self) -> int | None:
        return None if not self.total else round(100 * self.repeats / self.total)


def is_repeat(problem: Problem, lessons: list[Lesson], index: TfIdfIndex, linked: set[int]) -> bool:
    """The rule of the module docstring, for one problem."""
    if problem.pk in linked:
        return True
    older = {
        lesson.pk
        for lesson in lessons
        if lesson.created_at < problem.created_at and lesson.problem_id != problem.pk
    }
    if not older:
        return False
    scores = index.scores(f"{problem.title}\n{problem.description}")
    return any(scores.get(pk, 0.0) >= REPEAT_THRESHOLD for pk in older)


def repeat_figure(*, fetched_by: Membership) -> RepeatFigure:
    """ "The same mistake twice": problems of the workspace that repeat an earlier lesson."""
    _require_lessons(fetched_by)
    problems = list(
        Problem.objects.filter(engagement__in=Engagement.objects.visible_to(fetched_by))
        .select_related("engagement")
        .only("pk", "title", "description", "created_at", "engagement__title", "workspace_id")
        .order_by("-created_at")
    )
    lessons = list(
        Lesson.objects.filter(workspace_id=fetched_by.workspace_id).only(
            "pk", "title", "text", "created_at", "problem_id"
        )
    )
    linked = set(
        LessonRepeat.objects.filter(workspace_id=fetched_by.workspace_id).values_list(
            "problem_id", flat=True
        )
    )
    index = _index(lessons)
    repeated = [p for p in problems if is_repeat(p, lessons, index, linked)]
    return RepeatFigure(repeats=len(repeated), total=len(problems), repeated=repeated)


def kudos_for_engagement(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[Kudos]:
    """The kudos given on an engagement the viewer may see, newest first."""
    engagement = access.get_engagement(fetched_by, engagement.pk)
    return (
        Kudos.objects.filter(engagement=engagement)
        .select_related("author")
        .prefetch_related(Prefetch("recipients", queryset=User.objects.order_by("full_name")))
    )


@dataclass
class Profile:
    person: User
    role: str
    kudos: list[Kudos]
    given_count: int


def person_profile(*, fetched_by: Membership, user_id: int) -> Profile:
    """A person the viewer may see (access.scope_people: who shares an engagement with them)
    and the kudos they received on engagements the viewer sees."""
    reachable = access.scope_people(User.objects.filter(pk=user_id), fetched_by)
    membership = (
        Membership.objects.filter(
            workspace_id=fetched_by.workspace_id, user_id=user_id, user__in=reachable
        )
        .select_related("user", "client")
        .first()
    )
    if membership is None:
        raise Http404
    visible = Engagement.objects.visible_to(fetched_by)
    kudos = list(
        Kudos.objects.filter(recipients=membership.user, engagement__in=visible)
        .select_related("author", "engagement")
        .prefetch_related(Prefetch("recipients", queryset=User.objects.order_by("full_name")))
    )
    given = Kudos.objects.filter(author=membership.user, engagement__in=visible).count()
    return Profile(
        person=membership.user,
        role=membership.get_role_display(),
        kudos=kudos,
        given_count=given,
    )
