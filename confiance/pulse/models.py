"""Pulse surveys (Baromètre): short rounds on the five virtues, answered by both sides.

An individual answer is private to its author; the sides see aggregates only (see
confiance.access and confiance.pulse.selectors). The trust model reads the answers as evidence
through selectors.answers_for_trust().
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # a str, or a lazy translation

DEFAULT_CADENCE_DAYS = 14

# The five virtues: field name, label, one-line explanation (shown beside the scale).
VIRTUES: list[tuple[str, _StrOrPromise, _StrOrPromise]] = [
    (
        "common_language",
        _("Common language"),
        _("We understand each other: the same words mean the same things to both sides."),
    ),
    (
        "common_vision",
        _("Common vision"),
        _("We aim at the same result and agree on what success looks like."),
    ),
    (
        "discretion",
        _("Discretion"),
        _("What is said in confidence stays in confidence."),
    ),
    (
        "receptivity",
        _("Receptivity"),
        _("Remarks and ideas are heard and taken into account."),
    ),
    (
        "proximity",
        _("Proximity"),
        _("The other side is available and close enough when it matters."),
    ),
]
VIRTUE_FIELDS = [name for name, _label, _help in VIRTUES]


class Side(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CLIENT = "client", _("Client")


class PulseSettings(models.Model):
    """The workspace's pulse cadence (a round every N days per active engagement)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="pulse_settings"
    )
    cadence_days = models.PositiveSmallIntegerField(
        _("a pulse round every (days)"), default=DEFAULT_CADENCE_DAYS
    )

    class Meta:
        verbose_name = _("pulse settings")
        verbose_name_plural = _("pulse settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cadence_days__gte=1, cadence_days__lte=365),
                name="pulse_cadence_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.workspace}: {self.cadence_days}"


class PulseSurvey(models.Model):
    """One round of the pulse on one engagement, open from opened_at until closes_at."""

    class Reason(models.TextChoices):
        CADENCE = "cadence", _("Regular round")
        CLOSURE = "closure", _("Closure round")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="pulse_surveys"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closes_at = models.DateTimeField()
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.CADENCE)

    class Meta:
        verbose_name = _("pulse round")
        verbose_name_plural = _("pulse rounds")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["engagement", "-opened_at"], name="pulse_eng_opened")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opened_at")),
                name="pulse_closes_after_opening",
            ),
            # One closure round per engagement, however often the opener runs.
            models.UniqueConstraint(
                fields=["engagement"],
                condition=models.Q(reason="closure"),
                name="pulse_one_closure_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} {self.opened_at:%Y-%m-%d}"

    def is_open(self, now: datetime | None = None) -> bool:
        moment = now or timezone.now()
        return self.opened_at <= moment < self.closes_at


class PulseInvitee(models.Model):
    """A person asked to answer a round, and for which side; fixed when the round opens."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(PulseSurvey, on_delete=models.CASCADE, related_name="invitees")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)

    class Meta:
        verbose_name = _("person asked")
        verbose_name_plural = _("people asked")
        constraints = [
            models.UniqueConstraint(fields=["survey", "user"], name="pulse_invitee_once"),
        ]
        indexes = [models.Index(fields=["user", "workspace"], name="pulse_invitee_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.side})"


def _score(verbose: _StrOrPromise) -> models.PositiveSmallIntegerField:  # type: ignore[type-arg]
    return models.PositiveSmallIntegerField(verbose)


class PulseAnswer(models.Model):
    """One person's answer to one round. Private to its author unless signed (one-person side)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(PulseSurvey, on_delete=models.CASCADE, related_name="answers")
    respondent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    answered_at = models.DateTimeField(default=timezone.now)
    common_language = _score(_("common language"))
    common_vision = _score(_("common vision"))
    discretion = _score(_("discretion"))
    receptivity = _score(_("receptivity"))
    proximity = _score(_("proximity"))
    comment = models.TextField(_("comment"), blank=True)
    signed = models.BooleanField(_("signed"), default=False)

    class Meta:
        verbose_name = _("pulse answer")
        verbose_name_plural = _("pulse answers")
        ordering = ["answered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "respondent"], name="pulse_answer_once"),
            models.CheckConstraint(
                condition=models.Q(side__in=["provider", "client"]), name="pulse_answer_side"
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                    name=f"pulse_answer_{name}_1_5",
                )
                for name in VIRTUE_FIELDS
            ],
        ]
        indexes = [models.Index(fields=["engagement", "answered_at"], name="pulse_answer_time")]

    def __str__(self) -> str:
        return f"{self.survey} · {self.side}"

    def scores(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in VIRTUE_FIELDS}
