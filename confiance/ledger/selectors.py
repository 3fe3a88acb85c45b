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
from itertools import islice
from typing import TypeVar

from django.db.models import Subquery
from django.utils.translation import gettext as _

from confiance.core.queries import Prepared, build, columns, one_or_none
from confiance.engagements.models import Engagement
from confiance.ledger import sealing
from confiance.ledger.bundle import BUNDLE_FORMAT, BundleEntry, bundle_entry, withheld_entry
from confiance.ledger.merkle import leaf_hash
from confiance.ledger.models import (
    Checkpoint,
    LedgerEntry,
    LedgerHead,
    LedgerOpening,
    WorkspaceKey,
)
from confiance.ledger.sealing import Opening
from confiance.ledger.store import DatabaseNodeStore
from confiance.ledger.tree import MerkleLog, NodeKey
from confiance.ledger.witnessing import note_with_cosignatures

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
    head = one_or_none(LedgerHead.objects.filter(engagement_id=engagement.pk))
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


# Compiled once per process (core.queries.Prepared): Django's compilation of these queries cost
# more than running them, on every proof a verifier asks for.
_HEAD_WITH_ENTRY = Prepared(
    lambda engagement_id, index: (
        LedgerHead.objects.filter(engagement_id=engagement_id)
        .annotate(
            entry_data=Subquery(
                LedgerEntry.objects.filter(engagement_id=engagement_id, index=index).values("data")[
                    :1
                ]
            )
        )
        .values_list(*columns(LedgerHead), "entry_data")
    ),
    engagement_id=int,
    index=int,
)


def _openings_query(count: int) -> Prepared:
    """The openings of entries [start, stop) for `count` audiences, compiled once."""
    names = [f"audience{i}" for i in range(count)]
    return Prepared(
        lambda engagement_id, start, stop, **audiences: (
            LedgerOpening.objects.filter(
                engagement_id=engagement_id,
                index__gte=start,
                index__lt=stop,
                audience__in=[audiences[name] for name in names],
            )
            .order_by("index", "field")
            .values_list("index", "field", "audience", "salt", "value")
        ),
        engagement_id=int,
        start=int,
        stop=int,
        **dict.fromkeys(names, str),
    )


_OPENINGS: dict[int, Prepared] = {}


def entry_with_proof(*, engagement: Engagement, index: int, size: int | None) -> EntryProof:
    """Entry `index` and its inclusion proof in the tree of `size` leaves (default: now)."""
    # The head and the entry in one query (the entry as a column of the head's row).
    found: LedgerHead | None = None
    data: str | None = None
    for row in _HEAD_WITH_ENTRY.rows(engagement_id=engagement.pk, index=index):
        found, at = build(LedgerHead, row)
        data = row[at]
    head = found or LedgerHead(engagement=engagement, workspace_id=engagement.workspace_id)
    size = head.size if size is None else size
    _check_size(size, head.size)
    if not 0 <= index < size:
        raise LedgerRangeError(
            _("There is no entry %(index)s in a log of %(size)s entries (they start at 0).")
            % {"index": index, "size": size}
        )
    if data is None:  # within the log's size, an entry is always there
        raise LedgerEntry.DoesNotExist
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


def openings_for(
    *, engagement: Engagement, audiences: Sequence[str], start: int, stop: int
) -> dict[int, list[Opening]]:
    """The openings of entries [start, stop) that a reader of `audiences` may see, by index."""
    if not audiences:
        return {}
    query = _OPENINGS.get(len(audiences))
    if query is None:
        query = _OPENINGS.setdefault(len(audiences), _openings_query(len(audiences)))
    rows = query.rows(
        engagement_id=engagement.pk,
        start=start,
        stop=stop,
        **{f"audience{i}": audience for i, audience in enumerate(audiences)},
    )
    found: dict[int, list[Opening]] = {}
    for index, name, audience, salt, value in rows:
        found.setdefault(index, []).append(Opening(name, audience, bytes(salt), value))
    return found


def legacy_hidden(data: str, audiences: Sequence[str]) -> bool:
    """Whether a leaf written before sealing (format 1) shows a field this reader may not see."""
    if '"v":2' in data:
        return False
    leaf = json.loads(data)
    kind = str(leaf.get("kind", ""))
    return any(
        sealing.audience_of(kind, name) in sealing.SEALED_AUDIENCES
        and sealing.audience_of(kind, name) not in audiences
        for name in leaf
    )


