"""Reads of emergence; each starts from the policy-scoped queryset and takes the viewer."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404

from confiance import access
from confiance.core.models import Membership, Role, User
from confiance.emergence import agreement_template
from confiance.emergence.models import (
    Acceptance,
    Agreement,
    AgreementVersion,
    Attachment,
    ClauseComment,
    Endorsement,
    ExpertProfile,
    Nomination,
    NominationStatus,
    Opportunity,
    Participant,
    Partner,
    Phase,
    PhaseMove,
    Post,
    Referral,
    ReferralDirection,
    RoleSlot,
    Side,
)
from confiance.emergence.services import handle_of, participant_of, settle_date
from confiance.emergence.services.agreements import (
    AGREEMENT_PHASES,
    acceptance_side,
    agreed_version,
)

# Someone who wrote nothing for this long while the discussion went on has gone quiet.
QUIET_AFTER = timedelta(days=7)


def visible_opportunities(fetched_by: Membership) -> QuerySet[Opportunity]:
    return access.scope_opportunities(Opportunity.objects.all(), fetched_by)


def opportunity_list(*, fetched_by: Membership, phase: str = "") -> QuerySet[Opportunity]:
    """Opportunities the viewer may see, newest activity first; one query whatever their number."""
    queryset = (
        visible_opportunities(fetched_by)
        .select_related("client", "opened_by")
        .annotate(
            post_count=Count("posts", distinct=True),
            people=Count(
                "participants",
                filter=Q(
                    participants__joined_at__isnull=False,
                    participants__left_at__isnull=True,
                    participants__removed_at__isnull=True,
                ),
                distinct=True,
            ),
        )
    )
    if phase:
        queryset = queryset.filter(phase=phase)
    return queryset.order_by("-updated_at", "-id")


def opportunity_get(*, fetched_by: Membership, pk: int) -> Opportunity:
    """One opportunity the viewer may see, or 404."""
    opportunity = (
        visible_opportunities(fetched_by)
        .select_related("client", "opened_by", "workspace", "referred_to", "engagement")
        .filter(pk=pk)
        .first()
    )
    if opportunity is None:
        raise Http404
    return opportunity


@dataclass
class ParticipantRow:
    participant: Participant
    name: str
    handle: str
    posts: int
    last_post_at: datetime | None
    quiet: bool


def participant_rows(*, opportunity: Opportunity, fetched_by: Membership) -> list[ParticipantRow]:
    """Who takes part, who went quiet, who left: every participant with their activity."""
    counts = {
        row["author_id"]: row
        for row in Post.objects.filter(opportunity=opportunity)
        .values("author_id")
        .annotate(n=Count("id"), last=Max("created_at"))
    }
    latest = max((r["last"] for r in counts.values()), default=None)
    rows = []
    for p in opportunity.participants.select_related("user").order_by("invited_at", "id"):
        stats: dict[str, Any] = dict(counts.get(p.user_id, {})) if p.user_id is not None else {}
        last = stats.get("last")
        quiet = (
            p.status == "joined"
            and latest is not None
            and (last is None or latest - last > QUIET_AFTER)
        )
        rows.append(
            ParticipantRow(
                participant=p,
                name=p.user.get_full_name() if p.user else p.email,
                handle=handle_of(p.user) if p.user else "",
                posts=stats.get("n", 0),
                last_post_at=last,
                quiet=quiet,
            )
        )
    return rows


@dataclass
class ThreadItem:
    post: Post
    depth: int
    new: bool


def discussion(*, opportunity: Opportunity, since: datetime | None) -> list[ThreadItem]:
    """The posts as threads (each reply under its parent), in a constant number of queries."""
    posts = list(
        Post.objects.filter(opportunity=opportunity)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .annotate(revision_count=Count("revisions"))
        .order_by("created_at", "id")
    )
    children: dict[int | None, list[Any]] = {}
    for post in posts:
        children.setdefault(post.parent_id, []).append(post)
    out: list[ThreadItem] = []
    stack = [(p, 0) for p in reversed(children.get(None, []))]
    while stack:
        post, depth = stack.pop()
        out.append(
            ThreadItem(
                post=post, depth=min(depth, 4), new=since is not None and post.created_at > since
            )
        )
        stack.extend((c, depth + 1) for c in reversed(children.get(post.pk, [])))
    return out


def post_get(*, opportunity: Opportunity, post_id: int) -> Post:
    post = (
        Post.objects.select_related("author", "opportunity__workspace")
        .filter(pk=post_id, opportunity=opportunity)
        .first()
    )
    if post is None:
        raise Http404
    return post


def attachment_get(*, opportunity: Opportunity, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.filter(pk=attachment_id, post__opportunity=opportunity).first()
    if attachment is None:
        raise Http404
    return attachment


def phase_history(*, opportunity: Opportunity) -> QuerySet[PhaseMove]:
    return opportunity.moves.select_related("by").order_by("at", "id")


@dataclass
class NominationView:
    nomination: Nomination
    endorsements: list[Endorsement]
    settles_at: datetime | None
    objections: int


@dataclass
class SlotView:
    slot: RoleSlot
    nominations: list[NominationView] = field(default_factory=list)
    holder: Nomination | None = None


def team(*, opportunity: Opportunity) -> list[SlotView]:
    """The role slots with their nominations and endorsements, visible to every participant."""
    slots = (
        RoleSlot.objects.filter(opportunity=opportunity)
        .select_related("proposed_by", "opportunity")
        .prefetch_related(
            Prefetch(
                "nominations",
                queryset=Nomination.objects.exclude(status=NominationStatus.WITHDRAWN)
                .select_related("person", "accepted_by")
                .prefetch_related(
                    Prefetch("endorsements", queryset=Endorsement.objects.select_related("by"))
                ),
            )
        )
    )
    views = []
    for slot in slots:
        view = SlotView(slot=slot)
        for nomination in slot.nominations.all():
            nomination.slot = slot
            endorsements = list(nomination.endorsements.all())
            view.nominations.append(
                NominationView(
                    nomination=nomination,
                    endorsements=endorsements,
                    settles_at=settle_date(nomination, endorsements)
                    if nomination.status == NominationStatus.OPEN
                    else None,
                    objections=sum(1 for e in endorsements if e.objection),
                )
            )
            if nomination.status == NominationStatus.ACCEPTED:
                view.holder = nomination
        views.append(view)
    return views


@dataclass
class Permissions:
    """What the viewer may do on this opportunity's pages."""

    me: Participant | None
    steer: bool
    invite: bool
    speak: bool
    join: bool
    side: str


