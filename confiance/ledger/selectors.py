"""Reads of the ledger: proofs from stored nodes, and the export bundle streamed as JSON.

Each selector takes an engagement the caller already obtained through the access policy
(`access.get_engagement`); none of them writes. Proofs come from `tree.MerkleLog` over the
database node store: O(log n) node reads in one query, never a re-read of the leaves.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import TypeVar

from django.utils.translation import gettext as _

from confiance.engagements.models import Engagement
from confiance.ledger.bundle import BUNDLE_FORMAT
from confiance.ledger.merkle import leaf_hash
from confiance.ledger.models import Checkpoint, LedgerEntry, LedgerHead
from confiance.ledger.store import DatabaseNodeStore
from confiance.ledger.tree import MerkleLog, NodeKey

# Keeps each node query's OR-chain short enough for SQLite's expression depth limit.
_KEYS_PER_QUERY = 200
_ENTRIES_PER_CHUNK = 2000

T = TypeVar("T")


class LedgerRangeError(ValueError):
    """A size or index outside the log (a caller's mistake, answered with a 400)."""


@dataclass(frozen=True)
class EntryProof:
    """One entry with its RFC 9162 inclusion proof in the tree of `tree_size` leaves."""

    index: int
    data: str
    leaf_hash: bytes
    tree_size: int
    root: bytes
    proof: list[bytes]


def _head(engagement: Engagement) -> LedgerHead:
    # An engagement nothing was appended to yet has no head row: it is the empty log. The
    # unsaved head is only read from, so reading never creates rows.
    head = LedgerHead.objects.filter(engagement_id=engagement.pk).first()
    return head or LedgerHead(engagement=engagement, workspace_id=engagement.workspace_id)


def ledger_log(*, engagement: Engagement) -> MerkleLog:
    """The engagement's log, for reading proofs and roots (one query per proof or root)."""
    return MerkleLog(DatabaseNodeStore(_head(engagement)))


class _RecordingStore:
    """A read-only NodeStore answering any key with a dummy hash, remembering which were asked.

    Running MerkleLog's reads against it first tells which nodes the real reads need, so that
    several proofs and roots are answered from a few queries instead of one query each.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self.keys: dict[NodeKey, None] = {}

    def get(self, level: int, index: int) -> bytes:
        self.keys[(level, index)] = None
        return bytes(32)

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return {key: self.get(*key) for key in keys}

    def put_many(self, items: Iterable[tuple[int, int, bytes]]) -> None:
        raise PermissionError("read-only")

    def size(self) -> int:
        return self._size

    def set_size(self, n: int) -> None:
        raise PermissionError("read-only")


class _PrefetchedStore(_RecordingStore):
    """A read-only NodeStore over nodes already fetched."""

    def __init__(self, size: int, nodes: dict[NodeKey, bytes]) -> None:
        super().__init__(size)
        self._nodes = nodes

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return {key: self._nodes[key] for key in keys if key in self._nodes}


def _prefetched(head: LedgerHead, reads: Callable[[MerkleLog], T]) -> T:
    """Run `reads` on the log with every node it needs fetched first, in few queries."""
    recorder = _RecordingStore(head.size)
    reads(MerkleLog(recorder))
    wanted = list(recorder.keys)
    database = DatabaseNodeStore(head)
    nodes: dict[NodeKey, bytes] = {}
    for start in range(0, len(wanted), _KEYS_PER_QUERY):
        nodes.update(database.get_many(wanted[start : start + _KEYS_PER_QUERY]))
    # A node missing from the database still fails loudly (MissingNodeError) in this run.
    return reads(MerkleLog(_PrefetchedStore(head.size, nodes)))


def _check_size(value: int, limit: int) -> None:
    if not 0 <= value <= limit:
        raise LedgerRangeError(
            _("Size %(size)s is beyond the log, which has %(count)s entries.")
            % {"size": value, "count": limit}
        )


def entry_with_proof(*, engagement: Engagement, index: int, size: int | None) -> EntryProof:
    """Entry `index` and its inclusion proof in the tree of `size` leaves (default: now)."""
    head = _head(engagement)
    size = head.size if size is None else size
    _check_size(size, head.size)
    if not 0 <= index < size:
        raise LedgerRangeError(
            _("There is no entry %(index)s in a log of %(size)s entries (they start at 0).")
            % {"index": index, "size": size}
        )
    data = (
        LedgerEntry.objects.filter(engagement_id=engagement.pk, index=index)
        .values_list("data", flat=True)
        .get()
    )
    proof, root = _prefetched(head, lambda log: (log.inclusion_proof(index, size), log.root(size)))
    return EntryProof(
        index=index,
        data=data,
        leaf_hash=leaf_hash(data.encode("utf-8")),
        tree_size=size,
        # The root is only returned for convenience: a signed checkpoint is what vouches for it.
        root=root,
        proof=proof,
    )


def consistency(*, engagement: Engagement, old: int, new: int | None) -> tuple[int, list[bytes]]:
    """(new size, RFC 9162 proof that the log at `old` is a prefix of the log at `new`)."""
    log = ledger_log(engagement=engagement)
    current = log.size()
    new = current if new is None else new
    _check_size(new, current)
    if not 0 <= old <= new:
        raise LedgerRangeError(
            _("The old size (%(old)s) must not exceed the new size (%(new)s).")
            % {"old": old, "new": new}
        )
    return new, log.consistency_proof(old, new)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def bundle_chunks(*, engagement: Engagement, public_key: str, origin: str) -> Iterator[str]:
    """The export bundle (bundle.py's format) as JSON text chunks, entries streamed last.

    Entries stop at the latest checkpoint's size, so everything exported is signed even if
    facts are appended while the bundle streams. Entry rows are read as (index, data) tuples
    in chunks, never as model instances.
    """
    head = _head(engagement)
    checkpoints = list(
        Checkpoint.objects.filter(engagement_id=engagement.pk)
        .order_by("size")
        .values_list("size", "note")
    )
    sizes = [size for size, _note in checkpoints]
    steps = list(pairwise(sizes))
    proofs = _prefetched(head, lambda log: [log.consistency_proof(o, n) for o, n in steps])
    signed = sizes[-1] if sizes else 0
    header = {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "public_key": public_key,
        "checkpoints": [note for _size, note in checkpoints],
        "consistency_proofs": [
            {"old_size": old, "new_size": new, "proof": [_b64(node) for node in proof]}
            for (old, new), proof in zip(steps, proofs, strict=True)
        ],
    }
    # The header is a complete object; reopen it to append the entries list.
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "entries": ['
    rows = (
        LedgerEntry.objects.filter(engagement_id=engagement.pk, index__lt=signed)
        .order_by("index")
        .values_list("index", "data")
        .iterator(chunk_size=_ENTRIES_PER_CHUNK)
    )
    separator = "\n"
    while chunk := list(islice(rows, _ENTRIES_PER_CHUNK)):
        parts = [json.dumps({"index": i, "data": d}, ensure_ascii=False) for i, d in chunk]
        yield separator + ",\n".join(parts)
        separator = ",\n"
    yield "\n]}\n"
