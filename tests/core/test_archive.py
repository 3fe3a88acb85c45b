"""Export and restore: the archive of a workspace carries what it must (tree nodes, cosignatures,
visits, even from older archives) and leaves out caches; backups keep the newest archives. The
demo's archive restored into an empty installation: tests/core/test_archive_restore.py."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from django.core.management import call_command

from confiance.core.archive import archive_restore, backups_run, workspace_export
from confiance.core.models import User, Workspace
from tests.conftest import World


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


def _exported_as(world: World, edit: Callable[[str, bytes], bytes | None]) -> io.BytesIO:
    """The workspace's archive with each member as `edit` gives it back (None: left out), as
    an older version of the export would have written it."""
    buffer = io.BytesIO()
    workspace_export(workspace=world.workspace, target=buffer)
    older = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(older, "w") as out,
    ):
        for name in source.namelist():
            data = edit(name, source.read(name))
            if data is not None:
                out.writestr(name, data)
    return older


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

    # As an archive made before these tables carried their workspace: the field is absent;
    # and before the trust summaries existed: none in it.
    def older_form(name: str, data: bytes) -> bytes | None:
        if name == "objects/trust.trustsummary.json":
            return None
        if name == "manifest.json":
            manifest = json.loads(data)
            del manifest["counts"]["trust.trustsummary"]
            return json.dumps(manifest).encode()
        if name in ("objects/ledger.ledgernode.json", "objects/emergence.visit.json"):
            rows = json.loads(data)
            assert all(r["fields"]["workspace"] == world.workspace.pk for r in rows)
            for row in rows:
                del row["fields"]["workspace"]
            return json.dumps(rows).encode()
        return data

    older = _exported_as(world, older_form)
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


def test_trust_summaries_from_an_archive_of_their_json_column_are_written_again(
    world: World,
) -> None:
    """Before trust 0012 an archive held a summary's items as a list (a JSON column): restored,
    the summaries are written again as text from the restored states, and the portfolio ranks."""
    from confiance.trust import indicators, selectors
    from confiance.trust.models import TrustSummary
    from confiance.trust.services import trust_record_fact

    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact(
            "provider_commitment_kept", world.engagement.created_at, 1.0, 0.0, "kept", "", "t", "1"
        ),
    )
    summaries = {s.engagement_id: s.states for s in TrustSummary.objects.all()}
    ranked = [(r.pk, r.c2p) for r in selectors.trust_portfolio_ranking(fetched_by=world.owner)]

    def listed(name: str, data: bytes) -> bytes:
        if name != "objects/trust.trustsummary.json":
            return data
        rows = json.loads(data)
        for row in rows:
            row["fields"]["states"] = json.loads(row["fields"]["states"])
        return json.dumps(rows).encode()

    older = _exported_as(world, listed)
    _empty_installation()
    archive_restore(source=io.BytesIO(older.getvalue()))
    assert {s.engagement_id: s.states for s in TrustSummary.objects.all()} == summaries
    owner = world.owner.__class__.objects.get(pk=world.owner.pk)
    again = [(r.pk, r.c2p) for r in selectors.trust_portfolio_ranking(fetched_by=owner)]
    assert [pk for pk, _c2p in again] == [pk for pk, _c2p in ranked]


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
