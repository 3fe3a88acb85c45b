"""Writes of consumption: time entries and corrections, budgets, rates, activities, estimates.

Every fact the client relies on (entries, corrections, budget revisions) is appended to the
engagement's ledger in the same transaction; budget alerts are raised here and sent on commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.consumption.figures import Figures
from confiance.consumption.models import (
    Activity,
    BudgetAlert,
    BudgetRevision,
    EntryKind,
    Rate,
    RemainingEstimate,
    TeamMember,
    TimeEntry,
)
from confiance.consumption.rollups import figures_load, rollups_apply
from confiance.core import limits
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Membership, User, Workspace
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.ledger.models import LedgerEntry
from confiance.ledger.services import ledger_append_many, ledger_next_index
from confiance.webhooks.events import emit as webhook_emit

MAX_MINUTES_PER_ENTRY = 24 * 60
LOGGABLE_STATUSES = (EngagementStatus.ACTIVE, EngagementStatus.PAUSED)


def _append(
    *, engagement: Engagement, kind: str, payloads: list[dict[str, object]], actor: User | None
) -> list[LedgerEntry]:
    """Append consumption facts to the ledger and fold the same facts into the rollups.

    Days are minutes divided by the minutes per working day, so that parameter is ledgered
    with the engagement's first consumption fact (and again when it changes:
    `minutes_per_day_ledger`).
    """
    if payloads:
        current = figures_load(engagement=engagement, cells=False)
        if current.minutes_per_day is None:
            payloads[0]["minutes_per_day"] = engagement.workspace.minutes_per_day
        if current.late_logging_days is None:
            payloads[0]["late_logging_days"] = engagement.workspace.late_logging_days
    entries = ledger_append_many(engagement=engagement, kind=kind, payloads=payloads, actor=actor)
    rollups_apply(
        engagement=engagement,
        facts=[
            (entry.index, kind, {**payload, "at": entry.created_at.isoformat(timespec="seconds")})
            for entry, payload in zip(entries, payloads, strict=True)
        ],
    )
    return entries


def minutes_per_day_ledger(*, workspace: Workspace, actor: User) -> list[Engagement]:
    """Append the workspace's new minutes per day to each open engagement's ledger.

    Called by the workspace settings' service when the value changes. Closed and stopped
    engagements keep the value ledgered for them: their figures do not move.
    """
    return _parameter_ledger(workspace, actor, "minutes_per_day", workspace.minutes_per_day)


def late_logging_days_ledger(*, workspace: Workspace, actor: User) -> list[Engagement]:
    """Append the workspace's new "logged late" threshold to each open engagement's ledger.

    The count of entries logged late, on the page and in trust, reads the ledgered value.
    """
    return _parameter_ledger(workspace, actor, "late_logging_days", workspace.late_logging_days)


def _parameter_ledger(workspace: Workspace, actor: User, name: str, value: int) -> list[Engagement]:
    from confiance.consumption.models import ConsumptionTotals

    affected = list(
        Engagement.objects.filter(
            workspace=workspace,
            status__in=[EngagementStatus.ACTIVE, EngagementStatus.PAUSED, EngagementStatus.DRAFT],
            pk__in=ConsumptionTotals.objects.filter(workspace=workspace)
            .exclude(**{name: value})
            .values("engagement_id"),
        ).select_related("workspace")
    )
    from confiance.core.notices import notify_on_commit
    from confiance.engagements.stops import engagement_people

    for engagement in affected:
        previous = getattr(figures_load(engagement=engagement, cells=False), name)
        _append(
            engagement=engagement,
            kind="parameter.set",
            payloads=[{"name": name, "value": value}],
            actor=actor,
        )
        # Both sides are told: the figures they read are counted differently from now on.
        notify_on_commit(
            workspace_id=engagement.workspace_id,
            user_ids=[pk for pk in engagement_people(engagement) if pk != actor.pk],
            kind="budget.parameter",
            params={
                "engagement": engagement.title,
                "name": name,
                "before": previous,
                "after": value,
            },
            link=reverse(
                "consumption", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}
            ),
        )
    return affected


def _ensure_same_workspace(membership: Membership, engagement: Engagement) -> None:
    if engagement.workspace_id != membership.workspace_id:
        raise PermissionDenied


@transaction.atomic
def activity_create(*, membership: Membership, engagement: Engagement, name: str) -> Activity:
    """Add an activity to the engagement's list."""
    if not access.can_manage_budget(membership, engagement):
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("An activity needs a name.")})
    if engagement.activities.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("This activity already exists.")})
    activity = Activity.objects.create(
        workspace_id=engagement.workspace_id, engagement=engagement, name=name
    )
    # The activity's name labels a breakdown both sides see: ledgered like a figure.
    (entry,) = _append(
        engagement=engagement,
        kind="activity.created",
        payloads=[{"activity": activity.pk, "name": name}],
        actor=membership.user,
    )
    Activity.objects.filter(pk=activity.pk).update(ledger_index=entry.index)
    activity.ledger_index = entry.index
    audit_record(
        verb="activity.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=activity,
    )
    return activity


