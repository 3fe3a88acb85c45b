"""Background tasks of the follow-up: one reminder per overdue commitment to its owner."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from confiance.core.models import Notice
from confiance.followup.models import Commitment
from confiance.followup.selectors import overdue_commitments


@task()
def remind_overdue_commitments() -> int:
    """Remind each owner of an overdue commitment, once per due date; returns how many."""
    sent = 0
    for commitment_id in overdue_commitments().values_list("pk", flat=True):
        if _remind(commitment_id):
            sent += 1
    return sent


def _remind(commitment_id: int) -> bool:
    with transaction.atomic():
        commitment = (
            Commitment.objects.select_for_update()
            .select_related("owner", "engagement__workspace")
            .get(pk=commitment_id)
        )
        # Re-checked under the lock, so two workers never remind twice.
        if not commitment.is_overdue() or commitment.reminder_due_date == commitment.due_date:
            return False
        commitment.reminder_due_date = commitment.due_date
        commitment.reminded_at = timezone.now()
        commitment.save(update_fields=["reminder_due_date", "reminded_at"])
        engagement = commitment.engagement
        link = reverse("followup", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
        Notice.objects.create(
            workspace_id=engagement.workspace_id,
            user=commitment.owner,
            kind="commitment.overdue",
            params={
                "engagement": engagement.title,
                "text": commitment.text[:120],
                "due_date": commitment.due_date.isoformat(),
            },
            link=link,
        )
        owner = commitment.owner
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "commitment": commitment,
                "engagement": engagement,
                "link": settings.SITE_URL + link,
            }
            subject = render_to_string("followup/email/overdue_subject.txt", context).strip()
            body = render_to_string("followup/email/overdue_body.txt", context)
    # Sent once the reminder is committed: a crash before this line reminds nobody twice.
    if owner.is_active:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [owner.email])
    return True
