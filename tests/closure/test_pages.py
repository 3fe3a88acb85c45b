"""Closure pages: who sees them, the forms of each side, the approval, and the PDF report."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from confiance.closure import selectors, services
from confiance.closure.models import Attainment, Closure, Outcome, Side
from confiance.closure.report import _clean
from confiance.consumption.services import EntryInput, budget_revise, time_entry_log
from confiance.engagements.models import EngagementStatus
from confiance.engagements.services import objective_add
from tests.closure.support import objectives, started
from tests.conftest import World


def url(world: World, name: str = "closure", **extra: object) -> str:
    return reverse(name, kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, **extra})


def current_hash(world: World) -> str:
    closure = Closure.objects.select_related("engagement").get(engagement=world.engagement)
    return selectors.current_hash(fetched_by=world.owner, closure=closure)


def assess_all(world: World, closure: Closure) -> None:
    for objective in objectives(world):
        services.objective_assess(
            membership=world.member,
            closure=closure,
            objective=objective,
            attainment=Attainment.ATTAINED,
            evidence=f"Mesuré : {objective.success_measure}",
        )


def pdf_text(response) -> str:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


# Access and rendering ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "member", "finance", "client_contact"])
def test_internal_people_and_the_clients_contacts_see_the_closure(world: World, login, persona):
    started(world)
    response = login(persona).get(url(world))
    assert response.status_code == 200
    assert "Migrer la base clients sans interruption" in response.content.decode()


@pytest.mark.parametrize("persona", ["other_client_contact", "expert", "outsider"])
def test_others_get_not_found_for_page_and_report(world: World, login, persona):
    started(world)
    http = login(persona)
    assert http.get(url(world)).status_code == 404
    assert http.get(url(world, "closure-report")).status_code == 404


def test_engagement_page_links_to_its_closure(world: World, login):
    response = login("client_contact").get(
        reverse("engagement-detail", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    )
    assert url(world) in response.content.decode()


def test_client_view_never_shows_internal_notes(world: World, login):
    started(world)
    body = login("client_contact").get(url(world)).content.decode()
    assert "INTERNAL-NOTE" not in body


def test_only_the_provider_gets_the_start_and_assess_forms(world: World, login):
    objectives(world)
    assert url(world, "closure-start") in login("member").get(url(world)).content.decode()
    client_page = login("client_contact").get(url(world)).content.decode()
    assert url(world, "closure-start") not in client_page
    started(world)
    assess = url(world, "closure-assess", objective_id=objectives(world)[0].pk)
    assert assess in login("member").get(url(world)).content.decode()
    assert assess not in login("client_contact").get(url(world)).content.decode()
    assert assess not in login("finance").get(url(world)).content.decode()


# Forms -------------------------------------------------------------------------------------


def test_stopping_early_from_the_closure_page_records_the_reason(world: World, login):
    http = login("owner")
    response = http.post(url(world, "closure-start"), {"outcome": Outcome.STOPPED_EARLY})
    assert response.status_code == 400
    assert "Say why the engagement stops early." in response.content.decode()
    response = http.post(
        url(world, "closure-start"),
        {"outcome": Outcome.STOPPED_EARLY, "reason": "Le sponsor est parti"},
    )
    assert response.status_code == 302
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.STOPPED_EARLY
    body = login("client_contact").get(url(world)).content.decode()
    assert "Le sponsor est parti" in body and "valid outcome" in body


def test_invalid_assessment_keeps_the_input_and_says_why(world: World, login):
    started(world)
    objective = objectives(world)[0]
    prefix = f"o{objective.pk}"
    response = login("member").post(
        url(world, "closure-assess", objective_id=objective.pk),
        {f"{prefix}-attainment": Attainment.PARTLY, f"{prefix}-evidence": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="partly" selected' in body
    response = login("member").post(
        url(world, "closure-assess", objective_id=objective.pk),
        {f"{prefix}-attainment": Attainment.PARTLY, f"{prefix}-evidence": "Deux sur trois"},
    )
    assert response.status_code == 302
    assert "Deux sur trois" in login("client_contact").get(url(world)).content.decode()


def test_each_side_writes_its_retrospective_from_the_page(world: World, login):
    closure = started(world)
    response = login("client_contact").post(
        url(world, "closure-retrospective"),
        {"went_well": "Réactivité", "to_improve": "", "lessons": "Décider plus tôt"},
    )
    assert response.status_code == 302
    login("member").post(url(world, "closure-retrospective"), {"went_well": "Cadrage clair"})
    contributions = {c.author.email: c.side for c in closure.contributions.all()}
    assert contributions == {
        "contact@client-a.test": Side.CLIENT,
        "member@provider.test": Side.PROVIDER,
    }
    assert login("finance").post(url(world, "closure-retrospective"), {}).status_code == 404


def test_client_approves_then_a_change_voids_the_approval(world: World, login):
    closure = started(world)
    assess_all(world, closure)
    client = login("client_contact")
    seen = current_hash(world)
    assert seen in client.get(url(world)).content.decode()
    response = client.post(url(world, "closure-approve"), {"analysis_hash": seen, "confirm": "on"})
    assert response.status_code == 302
    body = client.get(url(world)).content.decode()
    assert "Approved for payment by Carla Contact" in body
    assert url(world, "closure-approve") not in body
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.CLOSED

    login("member").post(url(world, "closure-retrospective"), {"lessons": "Ajout tardif"})
    body = login("client_contact").get(url(world)).content.decode()
    assert "Approval void: the analysis changed since." in body
    assert url(world, "closure-approve") in body
    assert current_hash(world) != seen


def test_approving_a_stale_analysis_is_refused_with_a_message(world: World, login):
    closure = started(world)
    assess_all(world, closure)
    stale = current_hash(world)
    login("member").post(url(world, "closure-retrospective"), {"went_well": "Changé"})
    response = login("client_contact").post(
        url(world, "closure-approve"), {"analysis_hash": stale, "confirm": "on"}
    )
    assert response.status_code == 400
    assert "The analysis changed while you were reading it" in response.content.decode()


def test_french_page_says_bon_a_payer(world: World, login):
    closure = started(world)
    assess_all(world, closure)
    http = login("client_contact")
    http.cookies["django_language"] = "fr"
    body = http.get(url(world), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Bon à payer" in body


def test_closure_page_query_count_does_not_grow_with_data(world: World, login):
    closure = started(world)
    http = login("client_contact")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url(world)).status_code == 200
        return len(ctx.captured_queries)

    first = count()
    for i in range(5):
        objective_add(
            membership=world.owner,
            engagement=world.engagement,
            text=f"Objectif {i}",
            success_measure="Mesure",
        )
    assess_all(world, closure)
    for persona in ["owner", "member", "client_contact"]:
        services.retrospective_write(
            membership=getattr(world, persona),
            closure=closure,
            side="client" if persona == "client_contact" else "provider",
            went_well="Bien",
            to_improve="Mieux",
            lessons="Leçon",
        )
    assert count() == first


# PDF report --------------------------------------------------------------------------------


def test_pdf_report_holds_objectives_figures_retrospective_and_hash(world: World, login):
    closure = started(world)
    assess_all(world, closure)
    budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("12"),
        amount=Decimal("9999"),
        reason="Proposition signée",
    )
    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=1200),
    )
    services.retrospective_write(
        membership=world.client_contact,
        closure=closure,
        side=Side.CLIENT,
        went_well="Cœur de l'équipe très présent à chaque étape, ça a fonctionné",
        to_improve="",
        lessons="",
    )
    text = pdf_text(login("client_contact").get(url(world, "closure-report")))
    flat = " ".join(text.split())
    assert "Migrer la base clients sans interruption" in flat
    assert "Former l'équipe à la maintenance" in flat
    assert "Cœur de l'équipe très présent à chaque étape, ça a fonctionné" in flat
    assert "12.0" in flat and "2.5" in flat  # budget and consumed days
    assert current_hash(world) in flat
    assert "Not approved yet." in flat
    assert "9999" not in flat  # amounts are not part of the shared report
    assert "INTERNAL-NOTE" not in flat


def test_pdf_report_shows_the_approval_and_its_hash(world: World, login):
    closure = started(world)
    assess_all(world, closure)
    seen = current_hash(world)
    login("client_contact").post(
        url(world, "closure-approve"), {"analysis_hash": seen, "confirm": "on"}
    )
    flat = " ".join(pdf_text(login("owner").get(url(world, "closure-report"))).split())
    assert "Approved for payment by Carla Contact" in flat
    assert flat.count(seen) == 2  # the approved hash and the current one


def test_pdf_report_of_a_stopped_engagement_gives_the_reason_in_french(world: World, login):
    objectives(world)
    services.closure_start(
        membership=world.owner,
        engagement=world.engagement,
        outcome=Outcome.STOPPED_EARLY,
        reason="Arrêt décidé ensemble : priorités déplacées",
    )
    http = login("client_contact")
    http.cookies["django_language"] = "fr"
    flat = " ".join(pdf_text(http.get(url(world, "closure-report"))).split())
    assert "Arrêt décidé ensemble : priorités déplacées" in flat
    assert "Bon à payer" in flat


@pytest.mark.skipif(
    not (apps.is_installed("confiance.followup") and apps.is_installed("confiance.problems")),
    reason="commitments and problems sections need the follow-up and problems apps",
)
def test_pdf_report_lists_commitments_and_problems(world: World, login):
    from confiance.followup.services import commitment_create
    from confiance.problems.services import problem_raise

    started(world)
    commitment_create(
        membership=world.member,
        engagement=world.engagement,
        side="provider",
        owner=world.member.user,
        text="Livrer le plan de reprise",
        due_date=timezone.localdate() + timedelta(days=7),
    )
    problem_raise(
        membership=world.client_contact,
        engagement=world.engagement,
        title="Export nocturne en échec",
        severity="high",
    )
    flat = " ".join(pdf_text(login("client_contact").get(url(world, "closure-report"))).split())
    assert "Livrer le plan de reprise" in flat
    assert "Export nocturne en échec" in flat


def test_pdf_text_keeps_french_and_replaces_what_the_font_lacks() -> None:
    assert _clean("é è à ç œ Œ €") == "é è à ç œ Œ €"
    assert _clean("a < b & ✓") == "a &lt; b &amp; ?"
    assert _clean("ligne 1\nligne 2") == "ligne 1<br/>ligne 2"
