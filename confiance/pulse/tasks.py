"""Background tasks of the pulse: open the rounds that are due, invite the people asked."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django_tasks import task

from confiance.core.models import Notice
from confiance.pulse.models import PulseSurvey


@task()
def open_due_pulses() -> int:
    """Open every due pulse round (run by `confiance open-pulses` from cron); how many opened."""
    from confiance.pulse.services import pulse_open_due

    return pulse_open_due()


@task()
def send_pulse_invitations(survey_id: int) -> int:
    """Tell each person asked, in the app and by e-mail, with the link to answer."""
    survey = PulseSurvey.objects.select_related("engagement__workspace").get(pk=survey_id)
    engagement = survey.engagement
    link = reverse("pulse", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    sent = 0
    for invitee in survey.invitees.select_related("user").order_by("pk"):
        user = invitee.user
        with translation.override(settings.LANGUAGE_CODE):
            closes = formats.date_format(survey.closes_at, "DATE_FORMAT")
            context = {
                "survey": survey,
                "engagement": engagement,
                "closes": closes,
                "link": settings.SITE_URL + link,
            }
            subject = render_to_string("pulse/email/invitation_subject.txt", context).strip()
            body = render_to_string("pulse/email/invitation_body.txt", context)
        Notice.objects.create(
            workspace_id=engagement.workspace_id,
            user=user,
            kind="pulse.open",
            params={"engagement": engagement.title, "closes": closes},
            link=link,
        )
        if user.is_active:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
            sent += 1
    return sent
