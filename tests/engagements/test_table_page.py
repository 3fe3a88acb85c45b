"""The engagement list's and a client page's table, read through prepared queries, gives the
rows, the order and the count `engagement_table` gives, for every persona and filter."""

from __future__ import annotations

from typing import Any

import pytest

from confiance.engagements import selectors
from confiance.engagements.models import Engagement
from confiance.engagements.services import engagement_create
from tests.conftest import PERSONAS, World


def _seen(engagement: Engagement) -> selectors.TableRow:
    """The row a table shows of an engagement, read from the engagement itself."""
    lead = engagement.lead
    return selectors.TableRow(
        pk=engagement.pk,
        workspace_id=engagement.workspace_id,
        client_id=engagement.client.pk,
        lead_id=None if lead is None else lead.pk,
        title=engagement.title,
        reference=engagement.reference,
        status=engagement.status,
        contact_origin=engagement.contact_origin,
        start_date=engagement.start_date,
        end_date=engagement.end_date,
        client_name=engagement.client.name,
        lead_name=None if lead is None else lead.get_full_name(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("size", [50, 1])
def test_every_page_is_the_querysets(
    world: World, persona: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "PAGE_SIZE", size)
    for n in range(3):  # a few more, some without a lead or dates
        engagement_create(
            membership=world.owner,
            client=world.client_a,
            title=f"Extra {n}",
            contact_origin="tender",
            status="active" if n == 0 else "draft",
            lead=world.member.user if n % 2 else None,
        )
    viewer = getattr(world, persona)
    for status in ("", "active", "draft", "no such status"):
        for client_id in (None, world.client_a.pk, world.client_b.pk):
            queryset = selectors.engagement_table(
                fetched_by=viewer, status=status, client_id=client_id
            )
            expected = list(queryset)
            for number in (1, 2, "last", "nonsense"):
                page = selectors.engagement_table_page(
                    fetched_by=viewer, number=number, status=status, client_id=client_id
                )
                assert page.paginator.count == len(expected)
                start = (page.number - 1) * size
                assert list(page.object_list) == [_seen(e) for e in expected[start : start + size]]


def test_the_first_page_costs_two_queries(world: World, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(2):  # the count and the rows, each compiled once
        page = selectors.engagement_table_page(fetched_by=world.member, number=None)
        rows = [(e.title, e.client_name, e.lead_name) for e in page.object_list]
    assert rows


def test_a_page_of_a_large_workspace_is_read_from_the_index_of_the_lists_order(
    world: World,
) -> None:
    """The list's order (newest start first) has its index: a page of 50 reads about 50
    engagements, not every engagement of the workspace sorted (PostgreSQL's plan)."""
    import json
    from datetime import date, timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("the plan read here is PostgreSQL's")
    Engagement.objects.bulk_create(
        Engagement(
            workspace=world.workspace,
            client=world.client_a,
            title=f"Many {n}",
            status="active",
            contact_origin="tender",
            start_date=date(2020, 1, 1) + timedelta(days=n % 2000),
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Engagement._meta.db_table}")
    with CaptureQueriesContext(connection) as queries:
        page = selectors.engagement_table_page(fetched_by=world.owner, number=None)
    assert len(page.object_list) == selectors.PAGE_SIZE
    [rows_query] = [q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + rows_query)
        (explained,) = cursor.fetchone()
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]

    def engagements_read(node: dict[str, Any]) -> int:
        own = 0
        if node.get("Relation Name") == Engagement._meta.db_table:
            own = int(node["Actual Rows"]) * int(node.get("Actual Loops", 1))
            own += int(node.get("Rows Removed by Filter", 0))
        return own + sum(engagements_read(child) for child in node.get("Plans", []))

    assert engagements_read(plan) <= 2 * selectors.PAGE_SIZE
