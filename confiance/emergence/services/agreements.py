"""Writes of the agreement both sides write: clause by clause, versioned, accepted by both sides.

Every change (a clause edited, added or removed, the terms set) makes a new whole version with
its canonical text and that text's SHA-256, and voids every acceptance given so far: an
acceptance is of one text, never of "the agreement". The agreement is agreed when a person of
the client and a person of the provider accepted the same version. An editor says which version
they edited from; if someone else changed the text meanwhile, the edit is refused with the
news rather than silently overwriting what the other side wrote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Role
from confiance.emergence import agreement_template as template
from confiance.emergence.models import (
    Acceptance,
    Agreement,
    AgreementVersion,
    ClauseComment,
    Opportunity,
    Phase,
    Side,
)
from confiance.emergence.services.common import (
    notify,
    participant_of,
    require_open,
    require_speaker,
    require_visible,
)

# The agreement is written once the discussion converges (DESIGN.md, émergence).
AGREEMENT_PHASES = frozenset({Phase.CONVERGING, Phase.TEAM_FORMED})
MAX_CLAUSES = 40
MAX_CLAUSE_TITLE = 200
MAX_CLAUSE_TEXT = 10_000
MAX_COMMENT = 5_000
MAX_OBJECTIVES = 20
MAX_OBJECTIVE = 500
# Bounds of the structured terms: (lowest, highest).
TERM_BOUNDS: dict[str, tuple[int, int]] = {
    "budget_days": (1, 100_000),
    "iterations": (1, 100),
    "iteration_days": (1, 10_000),
    "trust_review_weeks": (1, 52),
}


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest_version(agreement: Agreement) -> AgreementVersion:
    return agreement.versions.order_by("-number").first()  # type: ignore[return-value]


def agreed_version(agreement: Agreement) -> AgreementVersion | None:
    """The version both sides accepted (and that no change voided since), if any."""
    sides: dict[int, set[str]] = {}
    for acceptance in agreement.acceptances.filter(voided_at__isnull=True):
        sides.setdefault(acceptance.version_id, set()).add(acceptance.side)
    for version_id, accepted_by in sides.items():
        if {Side.CLIENT, Side.PROVIDER} <= accepted_by:
            return AgreementVersion.objects.get(pk=version_id)
    return None


def _require_writer(membership: Membership, opportunity: Opportunity) -> None:
    require_speaker(membership, opportunity)
    if opportunity.phase not in AGREEMENT_PHASES:
        raise ValidationError(
            _("The agreement is written once the discussion converges (converging phase).")
        )


def _text_of(opportunity: Opportunity, language: str, terms: dict[str, Any], clauses: list) -> str:
    return template.canonical_text(
        language=language,
        title=opportunity.title,
        client=opportunity.client.name,
        provider=opportunity.workspace.name,
        terms=terms,
        clauses=clauses,
    )


def _new_version(
    *,
    membership: Membership,
    agreement: Agreement,
    clauses: list[dict[str, str]],
    terms: dict[str, Any],
    changed: str,
    note: str,
) -> AgreementVersion:
    opportunity = agreement.opportunity
    text = _text_of(opportunity, agreement.language, terms, clauses)
    previous = latest_version(agreement) if agreement.pk else None
    if previous is not None and previous.text == text:
        raise ValidationError(
            _("Nothing changed: the text is the same as version %(n)s.") % {"n": previous.number}
        )
    now = timezone.now()
    version = AgreementVersion.objects.create(
        workspace_id=agreement.workspace_id,
        agreement=agreement,
        number=(previous.number + 1) if previous else 1,
        clauses=clauses,
        terms=terms,
        text=text,
        sha256=sha256_of(text),
        changed_clause=changed[:40],
        note=note.strip()[:300],
        created_by=membership.user,
        created_at=now,
    )
    # The structured terms as they now stand, read by the pages and the conversion.
    for name in template.TERM_NUMBERS:
        setattr(agreement, name, terms.get(name))
    agreement.objectives = "\n".join(terms.get("objectives", []))
    agreement.save(update_fields=[*template.TERM_NUMBERS, "objectives"])
    voided = Acceptance.objects.filter(agreement=agreement, voided_at__isnull=True).update(
        voided_at=now, void_reason=f"text changed in version {version.number}"
    )
    audit_record(
        verb="agreement.version",
        actor=membership.user,
        workspace=membership.workspace,
        target=version,
        data={
            "opportunity": opportunity.pk,
            "number": version.number,
            "sha256": version.sha256,
            "changed": changed,
            "acceptances_voided": voided,
        },
    )
    if voided:
        others = [
            a.by
            for a in Acceptance.objects.filter(agreement=agreement, voided_at=now).select_related(
                "by"
            )
            if a.by_id != membership.user_id
        ]
        notify(
            opportunity,
            others,
            "emergence.acceptance_voided",
            {
                "opportunity": opportunity.title,
                "who": membership.user.get_full_name(),
                "number": version.number,
            },
        )
    return version


def _check_base(agreement: Agreement, base_version: int | None) -> AgreementVersion:
    latest = latest_version(agreement)
    if base_version is not None and base_version != latest.number:
        raise ValidationError(
            _(
                "The text changed since you opened it (now version %(n)s): read the new version "
                "and make your change again."
            )
            % {"n": latest.number}
        )
    return latest


def _locked_agreement(opportunity: Opportunity) -> Agreement:
    agreement = Agreement.objects.select_for_update().filter(opportunity=opportunity).first()
    if agreement is None:
        raise ValidationError(_("The agreement has not been started yet."))
    agreement.opportunity = opportunity
    return agreement


@transaction.atomic
def agreement_start(
    *, membership: Membership, opportunity: Opportunity, language: str
) -> Agreement:
    """Start the agreement from the agile-contract template, in French or English."""
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    _require_writer(membership, opportunity)
    if language not in template.LANGUAGES:
        raise ValidationError({"language": _("Choose French or English.")})
    if Agreement.objects.filter(opportunity=opportunity).exists():
        raise ValidationError(_("The agreement is already started."))
    agreement = Agreement.objects.create(
        workspace_id=opportunity.workspace_id,
        opportunity=opportunity,
        language=language,
        created_by=membership.user,
    )
    agreement.opportunity = opportunity
    _new_version(
        membership=membership,
        agreement=agreement,
        clauses=template.template_clauses(language),
        terms={"objectives": []},
        changed="",
        note="",
    )
    notify(
        opportunity,
        [
            p.user
            for p in opportunity.participants.select_related("user").filter(
                user__isnull=False,
                joined_at__isnull=False,
                declined_at__isnull=True,
                left_at__isnull=True,
                removed_at__isnull=True,
            )
            if p.user_id != membership.user_id
        ],
        "emergence.agreement",
        {"opportunity": opportunity.title, "who": membership.user.get_full_name(), "number": 1},
    )
    return agreement


def _clause_errors(title: str, text: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = _("Give the clause a title.")
    elif len(title) > MAX_CLAUSE_TITLE:
        errors["title"] = _("A title is at most %(n)s characters.") % {"n": MAX_CLAUSE_TITLE}
    if not text.strip():
        errors["text"] = _("Write the clause (or remove it).")
    elif len(text) > MAX_CLAUSE_TEXT:
        errors["text"] = _("A clause is at most %(n)s characters.") % {"n": MAX_CLAUSE_TEXT}
    return errors


Clauses = list[dict[str, Any]]


def _change_clauses(
    *,
    membership: Membership,
    opportunity: Opportunity,
    base_version: int | None,
    note: str,
    change: Callable[[Agreement, Clauses], tuple[Clauses, str]],
) -> AgreementVersion:
    """What every clause change shares: the writer's right, the agreement locked, the base
    version current; `change(agreement, a copy of the clauses)` returns the new clauses and the
    changed clause's key (or raises ValidationError); the result is a new whole version."""
    _require_writer(membership, opportunity)
    agreement = _locked_agreement(opportunity)
    latest = _check_base(agreement, base_version)
    clauses, changed = change(agreement, [dict(c) for c in latest.clauses])
    return _new_version(
        membership=membership,
        agreement=agreement,
        clauses=clauses,
        terms=latest.terms,
        changed=changed,
        note=note,
    )


