"""The stored subtree hashes a proof reads: exactly the nodes asked for, each read on the unique
key, whatever the database's statistics say about the log's size."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confiance.ledger.models import LedgerHead, LedgerNode
from confiance.ledger.store import DatabaseNodeStore, _select

pytestmark = pytest.mark.django_db


def _nodes(engagement: Any, count: int, level: int = 0) -> None:
    LedgerNode.objects.bulk_create(
        [
            LedgerNode(
                workspace_id=engagement.workspace_id,
                engagement=engagement,
                level=level,
                index=index,
                hash=(engagement.pk * 1_000_003 + index).to_bytes(32, "big"),
            )
            for index in range(count)
        ],
        batch_size=5000,
    )


def _store(engagement: Any) -> DatabaseNodeStore:
    head = LedgerHead(workspace_id=engagement.workspace_id, engagement=engagement, size=0)
    return DatabaseNodeStore(head)


def test_the_nodes_asked_for_and_no_other_engagements(world):  # type: ignore[no-untyped-def]
    _nodes(world.engagement, 40)
    _nodes(world.engagement, 10, level=3)
    _nodes(world.engagement_b, 40)
    store = _store(world.engagement)
    keys = [(0, 0), (0, 39), (3, 9), (3, 10), (0, 40), (7, 0)]
    found = store.get_many(keys)
    assert sorted(found) == [(0, 0), (0, 39), (3, 9)]  # the last three are not stored
    assert found[(0, 39)] == (world.engagement.pk * 1_000_003 + 39).to_bytes(32, "big")
    other = _store(world.engagement_b).get_many([(0, 39), (3, 9)])
    assert other == {(0, 39): (world.engagement_b.pk * 1_000_003 + 39).to_bytes(32, "big")}


def _removed_or_read(plan: dict[str, Any]) -> tuple[int, int]:
    """Rows the plan threw away after reading them, and rows its scans of the nodes read."""
    removed = int(plan.get("Rows Removed by Filter", 0)) + int(
        plan.get("Rows Removed by Index Recheck", 0)
    )
    read = 0
    if plan.get("Relation Name") == LedgerNode._meta.db_table:
        read = int(plan["Actual Rows"]) * int(plan.get("Actual Loops", 1))
    for child in plan.get("Plans", []):
        child_removed, child_read = _removed_or_read(child)
        removed += child_removed
        read += child_read
    return removed, read


def test_a_proof_reads_only_its_nodes_when_the_statistics_are_stale(world):  # type: ignore[no-untyped-def]
    """PostgreSQL took the (workspace, engagement) common to an OR of whole keys out of it and,
    with statistics taken while the log was small, read all 460,000 nodes of the engagement
    for a proof's 25 (150 ms at 230,000 entries)."""
    if connection.vendor != "postgresql":
        pytest.skip("the planner's statistics are PostgreSQL's")
    _nodes(world.engagement, 20)
    _nodes(world.engagement_b, 3000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {LedgerNode._meta.db_table}")
    _nodes(world.engagement, 40_000, level=1)  # an import, before autovacuum's next ANALYZE
    keys = [(1, index) for index in range(0, 40_000, 1_700)] + [(0, 3), (0, 19)]
    store = _store(world.engagement)
    with CaptureQueriesContext(connection) as queries:
        found = store.get_many(keys)
    assert len(found) == len(keys)
    [query] = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
        (explained,) = cursor.fetchone()
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    removed, read = _removed_or_read(plan)
    assert (removed, read) == (0, len(keys))
    # Prepared on the server, the statement may be planned once for any values (a generic
    # plan, after five runs): that plan must read only the nodes it returns too.
    text = _select("postgresql", len(keys))
    values = [v for key in keys for v in key] + [world.workspace.pk, world.engagement.pk]
    for number in range(1, len(values) + 1):
        text = text.replace("%s", f"${number}", 1)
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE proof_nodes ({', '.join(['bigint'] * len(values))}) AS {text}")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        arguments = ", ".join(str(int(v)) for v in values)
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE proof_nodes ({arguments})")
        (explained,) = cursor.fetchone()
        cursor.execute("DEALLOCATE proof_nodes")
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    assert _removed_or_read(plan) == (0, len(keys))


def test_proofs_of_small_and_large_indices_share_one_prepared_statement(world):  # type: ignore[no-untyped-def]
    """psycopg sends a bare int as int2, int4 or int8 by its size and prepares a statement per
    text and types: every proof of a path this long is one statement, whatever its indices."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    store = _store(world.engagement)
    for keys in ([(0, 5), (1, 7)], [(0, 40_000), (1, 3_000_000_000)]) * 3:
        assert store.get_many(keys) == {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parameter_types FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%FROM (VALUES ($1, $2), ($3, $4)) AS wanted%"],
        )
        prepared = cursor.fetchall()
    assert len(prepared) == 1, prepared
