"""Writes of engagements. The UI, the API and the demo data all come through here."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core import limits
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Client, Membership, User
from confiance.engagements.models import (
    ContactOrigin,
    Engagement,
    EngagementStatus,
    Interlocutor,
    Objective,
)


@transaction.atomic
def engagement_create(
    *,
    membership: Membership,
    client: Client,
    title: str,
    contact_origin: str,
    status: str = EngagementStatus.DRAFT,
    reference: str = "",
    start_date: date | None = None,
    end_date: date | None = None,
    lead: User | None = None,
    summary: str = "",
    internal_notes: str = "",
    referred_by: str = "",
    client_problem: str = "",
    client_solution_idea: str = "",
    provider_interpretation: str = "",
) -> Engagement:
    """Create an engagement for a client of the membership's workspace."""
    if not access.can_manage_engagements(membership):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if client.workspace_id != membership.workspace_id:
        errors["client"] = _("Choose a client of this workspace.")
    elif client.archived_at is not None:
        errors["client"] = _("This client is archived: restore it first.")
    if not title.strip():
        errors["title"] = _("An engagement needs a title.")
    if contact_origin not in ContactOrigin.values:
        errors["contact_origin"] = _("Choose how the contact started.")
    if status not in EngagementStatus.values:
        errors["status"] = _("Unknown status.")
    for name, day in (("start_date", start_date), ("end_date", end_date)):
        if day is not None and (error := limits.engagement_date_error(day)):
            errors[name] = error
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = _("The end date comes before the start date.")
    if (
        lead is not None
        and not lead.memberships.filter(
            workspace_id=membership.workspace_id, role__in=INTERNAL_ROLES
        ).exists()
    ):
        errors["lead"] = _("The lead must be someone from your firm.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    engagement = Engagement.objects.create(
        workspace_id=membership.workspace_id,
        client=client,
        title=title.strip(),
        reference=reference.strip(),
        contact_origin=contact_origin,
        status=status,
        start_date=start_date,
        end_date=end_date,
        lead=lead,
        summary=summary,
        internal_notes=internal_notes,
        referred_by=referred_by.strip(),
        client_problem=client_problem.strip(),
        client_solution_idea=client_solution_idea.strip(),
        provider_interpretation=provider_interpretation.strip(),
        created_at=now,
        updated_at=now,
    )
    # The ledger's identity (its origin) is fixed now, once, whatever the host later is.
    from confiance.ledger.services import ledger_log_create

    ledger_log_create(engagement=engagement)
    audit_record(
        verb="engagement.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"title": engagement.title, "status": status},
    )
    return engagement


# Statuses an engagement has ended in; leaving one of them is a reopening.
ENDED_STATUSES = (EngagementStatus.STOPPED_EARLY, EngagementStatus.CLOSED)


