"""THE access policy: who may see or do what. Views, the API and services ask here, nowhere else.

Roles (shared/DESIGN.md): owner, member and finance are the provider's people and see the whole
workspace; a client contact sees only its own client's engagements (never drafts), and only their
shared parts; an expert sees only the opportunities he was invited to. An object outside a
person's reach is answered as "not found" (404), never "forbidden".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from confiance.core.models import INTERNAL_ROLES, Membership, Role, User
from confiance.core.queries import Prepared, build, columns

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement, EngagementQuerySet


@functools.cache  # built once per process; Prepared compiles its SQL at the first run
def _membership_query(by_engagement: bool = False) -> Prepared:
    """A person's membership with its workspace, client and user, by the workspace's slug or by
    one of its engagements."""
    from confiance.core.models import Client, Workspace

    selected = (
        *columns(Membership),
        *columns(Workspace, "workspace__"),
        *columns(Client, "client__"),
        *columns(User, "user__"),
    )
    if by_engagement:
        return Prepared(
            lambda user_id, engagement_id: Membership.objects.filter(
                user_id=user_id, workspace__engagements__pk=engagement_id
            ).values_list(*selected),
            user_id=int,
            engagement_id=int,
        )
    return Prepared(
        lambda user_id, workspace_slug: Membership.objects.filter(
            user_id=user_id, workspace__slug=workspace_slug
        ).values_list(*selected),
        user_id=int,
        workspace_slug=str,
    )


def _membership_built(row: tuple[object, ...]) -> tuple[Membership, int]:
    """The membership, its workspace, client and user, from the first columns of a row of
    `_membership_query`'s shape; and where the next columns start."""
    from confiance.core.models import Client, Workspace

    membership, at = build(Membership, row)
    workspace, at = build(Workspace, row, at)
    client, at = build(Client, row, at)
    user, at = build(User, row, at)
    assert membership is not None
    membership.workspace = workspace  # type: ignore[assignment]
    membership.client = client
    membership.user = user  # type: ignore[assignment]
    return membership, at


def _membership_from(rows: list[tuple[object, ...]]) -> Membership | None:
    for row in rows:
        return _membership_built(row)[0]
    return None


@functools.cache
def _membership_with_engagement_query() -> Prepared:
    """`_membership_query(by_engagement=True)`'s row followed by the engagement's, with its
    client and lead: what `get_engagement` would read next, in the same query."""
    from confiance.core.models import Client, Workspace
    from confiance.engagements.models import Engagement

    engagement = "workspace__engagements__"
    return Prepared(
        lambda user_id, engagement_id: Membership.objects.filter(
            user_id=user_id, workspace__engagements__pk=engagement_id
        ).values_list(
            *columns(Membership),
            *columns(Workspace, "workspace__"),
            *columns(Client, "client__"),
            *columns(User, "user__"),
            *columns(Engagement, engagement),
            *columns(Client, f"{engagement}client__"),
            *columns(User, f"{engagement}lead__"),
        ),
        user_id=int,
        engagement_id=int,
    )


def membership_with_engagement(
    user_id: int, engagement_id: int
) -> tuple[Membership, Engagement] | None:
    """The membership of this user id in the engagement's workspace (its workspace, client and
    user set, whoever the user is: the caller checks) and the engagement (its client, lead and
    workspace set), in one query; None without such a membership. Whether the membership may
    see the engagement is still `check_engagement`'s to say."""

    for row in _membership_with_engagement_query().rows(
        user_id=user_id, engagement_id=engagement_id
    ):
        membership, at = _membership_built(row)
        engagement = _engagement_built(row, at)
        engagement.workspace = membership.workspace
        return membership, engagement
    return None


