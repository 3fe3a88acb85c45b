"""A visit carries its workspace, as every tenant table does (DESIGN.md, docs/scale.md), filled
from its opportunity; required by 0004 (a later transaction: PostgreSQL refuses to alter a
table with the foreign-key checks of this update still pending)."""

import django.db.models.deletion
from django.db import migrations, models

from confiance.core.backfill import workspace_backfill


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    visits = apps.get_model("emergence", "Visit")
    workspace_backfill(visits, "opportunity", using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_scheduled_job"),
        ("emergence", "0002_agreement_version_terms"),
    ]

    operations = [
        migrations.AddField(
            model_name="visit",
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
