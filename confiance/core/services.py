"""Writes of the core app: workspaces, clients, invitations, API tokens. Each one is audited."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from confiance import access
from confiance.core import limits, totp
from confiance.core.audit import audit_record
from confiance.core.links import public_base_url
from confiance.core.models import (
    ApiToken,
    Client,
    Invitation,
    Membership,
    Notice,
    Role,
    TokenScope,
    User,
    Workspace,
)
from confiance.core.queries import Prepared, build, columns
from confiance.core.taskqueue import enqueue_on_commit
from confiance.core.tasks import send_invitation_email
from confiance.core.throttle import RateLimit

INVITATION_SALT = "confiance.invitation"
TOKEN_PREFIX = "cf_"  # noqa: S105 - a prefix, not a secret


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def user_create(*, email: str, password: str, full_name: str = "") -> User:
    """Create an account; the address is normalised to lower case."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account already exists for this address.")})
    return User.objects.create_user(email, password, full_name=full_name.strip())


@transaction.atomic
def membership_add(
    *, by: Membership, user: User, role: str, client: Client | None = None
) -> Membership:
    """Add an existing account to the workspace directly (owners only; invitations otherwise)."""
    if by.role != Role.OWNER:
        raise PermissionDenied
    if (role == Role.CLIENT) != (client is not None):
        raise ValidationError({"client": _("A client contact must be bound to a client.")})
    if client is not None and client.workspace_id != by.workspace_id:
        raise ValidationError({"client": _("Choose a client of this workspace.")})
    membership = Membership.objects.create(
        workspace_id=by.workspace_id, user=user, role=role, client=client
    )
    audit_record(
        verb="membership.add",
        actor=by.user,
        workspace=by.workspace,
        target=membership,
        data={"email": user.email, "role": role},
    )
    return membership


@transaction.atomic
def workspace_create(*, name: str, owner: User, slug: str = "") -> Workspace:
    """Create a workspace with `owner` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A workspace needs a name.")})
    slug = slugify(slug) if slug else _unique_slug(name)
    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This short name is already taken.")})
    workspace = Workspace.objects.create(name=name, slug=slug)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    audit_record(verb="workspace.create", actor=owner, workspace=workspace, target=workspace)
    return workspace


@transaction.atomic
def first_run_setup(
    *, email: str, password: str, full_name: str, workspace_name: str
) -> tuple[User, Workspace]:
    """Create the first person and workspace of an empty installation."""
    if User.objects.exists():
        raise PermissionDenied("This installation is already set up.")
    user = user_create(email=email, password=password, full_name=full_name)
    workspace = workspace_create(name=workspace_name, owner=user)
    return user, workspace


@transaction.atomic
def client_create(*, membership: Membership, name: str) -> Client:
    """Add a client organisation to the membership's workspace."""
    if not access.can_manage_engagements(membership):
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A client needs a name.")})
    if Client.objects.filter(workspace=membership.workspace, name__iexact=name).exists():
        raise ValidationError({"name": _("This client already exists.")})
    client = Client.objects.create(workspace=membership.workspace, name=name)
    audit_record(
        verb="client.create", actor=membership.user, workspace=membership.workspace, target=client
    )
    return client


def _client_of(membership: Membership, client_id: int) -> Client:
    client = Client.objects.filter(pk=client_id, workspace_id=membership.workspace_id).first()
    if client is None:
        raise Client.DoesNotExist
    return client


@transaction.atomic
def client_rename(*, membership: Membership, client_id: int, name: str) -> Client:
    """Give a client organisation a new name (unique in the workspace, whatever the case)."""
    if not access.can_manage_engagements(membership):
        raise PermissionDenied
    client = _client_of(membership, client_id)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A client needs a name.")})
    taken = Client.objects.filter(workspace_id=membership.workspace_id, name__iexact=name)
    if taken.exclude(pk=client.pk).exists():
        raise ValidationError({"name": _("This client already exists.")})
    if name != client.name:
        old = client.name
        client.name = name
        client.save(update_fields=["name"])
        audit_record(
            verb="client.rename",
            actor=membership.user,
            workspace=membership.workspace,
            target=client,
            data={"from": old, "to": name},
        )
    return client


