"""`{% ledger_info engagement membership as ledger %}`: what the Ledger section shows."""

from __future__ import annotations

from typing import Any

from django import template

from confiance.core.models import Membership
from confiance.core.queries import Prepared, build_all, columns
from confiance.engagements.models import Engagement
from confiance.ledger import selectors, services, witnessing
from confiance.ledger.models import Witness

register = template.Library()

# Compiled once per process (core.queries.Prepared): read on every view of the page.
_WITNESSES = Prepared(
    lambda engagement_id: (
        Witness.objects.filter(engagement_id=engagement_id)
        .order_by("created_at", "pk")
        .values_list(*columns(Witness))
    ),
    engagement_id=int,
)


def _witnesses(engagement: Engagement) -> list[Witness]:
    return build_all(Witness, _WITNESSES.rows(engagement_id=engagement.pk))


@register.simple_tag
def ledger_info(engagement: Engagement, membership: Membership) -> dict[str, Any]:
    """The log's origin and keys, its witnesses (with their warnings), and who may add one."""
    witnesses = _witnesses(engagement)
    side = "client" if witnessing.access.is_client_of(membership, engagement) else "provider"
    keys = services.log_keys(engagement=engagement)
    return {
        "origin": keys.origin,
        "log_key": keys.log_key,
        "workspace_key": keys.workspace_key,
        "witnesses": witnesses,
        "rotations": selectors.key_rotations(engagement=engagement, any_retired=keys.any_retired),
        "witness_warnings": [w for w in witnesses if w.last_error],
        "can_manage_witnesses": witnessing.can_manage_witnesses(membership, engagement),
        "side": side,
    }