def permissions(*, opportunity: Opportunity, fetched_by: Membership) -> Permissions:
    me = participant_of(opportunity, fetched_by.user)
    internal_writer = access.is_internal(fetched_by) and fetched_by.role != Role.FINANCE
    open_ = not opportunity.is_closed
    joined = me is not None and me.joined_at is not None
    side = me.side if me else (Side.PROVIDER if access.is_internal(fetched_by) else Side.EXPERT)
    return Permissions(
        me=me,
        steer=open_ and access.can_steer_opportunity(fetched_by, opportunity.opened_by_id),
        invite=open_ and access.can_invite_to_opportunity(fetched_by),
        speak=open_ and (joined or internal_writer),
        join=open_ and me is not None and me.joined_at is None,
        side=side,
    )


# Experts: the network and profiles --------------------------------------------------------------


@dataclass
class ExpertRow:
    person: User
    profile: ExpertProfile | None
    opportunities: int
    endorsements: int


def expert_network(*, fetched_by: Membership) -> list[ExpertRow]:
    """The workspace's invited experts, with their profile and what they took part in."""
    if not access.is_internal(fetched_by):
        raise Http404
    people = list(
        User.objects.filter(
            memberships__workspace_id=fetched_by.workspace_id, memberships__role=Role.EXPERT
        )
        .annotate(
            n_opps=Count(
                "participations",
                filter=Q(
                    participations__workspace_id=fetched_by.workspace_id,
                    participations__joined_at__isnull=False,
                ),
                distinct=True,
            )
        )
        .order_by("full_name", "email")
    )
    profiles = {
        p.user_id: p
        for p in ExpertProfile.objects.filter(workspace_id=fetched_by.workspace_id, user__in=people)
    }
    endorsed = dict(
        Endorsement.objects.filter(
            workspace_id=fetched_by.workspace_id,
            nomination__person__in=people,
            objection=False,
        )
        .values_list("nomination__person_id")
        .annotate(n=Count("id"))
    )
    return [
        ExpertRow(
            person=u,
            profile=profiles.get(u.pk),
            opportunities=u.n_opps,  # type: ignore[attr-defined]
            endorsements=endorsed.get(u.pk, 0),
        )
        for u in people
    ]


