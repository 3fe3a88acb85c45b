"""Background tasks of consumption: budget alerts to both sides at the same moment."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from confiance.consumption.models import BudgetAlert
from confiance.core.models import Membership, Notice, Role


@task()
def send_budget_alert(alert_id: int) -> None:
    """Tell the engagement lead and the client's contacts, by e-mail and in the app."""
    alert = BudgetAlert.objects.select_related("engagement__workspace", "engagement__lead").get(
        pk=alert_id
    )
    engagement = alert.engagement
    recipients = []
    if engagement.lead is not None:
        recipients.append(engagement.lead)
    contacts = Membership.objects.filter(
        workspace_id=engagement.workspace_id, role=Role.CLIENT, client_id=engagement.client_id
    ).select_related("user")
    recipients += [m.user for m in contacts if m.user.is_active]
    link = reverse("consumption", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    for user in recipients:
        # The same words for both sides; each in the default language of the installation.
        with translation.override(settings.LANGUAGE_CODE):
            context = {"alert": alert, "engagement": engagement, "link": settings.SITE_URL + link}
            message = render_to_string("consumption/email/budget_alert.txt", context).strip()
            subject = render_to_string("consumption/email/budget_alert_subject.txt", context)
        Notice.objects.create(
            workspace_id=engagement.workspace_id,
            user=user,
            kind="budget.alert",
            params={"engagement": engagement.title, "level": alert.level},
            link=link,
        )
        send_mail(subject.strip(), message, settings.DEFAULT_FROM_EMAIL, [user.email])