@transaction.atomic
def team_member_set(
    *, membership: Membership, engagement: Engagement, user: User, title: str = ""
) -> TeamMember:
    """Put a provider person on the engagement's team with a role title (for the rate card)."""
    if not access.can_manage_budget(membership, engagement):
        raise PermissionDenied
    if not user.memberships.filter(
        workspace_id=engagement.workspace_id, role__in=INTERNAL_ROLES
    ).exists():
        raise ValidationError({"user": _("Only the provider's people join the team.")})
    member, _created = TeamMember.objects.update_or_create(
        engagement=engagement,
        user=user,
        defaults={"workspace_id": engagement.workspace_id, "title": title.strip()},
    )
    _append(
        engagement=engagement,
        kind="team.set",
        payloads=[{"person": user.email, "title": member.title}],
        actor=membership.user,
    )
    audit_record(
        verb="team.set",
        actor=membership.user,
        workspace=membership.workspace,
        target=member,
        data={"user": user.email, "title": member.title},
    )
    return member


@transaction.atomic
def rate_set(
    *,
    membership: Membership,
    engagement: Engagement,
    daily_rate: Decimal,
    user: User | None = None,
    title: str = "",
) -> Rate:
    """Set the daily rate of a person, or of a role title, on the engagement."""
    if not access.can_manage_budget(membership, engagement):
        raise PermissionDenied
    if error := limits.money_error(daily_rate, maximum=limits.MAX_DAILY_RATE):
        raise ValidationError({"daily_rate": error})
    if daily_rate < 0:
        raise ValidationError({"daily_rate": _("A rate cannot be negative.")})
    if user is None and not title.strip():
        raise ValidationError({"title": _("Name a person or a role.")})
    rate, _created = Rate.objects.update_or_create(
        engagement=engagement,
        user=user,
        title="" if user is not None else title.strip(),
        defaults={"workspace_id": engagement.workspace_id, "daily_rate": daily_rate},
    )
    _append(
        engagement=engagement,
        kind="rate.set",
        payloads=[
            {
                "person": user.email if user is not None else None,
                "title": rate.title,
                "daily_rate": str(daily_rate),
                "currency": engagement.workspace.currency,
            }
        ],
        actor=membership.user,
    )
    audit_record(
        verb="rate.set",
        actor=membership.user,
        workspace=membership.workspace,
        target=rate,
        data={"user": user.email if user else None, "title": rate.title, "rate": str(daily_rate)},
    )
    return rate


