"""Payments long overdue before the overdue reminder existed are marked as reminded, so the
first run after the upgrade does not e-mail both sides of every old unpaid payment at once:
the reminder tells what falls due from now on, and what fell due in the last 14 days."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

STALE_AFTER_DAYS = 14


def mark_stale(apps, schema_editor):  # type: ignore[no-untyped-def]
    Payment = apps.get_model("followup", "Payment")
    now = timezone.now()
    Payment.objects.filter(
        paid_date__isnull=True,
        reminded_at__isnull=True,
        due_date__lt=timezone.localdate() - timedelta(days=STALE_AFTER_DAYS),
    ).update(reminded_at=now)


class Migration(migrations.Migration):
    dependencies = [("followup", "0005_payment_reminded_at")]

    operations = [migrations.RunPython(mark_stale, migrations.RunPython.noop)]
