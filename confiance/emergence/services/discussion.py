"""Writes of the discussion: Markdown posts (sanitised), edits kept, attachments, visits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance.core.attachments import attachment_check, attachment_store
from confiance.core.audit import audit_record
from confiance.core.models import Membership, User
from confiance.emergence import markdown
from confiance.emergence.models import (
    Attachment,
    Opportunity,
    Participant,
    Post,
    PostRevision,
    Visit,
)
from confiance.emergence.services.common import (
    MAX_POST_LENGTH,
    excerpt,
    handle_of,
    notify,
    require_speaker,
)

# Discussion ------------------------------------------------------------------------------------


def attachment_dir() -> Path:
    """Where attachments live: under var/, outside the static and web roots."""
    return Path(settings.EMERGENCE_ATTACHMENT_DIR)


def _mentioned_users(opportunity: Opportunity, text: str, author: User) -> list[User]:
    handles = markdown.mentions(text)
    if not handles:
        return []
    people = User.objects.filter(
        participations__opportunity=opportunity,
        participations__declined_at__isnull=True,
        participations__left_at__isnull=True,
        participations__removed_at__isnull=True,
    ).exclude(pk=author.pk)
    return [u for u in people if handle_of(u) in handles]


def _followers(opportunity: Opportunity) -> list[User]:
    """The participants who asked to hear of every new message of this discussion."""
    return [
        p.user
        for p in Participant.objects.select_related("user").filter(
            opportunity=opportunity,
            wants_digest=True,
            user__isnull=False,
            joined_at__isnull=False,
            declined_at__isnull=True,
            left_at__isnull=True,
            removed_at__isnull=True,
        )
        if p.user is not None
    ]


@transaction.atomic
def post_create(
    *,
    membership: Membership,
    opportunity: Opportunity,
    body: str,
    parent_id: int | None = None,
    attachment: UploadedFile | None = None,
) -> Post:
    """Write a message (Markdown, sanitised) or a reply; @mentions notify those named."""
    require_speaker(membership, opportunity)
    errors: dict[str, str] = {}
    if not body.strip():
        errors["body"] = _("Write something.")
    elif len(body) > MAX_POST_LENGTH:
        errors["body"] = _("A message is at most %(n)s characters.") % {"n": MAX_POST_LENGTH}
    parent = None
    if parent_id is not None:
        parent = Post.objects.filter(pk=parent_id, opportunity=opportunity).first()
        if parent is None:
            errors["parent"] = _("The message you reply to does not exist.")
    if errors:
        raise ValidationError(errors)
    checked = (
        attachment_check(attachment, max_bytes=settings.EMERGENCE_ATTACHMENT_MAX_BYTES)
        if attachment is not None
        else None
    )
    now = timezone.now()
    post = Post.objects.create(
        workspace_id=opportunity.workspace_id,
        opportunity=opportunity,
        author=membership.user,
        parent=parent,
        body=body,
        body_html=markdown.render(body),
        created_at=now,
    )
    if checked is not None:
        stored = attachment_store(attachment_dir(), opportunity.workspace_id, checked)
        Attachment.objects.create(
            workspace_id=opportunity.workspace_id,
            post=post,
            name=checked.name,
            content_type=checked.content_type,
            size=stored.size,
            path=stored.path,
            sha256=stored.sha256,
        )
    Opportunity.objects.filter(pk=opportunity.pk).update(updated_at=now)
    audit_record(
        verb="post.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=post,
        data={"opportunity": opportunity.pk},
    )
    mentioned = _mentioned_users(opportunity, body, membership.user)
    params = {
        "who": membership.user.get_full_name(),
        "opportunity": opportunity.title,
        "excerpt": excerpt(body),
    }
    notify(opportunity, mentioned, "emergence.mention", params)
    named = {u.pk for u in mentioned}
    notify(
        opportunity,
        [u for u in _followers(opportunity) if u.pk != membership.user_id and u.pk not in named],
        "emergence.post",
        params,
    )
    return post


@transaction.atomic
def post_edit(*, membership: Membership, post: Post, body: str) -> Post:
    """Edit one's own message; the earlier text is kept in its history."""
    opportunity = post.opportunity
    require_speaker(membership, opportunity)
    if post.author_id != membership.user_id:
        raise PermissionDenied
    if not body.strip():
        raise ValidationError({"body": _("Write something.")})
    if len(body) > MAX_POST_LENGTH:
        raise ValidationError(
            {"body": _("A message is at most %(n)s characters.") % {"n": MAX_POST_LENGTH}}
        )
    if body == post.body:
        return post
    PostRevision.objects.create(
        workspace_id=post.workspace_id,
        post=post,
        body=post.body,
        written_at=post.edited_at or post.created_at,
    )
    before = markdown.mentions(post.body)
    post.body = body
    post.body_html = markdown.render(body)
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "body_html", "edited_at"])
    audit_record(
        verb="post.edit", actor=membership.user, workspace=membership.workspace, target=post
    )
    newly = [
        u
        for u in _mentioned_users(opportunity, body, membership.user)
        if handle_of(u) not in before
    ]
    notify(
        opportunity,
        newly,
        "emergence.mention",
        {
            "who": membership.user.get_full_name(),
            "opportunity": opportunity.title,
            "excerpt": excerpt(body),
        },
    )
    return post


def visit_record(*, membership: Membership, opportunity: Opportunity) -> datetime | None:
    """Remember this visit; returns the previous one (what is new is what came after it)."""
    now = timezone.now()
    visit = Visit.objects.filter(opportunity=opportunity, user=membership.user).first()
    if visit is None:
        Visit.objects.create(
            workspace_id=opportunity.workspace_id,
            opportunity=opportunity,
            user=membership.user,
            seen_at=now,
        )
        return None
    previous = visit.seen_at
    Visit.objects.filter(pk=visit.pk).update(seen_at=now)
    return previous
