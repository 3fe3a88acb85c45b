"""Background tasks of emergence: a newcomer's invitation e-mail, the daily settling.

Everything else emergence tells people goes through the notices (confiance.core.notices)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task


@task()
def send_opportunity_invitation(participant_id: int, link: str, language: str = "") -> None:
    """E-mail a newcomer's invitation to an opportunity: the need, who invites and why, and the
    workspace's signed invitation link, in the inviter's language (the newcomer has none yet).

    People already in the workspace are told through the notices, in their own language.
    """
    from confiance.emergence.models import Participant

    participant = Participant.objects.select_related(
        "opportunity__workspace", "opportunity__client", "invited_by"
    ).get(pk=participant_id)
    opportunity = participant.opportunity
    context = {
        "participant": participant,
        "opportunity": opportunity,
        "link": link,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string("emergence/email/invitation_subject.txt", context).strip()
        body = render_to_string("emergence/email/invitation_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [participant.email])


@task()
def emergence_daily() -> str:
    """Daily: accept the nominations whose quiet period passed (the notice digests, new messages
    included, leave with everyone else's: confiance.core.tasks.send_daily_digests)."""
    from confiance.emergence.services import nominations_settle

    accepted = nominations_settle()
    return f"{len(accepted)} nomination(s) accepted."
