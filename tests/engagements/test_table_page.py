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