@transaction.atomic
def client_set_archived(*, membership: Membership, client_id: int, archived: bool) -> Client:
    """Archive a client (kept with its history, no longer offered in pickers) or restore it."""
    if not access.can_manage_engagements(membership):
        raise PermissionDenied
    client = _client_of(membership, client_id)
    if archived == (client.archived_at is not None):
        return client
    if archived:
        from confiance.engagements.models import EngagementStatus

        live = client.engagements.filter(
            status__in=[EngagementStatus.ACTIVE, EngagementStatus.PAUSED]
        ).count()
        if live:
            raise ValidationError(
                ngettext(
                    "This client still has %(n)d active or paused engagement: close it first.",
                    "This client still has %(n)d active or paused engagements: close them first.",
                    live,
                )
                % {"n": live}
            )
    client.archived_at = timezone.now() if archived else None
    client.save(update_fields=["archived_at"])
    audit_record(
        verb="client.archive" if archived else "client.restore",
        actor=membership.user,
        workspace=membership.workspace,
        target=client,
    )
    return client


# Invitations -------------------------------------------------------------------------------


# Called inside invitation_accept's transaction with (invitation, new membership): an app that
# invites to something within the workspace (emergence: an opportunity) binds the new account.
InvitationAcceptedHook = Callable[[Invitation, Membership], None]
INVITATION_ACCEPTED_HOOKS: list[InvitationAcceptedHook] = []


class InvitationError(Exception):
    """An invitation link that cannot be used; the message says why, in the user's language."""


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str


def invitation_link(invitation: Invitation, base_url: str = "") -> str:
    """The absolute, signed link of an invitation, under `base_url` (default: SITE_URL)."""
    token = signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)
    return (base_url or public_base_url()) + reverse("invitation-accept", kwargs={"token": token})


