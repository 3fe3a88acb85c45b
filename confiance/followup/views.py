"""Follow-up pages: commitments, meetings and payments of one engagement; the calendar feed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership, User
from confiance.engagements.models import Engagement
from confiance.engagements.selectors import engagement_people
from confiance.followup import feed, reviews, selectors, services
from confiance.followup.forms import (
    CancelForm,
    CommitmentForm,
    ContestForm,
    MeetingForm,
    MeetingRecordForm,
    PaidForm,
    PaymentForm,
    RenegotiationForm,
    ResolveForm,
    StatusForm,
)
from confiance.followup.models import Renegotiation, Side


def _people(engagement: Engagement, side: str | None = None) -> QuerySet[User]:
    """The engagement's people (of one side): the only ones its pickers offer."""
    return engagement_people(engagement=engagement, side=side)


def _commitment_form(
    membership: Membership, engagement: Engagement, data: Any = None
) -> CommitmentForm | None:
    side = access.followup_side(membership, engagement)
    if side is None:
        return None
    if side == Side.PROVIDER:
        sides = [Side.PROVIDER, Side.CLIENT]
        people = _people(engagement)
    else:
        sides = [Side.CLIENT]
        people = _people(engagement, Side.CLIENT)
    return CommitmentForm(
        data,
        sides=sides,
        people=people,
        initial={"side": side, "owner": membership.user_id},
        prefix="commitment",
    )


def _meeting_form(
    membership: Membership, engagement: Engagement, data: Any = None
) -> MeetingForm | None:
    if not access.can_manage_meetings(membership, engagement):
        return None
    people = _people(engagement)
    # Everyone of the engagement is expected unless unticked: both sides, the planner included.
    initial = {"attendees": list(people.values_list("pk", flat=True))} if data is None else {}
    return MeetingForm(data, people=people, initial=initial, prefix="meeting")


