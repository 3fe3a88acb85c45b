"""Workspace export, restore into an empty installation, and scheduled backups.

An export is one zip archive:

- `manifest.json`: the format, the workspace, when, and how many objects of each model;
- `objects/<app>.<model>.json`: every object of the workspace in Django's serialisation
  (the workspace, the people its rows point at, and every row whose `workspace` is it: every
  tenant table carries one, ledger tree nodes and cosignatures included), primary keys kept;
- `secrets.json`: the signing keys of the ledgers and the webhook secrets, decrypted, since the
  installation restoring them has another SECRET_KEY (an archive is as sensitive as a database
  dump together with its SECRET_KEY: keep it so);
- `ledgers/<engagement id>.json`: each engagement's ledger bundle, every field opened, as
  `confiance verify` reads it.

`archive_restore` loads an archive into an installation with no workspace and no user, inside
one transaction: every ledger must verify, both the archive's bundle and the log rebuilt from
the restored rows (same signed checkpoints, same entries, tree nodes giving the same root),
or nothing is kept and the error says which ledger failed and why.
"""

from __future__ import annotations

import base64
import json
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from django.apps import apps as django_apps
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from confiance.core.models import Membership, User, Workspace

FORMAT = "confiance-workspace-export/1"
# Transient or installation-wide: never part of a workspace's export. A prepared ledger bundle
# is a cache of a file outside the archive: restored, its row would point at nothing.
SKIPPED = {
    "api.idempotentrequest",
    "core.scheduledjob",
    "followup.calendarfeed",
    "ledger.ledgerbundle",
}

Progress = Callable[[str], None]


class RestoreError(Exception):
    """The archive cannot be restored; nothing was written."""


@dataclass
class RestoreReport:
    workspace: str
    objects: int
    ledgers: int
    entries: int
    counts: dict[str, int] = field(default_factory=dict)


def _owned(model: type[models.Model]) -> bool:
    return "workspace" in {f.name for f in model._meta.concrete_fields}


def _exported_models() -> list[type[models.Model]]:
    """The tenant tables: every model of ours with a workspace (tests/core/test_workspace_path.py
    holds every model but the global ones to having one)."""
    return [
        model
        for model in django_apps.get_models()
        if model.__module__.startswith("confiance.")
        and model._meta.label_lower not in SKIPPED
        and model not in (User, Workspace)
        and _owned(model)
    ]


def _rows(model: type[models.Model], workspace_id: int) -> models.QuerySet[Any]:
    return model._base_manager.filter(workspace_id=workspace_id).order_by("pk")


def _people(workspace_id: int, chosen: Sequence[type[models.Model]]) -> set[int]:
    ids = set(
        Membership.objects.filter(workspace_id=workspace_id).values_list("user_id", flat=True)
    )
    for model in chosen:
        rows = _rows(model, workspace_id)
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is User:
                ids |= {pk for pk in rows.values_list(f.attname, flat=True) if pk is not None}
        for m2m in model._meta.many_to_many:
            if m2m.related_model is User:
                ids |= {pk for pk in rows.values_list(m2m.name, flat=True) if pk is not None}
    return ids


def _secrets(workspace_id: int) -> dict[str, dict[str, str]]:
    from confiance.ledger.models import WorkspaceKey
    from confiance.ledger.services import _fernet as ledger_fernet
    from confiance.webhooks.models import WebhookEndpoint
    from confiance.webhooks.services import endpoint_secret

    keys = {
        str(key.pk): base64.b64encode(
            ledger_fernet().decrypt(bytes(key.encrypted_private_key))
        ).decode()
        for key in WorkspaceKey.objects.filter(workspace_id=workspace_id)
    }
    hooks = {
        str(e.pk): endpoint_secret(e)
        for e in WebhookEndpoint.objects.filter(workspace_id=workspace_id)
    }
    return {"ledger.workspacekey": keys, "webhooks.webhookendpoint": hooks}


def _bundle(engagement: Any) -> str:
    from confiance.ledger import sealing, selectors
    from confiance.ledger import services as ledger

    ledger.checkpoint_latest(engagement=engagement)
    return "".join(
        selectors.bundle_chunks(
            engagement=engagement,
            public_key=ledger.log_verifier_key(engagement),
            origin=ledger.origin_of(engagement),
            audiences=list(sealing.SEALED_AUDIENCES),
        )
    )


