"""The client as a full participant, in a real browser, in French: at each step the client is
told (notice and e-mail in their language), and answers: contests a commitment marked broken,
asks to stop, approves with open items acknowledged, and sees what voided the approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from confiance.alignment.services import glossary_propose as propose
from confiance.closure import services as closure
from confiance.closure.models import Attainment, ClosureApproval
from confiance.core.models import Notice
from confiance.engagements import stops
from confiance.engagements.models import StopRequest
from confiance.followup import services as followup
from confiance.followup.models import FactReview, ReviewState
from confiance.problems.services import problem_raise
from tests.browser.conftest import shot
from tests.closure.support import objectives
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _mail_to(email: str) -> list:  # type: ignore[type-arg]
    return [m for m in mail.outbox if m.to == [email]]


def _last_subject(email: str) -> str:
    return _mail_to(email)[-1].subject


def test_the_client_is_told_in_french_and_answers_through_a_whole_engagement(page, world) -> None:  # type: ignore[no-untyped-def]
    contact = world.client_contact.user
    email = contact.email
    ws, pk = world.workspace.slug, world.engagement.pk
    base = f"{page.base}/w/{ws}/engagements/{pk}"
    page.set_default_timeout(30_000)  # a long journey on a busy machine
    page.set_default_navigation_timeout(30_000)

    # The client logs in and chooses French: their notices and e-mails follow.
    page.goto(page.base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Language").select_option("fr")
    page.locator("html[lang=fr]").wait_for()
    contact.refresh_from_db()
    assert contact.language == "fr"

    # 1. A meeting where the client is expected: a notice, an e-mail in French, an invitation.
    followup.meeting_create(
        membership=world.member,
        engagement=world.engagement,
        title="Comité de pilotage",
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=60,
        channel="video",
        attendees=[world.member.user, contact],
    )
    invite = _mail_to(email)[-1]
    assert "vous êtes attendu(e) à « Comité de pilotage »" in invite.subject
    assert invite.attachments and "method=REQUEST" in invite.attachments[0][2]
    page.goto(f"{page.base}/w/{ws}/notices/")
    page.get_by_text("vous êtes attendu(e) à « Comité de pilotage »").wait_for()

    # 2. The provider marks the client's commitment broken; the client contests it.
    commitment = followup.commitment_create(
        membership=world.client_contact,
        engagement=world.engagement,
        side="client",
        owner=contact,
        text="Fournir le jeu de données de test",
        due_date=timezone.localdate() + timedelta(days=5),
    )
    followup.commitment_set_status(membership=world.member, commitment=commitment, status="broken")
    assert "a enregistré à votre sujet" in _last_subject(email)
    page.goto(f"{base}/followup/#reviews")
    review = FactReview.objects.get()
    item = page.get_by_test_id(f"review-{review.pk}")
    item.get_by_label("Pourquoi vous le contestez").fill("Le jeu de données a été envoyé le 2")
    item.get_by_role("button", name="Contester").click()
    page.get_by_text("Contesté : les deux parties le voient").wait_for()
    shot(page, "client-contests-a-broken-commitment")
    review.refresh_from_db()
    assert review.state == ReviewState.CONTESTED
    assert Notice.objects.filter(user=world.member.user, kind="review.contested").exists()

    # 3. The client asks to stop early; the provider declines, with its reason.
    page.goto(f"{base}/")
    page.get_by_text("Demander un arrêt anticipé").first.click()
    page.get_by_label("Pourquoi vous demandez un arrêt anticipé").fill("Budget gelé")
    page.get_by_role("button", name="Demander un arrêt anticipé").click()
    page.get_by_text("Votre demande est envoyée").wait_for()
    request = StopRequest.objects.get()
    assert Notice.objects.filter(user=world.owner.user, kind="engagement.stop_requested").exists()
    stops.stop_request_answer(
        membership=world.member,
        stop_request=request,
        accept=False,
        answer="Il reste deux semaines : finissons la migration",
    )
    assert "a refusé l'arrêt anticipé" in _last_subject(email)
    assert "finissons la migration" in _mail_to(email)[-1].body

    # 4. A proactive problem, then the closure analysis awaits the client's approval.
    problem = problem_raise(
        membership=world.member,
        engagement=world.engagement,
        title="Export des archives incomplet",
        severity="medium",
    )
    assert "avant que vous ayez à le faire" in _last_subject(email)
    # The client works on it too: a comment with a file, which the provider is told of.
    page.goto(f"{base}/problems/{problem.pk}/")
    page.get_by_label("Commentaire (lu par les deux parties)").fill("Il manque l'année 2019")
    page.get_by_label("Joindre un fichier (facultatif)").set_input_files(
        files=[{"name": "manquants.csv", "mimeType": "text/csv", "buffer": b"annee\n2019\n"}]
    )
    page.get_by_role("button", name="Ajouter le commentaire").click()
    page.get_by_role("link", name="manquants.csv").wait_for()
    assert Notice.objects.filter(user=world.owner.user, kind="problem.commented").exists()
    # ...and agrees, in French, to the meaning the provider proposed for a word they share.
    propose(
        membership=world.member,
        engagement=world.engagement,
        term="Lot",
        meaning="Un ensemble de dossiers migrés ensemble",
    )
    assert "propose un sens pour « Lot »" in _last_subject(email)
    page.goto(f"{base}/common/")
    page.get_by_role("button", name="Accepter", exact=True).click()
    page.get_by_text("Accord donné : le terme est désormais commun.").wait_for()
    started = closure.closure_start(
        membership=world.owner, engagement=world.engagement, outcome="completed"
    )
    first, second = objectives(world)
    for objective, attainment in ((first, Attainment.ATTAINED), (second, Attainment.PARTLY)):
        closure.objective_assess(
            membership=world.member,
            closure=started,
            objective=objective,
            attainment=attainment,
            evidence=f"Constaté : {objective.success_measure}",
        )
    assert "attend votre bon à payer" in _last_subject(email)

    # The approval, after the analysis: confirmed, with the open problem acknowledged.
    page.goto(f"{base}/closure/")
    open_items = page.get_by_test_id("open-items")
    assert "Export des archives incomplet" in open_items.inner_text()
    confirm = page.get_by_label("J'ai lu l'analyse et les deux rétrospectives")
    acknowledge = page.get_by_label("Je sais que ces problèmes et engagements pris")
    # The browser itself refuses the form until both are ticked (and the server re-checks).
    page.get_by_role("button", name="Donner le bon à payer").click()
    assert ClosureApproval.objects.count() == 0
    confirm.check()
    acknowledge.check()
    page.get_by_role("button", name="Donner le bon à payer").click()
    page.get_by_text("Bon à payer donné").first.wait_for()
    assert ClosureApproval.objects.count() == 1

    # 5. The provider changes the analysis: the approval is void, and the client sees why.
    closure.objective_assess(
        membership=world.member,
        closure=started,
        objective=first,
        attainment=Attainment.PARTLY,
        evidence="Une coupure de 4 minutes",
    )
    voided = _mail_to(email)[-1]
    assert "votre bon à payer est caduc" in voided.subject
    assert f"Objectif « {first.text} » : Atteint → Partiellement atteint" in voided.body
    page.goto(f"{base}/closure/")
    diff = page.get_by_test_id("approval-diff")
    assert "Atteint → Partiellement atteint" in diff.inner_text()
    shot(page, "client-sees-what-voided-the-approval")
    # Every e-mail the client received on the way was in French.
    assert all("Confiance vous écrit" in m.body for m in _mail_to(email))
