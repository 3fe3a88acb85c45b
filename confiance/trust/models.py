"""The trust model's state: decayed evidence, its explanation, daily snapshots, alerts, settings.

TrustState holds the O(1) accumulator per (engagement, direction, dimension); TrustFact holds every
fact that went into it, so the figure can always be explained and recomputed from scratch.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement
from confiance.trust import indicators
from confiance.trust.opinion import Evidence

DIRECTION_CHOICES = [(d, d) for d in indicators.DIRECTIONS]
DIMENSION_CHOICES = [(d, d) for d in (*indicators.DIMENSIONS, indicators.OVERALL)]


class TrustSettings(models.Model):
    """The workspace's weights, base rates and half-life (defaults from indicators.py)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="trust_settings"
    )
    half_life_days = models.PositiveIntegerField(
        _("half-life of evidence (days)"), default=indicators.HALF_LIFE_DAYS
    )
    weights = models.JSONField(default=dict, blank=True)  # indicator key -> weight
    base_rates = models.JSONField(default=dict, blank=True)  # contact origin -> base rate
    drop_threshold = models.FloatField(_("alert on a drop of trust larger than"), default=0.1)
    drop_window_days = models.PositiveIntegerField(_("over (days)"), default=14)
    silence_days = models.PositiveIntegerField(_("alert after days without any fact"), default=21)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("trust settings")
        verbose_name_plural = _("trust settings")

    @property
    def half_life(self) -> timedelta:
        return timedelta(days=self.half_life_days)

    def weight(self, key: str) -> float:
        return float(self.weights.get(key, indicators.DEFAULT_WEIGHTS[key]))

    def base_rate(self, origin: str) -> float:
        return float(
            self.base_rates.get(
                origin, indicators.BASE_RATES.get(origin, indicators.DEFAULT_BASE_RATE)
            )
        )


class TrustCursor(models.Model):
    """How far the engagement's sources were read: the next update reads from here."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="trust_cursor"
    )
    processed_until = models.DateTimeField(null=True, blank=True)
    # The engagement's ledger size when its sources were last read: the sources whose rows carry
    # their ledger index (Indicator.appended) are read from here on, never again from a moment.
    ledger_size = models.PositiveBigIntegerField(null=True, blank=True)


class TrustState(models.Model):
    """Decayed evidence (r, s) valued at `at` for one engagement, direction and dimension."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="trust_states"
    )
    direction = models.CharField(max_length=3, choices=DIRECTION_CHOICES)
    dimension = models.CharField(max_length=16, choices=DIMENSION_CHOICES)
    positive = models.FloatField(default=0.0)
    negative = models.FloatField(default=0.0)
    at = models.DateTimeField()
    last_fact_at = models.DateTimeField(null=True, blank=True)
    facts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "direction", "dimension"], name="trust_state_once"
            )
        ]
        indexes = [models.Index(fields=["workspace", "direction"], name="trust_state_ws")]

    def evidence(self) -> Evidence:
        return Evidence(self.positive, self.negative, self.at)

    def evidence_at(self, when: datetime, half_life: timedelta) -> Evidence:
        """The evidence valued at `when` (never earlier than its own time)."""
        evidence = self.evidence()
        return evidence.decayed_to(max(when, evidence.at), half_life)


class TrustSummary(models.Model):
    """Every state of one engagement in one row, written with them: what the portfolio ranks by
    (trust/summaries.py: the items' layout, and why the ranking is not a stored key)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="trust_summary"
    )
    # [[direction, dimension, positive, negative, at in microseconds since the epoch], ...] as
    # JSON text (summaries.summary_text): the ranking reads it as text, the key of what it
    # weighed; PostgreSQL's jsonb made that text anew for each row of each view.
    states = models.TextField(default="[]", blank=True)


class TrustFact(models.Model):
    """One fact that moved trust, with its weighted evidence: the explanation of every figure."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="trust_facts")
    direction = models.CharField(max_length=3, choices=DIRECTION_CHOICES)
    dimension = models.CharField(max_length=16, choices=DIMENSION_CHOICES)
    indicator = models.CharField(max_length=40)
    at = models.DateTimeField()
    positive = models.FloatField()
    negative = models.FloatField()
    label = models.CharField(max_length=300)  # an English message id, translated when shown
    params = models.JSONField(default=dict, blank=True)  # the label's parameters
    link = models.CharField(max_length=300, blank=True)
    source_type = models.CharField(max_length=60)
    source_id = models.CharField(max_length=40)
    recorded_at = models.DateTimeField(default=timezone.now)
    # log2(weight) + time/half-life: ordering by it orders by weight decayed to any common
    # moment, so "the facts that weigh most now" is an index range, not a scan.
    rank = models.FloatField(default=0.0)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # One fact per source fact and indicator: re-processing adds nothing.
            models.UniqueConstraint(
                fields=["engagement", "indicator", "source_type", "source_id"],
                name="trust_fact_once",
            )
        ]
        indexes = [
            models.Index(fields=["engagement", "at"], name="trust_fact_eng_at"),
            models.Index(fields=["engagement", "direction", "rank"], name="trust_fact_rank"),
            models.Index(
                fields=["engagement", "direction", "dimension", "rank"], name="trust_fact_dim_rank"
            ),
        ]