@transaction.atomic
def invitation_create(
    *,
    membership: Membership,
    email: str,
    role: str,
    client: Client | None = None,
    base_url: str = "",
    send_email: bool = True,
    language: str = "",
) -> IssuedInvitation:
    """Invite a person by e-mail with a role; the e-mail is sent by a task once committed.

    `base_url` is the public address the link starts with (confiance.core.links).
    `language` is the one the newcomer is written to in (default: the inviter's current one).
    `send_email=False` lets a caller that invites to something more precise (an opportunity)
    send its own e-mail carrying the same signed link.
    """
    if not access.can_invite(membership, role):
        raise PermissionDenied
    email = email.strip().lower()
    if role == Role.CLIENT:
        if client is None or client.workspace_id != membership.workspace_id:
            raise ValidationError({"client": _("A client contact must be bound to a client.")})
        if client.archived_at is not None:
            raise ValidationError({"client": _("This client is archived: restore it first.")})
    else:
        client = None
    if Membership.objects.filter(workspace=membership.workspace, user__email=email).exists():
        raise ValidationError({"email": _("This person is already a member of the workspace.")})
    per_hour = settings.INVITATIONS_PER_HOUR
    if not RateLimit("invitations", per_hour, 3600).hit(str(membership.workspace_id)):
        raise ValidationError(
            {
                "email": _(
                    "This workspace sent %(count)d invitations in the last hour: wait a little."
                )
                % {"count": per_hour}
            }
        )
    language = invitation_language(language)
    now = timezone.now()
    invitation = Invitation.objects.create(
        workspace=membership.workspace,
        email=email,
        role=role,
        client=client,
        invited_by=membership.user,
        language=language,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    audit_record(
        verb="invitation.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=invitation,
        data={"email": email, "role": role},
    )
    link = invitation_link(invitation, base_url)
    if send_email:
        enqueue_on_commit(send_invitation_email, invitation.pk, link, language)
    return IssuedInvitation(invitation=invitation, link=link)


def invitation_language(language: str = "") -> str:
    """The language a newcomer is written to in: the one chosen, else the inviter's current one."""
    codes = dict(settings.LANGUAGES)
    if language in codes:
        return language
    current = (translation.get_language() or "").split("-")[0]
    return current if current in codes else settings.LANGUAGE_CODE


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link designates, if it can still be used; else InvitationError."""
    max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise InvitationError(_("This invitation link has expired. Ask for a new one.")) from None
    except signing.BadSignature:
        raise InvitationError(
            _("This invitation link is not valid. Check that it was copied whole.")
        ) from None
    invitation = (
        Invitation.objects.select_related("workspace", "client", "invited_by")
        .filter(pk=payload.get("i"), nonce=payload.get("n"))
        .first()
    )
    if invitation is None:
        raise InvitationError(
            _("This invitation link is not valid. Check that it was copied whole.")
        )
    if invitation.accepted_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    if invitation.revoked_at is not None:
        raise InvitationError(_("This invitation was withdrawn."))
    if invitation.expires_at <= timezone.now():
        raise InvitationError(_("This invitation link has expired. Ask for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None,
    full_name: str = "",
    password: str = "",
    language: str = "",
) -> Membership:
    """Use an invitation: join its workspace, creating the account if the person has none.

    A new account reads Confiance in `language` (default: the current one)."""
    invitation = invitation_from_token(token)
    # Lock the row so two simultaneous uses of one link cannot both succeed.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    if user is None:
        if User.objects.filter(email=invitation.email).exists():
            raise InvitationError(_("An account exists for this address: log in first."))
        user = user_create(email=invitation.email, password=password, full_name=full_name)
        # Their notices and e-mails follow the language the acceptance page was read in.
        user.language = invitation_language(language)
        user.save(update_fields=["language"])
    elif Membership.objects.filter(workspace=invitation.workspace, user=user).exists():
        raise InvitationError(_("You are already a member of this workspace."))
    membership = Membership.objects.create(
        workspace=invitation.workspace, user=user, role=invitation.role, client=invitation.client
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    for hook in INVITATION_ACCEPTED_HOOKS:
        hook(invitation, membership)
    audit_record(
        verb="invitation.accept",
        actor=user,
        workspace=invitation.workspace,
        target=invitation,
        data={"role": invitation.role},
    )
    return membership


@transaction.atomic
def invitation_revoke(*, membership: Membership, invitation_id: int) -> Invitation:
    """Withdraw a pending invitation of the membership's workspace."""
    invitation = Invitation.objects.filter(
        pk=invitation_id, workspace_id=membership.workspace_id
    ).first()
    if invitation is None or not access.can_invite(membership):
        raise Invitation.DoesNotExist
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            verb="invitation.revoke",
            actor=membership.user,
            workspace=membership.workspace,
            target=invitation,
        )
    return invitation


# API tokens --------------------------------------------------------------------------------


