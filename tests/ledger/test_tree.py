"""The store-backed log answers the same proofs as merkle.py, from O(log n) stored nodes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confiance.ledger import merkle
from confiance.ledger.tree import (
    MemoryNodeStore,
    MerkleLog,
    MissingNodeError,
    NodeKey,
    NodeStore,
    SQLiteNodeStore,
    _select_nodes_sql,
)


def data(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


class CountingStore:
    """Wraps a store and records every read, to pin the number of round trips."""

    def __init__(self, inner: NodeStore) -> None:
        self.inner = inner
        self.get_calls = 0
        self.get_many_calls: list[list[NodeKey]] = []
        self.written = 0

    def get(self, level: int, index: int) -> bytes:
        self.get_calls += 1
        return self.inner.get(level, index)

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.get_many_calls.append(list(keys))
        return self.inner.get_many(keys)

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        rows = list(items)
        self.written += len(rows)
        self.inner.put_many(rows)

    def size(self) -> int:
        return self.inner.size()

    def set_size(self, n: int) -> None:
        self.inner.set_size(n)

    def reset(self) -> None:
        self.get_calls = 0
        self.get_many_calls = []


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NodeStore]:
    if request.param == "memory":
        yield MemoryNodeStore()
    else:
        sqlite_store = SQLiteNodeStore(tmp_path / "ledger.sqlite3")
        yield sqlite_store
        sqlite_store.close()


def test_empty_log_has_the_empty_root(store: NodeStore) -> None:
    log = MerkleLog(store)
    assert log.size() == 0
    assert log.root() == merkle.EMPTY_ROOT
    assert log.consistency_proof(0, 0) == []


def test_append_returns_consecutive_indexes(store: NodeStore) -> None:
    log = MerkleLog(store)
    assert [log.append(leaf) for leaf in data(3)] == [0, 1, 2]
    assert log.append_many(data(5)) == range(3, 8)
    assert log.size() == 8


def test_every_root_and_proof_matches_merkle_py(store: NodeStore) -> None:
    leaves = data(70)
    log = MerkleLog(store)
    # Mix single appends and batches of awkward sizes to cover every frontier shape.
    log.append(leaves[0])
    log.append_many(leaves[1:6], batch_size=2)
    log.append_many(leaves[6:70], batch_size=7)
    for size in range(71):
        assert log.root(size) == merkle.root_hash(leaves[:size])
        for index in range(size):
            assert log.inclusion_proof(index, size) == merkle.inclusion_proof(leaves[:size], index)
        for old_size in range(size + 1):
            assert log.consistency_proof(old_size, size) == merkle.consistency_proof(
                leaves[:size], old_size
            )


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6),
    batch_size=st.integers(min_value=1, max_value=9),
    data_=st.data(),
)
def test_random_batches_give_the_same_proofs_as_merkle_py(
    batches: list[int], batch_size: int, data_: st.DataObject
) -> None:
    log = MerkleLog(MemoryNodeStore())
    leaves: list[bytes] = []
    for count in batches:
        new = [f"{len(leaves) + i}:{count}".encode() for i in range(count)]
        log.append_many(new, batch_size=batch_size)
        leaves.extend(new)
    size = data_.draw(st.integers(min_value=0, max_value=len(leaves)))
    assert log.root(size) == merkle.root_hash(leaves[:size])
    old_size = data_.draw(st.integers(min_value=0, max_value=size))
    assert log.consistency_proof(old_size, size) == merkle.consistency_proof(
        leaves[:size], old_size
    )
    if size:
        index = data_.draw(st.integers(min_value=0, max_value=size - 1))
        proof = log.inclusion_proof(index, size)
        assert proof == merkle.inclusion_proof(leaves[:size], index)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, log.root(size))


def test_proofs_read_one_batch_of_logarithmically_many_nodes() -> None:
    counting = CountingStore(MemoryNodeStore())
    log = MerkleLog(counting)
    log.append_many(f"{i}".encode() for i in range(5000))
    for size in (1, 2, 3, 1000, 1023, 1024, 1025, 4097, 5000):
        bound = 2 * size.bit_length() + 1
        counting.reset()
        log.root(size)
        assert counting.get_calls == 0
        assert len(counting.get_many_calls) == 1
        assert len(counting.get_many_calls[0]) <= bound
        for index in (0, size // 3, size - 1):
            counting.reset()
            log.inclusion_proof(index, size)
            assert counting.get_calls == 0
            assert len(counting.get_many_calls) <= 1
            assert sum(map(len, counting.get_many_calls)) <= bound
        for old_size in (1, size // 2, size - 1):
            counting.reset()
            log.consistency_proof(old_size, size)
            assert counting.get_calls == 0
            assert len(counting.get_many_calls) <= 1
            assert sum(map(len, counting.get_many_calls)) <= bound


def test_an_append_batch_reads_the_frontier_once() -> None:
    counting = CountingStore(MemoryNodeStore())
    log = MerkleLog(counting)
    log.append_many(data(1000))
    counting.reset()
    log.append_many(data(3000), batch_size=500)
    assert counting.get_calls == 0
    assert len(counting.get_many_calls) == 1
    assert len(counting.get_many_calls[0]) == bin(1000).count("1")


def test_appends_write_about_two_nodes_per_leaf() -> None:
    counting = CountingStore(MemoryNodeStore())
    log = MerkleLog(counting)
    for leaf in data(100):
        log.append(leaf)
    log.append_many(data(924), batch_size=100)
    # A complete binary tree over n leaves has fewer than 2n nodes.
    assert counting.written < 2 * 1024


# Node sets from transparency-dev/merkle proof_test.go (levels and indexes of the nodes a
# proof needs, "rehash" nodes included); our key plan must read exactly these nodes.
INCLUSION_NODES = [
    (1, 0, []),
    (2, 0, [(0, 1)]),
    (3, 1, [(0, 0), (0, 2)]),
    (7, 0, [(0, 1), (1, 1), (0, 6), (1, 2)]),
    (7, 3, [(0, 2), (1, 0), (0, 6), (1, 2)]),
    (7, 4, [(0, 5), (0, 6), (2, 0)]),
    (7, 6, [(1, 2), (2, 0)]),
    (5, 3, [(0, 2), (1, 0), (0, 4)]),
    (15, 10, [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)]),
    (31, 24, [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)]),
    (95, 81, [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
]
CONSISTENCY_NODES = [
    (1, 2, [(0, 1)]),
    (1, 6, [(0, 1), (1, 1), (1, 2)]),
    (2, 8, [(1, 1), (2, 1)]),
    (3, 7, [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)]),
    (4, 7, [(0, 6), (1, 2)]),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)]),
    (6, 7, [(1, 2), (0, 6), (2, 0)]),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)]),
    (10, 15, [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)]),
    (24, 31, [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)]),
    (81, 95, [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)]),
]


@pytest.mark.parametrize(("size", "index", "nodes"), INCLUSION_NODES)
def test_inclusion_reads_the_reference_node_set(
    size: int, index: int, nodes: list[NodeKey]
) -> None:
    counting = CountingStore(MemoryNodeStore())
    log = MerkleLog(counting)
    log.append_many(data(100))
    counting.reset()
    log.inclusion_proof(index, size)
    assert {key for call in counting.get_many_calls for key in call} == set(nodes)


@pytest.mark.parametrize(("old_size", "new_size", "nodes"), CONSISTENCY_NODES)
def test_consistency_reads_the_reference_node_set(
    old_size: int, new_size: int, nodes: list[NodeKey]
) -> None:
    counting = CountingStore(MemoryNodeStore())
    log = MerkleLog(counting)
    log.append_many(data(100))
    counting.reset()
    log.consistency_proof(old_size, new_size)
    assert {key for call in counting.get_many_calls for key in call} == set(nodes)


def test_out_of_range_requests_raise(store: NodeStore) -> None:
    log = MerkleLog(store)
    log.append_many(data(4))
    with pytest.raises(ValueError, match="outside"):
        log.root(5)
    with pytest.raises(ValueError, match="outside"):
        log.inclusion_proof(4, 4)
    with pytest.raises(ValueError, match="outside"):
        log.inclusion_proof(0, 0)
    with pytest.raises(ValueError, match="outside"):
        log.consistency_proof(3, 2)
    with pytest.raises(ValueError, match="outside"):
        log.consistency_proof(1, 5)


def test_a_non_bytes_leaf_is_refused_before_anything_is_written(store: NodeStore) -> None:
    log = MerkleLog(store)
    log.append(b"first")
    with pytest.raises(TypeError, match="not bytes"):
        log.append_many([b"ok", "not bytes"])  # type: ignore[list-item]
    assert log.size() == 1
    assert log.root() == merkle.root_hash([b"first"])


def test_a_store_that_lost_a_node_fails_loudly() -> None:
    store = MemoryNodeStore()
    log = MerkleLog(store)
    log.append_many(data(8))
    del store._nodes[(2, 1)]
    with pytest.raises(MissingNodeError):
        log.inclusion_proof(0)
    with pytest.raises(MissingNodeError):
        store.get(2, 1)
    del store._nodes[(3, 0)]
    with pytest.raises(MissingNodeError):
        log.root()


def test_nodes_left_above_the_size_by_a_crash_are_overwritten(store: NodeStore) -> None:
    log = MerkleLog(store)
    log.append_many(data(5))
    # A crash between put_many and set_size leaves nodes the size does not cover.
    store.put_many([(0, 5, b"\xff" * 32), (1, 2, b"\xee" * 32), (3, 0, b"\xdd" * 32)])
    log.append_many([b"six", b"seven", b"eight"])
    leaves = [*data(5), b"six", b"seven", b"eight"]
    assert log.root() == merkle.root_hash(leaves)
    assert log.inclusion_proof(5) == merkle.inclusion_proof(leaves, 5)


def test_sqlite_store_persists_across_connections_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with SQLiteNodeStore(path) as first:
        MerkleLog(first).append_many(data(37), batch_size=10)
        root = MerkleLog(first).root()
    with SQLiteNodeStore(path) as second:
        log = MerkleLog(second)
        assert log.size() == 37
        assert log.root() == root == merkle.root_hash(data(37))
        log.append(b"more")
        assert log.root() == merkle.root_hash([*data(37), b"more"])
        assert second.get(0, 37) == merkle.leaf_hash(b"more")
        with pytest.raises(MissingNodeError):
            second.get(0, 38)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_sqlite_get_many_handles_more_keys_than_one_query_takes(tmp_path: Path) -> None:
    with SQLiteNodeStore(tmp_path / "ledger.sqlite3") as store:
        MerkleLog(store).append_many(data(600))
        keys = [(0, i) for i in range(600)] + [(9, 0), (0, 10_000)]
        found = store.get_many(keys)
        assert len(found) == 601
        assert found[(0, 599)] == merkle.leaf_hash(data(600)[599])


def test_sqlite_get_many_looks_keys_up_by_primary_key(tmp_path: Path) -> None:
    # A full scan per proof would make proofs O(n); pin the query plan.
    with SQLiteNodeStore(tmp_path / "ledger.sqlite3"):
        pass
    connection = sqlite3.connect(tmp_path / "ledger.sqlite3")
    try:
        plan = connection.execute(
            "EXPLAIN QUERY PLAN " + _select_nodes_sql(3), [1, 2, 3, 4, 5, 6]
        ).fetchall()
    finally:
        connection.close()
    details = [row[-1] for row in plan]
    assert any("SEARCH node USING PRIMARY KEY" in detail for detail in details)
    assert not any(detail.startswith("SCAN node") for detail in details)


def test_sqlite_batch_not_committed_by_set_size_is_rolled_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with SQLiteNodeStore(path) as store:
        MerkleLog(store).append_many(data(3))
        store.put_many([(0, 3, b"\xff" * 32)])
        assert store.get(0, 3) == b"\xff" * 32
    with SQLiteNodeStore(path) as store:
        assert store.size() == 3
        assert store.get_many([(0, 3)]) == {}
        assert MerkleLog(store).root() == merkle.root_hash(data(3))
