"""Writes of the common language and vision: one side proposes, the other agrees.

An agreement is ledgered (both sides rely on what was agreed) and told to both sides; a proposal
is told to the other side, who alone may agree to it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.alignment.models import GlossaryEntry, Side, State, Vision
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Role
from confiance.core.notices import notify_on_commit
from confiance.engagements.models import Engagement
from confiance.engagements.services import engagement_require_not_ended
from confiance.ledger.services import ledger_append

MAX_TERM_LENGTH = 120
MAX_TEXT_LENGTH = 2000


def _side(membership: Membership, engagement: Engagement) -> str:
    side = access.alignment_side(membership, engagement)
    if side is None:
        raise PermissionDenied
    return side


def side_people(engagement: Engagement, side: str) -> set[int]:
    """Who speaks for a side: the engagement's people of that side (for the provider, without
    anyone on the engagement yet, its lead or the workspace's owners)."""
    from confiance.engagements.selectors import engagement_people

    ids = set(engagement_people(engagement=engagement, side=side).values_list("pk", flat=True))
    if not ids and side == Side.PROVIDER:
        ids = set(
            Membership.objects.filter(
                workspace_id=engagement.workspace_id, role=Role.OWNER
            ).values_list("user_id", flat=True)
        )
    return ids


def _link(engagement: Engagement, anchor: str) -> str:
    url = reverse("common-ground", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    return f"{url}#{anchor}"


def _tell(
    membership: Membership, engagement: Engagement, kind: str, user_ids: set[int], **params: str
) -> None:
    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=sorted(user_ids - {membership.user_id}),
        kind=kind,
        params={
            "engagement": engagement.title,
            "who": membership.user.get_full_name(),
            **params,
        },
        link=_link(engagement, "glossary" if kind.startswith("glossary") else "vision"),
    )


def _text(errors: dict[str, str], field: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        errors[field] = _("This field is required.")
    elif len(value) > limit:
        errors[field] = _("At most %(n)s characters.") % {"n": limit}
    return value


def _other(side: str) -> str:
    return Side.CLIENT if side == Side.PROVIDER else Side.PROVIDER


@transaction.atomic
def glossary_propose(
    *,
    membership: Membership,
    engagement: Engagement,
    term: str,
    meaning: str,
    replaces: GlossaryEntry | None = None,
) -> GlossaryEntry:
    """Propose a term and its meaning (or a new meaning of an agreed term) to the other side."""
    side = _side(membership, engagement)
    engagement_require_not_ended(engagement)
    errors: dict[str, str] = {}
    if replaces is not None:
        replaces = GlossaryEntry.objects.select_for_update().get(pk=replaces.pk)  # as it is now
        if replaces.engagement_id != engagement.pk or replaces.state != State.AGREED:
            raise ValidationError(_("Only an agreed term can be changed."))
        term = replaces.term
    term = _text(errors, "term", term, MAX_TERM_LENGTH)
    meaning = _text(errors, "meaning", meaning, MAX_TEXT_LENGTH)
    current = GlossaryEntry.objects.filter(engagement=engagement, term__iexact=term)
    if term and replaces is None and current.filter(state=State.AGREED).exists():
        errors["term"] = _("This term is in the glossary already: propose a change to it.")
    if term and current.filter(state=State.PROPOSED).exists():
        errors["term"] = _("A proposal for this term awaits an answer.")
    if errors:
        raise ValidationError(errors)
    entry = GlossaryEntry.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        term=term,
        meaning=meaning,
        replaces=replaces,
        proposed_by=membership.user,
        proposed_side=side,
    )
    audit_record(
        verb="glossary.propose",
        actor=membership.user,
        workspace=membership.workspace,
        target=entry,
        data={"term": term},
    )
    _tell(
        membership,
        engagement,
        "glossary.proposed",
        side_people(engagement, _other(side)),
        term=term,
        text=meaning[:500],
    )
    return entry


