"""Background tasks of emergence: invitations, notices (mentions, phase moves), the digest."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from confiance.core.models import Notice, User
from confiance.core.notices import render_notice


@task()
def send_notices(
    workspace_id: int, user_ids: list[int], kind: str, params: dict[str, Any], link: str
) -> None:
    """A notice for each person, and an e-mail copy."""
    for user in User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"):
        Notice.objects.create(
            workspace_id=workspace_id, user=user, kind=kind, params=params, link=link
        )
        with translation.override(settings.LANGUAGE_CODE):
            text = render_notice(kind, params)
        send_mail(
            text, f"{text}\n\n{settings.SITE_URL}{link}", settings.DEFAULT_FROM_EMAIL, [user.email]
        )


@task()
def send_opportunity_invitation(participant_id: int, link: str | None) -> None:
    """E-mail an invitation to an opportunity: the need, who invites and why, and the link.

    `link` is the workspace's signed invitation link for someone without an account; people
    already in the workspace get the opportunity's own address.
    """
    from confiance.emergence.models import Participant
    from confiance.emergence.services import opportunity_link

    participant = Participant.objects.select_related(
        "opportunity__workspace", "opportunity__client", "invited_by"
    ).get(pk=participant_id)
    opportunity = participant.opportunity
    context = {
        "participant": participant,
        "opportunity": opportunity,
        "link": link or settings.SITE_URL + opportunity_link(opportunity),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emergence/email/invitation_subject.txt", context).strip()
        body = render_to_string("emergence/email/invitation_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [participant.email])


@task()
def emergence_daily() -> str:
    """Daily: accept the nominations whose quiet period passed, send the digests."""
    from confiance.emergence.services import digests_send, nominations_settle

    accepted = nominations_settle()
    sent = digests_send()
    return f"{len(accepted)} nomination(s) accepted, {sent} digest(s) sent."