def _page(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    commitments = selectors.commitment_list(fetched_by=membership, engagement=engagement)
    can_manage_payments = access.can_manage_payments(membership, engagement)
    ended = access.engagement_ended(engagement)
    context = {
        "engagement": engagement,
        "side": access.followup_side(membership, engagement),
        "commitments": commitments,
        "overdue": [c for c in commitments if c.overdue],  # type: ignore[attr-defined]
        "kept": selectors.commitments_kept(fetched_by=membership, engagement=engagement),
        # An ended engagement plans nothing new (a form sent anyway gets the service's reason).
        "ended": ended,
        "commitment_form": forms.get("commitment_form")
        or (None if ended else _commitment_form(membership, engagement)),
        "meetings": selectors.meeting_list(fetched_by=membership, engagement=engagement),
        "meeting_form": forms.get("meeting_form")
        or (None if ended else _meeting_form(membership, engagement)),
        "can_see_payments": access.can_see_payments(membership, engagement),
        "can_manage_payments": can_manage_payments,
        "payments": selectors.payment_list(fetched_by=membership, engagement=engagement),
        "promptness": selectors.client_payment_promptness(
            fetched_by=membership, client=engagement.client
        )
        if access.can_see_payments(membership, engagement)
        else None,
        "payment_form": forms.get("payment_form")
        or (PaymentForm(prefix="payment") if can_manage_payments else None),
        "paid_form": PaidForm(prefix="paid") if can_manage_payments else None,
        "internal": access.can_see_internal_notes(membership),
        "reviews": _reviews(membership, engagement, forms.get("contest")),
    }
    return render(request, "followup/followup.html", context, status=status)


def _reviews(
    membership: Membership, engagement: Engagement, contest: tuple[int, ContestForm] | None
) -> list[Any]:
    """The reviews with, for those the viewer's side may answer, a contest form (the refused
    one with its errors after a bad contest)."""
    side = access.followup_side(membership, engagement)
    rows = list(reviews.reviews_of(fetched_by=membership, engagement=engagement))
    for review in rows:
        review.mine_to_answer = review.side == side and review.answerable  # type: ignore[attr-defined]
        if contest is not None and contest[0] == review.pk:
            review.contest_form = contest[1]  # type: ignore[attr-defined]
        elif review.mine_to_answer:  # type: ignore[attr-defined]
            review.contest_form = ContestForm(prefix=f"contest-{review.pk}")  # type: ignore[attr-defined]
        review.resolve_label = (  # type: ignore[attr-defined]
            (_("Withdraw our contest") if review.side == side else _("Withdraw our record"))
            if side is not None and review.state == "contested"
            else ""
        )
    return rows


def _back(membership: Membership, engagement: Engagement, anchor: str = "") -> HttpResponse:
    url = reverse("followup", kwargs={"ws": membership.workspace.slug, "pk": engagement.pk})
    return redirect(url + anchor)


@require_GET
@workspace_view()
def followup(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Commitments of both sides, meetings and payments: the same page for both sides."""
    engagement = access.get_engagement(membership, pk)
    return _page(request, membership, engagement)


# Commitments -------------------------------------------------------------------------------


@require_POST
@workspace_view()
def commitment_create(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    form = _commitment_form(membership, engagement, request.POST)
    if form is None:
        raise Http404
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.commitment_create(
                membership=membership,
                engagement=engagement,
                side=data["side"],
                owner=data["owner"],
                text=data["text"],
                due_date=data["due_date"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Commitment recorded."))
            return _back(membership, engagement, "#commitments")
    return _page(request, membership, engagement, status=400, commitment_form=form)


def _commitment_page(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    commitment: Any,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    side = access.followup_side(membership, engagement)
    pending = commitment.renegotiations.filter(state=Renegotiation.State.PENDING).first()
    live = commitment.is_live
    context = {
        "engagement": engagement,
        "commitment": commitment,
        "history": selectors.commitment_history(commitment=commitment),
        "status_changes": commitment.status_changes.select_related("changed_by"),
        "renegotiations": commitment.renegotiations.select_related("proposed_by", "decided_by"),
        "pending": pending,
        "can_decide": pending is not None
        and access.can_agree_renegotiation(membership, engagement, commitment.side),
        "status_form": forms.get("status_form")
        or (StatusForm(prefix="status") if live and side else None),
        "renegotiation_form": forms.get("renegotiation_form")
        or (
            RenegotiationForm(prefix="reneg")
            if live
            and pending is None
            and access.can_propose_renegotiation(membership, engagement, commitment.side)
            else None
        ),
    }
    return render(request, "followup/commitment_detail.html", context, status=status)


@require_GET
@workspace_view()
def commitment_detail(
    request: HttpRequest, membership: Membership, pk: int, cid: int
) -> HttpResponse:
    """A commitment with every version, its status changes and its renegotiations."""
    engagement = access.get_engagement(membership, pk)
    commitment = selectors.commitment_get(fetched_by=membership, engagement=engagement, pk=cid)
    return _commitment_page(request, membership, engagement, commitment)


@require_POST
@workspace_view()
def commitment_status(
    request: HttpRequest, membership: Membership, pk: int, cid: int
) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    commitment = selectors.commitment_get(fetched_by=membership, engagement=engagement, pk=cid)
    if not access.can_set_commitment_status(membership, engagement):
        raise Http404
    form = StatusForm(request.POST, prefix="status")
    if form.is_valid():
        try:
            services.commitment_set_status(
                membership=membership,
                commitment=commitment,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Status recorded."))
            return _back(membership, engagement, "#commitments")
    return _commitment_page(
        request, membership, engagement, commitment, status=400, status_form=form
    )


@require_POST
@workspace_view()
def renegotiation_propose(
    request: HttpRequest, membership: Membership, pk: int, cid: int
) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    commitment = selectors.commitment_get(fetched_by=membership, engagement=engagement, pk=cid)
    if not access.can_propose_renegotiation(membership, engagement, commitment.side):
        raise Http404
    form = RenegotiationForm(request.POST, prefix="reneg")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.renegotiation_propose(
                membership=membership,
                commitment=commitment,
                reason=data["reason"],
                new_due_date=data["new_due_date"],
                new_text=data["new_text"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Proposal sent: the other side must agree."))
            return redirect(
                "commitment-detail", ws=membership.workspace.slug, pk=engagement.pk, cid=cid
            )
    return _commitment_page(
        request, membership, engagement, commitment, status=400, renegotiation_form=form
    )


@require_POST
@workspace_view()
def renegotiation_decide(
    request: HttpRequest, membership: Membership, pk: int, cid: int, rid: int
) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    commitment = selectors.commitment_get(fetched_by=membership, engagement=engagement, pk=cid)
    if not access.can_agree_renegotiation(membership, engagement, commitment.side):
        raise Http404
    proposal = commitment.renegotiations.filter(pk=rid).first()
    if proposal is None:
        raise Http404
    agree = request.POST.get("decision") == "agree"
    try:
        services.renegotiation_decide(membership=membership, renegotiation=proposal, agree=agree)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Renegotiation agreed.") if agree else _("Renegotiation declined.")
        )
    return redirect("commitment-detail", ws=membership.workspace.slug, pk=engagement.pk, cid=cid)


# Confirm or contest what the other side recorded ------------------------------------------


@require_POST
@workspace_view()
def review_confirm(request: HttpRequest, membership: Membership, pk: int, rid: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    review = reviews.review_for(fetched_by=membership, engagement=engagement, review_id=rid)
    if access.followup_side(membership, engagement) != review.side:
        raise Http404
    try:
        reviews.review_confirm(membership=membership, review=review)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Confirmed: the other side is told."))
    return _back(membership, engagement, "#reviews")


@require_POST
@workspace_view()
def review_contest(request: HttpRequest, membership: Membership, pk: int, rid: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    review = reviews.review_for(fetched_by=membership, engagement=engagement, review_id=rid)
    if access.followup_side(membership, engagement) != review.side:
        raise Http404
    form = ContestForm(request.POST, prefix=f"contest-{rid}")
    if form.is_valid():
        try:
            reviews.review_contest(
                membership=membership, review=review, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Contested: both sides see it, and it is held out of trust.")
            )
            return _back(membership, engagement, "#reviews")
    return _page(request, membership, engagement, status=400, contest=(rid, form))


@require_POST
@workspace_view()
def review_resolve(request: HttpRequest, membership: Membership, pk: int, rid: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    review = reviews.review_for(fetched_by=membership, engagement=engagement, review_id=rid)
    if access.followup_side(membership, engagement) is None:
        raise Http404
    form = ResolveForm(request.POST, prefix=f"resolve-{rid}")
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        reviews.review_resolve(membership=membership, review=review, note=note)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The contest is over; both sides are told."))
    return _back(membership, engagement, "#reviews")


# Meetings ----------------------------------------------------------------------------------


@require_POST
@workspace_view()
def meeting_create(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    form = _meeting_form(membership, engagement, request.POST)
    if form is None:
        raise Http404
    if form.is_valid():
        try:
            services.meeting_create(
                membership=membership,
                engagement=engagement,
                **form.meeting_fields(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Meeting planned."))
            return _back(membership, engagement, "#meetings")
    return _page(request, membership, engagement, status=400, meeting_form=form)


def _meeting_page(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    meeting: Any,
    status: int = 200,
    record_form: MeetingRecordForm | None = None,
    cancel_form: CancelForm | None = None,
) -> HttpResponse:
    manage = access.can_manage_meetings(membership, engagement)
    attendees = list(meeting.attendees.all())
    if record_form is None and manage and meeting.status != "cancelled":
        record_form = MeetingRecordForm(
            attendees=attendees,
            initial={"minutes": meeting.minutes, "internal_notes": meeting.internal_notes},
            prefix="record",
        )
    context = {
        "engagement": engagement,
        "meeting": meeting,
        "attendees": attendees,
        "reschedules": meeting.reschedules.select_related("changed_by"),
        "can_edit": manage and meeting.status == "planned",
        "internal": access.can_see_internal_notes(membership),
        "record_form": record_form,
        "cancel_form": cancel_form
        or (
            CancelForm(prefix="cancel")
            if meeting.status == "planned" and access.can_cancel_meeting(membership, engagement)
            else None
        ),
    }
    return render(request, "followup/meeting_detail.html", context, status=status)


@workspace_view()
def meeting_detail(request: HttpRequest, membership: Membership, pk: int, mid: int) -> HttpResponse:
    """A meeting with its attendance and minutes; the provider records attendance here."""
    engagement = access.get_engagement(membership, pk)
    meeting = selectors.meeting_get(fetched_by=membership, engagement=engagement, pk=mid)
    if request.method != "POST":
        return _meeting_page(request, membership, engagement, meeting)
    if not access.can_manage_meetings(membership, engagement):
        raise Http404
    form = MeetingRecordForm(request.POST, attendees=list(meeting.attendees.all()), prefix="record")
    if form.is_valid():
        try:
            services.meeting_record(
                membership=membership,
                meeting=meeting,
                attendance=form.attendance(),
                minutes=form.cleaned_data["minutes"],
                internal_notes=form.cleaned_data["internal_notes"],
                held=request.POST.get("held") == "1",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect(
                "meeting-detail", ws=membership.workspace.slug, pk=engagement.pk, mid=mid
            )
    return _meeting_page(request, membership, engagement, meeting, status=400, record_form=form)


@workspace_view()
def meeting_edit(request: HttpRequest, membership: Membership, pk: int, mid: int) -> HttpResponse:
    """Change a planned meeting (time, channel, who is expected); a new time is a reschedule."""
    engagement = access.get_engagement(membership, pk)
    meeting = selectors.meeting_get(fetched_by=membership, engagement=engagement, pk=mid)
    if not access.can_manage_meetings(membership, engagement) or meeting.status != "planned":
        raise Http404
    status = 200
    if request.method == "POST":
        form = _meeting_form(membership, engagement, request.POST)
        assert form is not None
        if form.is_valid():
            try:
                services.meeting_update(
                    membership=membership,
                    meeting=meeting,
                    **form.meeting_fields(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Meeting changed."))
                return redirect(
                    "meeting-detail", ws=membership.workspace.slug, pk=engagement.pk, mid=mid
                )
        status = 400
    else:
        form = _meeting_form(membership, engagement)
        assert form is not None
        form.initial = {
            "title": meeting.title,
            "starts_at": timezone.localtime(meeting.starts_at),
            "duration_minutes": meeting.duration_minutes,
            "channel": meeting.channel,
            "location": meeting.location,
            "attendees": [a.user_id for a in meeting.attendees.all()],
        }
    return render(
        request,
        "followup/meeting_edit.html",
        {"engagement": engagement, "meeting": meeting, "form": form},
        status=status,
    )


@require_POST
@workspace_view()
def meeting_cancel(request: HttpRequest, membership: Membership, pk: int, mid: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    meeting = selectors.meeting_get(fetched_by=membership, engagement=engagement, pk=mid)
    if not access.can_cancel_meeting(membership, engagement):
        raise Http404
    form = CancelForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            services.meeting_cancel(
                membership=membership, meeting=meeting, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Meeting cancelled."))
            return _back(membership, engagement, "#meetings")
    return _meeting_page(request, membership, engagement, meeting, status=400, cancel_form=form)


# Payments ----------------------------------------------------------------------------------


@require_POST
@workspace_view()
def payment_create(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    if not access.can_manage_payments(membership, engagement):
        raise Http404
    form = PaymentForm(request.POST, prefix="payment")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.payment_create(membership=membership, engagement=engagement, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Payment recorded."))
            return _back(membership, engagement, "#payments")
    return _page(request, membership, engagement, status=400, payment_form=form)


@require_POST
@workspace_view()
def payment_paid(request: HttpRequest, membership: Membership, pk: int, pid: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    if not access.can_manage_payments(membership, engagement):
        raise Http404
    payment = selectors.payment_get(fetched_by=membership, engagement=engagement, pk=pid)
    form = PaidForm(request.POST, prefix="paid")
    if form.is_valid():
        try:
            services.payment_mark_paid(
                membership=membership, payment=payment, paid_date=form.cleaned_data["paid_date"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Payment recorded as paid."))
            return _back(membership, engagement, "#payments")
    for e in form.errors.values():
        messages.error(request, " ".join(str(message) for message in e))
    return _page(request, membership, engagement, status=400)


# Calendar ----------------------------------------------------------------------------------


@workspace_view()
def my_calendar(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The person's secret calendar link; POST makes a new one (the old link stops working)."""
    feed_url = None
    if request.method == "POST":
        token = services.calendar_feed_regenerate(user=membership.user)
        feed_url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
    has_feed = hasattr(membership.user, "calendar_feed")
    return render(
        request,
        "followup/my_calendar.html",
        {"feed_url": feed_url, "has_feed": has_feed or feed_url is not None},
    )


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed of a secret token: no session needed; a bad token is a 404."""
    user = services.calendar_feed_user(token)
    if user is None:
        raise Http404
    meetings = selectors.meetings_for_feed(user=user)
    body = feed.build_calendar(meetings, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