@transaction.atomic
def budget_revise(
    *,
    membership: Membership,
    engagement: Engagement,
    days: Decimal | None,
    amount: Decimal | None,
    reason: str,
    at: datetime | None = None,
    tell: bool = True,
) -> BudgetRevision:
    """Set the engagement's budget (days and/or amount), saying why; recorded in the ledger.

    `at`: when it was decided; only the demo data sets it (its history spans months).
    `tell=False`: both sides agreed it already (an opportunity's agreement converted).
    """
    if not access.can_manage_budget(membership, engagement):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if days is None and amount is None:
        errors["days"] = _("Give a budget in days, in money, or both.")
    if days is not None and (error := limits.money_error(days, maximum=limits.MAX_BUDGET_DAYS)):
        errors["days"] = error
    elif days is not None and days <= 0:
        errors["days"] = _("A budget in days must be positive.")
    if amount is not None and (error := limits.money_error(amount)):
        errors["amount"] = error
    elif amount is not None and amount <= 0:
        errors["amount"] = _("A budget amount must be positive.")
    if not reason.strip():
        errors["reason"] = _("Say why the budget is set or changed: the client will read it.")
    if errors:
        raise ValidationError(errors)
    before = figures_load(engagement=engagement, cells=False)
    revision = BudgetRevision.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        days=days,
        amount=amount,
        reason=reason.strip(),
        changed_by=membership.user,
        **({"created_at": at} if at is not None else {}),
    )
    (entry,) = _append(
        engagement=engagement,
        kind="budget.revised",
        payloads=[
            {
                "revision": revision.pk,
                "days": str(days) if days is not None else None,
                "amount": str(amount) if amount is not None else None,
                "currency": engagement.workspace.currency,
                "reason": revision.reason,
            }
        ],
        actor=membership.user,
    )
    BudgetRevision.objects.filter(pk=revision.pk).update(ledger_index=entry.index)
    revision.ledger_index = entry.index
    audit_record(
        verb="budget.revise",
        actor=membership.user,
        workspace=membership.workspace,
        target=revision,
        data={"days": str(days), "amount": str(amount)},
    )
    if tell:
        _tell_budget_revised(
            engagement=engagement, actor=membership.user, revision=revision, before=before, at=at
        )
    budget_alerts_check(engagement=engagement)
    return revision


def _tell_budget_revised(
    *,
    engagement: Engagement,
    actor: User,
    revision: BudgetRevision,
    before: Figures,
    at: datetime | None,
) -> None:
    """Both sides hear of a new budget at once: what it was, what it is, what is consumed of it
    and why it changed. Amounts only where the workspace shows them to its clients (the client's
    contacts read the same notice as the provider's people)."""
    from confiance.core.notices import notify_on_commit
    from confiance.engagements.stops import engagement_people

    per_day = before.minutes_per_day or engagement.workspace.minutes_per_day or 480
    params: dict[str, object] = {
        "engagement": engagement.title,
        "who": actor.get_full_name(),
        "reason": revision.reason,
        "days": None if revision.days is None else str(revision.days),
        "before_days": None if before.budget_days is None else str(before.budget_days),
        "consumed_days": f"{before.consumed_minutes / per_day:.1f}",
        "percent": (
            round(100 * before.consumed_minutes / (revision.days * per_day))
            if revision.days
            else None
        ),
    }
    if engagement.workspace.show_amounts_to_client and revision.amount is not None:
        params["amount"] = str(revision.amount)
        params["before_amount"] = (
            None if before.budget_amount is None else str(before.budget_amount)
        )
        params["currency"] = engagement.workspace.currency
    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=[pk for pk in engagement_people(engagement) if pk != actor.pk],
        kind="budget.revised",
        params=params,
        link=reverse("consumption", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}),
        at=at,
    )


@dataclass(frozen=True)
class EntryInput:
    """One time entry to log, as parsed by a form, the API or an import."""

    person: User
    date: date
    minutes: int
    activity: Activity | None = None
    shared_note: str = ""
    internal_note: str = ""
    source: str = ""
    external_id: str = ""
    # When the entry was logged; only the demo data sets it, to tell a story that happened over
    # weeks. The pages, the API and imports always log "now".
    logged_at: datetime | None = None


