"""Pages of how an opportunity ends: convert, decline and refer, the partner directory, and the
discussion read from the engagement it became."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.models import Membership
from confiance.emergence import selectors, services
from confiance.emergence.forms import DeclineForm, PartnerForm, ReferralReceivedForm
from confiance.emergence.models import Opportunity
from confiance.emergence.views import _detail, _submit, _to_detail


def _steered(membership: Membership, pk: int) -> Opportunity:
    opportunity = selectors.opportunity_get(fetched_by=membership, pk=pk)
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise Http404
    return opportunity


@require_POST
@workspace_view()
def opportunity_convert(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Convert the agreed opportunity into an engagement, then show the engagement."""
    opportunity = _steered(membership, pk)
    try:
        engagement = services.opportunity_convert(membership=membership, opportunity=opportunity)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _detail(request, membership, opportunity, status=400)
    messages.success(request, _("The opportunity is now an engagement, with its team and terms."))
    return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)


@require_POST
@workspace_view()
def opportunity_decline(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Say no, why, and who the client is pointed to."""
    opportunity = _steered(membership, pk)
    form = DeclineForm(request.POST, partners=selectors.partners(fetched_by=membership))
    if _submit(
        request,
        form,
        lambda data: services.opportunity_decline(
            membership=membership,
            opportunity=opportunity,
            reason=data["reason"],
            partner=data["partner"],
        ),
        _("Declined: the client reads why, and who we point them to."),
    ):
        return _to_detail(membership, opportunity)
    return _detail(request, membership, opportunity, status=400, decline_form=form)


def _partner_page(
    request: HttpRequest,
    membership: Membership,
    status: int = 200,
    partner_form: PartnerForm | None = None,
    received_form: ReferralReceivedForm | None = None,
) -> HttpResponse:
    partners = selectors.partners(fetched_by=membership)
    manage = services.outcomes._can_manage_partners(membership)
    context = {
        "rows": selectors.partner_rows(fetched_by=membership),
        "figures": selectors.referral_counts(fetched_by=membership),
        "manage": manage,
        "partner_form": partner_form or (PartnerForm() if manage else None),
        "received_form": received_form
        or (ReferralReceivedForm(partners=partners) if manage and partners.exists() else None),
    }
    return render(request, "emergence/partners.html", context, status=status)


@workspace_view(check=access.can_see_partners)
def partners(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The partner directory: who we point clients to, and the referrals given and received."""
    if request.method == "POST":
        if not services.outcomes._can_manage_partners(membership):
            raise Http404
        form = PartnerForm(request.POST)
        if _submit(
            request,
            form,
            lambda data: services.partner_create(membership=membership, **data),
            _("Partner added."),
        ):
            return redirect("partners", ws=membership.workspace.slug)
        return _partner_page(request, membership, status=400, partner_form=form)
    return _partner_page(request, membership)


@require_POST
@workspace_view(check=access.can_see_partners)
def referral_received(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Record a client a partner sent us."""
    if not services.outcomes._can_manage_partners(membership):
        raise Http404
    form = ReferralReceivedForm(request.POST, partners=selectors.partners(fetched_by=membership))
    if _submit(
        request,
        form,
        lambda data: services.referral_record_received(membership=membership, **data),
        _("Referral recorded."),
    ):
        return redirect("partners", ws=membership.workspace.slug)
    return _partner_page(request, membership, status=400, received_form=form)


@workspace_view()
def engagement_emergence(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """From the engagement: the discussion and the agreed agreement it emerged from (read only)."""
    engagement = access.get_engagement(membership, pk)
    opportunity = (
        Opportunity.objects.select_related("client", "opened_by", "workspace", "referred_to")
        .filter(engagement=engagement)
        .first()
    )
    if opportunity is None:
        raise Http404
    taking_part = services.participant_of(opportunity, membership.user) is not None
    if not access.can_read_emergence_of(membership, True, opportunity.visibility, taking_part):
        raise Http404
    context = {
        "engagement": engagement,
        "opportunity": opportunity,
        "items": selectors.discussion(opportunity=opportunity, since=None),
        "agreement": selectors.agreed_text(opportunity=opportunity),
        "team": selectors.team(opportunity=opportunity),
    }
    return render(request, "emergence/engagement_emergence.html", context)
