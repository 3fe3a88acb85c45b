from django.db import migrations

from confiance.trust.summaries import summaries_fill


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """One summary row for every engagement that has trust states (the portfolio reads it)."""
    summaries_fill(
        apps.get_model("trust", "TrustState"),
        apps.get_model("trust", "TrustSummary"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    # Each batch of engagements is its own transaction (summaries_fill): a large installation
    # never holds one lock for the whole backfill; a stopped run is resumed by running it again
    # (each batch rewrites its engagements' rows).
    atomic = False

    dependencies = [
        ("trust", "0009_summary"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
