"""A remembered API answer carries its workspace, as every tenant table does (DESIGN.md,
docs/scale.md), filled from its token; required by 0003 (a later transaction: PostgreSQL
refuses to alter a table with the foreign-key checks of this update still pending)."""

import django.db.models.deletion
from django.db import migrations, models

from confiance.core.backfill import workspace_backfill


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    answers = apps.get_model("api", "IdempotentRequest")
    workspace_backfill(answers, "token", using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("core", "0007_scheduled_job"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotentrequest",
            name="workspace",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="core.workspace",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