def _hash_token(plaintext: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; a slow one would cost every call.
    return hashlib.sha256(plaintext.encode()).hexdigest()


TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 366


@transaction.atomic
def api_token_create(
    *,
    membership: Membership,
    name: str,
    scope: str = TokenScope.READ,
    expires_in_days: int = TOKEN_DEFAULT_DAYS,
) -> tuple[ApiToken, str]:
    """Create a personal token; the plaintext is returned once and never stored.

    `scope` "read" allows reading only, "write" writing too (within the role's rights); the
    token expires after `expires_in_days` (at most a year: a forgotten token stops by itself).
    """
    if not access.can_use_api_tokens(membership):
        raise PermissionDenied
    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the token a name, to recognise it later.")
    if scope not in TokenScope.values:
        errors["scope"] = _("Choose read, or read and write.")
    if not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
        errors["expires_in_days"] = _("A token lasts between 1 and %(max)s days.") % {
            "max": TOKEN_MAX_DAYS
        }
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        membership=membership,
        workspace=membership.workspace,
        name=name,
        prefix=prefix,
        token_hash=_hash_token(plaintext),
        scope=scope,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    audit_record(
        verb="api_token.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=token,
        data={
            "scope": scope,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, membership: Membership, token_id: int) -> ApiToken:
    """Revoke one of the membership's own tokens."""
    token = ApiToken.objects.filter(pk=token_id, membership=membership).first()
    if token is None:
        raise ApiToken.DoesNotExist
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            verb="api_token.revoke",
            actor=membership.user,
            workspace=membership.workspace,
            target=token,
        )
    return token


# The token of a hash with its membership, user and workspace, in one query compiled once: on
# every API request Django's compilation of this join cost more than the query itself.
_TOKEN_QUERY = Prepared(
    lambda token_hash: ApiToken.objects.filter(
        token_hash=token_hash, revoked_at__isnull=True
    ).values_list(
        *columns(ApiToken),
        *columns(Membership, "membership__"),
        *columns(User, "membership__user__"),
        *columns(Workspace, "membership__workspace__"),
    ),
    token_hash=str,
)


def _token_with_membership(token_hash: str) -> ApiToken | None:
    """The live-or-not token of this hash (unique), its membership's user and workspace set."""
    for row in _TOKEN_QUERY.rows(token_hash=token_hash):
        token, at = build(ApiToken, row)
        membership, at = build(Membership, row, at)
        user, at = build(User, row, at)
        workspace, at = build(Workspace, row, at)
        assert token is not None and membership is not None
        membership.user = user  # type: ignore[assignment]
        membership.workspace = workspace  # type: ignore[assignment]
        token.membership = membership
        if token.workspace_id == membership.workspace_id:
            token.workspace = workspace  # type: ignore[assignment]
        return token
    return None


def api_token_authenticate(plaintext: str) -> ApiToken | None:
    """The live (not revoked, not expired) token matching this plaintext, or None."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = _token_with_membership(_hash_token(plaintext))
    if token is None or not token.membership.user.is_active or token.is_expired:
        return None
    now = timezone.now()
    # Touch last use at most once a minute, so reads stay reads.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


WORKSPACE_SETTINGS = (
    "name",
    "currency",
    "minutes_per_day",
    "late_logging_days",
    "show_amounts_to_client",
)


@transaction.atomic
def workspace_update(*, membership: Membership, **fields: object) -> Workspace:
    """Change the workspace's settings (owner only)."""
    if membership.role != Role.OWNER:
        raise PermissionDenied
    unknown = set(fields) - set(WORKSPACE_SETTINGS)
    if unknown:
        raise ValueError(f"not a workspace setting: {sorted(unknown)}")
    workspace = membership.workspace
    errors: dict[str, str] = {}
    if "name" in fields and not str(fields["name"]).strip():
        errors["name"] = _("A workspace needs a name.")
    if "minutes_per_day" in fields and not 60 <= int(fields["minutes_per_day"]) <= 24 * 60:  # type: ignore[call-overload]
        errors["minutes_per_day"] = _("A working day lasts between 1 and 24 hours.")
    if "late_logging_days" in fields and not (
        0 <= int(fields["late_logging_days"]) <= limits.MAX_LATE_LOGGING_DAYS  # type: ignore[call-overload]
    ):
        errors["late_logging_days"] = _("Between 0 and %(max)d days.") % {
            "max": limits.MAX_LATE_LOGGING_DAYS
        }
    if "currency" in fields and not re.fullmatch(r"[A-Z]{3}", str(fields["currency"])):
        errors["currency"] = _("Use a three-letter currency code, such as EUR.")
    if errors:
        raise ValidationError(errors)
    previous_minutes_per_day = workspace.minutes_per_day
    previous_late_logging_days = workspace.late_logging_days
    for name, value in fields.items():
        setattr(workspace, name, value.strip() if isinstance(value, str) else value)
    workspace.save(update_fields=list(fields))
    if int(workspace.minutes_per_day) != previous_minutes_per_day:
        # Days are minutes divided by this value: the change is a fact of each open
        # engagement's ledger, or the figures both sides see would move unrecorded.
        from confiance.consumption.services import minutes_per_day_ledger

        minutes_per_day_ledger(workspace=workspace, actor=membership.user)
    if int(workspace.late_logging_days) != previous_late_logging_days:
        from confiance.consumption.services import late_logging_days_ledger

        late_logging_days_ledger(workspace=workspace, actor=membership.user)
    audit_record(
        verb="workspace.update",
        actor=membership.user,
        workspace=workspace,
        target=workspace,
        data={k: str(v) for k, v in fields.items()},
    )
    return workspace


def notices_mark_read(*, membership: Membership) -> int:
    """Mark all of the person's unread notices in this workspace read; how many were."""
    return Notice.objects.filter(
        user_id=membership.user_id, workspace_id=membership.workspace_id, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def user_language_set(*, user: User, language: str) -> None:
    """Remember the language a person reads in: their notices and e-mails are written in it."""
    codes = {code for code, _name in settings.LANGUAGES}
    if language not in codes:
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    if user.language == language:
        return
    user.language = language
    user.save(update_fields=["language"])
    audit_record(
        verb="user.language", actor=user, workspace=None, target=user, data={"language": language}
    )


@transaction.atomic
def notice_preferences_set(*, user: User, modes: dict[str, str], actor: User | None) -> None:
    """Set how each group of notices reaches the person by e-mail (at once, digest, off).

    `actor` is None when the person used a signed unsubscribe link without logging in.
    """
    from confiance.core.notices import MODES

    bad = sorted(group for group, mode in modes.items() if mode not in MODES)
    if bad:
        raise ValidationError({"modes": _("Unknown delivery for: %(groups)s") % {"groups": bad}})
    merged = {**(user.notice_modes or {}), **modes}
    if merged == user.notice_modes:
        return
    user.notice_modes = merged
    user.save(update_fields=["notice_modes"])
    audit_record(
        verb="user.notice_preferences",
        actor=actor,
        workspace=None,
        target=user,
        data={"modes": modes, "by_link": actor is None},
    )


@transaction.atomic
def user_totp_enable(*, user: User, secret: str, code: str) -> User:
    """Turn on the second factor, once the person's app showed the code of this secret."""
    if user.totp_secret:
        raise ValidationError({"code": _("Two-factor authentication is already on.")})
    if not totp.verify(secret, code):
        raise ValidationError(
            {"code": _("This is not the code your app shows now: check its clock and try again.")}
        )
    user.totp_secret = secret
    user.totp_enabled_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_enabled_at"])
    audit_record(verb="user.totp_enable", actor=user, workspace=None, target=user)
    return user


@transaction.atomic
def user_totp_disable(*, user: User, code: str) -> User:
    """Turn off the second factor, proving one last time that the app is at hand."""
    if not user.totp_secret:
        return user
    if not totp.verify(user.totp_secret, code):
        raise ValidationError({"code": _("This is not the code your app shows now.")})
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.save(update_fields=["totp_secret", "totp_enabled_at"])
    audit_record(verb="user.totp_disable", actor=user, workspace=None, target=user)
    return user


def membership_remove(*, by: Membership, membership_id: int) -> Membership:
    """The owner removes a person from the workspace: their access ends at once (their tokens
    go with the membership; pages and the API find no membership), while everything they did
    stays attributed to them (rows point at the person, not at the membership)."""
    if not access.can_remove_members(by):
        raise PermissionDenied
    target = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, workspace_id=by.workspace_id)
        .first()
    )
    if target is None:
        raise Membership.DoesNotExist
    if target.role == Role.OWNER and (
        Membership.objects.filter(workspace_id=by.workspace_id, role=Role.OWNER).count() == 1
    ):
        raise ValidationError(_("The workspace's last owner cannot be removed."))
    audit_record(
        verb="membership.remove",
        actor=by.user,
        workspace=by.workspace,
        target=target,
        data={"email": target.user.email, "role": target.role},
    )
    target.delete()
    return target