def fact_rank(positive: float, negative: float, at: datetime, half_life: timedelta) -> float:
    """The ordering key of a fact by its decayed weight (see TrustFact.rank)."""
    weight = positive + negative
    if weight <= 0:
        return -1e18
    return math.log2(weight) + at.timestamp() / half_life.total_seconds()


class TrustSnapshot(models.Model):
    """The opinion of one day, per direction and dimension (and "overall"): the trend."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="trust_snapshots"
    )
    day = models.DateField()
    direction = models.CharField(max_length=3, choices=DIRECTION_CHOICES)
    dimension = models.CharField(max_length=16, choices=DIMENSION_CHOICES)
    belief = models.FloatField()
    disbelief = models.FloatField()
    uncertainty = models.FloatField()
    base_rate = models.FloatField()
    projected = models.FloatField()

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "day", "direction", "dimension"], name="trust_snapshot_once"
            )
        ]
        indexes = [models.Index(fields=["workspace", "day"], name="trust_snapshot_ws_day")]


class AlertKind(models.TextChoices):
    DROP = "drop", _("Trust dropped")
    DECLINE = "decline", _("Trust declining")
    UNCERTAINTY_RISE = "uncertainty_rise", _("Silence: uncertainty rising")
    COMMITMENT_OVERDUE = "commitment_overdue", _("Commitment overdue")
    PROBLEM_UNOWNED = "problem_unowned", _("Problem without an owner")
    PROBLEM_TARGET = "problem_target", _("Problem target missed")
    BUDGET_DRIFT = "budget_drift", _("Budget drifting")
    PAYMENT_OVERDUE = "payment_overdue", _("Payment overdue")


class TrustAlert(models.Model):
    """An early warning, sent once when it opens, closed when its cause is gone."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="trust_alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    direction = models.CharField(max_length=3, choices=DIRECTION_CHOICES)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()  # an English message id, translated when shown
    reason_params = models.JSONField(default=dict, blank=True)
    identity = models.CharField(max_length=60, blank=True)  # a new one re-arms the alert
    who_should_act = models.CharField(max_length=200)
    link = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=40, blank=True)  # why it closed, kept for the record
    # What the people who should act did with it (trust/actions.py): seen, taken by someone,
    # put aside for a bounded time with the reason. None of it closes the alert: only its
    # cause going does.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=300, blank=True)
    # How bad the cause was when snoozed (alerts.severity): a snoozed alert is told again before
    # its snooze ends only if it gets worse than that (services.trust_check_alerts).
    snooze_severity = models.FloatField(null=True, blank=True)
    # The step taken on it (trust/actions.py: trust_alert_meeting_plan): the review meeting
    # planned through the follow-up, by whom and when. Kept when the alert closes.
    step_meeting = models.ForeignKey(
        "followup.Meeting", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    step_taken_at = models.DateTimeField(null=True, blank=True)
    step_taken_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "kind", "direction"],
                condition=models.Q(closed_at__isnull=True),
                name="trust_alert_open_once",
            )
        ]

    def snoozed(self, now: datetime | None = None) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > (now or timezone.now())

    @property
    def shown_reason(self) -> str:
        """The reason in the reader's language."""
        from confiance.trust.alerts import alert_reason

        return alert_reason(self.reason, self.reason_params)

    @property
    def next_step(self) -> str:
        """The step proposed to whoever should act."""
        from confiance.trust.alerts import next_step

        return next_step(self.kind)
