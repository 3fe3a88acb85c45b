"""Background tasks of consumption: budget alerts to both sides at the same moment."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from confiance.consumption.models import BudgetAlert
from confiance.core.models import Membership, Role
from confiance.core.notices import notify


def _days(minutes: int | None, per_day: int) -> str | None:
    return None if minutes is None else f"{minutes / per_day:.1f}"


@task()
def send_budget_alert(alert_id: int, in_history: bool = False) -> None:
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
    recipients += [m.user for m in contacts]
    per_day = engagement.workspace.minutes_per_day or 480
    budget = alert.budget_minutes
    params = {
        "engagement": engagement.title,
        "level": alert.level,
        "consumed_days": _days(alert.consumed_minutes, per_day),
        "budget_days": _days(budget, per_day),
        "forecast_days": _days(alert.forecast_minutes, per_day),
        "percent": round(100 * alert.consumed_minutes / budget) if budget else None,
        "over_days": (
            _days(alert.forecast_minutes - budget, per_day)
            if alert.forecast_minutes is not None and alert.forecast_minutes > budget
            else None
        ),
    }
    link = reverse("consumption", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    # A threshold crossed in history recorded later (the demo's weeks of work) is told with
    # its own date, without an e-mail today about a past moment.
    past = alert.created_at if in_history else None
    # The same words for both sides, at the same moment; each in their own language.
    notify(
        workspace_id=engagement.workspace_id,
        users=recipients,
        kind="budget.alert",
        params=params,
        link=link,
        at=past,
    )