@transaction.atomic
def clause_edit(
    *,
    membership: Membership,
    opportunity: Opportunity,
    key: str,
    title: str,
    text: str,
    note: str = "",
    base_version: int | None = None,
) -> AgreementVersion:
    """Rewrite one clause; a new version of the whole text, and acceptances so far are void."""

    def change(_agreement: Agreement, clauses: Clauses) -> tuple[Clauses, str]:
        if errors := _clause_errors(title, text):
            raise ValidationError(errors)
        found = [c for c in clauses if c["key"] == key]
        if not found:
            raise ValidationError(_("This clause is no longer in the agreement."))
        found[0]["title"] = title.strip()
        found[0]["text"] = template.normalise(text)
        return clauses, key

    return _change_clauses(
        membership=membership,
        opportunity=opportunity,
        base_version=base_version,
        note=note,
        change=change,
    )


@transaction.atomic
def clause_add(
    *,
    membership: Membership,
    opportunity: Opportunity,
    title: str,
    text: str,
    note: str = "",
    base_version: int | None = None,
) -> AgreementVersion:
    """Add a clause at the end of the agreement."""

    def change(agreement: Agreement, clauses: Clauses) -> tuple[Clauses, str]:
        if errors := _clause_errors(title, text):
            raise ValidationError(errors)
        if len(clauses) >= MAX_CLAUSES:
            raise ValidationError(_("An agreement has at most %(n)s clauses.") % {"n": MAX_CLAUSES})
        # Keys are never reused, so a comment on a removed clause never lands on a new one.
        used = {c["key"] for v in agreement.versions.only("clauses") for c in v.clauses}
        number = 1
        while f"clause-{number}" in used:
            number += 1
        key = f"clause-{number}"
        clauses.append({"key": key, "title": title.strip(), "text": template.normalise(text)})
        return clauses, key

    return _change_clauses(
        membership=membership,
        opportunity=opportunity,
        base_version=base_version,
        note=note,
        change=change,
    )


