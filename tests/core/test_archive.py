"""Export and restore: a workspace's archive restored into an empty installation gives the same
pages and the same verified ledgers; a tampered archive or a non-empty installation restores
nothing, with a clear error; backups keep the newest archives."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from django.utils import timezone

from confiance.core.archive import RestoreError, archive_restore, backups_run, workspace_export
from confiance.core.demo import DEMO_SLUG, build_demo
from confiance.core.models import Membership, Role, User, Workspace
from confiance.engagements.models import Engagement
from confiance.ledger import verify_cli
from confiance.ledger.services import log_verifier_key
from tests.conftest import World
from tests.crawl import crawl, fetcher

CSRF = re.compile(
    r'name="csrfmiddlewaretoken" value="[^"]+"|data-csrf="[^"]+"|csrftoken[^"]*"[^"]+"'
)


def _pages(email: str) -> dict[str, str]:
    http = HttpClient()
    http.force_login(User.objects.get(email=email))

    fetch = fetcher(http)

    return {
        path: CSRF.sub("csrf", html)
        for path, _name, _status, html in crawl(fetch, f"/w/{DEMO_SLUG}/engagements/")
    }


def _export() -> bytes:
    buffer = io.BytesIO()
    workspace_export(workspace=Workspace.objects.get(slug=DEMO_SLUG), target=buffer)
    return buffer.getvalue()


def _empty_installation() -> None:
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    if postgres:
        # Inside the test's transaction PostgreSQL holds the deferred foreign-key checks of the
        # demo's rows: run them now, or TRUNCATE refuses ("pending trigger events").
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as a restore runs in production
    assert not User.objects.exists()


def _verified_ledgers(tmp_path: Path) -> int:
    owner = Membership.objects.get(workspace__slug=DEMO_SLUG, role=Role.OWNER)
    from confiance.core.archive import _bundle

    checked = 0
    for engagement in Engagement.objects.visible_to(owner).select_related("workspace"):
        path = tmp_path / f"{engagement.pk}.json"
        path.write_text(_bundle(engagement))
        out = io.StringIO()
        assert verify_cli.run([str(path), "--key", log_verifier_key(engagement)], out) == 0, (
            out.getvalue()
        )
        checked += 1
    return checked


@pytest.mark.django_db
def test_restore_of_an_export_gives_the_same_pages_and_verified_ledgers(tmp_path: Path) -> None:
    build_demo()
    archive = _export()
    people = ["claire.martin@meridian.example", "sophie.lefevre@saint-roch.example"]
    people = [e for e in people if User.objects.filter(email=e).exists()] or [
        Membership.objects.get(workspace__slug=DEMO_SLUG, role=Role.OWNER).user.email
    ]
    # Both crawls read the pages at one moment: trust decays with time, and a fact's weight
    # shown to two decimals may round differently a minute later on a loaded machine.
    with time_machine.travel(timezone.now(), tick=False):
        before = {email: _pages(email) for email in people}
        assert sum(len(p) for p in before.values()) > 20

        _empty_installation()
        report = archive_restore(source=io.BytesIO(archive))
        assert report.workspace == DEMO_SLUG and report.ledgers >= 2 and report.entries > 0

        after = {email: _pages(email) for email in people}
        for email in people:
            assert sorted(after[email]) == sorted(before[email])
            # (The two-factor page offers a new random secret at each visit.)
            differ = [
                path
                for path in before[email]
                if before[email][path] != after[email][path] and path != "/accounts/two-factor/"
            ]
            assert differ == [], f"{email}: pages differ after restore: {differ[:5]}"
    assert _verified_ledgers(tmp_path) >= 2
    # The restored installation signs new checkpoints with the restored key (re-encrypted).
    from confiance.ledger.services import checkpoint_sign

    engagement = Engagement.objects.filter(workspace__slug=DEMO_SLUG).first()
    assert engagement is not None
    checkpoint_sign(engagement=engagement)


@pytest.mark.django_db
def test_a_tampered_archive_restores_nothing(tmp_path: Path) -> None:
    build_demo()
    archive = _export()
    # Change one fact of the ledger's rows, as a forger would.
    source = zipfile.ZipFile(io.BytesIO(archive))
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for name in source.namelist():
            data = source.read(name)
            if name == "objects/ledger.ledgerentry.json":
                rows = json.loads(data)
                rows[3]["fields"]["data"] = rows[3]["fields"]["data"].replace('"', "'", 2)
                data = json.dumps(rows).encode()
            out.writestr(name, data)
    _empty_installation()
    with pytest.raises(RestoreError, match="ledger of engagement"):
        archive_restore(source=io.BytesIO(tampered.getvalue()))
    assert not User.objects.exists() and not Workspace.objects.exists(), "all or nothing"
    path = tmp_path / "tampered.zip"
    path.write_bytes(tampered.getvalue())
    with pytest.raises(CommandError, match="Nothing was restored"):
        call_command("restore", str(path))


@pytest.mark.django_db
def test_restore_refuses_a_non_empty_installation_and_a_stranger_file(tmp_path: Path) -> None:
    build_demo()
    archive = _export()
    with pytest.raises(RestoreError, match="not empty"):
        archive_restore(source=io.BytesIO(archive))
    _empty_installation()
    with pytest.raises(RestoreError, match="not a Confiance archive"):
        archive_restore(source=io.BytesIO(b"hello"))


def test_backups_keep_the_newest_archives(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta

    start = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    for day in range(4):
        backups_run(directory=tmp_path, keep=2, now=start + timedelta(days=day))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "elsewhere-20261003T020000Z.zip",
        "elsewhere-20261004T020000Z.zip",
        "provider-20261003T020000Z.zip",
        "provider-20261004T020000Z.zip",
    ]
    with zipfile.ZipFile(tmp_path / names[-1]) as archive:
        assert json.loads(archive.read("manifest.json"))["workspace"]["slug"] == "provider"


def test_tree_nodes_cosignatures_and_visits_travel_with_their_workspace_even_from_older_archives(
    world: World,
) -> None:
    from datetime import date

    from confiance.consumption.services import EntryInput, time_entries_log
    from confiance.emergence.models import Visit
    from confiance.emergence.services import visit_record
    from confiance.ledger.models import LedgerNode
    from confiance.ledger.services import checkpoint_latest
    from confiance.trust.models import TrustSummary
    from confiance.trust.services import trust_update
    from tests.emergence.support import open_opportunity

    time_entries_log(
        membership=world.member,
        engagement=world.engagement,
        items=[EntryInput(person=world.member.user, date=date(2026, 10, 5), minutes=30)] * 3,
    )
    checkpoint_latest(engagement=world.engagement)
    trust_update(engagement=world.engagement)
    summaries = {s.engagement_id: s.states for s in TrustSummary.objects.all()}
    assert summaries
    visit_record(membership=world.owner, opportunity=open_opportunity(world))
    buffer = io.BytesIO()
    workspace_export(workspace=world.workspace, target=buffer)
    # As an archive made before these tables carried their workspace: the field is absent;
    # and before the trust summaries existed: none in it.
    older = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(older, "w") as out,
    ):
        for name in source.namelist():
            data = source.read(name)
            if name == "objects/trust.trustsummary.json":
                continue
            if name == "manifest.json":
                manifest = json.loads(data)
                del manifest["counts"]["trust.trustsummary"]
                data = json.dumps(manifest).encode()
            if name in ("objects/ledger.ledgernode.json", "objects/emergence.visit.json"):
                rows = json.loads(data)
                assert all(r["fields"]["workspace"] == world.workspace.pk for r in rows)
                for row in rows:
                    del row["fields"]["workspace"]
                data = json.dumps(rows).encode()
            out.writestr(name, data)
    nodes = LedgerNode.objects.filter(workspace=world.workspace).count()
    assert nodes > 3
    _empty_installation()
    report = archive_restore(source=io.BytesIO(older.getvalue()))
    assert report.ledgers >= 1  # the restored nodes give the signed roots
    workspace = Workspace.objects.get()
    assert LedgerNode.objects.filter(workspace=workspace).count() == nodes
    assert Visit.objects.filter(workspace=workspace).count() == 1
    # The portfolio's summaries are rebuilt from the restored trust states.
    assert {s.engagement_id: s.states for s in TrustSummary.objects.all()} == summaries
    assert TrustSummary.objects.get().workspace_id == workspace.pk


def test_a_prepared_bundle_is_a_cache_left_out_of_the_archive(world: World) -> None:
    """Its file is not in the archive: a restored row would offer a download of nothing."""
    from confiance.ledger.models import LedgerBundle

    LedgerBundle.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        size=1,
        audiences="personal,amounts",
        status=LedgerBundle.Status.READY,
    )
    buffer = io.BytesIO()
    counts = workspace_export(workspace=world.workspace, target=buffer)
    assert "ledger.ledgerbundle" not in counts
    assert counts["engagements.engagement"] >= 1  # the export did run over the workspace
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert "objects/ledger.ledgerbundle.json" not in archive.namelist()
