"""Background tasks of the closure: tell the provider that the client approved for payment."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from confiance.closure.models import ClosureApproval


@task()
def notify_closure_approved(approval_id: int) -> None:
    """The engagement lead and whoever started the closure get a notice and an e-mail."""
    from confiance.core.models import Notice

    approval = ClosureApproval.objects.select_related(
        "approved_by",
        "closure__started_by",
        "closure__engagement__workspace",
        "closure__engagement__lead",
    ).get(pk=approval_id)
    engagement = approval.closure.engagement
    recipients = {approval.closure.started_by}
    if engagement.lead is not None:
        recipients.add(engagement.lead)
    link = reverse("closure", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    params = {"engagement": engagement.title, "who": approval.approved_by.get_full_name()}
    for user in sorted((u for u in recipients if u.is_active), key=lambda u: u.pk):
        Notice.objects.create(
            workspace_id=engagement.workspace_id,
            user=user,
            kind="closure.approved",
            params=params,
            link=link,
        )
        with translation.override(settings.LANGUAGE_CODE):
            subject = closure_approved_text(params)
            body = _("%(text)s\n\nApproved analysis (SHA-256): %(hash)s\n%(link)s") % {
                "text": subject,
                "hash": approval.analysis_hash,
                "link": settings.SITE_URL + link,
            }
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def closure_approved_text(params: dict[str, str]) -> str:
    return _("%(engagement)s: %(who)s approved the closure for payment.") % params