def _entry_errors(engagement: Engagement, item: EntryInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not 0 < item.minutes <= MAX_MINUTES_PER_ENTRY:
        errors["minutes"] = _("A duration is between 1 minute and 24 hours.")
    if item.date > timezone.localdate() + timedelta(days=1):
        errors["date"] = _("Time cannot be logged for a day that has not come yet.")
    elif error := limits.date_error(item.date, engagement=engagement):
        errors["date"] = error
    if max(len(item.shared_note), len(item.internal_note)) > limits.MAX_NOTE_LENGTH:
        errors["shared_note"] = _("A note has at most %(max)d characters.") % {
            "max": limits.MAX_NOTE_LENGTH
        }
    if item.activity is not None and item.activity.engagement_id != engagement.pk:
        errors["activity"] = _("Choose an activity of this engagement.")
    return errors


def _delay(day: date, logged_at: datetime) -> int:
    return (timezone.localdate(logged_at) - day).days


def _leaf(entry: TimeEntry) -> dict[str, object]:
    # What the client may rely on: never the internal note, never a rate.
    return {
        "entry": entry.pk,
        "entry_kind": entry.kind,
        "corrects": entry.corrects_id,
        "person": entry.person.email,
        "date": entry.date.isoformat(),
        "minutes": entry.minutes,
        "activity": entry.activity.name if entry.activity else None,
        "note": entry.shared_note,
        # The day it was logged, so "logged late" is a ledgered figure too.
        "logged_on": timezone.localdate(entry.created_at).isoformat(),
    }


def _check_logging_rights(membership: Membership, engagement: Engagement, persons: set[int]):
    if not access.can_log_time(membership, engagement):
        raise PermissionDenied
    if persons - {membership.user_id} and not access.can_log_time_for_others(
        membership, engagement
    ):
        raise PermissionDenied
    if engagement.status not in LOGGABLE_STATUSES:
        raise ValidationError(
            _("Time is logged on active or paused engagements only (this one is %(status)s).")
            % {"status": engagement.get_status_display()}
        )


@transaction.atomic
def time_entries_log(
    *, membership: Membership, engagement: Engagement, items: list[EntryInput]
) -> list[TimeEntry]:
    """Log several entries at once (all or nothing); each goes into the ledger."""
    _ensure_same_workspace(membership, engagement)
    _check_logging_rights(membership, engagement, {item.person.pk for item in items})
    for position, item in enumerate(items):
        errors = _entry_errors(engagement, item)
        if errors:
            raise ValidationError(
                errors
                if len(items) == 1
                else {
                    "__all__": [
                        _("Entry %(n)d: %(errors)s")
                        % {"n": position + 1, "errors": " ".join(errors.values())}
                    ]
                }
            )
    now = timezone.now()
    start = ledger_next_index(engagement=engagement)
    entries = [
        TimeEntry(
            ledger_index=start + position,
            workspace_id=engagement.workspace_id,
            engagement=engagement,
            person=item.person,
            date=item.date,
            minutes=item.minutes,
            activity=item.activity,
            shared_note=item.shared_note.strip(),
            internal_note=item.internal_note.strip(),
            created_by=membership.user,
            created_at=item.logged_at or now,
            log_delay_days=_delay(item.date, item.logged_at or now),
            source=item.source,
            external_id=item.external_id,
        )
        for position, item in enumerate(items)
    ]
    try:
        with transaction.atomic():
            TimeEntry.objects.bulk_create(entries, batch_size=1000)
    except IntegrityError:
        raise ValidationError(_("Some of these entries were already imported.")) from None
    if entries and entries[0].pk is None:  # backends that do not return ids on bulk insert
        raise RuntimeError("bulk_create did not return primary keys")
    ledger_entries = _append(
        engagement=engagement,
        kind="time_entry",
        payloads=[_leaf(entry) for entry in entries],
        actor=membership.user,
    )
    # The indexes were reserved under the log's lock: they must be the ones the log gave.
    if ledger_entries and ledger_entries[0].index != start:
        raise RuntimeError("ledger index reserved and appended differ")
    audit_record(
        verb="time_entry.log",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"count": len(entries), "minutes": sum(e.minutes for e in entries)},
    )
    budget_alerts_check(engagement=engagement, logged=entries, now=now)
    return entries


