"""Objects for the URL-by-role test: an endpoint of the test workspace, one of its deliveries."""

from __future__ import annotations

from typing import Any

from confiance.webhooks import services
from tests.conftest import World


def endpoint_id(w: World) -> int:
    # Never contacted in these tests: the delivery is queued after a commit that never comes.
    return services.endpoint_create(
        membership=w.owner, url="https://hooks.example/confiance", event_types=["trust.alert"]
    ).pk


def delivery_id(w: World) -> int:
    return services.endpoint_ping(membership=w.owner, endpoint_id=endpoint_id(w)).pk


def page(w: World) -> dict[str, Any]:
    return {"ws": w.workspace.slug, "pk": endpoint_id(w)}
