"""Subtree hashes and cosignatures carry their workspace, as every tenant table does (DESIGN.md,
the sharding plan of docs/scale.md); filled from their parents by 0007, required by 0008."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_scheduled_job"),
        ("ledger", "0005_checkpoint_mail"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgernode",
            name="workspace",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.workspace",
            ),
        ),
        migrations.AddField(
            model_name="cosignature",
            name="workspace",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.workspace",
            ),
        ),
    ]