def time_entry_log(
    *, membership: Membership, engagement: Engagement, item: EntryInput
) -> TimeEntry:
    """Log one entry."""
    return time_entries_log(membership=membership, engagement=engagement, items=[item])[0]


@transaction.atomic
def time_entry_correct(
    *,
    membership: Membership,
    entry: TimeEntry,
    reason: str,
    replacement: EntryInput | None,
) -> list[TimeEntry]:
    """Correct an entry: append its reversal and, unless it is withdrawn, a replacement.

    The original stays as it was; both new entries point to it.
    """
    engagement = entry.engagement
    _ensure_same_workspace(membership, engagement)
    persons = {entry.person_id} | ({replacement.person.pk} if replacement else set())
    _check_logging_rights(membership, engagement, persons)
    if entry.kind != EntryKind.ORIGINAL and entry.kind != EntryKind.REPLACEMENT:
        raise ValidationError(_("A reversal cannot itself be corrected."))
    if TimeEntry.objects.filter(corrects=entry).exists():
        raise ValidationError(_("This entry was already corrected; correct the new entry."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the entry is corrected: the client sees it.")})
    if replacement is not None:
        errors = _entry_errors(engagement, replacement)
        if errors:
            raise ValidationError(errors)
    now = timezone.now()
    common = {
        "workspace_id": engagement.workspace_id,
        "engagement": engagement,
        "corrects": entry,
        "correction_reason": reason.strip(),
        "created_by": membership.user,
        "created_at": now,
    }
    created = [
        TimeEntry.objects.create(
            person=entry.person,
            date=entry.date,
            minutes=-entry.minutes,
            activity=entry.activity,
            shared_note=entry.shared_note,
            kind=EntryKind.REVERSAL,
            **common,
        )
    ]
    if replacement is not None:
        created.append(
            TimeEntry.objects.create(
                person=replacement.person,
                date=replacement.date,
                minutes=replacement.minutes,
                activity=replacement.activity,
                shared_note=replacement.shared_note.strip(),
                internal_note=replacement.internal_note.strip(),
                kind=EntryKind.REPLACEMENT,
                log_delay_days=_delay(replacement.date, now),
                **common,
            )
        )
    payloads = [{**_leaf(e), "reason": e.correction_reason} for e in created]
    ledger_entries = _append(
        engagement=engagement,
        kind="time_entry.correction",
        payloads=payloads,
        actor=membership.user,
    )
    for e, ledger_entry in zip(created, ledger_entries, strict=True):
        e.ledger_index = ledger_entry.index
        TimeEntry.objects.filter(pk=e.pk).update(ledger_index=ledger_entry.index)
    audit_record(
        verb="time_entry.correct",
        actor=membership.user,
        workspace=membership.workspace,
        target=entry,
        data={"reason": reason.strip(), "withdrawn": replacement is None},
    )
    # Time already counted changes: both sides hear it at once, with before, after and why.
    from confiance.core.notices import notify_on_commit
    from confiance.engagements.stops import engagement_people

    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=[pk for pk in engagement_people(engagement) if pk != membership.user_id],
        kind="budget.corrected",
        params={
            "engagement": engagement.title,
            "who": membership.user.get_full_name(),
            "person": entry.person.get_full_name(),
            "date": entry.date.isoformat(),
            "before": entry.minutes,
            "after": replacement.minutes if replacement is not None else None,
            "reason": reason.strip(),
            # Moved to another person or day: the notice says where the time now stands.
            **(
                {
                    "now_person": replacement.person.get_full_name(),
                    "now_date": replacement.date.isoformat(),
                }
                if replacement is not None
                and (replacement.person.pk, replacement.date) != (entry.person_id, entry.date)
                else {}
            ),
        },
        link=reverse("consumption", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}),
    )
    budget_alerts_check(engagement=engagement)
    return created