def _engagement_built(row: Sequence[object], start: int = 0) -> Engagement:
    """The engagement with its client and lead from the columns of `_engagement_query`'s shape
    that start at `row[start]`."""
    from confiance.core.models import Client
    from confiance.engagements.models import Engagement

    engagement, at = build(Engagement, row, start)
    client, at = build(Client, row, at)
    lead, at = build(User, row, at)
    assert engagement is not None
    engagement.client = client  # type: ignore[assignment]
    engagement.lead = lead
    return engagement


def membership_row(user_id: int, workspace_slug: str) -> Membership | None:
    """The membership of this user id in the workspace with this slug, its workspace, client and
    user set, whoever the user is (active or not: the caller checks): one query compiled once
    per process, as every page asks it."""
    return _membership_from(
        _membership_query().rows(user_id=user_id, workspace_slug=workspace_slug)
    )


def membership_for(user: User | None, workspace_slug: str) -> Membership | None:
    """The user's membership in the workspace with this slug, or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    membership = membership_row(user.pk, workspace_slug)  # unique (workspace, user)
    if membership is not None:
        membership.user = user  # the very object the request holds
    return membership


def membership_for_engagement(user: User | None, engagement_id: int) -> Membership | None:
    """The user's membership in the workspace this engagement belongs to, or None (one query:
    whether the engagement itself is within the membership's reach is get_engagement's)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    # unique (workspace, user); an engagement has one workspace
    membership = _membership_from(
        _membership_query(by_engagement=True).rows(user_id=user.pk, engagement_id=engagement_id)
    )
    if membership is not None:
        membership.user = user  # the very object the request holds
    return membership


def require_membership(user: User | None, workspace_slug: str) -> Membership:
    """The membership, or 404: a workspace one does not belong to does not exist for them."""
    membership = membership_for(user, workspace_slug)
    if membership is None:
        raise Http404
    return membership


def is_internal(membership: Membership | None) -> bool:
    """Provider-side people (owner, member, finance): they may see internal notes and rates."""
    return membership is not None and membership.role in INTERNAL_ROLES


def can_see_internal_notes(membership: Membership | None) -> bool:
    return is_internal(membership)


def can_manage_engagements(membership: Membership | None) -> bool:
    """Create and edit engagements: the owner and consultants."""
    return membership is not None and membership.role in (Role.OWNER, Role.MEMBER)


def can_see_members(membership: Membership | None) -> bool:
    return is_internal(membership)


def can_remove_members(membership: Membership | None) -> bool:
    """Ending someone's access to the workspace: its owner."""
    return membership is not None and membership.role == Role.OWNER


def can_see_schedule(membership: Membership | None) -> bool:
    """The periodic jobs' schedule (last run, next run, outcome): a workspace's owners."""
    return membership is not None and membership.role == Role.OWNER


def scope_people(queryset: QuerySet[User], membership: Membership | None) -> QuerySet[User]:
    """People whose profile this person may see (others are "not found"). The provider's people
    see everyone of the workspace, as on its member list; a client contact or an expert sees
    only the people they share an engagement with, and themselves."""
    from confiance.engagements.selectors import people_sharing_with

    if membership is None:
        return queryset.none()
    queryset = queryset.filter(memberships__workspace_id=membership.workspace_id)
    if can_see_members(membership):
        return queryset
    return queryset.filter(pk__in=people_sharing_with(membership).values("pk"))


def invitable_roles(membership: Membership | None) -> list[str]:
    """Roles this person may invite others with; only an owner grants owner or finance rights."""
    if membership is None:
        return []
    if membership.role == Role.OWNER:
        return [Role.OWNER, Role.MEMBER, Role.FINANCE, Role.CLIENT, Role.EXPERT]
    if membership.role == Role.MEMBER:
        return [Role.MEMBER, Role.CLIENT, Role.EXPERT]
    return []


def can_invite(membership: Membership | None, role: str | None = None) -> bool:
    roles = invitable_roles(membership)
    return bool(roles) if role is None else role in roles


