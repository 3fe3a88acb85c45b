"""Time entries and their corrections, budgets and their revisions, estimates, alerts, imports.

Nothing the client relies on is edited in place: a correction is a new entry linked to the one it
corrects, a budget change is a new revision, and each of them goes into the engagement's ledger.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement


class Activity(models.Model):
    """A kind of work on one engagement (configurable list: analysis, workshops, ...)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("in use"), default=True)
    ledger_index = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "name"], name="activity_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Rate(models.Model):
    """A daily rate on an engagement, for one person or for a role title (the rate card)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="rates")
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("role title"), max_length=80, blank=True)
    daily_rate = models.DecimalField(_("daily rate"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(title=""),
                name="rate_person_or_role",
            ),
            models.CheckConstraint(condition=models.Q(daily_rate__gte=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.title}: {self.daily_rate}"


class TeamMember(models.Model):
    """A provider person on an engagement's team, with the role title the rate card uses."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("role title"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["engagement", "user"], name="team_unique_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.title})"


class BudgetRevision(models.Model):
    """The engagement's budget from this moment on, with who changed it and why. Append-only."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="budget_revisions"
    )
    days = models.DecimalField(_("days"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ledger_index = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("budget revision")
        verbose_name_plural = _("budget revisions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.engagement}: {self.days} d / {self.amount}"


class EntryKind(models.TextChoices):
    ORIGINAL = "original", _("Entry")
    REVERSAL = "reversal", _("Reversal")
    REPLACEMENT = "replacement", _("Corrected entry")


class TimeEntry(models.Model):
    """Time one person spent on an engagement on one day. Never edited: corrections append.

    A correction of entry E appends a reversal (E's minutes, negated) and, unless the entry is
    simply withdrawn, a replacement with the right values; both point to E through `corrects`.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="entries")
    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="time_entries")
    date = models.DateField(_("date worked"))
    minutes = models.IntegerField(_("duration (minutes)"))
    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    shared_note = models.TextField(_("note (shared with the client)"), blank=True)
    internal_note = models.TextField(_("internal note (never shown to the client)"), blank=True)
    kind = models.CharField(max_length=12, choices=EntryKind.choices, default=EntryKind.ORIGINAL)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    correction_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("logged at"), default=timezone.now)
    # Days between the work and its logging, kept at write time so "logged late" is a plain
    # integer comparison, whatever the workspace's threshold.
    log_delay_days = models.IntegerField(default=0)
    # Where an imported entry came from; (engagement, source, external_id) is unique, so
    # importing the same file twice adds nothing the second time.
    source = models.CharField(max_length=20, blank=True)
    external_id = models.CharField(max_length=80, blank=True)
    ledger_index = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["-date", "-id"]
        indexes = [
            # The page of entries (ORDER BY date DESC, id DESC LIMIT 50) reads this index
            # backwards and stops after 50 rows; with (engagement, date) alone PostgreSQL sorted
            # the whole latest day. It serves every range of dates of an engagement as well.
            models.Index(fields=["engagement", "date", "id"], name="entry_eng_date_id"),
            models.Index(fields=["engagement", "person"], name="entry_eng_person"),
            models.Index(fields=["engagement", "ledger_index"], name="entry_eng_ledger"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="entry_unique_import",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.date} {self.minutes} min"

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


class RemainingEstimate(models.Model):
    """The team's estimate of the work left, kept up to date; the latest one feeds the forecast."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="remaining_estimates"
    )
    remaining_minutes = models.PositiveIntegerField(_("work remaining (minutes)"))
    note = models.TextField(_("note"), blank=True)
    estimated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    ledger_index = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("remaining-work estimate")
        verbose_name_plural = _("remaining-work estimates")
        ordering = ["-created_at", "-id"]


class BudgetAlert(models.Model):
    """A budget threshold crossed (50 %, 80 %, 100 %, forecast over budget); raised once."""

    class Level(models.TextChoices):
        HALF = "50", _("50 % of the budget consumed")
        EIGHTY = "80", _("80 % of the budget consumed")
        FULL = "100", _("The whole budget consumed")
        FORECAST = "forecast", _("The forecast exceeds the budget")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="budget_alerts"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    consumed_minutes = models.IntegerField()
    budget_minutes = models.IntegerField()
    forecast_minutes = models.IntegerField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "level"], name="budget_alert_once")
        ]


class ImportJob(models.Model):
    """A CSV import of time entries: validated whole, previewed, then written all or nothing."""

    class Status(models.TextChoices):
        # A large upload is stored at once and checked by the worker, with progress.
        CHECKING = "checking", _("Checking the file")
        PREVIEW = "preview", _("Ready to import")
        INVALID = "invalid", _("Rejected")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        # The worker stopped (killed, restarted, an error) after writing part of the rows: starting
        # again writes the rest, never a row twice.
        INTERRUPTED = "interrupted", _("Interrupted")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    source_format = models.CharField(max_length=20)
    filename = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Beaten by the worker at least once a chunk; a running import whose heartbeat stopped is
    # one whose process died (see imports.services.STALE_AFTER).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total_rows else int(100 * self.processed_rows / self.total_rows)


class ConsumptionTotals(models.Model):
    """An engagement's consumption figures, folded from its ledgered facts on every append.

    Derived data: `figures.Figures` folded over the ledger gives the same values, which is what
    the reconciliation (`audit.py`) and the browser check verify. Never the source of truth.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="consumption_totals"
    )
    last_fact = models.PositiveBigIntegerField(null=True)  # ledger index of the last fact folded
    consumed_minutes = models.BigIntegerField(default=0)
    entry_count = models.BigIntegerField(default=0)
    entry_rows = models.BigIntegerField(default=0)  # the entries table's rows, corrections too
    minutes_per_day = models.PositiveIntegerField(null=True)
    late_logging_days = models.PositiveIntegerField(null=True)
    budget_days = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    budget_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    budget_currency = models.CharField(max_length=3, blank=True)
    budget_index = models.PositiveBigIntegerField(null=True)
    estimate_minutes = models.BigIntegerField(null=True)
    estimate_index = models.PositiveBigIntegerField(null=True)
    estimate_at = models.CharField(max_length=40, blank=True)
    rates = models.JSONField(default=dict)
    titles = models.JSONField(default=dict)
    activities = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("consumption totals")
        verbose_name_plural = _("consumption totals")


class ConsumptionRollup(models.Model):
    """Minutes and entries of an engagement per day, person, activity (and per logging delay)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="consumption_rollups"
    )
    dimension = models.CharField(max_length=10)
    key = models.CharField(max_length=254)
    minutes = models.BigIntegerField(default=0)
    entries = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("consumption rollup")
        verbose_name_plural = _("consumption rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "dimension", "key"], name="rollup_unique_cell"
            )
        ]


class LedgerAudit(models.Model):
    """The latest reconciliation of an engagement's tables and rollups with its ledger."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="ledger_audit"
    )
    ran_at = models.DateTimeField(default=timezone.now)
    tree_size = models.PositiveBigIntegerField(default=0)
    findings = models.JSONField(default=list)

    class Meta:
        verbose_name = _("ledger reconciliation")
        verbose_name_plural = _("ledger reconciliations")

    @property
    def ok(self) -> bool:
        return not self.findings
