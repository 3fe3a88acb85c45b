"""Closure rules: attainment per objective, each side's own retrospective, the approval for
payment bound to the analysis by its hash, and stopping early through the same closure."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from confiance.closure import selectors, services
from confiance.closure.models import (
    Attainment,
    Closure,
    ClosureApproval,
    ObjectiveAssessment,
    Outcome,
    RetrospectiveContribution,
    Side,
)
from confiance.consumption.services import EntryInput, budget_revise, time_entry_log
from confiance.core.models import AuditEvent, Notice
from confiance.engagements.models import EngagementStatus
from confiance.engagements.services import engagement_set_status
from confiance.ledger.models import LedgerEntry
from confiance.ledger.selectors import opened_fact
from tests.closure.support import objectives, started
from tests.conftest import World


def assess_all(world: World, closure: Closure) -> None:
    for objective, attainment in zip(
        objectives(world), [Attainment.ATTAINED, Attainment.PARTLY], strict=True
    ):
        services.objective_assess(
            membership=world.member,
            closure=closure,
            objective=objective,
            attainment=attainment,
            evidence=f"Preuve pour « {objective.text} »",
        )


def view(world: World, closure: Closure, persona: str = "owner") -> selectors.ClosureView:
    closure = Closure.objects.select_related("engagement").get(pk=closure.pk)
    return selectors.closure_view(fetched_by=getattr(world, persona), closure=closure)


def approve(world: World, closure: Closure) -> ClosureApproval:
    current = view(world, closure, "client_contact").approval.current_hash
    closure = Closure.objects.select_related("engagement").get(pk=closure.pk)
    return services.closure_approve(
        membership=world.client_contact, closure=closure, seen_hash=current
    )


# Starting ----------------------------------------------------------------------------------


def test_closure_starts_for_an_active_or_paused_engagement_by_the_provider(world: World):
    closure = started(world)
    assert closure.outcome == Outcome.COMPLETED and closure.stop_reason == ""
    engagement_set_status(
        membership=world.owner, engagement=world.engagement_b, status=EngagementStatus.PAUSED
    )
    paused = services.closure_start(
        membership=world.member, engagement=world.engagement_b, outcome=Outcome.COMPLETED
    )
    assert paused.engagement_id == world.engagement_b.pk
    assert AuditEvent.objects.filter(verb="closure.start").count() == 2


def test_each_sides_retrospective_is_told_to_the_other_side_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: the client reads the provider's retrospective before approving; each
    side hears of the other's first contribution, in its language (a rewrite says nothing)."""
    from confiance.core.services import user_language_set

    closure = started(world)
    user_language_set(user=world.client_contact.user, language="fr")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _time in range(2):
            services.retrospective_write(
                membership=world.member,
                closure=closure,
                side="provider",
                went_well="Ateliers",
                to_improve="Plans",
                lessons="",
            )
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Mark Member a écrit sa part de la rétrospective du prestataire" in sent.subject
    with django_capture_on_commit_callbacks(execute=True):
        services.retrospective_write(
            membership=world.client_contact,
            closure=closure,
            side="client",
            went_well="Disponibilité",
            to_improve="",
            lessons="",
        )
    told = Notice.objects.get(user=world.owner.user, kind="closure.retrospective")
    assert (
        told.text()
        == "Alpha migration: Carla Contact wrote their part of the client's retrospective"
    )
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()


