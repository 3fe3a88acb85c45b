"""Background tasks of the core app (run by the task worker)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from confiance.core.models import Invitation


@task()
def send_invitation_email(invitation_id: int, link: str, language: str) -> None:
    """E-mail an invitation link, in the inviter's language."""
    invitation = Invitation.objects.select_related("workspace", "invited_by").get(pk=invitation_id)
    with translation.override(language):
        context = {"invitation": invitation, "link": link}
        subject = render_to_string("core/email/invitation_subject.txt", context).strip()
        body = render_to_string("core/email/invitation_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
