"""Pages of emergence: opportunities, people, discussion, phases and the team. Thin views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core import selectors as core_selectors
from confiance.core.attachments import attachment_response
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.emergence import selectors, services
from confiance.emergence.forms import (
    DeclineForm,
    EndorseForm,
    InviteForm,
    NominationForm,
    OpportunityEditForm,
    OpportunityForm,
    PhaseForm,
    PostEditForm,
    PostForm,
    ProfileForm,
    SlotForm,
)
from confiance.emergence.models import Nomination, Opportunity, Participant, Phase, RoleSlot
from confiance.engagements.models import Engagement


def _submit(
    request: HttpRequest, form: forms.Form, call: Callable[[dict[str, Any]], object], done: str
) -> bool:
    """Validate the form, call the service; on success show `done`. False: errors on the form."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return False
    messages.success(request, done)
    return True


def _to_detail(membership: Membership, opportunity: Opportunity, anchor: str = "") -> HttpResponse:
    response = redirect("opportunity-detail", ws=membership.workspace.slug, pk=opportunity.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


@workspace_view()
def opportunity_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The opportunities the viewer may see: an expert or a client only those invited to."""
    phase = request.GET.get("phase", "")
    phase = phase if phase in Phase.values else ""
    context = {
        "opportunities": selectors.opportunity_list(fetched_by=membership, phase=phase),
        "phase": phase,
        "phases": Phase.choices,
        "can_open": access.can_open_opportunity(membership),
    }
    return render(request, "emergence/opportunity_list.html", context)


@workspace_view(check=access.can_open_opportunity)
def opportunity_open(request: HttpRequest, membership: Membership) -> HttpResponse:
    clients = core_selectors.client_list(fetched_by=membership)
    form = OpportunityForm(request.POST or None, clients=clients)
    created: list[Opportunity] = []
    if request.method == "POST" and _submit(
        request,
        form,
        lambda data: created.append(services.opportunity_open(membership=membership, **data)),
        _("Opportunity opened. Invite the people who could help."),
    ):
        return _to_detail(membership, created[0])
    status = 400 if request.method == "POST" else 200
    return render(request, "emergence/opportunity_form.html", {"form": form}, status=status)


def _detail(
    request: HttpRequest,
    membership: Membership,
    opportunity: Opportunity,
    status: int = 200,
    **forms_: forms.Form,
) -> HttpResponse:
    perms = selectors.permissions(opportunity=opportunity, fetched_by=membership)
    context = {
        "opportunity": opportunity,
        "perms": perms,
        "internal": access.is_internal(membership),
        "people": selectors.participant_rows(opportunity=opportunity, fetched_by=membership),
        "moves": selectors.phase_history(opportunity=opportunity),
        "team": selectors.team(opportunity=opportunity),
        "invite_form": forms_.get("invite_form") or (InviteForm() if perms.invite else None),
        "phase_form": forms_.get("phase_form") or (PhaseForm() if perms.steer else None),
        "slot_form": forms_.get("slot_form") or (SlotForm() if perms.speak else None),
        "nomination_form": NominationForm(),
        "endorse_form": EndorseForm(),
        "quiet_days": services.QUIET_DAYS,
        "decline_form": forms_.get("decline_form")
        or (
            DeclineForm(partners=selectors.partners(fetched_by=membership)) if perms.steer else None
        ),
        "agreed": perms.steer and selectors.agreed_text(opportunity=opportunity) is not None,
        "sees_engagement": opportunity.engagement_id is not None
        and access.scope_engagements(
            Engagement.objects.filter(pk=opportunity.engagement_id), membership
        ).exists(),
    }
    return render(request, "emergence/opportunity_detail.html", context, status=status)


@workspace_view()
def opportunity_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The need, the phase and its history, who takes part, and the team that emerges."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    return _detail(request, membership, opportunity)


@workspace_view()
def opportunity_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise Http404
    initial = {name: getattr(opportunity, name) for name in OpportunityEditForm.base_fields}
    form = OpportunityEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and _submit(
        request,
        form,
        lambda data: services.opportunity_update(
            membership=membership,
            opportunity=opportunity,
            **{k: data[k] for k in form.changed_data},
        ),
        _("Opportunity updated."),
    ):
        return _to_detail(membership, opportunity)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "emergence/opportunity_form.html",
        {"form": form, "opportunity": opportunity},
        status=status,
    )


@require_POST
@workspace_view()
def invite(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if not access.can_invite_to_opportunity(membership):
        raise Http404
    form = InviteForm(request.POST)
    results: list[services.InviteResult] = []

    def call(data: dict[str, Any]) -> None:
        if data["as_client"]:
            results.append(
                services.opportunity_invite_client(
                    membership=membership,
                    opportunity=opportunity,
                    email=data["email"],
                    language=data["language"],
                )
            )
        else:
            results.append(
                services.opportunity_invite(
                    membership=membership,
                    opportunity=opportunity,
                    email=data["email"],
                    introduction=data["introduction"],
                    language=data["language"],
                )
            )

    if _submit(request, form, call, _("Invitation sent.")):
        if results[0].link:
            messages.info(
                request,
                _("They have no account yet: the e-mail carries this link, valid once: %(link)s")
                % {"link": results[0].link},
            )
        return _to_detail(membership, opportunity, "people")
    return _detail(request, membership, opportunity, status=400, invite_form=form)


PARTICIPATION_ACTIONS: dict[str, tuple[Callable[..., Participant], Any]] = {
    "join": (
        services.participant_join,
        gettext_lazy("Welcome: you take part in this opportunity."),
    ),
    "decline": (services.participant_decline, gettext_lazy("You declined the invitation.")),
    "leave": (services.participant_leave, gettext_lazy("You left the opportunity.")),
}


@require_POST
@workspace_view()
def participation(
    request: HttpRequest, membership: Membership, pk: int, action: str
) -> HttpResponse:
    """Join, decline or leave: each person's free choice."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if action == "digest":
        try:
            services.participant_set_digest(
                membership=membership,
                opportunity=opportunity,
                wants_digest=request.POST.get("wants_digest") == "on",
            )
        except PermissionDenied:
            raise Http404 from None
        messages.success(request, _("Your choice is saved."))
        return _to_detail(membership, opportunity)
    if action not in PARTICIPATION_ACTIONS:
        raise Http404
    service, done = PARTICIPATION_ACTIONS[action]
    try:
        service(membership=membership, opportunity=opportunity)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _to_detail(membership, opportunity)
    messages.success(request, str(done))
    if action in ("decline", "leave"):
        return redirect("opportunity-list", ws=membership.workspace.slug)
    return _to_detail(membership, opportunity)


@require_POST
@workspace_view()
def participant_remove(
    request: HttpRequest, membership: Membership, pk: int, pid: int
) -> HttpResponse:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise Http404
    try:
        removed = services.participant_remove(
            membership=membership,
            opportunity=opportunity,
            participant_id=pid,
            reason=request.POST.get("reason", ""),
        )
    except Participant.DoesNotExist:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _to_detail(membership, opportunity, "people")
    messages.success(request, _("%(who)s no longer takes part.") % {"who": removed.email})
    return _to_detail(membership, opportunity, "people")


@require_POST
@workspace_view()
def phase_move(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise Http404
    form = PhaseForm(request.POST)
    if _submit(
        request,
        form,
        lambda data: services.phase_move(membership=membership, opportunity=opportunity, **data),
        _("Phase changed."),
    ):
        return _to_detail(membership, opportunity)
    return _detail(request, membership, opportunity, status=400, phase_form=form)


@require_POST
@workspace_view()
def slot_propose(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    opportunity = _speakable(membership, pk)
    form = SlotForm(request.POST)
    if _submit(
        request,
        form,
        lambda data: services.slot_propose(membership=membership, opportunity=opportunity, **data),
        _("Role proposed."),
    ):
        return _to_detail(membership, opportunity, "team")
    return _detail(request, membership, opportunity, status=400, slot_form=form)


def _speakable(membership: Membership, pk: int) -> Opportunity:
    """An opportunity the viewer may write in (those who only read get a 404 for writes)."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if not selectors.permissions(opportunity=opportunity, fetched_by=membership).speak:
        raise Http404
    return opportunity


def _errors_to_messages(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@require_POST
@workspace_view()
def nominate(request: HttpRequest, membership: Membership, pk: int, slot_id: int) -> HttpResponse:
    opportunity = _speakable(membership, pk)
    slot = RoleSlot.objects.filter(pk=slot_id, opportunity=opportunity).first()
    if slot is None:
        raise Http404
    form = NominationForm(request.POST)
    if form.is_valid():
        try:
            services.nomination_create(
                membership=membership, slot=slot, statement=form.cleaned_data["statement"]
            )
        except ValidationError as error:
            _errors_to_messages(request, error)
            return _detail(request, membership, opportunity, status=400)
        messages.success(request, _("You put yourself forward for this role."))
    return _to_detail(membership, opportunity, "team")


@require_POST
@workspace_view()
def nomination_action(
    request: HttpRequest, membership: Membership, pk: int, nid: int, action: str
) -> HttpResponse:
    """Endorse, object, accept (the opener) or withdraw (the nominee) a nomination."""
    opportunity = _speakable(membership, pk)
    nomination = (
        Nomination.objects.select_related("slot__opportunity")
        .filter(pk=nid, slot__opportunity=opportunity)
        .first()
    )
    if nomination is None or action not in ("endorse", "object", "accept", "withdraw"):
        raise Http404
    form = EndorseForm(request.POST)
    word = form.cleaned_data["word"] if form.is_valid() else ""
    try:
        if action in ("endorse", "object"):
            services.endorsement_add(
                membership=membership,
                nomination=nomination,
                word=word,
                objection=action == "object",
            )
            done = _("Your word is recorded.")
        elif action == "accept":
            services.nomination_accept(membership=membership, nomination=nomination)
            done = _("Nomination accepted: the role is held.")
        else:
            services.nomination_withdraw(membership=membership, nomination=nomination)
            done = _("Nomination withdrawn.")
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        _errors_to_messages(request, error)
        return _detail(request, membership, opportunity, status=400)
    messages.success(request, done)
    return _to_detail(membership, opportunity, "team")


# Discussion ------------------------------------------------------------------------------------


@workspace_view()
def discussion(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The threaded discussion; what is new since one's last visit is marked."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    perms = selectors.permissions(opportunity=opportunity, fetched_by=membership)
    form = PostForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not perms.speak:
            raise Http404
        if _submit(
            request,
            form,
            lambda data: services.post_create(
                membership=membership,
                opportunity=opportunity,
                body=data["body"],
                parent_id=data["parent"],
                attachment=data["attachment"],
            ),
            _("Message posted."),
        ):
            return redirect(
                "opportunity-discussion", ws=membership.workspace.slug, pk=opportunity.pk
            )
    since = services.visit_record(membership=membership, opportunity=opportunity)
    items = selectors.discussion(opportunity=opportunity, since=since)
    context = {
        "opportunity": opportunity,
        "perms": perms,
        "items": items,
        "new_count": sum(1 for i in items if i.new),
        "since": since,
        "form": form if perms.speak else None,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "emergence/discussion.html", context, status=status)


@workspace_view()
def post_edit(request: HttpRequest, membership: Membership, pk: int, post_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    post = selectors.post_get(opportunity=opportunity, post_id=post_id)
    if post.author_id != membership.user_id or opportunity.is_closed:
        raise Http404
    form = PostEditForm(request.POST or None, initial={"body": post.body})
    if request.method == "POST":
        try:
            ok = _submit(
                request,
                form,
                lambda data: services.post_edit(membership=membership, post=post, **data),
                _("Message edited; the earlier text is kept."),
            )
        except PermissionDenied:
            raise Http404 from None
        if ok:
            return redirect(
                "opportunity-discussion", ws=membership.workspace.slug, pk=opportunity.pk
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "emergence/post_edit.html",
        {"opportunity": opportunity, "post": post, "form": form},
        status=status,
    )


@workspace_view()
def post_history(
    request: HttpRequest, membership: Membership, pk: int, post_id: int
) -> HttpResponse:
    """Every earlier text of an edited message."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    post = selectors.post_get(opportunity=opportunity, post_id=post_id)
    context = {"opportunity": opportunity, "post": post, "revisions": post.revisions.all()}
    return render(request, "emergence/post_history.html", context)


@workspace_view()
def attachment_download(
    request: HttpRequest, membership: Membership, pk: int, attachment_id: int
) -> FileResponse:
    """An attachment, only to those who see the opportunity; always as a download."""
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    attachment = selectors.attachment_get(opportunity=opportunity, attachment_id=attachment_id)
    return attachment_response(
        services.attachment_dir(), attachment.path, attachment.name, attachment.content_type
    )


# People ----------------------------------------------------------------------------------------


@workspace_view(check=access.is_internal)
def expert_network(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's experts: people, not firms."""
    context = {"experts": selectors.expert_network(fetched_by=membership)}
    return render(request, "emergence/expert_network.html", context)


@workspace_view()
def expert_profile(request: HttpRequest, membership: Membership, user_id: int) -> HttpResponse:
    view = selectors.expert_profile(fetched_by=membership, user_id=user_id)
    return render(request, "emergence/expert_profile.html", {"view": view})


@workspace_view()
def my_profile(request: HttpRequest, membership: Membership) -> HttpResponse:
    """One's own headline and skills, as the others will read them."""
    view = selectors.expert_profile(fetched_by=membership, user_id=membership.user_id)
    initial = (
        {"headline": view.profile.headline, "skills": view.profile.skills} if view.profile else {}
    )
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and _submit(
        request,
        form,
        lambda data: services.profile_update(membership=membership, **data),
        _("Profile saved."),
    ):
        return redirect("expert-profile", ws=membership.workspace.slug, user_id=membership.user_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "emergence/my_profile.html", {"form": form}, status=status)
