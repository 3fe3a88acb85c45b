"""Problems of an engagement: who raised them, who owns them, their timeline and SLA targets.

A problem's history is a list of ProblemEvent rows that are never edited nor deleted; the
Problem row keeps the current state (status, owner, level) so lists need no replay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class ProblemStatus(models.TextChoices):
    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (ProblemStatus.RAISED, ProblemStatus.ACKNOWLEDGED)
MAX_LEVEL = 3


class ProblemSettings(models.Model):
    """A workspace's SLA targets for problems and its default escalation contacts."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="problem_settings"
    )
    acknowledge_minutes = models.PositiveIntegerField(
        _("time to acknowledge (minutes)"), default=4 * 60
    )
    owner_minutes = models.PositiveIntegerField(
        _("time to name an owner (minutes)"), default=8 * 60
    )
    update_minutes = models.PositiveIntegerField(
        _("time between progress updates (minutes)"), default=48 * 60
    )
    level1 = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("escalation level 1"),
    )  # fmt: skip
    level2 = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("escalation level 2"),
    )  # fmt: skip
    level3 = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("escalation level 3"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("problem settings")
        verbose_name_plural = _("problem settings")

    def __str__(self) -> str:
        return f"{self.workspace}"

    def target(self, kind: str) -> timedelta:
        minutes = {
            "acknowledge": self.acknowledge_minutes,
            "owner": self.owner_minutes,
            "update": self.update_minutes,
        }[kind]
        return timedelta(minutes=minutes)

    def level_person_id(self, level: int) -> int | None:
        return {1: self.level1_id, 2: self.level2_id, 3: self.level3_id}.get(level)


class Problem(models.Model):
    """Something wrong in an engagement, raised by either side."""

    class Side(models.TextChoices):
        PROVIDER = "provider", _("Provider")
        CLIENT = "client", _("Client")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="problems")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    client_priority = models.CharField(
        _("client's priority"), max_length=10, choices=Severity.choices, blank=True
    )
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    raised_side = models.CharField(max_length=10, choices=Side.choices)
    # Raised by the provider's people before the client reported it (see services.problem_raise).
    proactive = models.BooleanField(_("proactive"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.RAISED
    )
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("owner"),
    )  # fmt: skip
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    waiting_on_client = models.BooleanField(default=False)
    plan = models.TextField(_("plan"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    owner_named_at = models.DateTimeField(null=True, blank=True)
    last_update_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "status"], name="problem_ws_status"),
            models.Index(fields=["engagement", "-created_at"], name="problem_eng_time"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    OWNER_NAMED = "owner_named", _("Owner named")
    PLAN_SHARED = "plan_shared", _("Plan shared")
    ESCALATED = "escalated", _("Escalated")
    CLIENT_ESCALATED = "client_escalated", _("Escalated by the client")
    UPDATE = "update", _("Progress update")
    WAITING_ON_CLIENT = "waiting_on_client", _("Waiting on the client")
    RESUMED = "resumed", _("Resumed")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed by the client")
    REOPENED = "reopened", _("Reopened by the client")
    PRIORITY_SET = "priority_set", _("Client's priority set")
    COMMENTED = "commented", _("Comment")


class AppendOnlyEvents(models.QuerySet["ProblemEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("A problem's timeline is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("A problem's timeline is append-only.")


class ProblemEvent(models.Model):
    """One step of a problem's timeline, with its time. Never updated nor deleted."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(blank=True)
    # The person named (owner, or the person at an escalation level).
    person = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    # For an escalation: True when no SLA target was breached yet (escalating early).
    before_breach = models.BooleanField(null=True, blank=True)
    value = models.CharField(max_length=20, blank=True)

    objects = AppendOnlyEvents.as_manager()

    class Meta:
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("A problem's timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("A problem's timeline is append-only.")


class ProblemComment(models.Model):
    """A comment on a problem. Internal ones (the provider's people among themselves) never
    reach the client; shared ones are the conversation both sides have on the problem."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("comment"))
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class ProblemAttachment(models.Model):
    """A file attached to a shared comment: stored outside the web root (core.attachments),
    served only to people who may see the problem."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        ProblemComment, on_delete=models.CASCADE, related_name="attachments"
    )
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class ClientEscalationContact(models.Model):
    """The person on the client's side to whom the engagement's problems escalate there: told
    of every escalation and of every missed target, named by the client's side."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="client_escalation"
    )
    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("client's escalation contact")
        verbose_name_plural = _("client's escalation contacts")

    def __str__(self) -> str:
        return f"{self.engagement_id}: {self.person_id}"


class ProblemBreach(models.Model):
    """A missed SLA target, recorded once so that it is notified once."""

    class Kind(models.TextChoices):
        ACKNOWLEDGE = "acknowledge", _("Not acknowledged in time")
        OWNER = "owner", _("No owner named in time")
        UPDATE = "update", _("No progress update in time")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="breaches")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # What the target ran from (the raise, or the last update): one breach per anchor.
    anchor = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)
    notified_ids = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["detected_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "kind", "anchor"], name="problem_breach_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} {self.kind}"