def can_see_client(membership: Membership | None, client_id: int) -> bool:
    """A client organisation's page: the provider's people, and that client's own contacts."""
    if is_internal(membership):
        return True
    return (
        membership is not None
        and membership.role == Role.CLIENT
        and membership.client_id == client_id
    )


def can_manage_clients(membership: Membership | None) -> bool:
    """Create, rename and archive clients: whoever creates engagements."""
    return can_manage_engagements(membership)


def can_erase_people(membership: Membership | None) -> bool:
    """Erasing a person's identifying data from the workspace: its owner."""
    return membership is not None and membership.role == Role.OWNER


def can_manage_webhooks(membership: Membership | None) -> bool:
    """Webhooks send every event of the workspace to another tool: its owner decides."""
    return membership is not None and membership.role == Role.OWNER


def can_use_api_tokens(membership: Membership | None) -> bool:
    """Every member of a workspace may have personal tokens; the API applies the same policy."""
    return membership is not None


def scope_engagements(
    queryset: EngagementQuerySet, membership: Membership | None
) -> EngagementQuerySet:
    """Restrict engagements to those the membership may see."""
    from confiance.engagements.models import EngagementStatus

    if membership is None:
        return queryset.none()
    queryset = queryset.filter(workspace_id=membership.workspace_id)
    if is_internal(membership):
        return queryset
    if membership.role == Role.CLIENT:
        if membership.client_id is None:  # a client contact bound to no client sees nothing
            return queryset.none()
        return queryset.filter(client_id=membership.client_id).exclude(
            status=EngagementStatus.DRAFT
        )
    # Experts see opportunities they were invited to, not engagements.
    return queryset.none()


def sees_engagement(membership: Membership | None, engagement: _Placed) -> bool:
    """`scope_engagements` for one engagement already loaded (or a row of one): the same rule,
    no query."""
    return engagement_rule(membership)(engagement)


def engagement_rule(membership: Membership | None) -> Callable[[_Placed], bool]:
    """`sees_engagement` for one membership, its role read once: what a loop over the rows of
    many engagements calls (the trust portfolio ranks hundreds)."""
    from confiance.engagements.models import EngagementStatus

    if membership is None:
        return _nothing
    workspace_id = membership.workspace_id
    if is_internal(membership):
        return lambda engagement: engagement.workspace_id == workspace_id
    client_id = membership.client_id
    if membership.role == Role.CLIENT and client_id is not None:
        return lambda engagement: (
            engagement.workspace_id == workspace_id
            and engagement.client_id == client_id
            and engagement.status != EngagementStatus.DRAFT
        )
    return _nothing  # a client contact bound to no client; experts see no engagement


def _nothing(engagement: _Placed) -> bool:
    return False


def engagement_ended(engagement: Engagement) -> bool:
    """Closed (its closure approved) or stopped early: its record is read, nothing new is
    planned on it (objectives, interlocutors, commitments, meetings, time); what follows an end
    stays open (payments, problems found after it, kudos, the closure, reopening)."""
    from confiance.engagements.models import EngagementStatus

    return engagement.status in (EngagementStatus.CLOSED, EngagementStatus.STOPPED_EARLY)


def check_engagement(membership: Membership, engagement: Engagement) -> None:
    """404 unless the membership may see this engagement (a selector's second line of defence
    when its caller already loaded the engagement through `get_engagement`)."""
    if not sees_engagement(membership, engagement):
        raise Http404


@functools.cache
def _engagement_query() -> Prepared:
    from confiance.core.models import Client
    from confiance.engagements.models import Engagement

    return Prepared(
        lambda pk, workspace_id: Engagement.objects.filter(
            pk=pk, workspace_id=workspace_id
        ).values_list(*columns(Engagement), *columns(Client, "client__"), *columns(User, "lead__")),
        pk=int,
        workspace_id=int,
    )