@dataclass
class ExpertProfileView:
    person: User
    role: str
    profile: ExpertProfile | None
    introductions: list[Participant]
    participations: list[Participant]
    endorsements: list[Endorsement]
    posts: int
    held_roles: list[Nomination]


def expert_profile(*, fetched_by: Membership, user_id: int) -> ExpertProfileView:
    """A person's profile as the viewer may see it: only what happened in opportunities the
    viewer sees. Outside the provider, one sees only people of one's own opportunities."""
    theirs = (
        Membership.objects.filter(workspace_id=fetched_by.workspace_id, user_id=user_id)
        .select_related("user")
        .first()
    )
    if theirs is None:
        raise Http404
    visible = visible_opportunities(fetched_by)
    participations = list(
        Participant.objects.filter(user_id=user_id, opportunity__in=visible)
        .select_related("opportunity", "invited_by")
        .order_by("-invited_at")
    )
    if not access.is_internal(fetched_by) and not participations and user_id != fetched_by.user_id:
        raise Http404
    return ExpertProfileView(
        person=theirs.user,
        role=theirs.get_role_display(),
        profile=ExpertProfile.objects.filter(
            workspace_id=fetched_by.workspace_id, user_id=user_id
        ).first(),
        introductions=[p for p in participations if p.introduction],
        participations=[p for p in participations if p.joined_at is not None],
        endorsements=list(
            Endorsement.objects.filter(
                nomination__person_id=user_id, nomination__slot__opportunity__in=visible
            )
            .select_related("by", "nomination__slot__opportunity")
            .order_by("-created_at")
        ),
        posts=Post.objects.filter(author_id=user_id, opportunity__in=visible).count(),
        held_roles=list(
            Nomination.objects.filter(
                person_id=user_id,
                status=NominationStatus.ACCEPTED,
                slot__opportunity__in=visible,
            ).select_related("slot__opportunity")
        ),
    )


# The agreement ----------------------------------------------------------------------------------


@dataclass
class ClauseView:
    key: str
    number: int
    title: str
    text: str
    comments: list[ClauseComment]


@dataclass
class AgreementView:
    agreement: Agreement
    latest: AgreementVersion
    versions: list[AgreementVersion]
    clauses: list[ClauseView]
    terms_comments: list[ClauseComment]
    acceptances: list[Acceptance]
    agreed: AgreementVersion | None
    # The viewer's side for accepting (None: they do not accept), and whether it already did.
    my_side: str | None
    my_side_accepted: bool
    can_edit: bool


def agreement_view(*, opportunity: Opportunity, fetched_by: Membership) -> AgreementView | None:
    """The agreement as it stands, with its versions, comments and acceptances; None if not
    started. A constant number of queries whatever the number of versions and comments."""
    agreement = Agreement.objects.filter(opportunity=opportunity).first()
    if agreement is None:
        return None
    agreement.opportunity = opportunity
    versions = list(
        agreement.versions.select_related("created_by").defer("text", "clauses").order_by("number")
    )
    latest = AgreementVersion.objects.select_related("created_by").get(pk=versions[-1].pk)
    comments: dict[str, list[ClauseComment]] = {}
    for comment in agreement.comments.select_related("author").order_by("created_at", "id"):
        comments.setdefault(comment.clause_key, []).append(comment)
    acceptances = list(agreement.acceptances.select_related("by", "version").order_by("at", "id"))
    sides: dict[int, set[str]] = {}
    for a in acceptances:
        if a.voided_at is None:
            sides.setdefault(a.version_id, set()).add(a.side)
    agreed_id = next((v for v, s in sides.items() if {Side.CLIENT, Side.PROVIDER} <= s), None)
    my_side = acceptance_side(fetched_by, opportunity)
    perms = permissions(opportunity=opportunity, fetched_by=fetched_by)
    return AgreementView(
        agreement=agreement,
        latest=latest,
        versions=versions,
        clauses=[
            ClauseView(
                key=c["key"],
                number=n,
                title=c["title"],
                text=c["text"],
                comments=comments.get(c["key"], []),
            )
            for n, c in enumerate(latest.clauses, start=1)
        ],
        terms_comments=comments.get("terms", []),
        acceptances=acceptances,
        agreed=latest if agreed_id == latest.pk else None,
        my_side=my_side,
        my_side_accepted=my_side is not None and my_side in sides.get(latest.pk, set()),
        can_edit=perms.speak and opportunity.phase in AGREEMENT_PHASES,
    )


