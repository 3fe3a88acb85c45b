"""Helpers shared by the services of emergence: access checks, notices, handles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.models import Membership, Role, User
from confiance.core.notices import notify_on_commit
from confiance.emergence.models import (
    CLOSED_PHASES,
    Opportunity,
    Participant,
    Side,
)

# A nomination endorsed by the client or the opener is accepted after this many days without an
# objection: long enough for every participant to see it and speak, short enough to move on.
QUIET_DAYS = 3
MAX_POST_LENGTH = 20_000


def opportunity_link(opportunity: Opportunity) -> str:
    return reverse(
        "opportunity-detail", kwargs={"ws": opportunity.workspace.slug, "pk": opportunity.pk}
    )


def handle_of(user: User) -> str:
    """The @handle others use to mention a person: their name, slugified, else their e-mail."""
    return slugify(user.full_name) or user.email.split("@", 1)[0].lower()


def notify(
    opportunity: Opportunity, users: Iterable[User | None], kind: str, params: dict[str, Any]
) -> None:
    """Tell these people once the transaction commits, through the notices of the whole app:
    in each reader's language, as each prefers (at once, daily digest, off)."""
    notify_on_commit(
        workspace_id=opportunity.workspace_id,
        user_ids=[u.pk for u in users if u is not None and u.is_active],
        kind=kind,
        params=params,
        link=opportunity_link(opportunity),
    )


def excerpt(text: str, limit: int = 400) -> str:
    """The start of a message, for a notice's e-mail (the page has the whole)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def participant_of(opportunity: Opportunity, user: User) -> Participant | None:
    """This person's live participation (invited or joined) in the opportunity, if any."""
    return Participant.objects.filter(
        opportunity=opportunity,
        user=user,
        declined_at__isnull=True,
        left_at__isnull=True,
        removed_at__isnull=True,
    ).first()


def require_visible(membership: Membership, opportunity: Opportunity) -> None:
    """The acting person must still see the opportunity (never trust an object fetched earlier)."""
    visible = access.scope_opportunities(Opportunity.objects.filter(pk=opportunity.pk), membership)
    if not visible.exists():
        raise PermissionDenied


def require_open(opportunity: Opportunity) -> None:
    if opportunity.phase in CLOSED_PHASES:
        raise ValidationError(_("This opportunity is closed: nothing changes any more."))


def side_of(membership: Membership) -> str:
    if membership.role == Role.CLIENT:
        return Side.CLIENT
    if membership.role == Role.EXPERT:
        return Side.EXPERT
    return Side.PROVIDER


def require_speaker(membership: Membership, opportunity: Opportunity) -> Participant:
    """Who may write (post, propose, nominate, endorse): a joined participant; the provider's
    people who see the opportunity join it by writing."""
    require_visible(membership, opportunity)
    require_open(opportunity)
    participant = participant_of(opportunity, membership.user)
    if participant is not None and participant.joined_at is not None:
        return participant
    if access.is_internal(membership) and membership.role != Role.FINANCE:
        now = timezone.now()
        if participant is None:
            participant = Participant.objects.create(
                workspace_id=opportunity.workspace_id,
                opportunity=opportunity,
                user=membership.user,
                email=membership.user.email,
                side=Side.PROVIDER,
                invited_by=membership.user,
                invited_at=now,
                joined_at=now,
            )
        else:
            participant.joined_at = now
            participant.save(update_fields=["joined_at"])
        return participant
    raise ValidationError(_("Join the opportunity first."))