def get_engagement(membership: Membership, pk: int) -> Engagement:
    """One engagement the membership may see, or 404.

    The row is read by key within the membership's workspace (with its client and lead, in one
    query compiled once per process) and `sees_engagement`, the same rule as
    `scope_engagements` (tested against it), decides: Django's compilation of the scoped
    queryset cost more than the query.
    """

    engagement: Engagement | None = None
    for row in _engagement_query().rows(pk=pk, workspace_id=membership.workspace_id):
        engagement = _engagement_built(row)
    if engagement is None or not sees_engagement(membership, engagement):
        raise Http404
    # The same workspace row the membership already holds (pages read its settings): no query.
    if Membership.workspace.is_cached(membership):  # type: ignore[attr-defined]
        engagement.workspace = membership.workspace
    return engagement


def can_log_time(membership: Membership | None, engagement: Engagement) -> bool:
    """The provider's consultants log time on the engagements of their workspace."""
    return (
        membership is not None
        and membership.role in (Role.OWNER, Role.MEMBER)
        and engagement.workspace_id == membership.workspace_id
    )


def can_log_time_for_others(membership: Membership | None, engagement: Engagement) -> bool:
    """Logging (or importing) time for someone else: the owner and the engagement's lead."""
    return can_log_time(membership, engagement) and (
        membership.role == Role.OWNER or engagement.lead_id == membership.user_id  # type: ignore[union-attr]
    )


def can_manage_budget(membership: Membership | None, engagement: Engagement) -> bool:
    """Budgets, rates, activities and estimates: owner, finance, and the engagement's lead."""
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return False
    if membership.role in (Role.OWNER, Role.FINANCE):
        return True
    return membership.role == Role.MEMBER and engagement.lead_id == membership.user_id


def can_see_amounts(membership: Membership | None) -> bool:
    """Money (rates, amounts consumed): the provider's people; clients if the workspace says so."""
    if is_internal(membership):
        return True
    return (
        membership is not None
        and membership.role == Role.CLIENT
        and membership.workspace.show_amounts_to_client
    )


# Follow-up: commitments, meetings, payments ---------------------------------------------------


def followup_side(membership: Membership | None, engagement: Engagement) -> str | None:
    """The side this person takes in the engagement's follow-up: "provider", "client" or None.

    The provider's owner and consultants act for the provider (finance only sees and handles
    payments); a client contact acts for the client of this engagement only.
    """
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return None
    if membership.role in (Role.OWNER, Role.MEMBER):
        return "provider"
    if membership.role == Role.CLIENT and membership.client_id == engagement.client_id:
        return "client"
    return None


def can_create_commitment(membership: Membership | None, engagement: Engagement, side: str) -> bool:
    """Each side commits for itself; the provider may also record what the client committed to."""
    mine = followup_side(membership, engagement)
    return mine is not None and (mine == side or mine == "provider")


def alignment_side(membership: Membership | None, engagement: Engagement) -> str | None:
    """The side one proposes and agrees for in the engagement's glossary and shared vision
    (as in the follow-up: the provider's owner and consultants, the client's contacts)."""
    return followup_side(membership, engagement)


def can_see_alignment(membership: Membership | None, engagement: Engagement) -> bool:
    """The glossary and the shared vision: both sides of the engagement (finance reads)."""
    return is_client_of(membership, engagement) or (
        is_internal(membership)
        and membership is not None
        and membership.workspace_id == engagement.workspace_id
    )


def can_set_commitment_status(membership: Membership | None, engagement: Engagement) -> bool:
    """Either side may record a commitment kept, broken or withdrawn; each change is ledgered."""
    return followup_side(membership, engagement) is not None


def can_propose_renegotiation(
    membership: Membership | None, engagement: Engagement, side: str
) -> bool:
    """A renegotiation is asked for by the side that made the commitment."""
    return followup_side(membership, engagement) == side


