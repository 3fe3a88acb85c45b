"""Bundles of large logs, prepared by the task worker into files (docs/ledger.md, "Bundles").

A web worker must answer within gunicorn's timeout (30 s): streaming the bundle of a log of
hundreds of thousands of entries takes longer, and the download was cut. So a log of more
than LEDGER_BUNDLE_INLINE_MAX entries gets its bundle written to a file by the task worker,
once per checkpoint and reader audiences; the page and the API say it is being prepared (with
the entries written so far), then serve the file as it is (no Python per entry in the request).
A small log is still streamed at once: its reader gets the file without waiting, and nothing
is stored.

The file holds exactly what the streamed bundle would (selectors.bundle_chunks at that
checkpoint), so `confiance verify` takes it unchanged. Files are a cache: the latest per
engagement and audiences is kept, the others deleted once it is ready; an erasure deletes
every file of the workspace (they hold openings of personal data); none outlives KEEP_DAYS.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from confiance.core.models import Membership, Workspace
from confiance.core.taskqueue import enqueue_now
from confiance.engagements.models import Engagement
from confiance.ledger import selectors, services
from confiance.ledger.models import Cosignature, LedgerBundle

logger = logging.getLogger("confiance.ledger")

Status = LedgerBundle.Status

# A bundle finished this recently is served even if the log grew since: a busy log gets a new
# checkpoint every few seconds, and its reader would otherwise never see a prepared bundle.
FRESH_SECONDS = 600
# A building bundle whose progress did not move for this long lost its worker: built again.
STALLED_SECONDS = 120
# A queued one not started for this long is queued again (the first enqueue may have failed;
# building twice is harmless, the second finds it taken or ready).
REQUEUE_SECONDS = 600
# A failed build is tried again on a request after this long, not on every poll.
RETRY_FAILED_SECONDS = 300
# The build writes its progress at most this often.
PROGRESS_SECONDS = 1.0
# No file is kept longer than this: asked for again, it is built again.
KEEP_DAYS = 7


def bundle_dir() -> Path:
    return Path(settings.LEDGER_BUNDLE_DIR)


def bundle_path(bundle: LedgerBundle) -> Path:
    return bundle_dir() / bundle.filename


@dataclass(frozen=True)
class BundleAnswer:
    """What a reader asking for the bundle gets: the stream at once, the file, or a wait."""

    size: int  # entries the bundle covers (or will)
    inline: bool  # small log: stream it now
    bundle: LedgerBundle | None = None  # large log: the prepared bundle, ready or not

    @property
    def ready(self) -> bool:
        return self.bundle is not None and self.bundle.status == Status.READY

    @property
    def percent(self) -> int:
        if self.bundle is None or not self.bundle.size:
            return 0
        return min(100, int(100 * self.bundle.done / self.bundle.size))


def _audience_key(membership: Membership) -> str:
    return ",".join(services.reader_audiences(membership))


def _cosignatures(engagement: Engagement) -> int:
    return Cosignature.objects.filter(checkpoint__engagement_id=engagement.pk).count()


def _needs_enqueue(bundle: LedgerBundle, now: datetime) -> bool:
    age = (now - bundle.updated_at).total_seconds()
    return (
        (bundle.status == Status.QUEUED and age > REQUEUE_SECONDS)
        or (bundle.status == Status.BUILDING and age > STALLED_SECONDS)
        or (bundle.status == Status.FAILED and age > RETRY_FAILED_SECONDS)
    )


def _enqueue(bundle: LedgerBundle) -> None:
    from confiance.ledger.tasks import build_bundle

    enqueue_now(build_bundle, bundle.pk)


def bundle_prepare(*, membership: Membership, engagement: Engagement) -> BundleAnswer:
    """The bundle `membership` may download, asking the worker to build it if needed.

    `engagement` comes from the access policy. Idempotent: asking again while it is prepared
    queues nothing more. A ready bundle is served when it covers the latest checkpoint, or was
    finished within FRESH_SECONDS; one being prepared is waited for.
    """
    checkpoint = services.checkpoint_latest(engagement=engagement)
    if checkpoint.size <= settings.LEDGER_BUNDLE_INLINE_MAX:
        return BundleAnswer(size=checkpoint.size, inline=True)
    audiences = _audience_key(membership)
    cosignatures = _cosignatures(engagement)
    now = timezone.now()
    newest = (
        LedgerBundle.objects.filter(engagement_id=engagement.pk, audiences=audiences)
        .order_by("-size", "-cosignatures", "-pk")
        .first()
    )
    if newest is not None:
        current = newest.size == checkpoint.size and newest.cosignatures == cosignatures
        if newest.status == Status.READY:
            fresh = newest.ready_at is not None and newest.ready_at >= now - timedelta(
                seconds=FRESH_SECONDS
            )
            if (current or fresh) and bundle_path(newest).exists():
                return BundleAnswer(size=newest.size, inline=False, bundle=newest)
        elif newest.status != Status.FAILED or current:
            # Being prepared: wait for it, even if the log grew meanwhile (a busy log would
            # otherwise never get one). A failed one is tried again after a while.
            if _needs_enqueue(newest, now):
                _requeue(newest)
                newest.refresh_from_db()
            return BundleAnswer(size=newest.size, inline=False, bundle=newest)
    try:
        with transaction.atomic():
            bundle, created = LedgerBundle.objects.get_or_create(
                engagement_id=engagement.pk,
                size=checkpoint.size,
                audiences=audiences,
                cosignatures=cosignatures,
                defaults={"workspace_id": engagement.workspace_id},
            )
    except IntegrityError:  # asked twice at once: the other request created it
        bundle = LedgerBundle.objects.get(
            engagement_id=engagement.pk,
            size=checkpoint.size,
            audiences=audiences,
            cosignatures=cosignatures,
        )
        created = False
    if created:
        _enqueue(bundle)
    elif bundle.status == Status.READY:
        if not bundle_path(bundle).exists():  # its file went (swept or lost): build it again
            _requeue(bundle)
    elif _needs_enqueue(bundle, now):
        _requeue(bundle)
    bundle.refresh_from_db()  # an immediate task backend has built it already
    return BundleAnswer(size=bundle.size, inline=False, bundle=bundle)


def _requeue(bundle: LedgerBundle) -> None:
    taken = LedgerBundle.objects.filter(pk=bundle.pk, updated_at=bundle.updated_at).update(
        status=Status.QUEUED, done=0, requested_at=timezone.now(), updated_at=timezone.now()
    )
    if taken:
        _enqueue(bundle)


def bundle_open(bundle: LedgerBundle) -> IO[bytes] | None:
    """The ready bundle's file opened for reading, or None if it is gone (swept meanwhile)."""
    try:
        return bundle_path(bundle).open("rb")
    except FileNotFoundError:
        return None