@transaction.atomic
def engagement_set_status(
    *,
    membership: Membership,
    engagement: Engagement,
    status: str,
    reason: str = "",
    tell: bool = True,
    at: datetime | None = None,
) -> None:
    """Move an engagement to another status; stopping early and reopening need their reason.

    An honest stop is a valid outcome: it records who decided it, when and why. "Closed" is
    reached only through the closure (the client's approval for payment), never set by hand.
    Stopping early and reopening are ledgered and told to both sides (`tell=False` when the
    caller tells them itself); pausing and resuming are told to both sides too.
    """
    from confiance.engagements.stops import tell_both_sides
    from confiance.ledger.services import ledger_append

    if not access.can_manage_engagements(membership) or (
        engagement.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    if status not in EngagementStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == EngagementStatus.CLOSED and engagement.status != status:
        raise ValidationError(
            {"status": _("An engagement is closed by the closure: the client's approval.")}
        )
    reason = reason.strip()
    fields = ["status", "updated_at"]
    stopping = status == EngagementStatus.STOPPED_EARLY and engagement.status != status
    reopening = engagement.status in ENDED_STATUSES and status not in ENDED_STATUSES
    if stopping:
        if not reason:
            raise ValidationError({"reason": _("Say why the engagement stops early.")})
        engagement.stop_reason = reason
        engagement.stopped_by = membership.user
        # `at`: when it was decided; only the demo's history sets it (a pilot stopped months ago).
        engagement.stopped_at = at or timezone.now()
        fields += ["stop_reason", "stopped_by", "stopped_at"]
    if reopening and not reason:
        raise ValidationError({"reason": _("Say why the engagement is reopened.")})
    previous = engagement.status
    engagement.status = status
    engagement.updated_at = timezone.now()
    engagement.save(update_fields=fields)
    audit_record(
        verb="engagement.status",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"from": previous, "to": status, "reason": reason},
    )
    # Work paused or taken up again: the client's side hears it at once, as the provider's.
    pausing = {previous, status} == {EngagementStatus.ACTIVE, EngagementStatus.PAUSED}
    if tell and pausing and not reopening:
        kind = "engagement.paused" if status == EngagementStatus.PAUSED else "engagement.resumed"
        tell_both_sides(engagement, membership.user, kind, at=at, reason=reason)
    if stopping or reopening:
        ledger_append(
            engagement=engagement,
            kind="engagement.reopened" if reopening else "engagement.stopped_early",
            payload={"from": previous, "to": status, "reason": reason},
            actor=membership.user,
        )
        if tell:
            tell_both_sides(
                engagement,
                membership.user,
                "engagement.reopened" if reopening else "engagement.stopped_early",
                at=at,
                reason=reason,
            )


PROBLEM_STATEMENT_FIELDS = ("client_problem", "client_solution_idea", "provider_interpretation")


