"""Writes of engagements. The UI, the API and the demo data all come through here."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Client, Membership, User
from confiance.engagements.models import ContactOrigin, Engagement, EngagementStatus


@transaction.atomic
def engagement_create(
    *,
    membership: Membership,
    client: Client,
    title: str,
    contact_origin: str,
    status: str = EngagementStatus.DRAFT,
    reference: str = "",
    start_date: date | None = None,
    end_date: date | None = None,
    lead: User | None = None,
    summary: str = "",
    internal_notes: str = "",
) -> Engagement:
    """Create an engagement for a client of the membership's workspace."""
    if not access.can_manage_engagements(membership):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if client.workspace_id != membership.workspace_id:
        errors["client"] = _("Choose a client of this workspace.")
    if not title.strip():
        errors["title"] = _("An engagement needs a title.")
    if contact_origin not in ContactOrigin.values:
        errors["contact_origin"] = _("Choose how the contact started.")
    if status not in EngagementStatus.values:
        errors["status"] = _("Unknown status.")
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = _("The end date comes before the start date.")
    if (
        lead is not None
        and not lead.memberships.filter(
            workspace_id=membership.workspace_id, role__in=INTERNAL_ROLES
        ).exists()
    ):
        errors["lead"] = _("The lead must be someone from your firm.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    engagement = Engagement.objects.create(
        workspace_id=membership.workspace_id,
        client=client,
        title=title.strip(),
        reference=reference.strip(),
        contact_origin=contact_origin,
        status=status,
        start_date=start_date,
        end_date=end_date,
        lead=lead,
        summary=summary,
        internal_notes=internal_notes,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        verb="engagement.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"title": engagement.title, "status": status},
    )
    return engagement


@transaction.atomic
def engagement_set_status(*, membership: Membership, engagement: Engagement, status: str) -> None:
    """Move an engagement to another status (the closure workflow builds on this)."""
    if not access.can_manage_engagements(membership) or (
        engagement.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    if status not in EngagementStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    previous = engagement.status
    engagement.status = status
    engagement.updated_at = timezone.now()
    engagement.save(update_fields=["status", "updated_at"])
    audit_record(
        verb="engagement.status",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"from": previous, "to": status},
    )
