"""Answering a round: five scores from 1 to 5, once per person (changeable while open)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from confiance.core.models import AuditEvent
from confiance.pulse import selectors, services
from confiance.pulse.models import PulseAnswer
from tests.conftest import World
from tests.pulse.support import (
    add_client_contacts,
    answer,
    open_round,
    past_round,
    scores,
    staff_engagement,
)


@pytest.mark.parametrize("bad", [0, 6, -1, None, "4", True])
def test_each_score_is_from_1_to_5(world: World, bad: object) -> None:
    survey = open_round(world)
    with pytest.raises(ValidationError) as error:
        answer(world.client_contact, survey, discretion=bad)
    assert "discretion" in error.value.message_dict
    assert not PulseAnswer.objects.exists()


def test_the_database_refuses_a_score_outside_1_to_5(world: World) -> None:
    survey = open_round(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        PulseAnswer.objects.create(
            workspace=world.workspace,
            engagement=world.engagement,
            survey=survey,
            respondent=world.client_contact.user,
            side="client",
            common_language=6,
            common_vision=3,
            discretion=3,
            receptivity=3,
            proximity=3,
        )


def test_a_person_answers_once_per_round_and_may_change_it_while_open(world: World) -> None:
    survey = open_round(world)
    first = answer(world.client_contact, survey, 2, comment="Slow start")
    second = answer(world.client_contact, survey, 5, comment="Much better")
    assert first.pk == second.pk
    row = PulseAnswer.objects.get(survey=survey)
    assert row.scores() == dict.fromkeys(row.scores(), 5) and row.comment == "Much better"
    assert row.side == "client" and row.engagement_id == world.engagement.pk
    assert AuditEvent.objects.filter(verb="pulse.answer_change").count() == 1


def test_the_database_allows_one_answer_per_person_and_round(world: World) -> None:
    survey = open_round(world)
    answer(world.client_contact, survey)
    with pytest.raises(IntegrityError), transaction.atomic():
        PulseAnswer.objects.create(
            workspace=world.workspace,
            engagement=world.engagement,
            survey=survey,
            respondent=world.client_contact.user,
            side="client",
            **scores(3).__dict__ | {"comment": "", "signed": False},
        )


def test_a_closed_round_takes_no_answer_nor_change(world: World) -> None:
    survey = past_round(world)
    answer(world.client_contact, survey, 3)
    with pytest.raises(ValidationError):
        services.pulse_answer_submit(
            membership=world.client_contact, survey=survey, answer=scores(5)
        )
    assert PulseAnswer.objects.get().common_language == 3


@pytest.mark.parametrize("persona", ["other_client_contact", "expert", "finance", "outsider"])
def test_only_the_people_asked_answer(world: World, persona: str) -> None:
    survey = open_round(world)
    with pytest.raises(PermissionDenied):
        answer(getattr(world, persona), survey)


def test_someone_who_joined_after_the_opening_waits_for_the_next_round(world: World) -> None:
    survey = open_round(world)
    newcomer = add_client_contacts(world, 1)[0]
    with pytest.raises(PermissionDenied):
        answer(newcomer, survey)


def test_signing_is_for_a_one_person_side_only(world: World) -> None:
    staff_engagement(world)  # provider side: owner (lead) and member
    survey = open_round(world)
    with pytest.raises(ValidationError) as error:
        answer(world.member, survey, signed=True)
    assert "signed" in error.value.message_dict
    signed = answer(world.client_contact, survey, signed=True)  # alone on the client side
    assert signed.signed


def test_a_long_comment_is_refused(world: World) -> None:
    survey = open_round(world)
    with pytest.raises(ValidationError) as error:
        answer(world.client_contact, survey, comment="x" * 501)
    assert "comment" in error.value.message_dict


def test_the_audit_log_never_holds_scores_nor_comment(world: World) -> None:
    survey = open_round(world)
    answer(world.client_contact, survey, 1, comment="SECRET-REMARK")
    event = AuditEvent.objects.get(verb="pulse.answer")
    assert "SECRET-REMARK" not in str(event.data) and "discretion" not in str(event.data)


def test_answers_for_trust_come_in_time_order(world: World) -> None:
    staff_engagement(world)
    old = past_round(world, 20)
    new = past_round(world, 5)
    services.pulse_answer_submit(
        membership=world.member,
        survey=new,
        answer=scores(2),
        now=new.opened_at + timedelta(hours=2),
    )
    answer(world.client_contact, new, 3)
    answer(world.client_contact, old, 4)
    answers = selectors.answers_for_trust(world.engagement)
    assert [(a.survey_id, a.side) for a in answers] == [
        (old.pk, "client"),
        (new.pk, "client"),
        (new.pk, "provider"),
    ]
    assert not list(selectors.answers_for_trust(world.engagement_b))
