"""Emergence: an opportunity opened to invited people before any contract.

An opportunity gathers participants (the provider's people, invited experts, the client's
contacts), a threaded discussion, role slots that people nominate themselves for and others
endorse, an agreement both sides write and accept, and ends converted into an engagement,
declined with a referral to a partner, or abandoned. Every move is recorded with who, when, why.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import Client, Invitation, User, Workspace
from confiance.engagements.models import ContactOrigin, Engagement


class Phase(models.TextChoices):
    DIVERGING = "diverging", _("Diverging")
    CONVERGING = "converging", _("Converging")
    TEAM_FORMED = "team_formed", _("Team formed")
    CONVERTED = "converted", _("Converted")
    DECLINED = "declined", _("Declined")
    ABANDONED = "abandoned", _("Abandoned")


# Phases after which nothing moves any more.
CLOSED_PHASES = frozenset({Phase.CONVERTED, Phase.DECLINED, Phase.ABANDONED})


class Visibility(models.TextChoices):
    WORKSPACE = "workspace", _("Everyone of our firm, and the people invited")
    INVITED = "invited", _("Only the people invited (and the workspace owner)")


class Partner(models.Model):
    """A firm or person of the workspace's partner directory, to whom a client can be referred."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(_("name"), max_length=150)
    speciality = models.CharField(_("speciality"), max_length=200, blank=True)
    contact = models.CharField(_("contact (e-mail, phone, site)"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="partner_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Opportunity(models.Model):
    """A client's need opened to invited people, before any contract."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="opportunities")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="opportunities")
    title = models.CharField(_("title"), max_length=200)
    # The same three parts as an engagement's problem statement, so conversion copies them.
    client_problem = models.TextField(_("the problem, as the client sees it"), blank=True)
    client_solution_idea = models.TextField(_("the hoped-for solution"), blank=True)
    provider_interpretation = models.TextField(_("the way of working we propose"), blank=True)
    context = models.TextField(_("context"), blank=True)
    contact_origin = models.CharField(
        _("contact origin"),
        max_length=20,
        choices=ContactOrigin.choices,
        default=ContactOrigin.EMERGENCE,
    )
    visibility = models.CharField(
        _("who may see it"), max_length=12, choices=Visibility.choices, default=Visibility.WORKSPACE
    )
    phase = models.CharField(
        _("phase"), max_length=12, choices=Phase.choices, default=Phase.DIVERGING
    )
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Declining: the reason and the partner the client is pointed to, in plain words.
    decline_reason = models.TextField(_("why we decline"), blank=True)
    referred_to = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    engagement = models.OneToOneField(
        Engagement, on_delete=models.SET_NULL, null=True, blank=True, related_name="opportunity"
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "phase"], name="opportunity_ws_phase")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.phase in CLOSED_PHASES


class PhaseMove(models.Model):
    """One move of an opportunity from a phase to another: who, when and why."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="moves")
    from_phase = models.CharField(max_length=12, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=12, choices=Phase.choices)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class Side(models.TextChoices):
    PROVIDER = "provider", _("Our firm")
    EXPERT = "expert", _("Invited expert")
    CLIENT = "client", _("Client")


class Participant(models.Model):
    """A person taking part in an opportunity, from the invitation to leaving or removal.

    A person without an account is invited through the workspace's signed, single-use
    invitation (core.Invitation); until they accept it, `user` is empty and the invitation's
    `accepted_by` designates them. Access stops at once when `left_at` or `removed_at` is set.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="participations"
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(_("e-mail address"))
    side = models.CharField(max_length=10, choices=Side.choices)
    introduction = models.TextField(_("introduction"), blank=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    joined_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    wants_digest = models.BooleanField(_("send me a daily digest"), default=False)
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "email"], name="participant_once_per_email"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        """Still reaches the opportunity (invited or joined, not declined, left nor removed)."""
        return self.declined_at is None and self.left_at is None and self.removed_at is None

    @property
    def status(self) -> str:
        if self.removed_at:
            return "removed"
        if self.left_at:
            return "left"
        if self.declined_at:
            return "declined"
        if self.joined_at:
            return "joined"
        return "invited"


class ExpertProfile(models.Model):
    """What an expert says of themself in a workspace: skills and a headline."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="expert_profiles")
    headline = models.CharField(_("headline"), max_length=200, blank=True)
    skills = models.TextField(_("skills"), blank=True, help_text=_("One skill per line."))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="expert_profile_once"),
        ]

    @property
    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.skills.splitlines() if s.strip()]


