"""Workspace (the tenant), people, roles, invitations, API tokens and the append-only audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person, who logs in with an e-mail address."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The language the person reads Confiance in (set by the language switch): their notices and
    # e-mails are written in it. Empty: the installation's language.
    language = models.CharField(_("language"), max_length=8, blank=True)
    # How each group of notices reaches the person by e-mail: {group: "immediate"|"digest"|"off"};
    # a group not named here is sent immediately. See confiance.core.notices.
    notice_modes = models.JSONField(default=dict, blank=True)
    # Optional second factor (RFC 6238 TOTP), offered to the provider's people: the base32 secret
    # their authenticator app shares; empty when not turned on.
    totp_secret = models.CharField(max_length=64, blank=True, default="")
    totp_enabled_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Workspace(models.Model):
    """One provider organisation: the tenant boundary."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    minutes_per_day = models.PositiveIntegerField(
        _("minutes in a working day"), default=480, help_text=_("Converts days of budget to time.")
    )
    late_logging_days = models.PositiveIntegerField(
        _("late logging after (days)"),
        default=3,
        help_text=_("Time logged more than this many days after the worked date is shown as late."),
    )
    show_amounts_to_client = models.BooleanField(
        _("show amounts to clients"),
        default=False,
        help_text=_("Clients see budgets and consumption in money, not only in days."),
    )

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name


class Client(models.Model):
    """A client organisation of a workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(_("name"), max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    # An archived client stays with its history but is no longer offered in pickers.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="client_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")
    FINANCE = "finance", _("Finance")
    CLIENT = "client", _("Client")
    EXPERT = "expert", _("Expert")


# Roles of the provider's own people; only they see internal notes, rates and comments.
INTERNAL_ROLES = frozenset({Role.OWNER, Role.MEMBER, Role.FINANCE})


class Membership(models.Model):
    """A person's role in one workspace; a client member is bound to one Client."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=(models.Q(role="client") & models.Q(client__isnull=False))
                | (~models.Q(role="client") & models.Q(client__isnull=True)),
                name="membership_client_iff_client_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.workspace})"

    @property
    def is_internal(self) -> bool:
        return self.role in INTERNAL_ROLES


class Invitation(models.Model):
    """An invitation by e-mail to join a workspace with a role; a signed, single-use link."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # The language the invitee is written to in (the e-mail, the acceptance page, then their
    # account's until they switch): the inviter chooses it, theirs by default.
    language = models.CharField(_("language"), max_length=8, blank=True)
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.workspace}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class TokenScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A personal API token for one membership; only its SHA-256 hash is stored.

    `scope` "read" allows GET only; "write" allows every method the membership's role allows.
    A token stops working at `expires_at`.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.READ
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """One write, recorded by the service that made it. Never updated nor deleted."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    actor = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="audit_ws_time")]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class NoticeEmail(models.TextChoices):
    """What became of a notice's e-mail copy (the person's preference for its group decides)."""

    PENDING = "pending", _("To send now")
    SENT = "sent", _("Sent")
    DIGEST = "digest", _("Waiting for the daily digest")
    DIGESTED = "digested", _("Sent in a daily digest")
    OFF = "off", _("Not sent (turned off)")


class Notice(models.Model):
    """An in-app notice for one person; its e-mail copy follows their preference (core.notices)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=40)
    # Rendered in the reader's language when shown (see confiance.core.notices).
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(
        max_length=10, choices=NoticeEmail.choices, default=NoticeEmail.PENDING, db_index=True
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        from confiance.core.notices import render_notice

        return render_notice(self.kind, self.params)


class ScheduledJob(models.Model):
    """One periodic job's row: when it last ran, how that went, when it runs next, who holds it.

    Not tenant-owned: each job runs over every workspace. The row is also the lock (see
    confiance/core/schedule.py): a worker takes a job by a conditional UPDATE on it.
    """

    class Outcome(models.TextChoices):
        NEVER = "", _("not run yet")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    name = models.CharField(max_length=60, unique=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    # For operators (the server log has the traceback); not shown to workspace owners, since a
    # job runs over every workspace and its messages may name another tenant's data.
    last_summary = models.CharField(max_length=300, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    runs = models.PositiveIntegerField(default=0)
    locked_by = models.CharField(max_length=64, blank=True, default="")
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
