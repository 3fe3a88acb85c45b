"""Telling people: one notice per person, and its e-mail in their language, as they prefer.

Every event that concerns someone goes through `notify()` (from a task or an on-commit callback)
or `notify_on_commit()` (from inside a service's transaction). For each person it writes an
in-app notice and, according to the person's preference for the notice's *group*, e-mails it
at once, keeps it for the daily digest, or does not e-mail it. E-mails are written in the
reader's language (`User.language`), carry the figures the kind declares (`details`), a link
to the page, and a signed unsubscribe link that works without logging in.

Each app declares its kinds in its `ready()`: `register_notice(kind, text, details=..., ...)`.
`text(params)` is one line (the notice and the e-mail's subject); `details(params)` returns the
paragraphs of the e-mail's body (figures, what to do); `attachment(params)` may return an
e-mail attachment (`(filename, content, mimetype)`, e.g. a meeting's iCalendar request). The
group of a kind is its prefix before the dot unless given; its label comes from
`register_notice_group`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from confiance.core.models import Notice, User

Renderer = Callable[[dict[str, Any]], str]
DetailsRenderer = Callable[[dict[str, Any]], Sequence[str]]
Attachment = tuple[str, bytes, str]
AttachmentRenderer = Callable[[dict[str, Any]], Attachment | None]

IMMEDIATE = "immediate"
DIGEST = "digest"
OFF = "off"
MODES = (IMMEDIATE, DIGEST, OFF)
MODE_LABELS: dict[str, Promise] = {
    IMMEDIATE: gettext_lazy("At once"),
    DIGEST: gettext_lazy("In a daily digest"),
    OFF: gettext_lazy("Not by e-mail"),
}

UNSUBSCRIBE_SALT = "confiance.notices.unsubscribe"
ALL_GROUPS = "*"


@dataclass(frozen=True)
class NoticeKind:
    kind: str
    text: Renderer
    group: str
    details: DetailsRenderer | None = None
    attachment: AttachmentRenderer | None = None


_KINDS: dict[str, NoticeKind] = {}
_GROUPS: dict[str, Promise | str] = {}
_DEFAULT_MODES: dict[str, str] = {}


def register_notice(
    kind: str,
    renderer: Renderer,
    *,
    details: DetailsRenderer | None = None,
    group: str | None = None,
    attachment: AttachmentRenderer | None = None,
) -> None:
    """Declare how a kind of notice reads (called from an app's ready())."""
    _KINDS[kind] = NoticeKind(
        kind=kind,
        text=renderer,
        group=group or kind.split(".", 1)[0],
        details=details,
        attachment=attachment,
    )


def register_notice_group(group: str, label: Promise | str, *, default: str = IMMEDIATE) -> None:
    """Name a group of notices, as people choose how each group reaches them; `default` is how
    it reaches those who chose nothing (a chatty group, such as new messages, can default to the
    digest)."""
    _GROUPS[group] = label
    if default != IMMEDIATE:
        _DEFAULT_MODES[group] = default


def notice_groups() -> list[tuple[str, str]]:
    """Every group of notices with its label, in the active language, sorted by label."""
    groups = {k.group for k in _KINDS.values()} | set(_GROUPS)
    return sorted(((g, str(_GROUPS.get(g, g))) for g in groups), key=lambda item: item[1].lower())


def notice_kinds() -> list[str]:
    """Every kind of notice the apps registered, sorted."""
    return sorted(_KINDS)


def group_of(kind: str) -> str:
    registered = _KINDS.get(kind)
    return registered.group if registered else kind.split(".", 1)[0]


def notice_day(iso: Any) -> str:
    """A date a notice keeps as YYYY-MM-DD, in the reader's format (as given if it is none)."""
    from datetime import date

    from django.utils import formats

    try:
        return str(formats.date_format(date.fromisoformat(str(iso)), "DATE_FORMAT"))
    except (TypeError, ValueError):
        return str(iso or "")


def render_notice(kind: str, params: dict[str, Any]) -> str:
    registered = _KINDS.get(kind)
    if registered is None:
        return _("Notice: %(kind)s") % {"kind": kind}
    return registered.text(params)


def render_details(kind: str, params: dict[str, Any]) -> list[str]:
    registered = _KINDS.get(kind)
    if registered is None or registered.details is None:
        return []
    return [str(line) for line in registered.details(params) if line]


def mode_for_group(user: User, group: str) -> str:
    """How this person wants a group of notices e-mailed (default: the group's, else at once)."""
    modes = user.notice_modes or {}
    mode = modes.get(group, modes.get(ALL_GROUPS, _DEFAULT_MODES.get(group, IMMEDIATE)))
    return mode if mode in MODES else IMMEDIATE


def mode_for(user: User, kind: str) -> str:
    """How this person wants this kind of notice e-mailed."""
    return mode_for_group(user, group_of(kind))


def language_of(user: User) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return user.language if user.language in codes else settings.LANGUAGE_CODE


def unsubscribe_token(user: User, group: str) -> str:
    """A signed token that turns off one group's e-mails (or all, `ALL_GROUPS`) for one person."""
    return signing.dumps({"u": user.pk, "g": group}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    """(user id, group) of a valid unsubscribe token, or None if it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    group = data.get("g")
    return (data["u"], group) if isinstance(group, str) else None


def unsubscribe_url(user: User, group: str) -> str:
    path = reverse("notice-unsubscribe", kwargs={"token": unsubscribe_token(user, group)})
    return settings.SITE_URL + path


def notify(
    *,
    workspace_id: int,
    users: Iterable[User],
    kind: str,
    params: dict[str, Any],
    link: str = "",
    defer_email: bool = False,
    at: datetime | None = None,
) -> list[Notice]:
    """Tell each active person once: a notice, and its e-mail as their preference says.

    `at`: the moment of a fact recorded after the event (history loaded later): the notice
    carries that date and no e-mail leaves today about it.

    Call it once the facts are committed (from a task or an on-commit callback). Inside a
    service's transaction, either `defer_email=True` (the notices are part of the transaction,
    the e-mails leave through the worker once it commits) or `notify_on_commit`. Returns the
    notices written.
    """
    from confiance.core.models import Notice, NoticeEmail

    unique: dict[int, User] = {}
    for user in users:
        if user is not None and user.is_active:
            unique.setdefault(user.pk, user)
    notices: list[Notice] = []
    for user in unique.values():
        mode = OFF if at is not None else mode_for(user, kind)
        state = {
            IMMEDIATE: NoticeEmail.PENDING,
            DIGEST: NoticeEmail.DIGEST,
            OFF: NoticeEmail.OFF,
        }[mode]
        notice = Notice.objects.create(
            workspace_id=workspace_id,
            user=user,
            kind=kind,
            params=params,
            link=link,
            email=state,
            **({"created_at": at} if at is not None else {}),
        )
        notice.user = user
        notices.append(notice)
        if state == NoticeEmail.PENDING and not defer_email:
            notice_email_send(notice=notice)
    pending = [n.pk for n in notices if n.email == NoticeEmail.PENDING]
    if defer_email and pending:
        from confiance.core.taskqueue import enqueue_on_commit
        from confiance.core.tasks import send_notice_emails

        enqueue_on_commit(send_notice_emails, pending)
    return notices


def notify_on_commit(
    *,
    workspace_id: int,
    user_ids: Iterable[int],
    kind: str,
    params: dict[str, Any],
    link: str = "",
    at: datetime | None = None,
) -> None:
    """From inside a transaction: tell these people once it commits (through the task worker).

    `at`: as for `notify`, the moment of a fact recorded in history (the demo's story)."""
    ids = sorted({int(pk) for pk in user_ids if pk is not None})
    if not ids:
        return
    from confiance.core.taskqueue import enqueue_on_commit
    from confiance.core.tasks import deliver_notice

    enqueue_on_commit(
        deliver_notice,
        workspace_id=workspace_id,
        user_ids=ids,
        kind=kind,
        params=params,
        link=link,
        at=at.isoformat() if at is not None else None,
    )


def _footer(user: User, groups: Iterable[str]) -> list[str]:
    lines = ["-- "]
    lines.append(
        _("How Confiance e-mails you: %(url)s")
        % {"url": settings.SITE_URL + reverse("notice-preferences")}
    )
    for group in sorted(set(groups)):
        lines.append(
            _("No more e-mails about “%(group)s”: %(url)s")
            % {"group": str(_GROUPS.get(group, group)), "url": unsubscribe_url(user, group)}
        )
    return lines


def _message(
    *, user: User, subject: str, body: str, unsubscribe: str, attachments: Sequence[Attachment]
) -> Any:
    from django.core.mail import EmailMessage

    message = EmailMessage(
        subject=subject.replace("\n", " ").strip()[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            # RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this link.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message


def notice_email_send(*, notice: Notice) -> None:
    """E-mail one notice to its reader now, in their language, and mark it sent."""
    from confiance.core.models import NoticeEmail

    user = notice.user
    group = group_of(notice.kind)
    registered = _KINDS.get(notice.kind)
    with translation.override(language_of(user)):
        subject = render_notice(notice.kind, notice.params)
        parts = [subject, *render_details(notice.kind, notice.params)]
        if notice.link:
            parts.append(settings.SITE_URL + notice.link)
        body = "\n\n".join(parts) + "\n\n" + "\n".join(_footer(user, [group])) + "\n"
        attachment = (
            registered.attachment(notice.params)
            if registered is not None and registered.attachment is not None
            else None
        )
    _message(
        user=user,
        subject=subject,
        body=body,
        unsubscribe=unsubscribe_url(user, group),
        attachments=[attachment] if attachment else [],
    ).send()
    type(notice).objects.filter(pk=notice.pk).update(email=NoticeEmail.SENT)
    notice.email = NoticeEmail.SENT


def digest_send(*, user: User) -> int:
    """Send one person's daily digest of the notices kept for it; returns how many it holds."""
    from confiance.core.models import Notice, NoticeEmail

    with transaction.atomic():
        pending = list(
            Notice.objects.select_for_update()
            .filter(user=user, email=NoticeEmail.DIGEST)
            .order_by("created_at", "pk")
        )
        if not pending:
            return 0
        Notice.objects.filter(pk__in=[n.pk for n in pending]).update(email=NoticeEmail.DIGESTED)
    with translation.override(language_of(user)):
        subject = _("Confiance: your daily digest (%(count)s notices)") % {"count": len(pending)}
        blocks = []
        for notice in pending:
            lines = [f"• {render_notice(notice.kind, notice.params)}"]
            lines += [f"  {line}" for line in render_details(notice.kind, notice.params)]
            if notice.link:
                lines.append(f"  {settings.SITE_URL}{notice.link}")
            blocks.append("\n".join(lines))
        groups = [group_of(n.kind) for n in pending]
        body = "\n\n".join(blocks) + "\n\n" + "\n".join(_footer(user, groups)) + "\n"
    _message(
        user=user,
        subject=subject,
        body=body,
        unsubscribe=unsubscribe_url(user, ALL_GROUPS),
        attachments=[],
    ).send()
    return len(pending)


def digests_send() -> int:
    """Send every daily digest that has something in it; returns how many e-mails were sent."""
    from confiance.core.models import Notice, NoticeEmail, User

    user_ids = (
        Notice.objects.filter(email=NoticeEmail.DIGEST).values_list("user_id", flat=True).distinct()
    )
    sent = 0
    for user in User.objects.filter(pk__in=list(user_ids), is_active=True).order_by("pk"):
        if digest_send(user=user):
            sent += 1
    return sent
