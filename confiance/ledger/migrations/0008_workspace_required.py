"""Every subtree hash and cosignature has its workspace now (0007); the nodes' unique key, the
index every proof reads, leads with it (Citus needs the distribution column in it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0007_workspace_backfill"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="ledgernode", name="ledger_node_unique"),
        migrations.AlterField(
            model_name="ledgernode",
            name="workspace",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.workspace",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgernode",
            constraint=models.UniqueConstraint(
                fields=("workspace", "engagement", "level", "index"), name="ledger_node_unique"
            ),
        ),
        migrations.AlterField(
            model_name="cosignature",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.workspace",
            ),
        ),
    ]
