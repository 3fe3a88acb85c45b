"""Trust pages: an engagement's trust with its reasons, the workspace portfolio, the settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership, User
from confiance.trust import actions, indicators, selectors, services, tables
from confiance.trust.forms import TrustSettingsForm

PORTFOLIO_PAGE = 100


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@workspace_view()
def trust(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Both directions for the provider's people; the client sees client→provider only."""
    engagement = access.get_engagement(membership, pk)
    if not access.trust_directions(membership, engagement):
        raise Http404
    # As of the start of the minute, as the portfolio and every at-a-glance band weigh.
    now = selectors.this_minute()
    data = selectors.engagement_trust(fetched_by=membership, engagement=engagement, now=now)
    charts = {d.direction: d.chart for d in data.directions}
    can_act = access.can_act_on_trust_alerts(membership, engagement)
    return render(
        request,
        "trust/trust.html",
        {
            "engagement": engagement,
            "trust": data,
            "as_of": now,
            # Each direction with its two tables built once in Python (tables.py).
            "directions": [
                (d, tables.dimension_rows(d.dimensions), tables.explanation_rows(d.explanation))
                for d in data.directions
            ],
            "charts": charts,
            "internal": access.is_internal(membership),
            "can_act": can_act,
            "assignable": selectors.alert_assignees(fetched_by=membership) if can_act else [],
            "snooze_max": actions.SNOOZE_MAX_DAYS,
            "can_plan_meetings": can_act and access.can_manage_meetings(membership, engagement),
        },
    )


@require_POST
@workspace_view()
def trust_alert_act(
    request: HttpRequest, membership: Membership, pk: int, alert_id: int
) -> HttpResponse:
    """Acknowledge, assign or snooze one of the engagement's open alerts (provider side only)."""
    engagement = access.get_engagement(membership, pk)
    if not access.can_act_on_trust_alerts(membership, engagement):
        raise Http404
    if not engagement.trust_alerts.filter(pk=alert_id).exists():
        raise Http404
    action = request.POST.get("action", "")
    try:
        if action == "acknowledge":
            actions.trust_alert_acknowledge(membership=membership, alert_id=alert_id)
            messages.success(request, _("Alert acknowledged."))
        elif action == "assign":
            assignee_id = _int(request.POST.get("assignee"))
            assignee = User.objects.filter(pk=assignee_id).first() if assignee_id else None
            if assignee is None:
                raise ValidationError({"assignee": _("Choose someone of your firm.")})
            actions.trust_alert_assign(membership=membership, alert_id=alert_id, assignee=assignee)
            messages.success(request, _("Alert assigned."))
        elif action == "snooze":
            actions.trust_alert_snooze(
                membership=membership,
                alert_id=alert_id,
                days=_int(request.POST.get("days")) or 0,
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("Alert snoozed."))
        else:
            return HttpResponse(status=400)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        response = redirect("trust", ws=membership.workspace.slug, pk=engagement.pk)
        response.status_code = 303
        return response
    return redirect("trust", ws=membership.workspace.slug, pk=engagement.pk)


@workspace_view()
def trust_alert_meeting(
    request: HttpRequest, membership: Membership, pk: int, alert_id: int
) -> HttpResponse:
    """The step an alert proposes, taken: the follow-up's meeting form, pre-filled with a review
    meeting a few working days ahead and the engagement's people of both sides."""
    from confiance.engagements.selectors import engagement_people
    from confiance.followup.forms import MeetingForm
    from confiance.followup.models import MeetingChannel

    engagement = access.get_engagement(membership, pk)
    if not (
        access.can_act_on_trust_alerts(membership, engagement)
        and access.can_manage_meetings(membership, engagement)
    ):
        raise Http404
    alert = engagement.trust_alerts.filter(pk=alert_id, closed_at__isnull=True).first()
    if alert is None:
        raise Http404
    people = engagement_people(engagement=engagement)
    status = 200
    if request.method == "POST":
        form = MeetingForm(request.POST, people=people, prefix="meeting")
        if form.is_valid():
            try:
                actions.trust_alert_meeting_plan(
                    membership=membership,
                    alert_id=alert.pk,
                    **form.meeting_fields(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("Review meeting planned: both sides have the invitation.")
                )
                return redirect("trust", ws=membership.workspace.slug, pk=engagement.pk)
        status = 400
    else:
        form = MeetingForm(
            people=people,
            prefix="meeting",
            initial={
                "title": str(actions.REVIEW_MEETING_TITLE),
                "starts_at": timezone.localtime(actions.review_meeting_start()),
                "duration_minutes": 60,
                "channel": MeetingChannel.VIDEO,
                "attendees": [person.pk for person in people],
            },
        )
    return render(
        request,
        "trust/alert_meeting.html",
        {"engagement": engagement, "alert": alert, "form": form},
        status=status,
    )


@workspace_view(access.can_see_trust_portfolio)
def portfolio(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Every active engagement's trust, riskiest first, as a table and a heat map."""
    client_id = _int(request.GET.get("client"))
    lead_id = _int(request.GET.get("lead"))
    status = request.GET.get("status") or None
    # The figures as of the start of the minute, said on the page: a view asked again within it
    # (a page turned, a filter chosen) weighs only the summaries written since (selectors).
    now = selectors.this_minute()
    ranked = selectors.trust_portfolio_ranking(
        fetched_by=membership, client_id=client_id, lead_id=lead_id, status=status, now=now
    )
    # Ranked by risk over every engagement from values; shown a hundred at a time, the riskiest
    # first, and only the shown ones built as objects.
    page = Paginator(ranked, PORTFOLIO_PAGE).get_page(request.GET.get("page"))
    shown = selectors.trust_portfolio_rows(
        fetched_by=membership, ranked=list(page.object_list), now=now
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "trust/portfolio.html",
        {
            "rows": shown,
            "portfolio_rows": tables.portfolio_rows(
                shown, workspace_slug=membership.workspace.slug, now=now
            ),
            "heat_rows": tables.heat_rows(shown),
            "page": page,
            "total": len(ranked),
            "as_of": now,
            "query": query.urlencode(),
            "filters": selectors.portfolio_filters(fetched_by=membership),
            "chosen": {"client": client_id, "lead": lead_id, "status": status},
            "dimensions": [indicators.DIMENSION_LABELS[d] for d in selectors.PORTFOLIO_DIMENSIONS],
        },
    )


@workspace_view(access.can_manage_trust_settings)
def trust_settings(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The owner's weights, base rates and half-life, each indicator with its reason."""
    current = services.trust_settings_for(membership.workspace_id)
    form = TrustSettingsForm(request.POST or None, current=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.trust_settings_update(
                    membership=membership,
                    half_life_days=form.cleaned_data["half_life_days"],
                    weights=form.weights(),
                    base_rates=form.base_rates(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Saved: trust is being recomputed with these values."))
                return redirect("trust-settings", ws=membership.workspace.slug)
        status = 400
    return render(request, "trust/settings.html", {"form": form}, status=status)
