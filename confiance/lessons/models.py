"""The workspace's lesson library, the links "this happened again", and kudos."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement
from confiance.problems.models import Problem


class Tag(models.Model):
    """A tag of the workspace's lessons (lower case)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("tag"), max_length=40)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique")]

    def __str__(self) -> str:
        return self.name


class Lesson(models.Model):
    """What the workspace learnt, from a problem, a retrospective or elsewhere."""

    class Source(models.TextChoices):
        PROBLEM = "problem", _("Problem")
        RETROSPECTIVE = "retrospective", _("Retrospective")
        OTHER = "other", _("Other")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("lesson"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="lessons")
    source_label = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.OTHER
    )
    problem = models.ForeignKey(
        Problem, on_delete=models.SET_NULL, null=True, blank=True, related_name="lessons"
    )
    engagement = models.ForeignKey(
        Engagement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="lesson_ws_time")]

    def __str__(self) -> str:
        return self.title


class LessonRepeat(models.Model):
    """A member's judgement that a problem repeats a known lesson: "this happened again"."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="repeats")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="repeats")
    linked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("repeated lesson")
        verbose_name_plural = _("repeated lessons")
        constraints = [
            models.UniqueConstraint(fields=["lesson", "problem"], name="lesson_repeat_once")
        ]

    def __str__(self) -> str:
        return f"{self.problem_id} repeats {self.lesson_id}"


class Kudos(models.Model):
    """Credit given to named people, of either side, for a named success in an engagement."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="kudos")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="kudos_given")
    recipients = models.ManyToManyField(User, related_name="kudos_received")
    text = models.TextField(_("what they did well"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("kudos")
        verbose_name_plural = _("kudos")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]
