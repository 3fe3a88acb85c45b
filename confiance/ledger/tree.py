"""Store-backed append-only Merkle log answering RFC 9162 proofs in O(log n) node reads.

The store keeps the hash of every complete (perfect) subtree: node (level, index) is the
hash of leaves [index * 2**level, (index + 1) * 2**level). Level 0 holds the leaf hashes;
leaf data itself lives elsewhere (the ledger entries) and is never re-read here.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import islice
from types import TracebackType
from typing import Protocol, Self

from confiance.ledger.merkle import EMPTY_ROOT, leaf_hash, node_hash

NodeKey = tuple[int, int]
Range = tuple[int, int]

DEFAULT_BATCH_SIZE = 1024


class MissingNodeError(LookupError):
    """A node the tree size says must exist is absent from the store."""


class NodeStore(Protocol):
    """Persistence for complete-subtree hashes and the committed tree size.

    `put_many` must overwrite existing keys: `MerkleLog` writes nodes before `set_size`, so
    after a crash between the two, nodes above the size are unreachable and later rewritten.
    """

    def get(self, level: int, index: int) -> bytes:
        """Return one node's hash; raise MissingNodeError if absent."""
        ...

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes of the keys present, ideally in one round trip."""
        ...

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        """Insert or overwrite (level, index, hash) rows."""
        ...

    def size(self) -> int:
        """Return the committed number of leaves."""
        ...

    def set_size(self, n: int) -> None:
        """Commit a new number of leaves."""
        ...


class MemoryNodeStore:
    """NodeStore in a dict, for tests and offline verification."""

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self._size = 0

    def get(self, level: int, index: int) -> bytes:
        """Return one node's hash; raise MissingNodeError if absent."""
        try:
            return self._nodes[(level, index)]
        except KeyError:
            raise MissingNodeError(f"node ({level}, {index}) is not stored") from None

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes of the keys present."""
        return {key: self._nodes[key] for key in keys if key in self._nodes}

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        """Insert or overwrite (level, index, hash) rows."""
        for level, index, digest in items:
            self._nodes[(level, index)] = digest

    def size(self) -> int:
        """Return the committed number of leaves."""
        return self._size

    def set_size(self, n: int) -> None:
        """Commit a new number of leaves."""
        self._size = n


def _select_nodes_sql(count: int) -> str:
    """SQL fetching `count` (level, idx) keys bound as parameters."""
    # Only "(?, ?)" placeholder groups are interpolated; values go through parameters.
    # A join (not "(level, idx) IN (VALUES ...)", which SQLite answers with a full table
    # scan) makes each key a primary-key lookup.
    placeholders = ",".join(["(?, ?)"] * count)
    return (
        f"WITH wanted (level, idx) AS (VALUES {placeholders}) "  # noqa: S608
        "SELECT node.level, node.idx, node.hash FROM wanted JOIN node "
        "ON node.level = wanted.level AND node.idx = wanted.idx"
    )


class SQLiteNodeStore:
    """NodeStore in a SQLite file (WAL mode); nodes stay on disk, never all in memory.

    `put_many` opens a transaction that the next `set_size` commits, so each batch of an
    append lands atomically with its new size; closing first rolls the batch back.
    """

    # Keeps each query well under SQLite's limit on bound parameters.
    _MAX_KEYS_PER_QUERY = 250

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # Autocommit mode, so transactions are exactly the ones opened explicitly below.
        self._conn = sqlite3.connect(path, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS node ("
            " level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
            " PRIMARY KEY (level, idx)) WITHOUT ROWID"
        )
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS tree_size ("
            " id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL)"
        )
        self._conn.execute("INSERT OR IGNORE INTO tree_size (id, size) VALUES (1, 0)")

    def close(self) -> None:
        """Roll back any batch not committed by set_size, then close the connection."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get(self, level: int, index: int) -> bytes:
        """Return one node's hash; raise MissingNodeError if absent."""
        row = self._conn.execute(
            "SELECT hash FROM node WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:
            raise MissingNodeError(f"node ({level}, {index}) is not stored")
        return bytes(row[0])

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes of the keys present, one query per 250 keys."""
        found: dict[NodeKey, bytes] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), self._MAX_KEYS_PER_QUERY):
            chunk = unique[start : start + self._MAX_KEYS_PER_QUERY]
            params = [value for key in chunk for value in key]
            rows = self._conn.execute(_select_nodes_sql(len(chunk)), params)
            for level, index, digest in rows:
                found[(level, index)] = bytes(digest)
        return found

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        """Insert or overwrite (level, index, hash) rows; the next set_size commits them."""
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO node (level, idx, hash) VALUES (?, ?, ?)", items
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def size(self) -> int:
        """Return the committed number of leaves."""
        row = self._conn.execute("SELECT size FROM tree_size WHERE id = 1").fetchone()
        return int(row[0])

    def set_size(self, n: int) -> None:
        """Commit a new number of leaves, together with the nodes put since the last commit."""
        self._conn.execute("UPDATE tree_size SET size = ? WHERE id = 1", (n,))
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n >= 2), RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect_pieces(start: int, end: int) -> list[NodeKey]:
    """Decompose an aligned range into its perfect subtrees, left to right."""
    keys: list[NodeKey] = []
    position = start
    for level in reversed(range((end - start).bit_length())):
        if (end - start) >> level & 1:
            keys.append((level, position >> level))
            position += 1 << level
    return keys


def _inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose hashes form PATH(index, D[0:size]), in proof order."""
    ranges: list[Range] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m = start + k, m - k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose hashes form PROOF(old_size, D[0:new_size]), in proof order."""
    if old_size in (0, new_size):
        return []
    ranges: list[Range] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


class MerkleLog:
    """Append-only RFC 9162 log over a NodeStore; not safe for concurrent appenders.

    Callers serialise appends (e.g. a row lock on the engagement) around `append*`.
    """

    def __init__(self, store: NodeStore) -> None:
        self.store = store

    def size(self) -> int:
        """Return the number of leaves appended so far."""
        return self.store.size()

    def append(self, leaf_data: bytes) -> int:
        """Append one leaf and return its index."""
        return self.append_many([leaf_data]).start

    def append_many(
        self, leaves: Iterable[bytes], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> range:
        """Append leaves in batches (one put_many + set_size each); return their indexes."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        first = self.store.size()
        size = first
        iterator = iter(leaves)
        frontier: list[bytes] | None = None
        while batch := list(islice(iterator, batch_size)):
            for position, leaf in enumerate(batch):
                if not isinstance(leaf, bytes):
                    raise TypeError(f"leaf {size + position} is not bytes")
            if frontier is None:
                frontier = self._frontier(size)
            nodes: list[tuple[int, int, bytes]] = []
            for leaf in batch:
                size = self._push(frontier, size, leaf_hash(leaf), nodes)
            self.store.put_many(nodes)
            self.store.set_size(size)
        return range(first, size)

    def _frontier(self, size: int) -> list[bytes]:
        """Hashes of the perfect subtrees covering [0, size), largest first."""
        keys = _perfect_pieces(0, size)
        found = self._fetch(keys)
        return [found[key] for key in keys]

    @staticmethod
    def _push(
        frontier: list[bytes], size: int, digest: bytes, out: list[tuple[int, int, bytes]]
    ) -> int:
        """Add leaf `size` to the frontier, recording each completed node; return new size."""
        out.append((0, size, digest))
        level = 0
        # Each trailing 1 bit of the index closes a perfect subtree with its left neighbour.
        while (size >> level) & 1:
            digest = node_hash(frontier.pop(), digest)
            level += 1
            out.append((level, size >> level, digest))
        frontier.append(digest)
        return size + 1

    def _fetch(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Read all keys in one get_many, failing loudly if the store lost any."""
        if not keys:
            return {}
        found = self.store.get_many(keys)
        missing = [key for key in keys if key not in found]
        if missing:
            raise MissingNodeError(f"store is missing nodes {missing[:5]}")
        return found

    def _range_hashes(self, ranges: Sequence[Range]) -> list[bytes]:
        """Hash each aligned leaf range from its perfect pieces, with a single store read."""
        pieces = [_perfect_pieces(start, end) for start, end in ranges]
        found = self._fetch([key for keys in pieces for key in keys])
        hashes: list[bytes] = []
        for keys in pieces:
            # MTH splits at the largest power of two, so perfect pieces fold from the right.
            digest = found[keys[-1]]
            for key in reversed(keys[:-1]):
                digest = node_hash(found[key], digest)
            hashes.append(digest)
        return hashes

    def _checked_size(self, size: int | None) -> int:
        current = self.store.size()
        if size is None:
            return current
        if isinstance(size, bool) or not 0 <= size <= current:
            raise ValueError(f"size {size} is outside 0..{current}")
        return size

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree at `size` (default: now), from O(log n) stored nodes."""
        size = self._checked_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hashes([(0, size)])[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 inclusion proof for leaf `index` in the tree at `size` (default: now)."""
        size = self._checked_size(size)
        if isinstance(index, bool) or not 0 <= index < size:
            raise ValueError(f"index {index} is outside a tree of size {size}")
        return self._range_hashes(_inclusion_ranges(index, size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 consistency proof from `old_size` to `new_size` (default: now)."""
        new_size = self._checked_size(new_size)
        if isinstance(old_size, bool) or not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is outside 0..{new_size}")
        return self._range_hashes(_consistency_ranges(old_size, new_size))