def can_agree_renegotiation(
    membership: Membership | None, engagement: Engagement, side: str
) -> bool:
    """...and agreed (or declined) by the other side: never by the side that asks."""
    mine = followup_side(membership, engagement)
    return mine is not None and mine != side


def can_manage_meetings(membership: Membership | None, engagement: Engagement) -> bool:
    """Plan meetings, record attendance and minutes: the provider's owner and consultants."""
    return followup_side(membership, engagement) == "provider"


def can_cancel_meeting(membership: Membership | None, engagement: Engagement) -> bool:
    """Either side may cancel a meeting; the side and the notice given are recorded."""
    return followup_side(membership, engagement) is not None


def can_see_payments(membership: Membership | None, engagement: Engagement) -> bool:
    """Deposits and invoices: the provider's people (members read-only) and the client's contacts.

    Experts never see them (they do not reach engagements at all).
    """
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return False
    if is_internal(membership):
        return True
    return membership.role == Role.CLIENT and membership.client_id == engagement.client_id


def can_manage_payments(membership: Membership | None, engagement: Engagement) -> bool:
    """Issue payments and record them paid: the owner and finance."""
    return (
        membership is not None
        and engagement.workspace_id == membership.workspace_id
        and membership.role in (Role.OWNER, Role.FINANCE)
    )


# Problems and lessons ----------------------------------------------------------------------


def is_client_of(membership: Membership | None, engagement: Engagement) -> bool:
    """A contact of the engagement's client (the client side of this engagement)."""
    return (
        membership is not None
        and membership.role == Role.CLIENT
        and membership.workspace_id == engagement.workspace_id
        and membership.client_id == engagement.client_id
    )


def can_raise_problem(membership: Membership | None, engagement: Engagement) -> bool:
    """Either side raises a problem: the provider's people and the engagement's client contacts."""
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return False
    return is_internal(membership) or is_client_of(membership, engagement)


def can_handle_problem(membership: Membership | None, engagement: Engagement) -> bool:
    """Acknowledge, own, plan, escalate, update, resolve: the provider's owner and consultants."""
    return (
        membership is not None
        and membership.role in (Role.OWNER, Role.MEMBER)
        and engagement.workspace_id == membership.workspace_id
    )


def can_confirm_problem(membership: Membership | None, engagement: Engagement) -> bool:
    """Only the client side confirms a resolution (closing the problem) or reopens it."""
    return is_client_of(membership, engagement)


def can_set_client_priority(membership: Membership | None, engagement: Engagement) -> bool:
    """The client's priority is the client's to set."""
    return is_client_of(membership, engagement)


def can_escalate_problem_as_client(membership: Membership | None, engagement: Engagement) -> bool:
    """The client's side escalates a problem itself (with its reason): its contacts."""
    return is_client_of(membership, engagement)


def can_discuss_problem(membership: Membership | None, engagement: Engagement) -> bool:
    """Shared comments and attachments on a problem: both sides of the engagement."""
    return is_client_of(membership, engagement) or (
        is_internal(membership)
        and membership is not None
        and membership.workspace_id == engagement.workspace_id
    )


def can_name_client_escalation(membership: Membership | None, engagement: Engagement) -> bool:
    """Who on the client's side problems escalate to: the client's to name."""
    return is_client_of(membership, engagement)


def can_see_problem_comments(membership: Membership | None) -> bool:
    """Internal comments on problems: the provider's people only, never client nor expert."""
    return is_internal(membership)


def can_manage_problem_settings(membership: Membership | None) -> bool:
    """SLA targets and escalation contacts: the workspace owner."""
    return membership is not None and membership.role == Role.OWNER


def can_see_ledger_key(membership: Membership | None) -> bool:
    """The workspace's signing key: whoever reads a ledger (provider side and client contacts)."""
    return membership is not None and membership.role != Role.EXPERT


def can_rotate_ledger_key(membership: Membership | None) -> bool:
    """Replace the key that signs the workspace's ledgers: the workspace owner."""
    return membership is not None and membership.role == Role.OWNER


