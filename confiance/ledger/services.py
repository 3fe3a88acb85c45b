"""Writes of the ledger: append a fact to an engagement's log, sign checkpoints."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement
from confiance.ledger import checkpoint as notes
from confiance.ledger.merkle import canonical_json
from confiance.ledger.models import Checkpoint, LedgerEntry, LedgerHead, WorkspaceKey
from confiance.ledger.signals import ledger_appended
from confiance.ledger.store import DatabaseNodeStore
from confiance.ledger.tree import MerkleLog


def _fernet() -> Fernet:
    # The private keys are encrypted with a key derived from SECRET_KEY: a database dump alone
    # cannot forge checkpoints. Rotating SECRET_KEY needs the keys re-encrypted (not built yet).
    digest = hashlib.sha256(b"confiance.ledger.key:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def origin_of(engagement: Engagement) -> str:
    """The log's origin line: names the installation, the workspace and the engagement."""
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0]
    return f"{host}/{engagement.workspace.slug}/engagement/{engagement.pk}"


@transaction.atomic
def workspace_key_get_or_create(*, workspace: Workspace) -> WorkspaceKey:
    """The workspace's signing key, created on first use."""
    key = WorkspaceKey.objects.select_for_update().filter(workspace=workspace).first()
    if key is not None:
        return key
    name = f"confiance-{workspace.slug}"
    private, vkey = notes.generate_signing_key(name)
    return WorkspaceKey.objects.create(
        workspace=workspace,
        name=name,
        verifier_key=vkey,
        encrypted_private_key=_fernet().encrypt(private),
    )


def _head(engagement: Engagement) -> LedgerHead:
    head, _ = LedgerHead.objects.get_or_create(
        engagement=engagement, defaults={"workspace_id": engagement.workspace_id}
    )
    # The row lock serialises appends to one engagement's log.
    return LedgerHead.objects.select_for_update().get(pk=head.pk)


def ledger_next_index(*, engagement: Engagement) -> int:
    """The index the next appended fact will get; locks the log until the transaction ends.

    Lets a writer store the index on its own rows before appending, instead of updating them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_next_index must run inside the writing service's transaction")
    return int(_head(engagement).size)


def ledger_append(
    *, engagement: Engagement, kind: str, payload: dict[str, Any], actor: User | None
) -> LedgerEntry:
    """Append one fact to the engagement's log, inside the caller's transaction."""
    entries = ledger_append_many(engagement=engagement, kind=kind, payloads=[payload], actor=actor)
    return entries[0]


def ledger_append_many(
    *, engagement: Engagement, kind: str, payloads: list[dict[str, Any]], actor: User | None
) -> list[LedgerEntry]:
    """Append several facts at once (imports); one row lock and batched node writes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_append must run inside the writing service's transaction")
    head = _head(engagement)
    log = MerkleLog(DatabaseNodeStore(head))
    now = timezone.now()
    at = now.isoformat(timespec="seconds")
    start = head.size
    leaves = []
    entries = []
    for offset, payload in enumerate(payloads):
        leaf = {
            **payload,
            "kind": kind,
            "engagement": engagement.pk,
            "seq": start + offset,
            "at": at,
            "by": actor.email if actor is not None else None,
        }
        data = canonical_json(leaf)
        leaves.append(data)
        entries.append(
            LedgerEntry(
                workspace_id=engagement.workspace_id,
                engagement=engagement,
                index=start + offset,
                kind=kind,
                data=data.decode(),
                created_at=now,
            )
        )
    indexes = log.append_many(leaves)
    assert indexes.start == start
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    ledger_appended.send(
        sender=LedgerEntry, engagement_id=engagement.pk, kind=kind, count=len(entries)
    )
    return entries


@transaction.atomic
def checkpoint_latest(*, engagement: Engagement) -> Checkpoint:
    """A checkpoint of the log as it is now: the last one if nothing was added since, else new."""
    head = _head(engagement)
    last = Checkpoint.objects.filter(engagement=engagement).order_by("-size").first()
    if last is not None and last.size == head.size:
        return last
    key = workspace_key_get_or_create(workspace=engagement.workspace)
    root = MerkleLog(DatabaseNodeStore(head)).root()
    # DESIGN.md wants the time in the checkpoint: it travels as an extension line.
    stamp = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    body = notes.format_checkpoint(
        origin_of(engagement), head.size, root, extensions=[f"time {stamp}"]
    )
    private = _fernet().decrypt(bytes(key.encrypted_private_key))
    note = notes.sign_checkpoint(body, key.name, private)
    return Checkpoint.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        size=head.size,
        root_hash=root,
        note=note,
    )