class Post(models.Model):
    """A message of the discussion, in Markdown; its HTML is sanitised once, when written."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    body = models.TextField(_("message"))
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["opportunity", "created_at"], name="post_opp_time")]


class PostRevision(models.Model):
    """An earlier text of an edited post: edits are kept in history."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["written_at", "id"]


class Attachment(models.Model):
    """A file attached to a post, stored outside the web root, served only to participants."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)


class RoleSlot(models.Model):
    """A role the work needs ("data architect, 20 days"), proposed by any participant."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="slots")
    title = models.CharField(_("role"), max_length=120)
    days = models.PositiveIntegerField(_("days"))
    description = models.TextField(_("what the role does"), blank=True)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class NominationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Nomination(models.Model):
    """A person putting themself forward for a role slot."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    slot = models.ForeignKey(RoleSlot, on_delete=models.CASCADE, related_name="nominations")
    person = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(_("why me"), blank=True)
    status = models.CharField(
        max_length=10, choices=NominationStatus.choices, default=NominationStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # "opener": accepted directly by the opener; "quiet": endorsed by the client or the opener,
    # with no objection for the quiet period.
    accepted_how = models.CharField(max_length=10, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "person"], name="nomination_once"),
        ]


class Endorsement(models.Model):
    """A word for (or an objection against) a nomination, by another participant."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="endorsements"
    )
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    by_side = models.CharField(max_length=10, choices=Side.choices)
    objection = models.BooleanField(default=False)
    word = models.CharField(_("a word"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["nomination", "by"], name="endorsement_once"),
        ]


class Agreement(models.Model):
    """The agreement both sides write, clause by clause; every edit makes a new version."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.CASCADE, related_name="agreement"
    )
    language = models.CharField(max_length=5)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Structured fields, carried into the engagement at conversion.
    budget_days = models.PositiveIntegerField(_("budget cap (days)"), null=True, blank=True)
    iterations = models.PositiveIntegerField(_("number of iterations"), null=True, blank=True)
    iteration_days = models.PositiveIntegerField(
        _("budget cap of each iteration (days)"), null=True, blank=True
    )
    trust_review_weeks = models.PositiveIntegerField(
        _("trust review every (weeks)"), null=True, blank=True
    )
    objectives = models.TextField(_("objectives"), blank=True, help_text=_("One per line."))


class AgreementVersion(models.Model):
    """One whole text of the agreement: its clauses, their canonical text and its SHA-256."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # [{"key": ..., "title": ..., "text": ...}, ...] in order.
    clauses = models.JSONField()
    # The structured terms of this version (agreement_template.TERM_NUMBERS and "objectives"):
    # part of the accepted text, carried into the engagement at conversion.
    terms = models.JSONField(default=dict)
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    changed_clause = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_once"),
        ]


class ClauseComment(models.Model):
    """A comment on one clause of the agreement, made on a given version."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="comments")
    clause_key = models.CharField(max_length=40)
    version_number = models.PositiveIntegerField()
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class Acceptance(models.Model):
    """One side accepting one version: who, when, the SHA-256 of the text. Void once it changes."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="acceptances")
    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    side = models.CharField(max_length=10, choices=Side.choices)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]


class ReferralDirection(models.TextChoices):
    GIVEN = "given", _("Given")
    RECEIVED = "received", _("Received")


class Referral(models.Model):
    """A client pointed to a partner (given), or a client a partner pointed to us (received)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    direction = models.CharField(max_length=10, choices=ReferralDirection.choices)
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_name = models.CharField(_("client"), max_length=150)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]


class Visit(models.Model):
    """When a person last opened an opportunity's discussion: what is new since then."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "user"], name="visit_once"),
        ]