def can_use_lessons(membership: Membership | None) -> bool:
    """The lesson library is the provider's own learning: its people read and write it."""
    return is_internal(membership)


def can_give_kudos(membership: Membership | None, engagement: Engagement) -> bool:
    """Anyone on either side of the engagement credits people for a success."""
    return can_raise_problem(membership, engagement)


# Closure: objectives' attainment, retrospective, approval for payment ------------------------


def closure_side(membership: Membership | None, engagement: Engagement) -> str | None:
    """Whose retrospective this person writes: "provider" (owner, consultants), "client"
    (the engagement's client contacts) or None (finance reads only)."""
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return None
    if membership.role in (Role.OWNER, Role.MEMBER):
        return "provider"
    if membership.role == Role.CLIENT and membership.client_id == engagement.client_id:
        return "client"
    return None


def can_see_closure(membership: Membership | None, engagement: Engagement) -> bool:
    """The closure and its report: the provider's people and the engagement's client contacts."""
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return False
    return is_internal(membership) or closure_side(membership, engagement) == "client"


def can_run_closure(membership: Membership | None, engagement: Engagement) -> bool:
    """Start the closure and assess the objectives: the provider's owner and consultants."""
    return closure_side(membership, engagement) == "provider"


def can_approve_closure(membership: Membership | None, engagement: Engagement) -> bool:
    """The approval for payment is the client's: a contact of the engagement's client."""
    return closure_side(membership, engagement) == "client"


# Pulse (Baromètre): perceived trust, private answers, aggregates only ---------------------------

# An aggregate of fewer answers would let a person of the side subtract their own answer and read
# a colleague's; a one-person side is shown only if that person chose to sign.
PULSE_MIN_ANSWERS = 3


def pulse_side(membership: Membership | None, engagement: Engagement) -> str | None:
    """Which side's view of the pulse this person has: "provider" (the provider's people,
    finance included), "client" (the engagement's client contacts) or None (no pulse at all)."""
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return None
    if is_internal(membership):
        return "provider"
    if membership.role == Role.CLIENT and membership.client_id == engagement.client_id:
        return "client"
    return None


def can_see_pulse(membership: Membership | None, engagement: Engagement) -> bool:
    """The pulse page of an engagement: both sides of it, nobody else."""
    return pulse_side(membership, engagement) is not None


def can_read_pulse_answer(membership: Membership | None, respondent_id: int, signed: bool) -> bool:
    """An individual answer (its scores and comment) is its author's alone, unless signed.

    Not even the workspace owner reads an unsigned answer; a signed answer was made
    attributable on purpose by its author.
    """
    if membership is None:
        return False
    return membership.user_id == respondent_id or signed


def can_see_pulse_aggregate(*, answered: int, asked: int, signed: int, closed: bool) -> bool:
    """A side's means for a round are shown (to either side) once enough of them answered.

    At least PULSE_MIN_ANSWERS answers, and only once the round is closed (means moving as each
    answer arrives or changes would give that answer away); or, for a side of one person, that
    person's signed answer. The same rule holds for one's own side: with two answers, each could
    read the other's by subtracting their own.
    """
    if asked == 1 and answered == 1 and signed == 1:
        return True
    return closed and answered >= PULSE_MIN_ANSWERS


def can_manage_pulse_settings(membership: Membership | None) -> bool:
    """The pulse cadence of the workspace: its owner."""
    return membership is not None and membership.role == Role.OWNER


# Trust: the client sees how far it can rely on us (client→provider), never our view of it ------


def can_act_on_trust_alerts(membership: Membership | None, engagement: Engagement) -> bool:
    """Acknowledge, assign, snooze an engagement's trust alerts: the provider's owners and
    consultants. The client is never shown the alerts (early warnings for who should act); what
    it is told comes through the acts they lead to (a meeting proposed, an update posted)."""
    return (
        membership is not None
        and engagement.workspace_id == membership.workspace_id
        and membership.role in (Role.OWNER, Role.MEMBER)
    )


