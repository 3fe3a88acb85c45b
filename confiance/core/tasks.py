"""Background tasks of the core app (run by the task worker)."""

from __future__ import annotations

from typing import Any

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


@task()
def deliver_notice(
    *,
    workspace_id: int,
    user_ids: list[int],
    kind: str,
    params: dict[str, Any],
    link: str,
    at: str | None = None,
) -> int:
    """Tell these people of one event (see confiance.core.notices.notify); how many told.

    `at`: the ISO moment of a fact recorded in history (no e-mail leaves about it)."""
    from datetime import datetime

    from confiance.core.models import User
    from confiance.core.notices import notify

    users = User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk")
    moment = datetime.fromisoformat(at) if at else None
    return len(
        notify(
            workspace_id=workspace_id,
            users=users,
            kind=kind,
            params=params,
            link=link,
            at=moment,
        )
    )


@task()
def send_daily_digests() -> int:
    """Send each person the digest of the notices they asked to receive once a day."""
    from confiance.core.notices import digests_send

    return digests_send()


@task()
def send_notice_emails(notice_ids: list[int]) -> int:
    """E-mail notices written inside a transaction, once it committed; how many sent."""
    from confiance.core.models import Notice, NoticeEmail
    from confiance.core.notices import notice_email_send

    notices = Notice.objects.filter(pk__in=notice_ids, email=NoticeEmail.PENDING)
    sent = 0
    for notice in notices.select_related("user").order_by("pk"):
        if notice.user.is_active:
            notice_email_send(notice=notice)
            sent += 1
    return sent
