"""Background tasks of the follow-up: one reminder per overdue commitment to its owner, one per
overdue payment to both sides."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from confiance.core.models import User
from confiance.core.notices import notify
from confiance.engagements.stops import side_people
from confiance.followup.models import Commitment, Payment, Renegotiation, Side
from confiance.followup.selectors import overdue_commitments, overdue_payments


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
        owner = commitment.owner
        params = {
            "engagement": engagement.title,
            "text": commitment.text[:120],
            "due_date": commitment.due_date.isoformat(),
            "days_late": (timezone.localdate() - commitment.due_date).days,
        }
    # Told once the reminder is committed: a crash before this line reminds nobody twice.
    notify(
        workspace_id=engagement.workspace_id,
        users=[owner],
        kind="commitment.overdue",
        params=params,
        link=link,
    )
    return True


@task()
def remind_overdue_payments() -> int:
    """Tell both sides of each payment left unpaid past its due date, once; returns how many."""
    sent = 0
    for payment_id in overdue_payments().values_list("pk", flat=True):
        if _remind_payment(payment_id):
            sent += 1
    return sent


def _remind_payment(payment_id: int) -> bool:
    from confiance.engagements.stops import engagement_people

    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .select_related("engagement__workspace")
            .get(pk=payment_id)
        )
        # Re-checked under the lock, so two workers never remind twice.
        if payment.paid_date is not None or payment.reminded_at is not None:
            return False
        payment.reminded_at = timezone.now()
        payment.save(update_fields=["reminded_at"])
        engagement = payment.engagement
        link = reverse("followup", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
        params = {
            "engagement": engagement.title,
            "payment_kind": payment.kind,
            "label": payment.label,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "due_date": payment.due_date.isoformat(),
            "days_late": (timezone.localdate() - payment.due_date).days,
        }
        people = engagement_people(engagement)
    # The client who pays and the provider's lead read the same figures at the same moment.
    notify(
        workspace_id=engagement.workspace_id,
        users=User.objects.filter(pk__in=people),
        kind="payment.overdue",
        params=params,
        link=link + "#payments",
    )
    return True


@task()
def notify_renegotiation(renegotiation_id: int, in_history: bool = False) -> None:
    """Tell the other side that a renegotiation awaits its agreement (notice and e-mail).

    `in_history`: asked in the demo's story; the notice carries the day it was asked."""
    proposal = Renegotiation.objects.select_related(
        "commitment__engagement__workspace", "commitment__engagement__lead", "proposed_by"
    ).get(pk=renegotiation_id)
    commitment = proposal.commitment
    engagement = commitment.engagement
    # The other side: the client's contacts (none on a draft), or the lead (else the owners).
    other = Side.CLIENT if commitment.side == Side.PROVIDER else Side.PROVIDER
    recipients = User.objects.filter(pk__in=side_people(engagement, other))
    link = reverse(
        "commitment-detail",
        kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "cid": commitment.pk},
    )
    notify(
        workspace_id=engagement.workspace_id,
        users=recipients,
        kind="commitment.renegotiation",
        params={
            "engagement": engagement.title,
            "text": commitment.text[:120],
            "who": proposal.proposed_by.get_full_name(),
            "new_due_date": proposal.new_due_date.isoformat() if proposal.new_due_date else "",
            "new_text": proposal.new_text[:500],
            "reason": proposal.reason[:1000],
        },
        link=link,
        at=proposal.proposed_at if in_history else None,
    )


@task()
def rebuild_trust_after_review(engagement_id: int) -> int:
    """A contest began or ended: recount the engagement's trust without (or with) the fact."""
    from confiance.engagements.models import Engagement
    from confiance.trust.services import trust_rebuild

    engagement = Engagement.objects.select_related("workspace").get(pk=engagement_id)
    return trust_rebuild(engagement=engagement)
