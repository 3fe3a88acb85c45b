"""Fresh objects for the API's access matrix: each persona acts on its own object, so that what
one persona did (a commitment kept, a payment paid) does not change what the next one meets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.core.models import ApiToken, Membership
from confiance.core.services import api_token_create, membership_add, user_create
from confiance.followup import services as followup
from confiance.followup.models import Commitment
from tests.conftest import PERSONAS, World
from tests.problems.support import a_problem

_serial = count(1)


def write_tokens(world: World) -> dict[str, str]:
    """A read-and-write token for every persona."""
    return {
        p: api_token_create(membership=getattr(world, p), name="api test", scope="write")[1]
        for p in PERSONAS
    }


def eng(w: World) -> dict[str, Any]:
    return {"engagement_id": w.engagement.pk}


def entry(w: World) -> dict[str, Any]:
    pk = time_entry_log(
        membership=w.member,
        engagement=w.engagement,
        item=EntryInput(person=w.member.user, date=date(2026, 10, 1), minutes=90),
    ).pk
    return {**eng(w), "entry_id": pk}


def commitment(w: World) -> dict[str, Any]:
    pk = followup.commitment_create(
        membership=w.member,
        engagement=w.engagement,
        side="provider",
        owner=w.member.user,
        text="Deliver the migration plan",
        due_date=timezone.localdate() + timedelta(days=7),
    ).pk
    return {**eng(w), "commitment_id": pk}


def renegotiation(w: World) -> dict[str, Any]:
    kwargs = commitment(w)
    proposal = followup.renegotiation_propose(
        membership=w.member,
        commitment=Commitment.objects.get(pk=kwargs["commitment_id"]),
        reason="The data arrived late",
        new_due_date=timezone.localdate() + timedelta(days=14),
    )
    return {**kwargs, "renegotiation_id": proposal.pk}


def meeting(w: World, *, past: bool = False) -> dict[str, Any]:
    pk = followup.meeting_create(
        membership=w.member,
        engagement=w.engagement,
        title="Steering committee",
        starts_at=timezone.now() + timedelta(days=-1 if past else 2),
        duration_minutes=60,
        channel="video",
        attendees=[w.member.user, w.client_contact.user],
    ).pk
    return {**eng(w), "meeting_id": pk}


def payment(w: World) -> dict[str, Any]:
    today = timezone.localdate()
    pk = followup.payment_create(
        membership=w.finance,
        engagement=w.engagement,
        kind="deposit",
        label="Deposit 30 %",
        amount=Decimal("3000.00"),
        issue_date=today - timedelta(days=10),
        due_date=today + timedelta(days=20),
    ).pk
    return {**eng(w), "payment_id": pk}


def problem(w: World) -> dict[str, Any]:
    return {**eng(w), "problem_id": a_problem(w)}


def problem_file(w: World) -> dict[str, Any]:
    """A PDF the client attached to the problem (tests/problems/support.an_attachment)."""
    from tests.problems.support import an_attachment

    page = an_attachment(w)
    return {**problem(w), "attachment_id": page["attachment_id"]}


def term_proposal(w: World) -> dict[str, Any]:
    """A new term the member proposed (fresh each call)."""
    from tests.alignment.support import a_proposal

    return {**eng(w), "entry_id": a_proposal(w)["entry_id"]}


def agreed_term(w: World) -> dict[str, Any]:
    from tests.alignment.support import an_agreed_term

    return {**eng(w), "entry_id": an_agreed_term(w)["entry_id"]}


def vision_proposal(w: World) -> dict[str, Any]:
    from tests.alignment.support import a_vision_proposal

    return {**eng(w), "vision_id": a_vision_proposal(w)["vision_id"]}


def review(w: World) -> dict[str, Any]:
    """A client commitment the provider marked broken: a review awaiting the client's answer."""
    from tests.followup.support import review_id

    return {**eng(w), "review_id": review_id(w)}


def stop_request(w: World) -> dict[str, Any]:
    """A pending request of the client to stop early (an earlier one answered first)."""
    from confiance.engagements.models import StopRequest
    from confiance.engagements.stops import stop_request_create

    StopRequest.objects.filter(engagement=w.engagement, state=StopRequest.State.PENDING).update(
        state=StopRequest.State.DECLINED
    )
    pk = stop_request_create(
        membership=w.client_contact, engagement=w.engagement, reason="Budget cut"
    ).pk
    return {**eng(w), "request_id": pk}


def unique(prefix: str) -> str:
    return f"{prefix} {next(_serial)}"


def token_of(plaintext: str) -> ApiToken:
    return ApiToken.objects.get(prefix=plaintext.split("_")[1])


def newcomer(w: World) -> Membership:
    """A consultant added for the occasion (to be removed)."""
    n = next(_serial)
    return membership_add(
        by=w.owner,
        user=user_create(email=f"newcomer{n}@provider.test", password="x" * 12, full_name="New"),
        role="member",
    )