@transaction.atomic
def glossary_agree(*, membership: Membership, entry: GlossaryEntry) -> GlossaryEntry:
    """The other side agrees to a proposed meaning: it becomes the common one (ledgered)."""
    entry = (
        GlossaryEntry.objects.select_for_update()
        .select_related("engagement__workspace")
        .get(pk=entry.pk)
    )
    engagement = entry.engagement
    side = _side(membership, engagement)
    if entry.state != State.PROPOSED:
        raise ValidationError(_("This proposal was answered already."))
    if side == entry.proposed_side:
        raise ValidationError(_("The other side agrees to it, not the side that proposed it."))
    now = timezone.now()
    entry.state = State.AGREED
    entry.agreed_by = membership.user
    entry.agreed_at = now
    entry.save(update_fields=["state", "agreed_by", "agreed_at"])
    if entry.replaces_id is not None:
        GlossaryEntry.objects.filter(pk=entry.replaces_id).update(state=State.SUPERSEDED)
    ledger_append(
        engagement=engagement,
        kind="glossary.agreed",
        payload={
            "term": entry.term,
            "meaning": entry.meaning,
            "proposed_by": entry.proposed_by.get_full_name(),
            "agreed_by": membership.user.get_full_name(),
        },
        actor=membership.user,
    )
    audit_record(
        verb="glossary.agree", actor=membership.user, workspace=membership.workspace, target=entry
    )
    both = side_people(engagement, Side.PROVIDER) | side_people(engagement, Side.CLIENT)
    _tell(membership, engagement, "glossary.agreed", both | {entry.proposed_by_id}, term=entry.term)
    return entry


@transaction.atomic
def vision_propose(
    *, membership: Membership, engagement: Engagement, problem: str, outcome: str, success: str
) -> Vision:
    """Propose the shared vision (or a change to it); an earlier unanswered proposal is replaced."""
    side = _side(membership, engagement)
    engagement_require_not_ended(engagement)
    errors: dict[str, str] = {}
    problem = _text(errors, "problem", problem, MAX_TEXT_LENGTH)
    outcome = _text(errors, "outcome", outcome, MAX_TEXT_LENGTH)
    success = _text(errors, "success", success, MAX_TEXT_LENGTH)
    if errors:
        raise ValidationError(errors)
    Vision.objects.filter(engagement=engagement, state=State.PROPOSED).update(
        state=State.SUPERSEDED
    )
    vision = Vision.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        problem=problem,
        outcome=outcome,
        success=success,
        replaces=Vision.objects.filter(engagement=engagement, state=State.AGREED).first(),
        proposed_by=membership.user,
        proposed_side=side,
    )
    audit_record(
        verb="vision.propose", actor=membership.user, workspace=membership.workspace, target=vision
    )
    _tell(
        membership,
        engagement,
        "vision.proposed",
        side_people(engagement, _other(side)),
        text=outcome[:500],
    )
    return vision


@transaction.atomic
def vision_agree(*, membership: Membership, vision: Vision) -> Vision:
    """The other side accepts the proposed vision: it becomes the shared one (ledgered)."""
    vision = (
        Vision.objects.select_for_update().select_related("engagement__workspace").get(pk=vision.pk)
    )
    engagement = vision.engagement
    side = _side(membership, engagement)
    if vision.state != State.PROPOSED:
        raise ValidationError(_("This proposal was answered already."))
    if side == vision.proposed_side:
        raise ValidationError(_("The other side agrees to it, not the side that proposed it."))
    now = timezone.now()
    Vision.objects.filter(engagement=engagement, state=State.AGREED).update(state=State.SUPERSEDED)
    vision.state = State.AGREED
    vision.agreed_by = membership.user
    vision.agreed_at = now
    vision.save(update_fields=["state", "agreed_by", "agreed_at"])
    ledger_append(
        engagement=engagement,
        kind="vision.agreed",
        payload={
            "problem": vision.problem,
            "outcome": vision.outcome,
            "success": vision.success,
            "proposed_by": vision.proposed_by.get_full_name(),
            "agreed_by": membership.user.get_full_name(),
        },
        actor=membership.user,
    )
    audit_record(
        verb="vision.agree", actor=membership.user, workspace=membership.workspace, target=vision
    )
    both = side_people(engagement, Side.PROVIDER) | side_people(engagement, Side.CLIENT)
    _tell(membership, engagement, "vision.agreed", both | {vision.proposed_by_id})
    return vision
