"""The engagement (mission) and its policy-scoped queryset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import Client, User, Workspace

if TYPE_CHECKING:
    from confiance.core.models import Membership


class EngagementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    STOPPED_EARLY = "stopped_early", _("Stopped early")
    CLOSED = "closed", _("Closed")


class ContactOrigin(models.TextChoices):
    """How the contact started; it sets the prior (base rate) of the trust model."""

    PEER_REFERRAL = "peer_referral", _("Peer referral")
    EMERGENCE = "emergence", _("Emergence community")
    TENDER = "tender", _("Tender")
    CHANCE = "chance", _("Chance encounter")
    COLD_PROSPECTING = "cold_prospecting", _("Cold prospecting")
    EXISTING_CLIENT = "existing_client", _("Existing client")


class EngagementQuerySet(models.QuerySet["Engagement"]):
    def visible_to(self, membership: Membership | None) -> EngagementQuerySet:
        """Engagements this membership may see; the rule itself lives in confiance.access."""
        from confiance import access

        return access.scope_engagements(self, membership)


class Engagement(models.Model):
    """A mission for one client of the workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="engagements")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="engagements")
    title = models.CharField(_("title"), max_length=200)
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=EngagementStatus.choices, default=EngagementStatus.DRAFT
    )
    contact_origin = models.CharField(
        _("contact origin"), max_length=20, choices=ContactOrigin.choices
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("planned end date"), null=True, blank=True)
    lead = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_engagements",
        verbose_name=_("engagement lead"),
    )
    summary = models.TextField(_("summary (shared with the client)"), blank=True)
    internal_notes = models.TextField(_("internal notes (never shown to the client)"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["workspace", "status"], name="engagement_ws_status"),
            models.Index(fields=["workspace", "client"], name="engagement_ws_client"),
        ]

    def __str__(self) -> str:
        return self.title
