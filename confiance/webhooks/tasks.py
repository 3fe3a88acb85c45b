"""Background tasks of webhooks: one attempt of one delivery (retries are queued by it)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(delivery_id: int) -> None:
    """Send a delivery once; on failure the service queues the next attempt, later."""
    from confiance.webhooks.services import delivery_attempt

    delivery_attempt(delivery_id=delivery_id)