def bundle_build(*, bundle_id: int) -> LedgerBundle | None:
    """Write the bundle `bundle_id` to its file (the task worker); progress on the row.

    Taken by one conditional UPDATE, so two workers never write the same file. Written aside
    and renamed, so a reader never gets half a file; if the row went meanwhile (an erasure),
    the file is deleted instead.
    """
    now = timezone.now()
    stalled = now - timedelta(seconds=STALLED_SECONDS)
    taken = (
        LedgerBundle.objects.filter(pk=bundle_id)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.BUILDING, updated_at__lt=stalled))
        .update(status=Status.BUILDING, done=0, updated_at=now)
    )
    if not taken:
        return None
    bundle = LedgerBundle.objects.select_related("engagement").get(pk=bundle_id)
    engagement = bundle.engagement
    folder = bundle_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = bundle_path(bundle)
    part = final.with_name(f"{final.name}.{os.getpid()}.part")

    last = [time.monotonic()]

    def progress(done: int) -> None:
        # At most once a second, and never the reason a build fails: on a busy SQLite a
        # progress write may meet the lock; the next one says the same.
        if time.monotonic() - last[0] < PROGRESS_SECONDS:
            return
        last[0] = time.monotonic()
        try:
            LedgerBundle.objects.filter(pk=bundle_id).update(done=done, updated_at=timezone.now())
        except OperationalError:
            logger.info("Progress of %s not written (database busy)", bundle.filename)

    try:
        with part.open("wb") as out:
            for chunk in selectors.bundle_chunks(
                engagement=engagement,
                public_key=services.log_verifier_key(engagement),
                origin=services.origin_of(engagement),
                audiences=bundle.audiences.split(","),
                size=bundle.size,
                progress=progress,
            ):
                out.write(chunk.encode("utf-8"))
        os.replace(part, final)
    except Exception:
        logger.exception("Could not build the ledger bundle %s", bundle.filename)
        part.unlink(missing_ok=True)
        LedgerBundle.objects.filter(pk=bundle_id).update(
            status=Status.FAILED, updated_at=timezone.now()
        )
        return None
    written = final.stat().st_size
    ready = LedgerBundle.objects.filter(pk=bundle_id, status=Status.BUILDING).update(
        status=Status.READY, done=bundle.size, bytes=written, ready_at=timezone.now()
    )
    if not ready:  # discarded while it was written (an erasure): its openings may be stale
        final.unlink(missing_ok=True)
        return None
    _sweep(bundle)
    bundle.refresh_from_db()
    return bundle


def _delete(rows: list[LedgerBundle]) -> None:
    LedgerBundle.objects.filter(pk__in=[row.pk for row in rows]).delete()
    for row in rows:
        bundle_path(row).unlink(missing_ok=True)


def _sweep(kept: LedgerBundle) -> None:
    """Keep the latest bundle of each engagement and audiences; drop old and orphan files."""
    older = LedgerBundle.objects.filter(
        engagement_id=kept.engagement_id, audiences=kept.audiences
    ).exclude(pk=kept.pk)
    # A row still queued or building is someone's wait: it is swept when a later one is ready.
    _delete(list(older.filter(status__in=(Status.READY, Status.FAILED), size__lte=kept.size)))
    cutoff = timezone.now() - timedelta(days=KEEP_DAYS)
    _delete(
        list(
            LedgerBundle.objects.filter(
                Q(ready_at__lt=cutoff) | Q(status=Status.FAILED, updated_at__lt=cutoff)
            )
        )
    )
    # Files whose row is gone (the engagement was deleted) and parts left by a dead worker.
    known = {
        row.filename
        for row in LedgerBundle.objects.only("engagement_id", "size", "audiences", "cosignatures")
    }
    limit = timezone.now().timestamp() - STALLED_SECONDS
    for path in bundle_dir().iterdir():
        name = path.name
        if name.endswith(".part"):
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        elif name.endswith(".json") and name not in known:
            path.unlink(missing_ok=True)


def bundles_discard(*, workspace: Workspace) -> None:
    """Delete every prepared bundle of the workspace (an erasure changed what they may hold).

    Files go once the caller's transaction commits; a bundle being written is deleted by its
    worker when it finds its row gone.
    """
    rows = list(LedgerBundle.objects.filter(workspace=workspace))
    if not rows:
        return
    LedgerBundle.objects.filter(pk__in=[row.pk for row in rows]).delete()

    def unlink() -> None:
        for row in rows:
            bundle_path(row).unlink(missing_ok=True)

    transaction.on_commit(unlink)
