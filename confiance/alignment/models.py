"""A common language and a common vision, written together (seed 003's first two virtues).

Per engagement, a glossary (term, meaning, who proposed it, who agreed) and a shared vision (the
problem, the hoped-for outcome, how success will be judged). Either side proposes; the other
side agrees, and only then does it count as common. A change is a new proposal that, once
agreed, supersedes the text it replaces: nothing is edited in place, so both sides can read how
their understanding moved.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement


class Side(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CLIENT = "client", _("Client")


class State(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting the other side")
    AGREED = "agreed", _("Agreed by both sides")
    SUPERSEDED = "superseded", _("Replaced")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Proposal(models.Model):
    """What one side proposed, and who of the other side agreed."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_side = models.CharField(max_length=10, choices=Side.choices)
    proposed_at = models.DateTimeField(default=timezone.now)
    agreed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)

    class Meta:
        abstract = True


class GlossaryEntry(Proposal):
    """A term and what it means in this engagement."""

    term = models.CharField(_("term"), max_length=120)
    meaning = models.TextField(_("meaning"))
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("glossary term")
        verbose_name_plural = _("glossary")
        ordering = ["term", "proposed_at", "id"]
        indexes = [models.Index(fields=["engagement", "state"], name="glossary_eng_state")]

    def __str__(self) -> str:
        return self.term


class Vision(Proposal):
    """The shared vision: the problem, the hoped-for outcome, how success will be judged."""

    problem = models.TextField(_("the problem we solve"))
    outcome = models.TextField(_("the outcome we hope for"))
    success = models.TextField(_("how success will be judged"))
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("shared vision")
        verbose_name_plural = _("shared visions")
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["engagement", "state"], name="vision_eng_state")]

    def __str__(self) -> str:
        return self.outcome[:60]
