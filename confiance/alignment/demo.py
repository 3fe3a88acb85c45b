"""Demo: the patient record migration's common language and vision, written by both sides."""

from __future__ import annotations

from confiance.alignment import services
from confiance.core.models import Membership
from confiance.engagements.models import Engagement


def build_alignment_demo(
    *, engagement: Engagement, consultant: Membership, client: Membership
) -> None:
    """A shared vision the client proposed and the provider accepted; a glossary with an agreed
    term and a proposal still awaiting the client."""
    vision = services.vision_propose(
        membership=client,
        engagement=engagement,
        problem=(
            "Patient records live in three systems that disagree. "
            "Les dossiers patients vivent dans trois systèmes qui se contredisent."
        ),
        outcome="One record per patient, no loss / Un dossier par patient, sans perte",
        success=(
            "Every record reconciled, the old systems switched off / Chaque dossier rapproché, "
            "les anciens systèmes arrêtés"
        ),
    )
    services.vision_agree(membership=consultant, vision=vision)
    lot = services.glossary_propose(
        membership=consultant,
        engagement=engagement,
        term="Lot",
        meaning="Records migrated together and reconciled together / Dossiers migrés ensemble",
    )
    services.glossary_agree(membership=client, entry=lot)
    services.glossary_propose(
        membership=client,
        engagement=engagement,
        term="Dossier actif",
        meaning="A visit in the last five years / Une visite depuis moins de cinq ans",
    )
