"""Lesson and kudos pages: the library, similar lessons (htmx), lessons of problems, kudos,
and a person's profile with the kudos they received."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.lessons import selectors, services
from confiance.lessons.forms import KudosForm, LessonForm
from confiance.lessons.models import Lesson
from confiance.problems.selectors import problem_get


@workspace_view(access.can_use_lessons)
def lesson_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's lesson library, filtered by tag, with "the same mistake twice"."""
    tag = request.GET.get("tag", "").strip()
    form = LessonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.lesson_create(
                membership=membership, title=data["title"], text=data["text"], tags=data["tags"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Lesson added to the library."))
            return redirect("lesson-list", ws=membership.workspace.slug)
    context = {
        "lessons": selectors.lesson_list(fetched_by=membership, tag=tag),
        "tags": selectors.tag_list(fetched_by=membership),
        "tag": tag,
        "figure": selectors.repeat_figure(fetched_by=membership),
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "lessons/lesson_list.html", context, status=status)


@workspace_view(access.can_use_lessons)
def lesson_similar(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The side panel of the raise form: lessons similar to what is being typed (htmx)."""
    text = " ".join(request.GET.get(name, "") for name in ("q", "title", "description")).strip()[
        :2000
    ]
    similar = selectors.similar_lessons(fetched_by=membership, text=text)
    return render(request, "lessons/similar.html", {"similar": similar, "text": text})


@workspace_view(access.can_use_lessons)
def problem_lesson(
    request: HttpRequest, membership: Membership, pk: int, problem_id: int
) -> HttpResponse:
    """Write the lesson a problem leaves."""
    engagement = access.get_engagement(membership, pk)
    problem = problem_get(fetched_by=membership, engagement=engagement, problem_id=problem_id)
    form = LessonForm(request.POST or None, initial={"title": problem.title})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.lesson_create(
                membership=membership,
                title=data["title"],
                text=data["text"],
                tags=data["tags"],
                problem=problem,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Lesson added to the library."))
            return redirect(
                "problem-detail", ws=membership.workspace.slug, pk=pk, problem_id=problem.pk
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "lessons/problem_lesson.html",
        {"engagement": engagement, "problem": problem, "form": form},
        status=status,
    )


@require_POST
@workspace_view(access.can_use_lessons)
def problem_repeat(
    request: HttpRequest, membership: Membership, pk: int, problem_id: int
) -> HttpResponse:
    """ "This happened again": link the problem to an earlier lesson."""
    engagement = access.get_engagement(membership, pk)
    problem = problem_get(fetched_by=membership, engagement=engagement, problem_id=problem_id)
    lesson_id = request.POST.get("lesson", "")
    lesson = (
        Lesson.objects.filter(workspace_id=membership.workspace_id, pk=lesson_id).first()
        if lesson_id.isdigit()
        else None
    )
    if lesson is None:
        messages.error(request, _("Choose a lesson of the library."))
    else:
        try:
            services.lesson_repeat_link(membership=membership, problem=problem, lesson=lesson)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Linked: the same mistake twice is now counted."))
    return redirect("problem-detail", ws=membership.workspace.slug, pk=pk, problem_id=problem.pk)


@workspace_view()
def kudos(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Kudos of the engagement, and the form to give some (both sides)."""
    engagement = access.get_engagement(membership, pk)
    can_give = access.can_give_kudos(membership, engagement)
    if request.method == "POST" and not can_give:
        raise Http404
    people = services.engagement_people(engagement).exclude(pk=membership.user_id)
    form = KudosForm(request.POST or None, people=people) if can_give else None
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            services.kudos_give(
                membership=membership,
                engagement=engagement,
                recipients=data["recipients"],
                text=data["text"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Kudos given."))
            return redirect("kudos", ws=membership.workspace.slug, pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "lessons/kudos.html",
        {
            "engagement": engagement,
            "kudos_list": selectors.kudos_for_engagement(
                fetched_by=membership, engagement=engagement
            ),
            "form": form,
        },
        status=status,
    )


@workspace_view()
def person_profile(request: HttpRequest, membership: Membership, user_id: int) -> HttpResponse:
    """A person of the workspace and the kudos they received (on engagements the viewer sees)."""
    profile = selectors.person_profile(fetched_by=membership, user_id=user_id)
    return render(request, "lessons/profile.html", {"profile": profile})