class _OfAClient(Protocol):
    """An engagement or a row of one (`engagements.selectors.TableRow`): where and whose."""

    @property
    def workspace_id(self) -> int: ...

    @property
    def client_id(self) -> int: ...


class _Placed(_OfAClient, Protocol):
    """An engagement or a row of one, with its status (a draft is not the client's yet)."""

    @property
    def status(self) -> str: ...


def trust_directions(membership: Membership | None, engagement: _OfAClient) -> list[str]:
    """Which directions of the engagement's trust this person sees: both for the provider's
    people, only "c2p" (can the client rely on us?) for the engagement's client contacts."""
    if membership is None or engagement.workspace_id != membership.workspace_id:
        return []
    if is_internal(membership):
        return ["c2p", "p2c"]
    if membership.role == Role.CLIENT and membership.client_id == engagement.client_id:
        return ["c2p"]
    return []


def can_see_trust_portfolio(membership: Membership | None) -> bool:
    """The workspace's trust portfolio and heat map: the provider's people."""
    return is_internal(membership)


def can_manage_trust_settings(membership: Membership | None) -> bool:
    """Indicator weights, base rates and the half-life: the workspace owner."""
    return membership is not None and membership.role == Role.OWNER


# Emergence: opportunities before the contract ---------------------------------------------------


def scope_opportunities(queryset: QuerySet[Any], membership: Membership | None) -> QuerySet[Any]:
    """Restrict opportunities to those the membership may see.

    The owner sees every opportunity of the workspace; the provider's other people those open to
    the whole firm, plus those they opened or take part in; experts and client contacts only those
    they were invited to and still take part in (declining, leaving or being removed ends access
    at once, since every request asks again).
    """
    from confiance.emergence.models import Participant

    if membership is None:
        return queryset.none()
    queryset = queryset.filter(workspace_id=membership.workspace_id)
    if membership.role == Role.OWNER:
        return queryset
    taking_part = Exists(
        Participant.objects.filter(
            opportunity=OuterRef("pk"),
            user_id=membership.user_id,
            declined_at__isnull=True,
            left_at__isnull=True,
            removed_at__isnull=True,
        )
    )
    if is_internal(membership):
        return queryset.filter(
            Q(visibility="workspace") | Q(opened_by_id=membership.user_id) | taking_part
        )
    if membership.role in (Role.EXPERT, Role.CLIENT):
        return queryset.filter(taking_part)
    return queryset.none()


def can_open_opportunity(membership: Membership | None) -> bool:
    """Open an opportunity and invite people to it: the owner and consultants."""
    return can_manage_engagements(membership)


def can_steer_opportunity(membership: Membership | None, opened_by_id: int) -> bool:
    """Move phases, accept a nomination directly, convert or decline: the opener and the owner."""
    return membership is not None and (
        membership.role == Role.OWNER
        or (membership.role == Role.MEMBER and membership.user_id == opened_by_id)
    )


def can_invite_to_opportunity(membership: Membership | None) -> bool:
    """Invite experts, colleagues and client contacts: the provider's owner and consultants."""
    return can_manage_engagements(membership)


def can_see_partners(membership: Membership | None) -> bool:
    """The partner directory and referral figures: the provider's people."""
    return is_internal(membership)


def can_read_emergence_of(
    membership: Membership | None, engagement_visible: bool, visibility: str, taking_part: bool
) -> bool:
    """The discussion and agreement an engagement emerged from, read from the engagement: whoever
    sees the engagement, except the provider's people outside an opportunity that was open only
    to the people invited (the owner and those who took part still read it)."""
    if membership is None or not engagement_visible:
        return False
    if membership.role in (Role.OWNER, Role.CLIENT) or taking_part:
        return True
    return visibility == "workspace"
