"""Background tasks of the follow-up: one reminder per overdue commitment to its owner."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from confiance.core.models import Membership, Notice, Role
from confiance.followup.models import Commitment, Renegotiation, Side
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


@task()
def notify_renegotiation(renegotiation_id: int) -> None:
    """Tell the other side that a renegotiation awaits its agreement (notice and e-mail)."""
    proposal = Renegotiation.objects.select_related(
        "commitment__engagement__workspace", "commitment__engagement__lead", "proposed_by"
    ).get(pk=renegotiation_id)
    commitment = proposal.commitment
    engagement = commitment.engagement
    if commitment.side == Side.PROVIDER:
        recipients = [
            m.user
            for m in Membership.objects.filter(
                workspace_id=engagement.workspace_id,
                role=Role.CLIENT,
                client_id=engagement.client_id,
            ).select_related("user")
        ]
    elif engagement.lead is not None:
        recipients = [engagement.lead]
    else:
        recipients = [
            m.user
            for m in Membership.objects.filter(
                workspace_id=engagement.workspace_id, role=Role.OWNER
            ).select_related("user")
        ]
    link = reverse(
        "commitment-detail",
        kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "cid": commitment.pk},
    )
    with translation.override(settings.LANGUAGE_CODE):
        context = {"proposal": proposal, "engagement": engagement, "link": settings.SITE_URL + link}
        subject = render_to_string("followup/email/renegotiation_subject.txt", context).strip()
        body = render_to_string("followup/email/renegotiation_body.txt", context)
    for user in recipients:
        if not user.is_active:
            continue
        Notice.objects.create(
            workspace_id=engagement.workspace_id,
            user=user,
            kind="commitment.renegotiation",
            params={"engagement": engagement.title, "text": commitment.text[:120]},
            link=link,
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
