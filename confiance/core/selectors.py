"""Reads of the core app that are more than a lookup; each takes the viewer explicitly."""

from __future__ import annotations

from django.db.models import QuerySet

from confiance import access
from confiance.core.models import ApiToken, Client, Invitation, Membership, User


def memberships_of(*, user: User) -> QuerySet[Membership]:
    """The workspaces a person belongs to, for navigation."""
    return (
        Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
    )


def member_list(*, fetched_by: Membership) -> QuerySet[Membership]:
    """The people of the viewer's workspace (provider side only)."""
    if not access.can_see_members(fetched_by):
        return Membership.objects.none()
    return (
        Membership.objects.filter(workspace_id=fetched_by.workspace_id)
        .select_related("user", "client")
        .order_by("role", "user__full_name", "user__email")
    )


def pending_invitations(*, fetched_by: Membership) -> QuerySet[Invitation]:
    """Invitations of the workspace not yet accepted nor withdrawn."""
    if not access.can_invite(fetched_by):
        return Invitation.objects.none()
    return (
        Invitation.objects.filter(
            workspace_id=fetched_by.workspace_id, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("client", "invited_by")
        .order_by("-created_at")
    )


def client_list(*, fetched_by: Membership) -> QuerySet[Client]:
    """Clients of the workspace a provider-side person can pick from."""
    if not access.is_internal(fetched_by):
        return Client.objects.none()
    return Client.objects.filter(workspace_id=fetched_by.workspace_id).order_by("name")


def token_list(*, fetched_by: Membership) -> QuerySet[ApiToken]:
    """The viewer's own API tokens in this workspace."""
    return ApiToken.objects.filter(membership=fetched_by).order_by("-created_at")
