"""Reads of engagements; each starts from the policy-scoped queryset."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from confiance.core.models import INTERNAL_ROLES, Membership, Role, User
from confiance.engagements.models import Engagement, EngagementStatus, Interlocutor


def engagement_list(
    *, fetched_by: Membership, status: str = "", client_id: int | None = None
) -> QuerySet[Engagement]:
    """Engagements the viewer may see, optionally filtered; one query whatever their number."""
    queryset = Engagement.objects.visible_to(fetched_by).select_related("client", "lead")
    if status in EngagementStatus.values:
        queryset = queryset.filter(status=status)
    if client_id is not None:
        queryset = queryset.filter(client_id=client_id)
    return queryset.order_by("-start_date", "-id")


# What a row of the engagement list (or of a client's page) and its glance read. Loading only
# these halves the cost of building 50 engagements with their client and lead; a field read
# beyond them would cost a query per row, which the pinned query counts of the pages catch.
TABLE_FIELDS = (
    "workspace_id",
    "client_id",
    "lead_id",
    "title",
    "reference",
    "status",
    "contact_origin",
    "start_date",
    "end_date",
    "client__name",
    "lead__full_name",
    "lead__email",
)


def engagement_table(
    *, fetched_by: Membership, status: str = "", client_id: int | None = None
) -> QuerySet[Engagement]:
    """`engagement_list` with only the columns a table row and its glance show."""
    return engagement_list(fetched_by=fetched_by, status=status, client_id=client_id).only(
        *TABLE_FIELDS
    )


def _provider_people_q(engagements: QuerySet[Engagement]) -> Q:
    """Provider people who take part in these engagements: the lead, the team (rate card),
    the provider's interlocutors, and whoever logged time on them."""
    from django.apps import apps

    ids = engagements.values("pk")
    team = apps.get_model("consumption", "TeamMember").objects.filter(engagement_id__in=ids)
    logged = apps.get_model("consumption", "TimeEntry").objects.filter(engagement_id__in=ids)
    return (
        Q(pk__in=engagements.exclude(lead_id=None).values("lead_id"))
        | Q(pk__in=team.values("user_id"))
        | Q(
            pk__in=Interlocutor.objects.filter(
                engagement_id__in=ids, side=Interlocutor.Side.PROVIDER
            ).values("user_id")
        )
        | Q(pk__in=logged.values("person_id"))
    )


def engagement_people(*, engagement: Engagement, side: str | None = None) -> QuerySet[User]:
    """The people of one engagement, the only ones its pickers offer: on the provider's side
    those who take part in it (lead, team, interlocutors, time logged), on the client's side
    the contacts of its client. `side` ("provider" or "client") keeps one side."""
    one = Engagement.objects.filter(pk=engagement.pk)
    provider = Q(
        _provider_people_q(one),
        memberships__workspace_id=engagement.workspace_id,
        memberships__role__in=INTERNAL_ROLES,
    )
    client = Q(
        memberships__workspace_id=engagement.workspace_id,
        memberships__role=Role.CLIENT,
        memberships__client_id=engagement.client_id,
    )
    wanted = provider if side == "provider" else client if side == "client" else provider | client
    return User.objects.filter(wanted, is_active=True).distinct().order_by("full_name", "email")


def people_sharing_with(membership: Membership) -> QuerySet[User]:
    """People who share an engagement with this person (and the person): those of the
    engagements the person takes part in, on either side."""
    engagements = Engagement.objects.filter(workspace_id=membership.workspace_id)
    if membership.role == Role.CLIENT and membership.client_id is not None:
        mine = engagements.filter(client_id=membership.client_id).exclude(
            status=EngagementStatus.DRAFT
        )
    else:
        mine = engagements.filter(
            Q(lead_id=membership.user_id)
            | Q(interlocutors__user_id=membership.user_id)
            | Q(pk__in=_taking_part(membership.user_id))
        )
    provider = Q(_provider_people_q(mine), memberships__role__in=INTERNAL_ROLES)
    client = Q(
        memberships__role=Role.CLIENT,
        memberships__client_id__in=mine.values("client_id"),
    )
    return User.objects.filter(
        Q(pk=membership.user_id)
        | Q(provider | client, memberships__workspace_id=membership.workspace_id)
    ).distinct()


def _taking_part(user_id: int) -> QuerySet[Any]:
    """Engagements a provider person is on through the team or their logged time."""
    from django.apps import apps

    team = apps.get_model("consumption", "TeamMember").objects.filter(user_id=user_id)
    logged = apps.get_model("consumption", "TimeEntry").objects.filter(person_id=user_id)
    return Engagement.objects.filter(
        Q(pk__in=team.values("engagement_id")) | Q(pk__in=logged.values("engagement_id"))
    ).values("pk")
