"""The closure of an engagement: objectives' attainment, both sides' retrospective, and the
client's approval for payment (bon à payer), bound to the analysis it approved by its hash."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement, Objective


class Outcome(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    # Ending early, honestly, is a valid outcome: it carries its reason.
    STOPPED_EARLY = "stopped_early", _("Stopped early")


class Side(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CLIENT = "client", _("Client")


class Attainment(models.TextChoices):
    ATTAINED = "attained", _("Attained")
    PARTLY = "partly", _("Partly attained")
    NOT_ATTAINED = "not_attained", _("Not attained")


class Closure(models.Model):
    """The closing analysis of one engagement, started by the provider."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, related_name="closure")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    stop_reason = models.TextField(_("why it stopped early"), blank=True)
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")

    def __str__(self) -> str:
        return f"{self.engagement} ({self.outcome})"


class ObjectiveAssessment(models.Model):
    """How far one objective was attained, with the evidence for it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="assessments")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="+")
    attainment = models.CharField(_("attainment"), max_length=16, choices=Attainment.choices)
    evidence = models.TextField(_("evidence"))
    assessed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("objective assessment")
        verbose_name_plural = _("objective assessments")
        constraints = [
            models.UniqueConstraint(fields=["closure", "objective"], name="assessment_once")
        ]


class RetrospectiveContribution(models.Model):
    """One person's retrospective, on their side: what went well, what to improve, lessons."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="contributions")
    side = models.CharField(max_length=10, choices=Side.choices)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    went_well = models.TextField(_("what went well"), blank=True)
    to_improve = models.TextField(_("what to improve"), blank=True)
    lessons = models.TextField(_("lessons"), blank=True)
    # The lesson lines already sent to the lesson library at an approval, so that a new
    # approval (after a change) files only the new ones. Not part of the approved analysis.
    lessons_filed = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("retrospective contribution")
        verbose_name_plural = _("retrospective contributions")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["closure", "author"], name="contribution_once")
        ]

    def as_data(self) -> dict[str, Any]:
        return {
            "author": self.author.email,
            "went_well": self.went_well,
            "to_improve": self.to_improve,
            "lessons": self.lessons,
        }


class AppendOnlyQuerySet(models.QuerySet["ClosureApproval"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("approvals are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("approvals are append-only")


class ClosureApproval(models.Model):
    """The client's approval for payment of the analysis whose hash it records. Append-only:
    an analysis changed afterwards voids it, and a new approval is a new row."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="approvals")
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    analysis_hash = models.CharField(max_length=64)
    # The analysis as approved (what the hash covers), so that a void approval can show the
    # client exactly what changed since.
    analysis = models.JSONField(default=dict, blank=True)
    ledger_index = models.PositiveIntegerField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("approval for payment")
        verbose_name_plural = _("approvals for payment")
        ordering = ["-approved_at", "-id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("approvals are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("approvals are append-only")
