"""API tokens gain a scope and an expiry.

Tokens made before this could only read (the API had no write), so they keep the "read" scope;
they had no end, so they get one: 90 days after the upgrade, the default lifetime of a new token.
"""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone


def expire_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    ApiToken = apps.get_model("core", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + timedelta(days=90)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_client_archived_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expires"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="scope",
            field=models.CharField(
                choices=[("read", "Read"), ("write", "Read and write")],
                default="read",
                max_length=8,
                verbose_name="scope",
            ),
        ),
        migrations.RunPython(expire_existing, migrations.RunPython.noop),
    ]
