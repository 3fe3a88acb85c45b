"""Webhook fan-out: one event queued for 1, 10 and 100 endpoints (deliveries and their tasks
written), a logged time entry with and without subscribed endpoints, and signed deliveries sent
to a receiver on the loopback interface against a bare HTTP POST to it, all in this run."""

from __future__ import annotations

import threading
import urllib.request
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import rate, report


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def run(seconds: float = 3.0) -> None:
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from bench.generate import generate
    from confiance.consumption.services import EntryInput, time_entry_log
    from confiance.core.models import Membership, User
    from confiance.engagements.models import Engagement
    from confiance.webhooks import services
    from confiance.webhooks.models import WebhookDelivery, WebhookEndpoint

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on this machine
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    data = generate(workspaces=1, clients=1, engagements=1, members=3, slug_prefix="hooks")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=data.workspace_slugs[0], role="owner"
    )
    engagement = Engagement.objects.filter(workspace=owner.workspace).get()
    engagement.status = "active"
    engagement.save(update_fields=["status"])
    person = User.objects.filter(memberships__workspace=owner.workspace).first()
    assert person is not None

    def log() -> None:
        time_entry_log(
            membership=owner,
            engagement=engagement,
            item=EntryInput(person=person, date=date(2026, 10, 1), minutes=30),
        )

    def queue_one() -> None:
        with transaction.atomic():
            services.deliveries_create(
                workspace_id=owner.workspace_id,
                event_type="trust.alert",
                at=timezone.now(),
                data={"object": {"type": "bench", "id": "1"}},
            )

    rows: list[tuple[str, str]] = []
    log_bare = rate(log, seconds)
    rows.append(("log one time entry, no endpoint (baseline)", f"{log_bare:8.1f} /s"))
    made = 0
    fan: dict[int, float] = {}
    for endpoints in (1, 10, 100):
        while made < endpoints:
            services.endpoint_create(
                membership=owner,
                url=f"{url}?n={made}",
                event_types=["trust.alert", "time_entry.logged"],
            )
            made += 1
        fan[endpoints] = rate(queue_one, seconds)
        if endpoints == 10:
            with_hooks = rate(log, seconds)
            rows.append(
                (
                    "log one time entry, 10 endpoints subscribed",
                    f"{with_hooks:8.1f} /s   ratio {with_hooks / log_bare:.3f}",
                )
            )
    for endpoints, events in fan.items():
        rows.append(
            (
                f"fan-out to {endpoints} endpoint(s)",
                f"{events:8.1f} events/s   {events * endpoints:9.0f} deliveries queued/s",
            )
        )

    # Sending: the worker's attempt (sign, resolve and check the address, POST, record) against
    # a bare POST of the same body to the same receiver.
    WebhookEndpoint.objects.exclude(pk=WebhookEndpoint.objects.order_by("pk").first().pk).delete()  # type: ignore[union-attr]
    endpoint = WebhookEndpoint.objects.get()
    body = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    assert body is not None
    payload = body.body.encode()

    def bare_post() -> None:
        request = urllib.request.Request(url, data=payload, method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()

    def attempt() -> None:
        delivery = WebhookDelivery.objects.create(
            workspace_id=endpoint.workspace_id,
            endpoint=endpoint,
            message_id=body.message_id,
            event_type=body.event_type,
            body=body.body,
        )
        done = services.delivery_attempt(delivery_id=delivery.pk)
        assert done is not None and done.status == "succeeded", done and done.last_error

    bare = rate(bare_post, seconds)
    sent = rate(attempt, seconds)
    rows.append(("bare HTTP POST to the receiver (baseline)", f"{bare:8.1f} /s"))
    rows.append(("signed delivery attempt, recorded", f"{sent:8.1f} /s   ratio {sent / bare:.3f}"))
    server.shutdown()
    print("\nWebhooks (SQLite or BENCH_DATABASE_URL; the task queue's inserts included):")
    report(rows)
