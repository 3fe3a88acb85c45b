"""Demo: an opportunity of Hôpital Saint-Roch opened to an invited expert and the client.

Claire opens the need, invites Nadia (an expert of her network) and Sophie (the client's
contact); they discuss, a role is proposed, Nadia puts herself forward and Hugo endorses her;
the discussion is converging. Nadia, who sees no engagement, lands on it.
"""

from __future__ import annotations

from confiance.core.models import Membership
from confiance.emergence import services as emergence
from confiance.emergence.models import Opportunity, Phase
from confiance.engagements.models import Engagement


def build_emergence_demo(
    *,
    engagement: Engagement,
    owner: Membership,
    consultant: Membership,
    expert: Membership,
    client: Membership,
) -> Opportunity:
    """An opportunity for the migration's client, with its discussion, a role and a nomination."""
    opportunity = emergence.opportunity_open(
        membership=owner,
        title="Plateforme de données des urgences / ER data platform",
        client=engagement.client,
        client_problem=(
            "The emergency department cannot see its waiting times as they happen. "
            "Les urgences ne voient pas leurs temps d'attente en temps réel."
        ),
        client_solution_idea="A dashboard fed by the new patient record / Un tableau de bord.",
        provider_interpretation="First a data platform, then the dashboard on top of it.",
    )
    emergence.opportunity_invite(
        membership=owner,
        opportunity=opportunity,
        email=expert.user.email,
        introduction="Nadia built the regional ER data hub / Nadia a bâti l'entrepôt régional.",
    )
    emergence.opportunity_invite_client(
        membership=owner, opportunity=opportunity, email=client.user.email
    )
    emergence.opportunity_invite(
        membership=owner, opportunity=opportunity, email=consultant.user.email
    )
    for person in (expert, client, consultant):
        emergence.participant_join(membership=person, opportunity=opportunity)
    emergence.post_create(
        membership=client,
        opportunity=opportunity,
        body="Our nurses need the waiting time per triage level, every 5 minutes. / "
        "Le temps d'attente par niveau de tri, toutes les 5 minutes.",
    )
    emergence.post_create(
        membership=expert,
        opportunity=opportunity,
        body="The new patient record already emits admission events: we can stream them "
        "rather than copy tables. / Le nouveau dossier émet déjà les événements d'admission.",
    )
    emergence.post_create(
        membership=consultant,
        opportunity=opportunity,
        body="Agreed; we know that record from the migration. / D'accord, nous connaissons "
        "ce dossier depuis la migration.",
    )
    slot = emergence.slot_propose(
        membership=owner,
        opportunity=opportunity,
        title="Data architect / Architecte données",
        days=20,
        description="Design the event stream and the data platform.",
    )
    nomination = emergence.nomination_create(
        membership=expert,
        slot=slot,
        statement="I designed the regional hub's event stream. / J'ai conçu le flux régional.",
    )
    emergence.endorsement_add(
        membership=consultant, nomination=nomination, word="Nadia knows the hospital's data."
    )
    emergence.phase_move(
        membership=owner,
        opportunity=opportunity,
        to_phase=Phase.CONVERGING,
        reason="The need is clear; the team is forming. / Le besoin est clair.",
    )
    return opportunity