@transaction.atomic
def engagement_update(*, membership: Membership, engagement: Engagement, **fields: object) -> None:
    """Edit the description of an engagement (title, dates, problem statement, notes...)."""
    editable = {
        "title",
        "reference",
        "start_date",
        "end_date",
        "lead",
        "summary",
        "internal_notes",
        "contact_origin",
        "referred_by",
        *PROBLEM_STATEMENT_FIELDS,
    }
    if not access.can_manage_engagements(membership) or (
        engagement.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    dates_before = (engagement.start_date, engagement.end_date)
    for name, value in fields.items():
        setattr(engagement, name, value.strip() if isinstance(value, str) else value)
    errors: dict[str, str] = {}
    if not engagement.title:
        errors["title"] = _("An engagement needs a title.")
    for name in ("start_date", "end_date"):
        day = getattr(engagement, name)
        if day is not None and (error := limits.engagement_date_error(day)):
            errors[name] = error
    if (
        engagement.start_date
        and engagement.end_date
        and engagement.end_date < engagement.start_date
    ):
        errors["end_date"] = _("The end date comes before the start date.")
    if engagement.contact_origin not in ContactOrigin.values:
        errors["contact_origin"] = _("Choose how the contact started.")
    if errors:
        raise ValidationError(errors)
    engagement.updated_at = timezone.now()
    engagement.save(update_fields=[*fields, "updated_at"])
    audit_record(
        verb="engagement.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=engagement,
        data={"fields": sorted(fields)},
    )
    dates_after = (engagement.start_date, engagement.end_date)
    if dates_after != dates_before and engagement.status != EngagementStatus.DRAFT:
        # The planned dates are the client's too: both sides hear of a change at once.
        from confiance.engagements.stops import tell_both_sides

        def iso(day: date | None) -> str:
            return day.isoformat() if day else ""

        tell_both_sides(
            engagement,
            membership.user,
            "engagement.dates_changed",
            start=iso(dates_after[0]),
            end=iso(dates_after[1]),
            before_start=iso(dates_before[0]),
            before_end=iso(dates_before[1]),
        )


def engagement_require_not_ended(engagement: Engagement) -> None:
    """Refuse to plan anything new on an ended engagement (`access.engagement_ended`), saying
    how to do it anyway: reopen it, with the reason, which both sides read."""
    if access.engagement_ended(engagement):
        raise ValidationError(
            _(
                "This engagement has ended (%(status)s): nothing new is planned on it. "
                "Reopen it first, with the reason."
            )
            % {"status": engagement.get_status_display()}
        )


@transaction.atomic
def objective_add(
    *,
    membership: Membership,
    engagement: Engagement,
    text: str,
    success_measure: str,
    tell: bool = True,
) -> Objective:
    """Add a measurable objective, with how its attainment will be judged; both sides of a
    running engagement hear of it (`tell=False`: objectives both sides already agreed on, as an
    agreement's at conversion, or a history loaded at once)."""
    if not access.can_manage_engagements(membership) or (
        engagement.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    engagement_require_not_ended(engagement)
    errors = {}
    if not text.strip():
        errors["text"] = _("Write the objective.")
    if not success_measure.strip():
        errors["success_measure"] = _("Say how its attainment will be judged.")
    if errors:
        raise ValidationError(errors)
    objective = Objective.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        text=text.strip(),
        success_measure=success_measure.strip(),
        position=engagement.objectives.count(),
    )
    audit_record(
        verb="objective.add",
        actor=membership.user,
        workspace=membership.workspace,
        target=objective,
    )
    if tell and engagement.status in (EngagementStatus.ACTIVE, EngagementStatus.PAUSED):
        from confiance.engagements.stops import tell_both_sides

        tell_both_sides(
            engagement,
            membership.user,
            "engagement.objective_added",
            text=objective.text,
            measure=objective.success_measure,
        )
    return objective


def _emerged_with(engagement: Engagement, user: User) -> bool:
    """An invited expert joins the provider's side of an engagement only if it emerged from an
    opportunity they took part in (the team that emerged); they still never see the engagement."""
    from confiance.emergence.models import Participant

    return Participant.objects.filter(
        opportunity__engagement=engagement,
        user=user,
        joined_at__isnull=False,
        removed_at__isnull=True,
    ).exists()


@transaction.atomic
def interlocutor_set(
    *,
    membership: Membership,
    engagement: Engagement,
    user: User,
    role: str = "",
    tell: bool = True,
) -> Interlocutor:
    """Name a person of either side as an interlocutor of the engagement; on a running
    engagement, the person named hears of it (`tell=False`: a team both sides formed, as at
    an opportunity's conversion)."""
    if not access.can_manage_engagements(membership) or (
        engagement.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    engagement_require_not_ended(engagement)
    their = user.memberships.filter(workspace_id=engagement.workspace_id).first()
    if their is None or (their.role == "expert" and not _emerged_with(engagement, user)):
        raise ValidationError({"user": _("Choose someone of the provider or of this client.")})
    if their.role == "client" and their.client_id != engagement.client_id:
        raise ValidationError({"user": _("Choose someone of the provider or of this client.")})
    side = Interlocutor.Side.CLIENT if their.role == "client" else Interlocutor.Side.PROVIDER
    interlocutor, _created = Interlocutor.objects.update_or_create(
        engagement=engagement,
        user=user,
        defaults={"workspace_id": engagement.workspace_id, "side": side, "role": role.strip()},
    )
    audit_record(
        verb="interlocutor.set",
        actor=membership.user,
        workspace=membership.workspace,
        target=interlocutor,
        data={"user": user.email, "side": side},
    )
    running = engagement.status in (EngagementStatus.ACTIVE, EngagementStatus.PAUSED)
    if tell and _created and running and user.pk != membership.user_id:
        from django.urls import reverse

        from confiance.core.notices import notify_on_commit

        notify_on_commit(
            workspace_id=engagement.workspace_id,
            user_ids=[user.pk],
            kind="engagement.interlocutor",
            params={
                "engagement": engagement.title,
                "who": membership.user.get_full_name(),
                "role": interlocutor.role,
            },
            link=reverse(
                "engagement-detail", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}
            ),
        )
    return interlocutor
