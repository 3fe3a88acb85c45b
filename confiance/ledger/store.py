"""A NodeStore on the database: one engagement's complete-subtree hashes in LedgerNode rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from django.db import connection

from confiance.ledger.models import LedgerHead, LedgerNode
from confiance.ledger.tree import MissingNodeError, NodeKey


@lru_cache(maxsize=256)
def _select(vendor: str, count: int) -> str:
    """SELECT level, index, hash of `count` nodes, each found on the unique index.

    Parameters: on PostgreSQL each node's (level, index), then the workspace and the
    engagement; elsewhere (workspace, engagement, level, index) for each node.
    """
    quote = connection.ops.quote_name
    workspace, engagement, level, index, digest = (
        quote(name) for name in ("workspace_id", "engagement_id", "level", "index", "hash")
    )
    # Only the model's own quoted names are interpolated; every value is a parameter.
    table = quote(LedgerNode._meta.db_table)
    if vendor == "postgresql":
        # PostgreSQL takes the (workspace, engagement) common to every term of an OR out of it,
        # and may then read all the engagement's nodes and filter them: it did, 150 ms for a
        # proof at 230,000 entries, while its statistics still counted the log as small (an
        # import, before autovacuum's ANALYZE). One lookup of the whole unique key per node
        # (LATERAL, kept a nested loop by its LIMIT) does not depend on the statistics.
        keys = ", ".join(["(%s, %s)"] * count)
        return (
            f"SELECT wanted.{level}, wanted.{index}, node.{digest} "  # noqa: S608
            f"FROM (VALUES {keys}) AS wanted ({level}, {index}) CROSS JOIN LATERAL "
            f"(SELECT {digest} FROM {table} WHERE {workspace} = %s AND {engagement} = %s "
            f"AND {level} = wanted.{level} AND {index} = wanted.{index} LIMIT 1) AS node"
        )
    # SQLite reads each term of the OR on the unique index (outside the OR, it would scan
    # the engagement's nodes).
    term = f"({workspace} = %s AND {engagement} = %s AND {level} = %s AND {index} = %s)"
    return f"SELECT {level}, {index}, {digest} FROM {table} WHERE " + " OR ".join(  # noqa: S608
        [term] * count
    )


class DatabaseNodeStore:
    """NodeStore for `tree.MerkleLog`; a proof's nodes come back in one query."""

    def __init__(self, head: LedgerHead) -> None:
        self.head = head
        self.workspace_id = head.workspace_id
        self.engagement_id = head.engagement_id

    def get(self, level: int, index: int) -> bytes:
        found = self.get_many([(level, index)])
        if (level, index) not in found:
            raise MissingNodeError(f"node ({level}, {index}) of engagement {self.engagement_id}")
        return found[(level, index)]

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        if not keys:
            return {}
        # Written as SQL: the ORM spends ~10x the query's own time compiling the lookups.
        params: list[int] = []  # Int8 is an int
        vendor = connection.vendor
        if vendor == "postgresql":
            from psycopg.types.numeric import Int8

            for level, index in keys:
                params += (level, index)
            params += (self.workspace_id, self.engagement_id)
            # psycopg sends a bare int as int2, int4 or int8 by its size, and keeps a prepared
            # statement per text and types: as bigints, every proof of a path this long shares
            # one statement instead of one per mix of small and large indices.
            params = [Int8(param) for param in params]
        else:
            for level, index in keys:
                params += (self.workspace_id, self.engagement_id, level, index)
        with connection.cursor() as cursor:
            cursor.execute(_select(vendor, len(keys)), params)
            rows = cursor.fetchall()
        return {(level, index): bytes(digest) for level, index, digest in rows}

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        nodes = [
            LedgerNode(
                workspace_id=self.workspace_id,
                engagement_id=self.engagement_id,
                level=lv,
                index=ix,
                hash=digest,
            )
            for lv, ix, digest in items
        ]
        if not nodes:
            return
        # Nodes above a crashed append's size may exist already: overwrite them.
        LedgerNode.objects.bulk_create(
            nodes,
            update_conflicts=True,
            unique_fields=["workspace", "engagement", "level", "index"],
            update_fields=["hash"],
            batch_size=500,
        )

    def size(self) -> int:
        return int(self.head.size)

    def set_size(self, n: int) -> None:
        self.head.size = n
        LedgerHead.objects.filter(pk=self.head.pk).update(size=n)
