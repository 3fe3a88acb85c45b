"""Writes of the ledger: append a fact to an engagement's log, sign checkpoints."""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.models import Membership, Role, User, Workspace
from confiance.core.notices import notify, notify_on_commit
from confiance.core.queries import Prepared
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.ledger import checkpoint as notes
from confiance.ledger import sealing
from confiance.ledger.merkle import canonical_json
from confiance.ledger.models import (
    Checkpoint,
    LedgerEntry,
    LedgerHead,
    LedgerOpening,
    Witness,
    WorkspaceKey,
)
from confiance.ledger.signals import ledger_appended
from confiance.ledger.store import DatabaseNodeStore
from confiance.ledger.tree import MerkleLog
from confiance.ledger.witnessing import note_with_cosignatures
from confiance.webhooks.events import emit as webhook_emit


def _fernet() -> Fernet:
    # The private keys are encrypted with a key derived from SECRET_KEY: a database dump alone
    # cannot forge checkpoints. Rotating SECRET_KEY needs the keys re-encrypted (not built yet).
    digest = hashlib.sha256(b"confiance.ledger.key:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


# Engagements whose client contacts get the weekly checkpoint e-mail.
MAILED_STATUSES = (EngagementStatus.ACTIVE, EngagementStatus.PAUSED)

# At most one checkpoint per engagement in this many seconds: appends in between are batched.
CHECKPOINT_INTERVAL_SECONDS = 5
# A reader finding the latest checkpoint older than this while entries wait signs it itself,
# so the newest entry is covered within a minute even if the worker is late.
CHECKPOINT_MAX_DELAY_SECONDS = 60


def _new_key_name(workspace: Workspace) -> str:
    # A name fixed once, never derived from the host: moving the deployment keeps every log's
    # identity. The random part keeps two installations' workspaces of the same slug apart.
    return f"confiance.ledger/{workspace.slug}-{secrets.token_hex(4)}"


def workspace_key_get_or_create(*, workspace: Workspace) -> WorkspaceKey:
    """The workspace's signing key, created on first use; its name prefixes its logs' origins."""
    # Read first, outside any transaction: pages show the key on every view, and a transaction
    # would make each view a writer (on SQLite, BEGIN IMMEDIATE waits for the write lock).
    key = WorkspaceKey.objects.filter(workspace=workspace, retired_at__isnull=True).first()
    return key if key is not None else _workspace_key_create(workspace=workspace)


@transaction.atomic
def _workspace_key_create(*, workspace: Workspace) -> WorkspaceKey:
    key = (
        WorkspaceKey.objects.select_for_update()
        .filter(workspace=workspace, retired_at__isnull=True)
        .first()
    )
    if key is not None:
        return key
    name = _new_key_name(workspace)
    private, vkey = notes.generate_signing_key(name)
    return WorkspaceKey.objects.create(
        workspace=workspace,
        name=name,
        verifier_key=vkey,
        encrypted_private_key=_fernet().encrypt(private),
    )


def _origin_for(engagement: Engagement) -> str:
    key = workspace_key_get_or_create(workspace=engagement.workspace)
    return f"{key.name}/{engagement.pk}"


def _head(engagement: Engagement) -> LedgerHead:
    # The row lock serialises appends to one engagement's log: one locked read (the log is
    # created with the engagement; a log missing is created first, then locked).
    head = LedgerHead.objects.select_for_update().filter(engagement=engagement).first()
    if head is None:
        ledger_log_create(engagement=engagement)
        head = LedgerHead.objects.select_for_update().get(engagement=engagement)
    return head


@transaction.atomic
def ledger_log_create(*, engagement: Engagement) -> LedgerHead:
    """Create the engagement's log with its origin, `<workspace key name>/<engagement id>`.

    Called when the engagement is created; the origin never changes afterwards.
    """
    head, _created = LedgerHead.objects.get_or_create(
        engagement=engagement,
        defaults={"workspace_id": engagement.workspace_id, "origin": _origin_for(engagement)},
    )
    return head


def origin_of(engagement: Engagement) -> str:
    """The log's origin line, as fixed when the log was created."""
    head = LedgerHead.objects.filter(engagement=engagement).only("origin").first()
    if head is None or not head.origin:
        head = ledger_log_create(engagement=engagement)
    return head.origin


def log_verifier_key(engagement: Engagement) -> str:
    """The C2SP vkey that verifies this log's checkpoints (key name = the log's origin)."""
    return log_keys(engagement=engagement).log_key


@dataclass(frozen=True)
class LogKeys:
    origin: str
    log_key: str  # verifies this log's checkpoints
    workspace_key: str  # the workspace's current key
    any_retired: bool = True  # whether the workspace ever retired a key (rotations to show)


# The origin, the current key and whether any key was retired, in one query compiled once per
# process (core.queries.Prepared): the ledger section of a page reads them on every view.
_LOG_KEYS = Prepared(
    lambda engagement_id, workspace_id: (
        LedgerHead.objects.filter(engagement_id=engagement_id)
        .annotate(
            current_key=Subquery(
                WorkspaceKey.objects.filter(workspace_id=workspace_id, retired_at__isnull=True)
                .order_by("pk")
                .values("verifier_key")[:1]
            ),
            any_retired=Exists(
                WorkspaceKey.objects.filter(workspace_id=workspace_id, retired_at__isnull=False)
            ),
        )
        .values_list("origin", "current_key", "any_retired")
    ),
    engagement_id=int,
    workspace_id=int,
)


def log_keys(*, engagement: Engagement) -> LogKeys:
    """The log's origin and keys, read without a lock (one query once both exist).

    Pages show them on every view: only the first use creates the key or the log (locked).
    """
    for origin, current_key, any_retired in _LOG_KEYS.rows(
        engagement_id=engagement.pk, workspace_id=engagement.workspace_id
    ):
        if origin and current_key:
            return _log_keys(origin, current_key, bool(any_retired))
    key = workspace_key_get_or_create(workspace=engagement.workspace)
    origin = origin_of(engagement)
    any_retired = WorkspaceKey.objects.filter(
        workspace_id=engagement.workspace_id, retired_at__isnull=False
    ).exists()
    return _log_keys(origin, key.verifier_key, any_retired)


@functools.lru_cache(maxsize=256)
def _log_keys(origin: str, workspace_key: str, any_retired: bool) -> LogKeys:
    public = notes.parse_verifier_key(workspace_key).public_key
    return LogKeys(
        origin=origin,
        log_key=notes.public_verifier_key(origin, public),
        workspace_key=workspace_key,
        any_retired=any_retired,
    )


def ledger_next_index(*, engagement: Engagement) -> int:
    """The index the next appended fact will get; locks the log until the transaction ends.

    Lets a writer store the index on its own rows before appending, instead of updating them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_next_index must run inside the writing service's transaction")
    return int(_head(engagement).size)


def ledger_append(
    *,
    engagement: Engagement,
    kind: str,
    payload: dict[str, Any],
    actor: User | None,
    confidential: Mapping[str, str] | None = None,
) -> LedgerEntry:
    """Append one fact to the engagement's log, inside the caller's transaction."""
    entries = ledger_append_many(
        engagement=engagement,
        kind=kind,
        payloads=[payload],
        actor=actor,
        confidential=confidential,
    )
    return entries[0]


def ledger_append_many(
    *,
    engagement: Engagement,
    kind: str,
    payloads: list[dict[str, Any]],
    actor: User | None,
    confidential: Mapping[str, str] | None = None,
) -> list[LedgerEntry]:
    """Append several facts at once (imports); one row lock and batched node writes.

    Each leaf is format 2 (docs/ledger.md): the payload's fields, plus kind, engagement, seq,
    at and by; a field some reader may not see (sealing.DEFAULT_AUDIENCES, or `confidential`
    mapping a field name to its audience) is sealed, its opening stored beside the log.
    A checkpoint covering the new entries is signed shortly after the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_append must run inside the writing service's transaction")
    head = _head(engagement)
    log = MerkleLog(DatabaseNodeStore(head))
    now = timezone.now()
    at = now.isoformat(timespec="seconds")
    start = head.size
    leaves = []
    entries = []
    openings: list[LedgerOpening] = []
    for offset, payload in enumerate(payloads):
        fields = {**payload, "by": actor.email if actor is not None else None}
        leaf, opened = sealing.seal(kind, fields, overrides=confidential)
        leaf.update(
            {
                "v": sealing.LEAF_VERSION,
                "kind": kind,
                "engagement": engagement.pk,
                "seq": start + offset,
                "at": at,
            }
        )
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
        openings.extend(
            LedgerOpening(
                workspace_id=engagement.workspace_id,
                engagement=engagement,
                index=start + offset,
                field=o.field,
                audience=o.audience,
                salt=o.salt,
                value=o.value_json,
            )
            for o in opened
        )
    indexes = log.append_many(leaves)
    assert indexes.start == start
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    LedgerOpening.objects.bulk_create(openings, batch_size=1000)
    _request_checkpoint(head, now)
    ledger_appended.send(
        sender=LedgerEntry, engagement_id=engagement.pk, kind=kind, count=len(entries)
    )
    return entries


def _request_checkpoint(head: LedgerHead, now: datetime) -> None:
    """Queue one checkpoint task for the log on commit, unless one is already queued."""
    if head.checkpoint_requested_at is not None:
        return
    head.checkpoint_requested_at = now
    LedgerHead.objects.filter(pk=head.pk).update(checkpoint_requested_at=now)
    last = (
        Checkpoint.objects.filter(engagement_id=head.engagement_id)
        .order_by("-size")
        .values_list("created_at", flat=True)
        .first()
    )
    run_after = None
    if last is not None:
        earliest = last + timedelta(seconds=CHECKPOINT_INTERVAL_SECONDS)
        run_after = earliest if earliest > now else None
    engagement_id = head.engagement_id

    def enqueue() -> None:
        from confiance.ledger.tasks import sign_checkpoint

        task = sign_checkpoint
        if run_after is not None and task.get_backend().supports_defer:
            task = task.using(run_after=run_after)
        task.enqueue(engagement_id)

    transaction.on_commit(enqueue)


@transaction.atomic
def workspace_key_rotate(*, workspace: Workspace, actor: User, reason: str) -> WorkspaceKey:
    """Replace the workspace's signing key, announcing it in every log, signed by the old key.

    Each log gets a `key.rotated` entry carrying the old and new keys and an announcement (a
    signed note naming the log and its new key) signed by the old key; a checkpoint signed by
    the old key covers it at once; later checkpoints are signed by the new key. A verifier or a
    browser that trusts the old key follows the announcement to the new one, and one given the
    new key checks the older checkpoints with the keys the announcements name.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the key changes: both sides read it.")})
    if len(reason) > 300:
        raise ValidationError({"reason": _("At most 300 characters.")})
    old = workspace_key_get_or_create(workspace=workspace)
    old_private = _fernet().decrypt(bytes(old.encrypted_private_key))
    old_public = notes.parse_verifier_key(old.verifier_key).public_key
    new_private, new_vkey = notes.generate_signing_key(old.name)
    new_public = notes.parse_verifier_key(new_vkey).public_key
    heads = list(
        LedgerHead.objects.filter(workspace=workspace).select_related("engagement").order_by("pk")
    )
    for head in heads:
        engagement = head.engagement
        # Cover what is pending with the old key first, so the announcement is its own step.
        checkpoint_sign(engagement=engagement, private=old_private)
        previous_key = notes.public_verifier_key(head.origin, old_public)
        new_key = notes.public_verifier_key(head.origin, new_public)
        ledger_append(
            engagement=engagement,
            kind="key.rotated",
            payload={
                "previous_key": previous_key,
                "new_key": new_key,
                "announcement": notes.sign_rotation(head.origin, new_key, old_private),
                "reason": reason,
            },
            actor=actor,
        )
        checkpoint_sign(engagement=engagement, private=old_private)
    now = timezone.now()
    WorkspaceKey.objects.filter(pk=old.pk).update(retired_at=now, rotated_by=actor, reason=reason)
    new = WorkspaceKey.objects.create(
        workspace=workspace,
        name=old.name,
        verifier_key=new_vkey,
        encrypted_private_key=_fernet().encrypt(new_private),
        created_at=now,
    )
    # Everyone who reads a ledger of the workspace is told, in their language.
    readers = Membership.objects.filter(workspace=workspace).exclude(role=Role.EXPERT)
    notify_on_commit(
        workspace_id=workspace.pk,
        user_ids=readers.exclude(user=actor).values_list("user_id", flat=True),
        kind="ledger.key_rotated",
        params={"workspace": workspace.name, "reason": reason, "key": new_vkey},
        link=reverse("ledger-key", kwargs={"ws": workspace.slug}),
    )
    return new


# A client contact receives the latest signed checkpoint of each of its ledgers this often.
CHECKPOINT_MAIL_DAYS = 7


def checkpoint_mail_send(*, now: datetime | None = None) -> int:
    """E-mail each client contact the latest signed checkpoint of its engagements' ledgers.

    At most once every CHECKPOINT_MAIL_DAYS per engagement, and only when the ledger grew since
    the last one; every contact of the client gets the same checkpoint, so two of them can
    compare what they were shown. Idempotent; returns how many engagements were mailed.
    """
    now = now or timezone.now()
    due = now - timedelta(days=CHECKPOINT_MAIL_DAYS)
    heads = (
        LedgerHead.objects.filter(size__gt=0, engagement__status__in=MAILED_STATUSES)
        .filter(Q(checkpoint_mailed_at__isnull=True) | Q(checkpoint_mailed_at__lte=due))
        .select_related("engagement", "engagement__workspace")
        .order_by("pk")
    )
    mailed = 0
    for head in heads:
        engagement = head.engagement
        checkpoint = Checkpoint.objects.filter(engagement=engagement).order_by("-size").first()
        if checkpoint is None or checkpoint.size == head.checkpoint_mailed_size:
            continue
        contacts = list(
            Membership.objects.filter(
                workspace_id=engagement.workspace_id,
                role=Role.CLIENT,
                client_id=engagement.client_id,
            ).select_related("user")
        )
        with transaction.atomic():
            claimed = LedgerHead.objects.filter(
                pk=head.pk, checkpoint_mailed_at=head.checkpoint_mailed_at
            ).update(checkpoint_mailed_at=now, checkpoint_mailed_size=checkpoint.size)
            if not claimed:
                continue  # another worker took it
        if contacts:
            notify(
                workspace_id=engagement.workspace_id,
                users=[m.user for m in contacts],
                kind="ledger.checkpoint",
                params={
                    "engagement": engagement.title,
                    "size": checkpoint.size,
                    "date": checkpoint.created_at.date().isoformat(),
                    "key": log_verifier_key(engagement),
                    "note": note_with_cosignatures(checkpoint),
                    "file": f"checkpoint-{engagement.pk}-{checkpoint.size}.txt",
                },
                link=reverse(
                    "consumption", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}
                )
                + "#ledger",
            )
            mailed += 1
    return mailed


@transaction.atomic
def checkpoint_sign(*, engagement: Engagement, private: bytes | None = None) -> Checkpoint | None:
    """Sign a checkpoint of the log as it is now, if it grew since the last one.

    The body follows C2SP tlog-checkpoint (origin, size, root; no extension line) and is signed
    under a key name equal to the origin. Witnesses are asked to cosign it after the commit.
    """
    head = _head(engagement)
    LedgerHead.objects.filter(pk=head.pk).update(checkpoint_requested_at=None)
    last = Checkpoint.objects.filter(engagement=engagement).order_by("-size").first()
    if last is not None and last.size == head.size:
        return None
    if private is None:
        key = workspace_key_get_or_create(workspace=engagement.workspace)
        private = _fernet().decrypt(bytes(key.encrypted_private_key))
    root = MerkleLog(DatabaseNodeStore(head)).root()
    body = notes.format_checkpoint(head.origin, head.size, root)
    note = notes.sign_checkpoint(body, head.origin, private)
    checkpoint = Checkpoint.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        size=head.size,
        root_hash=root,
        note=note,
    )
    webhook_emit(
        workspace_id=engagement.workspace_id,
        event_type="checkpoint.signed",
        obj=("ledger.checkpoint", str(checkpoint.pk)),
        engagement_id=engagement.pk,
        extra={"size": head.size, "root_hash": base64.b64encode(root).decode()},
    )
    witness_ids = list(Witness.objects.filter(engagement=engagement).values_list("pk", flat=True))
    if witness_ids:

        def submit() -> None:
            from confiance.ledger.tasks import submit_to_witness

            for pk in witness_ids:
                submit_to_witness.enqueue(pk)

        transaction.on_commit(submit)
    return checkpoint


def checkpoint_latest(*, engagement: Engagement) -> Checkpoint:
    """The latest checkpoint; signed here only if there is none, or it lags by over a minute."""
    last = Checkpoint.objects.filter(engagement=engagement).order_by("-size").first()
    if last is not None:
        head = LedgerHead.objects.filter(engagement=engagement).first()
        due = head.checkpoint_requested_at if head is not None else None
        late = timezone.now() - timedelta(seconds=CHECKPOINT_MAX_DELAY_SECONDS)
        if head is None or head.size == last.size or due is None or due > late:
            return last
    signed = checkpoint_sign(engagement=engagement)
    if signed is not None:
        return signed
    # Nothing new to sign: a checkpoint of the current size exists (maybe signed meanwhile).
    return Checkpoint.objects.filter(engagement=engagement).latest("size")


def reader_audiences(membership: Membership) -> list[str]:
    """The sealed audiences whose openings `membership` may see (see sealing.py)."""
    audiences = [sealing.PERSONAL]
    if access.can_see_amounts(membership):
        audiences.append(sealing.AMOUNTS)
    if access.is_internal(membership):
        audiences.append(sealing.INTERNAL)
    return audiences


@transaction.atomic
def ledger_erase_person(*, workspace: Workspace, email: str, names: Sequence[str] = ()) -> int:
    """Erase a person's data from every log of the workspace; return the openings dropped.

    Deletes the openings of personal fields whose value holds `email` (or one of `names`).
    Leaves hold only commitments, so every entry, root, checkpoint and cosignature stays as
    it was and every bundle still verifies: the erased fields are listed as "erased" in it.
    A field that names several people (a meeting's attendance) is erased for all of them.
    """
    terms = [email.strip(), *[n.strip() for n in names]]
    condition = Q()
    for term in terms:
        if term:
            condition |= Q(value__icontains=term)
    if not condition:
        return 0
    rows = LedgerOpening.objects.filter(workspace=workspace, audience=sealing.PERSONAL).filter(
        condition
    )
    count, _detail = rows.delete()
    # Prepared bundles hold the openings as they were: none of them may be served again.
    from confiance.ledger.prepared import bundles_discard

    bundles_discard(workspace=workspace)
    return int(count)