def test_the_client_is_told_at_once_that_the_closure_asks_its_retrospective(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: the closure asks each side's retrospective; the client's contacts hear
    it when it starts, in their language, with the objectives to be assessed."""
    from confiance.core.services import user_language_set

    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    user_language_set(user=world.client_contact.user, language="fr")
    objectives(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        started(world)
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Olivia Owner a ouvert la clôture" in sent.subject
    assert "2 objectifs seront évalués selon leurs mesures." in sent.body
    assert "Chaque partie écrit sa rétrospective" in sent.body
    assert Notice.objects.filter(user=world.member.user, kind="closure.started").exists()
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()


@pytest.mark.parametrize("persona", ["finance", "client_contact", "expert", "outsider"])
def test_only_the_providers_owner_and_consultants_start_a_closure(world: World, persona: str):
    with pytest.raises(PermissionDenied):
        services.closure_start(
            membership=getattr(world, persona),
            engagement=world.engagement,
            outcome=Outcome.COMPLETED,
        )


def test_a_draft_is_not_closed_and_a_closure_starts_once(world: World):
    with pytest.raises(ValidationError):
        services.closure_start(
            membership=world.owner, engagement=world.draft, outcome=Outcome.COMPLETED
        )
    started(world)
    with pytest.raises(ValidationError):
        services.closure_start(
            membership=world.owner, engagement=world.engagement, outcome=Outcome.COMPLETED
        )


def test_stopping_early_goes_through_the_closure_with_its_reason(world: World):
    with pytest.raises(ValidationError) as error:
        services.closure_start(
            membership=world.owner, engagement=world.engagement, outcome=Outcome.STOPPED_EARLY
        )
    assert "reason" in error.value.message_dict
    closure = services.closure_start(
        membership=world.owner,
        engagement=world.engagement,
        outcome=Outcome.STOPPED_EARLY,
        reason="Le besoin a disparu après la réorganisation",
    )
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.STOPPED_EARLY
    assert world.engagement.stopped_by == world.owner.user
    assert closure.outcome == Outcome.STOPPED_EARLY
    assert closure.stop_reason == "Le besoin a disparu après la réorganisation"
    assert view(world, closure).data["stop_reason"] == "Le besoin a disparu après la réorganisation"


def test_an_engagement_already_stopped_early_closes_with_its_recorded_reason(world: World):
    engagement_set_status(
        membership=world.owner,
        engagement=world.engagement,
        status=EngagementStatus.STOPPED_EARLY,
        reason="Budget gelé par le client",
    )
    with pytest.raises(ValidationError):
        services.closure_start(
            membership=world.owner, engagement=world.engagement, outcome=Outcome.COMPLETED
        )
    closure = services.closure_start(
        membership=world.owner, engagement=world.engagement, outcome=Outcome.STOPPED_EARLY
    )
    assert closure.stop_reason == "Budget gelé par le client"


def test_approval_keeps_a_stopped_early_engagement_stopped_early(world: World):
    objectives(world)
    closure = services.closure_start(
        membership=world.owner,
        engagement=world.engagement,
        outcome=Outcome.STOPPED_EARLY,
        reason="On arrête honnêtement",
    )
    assess_all(world, closure)
    approve(world, closure)
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.STOPPED_EARLY


# Objectives --------------------------------------------------------------------------------


def test_each_objective_gets_its_attainment_and_evidence(world: World):
    closure = started(world)
    first, second = objectives(world)
    services.objective_assess(
        membership=world.member,
        closure=closure,
        objective=first,
        attainment=Attainment.ATTAINED,
        evidence="Bascule faite un dimanche, 0 minute d'arrêt",
    )
    rows = view(world, closure).rows
    assert [(r.objective, r.assessment and r.assessment.attainment) for r in rows] == [
        (first, Attainment.ATTAINED),
        (second, None),
    ]
    # Assessing again replaces the assessment: one per objective.
    services.objective_assess(
        membership=world.owner,
        closure=closure,
        objective=first,
        attainment=Attainment.PARTLY,
        evidence="Deux minutes d'arrêt finalement",
    )
    assert ObjectiveAssessment.objects.filter(closure=closure).count() == 1
    assert view(world, closure).data["objectives"][0] == {
        "objective": first.pk,
        "text": first.text,
        "success_measure": first.success_measure,
        "attainment": "partly",
        "evidence": "Deux minutes d'arrêt finalement",
    }


def test_attainment_needs_a_known_level_and_evidence(world: World):
    closure = started(world)
    with pytest.raises(ValidationError) as error:
        services.objective_assess(
            membership=world.owner,
            closure=closure,
            objective=objectives(world)[0],
            attainment="maybe",
            evidence="  ",
        )
    assert set(error.value.message_dict) == {"attainment", "evidence"}


def test_objective_of_another_engagement_is_refused(world: World):
    closure = started(world)
    from confiance.engagements.services import objective_add

    foreign = objective_add(
        membership=world.owner, engagement=world.engagement_b, text="B", success_measure="B"
    )
    with pytest.raises(ValidationError):
        services.objective_assess(
            membership=world.owner,
            closure=closure,
            objective=foreign,
            attainment=Attainment.ATTAINED,
            evidence="x",
        )


@pytest.mark.parametrize("persona", ["finance", "client_contact"])
def test_the_client_and_finance_do_not_assess_objectives(world: World, persona: str):
    closure = started(world)
    with pytest.raises(PermissionDenied):
        services.objective_assess(
            membership=getattr(world, persona),
            closure=closure,
            objective=objectives(world)[0],
            attainment=Attainment.ATTAINED,
            evidence="x",
        )


# Retrospective -----------------------------------------------------------------------------


def test_each_side_writes_only_its_own_retrospective(world: World):
    closure = started(world)
    services.retrospective_write(
        membership=world.member,
        closure=closure,
        side=Side.PROVIDER,
        went_well="Ateliers courts",
        to_improve="Estimer plus tôt",
        lessons="Toujours une répétition de bascule",
    )
    services.retrospective_write(
        membership=world.client_contact,
        closure=closure,
        side=Side.CLIENT,
        went_well="Transparence du consommé",
        to_improve="",
        lessons="",
    )
    with pytest.raises(PermissionDenied):
        services.retrospective_write(
            membership=world.client_contact,
            closure=closure,
            side=Side.PROVIDER,
            went_well="x",
            to_improve="",
            lessons="",
        )
    with pytest.raises(PermissionDenied):
        services.retrospective_write(
            membership=world.owner,
            closure=closure,
            side=Side.CLIENT,
            went_well="x",
            to_improve="",
            lessons="",
        )
    for persona in ["finance", "other_client_contact", "expert", "outsider"]:
        with pytest.raises(PermissionDenied):
            services.retrospective_write(
                membership=getattr(world, persona),
                closure=closure,
                side=Side.CLIENT,
                went_well="x",
                to_improve="",
                lessons="",
            )
    data = view(world, closure).data["retrospective"]
    assert data["provider"] == [
        {
            "author": "member@provider.test",
            "went_well": "Ateliers courts",
            "to_improve": "Estimer plus tôt",
            "lessons": "Toujours une répétition de bascule",
        }
    ]
    assert [c["author"] for c in data["client"]] == ["contact@client-a.test"]


def test_each_persons_contribution_is_its_own_record(world: World):
    closure = started(world)
    for persona in ["owner", "member"]:
        services.retrospective_write(
            membership=getattr(world, persona),
            closure=closure,
            side=Side.PROVIDER,
            went_well=f"{persona} says",
            to_improve="",
            lessons="",
        )
    services.retrospective_write(
        membership=world.member,
        closure=closure,
        side=Side.PROVIDER,
        went_well="member rewrites",
        to_improve="",
        lessons="",
    )
    rows = RetrospectiveContribution.objects.filter(closure=closure).order_by("id")
    assert [(r.author, r.went_well) for r in rows] == [
        (world.owner.user, "owner says"),
        (world.member.user, "member rewrites"),
    ]


def test_an_empty_retrospective_is_refused(world: World):
    closure = started(world)
    with pytest.raises(ValidationError):
        services.retrospective_write(
            membership=world.member,
            closure=closure,
            side=Side.PROVIDER,
            went_well=" ",
            to_improve="",
            lessons="",
        )


# Approval for payment ----------------------------------------------------------------------


def test_the_hash_is_sha256_of_the_canonical_analysis_with_consumption_figures(world: World):
    closure = started(world)
    budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("10"),
        amount=None,
        reason="Proposal",
    )
    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=960),
    )
    v = view(world, closure)
    assert v.data["consumption"] == {
        "budget_minutes": 4800,
        "consumed_minutes": 960,
        "minutes_per_day": 480,
        "budget_days": "10.0",
        "consumed_days": "2.0",
    }
    canonical = json.dumps(v.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert v.approval.current_hash == hashlib.sha256(canonical.encode()).hexdigest()
    # The client computes the same hash as the provider: nothing viewer-dependent in it.
    assert view(world, closure, "client_contact").approval.current_hash == (v.approval.current_hash)


def test_approval_records_who_when_and_the_hash_and_closes_the_engagement(world: World):
    closure = started(world)
    assess_all(world, closure)
    before = timezone.now()
    approval = approve(world, closure)
    current = view(world, closure).approval
    assert approval.approved_by == world.client_contact.user
    assert approval.approved_at >= before
    assert approval.analysis_hash == current.current_hash and current.valid
    leaf = LedgerEntry.objects.get(engagement=world.engagement, index=approval.ledger_index)
    assert leaf.kind == "closure.approved"
    assert json.loads(leaf.data)["hash"] == approval.analysis_hash
    assert opened_fact(leaf)["by"] == "contact@client-a.test"
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.CLOSED
    assert AuditEvent.objects.filter(verb="closure.approve").exists()


def test_approval_is_void_when_the_analysis_changes_and_a_new_one_is_needed(world: World):
    closure = started(world)
    assess_all(world, closure)
    first = approve(world, closure)
    services.retrospective_write(
        membership=world.member,
        closure=closure,
        side=Side.PROVIDER,
        went_well="Ajouté après coup",
        to_improve="",
        lessons="",
    )
    state = view(world, closure).approval
    assert state.approval == first and state.void and not state.valid
    second = approve(world, closure)
    assert second.analysis_hash != first.analysis_hash
    assert view(world, closure).approval.valid
    assert LedgerEntry.objects.filter(kind="closure.approved").count() == 2


def test_approval_of_an_analysis_that_changed_while_reading_is_refused(world: World):
    closure = started(world)
    assess_all(world, closure)
    seen = view(world, closure, "client_contact").approval.current_hash
    services.objective_assess(
        membership=world.member,
        closure=closure,
        objective=objectives(world)[0],
        attainment=Attainment.NOT_ATTAINED,
        evidence="Revu à la baisse",
    )
    with pytest.raises(ValidationError):
        services.closure_approve(membership=world.client_contact, closure=closure, seen_hash=seen)
    assert not ClosureApproval.objects.exists()


def test_approval_needs_every_objective_assessed_and_is_not_repeated(world: World):
    closure = started(world)
    with pytest.raises(ValidationError):
        approve(world, closure)
    assess_all(world, closure)
    approve(world, closure)
    with pytest.raises(ValidationError):
        approve(world, closure)


@pytest.mark.parametrize("persona", ["owner", "member", "finance", "other_client_contact"])
def test_only_a_contact_of_the_engagements_client_approves(world: World, persona: str):
    closure = started(world)
    assess_all(world, closure)
    current = view(world, closure).approval.current_hash
    with pytest.raises(PermissionDenied):
        services.closure_approve(
            membership=getattr(world, persona), closure=closure, seen_hash=current
        )


def test_approvals_are_append_only(world: World):
    closure = started(world)
    assess_all(world, closure)
    approval = approve(world, closure)
    with pytest.raises(TypeError):
        approval.delete()
    with pytest.raises(TypeError):
        ClosureApproval.objects.filter(pk=approval.pk).update(analysis_hash="0" * 64)
    approval.analysis_hash = "0" * 64
    with pytest.raises(TypeError):
        approval.save()


def test_approval_tells_the_provider_once_committed(
    world: World, django_capture_on_commit_callbacks
):
    closure = started(world)
    assess_all(world, closure)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approve(world, closure)
    # The approval's own notice, after commit (the trust update is another app's callback).
    mine = [c for c in callbacks if "notify_closure_approved" in c.__qualname__]
    assert len(mine) == 1 and not Notice.objects.exists()
    mine[0]()
    notice = Notice.objects.get(kind="closure.approved")
    assert notice.user == world.owner.user  # started the closure; the engagement has no lead
    with translation.override("en"):
        assert "Carla Contact approved the closure for payment" in notice.text()
    assert [m.to for m in mail.outbox] == [["owner@provider.test"]]
    assert view(world, closure).approval.current_hash in mail.outbox[0].body
