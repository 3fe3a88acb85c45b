"""Problem pages: the engagement's problems, raising one, its timeline and the actions per role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core.attachments import attachment_response
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.engagements.models import Engagement
from confiance.problems import selectors, services
from confiance.problems.forms import (
    ClientEscalateForm,
    ClientEscalationForm,
    CommentForm,
    EmptyForm,
    EscalateForm,
    NoteForm,
    OwnerForm,
    PlanForm,
    PriorityForm,
    RaiseForm,
    ReopenForm,
    SettingsForm,
    SharedCommentForm,
    UpdateForm,
)
from confiance.problems.models import MAX_LEVEL, Problem, ProblemStatus


@workspace_view()
def problem_list(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The engagement's problems, for both sides."""
    engagement = access.get_engagement(membership, pk)
    return _list(request, membership, engagement)


def _escalation_form(engagement: Engagement, data: Any = None) -> ClientEscalationForm:
    from confiance.engagements.selectors import engagement_people

    contact = services.client_escalation_contact(engagement)
    return ClientEscalationForm(
        data,
        people=engagement_people(engagement=engagement, side="client"),
        initial={"person": contact.person_id} if contact else None,
    )


def _list(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    form: ClientEscalationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    problems = selectors.problem_list(fetched_by=membership, engagement=engagement)
    can_name = access.can_name_client_escalation(membership, engagement)
    return render(
        request,
        "problems/problem_list.html",
        {
            "engagement": engagement,
            "problems": problems,
            "can_raise": access.can_raise_problem(membership, engagement),
            "can_settings": access.can_manage_problem_settings(membership),
            "client_contact": services.client_escalation_contact(engagement),
            "escalation_form": form or (_escalation_form(engagement) if can_name else None),
        },
        status=status,
    )


@require_POST
@workspace_view()
def client_escalation(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The client's side names its escalation contact for the engagement's problems."""
    engagement = access.get_engagement(membership, pk)
    if not access.can_name_client_escalation(membership, engagement):
        raise Http404
    form = _escalation_form(engagement, request.POST)
    if form.is_valid():
        try:
            services.problem_client_escalation_set(
                membership=membership, engagement=engagement, person=form.cleaned_data["person"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your escalation contact is saved; both sides are told."))
            return redirect("problem-list", ws=membership.workspace.slug, pk=pk)
    return _list(request, membership, engagement, form=form, status=400)


@workspace_view()
def attachment_download(
    request: HttpRequest, membership: Membership, pk: int, problem_id: int, attachment_id: int
) -> FileResponse:
    """A problem's file, only to those who see the problem; always as a download."""
    engagement = access.get_engagement(membership, pk)
    problem = selectors.problem_get(
        fetched_by=membership, engagement=engagement, problem_id=problem_id
    )
    attachment = selectors.attachment_get(
        fetched_by=membership, problem=problem, attachment_id=attachment_id
    )
    return attachment_response(
        services.attachment_dir(), attachment.path, attachment.name, attachment.content_type
    )


def _raise_form(membership: Membership, engagement: Engagement, data: Any = None) -> RaiseForm:
    form = RaiseForm(data, client_side=access.is_client_of(membership, engagement))
    if access.can_use_lessons(membership):
        # Typing the title fetches similar past lessons into the side panel.
        form.fields["title"].widget.attrs.update(
            {
                "hx-get": reverse("lesson-similar", kwargs={"ws": membership.workspace.slug}),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#similar-lessons",
                "hx-include": "[name='title'],[name='description']",
                "autocomplete": "off",
            }
        )
    return form


@workspace_view()
def problem_raise(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Raise a problem; the provider's people see similar past lessons beside the form."""
    engagement = access.get_engagement(membership, pk)
    if not access.can_raise_problem(membership, engagement):
        raise Http404
    form = _raise_form(membership, engagement, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            problem = services.problem_raise(
                membership=membership,
                engagement=engagement,
                title=data["title"],
                description=data["description"],
                severity=data["severity"],
                client_priority=data.get("client_priority", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Problem raised."))
            return redirect(
                "problem-detail", ws=membership.workspace.slug, pk=pk, problem_id=problem.pk
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "problems/problem_raise.html",
        {
            "engagement": engagement,
            "form": form,
            "show_lessons": access.can_use_lessons(membership),
        },
        status=status,
    )


@dataclass(frozen=True)
class Action:
    form: type[forms.Form]
    allowed: Callable[[Membership, Engagement], bool]
    run: Callable[[Membership, Problem, dict[str, Any]], object]
    done: Any  # the success message (lazy)


def _handler(m: Membership, e: Engagement) -> bool:
    return access.can_handle_problem(m, e)


ACTIONS: dict[str, Action] = {
    "acknowledge": Action(
        EmptyForm,
        _handler,
        lambda m, p, d: services.problem_acknowledge(membership=m, problem=p),
        gettext_lazy("Problem acknowledged."),
    ),
    "owner": Action(
        OwnerForm,
        _handler,
        lambda m, p, d: services.problem_owner_name(membership=m, problem=p, owner=d["owner"]),
        gettext_lazy("Owner named."),
    ),
    "plan": Action(
        PlanForm,
        _handler,
        lambda m, p, d: services.problem_plan_share(membership=m, problem=p, plan=d["plan"]),
        gettext_lazy("Plan shared."),
    ),
    "escalate": Action(
        EscalateForm,
        _handler,
        lambda m, p, d: services.problem_escalate(
            membership=m, problem=p, level=d["level"], person=d["person"]
        ),
        gettext_lazy("Problem escalated."),
    ),
    "client_escalate": Action(
        ClientEscalateForm,
        access.can_escalate_problem_as_client,
        lambda m, p, d: services.problem_client_escalate(
            membership=m, problem=p, reason=d["reason"]
        ),
        gettext_lazy("Problem escalated; the provider's person for it and both sides are told."),
    ),
    "update": Action(
        UpdateForm,
        _handler,
        lambda m, p, d: services.problem_update_post(membership=m, problem=p, text=d["text"]),
        gettext_lazy("Progress update posted."),
    ),
    "wait": Action(
        NoteForm,
        _handler,
        lambda m, p, d: services.problem_wait_on_client(membership=m, problem=p, text=d["text"]),
        gettext_lazy("Waiting on the client: the clock is paused."),
    ),
    "resume": Action(
        EmptyForm,
        lambda m, e: access.can_handle_problem(m, e) or access.is_client_of(m, e),
        lambda m, p, d: services.problem_resume(membership=m, problem=p),
        gettext_lazy("Resumed: the clock runs again."),
    ),
    "resolve": Action(
        NoteForm,
        _handler,
        lambda m, p, d: services.problem_resolve(membership=m, problem=p, text=d["text"]),
        gettext_lazy("Problem resolved; the client will confirm."),
    ),
    "confirm": Action(
        EmptyForm,
        access.can_confirm_problem,
        lambda m, p, d: services.problem_confirm(membership=m, problem=p),
        gettext_lazy("Resolution confirmed: the problem is closed."),
    ),
    "reopen": Action(
        ReopenForm,
        access.can_confirm_problem,
        lambda m, p, d: services.problem_reopen(membership=m, problem=p, text=d["text"]),
        gettext_lazy("Problem reopened."),
    ),
    "priority": Action(
        PriorityForm,
        access.can_set_client_priority,
        lambda m, p, d: services.problem_priority_set(
            membership=m, problem=p, priority=d["priority"]
        ),
        gettext_lazy("Your priority is recorded."),
    ),
    "share": Action(
        SharedCommentForm,
        access.can_discuss_problem,
        lambda m, p, d: services.problem_comment_share(
            membership=m, problem=p, text=d["text"], attachment=d.get("attachment")
        ),
        gettext_lazy("Comment added; both sides are told."),
    ),
    "comment": Action(
        CommentForm,
        lambda m, e: access.can_see_problem_comments(m),
        lambda m, p, d: services.problem_comment_add(membership=m, problem=p, text=d["text"]),
        gettext_lazy("Internal comment added."),
    ),
}

# Forms that choose among the provider's people.
PEOPLE_FORMS = (OwnerForm, EscalateForm)


def _form(action: str, engagement: Engagement, data: Any = None, files: Any = None) -> forms.Form:
    form_class = ACTIONS[action].form
    kwargs: dict[str, Any] = {"prefix": action, "files": files}
    if form_class in PEOPLE_FORMS:
        kwargs["people"] = selectors.problem_people(
            engagement=engagement, escalation=form_class is EscalateForm
        )
    return form_class(data, **kwargs)


def _applies(action: str, problem: Problem) -> bool:
    """Whether a step makes sense in the problem's current state (the page shows only those)."""
    if action == "acknowledge":
        return problem.status == ProblemStatus.RAISED
    if action in ("owner", "plan", "update", "resolve"):
        return problem.is_open
    if action in ("escalate", "client_escalate"):
        return problem.is_open and problem.level < MAX_LEVEL
    if action == "wait":
        return problem.is_open and not problem.waiting_on_client
    if action == "resume":
        return problem.waiting_on_client
    if action == "confirm":
        return problem.status == ProblemStatus.RESOLVED
    if action == "reopen":
        return not problem.is_open
    return True


def _detail(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    problem: Problem,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    view = selectors.problem_view(fetched_by=membership, problem=problem)
    bound = bound or {}
    available = {
        name: bound.get(name) or _form(name, engagement)
        for name, action in ACTIONS.items()
        if action.allowed(membership, engagement)
    }
    if "escalate" in available and not bound.get("escalate"):
        next_level = min(problem.level + 1, 3)
        available["escalate"].initial = {
            "level": next_level,
            "person": view.settings.level_person_id(next_level),
        }
    if "owner" in available and not bound.get("owner") and problem.owner_id:
        available["owner"].initial = {"owner": problem.owner_id}
    steps = [
        name for name in available if name not in ("comment", "share") and _applies(name, problem)
    ]
    similar: list[Any] = []
    repeated_ids: set[int] = set()
    if access.can_use_lessons(membership):
        from confiance.lessons.selectors import similar_lessons

        similar = similar_lessons(
            fetched_by=membership,
            text=f"{problem.title} {problem.description}",
            exclude_problem=problem,
        )
        repeated_ids = set(problem.repeats.values_list("lesson_id", flat=True))
    return render(
        request,
        "problems/problem_detail.html",
        {
            "engagement": engagement,
            "problem": problem,
            "view": view,
            "forms": available,
            "steps": steps,
            "similar": similar,
            "repeated_ids": repeated_ids,
            # Errors of a step whose form is not shown in this state (e.g. acknowledging twice).
            "action_errors": [e for form in bound.values() for e in form.non_field_errors()],
            "can_lessons": access.can_use_lessons(membership),
        },
        status=status,
    )


@workspace_view()
def problem_detail(
    request: HttpRequest, membership: Membership, pk: int, problem_id: int
) -> HttpResponse:
    """A problem's timeline, its SLA targets and what this person may do next."""
    engagement = access.get_engagement(membership, pk)
    problem = selectors.problem_get(
        fetched_by=membership, engagement=engagement, problem_id=problem_id
    )
    return _detail(request, membership, engagement, problem)


@require_POST
@workspace_view()
def problem_action(
    request: HttpRequest, membership: Membership, pk: int, problem_id: int, action: str
) -> HttpResponse:
    """One step of a problem (acknowledge, escalate, confirm…), if this person may take it."""
    engagement = access.get_engagement(membership, pk)
    problem = selectors.problem_get(
        fetched_by=membership, engagement=engagement, problem_id=problem_id
    )
    spec = ACTIONS.get(action)
    if spec is None or not spec.allowed(membership, engagement):
        raise Http404
    form = _form(action, engagement, request.POST, request.FILES)
    if form.is_valid():
        try:
            spec.run(membership, problem, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, str(spec.done))
            return redirect(
                "problem-detail", ws=membership.workspace.slug, pk=pk, problem_id=problem.pk
            )
    return _detail(request, membership, engagement, problem, bound={action: form}, status=400)


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize()


@workspace_view(access.can_manage_problem_settings)
def problem_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's SLA targets and escalation contacts (the owner)."""
    current = services.problem_settings_for(membership.workspace)
    people = selectors.provider_people(workspace_id=membership.workspace_id)
    initial = {
        "acknowledge_hours": _hours(current.acknowledge_minutes),
        "owner_hours": _hours(current.owner_minutes),
        "update_hours": _hours(current.update_minutes),
        "level1": current.level1_id,
        "level2": current.level2_id,
        "level3": current.level3_id,
    }
    form = SettingsForm(request.POST or None, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.problem_settings_update(
                membership=membership,
                acknowledge_minutes=int(data["acknowledge_hours"] * 60),
                owner_minutes=int(data["owner_hours"] * 60),
                update_minutes=int(data["update_hours"] * 60),
                level1=data["level1"],
                level2=data["level2"],
                level3=data["level3"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Problem targets saved."))
            return redirect("problem-settings", ws=membership.workspace.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "problems/settings.html", {"form": form}, status=status)
