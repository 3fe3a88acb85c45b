"""Background tasks of the pulse: open the rounds that are due, invite the people asked."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from confiance.core.notices import notify
from confiance.pulse.models import PulseSurvey


@task()
def open_due_pulses() -> int:
    """Open every due pulse round (run on schedule by the worker); how many opened."""
    from confiance.pulse.services import pulse_open_due

    return pulse_open_due()


@task()
def send_pulse_invitations(survey_id: int) -> int:
    """Tell each person asked, in the app and by e-mail, with the link to answer."""
    survey = PulseSurvey.objects.select_related("engagement__workspace").get(pk=survey_id)
    engagement = survey.engagement
    link = reverse("pulse", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    users = [invitee.user for invitee in survey.invitees.select_related("user").order_by("pk")]
    notices = notify(
        workspace_id=engagement.workspace_id,
        users=users,
        kind="pulse.open",
        # The closing date is rendered in each reader's language (see PulseConfig).
        params={"engagement": engagement.title, "closes_at": survey.closes_at.isoformat()},
        link=link,
    )
    return len(notices)