@transaction.atomic
def remaining_estimate_set(
    *, membership: Membership, engagement: Engagement, remaining_minutes: int, note: str = ""
) -> RemainingEstimate:
    """Record the team's current estimate of the work left (feeds the forecast)."""
    if not access.can_log_time(membership, engagement):
        raise PermissionDenied
    if remaining_minutes < 0:
        raise ValidationError({"remaining_minutes": _("The work left cannot be negative.")})
    if remaining_minutes > limits.MAX_REMAINING_MINUTES:
        raise ValidationError(
            {
                "remaining_minutes": _("The work left is at most %(days)s days.")
                % {"days": f"{limits.MAX_BUDGET_DAYS:,}"}
            }
        )
    estimate = RemainingEstimate.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        remaining_minutes=remaining_minutes,
        note=note.strip(),
        estimated_by=membership.user,
    )
    (entry,) = _append(
        engagement=engagement,
        kind="estimate.remaining",
        payloads=[{"estimate": estimate.pk, "remaining_minutes": remaining_minutes, "note": note}],
        actor=membership.user,
    )
    RemainingEstimate.objects.filter(pk=estimate.pk).update(ledger_index=entry.index)
    estimate.ledger_index = entry.index
    audit_record(
        verb="estimate.set",
        actor=membership.user,
        workspace=membership.workspace,
        target=estimate,
        data={"remaining_minutes": remaining_minutes},
    )
    budget_alerts_check(engagement=engagement)
    return estimate


THRESHOLDS = (
    (BudgetAlert.Level.HALF, 0.5),
    (BudgetAlert.Level.EIGHTY, 0.8),
    (BudgetAlert.Level.FULL, 1.0),
)


def _crossing(
    *, consumed: int, threshold: float, logged: Sequence[TimeEntry], now: datetime
) -> tuple[datetime, int]:
    """When a threshold was crossed, and what was consumed then.

    Entries logged "now" cross it now; entries recorded with the time they were logged (the
    demo's weeks of history) cross it at the entry that reached it, so the alert, its notice
    and its figures carry that moment, not the day the history was loaded.
    """
    before = consumed - sum(e.minutes for e in logged)
    for entry in sorted(logged, key=lambda e: (e.created_at, e.pk or 0)):
        before += entry.minutes
        if before >= threshold:
            return min(entry.created_at, now), before
    return now, consumed


def budget_alerts_check(
    *, engagement: Engagement, logged: Sequence[TimeEntry] = (), now: datetime | None = None
) -> list[BudgetAlert]:
    """Raise the budget alerts newly crossed; each level is raised once, sent on commit.

    Reads the running totals (one row), never a sum over the entries. `logged`: the entries
    just logged, to date a threshold at the entry that crossed it; `now`: when they were logged.
    """
    from confiance.consumption.tasks import send_budget_alert

    figures = figures_load(engagement=engagement, cells=False)
    budget = figures.budget_minutes
    if not budget:
        return []
    now = now or timezone.now()
    consumed = figures.consumed_minutes
    forecast = consumed + figures.estimate_minutes if figures.estimate_minutes is not None else None
    crossed: list[tuple[str, datetime, int]] = [
        (level, *_crossing(consumed=consumed, threshold=budget * share, logged=logged, now=now))
        for level, share in THRESHOLDS
        if consumed >= budget * share
    ]
    if forecast is not None and forecast > budget:
        crossed.append((BudgetAlert.Level.FORECAST, now, consumed))
    already = set(engagement.budget_alerts.values_list("level", flat=True))
    raised = []
    for level, at, consumed_then in crossed:
        if level in already:
            continue
        alert = BudgetAlert.objects.create(
            workspace_id=engagement.workspace_id,
            engagement=engagement,
            level=level,
            consumed_minutes=consumed_then,
            budget_minutes=budget,
            forecast_minutes=forecast if at == now else None,
            created_at=at,
        )
        raised.append(alert)
        enqueue_on_commit(send_budget_alert, alert.pk, in_history=at != now)
        webhook_emit(
            workspace_id=engagement.workspace_id,
            event_type="budget.alert",
            obj=("consumption.budgetalert", str(alert.pk)),
            engagement_id=engagement.pk,
            extra={"level": level},
        )
    return raised
