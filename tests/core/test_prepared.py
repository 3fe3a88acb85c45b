"""A prepared query gives the rows its queryset gives, on each database's own parameter types."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from confiance.consumption.models import TimeEntry
from confiance.core.queries import Prepared, PreparedIn
from confiance.ledger.models import LedgerEntry
from tests.conftest import World
from tests.ledger.test_verify_cli import log_entries


def entries_query() -> Prepared:
    return Prepared(
        lambda engagement_id, start, stop, since, kind: (
            LedgerEntry.objects.filter(
                engagement_id=engagement_id,
                index__gte=start,  # a bigint column: psycopg wraps its values
                index__lt=stop,
                created_at__gte=since,  # SQLite adapts a datetime to a string
                kind=kind,
            )
            .order_by("index")
            .values_list("index", "kind", "created_at")
        ),
        engagement_id=int,
        start=int,
        stop=int,
        since=datetime,
        kind=str,
    )


def test_prepared_rows_are_the_querysets_rows_for_every_value(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    log_entries(world, 5, django_capture_on_commit_callbacks)
    query = entries_query()
    kind = LedgerEntry.objects.filter(engagement=world.engagement).values_list("kind", flat=True)[0]
    since = timezone.now() - timedelta(hours=1)
    for start, stop in [(0, 100), (1, 3), (2, 2), (4, 2**40)]:
        expected = list(
            LedgerEntry.objects.filter(
                engagement_id=world.engagement.pk,
                index__gte=start,
                index__lt=stop,
                created_at__gte=since,
                kind=kind,
            )
            .order_by("index")
            .values_list("index", "kind", "created_at")
        )
        rows = query.rows(
            engagement_id=world.engagement.pk, start=start, stop=stop, since=since, kind=kind
        )
        assert rows == expected
    assert (
        query.rows(
            engagement_id=world.engagement.pk, start=0, stop=100, since=timezone.now(), kind=kind
        )
        == []
    )


def test_a_value_that_never_reaches_the_sql_is_refused(db: None) -> None:
    unused = Prepared(
        lambda engagement_id, start: LedgerEntry.objects.filter(
            engagement_id=engagement_id
        ).values_list("index"),
        engagement_id=int,
        start=int,
    )
    with pytest.raises(ValueError, match="start"):
        unused.rows(engagement_id=1, start=0)


def test_a_list_is_compiled_once_per_length_and_gives_the_querysets_rows(
    world: World, django_capture_on_commit_callbacks: Any, django_assert_num_queries: Any
) -> None:
    log_entries(world, 5, django_capture_on_commit_callbacks)
    by_index = PreparedIn(
        lambda indexes, engagement_id: (
            LedgerEntry.objects.filter(engagement_id=engagement_id, index__in=indexes)
            .order_by("index")
            .values_list("index", "kind")
        ),
        "indexes",
        engagement_id=int,
    )
    by_kind = PreparedIn(
        lambda kinds: (
            LedgerEntry.objects.filter(kind__in=kinds).order_by("index").values_list("index")
        ),
        "kinds",
        item=str,
    )
    kinds = sorted(set(LedgerEntry.objects.values_list("kind", flat=True)))
    for indexes in ([0], [1, 3], [4, 2, 0], [3, 3, 9], list(range(50))):
        expected = list(
            LedgerEntry.objects.filter(engagement_id=world.engagement.pk, index__in=indexes)
            .order_by("index")
            .values_list("index", "kind")
        )
        assert by_index.rows(indexes=indexes, engagement_id=world.engagement.pk) == expected
    for chosen in (kinds, kinds[:1], [*kinds, "nothing.like.this"]):
        expected = list(
            LedgerEntry.objects.filter(kind__in=chosen).order_by("index").values_list("index")
        )
        assert by_kind.rows(kinds=chosen) == expected
    with django_assert_num_queries(0):  # an empty list finds nothing, as Django's `IN ()`
        assert by_index.rows(indexes=[], engagement_id=world.engagement.pk) == []


def test_on_postgresql_a_list_is_one_array_whatever_its_length(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """One statement for every length on PostgreSQL (the list bound as one array), each use of
    the list in a union's parts too; one per length elsewhere. The rows are the queryset's."""
    from django.db import connection

    log_entries(world, 6, django_capture_on_commit_callbacks)
    engagement_id = world.engagement.pk
    both_ends = PreparedIn(
        lambda indexes, engagement_id: [
            LedgerEntry.objects.filter(engagement_id=engagement_id, index__in=indexes)
            .order_by("index")
            .values_list("index", "kind")[:2],
            LedgerEntry.objects.filter(engagement_id=engagement_id, index__in=indexes)
            .order_by("-index")
            .values_list("index", "kind")[:1],
        ],
        "indexes",
        engagement_id=int,
    )
    lists = (
        [5],
        [1, 3],
        [4, 2, 0, 4],
        [3, None, 1],
        list(range(60)),
        list(range(1000, 3000)),
        [2**40, 2, 2**62],  # past 32 bits: the array is of bigints whatever its items
    )
    expected = []
    for indexes in lists:
        chosen = LedgerEntry.objects.filter(engagement_id=engagement_id, index__in=indexes)
        expected.append(
            list(chosen.order_by("index").values_list("index", "kind")[:2])
            + list(chosen.order_by("-index").values_list("index", "kind")[:1])
        )
    statements: set[str] = set()

    def kept(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.add(sql)  # the statement as sent, its values apart
        return execute(sql, params, many, context)

    with connection.execute_wrapper(kept):
        found = [both_ends.rows(indexes=indexes, engagement_id=engagement_id) for indexes in lists]
    assert found == expected
    if connection.vendor == "postgresql":
        (statement,) = statements
        assert statement.count("= ANY(") == 2 and " IN (" not in statement
    else:  # one per length, a None left out as Django's `IN` leaves it out
        lengths = {len([i for i in chosen if i is not None]) for chosen in lists}
        assert len(statements) == len(lengths)


def test_a_date_is_bound_as_the_backend_adapts_it(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    log_entries(world, 3, django_capture_on_commit_callbacks)  # dated yesterday
    query = Prepared(
        lambda engagement_id, until: (
            TimeEntry.objects.filter(engagement_id=engagement_id, date__lte=until)
            .order_by("id")
            .values_list("id", "date")
        ),
        engagement_id=int,
        until=date,
    )
    today = timezone.localdate()
    for until in (today, today - timedelta(days=1), today - timedelta(days=2)):
        expected = list(
            TimeEntry.objects.filter(engagement_id=world.engagement.pk, date__lte=until)
            .order_by("id")
            .values_list("id", "date")
        )
        assert query.rows(engagement_id=world.engagement.pk, until=until) == expected
    assert len(query.rows(engagement_id=world.engagement.pk, until=today)) == 3


def test_a_constant_computed_from_a_stand_in_is_refused(db: None) -> None:
    # A week before the stand-in would be compiled as a constant, the same at every run.
    derived = Prepared(
        lambda since: LedgerEntry.objects.filter(
            created_at__gte=since - timedelta(days=7)
        ).values_list("index"),
        since=datetime,
    )
    with pytest.raises(ValueError, match="computed from a stand-in"):
        derived.rows(since=timezone.now())


def test_a_value_allowed_to_be_left_out_may_not_reach_the_sql(db: None) -> None:
    query = Prepared(
        lambda engagement_id, start: LedgerEntry.objects.filter(
            engagement_id=engagement_id
        ).values_list("index"),
        engagement_id=int,
        start=int,
    ).may_leave_out("start")
    assert query.rows(engagement_id=1, start=0) == []


def test_a_union_of_parts_gives_each_parts_rows_with_its_own_order_and_slice(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    log_entries(world, 6, django_capture_on_commit_callbacks)

    def parts(engagement_id: int, since: datetime) -> list[Any]:
        entries = LedgerEntry.objects.filter(engagement_id=engagement_id, created_at__gte=since)
        return [
            entries.order_by("-index").values_list("index", "created_at")[:2],
            entries.order_by("index").values_list("index", "created_at")[:3],
        ]

    query = Prepared(parts, engagement_id=int, since=datetime)
    since = timezone.now() - timedelta(hours=1)
    expected = [row for part in parts(world.engagement.pk, since) for row in part]
    rows = query.rows(engagement_id=world.engagement.pk, since=since)
    assert sorted(rows) == sorted(expected)
    assert [index for index, _at in expected] == [5, 4, 0, 1, 2]
    assert all(isinstance(at, datetime) for _index, at in rows)  # converted as the ORM does
    assert query.rows(engagement_id=world.engagement_b.pk, since=since) == []