def entry_for_reader(
    index: int, data: str, audiences: Sequence[str], openings: Sequence[Opening]
) -> BundleEntry:
    """One entry of a reader's bundle: with the openings it may see, the erased fields named;
    or only its leaf hash, for a legacy leaf showing what this reader may not see."""
    if legacy_hidden(data, audiences):
        return withheld_entry(index, data)
    erased: list[str] = []
    if '"sealed":' in data:
        sealed = sealing.sealed_fields(json.loads(data))
        opened = {o.field for o in openings}
        erased = [
            name
            for name, (audience, _digest) in sorted(sealed.items())
            if audience in audiences and name not in opened
        ]
    return bundle_entry(index, data, openings, erased)


def bundle_chunks(
    *,
    engagement: Engagement,
    public_key: str,
    origin: str,
    audiences: Sequence[str],
    size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The export bundle (bundle.py's format) as JSON text chunks, entries streamed last.

    Entries stop at the latest checkpoint's size (or at the checkpoint of `size`), so
    everything exported is signed even if facts are appended while the bundle streams. Each
    entry carries the openings of the sealed fields its reader (`audiences`) may see. Entry
    rows are read as (index, data) tuples in chunks, never as model instances; `progress` is
    told how many entries were written after each chunk.
    """
    signed_ones = Checkpoint.objects.filter(engagement_id=engagement.pk)
    if size is not None:
        signed_ones = signed_ones.filter(size__lte=size)
    checkpoints = list(signed_ones.order_by("size").prefetch_related("cosignatures"))
    signed = checkpoints[-1].size if checkpoints else 0
    header = {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "public_key": public_key,
        "reader": {"audiences": list(audiences)},
        "checkpoints": [note_with_cosignatures(c) for c in checkpoints],
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
        openings = openings_for(
            engagement=engagement,
            audiences=audiences,
            start=chunk[0][0],
            stop=chunk[-1][0] + 1,
        )
        parts = [
            json.dumps(entry_for_reader(i, d, audiences, openings.get(i, [])), ensure_ascii=False)
            for i, d in chunk
        ]
        yield separator + ",\n".join(parts)
        separator = ",\n"
        if progress is not None:
            progress(chunk[-1][0] + 1)
    yield "\n]}\n"


def opened_fact(entry: LedgerEntry, audiences: Sequence[str] = sealing.SEALED_AUDIENCES) -> dict:
    """One entry's fact with the openings of `audiences` merged in (the provider's view by
    default); a sealed field whose opening was erased is absent."""
    found = openings_for(
        engagement=entry.engagement, audiences=audiences, start=entry.index, stop=entry.index + 1
    )
    return sealing.open_leaf(
        json.loads(entry.data), {o.field: o for o in found.get(entry.index, [])}
    )


@dataclass(frozen=True)
class KeyRotation:
    """A key change announced in a log (its `key.rotated` entry), as both sides read it."""

    index: int
    previous_key: str
    new_key: str
    announcement: str
    reason: str
    at: str


def key_rotations(*, engagement: Engagement, any_retired: bool | None = None) -> list[KeyRotation]:
    """The log's key rotations in order; each announcement is signed by the previous key.

    `any_retired`: whether the workspace ever retired a key, when the caller read it already
    (`services.log_keys`)."""
    rotations: list[KeyRotation] = []
    # Only a rotation retires a key: without one, no log of the workspace holds an
    # announcement, and the entries (no index on their kind) need not be scanned.
    if any_retired is None:
        any_retired = WorkspaceKey.objects.filter(
            workspace_id=engagement.workspace_id, retired_at__isnull=False
        ).exists()
    if not any_retired:
        return rotations
    rows = LedgerEntry.objects.filter(engagement=engagement, kind="key.rotated").order_by("index")
    for index, data in rows.values_list("index", "data"):
        leaf = json.loads(data)
        rotations.append(
            KeyRotation(
                index=index,
                previous_key=str(leaf.get("previous_key", "")),
                new_key=str(leaf.get("new_key", "")),
                announcement=str(leaf.get("announcement", "")),
                reason=str(leaf.get("reason", "")),
                at=str(leaf.get("at", "")),
            )
        )
    return rotations
