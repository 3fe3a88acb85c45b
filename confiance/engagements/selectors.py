"""Reads of engagements; each starts from the policy-scoped queryset."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import router
from django.db.models import Count, Q, QuerySet

from confiance.core.models import INTERNAL_ROLES, Membership, Role, User
from confiance.core.queries import Prepared
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


PAGE_SIZE = 50  # rows of the engagement list and of a client's page


@dataclass(slots=True)
class TableRow:
    """An engagement as a table row and its glance read it: `TABLE_FIELDS`, its client's name
    and its lead's name (`get_full_name`, None without a lead), from one row of values. Building
    fifty of these costs a tenth of fifty engagements with their client and lead."""

    pk: int
    workspace_id: int
    client_id: int
    lead_id: int | None
    title: str
    reference: str
    status: str
    contact_origin: str
    start_date: date | None
    end_date: date | None
    client_name: str
    lead_name: str | None

    @classmethod
    def of(cls, row: Sequence[Any]) -> TableRow:
        """From the values of `ROW_NAMES`, in that order."""
        pk, workspace, client, lead, title, reference, status, origin, start, end = row[:10]
        client_name, full_name, email = row[10:]
        lead_name = (full_name or email) if lead is not None else None  # `get_full_name`
        return cls(
            pk, workspace, client, lead, title, reference, status, origin, start, end,
            client_name, lead_name,
        )  # fmt: skip


# The values a table row reads, in `TableRow`'s order (the lead's name and email last).
ROW_NAMES = ("pk", *TABLE_FIELDS)


@functools.cache
def _table_queries(
    role: str, has_status: bool, has_client: bool, size: int
) -> tuple[Prepared, Prepared]:
    """The count and the first page of `engagement_table` for one shape of its arguments,
    compiled once per process (core.queries): their compilation cost more than running them.

    The queryset is `engagement_table`'s own, for a stand-in membership of `role`: the access
    rule stays in `access.scope_engagements`.
    """
    kinds: dict[str, type] = {"workspace_id": int}
    if role == Role.CLIENT:
        kinds["contact_client_id"] = int
    if has_status:
        kinds["status"] = str
    if has_client:
        kinds["client_id"] = int

    def table(**values: Any) -> QuerySet[Engagement]:
        viewer = Membership(
            workspace_id=values["workspace_id"],
            role=role,
            client_id=values.get("contact_client_id"),
        )
        queryset = engagement_table(fetched_by=viewer, client_id=values.get("client_id"))
        if "status" in values:  # a status `engagement_list` accepts (checked before the run)
            queryset = queryset.filter(status=values["status"])
        return queryset

    # Every row is of the viewer's workspace: one group, its count (no row: none).
    count = Prepared(
        lambda **values: (
            table(**values)
            .order_by()
            .values("workspace_id")
            .annotate(n=Count("pk"))
            .values_list("n")
        ),
        **kinds,
    )
    first = Prepared(lambda **values: table(**values)[:size].values_list(*ROW_NAMES), **kinds)
    return count, first


def _table_values(
    fetched_by: Membership, status: str, client_id: int | None
) -> tuple[tuple[Prepared, Prepared], dict[str, Any]] | None:
    """The prepared queries of this table and their values; None where the viewer sees no
    engagement at all (`scope_engagements` answers `none()` without a query)."""
    role = fetched_by.role
    if role == Role.CLIENT and fetched_by.client_id is None:
        return None
    if role != Role.CLIENT and role not in INTERNAL_ROLES:
        return None
    values: dict[str, Any] = {"workspace_id": fetched_by.workspace_id}
    if role == Role.CLIENT:
        values["contact_client_id"] = fetched_by.client_id
    has_status = status in EngagementStatus.values
    if has_status:
        values["status"] = status
    if client_id is not None:
        values["client_id"] = client_id
    return _table_queries(role, has_status, client_id is not None, PAGE_SIZE), values


class _TableRows:
    """`engagement_table`'s rows as `Paginator` counts and slices them: the count and the first
    page through the prepared queries, other pages through the queryset's values; the
    queryset is only built for those."""

    def __init__(self, fetched_by: Membership, status: str, client_id: int | None) -> None:
        self._arguments = (fetched_by, status, client_id)
        self._prepared = _table_values(fetched_by, status, client_id)

    def _queryset(self) -> QuerySet[Engagement]:
        fetched_by, status, client_id = self._arguments
        return engagement_table(fetched_by=fetched_by, status=status, client_id=client_id)

    def count(self) -> int:
        if self._prepared is None:
            return self._queryset().count()
        (count, _first), values = self._prepared
        return sum(n for (n,) in count.rows(**values))

    def __getitem__(self, rows: slice) -> list[TableRow]:
        if rows.stop == 0:  # no row at all: the empty first page
            return []
        if self._prepared is not None and rows.start == 0:  # the first page
            (_count, first), values = self._prepared
            found = first.rows(router.db_for_read(Engagement), **values)
            return [TableRow.of(row) for row in found[: rows.stop]]
        return [TableRow.of(row) for row in self._queryset()[rows].values_list(*ROW_NAMES)]


def engagement_table_page(
    *, fetched_by: Membership, number: Any, status: str = "", client_id: int | None = None
) -> Page[TableRow]:
    """Page `number` (as `Paginator.get_page` reads it) of `engagement_table`, as table rows.

    The count and the first page (the one nearly every view asks for) are read through
    queries compiled once per process; the same rows, the same order.
    """
    rows: Any = _TableRows(fetched_by, status, client_id)  # a sequence as Paginator reads one
    paginator: Paginator[TableRow] = Paginator(rows, PAGE_SIZE)
    return paginator.get_page(number)


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
    the contacts of its client, once they may see it (not while it is a draft, as
    `access.scope_engagements` rules). `side` ("provider" or "client") keeps one side."""
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
    if engagement.status == EngagementStatus.DRAFT:
        client = Q(pk__in=[])
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
