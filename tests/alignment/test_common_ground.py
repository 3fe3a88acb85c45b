"""A common language and a common vision, written together: one side proposes, the other agrees."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from confiance.alignment import selectors, services
from confiance.alignment.models import GlossaryEntry, State, Vision
from confiance.core.models import Notice
from confiance.ledger.models import LedgerEntry
from tests.conftest import World


def _propose(world: World, persona: str = "member", term: str = "Lot") -> GlossaryEntry:
    return services.glossary_propose(
        membership=getattr(world, persona),
        engagement=world.engagement,
        term=term,
        meaning="A batch of records migrated together",
    )


def test_a_term_is_common_once_the_other_side_agrees_and_the_agreement_is_ledgered(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        entry = _propose(world)
    # The other side is asked; the proposer's side does not agree for the other.
    assert Notice.objects.filter(kind="glossary.proposed", user=world.client_contact.user).exists()
    with pytest.raises(ValidationError, match="other side"):
        services.glossary_agree(membership=world.owner, entry=entry)
    ground = selectors.common_ground(fetched_by=world.client_contact, engagement=world.engagement)
    assert ground.glossary == [] and ground.proposals == [entry]
    with django_capture_on_commit_callbacks(execute=True):
        services.glossary_agree(membership=world.client_contact, entry=entry)
    ground = selectors.common_ground(fetched_by=world.member, engagement=world.engagement)
    (agreed,) = ground.glossary
    assert (agreed.proposed_by, agreed.agreed_by) == (world.member.user, world.client_contact.user)
    assert LedgerEntry.objects.filter(engagement=world.engagement, kind="glossary.agreed").exists()
    assert Notice.objects.filter(kind="glossary.agreed", user=world.member.user).exists()


def test_a_change_of_meaning_supersedes_the_agreed_one_only_once_agreed(world: World) -> None:
    entry = _propose(world)
    services.glossary_agree(membership=world.client_contact, entry=entry)
    with pytest.raises(ValidationError, match="already"):
        _propose(world, "client_contact", term="lot")  # the same term, another case
    change = services.glossary_propose(
        membership=world.client_contact,
        engagement=world.engagement,
        term="ignored",
        meaning="A batch, with its reconciliation report",
        replaces=entry,
    )
    assert change.term == "Lot"
    entry.refresh_from_db()
    assert entry.state == State.AGREED  # still the common meaning until the change is agreed
    services.glossary_agree(membership=world.member, entry=change)
    entry.refresh_from_db()
    assert entry.state == State.SUPERSEDED
    ground = selectors.common_ground(fetched_by=world.member, engagement=world.engagement)
    assert [e.meaning for e in ground.glossary] == ["A batch, with its reconciliation report"]


@pytest.mark.parametrize(
    ("term", "meaning", "field"),
    [
        ("", "x", "term"),
        ("Lot", "  ", "meaning"),
        ("x" * 121, "x", "term"),
        ("Lot", "x" * 2001, "meaning"),
    ],
)
def test_empty_or_oversized_input_is_refused_with_field_errors(
    world: World, term: str, meaning: str, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        services.glossary_propose(
            membership=world.member, engagement=world.engagement, term=term, meaning=meaning
        )
    assert field in error.value.message_dict
    assert not GlossaryEntry.objects.exists()


@pytest.mark.parametrize("persona", ["finance", "other_client_contact", "expert", "outsider"])
def test_only_the_two_sides_of_the_engagement_propose(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        _propose(world, persona)


def test_a_vision_proposed_by_the_client_is_shared_once_the_provider_accepts(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    first = services.vision_propose(
        membership=world.client_contact,
        engagement=world.engagement,
        problem="Records in three systems",
        outcome="One record per patient",
        success="All records reconciled",
    )
    with pytest.raises(ValidationError):
        services.vision_agree(membership=world.client_contact, vision=first)
    with django_capture_on_commit_callbacks(execute=True):
        services.vision_agree(membership=world.member, vision=first)
    assert Notice.objects.filter(kind="vision.agreed", user=world.client_contact.user).exists()
    change = services.vision_propose(
        membership=world.member,
        engagement=world.engagement,
        problem="Records in three systems",
        outcome="One record per patient, and the old systems off",
        success="All records reconciled",
    )
    ground = selectors.common_ground(fetched_by=world.client_contact, engagement=world.engagement)
    assert ground.vision == first and ground.vision_proposal == change
    services.vision_agree(membership=world.client_contact, vision=change)
    ground = selectors.common_ground(fetched_by=world.client_contact, engagement=world.engagement)
    assert ground.vision == change and ground.history == [Vision.objects.get(pk=first.pk)]
    assert (
        LedgerEntry.objects.filter(engagement=world.engagement, kind="vision.agreed").count() == 2
    )


def test_the_page_shows_both_sides_what_awaits_them(world: World, client: HttpClient) -> None:
    _propose(world)
    url = reverse("common-ground", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    client.force_login(world.client_contact.user)
    page = client.get(url).content.decode()
    assert "Lot" in page and "Agree" in page
    client.force_login(world.member.user)
    page = client.get(url).content.decode()
    assert "Lot" in page and 'action="' + url + "glossary/" in page
    assert "/agree/" not in page  # the proposer's side waits for the other
    response = client.post(url + "glossary/", {"term": "", "meaning": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()


def test_the_pulse_links_its_questions_and_suggests_revisiting_after_a_low_score(
    world: World, client: HttpClient
) -> None:
    from tests.pulse import support as pulse_support

    pulse_support.staff_engagement(world)
    survey = pulse_support.past_round(world)
    # The client's only contact signs, so its side's figures show (the pulse's privacy rule).
    pulse_support.answer(world.client_contact, survey, 5, common_language=2, signed=True)
    client.force_login(world.member.user)
    page = client.get(
        reverse("pulse", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    ).content.decode()
    assert "revisit the glossary together" in page
    assert "revisit the shared vision" not in page
    assert "/common/#glossary" in page
