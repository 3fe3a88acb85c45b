"""Reads of engagements; each starts from the policy-scoped queryset."""

from __future__ import annotations

import functools
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import router
from django.db.models import Count, Q, QuerySet

from confiance.core.models import INTERNAL_ROLES, Client, Membership, Role, User
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


def _in_model_order(model: type[Any], wanted: set[str]) -> tuple[str, ...]:
    """`wanted` attnames in the order of the model's columns, as `Model.from_db` reads them."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


# The columns `engagement_table` loads (TABLE_FIELDS and the primary keys), model by model.
_ROW_MODELS: tuple[tuple[type[Any], str, tuple[str, ...]], ...] = (
    (
        Engagement,
        "",
        _in_model_order(Engagement, {"id", *(f for f in TABLE_FIELDS if "__" not in f)}),
    ),
    (Client, "client__", _in_model_order(Client, {"id", "name"})),
    (User, "lead__", _in_model_order(User, {"id", "full_name", "email"})),
)


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
    names = [prefix + name for _model, prefix, fields in _ROW_MODELS for name in fields]
    first = Prepared(lambda **values: table(**values)[:size].values_list(*names), **kinds)
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


def _engagement_row(row: tuple[Any, ...], using: str) -> Engagement:
    """An engagement with its client and lead (None without one), as `engagement_table`
    builds them: only its columns loaded, the others deferred."""
    built: list[Any] = []
    at = 0
    for model, _prefix, fields in _ROW_MODELS:
        values = row[at : at + len(fields)]
        at += len(fields)
        missing = values[fields.index(model._meta.pk.attname)] is None  # no lead (LEFT JOIN)
        built.append(None if missing else model.from_db(using, list(fields), values))
    engagement, client, lead = built
    engagement.client = client
    engagement.lead = lead
    return engagement  # type: ignore[no-any-return]


def engagement_table_page(
    *, fetched_by: Membership, number: Any, status: str = "", client_id: int | None = None
) -> Page[Engagement]:
    """Page `number` (as `Paginator.get_page` reads it) of `engagement_table`, its rows loaded.

    The count and the first page (the one nearly every view asks for) are read through
    queries compiled once per process; the same rows, the same order.
    """
    paginator = Paginator(
        engagement_table(fetched_by=fetched_by, status=status, client_id=client_id), PAGE_SIZE
    )
    prepared = _table_values(fetched_by, status, client_id)
    if prepared is not None:
        (count, first), values = prepared
        paginator.count = sum(n for (n,) in count.rows(**values))
    page = paginator.get_page(number)
    if prepared is not None and page.number == 1:
        using = router.db_for_read(Engagement)
        page.object_list = [_engagement_row(row, using) for row in first.rows(using, **values)]
    else:
        page.object_list = list(page.object_list)
    return page


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
