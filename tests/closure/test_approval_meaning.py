"""An approval that means something: after the analysis, confirmed, with the open items
acknowledged; a voided approval tells the client what changed and asks again."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from confiance.closure import services
from confiance.closure.models import Attainment, Closure
from confiance.core.models import Notice
from confiance.ledger.models import LedgerEntry
from confiance.problems.services import problem_raise
from tests.closure.support import objectives, started
from tests.closure.test_services import approve, assess_all, view
from tests.conftest import World


def _ready(world: World) -> Closure:
    closure = started(world)
    assess_all(world, closure)
    return Closure.objects.select_related("engagement").get(pk=closure.pk)


def test_open_problems_must_be_acknowledged_and_are_recorded(world: World) -> None:
    closure = _ready(world)
    problem_raise(
        membership=world.client_contact,
        engagement=world.engagement,
        title="Reports still slow",
        severity="medium",
    )
    current = view(world, closure, "client_contact").approval.current_hash
    with pytest.raises(ValidationError) as error:
        services.closure_approve(
            membership=world.client_contact, closure=closure, seen_hash=current
        )
    assert "acknowledge_open" in error.value.error_dict
    services.closure_approve(
        membership=world.client_contact,
        closure=closure,
        seen_hash=current,
        open_items_acknowledged=True,
    )
    entry = LedgerEntry.objects.filter(kind="closure.approved").get()
    assert entry is not None


def test_a_voided_approval_tells_the_client_what_changed(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    closure = _ready(world)
    approve(world, closure)
    first = objectives(world)[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.objective_assess(
            membership=world.member,
            closure=closure,
            objective=first,
            attainment=Attainment.PARTLY,
            evidence="Une coupure de 4 minutes",
        )
    notice = Notice.objects.get(user=world.client_contact.user, kind="closure.voided")
    assert "approval for payment is void" in notice.text()
    from confiance.core.notices import render_details

    details = "\n".join(render_details(notice.kind, notice.params))
    assert f"Objective “{first.text}”: Attained → Partly attained" in details
    assert "Une coupure de 4 minutes" in details


def test_the_page_asks_for_confirmation_lists_open_items_and_shows_the_diff(
    login, world: World
) -> None:  # type: ignore[no-untyped-def]
    closure = _ready(world)
    problem_raise(
        membership=world.member,
        engagement=world.engagement,
        title="Archive export pending",
        severity="low",
    )
    http = login("client_contact")
    url = reverse("closure", kwargs={"ws": "provider", "pk": world.engagement.pk})
    page = http.get(url).content.decode()
    assert "Archive export pending" in page and 'data-testid="open-items"' in page
    # The approval comes after the analysis and both retrospectives.
    assert page.index("Retrospective") < page.index("Approve for payment")
    current = view(world, closure, "client_contact").approval.current_hash
    approve_url = reverse("closure-approve", kwargs={"ws": "provider", "pk": world.engagement.pk})
    response = http.post(approve_url, {"analysis_hash": current})
    assert response.status_code == 400, "not confirmed, not acknowledged"
    assert "Tick the box" in response.content.decode()
    response = http.post(
        approve_url, {"analysis_hash": current, "confirm": "on", "acknowledge_open": "on"}
    )
    assert response.status_code == 302
    services.objective_assess(
        membership=world.member,
        closure=closure,
        objective=objectives(world)[1],
        attainment=Attainment.NOT_ATTAINED,
        evidence="Personne n'a été formé",
    )
    page = http.get(url).content.decode()
    assert 'data-testid="approval-diff"' in page
    assert "Partly attained → Not attained" in page
