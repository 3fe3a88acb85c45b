"""Reads of the common language and vision of an engagement the viewer sees."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from confiance import access
from confiance.alignment.models import GlossaryEntry, State, Vision
from confiance.core.models import Membership
from confiance.engagements.models import Engagement


@dataclass
class CommonGround:
    engagement: Engagement
    viewer_side: str | None  # None: reads only
    glossary: list[GlossaryEntry]  # agreed terms
    proposals: list[GlossaryEntry]  # awaiting the other side
    vision: Vision | None  # the agreed one
    vision_proposal: Vision | None  # awaiting the other side
    history: list[Vision]  # earlier agreed visions, newest first


def common_ground(*, fetched_by: Membership, engagement: Engagement) -> CommonGround:
    """The glossary and the shared vision, with what awaits an answer (a fixed few queries)."""
    if not access.can_see_alignment(fetched_by, engagement):
        raise Http404
    entries = list(
        GlossaryEntry.objects.filter(
            engagement=engagement, state__in=(State.AGREED, State.PROPOSED)
        ).select_related("proposed_by", "agreed_by")
    )
    visions = list(
        Vision.objects.filter(engagement=engagement)
        .exclude(state=State.WITHDRAWN)
        .select_related("proposed_by", "agreed_by")
    )
    return CommonGround(
        engagement=engagement,
        viewer_side=access.alignment_side(fetched_by, engagement),
        glossary=[e for e in entries if e.state == State.AGREED],
        proposals=[e for e in entries if e.state == State.PROPOSED],
        vision=next((v for v in visions if v.state == State.AGREED), None),
        vision_proposal=next((v for v in visions if v.state == State.PROPOSED), None),
        history=[v for v in visions if v.state == State.SUPERSEDED and v.agreed_at is not None],
    )


def glossary_entry(
    *, fetched_by: Membership, engagement: Engagement, entry_id: int
) -> GlossaryEntry:
    """One glossary entry of an engagement the viewer sees, or 404."""
    entry = GlossaryEntry.objects.filter(engagement=engagement, pk=entry_id).first()
    if entry is None or not access.can_see_alignment(fetched_by, engagement):
        raise Http404
    return entry


def vision_get(*, fetched_by: Membership, engagement: Engagement, vision_id: int) -> Vision:
    """One vision (agreed or proposed) of an engagement the viewer sees, or 404."""
    vision = Vision.objects.filter(engagement=engagement, pk=vision_id).first()
    if vision is None or not access.can_see_alignment(fetched_by, engagement):
        raise Http404
    return vision