@dataclass
class DiffLine:
    op: str  # "same", "added", "removed"
    text: str


@dataclass
class SectionDiff:
    key: str
    title: str
    status: str  # "same", "changed", "added", "removed"
    lines: list[DiffLine]


def _sections(version: AgreementVersion) -> dict[str, tuple[str, list[str]]]:
    """The version's parts by key: the terms, then each clause (title and text lines)."""
    labels = agreement_template.LABELS.get(
        version.agreement.language, agreement_template.LABELS["en"]
    )
    terms = version.terms or {}
    term_lines = [
        f"{labels[name]}: {terms.get(name) if terms.get(name) is not None else labels['unset']}"
        for name in agreement_template.TERM_NUMBERS
    ] + [f"{labels['objectives']}: {o}" for o in terms.get("objectives", [])]
    sections = {"terms": (labels["terms"], term_lines)}
    for clause in version.clauses:
        sections[clause["key"]] = (clause["title"], [clause["title"], *clause["text"].split("\n")])
    return sections


def agreement_diff(
    *, agreement: Agreement, first: int, second: int
) -> tuple[AgreementVersion, AgreementVersion, list[SectionDiff]]:
    """What changed from version `first` to version `second`, clause by clause, line by line."""
    found = {
        v.number: v
        for v in agreement.versions.select_related("agreement").filter(number__in=[first, second])
    }
    if first not in found or second not in found:
        raise Http404
    old, new = _sections(found[first]), _sections(found[second])
    keys = list(new) + [k for k in old if k not in new]
    out = []
    for key in keys:
        if key not in old:
            title, lines = new[key]
            out.append(SectionDiff(key, title, "added", [DiffLine("added", t) for t in lines]))
        elif key not in new:
            title, lines = old[key]
            out.append(SectionDiff(key, title, "removed", [DiffLine("removed", t) for t in lines]))
        else:
            ops = []
            for line in difflib.ndiff(old[key][1], new[key][1]):
                code, text = line[:2], line[2:]
                if code == "? ":
                    continue
                ops.append(DiffLine({"+ ": "added", "- ": "removed"}.get(code, "same"), text))
            changed = any(d.op != "same" for d in ops)
            out.append(SectionDiff(key, new[key][0], "changed" if changed else "same", ops))
    return found[first], found[second], out


def agreed_text(*, opportunity: Opportunity) -> AgreementVersion | None:
    """The version both sides accepted, if any (read from the engagement it became)."""
    agreement = Agreement.objects.filter(opportunity=opportunity).first()
    return agreed_version(agreement) if agreement is not None else None


# Partners and referrals --------------------------------------------------------------------------


def partners(*, fetched_by: Membership) -> QuerySet[Partner]:
    """The workspace's partner directory (the provider's people only)."""
    if not access.can_see_partners(fetched_by):
        return Partner.objects.none()
    return Partner.objects.filter(workspace_id=fetched_by.workspace_id).order_by("name")


@dataclass
class PartnerRow:
    partner: Partner
    given: int
    received: int


def partner_rows(*, fetched_by: Membership) -> list[PartnerRow]:
    """Each partner with the referrals given to and received from them; one query."""
    rows = partners(fetched_by=fetched_by).annotate(
        n_given=Count("referrals", filter=Q(referrals__direction=ReferralDirection.GIVEN)),
        n_received=Count("referrals", filter=Q(referrals__direction=ReferralDirection.RECEIVED)),
    )
    return [
        PartnerRow(partner=p, given=p.n_given, received=p.n_received)  # type: ignore[attr-defined]
        for p in rows
    ]


@dataclass
class ReferralFigures:
    given: int
    received: int
    declined: int


def referral_counts(*, fetched_by: Membership) -> ReferralFigures:
    """The workspace's figures: referrals given and received, opportunities declined."""
    if not access.can_see_partners(fetched_by):
        raise Http404
    counts = dict(
        Referral.objects.filter(workspace_id=fetched_by.workspace_id)
        .values_list("direction")
        .annotate(n=Count("id"))
    )
    return ReferralFigures(
        given=counts.get(ReferralDirection.GIVEN, 0),
        received=counts.get(ReferralDirection.RECEIVED, 0),
        declined=Opportunity.objects.filter(
            workspace_id=fetched_by.workspace_id, phase=Phase.DECLINED
        ).count(),
    )