@transaction.atomic
def clause_remove(
    *,
    membership: Membership,
    opportunity: Opportunity,
    key: str,
    note: str = "",
    base_version: int | None = None,
) -> AgreementVersion:
    """Remove a clause; removing needs its reason, which both sides read in the history."""

    def change(_agreement: Agreement, clauses: Clauses) -> tuple[Clauses, str]:
        if not note.strip():
            raise ValidationError({"note": _("Say why the clause goes.")})
        kept = [c for c in clauses if c["key"] != key]
        if len(kept) == len(clauses):
            raise ValidationError(_("This clause is no longer in the agreement."))
        return kept, key

    return _change_clauses(
        membership=membership,
        opportunity=opportunity,
        base_version=base_version,
        note=note,
        change=change,
    )


def clean_terms(
    *,
    budget_days: int | None,
    iterations: int | None,
    iteration_days: int | None,
    trust_review_weeks: int | None,
    objectives: str,
) -> dict[str, Any]:
    """The structured terms, checked; raises ValidationError naming each bad field."""
    values = {
        "budget_days": budget_days,
        "iterations": iterations,
        "iteration_days": iteration_days,
        "trust_review_weeks": trust_review_weeks,
    }
    errors: dict[str, str] = {}
    for name, value in values.items():
        low, high = TERM_BOUNDS[name]
        if value is not None and not low <= value <= high:
            errors[name] = _("Give a whole number between %(low)s and %(high)s.") % {
                "low": low,
                "high": high,
            }
    if (
        "iteration_days" not in errors
        and "budget_days" not in errors
        and budget_days is not None
        and iteration_days is not None
        and iteration_days > budget_days
    ):
        errors["iteration_days"] = _("An iteration's cap cannot exceed the whole budget cap.")
    lines = [template.normalise(o) for o in objectives.splitlines() if o.strip()]
    if len(lines) > MAX_OBJECTIVES:
        errors["objectives"] = _("At most %(n)s objectives.") % {"n": MAX_OBJECTIVES}
    elif any(len(line) > MAX_OBJECTIVE for line in lines):
        errors["objectives"] = _("An objective is at most %(n)s characters.") % {"n": MAX_OBJECTIVE}
    if errors:
        raise ValidationError(errors)
    return {**values, "objectives": lines}


@transaction.atomic
def terms_set(
    *,
    membership: Membership,
    opportunity: Opportunity,
    budget_days: int | None,
    iterations: int | None,
    iteration_days: int | None,
    trust_review_weeks: int | None,
    objectives: str,
    note: str = "",
    base_version: int | None = None,
) -> AgreementVersion:
    """Set the structured terms (objectives, budget cap, iterations, trust review cadence)."""
    _require_writer(membership, opportunity)
    agreement = _locked_agreement(opportunity)
    _check_base(agreement, base_version)
    terms = clean_terms(
        budget_days=budget_days,
        iterations=iterations,
        iteration_days=iteration_days,
        trust_review_weeks=trust_review_weeks,
        objectives=objectives,
    )
    latest = latest_version(agreement)
    return _new_version(
        membership=membership,
        agreement=agreement,
        clauses=latest.clauses,
        terms=terms,
        changed="terms",
        note=note,
    )


