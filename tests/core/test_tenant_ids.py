"""Every tenant table carries its workspace (DESIGN.md): the rows that used to reach it only
through a parent (ledger subtree hashes, cosignatures, visits, remembered API answers) get it on
every path that creates them, and the migration fills it for the rows that existed before."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client as HttpClient

from confiance.api.models import IdempotentRequest
from confiance.consumption.imports.services import import_run
from confiance.consumption.services import EntryInput, time_entries_log
from confiance.core import backfill
from confiance.core.services import api_token_create
from confiance.emergence import services as emergence
from confiance.emergence.models import Visit
from confiance.engagements.models import Engagement
from confiance.ledger import selectors as ledger_selectors
from confiance.ledger import services as ledger
from confiance.ledger.merkle import verify_inclusion
from confiance.ledger.models import Checkpoint, Cosignature, LedgerNode, Witness
from tests.conftest import World
from tests.consumption.import_support import prepare, sample, var_dir  # noqa: F401
from tests.emergence.support import open_opportunity

# The migrations that add the column, fill it and make it required.
MIGRATIONS = [
    ("ledger", "0006_workspace_on_nodes_and_cosignatures"),
    ("ledger", "0007_workspace_backfill"),
    ("ledger", "0008_workspace_required"),
    ("emergence", "0003_visit_workspace"),
    ("emergence", "0004_visit_workspace_required"),
    ("api", "0002_idempotentrequest_workspace"),
    ("api", "0003_idempotentrequest_workspace_required"),
]


def _migrate(*, backwards: bool) -> None:
    """Unapply or apply MIGRATIONS alone, each from the state just before it (the executor's
    migrate() would rebuild the state of every migration of the project, for seconds)."""
    loader = MigrationLoader(connection)
    recorder = MigrationRecorder(connection)
    for key in reversed(MIGRATIONS) if backwards else MIGRATIONS:
        migration = loader.graph.nodes[key]
        before = loader.project_state(key, at_end=False)
        with connection.schema_editor(atomic=migration.atomic) as editor:
            if backwards:
                migration.unapply(before, editor)
            else:
                migration.apply(before, editor)
        if backwards:
            recorder.record_unapplied(*key)
        else:
            recorder.record_applied(*key)


def _log(world: World, engagement: Engagement, count: int) -> None:
    membership = world.member if engagement.workspace_id == world.workspace.pk else world.outsider
    time_entries_log(
        membership=membership,
        engagement=engagement,
        items=[
            EntryInput(person=membership.user, date=date(2026, 10, 5), minutes=30)
            for _ in range(count)
        ],
    )


def _assert_proofs_verify(engagement: Engagement) -> None:
    size = ledger_selectors.ledger_log(engagement=engagement).size()
    for index in (0, size // 2, size - 1):
        found = ledger_selectors.entry_with_proof(engagement=engagement, index=index, size=None)
        assert verify_inclusion(
            found.data.encode(), index, found.tree_size, found.proof, found.root
        )


def _node_workspaces(engagement: Engagement) -> set[int]:
    return set(
        LedgerNode.objects.filter(engagement=engagement).values_list("workspace_id", flat=True)
    )


@pytest.mark.usefixtures("var_dir")
def test_ledger_nodes_carry_their_workspace_on_every_append_and_import(world: World) -> None:
    _log(world, world.engagement, 1)
    _log(world, world.foreign_engagement, 3)
    job = prepare(world, sample("generic.csv"))
    import_run(job_id=job.pk)  # the import's batched append
    assert LedgerNode.objects.filter(engagement=world.engagement).count() > 8
    assert _node_workspaces(world.engagement) == {world.workspace.pk}
    assert _node_workspaces(world.foreign_engagement) == {world.other_workspace.pk}
    # Proofs read the nodes by their workspace-led key, and still verify.
    _assert_proofs_verify(world.engagement)


def test_visits_and_remembered_api_answers_carry_their_workspace(world: World) -> None:
    opportunity = open_opportunity(world)
    emergence.visit_record(membership=world.owner, opportunity=opportunity)
    assert Visit.objects.get(opportunity=opportunity).workspace_id == world.workspace.pk

    token = api_token_create(membership=world.outsider, name="t", scope="write")[1]
    http = HttpClient(headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k"})
    response = http.post(
        f"/api/v1/engagements/{world.foreign_engagement.pk}/entries",
        data={"date": "2026-10-05", "minutes": 45},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert IdempotentRequest.objects.get(key="k").workspace_id == world.other_workspace.pk


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_workspace_of_existing_rows_from_their_parents(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log(world, world.engagement, 5)
    _log(world, world.foreign_engagement, 2)
    checkpoint = ledger.checkpoint_latest(engagement=world.engagement)
    witness = Witness.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        name="w.example/1",
        verifier_key="w.example/1+00000000+AA==",
        url="https://w.example/",
        side="client",
    )
    Cosignature.objects.create(
        workspace=world.workspace, checkpoint=checkpoint, witness=witness, line="x", timestamp=1
    )
    emergence.visit_record(membership=world.owner, opportunity=open_opportunity(world))
    token, _plain = api_token_create(membership=world.outsider, name="t")
    IdempotentRequest.objects.create(
        workspace=world.other_workspace,
        token=token,
        key="k",
        fingerprint="f",
        status=201,
        content_type="application/json",
        body=b"{}",
    )
    nodes = dict(LedgerNode.objects.values_list("pk", "workspace_id"))
    assert set(nodes.values()) == {world.workspace.pk, world.other_workspace.pk}

    monkeypatch.setattr(backfill, "BATCH_ROWS", 4)  # several batches of the node table
    _migrate(backwards=True)  # the columns are dropped, the rows stay
    assert "workspace_id" not in {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), LedgerNode._meta.db_table
        )
    }
    _migrate(backwards=False)

    assert dict(LedgerNode.objects.values_list("pk", "workspace_id")) == nodes
    assert Cosignature.objects.get().workspace_id == world.workspace.pk
    assert Visit.objects.get().workspace_id == world.workspace.pk
    assert IdempotentRequest.objects.get().workspace_id == world.other_workspace.pk
    assert Checkpoint.objects.filter(engagement=world.engagement).exists()
    # The log still answers from its nodes, by the workspace-led key, and grows.
    _log(world, world.engagement, 1)
    assert _node_workspaces(world.engagement) == {world.workspace.pk}
    _assert_proofs_verify(world.engagement)