def workspace_export(
    *, workspace: Workspace, target: Path | IO[bytes], progress: Progress | None = None
) -> dict[str, int]:
    """Write the workspace's archive to `target`; return the count of objects per model."""
    from confiance.engagements.models import Engagement
    from confiance.ledger.models import LedgerHead

    say = progress or (lambda _text: None)
    chosen = _exported_models()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def write(label: str, queryset: models.QuerySet[Any]) -> None:
            rows = serializers.serialize("python", queryset)
            counts[label] = len(rows)
            if counts[label]:
                archive.writestr(f"objects/{label}.json", json.dumps(rows, default=_encode))
            say(f"{label}: {counts[label]}")

        write("core.workspace", Workspace.objects.filter(pk=workspace.pk))
        write("core.user", User.objects.filter(pk__in=_people(workspace.pk, chosen)).order_by("pk"))
        for model in chosen:
            write(model._meta.label_lower, _rows(model, workspace.pk))
        archive.writestr("secrets.json", json.dumps(_secrets(workspace.pk)))
        ledgers = Engagement.objects.filter(
            pk__in=LedgerHead.objects.filter(workspace=workspace).values("engagement_id")
        ).select_related("workspace")
        for engagement in ledgers.order_by("pk"):
            archive.writestr(f"ledgers/{engagement.pk}.json", _bundle(engagement))
            say(f"ledger of engagement {engagement.pk}")
        manifest = {
            "format": FORMAT,
            "workspace": {"id": workspace.pk, "slug": workspace.slug, "name": workspace.name},
            "exported_at": timezone.now().isoformat(),
            "counts": counts,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    return counts


def _encode(value: object) -> object:
    """JSON for what the python serialiser leaves as objects; times keep their microseconds
    (Django's JSON serialiser would round them to milliseconds, and pages would differ)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"cannot archive {type(value).__name__}")


def _read(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(archive.read(name))
    except KeyError:
        raise RestoreError(f"the archive has no {name}") from None
    except ValueError as error:
        raise RestoreError(f"{name} is not JSON: {error}") from None


def _verify_ledger(engagement: Any, head: Any, archived: Any, where: str) -> None:
    """One ledger: the archive's bundle and the log rebuilt from the restored rows."""
    from confiance.ledger import services as ledger
    from confiance.ledger.bundle import verify_bundle
    from confiance.ledger.models import LedgerEntry
    from confiance.ledger.store import DatabaseNodeStore
    from confiance.ledger.tree import MerkleLog

    key = ledger.log_verifier_key(engagement)
    report = verify_bundle(archived, key=key)
    if not report.ok:
        raise RestoreError(f"{where}: the archive's bundle does not verify: {report.first_failure}")
    rebuilt = json.loads(_bundle(engagement))
    report = verify_bundle(rebuilt, key=key)
    if not report.ok:
        raise RestoreError(f"{where}: the restored rows do not verify: {report.first_failure}")
    if rebuilt["checkpoints"][: len(archived["checkpoints"])] != archived["checkpoints"]:
        raise RestoreError(f"{where}: the restored checkpoints differ from the archive's")
    if rebuilt["entries"][: len(archived["entries"])] != archived["entries"]:
        raise RestoreError(f"{where}: the restored entries differ from the archive's bundle")
    if LedgerEntry.objects.filter(engagement=engagement).count() != head.size:
        raise RestoreError(f"{where}: the log's size and its entries disagree")
    last = archived["checkpoints"][-1] if archived["checkpoints"] else None
    if last is not None:
        root = MerkleLog(DatabaseNodeStore(head)).root()
        if base64.b64encode(root).decode() not in last:
            raise RestoreError(f"{where}: the stored tree does not give the signed root")


def _verify_ledgers(archive: zipfile.ZipFile, say: Progress) -> tuple[int, int]:
    """Every restored engagement's log against the archive's bundle; (ledgers, entries)."""
    from confiance.engagements.models import Engagement
    from confiance.ledger.models import LedgerHead

    names = set(archive.namelist())
    ledgers = entries = 0
    for head in LedgerHead.objects.select_related("engagement__workspace").order_by(
        "engagement_id"
    ):
        engagement: Engagement = head.engagement
        where = f"ledger of engagement {engagement.pk} ({engagement})"
        if f"ledgers/{engagement.pk}.json" not in names:
            raise RestoreError(f"{where}: its bundle is missing from the archive")
        archived = _read(archive, f"ledgers/{engagement.pk}.json")
        try:
            _verify_ledger(engagement, head, archived, where)
        except RestoreError:
            raise
        except Exception as error:  # a row that is not even readable is a failed ledger too
            raise RestoreError(f"{where}: unreadable ({type(error).__name__}: {error})") from None
        ledgers += 1
        entries += head.size
        say(f"{where}: {head.size} entries verified")
    return ledgers, entries


def _restore_secrets(secrets: dict[str, dict[str, str]]) -> None:
    from confiance.ledger.models import WorkspaceKey
    from confiance.ledger.services import _fernet as ledger_fernet
    from confiance.webhooks.models import WebhookEndpoint
    from confiance.webhooks.services import _fernet as webhook_fernet

    for pk, private in secrets.get("ledger.workspacekey", {}).items():
        WorkspaceKey.objects.filter(pk=int(pk)).update(
            encrypted_private_key=ledger_fernet().encrypt(base64.b64decode(private))
        )
    for pk, secret in secrets.get("webhooks.webhookendpoint", {}).items():
        WebhookEndpoint.objects.filter(pk=int(pk)).update(
            encrypted_secret=webhook_fernet().encrypt(secret.encode())
        )


def archive_restore(*, source: Path | IO[bytes], progress: Progress | None = None) -> RestoreReport:
    """Restore an archive into this empty installation; all or nothing (RestoreError)."""
    say = progress or (lambda _text: None)
    if User.objects.exists() or Workspace.objects.exists():
        raise RestoreError(
            "this installation is not empty (it has people or workspaces): restore into a new "
            "one (a new database, then `confiance migrate`)"
        )
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as error:
        raise RestoreError(f"not a Confiance archive: {error}") from None
    with archive:
        manifest = _read(archive, "manifest.json")
        if manifest.get("format") != FORMAT:
            raise RestoreError(
                f"unknown archive format {manifest.get('format')!r} (expected {FORMAT})"
            )
        counts: dict[str, int] = {}
        with transaction.atomic():
            restored: set[type[models.Model]] = set()
            workspaces: set[int] = set()
            for name in sorted(n for n in archive.namelist() if n.startswith("objects/")):
                label = name.removeprefix("objects/").removesuffix(".json")
                try:
                    rows = json.loads(archive.read(name))
                    _fill_workspace(label, rows, manifest)
                    objects = list(serializers.deserialize("python", rows))
                except Exception as error:  # the serializer wraps every fault in its own error
                    raise RestoreError(f"{name}: {error}") from None
                for item in objects:
                    item.save()
                    restored.add(type(item.object))
                    if isinstance(item.object, Workspace):
                        workspaces.add(item.object.pk)
                counts[label] = len(objects)
                say(f"{label}: {len(objects)}")
            expected = manifest.get("counts", {})
            wrong = {k: v for k, v in expected.items() if counts.get(k, 0) != v}
            if wrong:
                raise RestoreError(f"objects missing from the archive: {sorted(wrong)}")
            _restore_secrets(_read(archive, "secrets.json"))
            _reset_sequences(restored)
            _fill_derived(workspaces)
            ledgers, entries = _verify_ledgers(archive, say)
    return RestoreReport(
        workspace=str(manifest.get("workspace", {}).get("slug", "")),
        objects=sum(counts.values()),
        ledgers=ledgers,
        entries=entries,
        counts=counts,
    )


def _fill_workspace(label: str, rows: list[dict[str, Any]], manifest: dict[str, Any]) -> None:
    """Rows of an archive made before their table carried its workspace (ledger tree nodes,
    cosignatures, visits) get the archive's one workspace."""
    try:
        model = django_apps.get_model(label)
    except (LookupError, ValueError):
        return  # the serializer names the unknown model
    if model is Workspace or not _owned(model):
        return
    workspace_id = manifest.get("workspace", {}).get("id")
    for row in rows:
        fields = row.get("fields") if isinstance(row, dict) else None
        if isinstance(fields, dict) and "workspace" not in fields:
            fields["workspace"] = workspace_id


def _fill_derived(workspace_ids: set[int]) -> None:
    """Rows derived from restored ones, written again from them: the trust summary of each
    engagement with trust states (the portfolio ranks by it). An archive made before the table
    existed has none, and one made before trust 0012 holds its items as a list, not text."""
    from confiance.trust.models import TrustState, TrustSummary
    from confiance.trust.summaries import summaries_fill

    TrustSummary.objects.filter(workspace_id__in=workspace_ids).delete()
    engagements = (
        TrustState.objects.filter(workspace_id__in=workspace_ids)
        .values_list("engagement_id", flat=True)
        .distinct()
    )
    summaries_fill(TrustState, TrustSummary, engagement_ids=list(engagements))


def _reset_sequences(restored: set[type[models.Model]]) -> None:
    """Rows came with their ids: the next id of each table follows them (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), sorted(restored, key=str))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


BACKUP_NAME = re.compile(r"^(?P<slug>[-a-z0-9_]+)-(?P<at>\d{8}T\d{6}Z)\.zip$")


def backups_run(*, directory: Path, keep: int, now: datetime | None = None) -> list[Path]:
    """Export every workspace into `directory`, keeping its `keep` newest archives; the paths
    written. Each archive is written beside, then renamed: a crash leaves no half archive."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or timezone.now()).strftime("%Y%m%dT%H%M%SZ")
    written = []
    for workspace in Workspace.objects.order_by("pk"):
        path = directory / f"{workspace.slug}-{stamp}.zip"
        partial = path.with_suffix(".zip.partial")
        with partial.open("wb") as target:
            workspace_export(workspace=workspace, target=target)
        os.replace(partial, path)
        written.append(path)
        mine = sorted(
            p
            for p in directory.iterdir()
            if (m := BACKUP_NAME.match(p.name)) and m.group("slug") == workspace.slug
        )
        for old in mine[: max(0, len(mine) - keep)]:
            old.unlink()
    return written