@transaction.atomic
def clause_comment(
    *, membership: Membership, opportunity: Opportunity, key: str, body: str
) -> ClauseComment:
    """Comment on one clause, on the version one reads."""
    _require_writer(membership, opportunity)
    agreement = _locked_agreement(opportunity)
    latest = latest_version(agreement)
    if key != "terms" and key not in {c["key"] for c in latest.clauses}:
        raise ValidationError(_("This clause is no longer in the agreement."))
    if not body.strip():
        raise ValidationError({"body": _("Write something.")})
    if len(body) > MAX_COMMENT:
        raise ValidationError(
            {"body": _("A comment is at most %(n)s characters.") % {"n": MAX_COMMENT}}
        )
    comment = ClauseComment.objects.create(
        workspace_id=agreement.workspace_id,
        agreement=agreement,
        clause_key=key,
        version_number=latest.number,
        author=membership.user,
        body=body.strip(),
    )
    audit_record(
        verb="agreement.comment",
        actor=membership.user,
        workspace=membership.workspace,
        target=comment,
        data={"clause": key, "version": latest.number},
    )
    return comment


def acceptance_side(membership: Membership, opportunity: Opportunity) -> str | None:
    """Which side this person accepts for: the opener or the owner for the provider, a taking-part
    contact of the opportunity's client for the client; None for anyone else (experts included)."""
    if access.can_steer_opportunity(membership, opportunity.opened_by_id):
        return Side.PROVIDER
    if membership.role == Role.CLIENT and membership.client_id == opportunity.client_id:
        participant = participant_of(opportunity, membership.user)
        if participant is not None and participant.joined_at is not None:
            return Side.CLIENT
    return None


@transaction.atomic
def agreement_accept(
    *, membership: Membership, opportunity: Opportunity, version_number: int, sha256: str
) -> Acceptance:
    """Accept one version for one's side: who, when and the SHA-256 of the text accepted.

    The version and hash must be those of the latest text: accepting a text one did not read
    is refused. The terms must be complete, since they become the engagement's figures.
    """
    require_visible(membership, opportunity)
    require_open(opportunity)
    side = acceptance_side(membership, opportunity)
    if side is None:
        raise PermissionDenied
    if opportunity.phase not in AGREEMENT_PHASES:
        raise ValidationError(_("The agreement is accepted while the discussion converges."))
    agreement = _locked_agreement(opportunity)
    latest = latest_version(agreement)
    if version_number != latest.number or sha256 != latest.sha256:
        raise ValidationError(
            _("The text changed since you read it (now version %(n)s): read it again first.")
            % {"n": latest.number}
        )
    missing = [name for name in template.TERM_NUMBERS if latest.terms.get(name) is None]
    if missing or not latest.terms.get("objectives"):
        raise ValidationError(
            _(
                "Complete the terms before accepting: budget cap, iterations and their cap, trust "
                "review cadence and at least one objective."
            )
        )
    if Acceptance.objects.filter(
        agreement=agreement, version=latest, side=side, voided_at__isnull=True
    ).exists():
        raise ValidationError(_("Your side has already accepted this version."))
    acceptance = Acceptance.objects.create(
        workspace_id=agreement.workspace_id,
        agreement=agreement,
        version=latest,
        sha256=latest.sha256,
        side=side,
        by=membership.user,
    )
    audit_record(
        verb="agreement.accept",
        actor=membership.user,
        workspace=membership.workspace,
        target=acceptance,
        data={"version": latest.number, "sha256": latest.sha256, "side": side},
    )
    others = [
        p.user
        for p in opportunity.participants.select_related("user").filter(
            user__isnull=False,
            joined_at__isnull=False,
            left_at__isnull=True,
            removed_at__isnull=True,
        )
        if p.user_id != membership.user_id and p.user is not None
    ]
    accepted_sides = set(
        Acceptance.objects.filter(
            agreement=agreement, version=latest, voided_at__isnull=True
        ).values_list("side", flat=True)
    )
    notify(
        opportunity,
        others,
        "emergence.accepted",
        {
            "opportunity": opportunity.title,
            "who": membership.user.get_full_name(),
            "number": latest.number,
            "waiting": [s for s in (Side.PROVIDER, Side.CLIENT) if s not in accepted_sides],
        },
    )
    return acceptance
