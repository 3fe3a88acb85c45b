"""Pulse pages: an engagement's pulse (answer and aggregates), my rounds, the cadence."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.pulse import selectors, services
from confiance.pulse.forms import PulseAnswerForm, PulseSettingsForm
from confiance.pulse.models import VIRTUE_FIELDS, VIRTUES


def _render_page(
    request: HttpRequest,
    membership: Membership,
    page: selectors.PulsePage,
    form: PulseAnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if form is None and page.asked:
        initial: dict[str, Any] = {}
        if page.my_answer is not None:
            initial = {
                **{n: str(v) for n, v in page.my_answer.scores().items()},
                "comment": page.my_answer.comment,
                "signed": page.my_answer.signed,
            }
        form = PulseAnswerForm(initial=initial, can_sign=page.one_person_side)
    context = {
        "engagement": page.engagement,
        "page": page,
        "form": form,
        "virtues": [label for _name, label, _help in VIRTUES],
        "min_answers": access.PULSE_MIN_ANSWERS,
    }
    return render(request, "pulse/pulse.html", context, status=status)


@workspace_view()
def pulse(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The engagement's pulse: the open round's form, then each round's aggregates by side."""
    engagement = access.get_engagement(membership, pk)
    if not access.can_see_pulse(membership, engagement):
        raise Http404
    page = selectors.pulse_page(fetched_by=membership, engagement=engagement)
    if request.method != "POST":
        return _render_page(request, membership, page)
    if page.open_round is None or not page.asked:
        raise Http404
    form = PulseAnswerForm(request.POST, can_sign=page.one_person_side)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.pulse_answer_submit(
                membership=membership,
                survey=page.open_round,
                answer=services.AnswerInput(
                    **{name: data[name] for name in VIRTUE_FIELDS},
                    comment=data["comment"],
                    signed=data.get("signed", False),
                ),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you: your answer is recorded."))
            return redirect("pulse", ws=membership.workspace.slug, pk=engagement.pk)
    return _render_page(request, membership, page, form=form, status=400)


@workspace_view()
def pulse_mine(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The rounds waiting for my answer, across the engagements I can see."""
    return render(
        request,
        "pulse/mine.html",
        {
            "waiting": list(selectors.rounds_waiting(fetched_by=membership)),
            "answered": list(selectors.rounds_answered_open(fetched_by=membership)),
        },
    )


@workspace_view(check=access.can_manage_pulse_settings)
def pulse_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's pulse cadence (owner only)."""
    current = services.cadence_days(membership.workspace)
    form = PulseSettingsForm(request.POST or None, initial={"cadence_days": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.pulse_settings_set(
                membership=membership, cadence_days=form.cleaned_data["cadence_days"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Pulse cadence saved."))
            return redirect("pulse-settings", ws=membership.workspace.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "pulse/settings.html", {"form": form, "cadence": current}, status=status)
