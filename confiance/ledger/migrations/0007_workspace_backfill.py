"""Fill the workspace of existing subtree hashes (from their engagement) and cosignatures (from
their checkpoint), 10,000 rows per transaction: the nodes are as many as the ledger's entries
twice over. Not atomic, so each batch commits; run again, it resumes where it stopped."""

from django.db import migrations

from confiance.core.backfill import workspace_backfill


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    using = schema_editor.connection.alias
    workspace_backfill(apps.get_model("ledger", "LedgerNode"), "engagement", using=using)
    workspace_backfill(apps.get_model("ledger", "Cosignature"), "checkpoint", using=using)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0006_workspace_on_nodes_and_cosignatures"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
