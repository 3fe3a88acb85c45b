"""Either side may stop: the client asks with its reason, the provider answers; closing is the
closure's, reopening is explained, ledgered and told."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from confiance.core.models import Notice
from confiance.engagements import stops
from confiance.engagements.models import EngagementStatus, StopRequest
from confiance.engagements.services import engagement_set_status
from confiance.ledger.models import LedgerEntry
from tests.conftest import World


def _ask(world: World, capture) -> StopRequest:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        return stops.stop_request_create(
            membership=world.client_contact,
            engagement=world.engagement,
            reason="Our budget was cut for the year",
        )


def test_the_client_asks_to_stop_early_and_the_provider_is_told(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    request = _ask(world, django_capture_on_commit_callbacks)
    assert request.state == StopRequest.State.PENDING
    assert LedgerEntry.objects.filter(kind="engagement.stop_requested").exists()
    notice = Notice.objects.get(user=world.owner.user, kind="engagement.stop_requested")
    assert "asks to stop early" in notice.text()
    with pytest.raises(ValidationError):  # one pending request at a time
        stops.stop_request_create(
            membership=world.client_contact, engagement=world.engagement, reason="Again"
        )


def test_a_request_needs_a_reason_and_a_client_contact(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        stops.stop_request_create(
            membership=world.client_contact, engagement=world.engagement, reason=" "
        )
    assert "reason" in error.value.error_dict
    with pytest.raises(PermissionDenied):
        stops.stop_request_create(membership=world.member, engagement=world.engagement, reason="x")
    with pytest.raises(PermissionDenied):
        stops.stop_request_create(
            membership=world.other_client_contact, engagement=world.engagement, reason="x"
        )


def test_the_provider_declines_with_its_reason_and_the_client_is_told(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    request = _ask(world, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        stops.stop_request_answer(membership=world.member, stop_request=request, accept=False)
    with django_capture_on_commit_callbacks(execute=True):
        stops.stop_request_answer(
            membership=world.member,
            stop_request=request,
            accept=False,
            answer="Two weeks remain; let us finish the migration",
        )
    request.refresh_from_db()
    world.engagement.refresh_from_db()
    assert request.state == StopRequest.State.DECLINED
    assert world.engagement.status == EngagementStatus.ACTIVE
    assert LedgerEntry.objects.filter(kind="engagement.stop_answered").exists()
    notice = Notice.objects.get(user=world.client_contact.user, kind="engagement.stop_answered")
    assert "declined" in notice.text()


def test_an_accepted_request_stops_the_engagement_with_the_clients_reason(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    request = _ask(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        stops.stop_request_answer(membership=world.owner, stop_request=request, accept=True)
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.STOPPED_EARLY
    assert "Our budget was cut" in world.engagement.stop_reason
    assert LedgerEntry.objects.filter(kind="engagement.stopped_early").exists()
    assert Notice.objects.filter(
        user=world.client_contact.user, kind="engagement.stop_answered"
    ).exists()


def test_an_answer_is_held_to_one_length_and_an_ended_engagement_is_not_stopped(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    request = _ask(world, django_capture_on_commit_callbacks)
    for accept in (True, False):
        with pytest.raises(ValidationError, match="under 4000 characters"):
            stops.stop_request_answer(
                membership=world.owner, stop_request=request, accept=accept, answer="x" * 4001
            )
    # The engagement ended another way meanwhile: accepting would record a stop that is none.
    engagement_set_status(
        membership=world.owner,
        engagement=world.engagement,
        status=EngagementStatus.STOPPED_EARLY,
        reason="Stopped on the phone",
    )
    with pytest.raises(ValidationError, match="already ended"):
        stops.stop_request_answer(membership=world.owner, stop_request=request, accept=True)
    request.refresh_from_db()
    assert request.state == StopRequest.State.PENDING
    declined = stops.stop_request_answer(
        membership=world.owner, stop_request=request, accept=False, answer="Already stopped"
    )
    assert declined.state == StopRequest.State.DECLINED


def test_closed_is_reached_only_through_the_closure(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        engagement_set_status(
            membership=world.owner, engagement=world.engagement, status=EngagementStatus.CLOSED
        )
    assert "status" in error.value.error_dict


def test_reopening_is_explained_ledgered_and_told_to_both_sides(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    engagement_set_status(
        membership=world.owner,
        engagement=world.engagement,
        status=EngagementStatus.STOPPED_EARLY,
        reason="Paused by both",
    )
    with pytest.raises(ValidationError) as error:
        engagement_set_status(
            membership=world.owner, engagement=world.engagement, status=EngagementStatus.ACTIVE
        )
    assert "reason" in error.value.error_dict
    with django_capture_on_commit_callbacks(execute=True):
        engagement_set_status(
            membership=world.owner,
            engagement=world.engagement,
            status=EngagementStatus.ACTIVE,
            reason="The funding came back",
        )
    entry = LedgerEntry.objects.filter(kind="engagement.reopened").get()
    assert entry is not None
    notice = Notice.objects.get(user=world.client_contact.user, kind="engagement.reopened")
    assert "reopened" in notice.text()


def test_pausing_and_resuming_is_told_to_both_sides_in_their_language(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: the provider pausing the work concerns the client, who is told at
    once (in French here), with the reason when one is given; resuming likewise."""
    from django.core import mail

    from confiance.core.services import user_language_set

    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    user_language_set(user=world.client_contact.user, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        engagement_set_status(
            membership=world.owner,
            engagement=world.engagement,
            status=EngagementStatus.PAUSED,
            reason="En attente du nouveau serveur",
        )
    paused = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert len(paused) == 1
    assert "Olivia Owner a mis la mission en pause" in paused[0].subject
    assert "Pourquoi : En attente du nouveau serveur" in paused[0].body
    assert Notice.objects.filter(user=world.member.user, kind="engagement.paused").exists()
    assert not Notice.objects.filter(user=world.owner.user).exists(), "not the author"
    with django_capture_on_commit_callbacks(execute=True):
        engagement_set_status(
            membership=world.owner, engagement=world.engagement, status=EngagementStatus.ACTIVE
        )
    resumed = Notice.objects.get(user=world.client_contact.user, kind="engagement.resumed")
    assert resumed.link.endswith(f"/engagements/{world.engagement.pk}/")
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()


def test_stop_pages(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("client_contact")
    url = reverse("stop-request", kwargs={"ws": "provider", "pk": world.engagement.pk})
    assert http.post(url, {"reason": ""}).status_code == 400
    assert http.post(url, {"reason": "Budget cut"}).status_code == 302
    request = StopRequest.objects.get()
    answer = reverse(
        "stop-answer", kwargs={"ws": "provider", "pk": world.engagement.pk, "sid": request.pk}
    )
    assert http.post(answer, {"decision": "accept"}).status_code == 404, "not the client's"
    page = login("member").get(
        reverse("engagement-detail", kwargs={"ws": "provider", "pk": world.engagement.pk})
    )
    assert "Budget cut" in page.content.decode()
    response = login("member").post(answer, {"decision": "decline", "answer": ""})
    assert response.status_code == 400
    assert login("member").post(answer, {"decision": "accept"}).status_code == 302
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.STOPPED_EARLY


def test_moved_planned_dates_are_told_to_both_sides_before_and_after(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: the planned end is the client's too; moving it reaches the client at
    once, in its language, with the date before and after. A draft's dates are nobody's yet."""
    from datetime import date

    from django.core import mail

    from confiance.core.services import user_language_set
    from confiance.engagements.services import engagement_update

    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    user_language_set(user=world.client_contact.user, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        engagement_update(
            membership=world.owner, engagement=world.engagement, end_date=date(2027, 2, 15)
        )
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Olivia Owner a changé les dates prévues" in sent.subject
    assert "Fin prévue : 31 déc. 2026 → 15 fév. 2027" in sent.body
    assert "Début prévu" not in sent.body, "only the date that moved"
    assert Notice.objects.filter(user=world.member.user, kind="engagement.dates_changed").exists()
    with django_capture_on_commit_callbacks(execute=True):
        engagement_update(membership=world.owner, engagement=world.engagement, title="Renamed")
        engagement_update(membership=world.owner, engagement=world.draft, end_date=date(2027, 3, 1))
    assert Notice.objects.filter(kind="engagement.dates_changed").count() == 2, "no more"


def test_an_objective_added_to_a_running_engagement_is_told_to_both_sides(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: what the closure will assess, and the client approve, concerns the
    client: an objective added while the engagement runs reaches its contacts at once, with how
    its attainment will be judged. A draft's objectives are nobody's yet."""
    from django.core import mail

    from confiance.core.services import user_language_set
    from confiance.engagements.services import objective_add

    user_language_set(user=world.client_contact.user, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        objective_add(
            membership=world.member,
            engagement=world.engagement,
            text="Migrer les archives 2019",
            success_measure="Toutes les années présentes",
        )
        objective_add(
            membership=world.member, engagement=world.draft, text="Draft", success_measure="M"
        )
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Mark Member a ajouté un objectif : Migrer les archives 2019" in sent.subject
    assert "Comment son atteinte sera jugée : Toutes les années présentes" in sent.body
    assert Notice.objects.filter(kind="engagement.objective_added").count() == 2, "+ the owner"


def test_a_person_named_on_a_running_engagement_is_told_in_their_language(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: being named an interlocutor of an engagement concerns the person
    named: they hear it once, in their language; naming oneself or renaming says nothing."""
    from django.core import mail

    from confiance.core.services import user_language_set
    from confiance.engagements.services import interlocutor_set

    contact = world.client_contact.user
    user_language_set(user=contact, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        for role in ("DSI", "DSI adjointe"):
            interlocutor_set(
                membership=world.owner, engagement=world.engagement, user=contact, role=role
            )
        interlocutor_set(membership=world.owner, engagement=world.engagement, user=world.owner.user)
    (sent,) = mail.outbox
    assert sent.to == [contact.email]
    assert "Olivia Owner vous a nommé(e) interlocuteur ou interlocutrice (DSI)" in sent.subject
