"""An open trust alert on world.engagement, for the URL access table and view tests."""

from __future__ import annotations

from confiance.trust.models import TrustAlert
from tests.conftest import World


def an_alert(world: World) -> int:
    """The id of an open "commitment overdue" alert on world.engagement (one per world)."""
    alert, _created = TrustAlert.objects.get_or_create(
        engagement=world.engagement,
        kind="commitment_overdue",
        direction="c2p",
        closed_at=None,
        defaults={
            "workspace": world.workspace,
            "reason": "%(n)s commitment(s) of ours past their due date.",
            "reason_params": {"n": 1},
            "who_should_act": "Olivia Owner",
        },
    )
    return alert.pk
