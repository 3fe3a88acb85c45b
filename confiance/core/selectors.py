"""Reads of the core app that are more than a lookup; each takes the viewer explicitly."""

from __future__ import annotations

from typing import Any

from django.apps import apps as django_apps
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

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
    """Clients of the workspace a provider-side person can pick from (archived ones are not)."""
    if not access.is_internal(fetched_by):
        return Client.objects.none()
    return Client.objects.filter(
        workspace_id=fetched_by.workspace_id, archived_at__isnull=True
    ).order_by("name")


def client_overview(*, fetched_by: Membership) -> QuerySet[Client]:
    """Every client of the workspace, archived last, with its counts of contacts and engagements."""
    if not access.is_internal(fetched_by):
        return Client.objects.none()
    return (
        Client.objects.filter(workspace_id=fetched_by.workspace_id)
        .annotate(
            contact_count=Count("contacts", distinct=True),
            engagement_count=Count("engagements", distinct=True),
            live_count=Count(
                "engagements",
                filter=Q(engagements__status__in=["active", "paused"]),
                distinct=True,
            ),
        )
        .order_by(F("archived_at").asc(nulls_first=True), "name")
    )


def client_get(*, fetched_by: Membership, client_id: int) -> Client:
    """One client the viewer may see (provider side, or its own contacts), or 404."""
    client = Client.objects.filter(pk=client_id, workspace_id=fetched_by.workspace_id).first()
    if client is None or not access.can_see_client(fetched_by, client.pk):
        raise Http404
    return client


def client_contacts(*, fetched_by: Membership, client: Client) -> QuerySet[Membership]:
    """The people of a client organisation, for those who may see that client."""
    if not access.can_see_client(fetched_by, client.pk):
        return Membership.objects.none()
    return (
        Membership.objects.filter(workspace_id=fetched_by.workspace_id, client=client)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def token_list(*, fetched_by: Membership) -> QuerySet[ApiToken]:
    """The viewer's own API tokens in this workspace."""
    return ApiToken.objects.filter(membership=fetched_by).order_by("-created_at")


# Fields never exported, even to their own person: secrets and their hashes.
SECRET_FIELDS = frozenset({"password", "token_hash", "nonce", "secret"})


def person_data(*, fetched_by: Membership) -> dict[str, Any]:
    """Everything this workspace holds about the person, as plain data (their own download).

    Found by the model graph rather than a hand-kept list: every row of a workspace-owned model
    that points at the person (as author, owner, attendee, respondent, recipient, actor...), so
    that a capability added later is included without anyone remembering to add it.
    """
    user = fetched_by.user
    records: dict[str, list[dict[str, Any]]] = {}
    for model in django_apps.get_models():
        if not model.__module__.startswith("confiance."):
            continue
        names = {f.name for f in model._meta.concrete_fields}
        if "workspace" not in names:
            continue  # not the workspace's (an account-level row, such as a calendar feed)
        person = Q()
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User:
                person |= Q(**{f.name: user})
            elif f.is_relation and f.related_model is Membership:
                person |= Q(**{f.name: fetched_by})
        if not person:
            continue
        rows = [
            {k: v for k, v in row.items() if k not in SECRET_FIELDS}
            for row in model._default_manager.filter(person, workspace_id=fetched_by.workspace_id)
            .order_by("pk")
            .values()
        ]
        if rows:
            records[model._meta.label] = rows
    return {
        "person": {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "date_joined": user.date_joined,
        },
        "workspace": {"slug": fetched_by.workspace.slug, "name": fetched_by.workspace.name},
        "membership": {
            "role": fetched_by.role,
            "client": fetched_by.client.name if fetched_by.client else None,
            "since": fetched_by.created_at,
        },
        "records": records,
    }
