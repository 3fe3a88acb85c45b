"""The agreement both sides write: versions, comments, diff, acceptance voided by a change, PDF."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from confiance.core.models import AuditEvent
from confiance.emergence import selectors, services
from confiance.emergence.models import Acceptance, Opportunity, Phase
from tests.conftest import World
from tests.emergence.support import with_people

pytestmark = pytest.mark.django_db

TERMS = {
    "budget_days": 60,
    "iterations": 3,
    "iteration_days": 20,
    "trust_review_weeks": 4,
    "objectives": "Weekly reports in an hour | the finance team says so\nOne source of truth",
}


def converging(world: World) -> Opportunity:
    opportunity = with_people(world)
    services.phase_move(membership=world.owner, opportunity=opportunity, to_phase="converging")
    return opportunity


def started(world: World, language: str = "en") -> Opportunity:
    opportunity = converging(world)
    services.agreement_start(membership=world.owner, opportunity=opportunity, language=language)
    return opportunity


def with_terms(world: World) -> Opportunity:
    opportunity = started(world)
    services.terms_set(membership=world.owner, opportunity=opportunity, **TERMS)  # type: ignore[arg-type]
    return opportunity


def accept(world: World, persona: str, opportunity: Opportunity) -> Acceptance:
    version = services.latest_version(opportunity.agreement)
    return services.agreement_accept(
        membership=getattr(world, persona),
        opportunity=opportunity,
        version_number=version.number,
        sha256=version.sha256,
    )


def test_the_agreement_starts_from_the_template_once_the_discussion_converges(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_people(world)
    with pytest.raises(ValidationError):
        services.agreement_start(membership=world.owner, opportunity=opportunity, language="fr")
    services.phase_move(membership=world.owner, opportunity=opportunity, to_phase="converging")
    with pytest.raises(PermissionDenied):  # the opener (or the owner) starts it
        services.agreement_start(membership=world.member, opportunity=opportunity, language="fr")
    with pytest.raises(ValidationError):
        services.agreement_start(membership=world.owner, opportunity=opportunity, language="de")
    agreement = services.agreement_start(
        membership=world.owner, opportunity=opportunity, language="fr"
    )
    version = services.latest_version(agreement)
    keys = [c["key"] for c in version.clauses]
    assert keys == [
        "purpose",
        "visible-consumption",
        "iterations",
        "stopping",
        "trust-review",
        "problems",
        "closure",
    ]
    assert "Le droit d'arrêter" in version.text and "Consommé visible" in version.text
    assert version.sha256 == hashlib.sha256(version.text.encode()).hexdigest()


def test_both_sides_edit_clauses_and_each_edit_is_a_version_with_its_note(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = started(world)
    services.clause_edit(
        membership=world.client_contact,
        opportunity=opportunity,
        key="stopping",
        title="The right to stop",
        text="Either side may stop at the end of any iteration, with one week's notice.",
        note="We need a week to plan",
        base_version=1,
    )
    services.clause_add(
        membership=world.expert,
        opportunity=opportunity,
        title="Data location",
        text="Data stays in the EU.",
        base_version=2,
    )
    versions = list(opportunity.agreement.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert versions[1].changed_clause == "stopping" and versions[1].note == "We need a week to plan"
    assert versions[2].clauses[-1]["key"] == "clause-1"
    # An edit from an outdated version is refused rather than overwriting the other side.
    with pytest.raises(ValidationError, match="changed since"):
        services.clause_edit(
            membership=world.owner,
            opportunity=opportunity,
            key="purpose",
            title="Purpose",
            text="Something else",
            base_version=1,
        )
    with pytest.raises(ValidationError) as refused:
        services.clause_edit(
            membership=world.owner, opportunity=opportunity, key="purpose", title="", text=""
        )
    assert set(refused.value.error_dict) == {"title", "text"}
    with pytest.raises(ValidationError) as no_reason:
        services.clause_remove(membership=world.owner, opportunity=opportunity, key="purpose")
    assert "note" in no_reason.value.error_dict


def test_bad_terms_get_an_error_per_field(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = started(world)
    with pytest.raises(ValidationError) as refused:
        services.terms_set(
            membership=world.owner,
            opportunity=opportunity,
            budget_days=10,
            iterations=0,
            iteration_days=20,
            trust_review_weeks=99,
            objectives="",
        )
    assert set(refused.value.error_dict) == {"iterations", "iteration_days", "trust_review_weeks"}


def test_comments_sit_on_one_clause_and_the_version_read(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = started(world)
    services.clause_comment(
        membership=world.client_contact, opportunity=opportunity, key="closure", body="Who signs?"
    )
    with pytest.raises(ValidationError):
        services.clause_comment(
            membership=world.client_contact, opportunity=opportunity, key="nope", body="x"
        )
    view = selectors.agreement_view(opportunity=opportunity, fetched_by=world.expert)
    assert view is not None
    closure = next(c for c in view.clauses if c.key == "closure")
    assert [c.body for c in closure.comments] == ["Who signs?"]
    assert closure.comments[0].version_number == 1


def test_the_diff_shows_what_changed_between_any_two_versions(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_terms(world)
    services.clause_edit(
        membership=world.owner,
        opportunity=opportunity,
        key="closure",
        title="Closure and approval for payment",
        text="Approval for payment within ten days of the closure analysis.",
    )
    services.clause_remove(
        membership=world.owner, opportunity=opportunity, key="trust-review", note="Monthly pulse"
    )
    _old, _new, sections = selectors.agreement_diff(
        agreement=opportunity.agreement, first=1, second=4
    )
    status = {s.key: s.status for s in sections}
    assert status["terms"] == "changed" and status["closure"] == "changed"
    assert status["trust-review"] == "removed" and status["purpose"] == "same"
    closure = next(s for s in sections if s.key == "closure")
    assert any(line.op == "added" and "ten days" in line.text for line in closure.lines) and any(
        line.op == "removed" for line in closure.lines
    )


def test_acceptance_records_who_when_and_the_hash_and_a_change_voids_it(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_terms(world)
    version = services.latest_version(opportunity.agreement)
    client_acceptance = accept(world, "client_contact", opportunity)
    assert client_acceptance.side == "client" and client_acceptance.by == world.client_contact.user
    assert client_acceptance.sha256 == hashlib.sha256(version.text.encode()).hexdigest()
    assert AuditEvent.objects.filter(verb="agreement.accept").exists()
    assert services.agreed_version(opportunity.agreement) is None
    # The expert changes a word: the client's acceptance is void; they must read and accept again.
    services.clause_edit(
        membership=world.expert,
        opportunity=opportunity,
        key="purpose",
        title="Purpose",
        text="The provider helps the client reach the objectives.",
    )
    client_acceptance.refresh_from_db()
    assert client_acceptance.voided_at is not None
    assert "version 3" in client_acceptance.void_reason
    accept(world, "owner", opportunity)
    assert services.agreed_version(opportunity.agreement) is None  # not the same version
    accept(world, "client_contact", opportunity)
    agreed = services.agreed_version(opportunity.agreement)
    assert agreed is not None and agreed.number == 3


def test_only_the_provider_steerer_and_the_client_accept_and_only_the_text_they_read(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_terms(world)
    version = services.latest_version(opportunity.agreement)
    for persona in ("expert", "member"):
        with pytest.raises(PermissionDenied):
            accept(world, persona, opportunity)
    with pytest.raises(ValidationError, match="changed since"):
        services.agreement_accept(
            membership=world.owner,
            opportunity=opportunity,
            version_number=version.number,
            sha256="0" * 64,
        )
    accept(world, "owner", opportunity)
    with pytest.raises(ValidationError):
        accept(world, "owner", opportunity)


def test_incomplete_terms_cannot_be_accepted(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = started(world)
    with pytest.raises(ValidationError, match="Complete the terms"):
        accept(world, "client_contact", opportunity)


def test_agreement_page_co_edit_accept_and_pdf(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_terms(world)
    kwargs = {"ws": world.workspace.slug, "pk": opportunity.pk}
    http = login("client_contact")
    page = http.get(reverse("agreement", kwargs=kwargs)).content.decode()
    assert "The right to stop" in page and "Accept version 2 for my side" in page
    edit = reverse("agreement-clause-edit", kwargs={**kwargs, "key": "purpose"})
    refused = http.post(edit, {"base_version": 2, "title": "", "text": "x"})
    assert refused.status_code == 400 and "id_purpose_title-error" in refused.content.decode()
    done = http.post(
        edit, {"base_version": 2, "title": "Purpose", "text": "Help us.", "note": "shorter"}
    )
    assert done.status_code == 302
    version = services.latest_version(opportunity.agreement)
    wrong = http.post(
        reverse("agreement-accept", kwargs=kwargs), {"version": 2, "sha256": version.sha256}
    )
    assert wrong.status_code == 400 and "changed since you read it" in wrong.content.decode()
    ok = http.post(
        reverse("agreement-accept", kwargs=kwargs), {"version": 3, "sha256": version.sha256}
    )
    assert ok.status_code == 302
    diff = http.get(reverse("agreement-diff", kwargs=kwargs) + "?a=1&b=3").content.decode()
    assert "Help us." in diff and "diff-add" in diff
    assert http.get(reverse("agreement-diff", kwargs=kwargs) + "?a=1&b=99").status_code == 404
    pdf = http.get(reverse("agreement-pdf", kwargs=kwargs))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # The expert reads and co-edits, but has no acceptance button.
    expert_page = login("expert").get(reverse("agreement", kwargs=kwargs)).content.decode()
    assert "Edit this clause" in expert_page and "for my side" not in expert_page


def test_clause_text_cannot_carry_script(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = started(world)
    services.clause_add(
        membership=world.expert,
        opportunity=opportunity,
        title="<script>alert(1)</script>",
        text="<img src=x onerror=alert(1)>",
    )
    page = (
        login("client_contact")
        .get(reverse("agreement", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk}))
        .content.decode()
    )
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_nothing_is_written_before_converging_or_after_closing(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = started(world)
    services.phase_move(
        membership=world.owner, opportunity=opportunity, to_phase=Phase.ABANDONED, reason="Budget"
    )
    with pytest.raises(ValidationError):
        services.clause_comment(
            membership=world.owner, opportunity=opportunity, key="purpose", body="x"
        )
