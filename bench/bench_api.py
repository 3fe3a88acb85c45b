"""API list endpoints at 100,000 entries: time entries (first page and a deep cursor page),
problems and notices, with their queries per request, against the bare view."""

from __future__ import annotations

import time
from datetime import timedelta

from bench.common import rate, report


def run(seconds: float = 3.0, entries: int = 100_000) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.generate import generate
    from confiance.consumption.services import EntryInput, time_entries_log
    from confiance.core.models import Membership, User
    from confiance.core.services import api_token_create
    from confiance.engagements.models import Engagement

    data = generate(workspaces=1, clients=2, engagements=3, members=10, slug_prefix="api")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=data.workspace_slugs[0], role="owner"
    )
    engagement = Engagement.objects.filter(workspace=owner.workspace).first()
    assert engagement is not None
    engagement.status = "active"
    engagement.save(update_fields=["status"])
    people = list(User.objects.filter(memberships__workspace=owner.workspace))
    _, token = api_token_create(membership=owner, name="bench", scope="write")
    http = Client(headers={"Authorization": f"Bearer {token}"})
    base = f"/api/v1/engagements/{engagement.pk}"
    today = timezone.localdate()

    def measure(url: str) -> tuple[float, int]:
        assert http.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        count = len(queries)
        return rate(lambda: http.get(url), seconds), count

    small = measure(f"{base}/entries")
    started = time.perf_counter()
    batch = 5000
    for start in range(0, entries, batch):
        items = [
            EntryInput(
                person=people[i % len(people)],
                date=today - timedelta(days=(i * 7) % 700),
                minutes=30 + (i % 8) * 30,
                shared_note=f"entry {i}",
            )
            for i in range(start, min(entries, start + batch))
        ]
        time_entries_log(membership=owner, engagement=engagement, items=items)
    print(f"Logged {entries} entries in {time.perf_counter() - started:.1f} s")

    # A cursor 100 pages in (5,000 entries deep): keyset paging, no OFFSET scan.
    url: str = f"{base}/entries?page_size=50"
    for _ in range(100):
        url = http.get(url).json()["next"].split("testserver", 1)[-1]
    bare = rate(lambda: Client().get("/bench/bare/"), seconds)
    first = measure(f"{base}/entries")
    deep = measure(url)
    filtered = measure(
        f"{base}/entries?person_id={people[0].pk}&date_from={today - timedelta(days=60)}"
    )
    print(f"\nAPI lists (owner's token, 50 a page), engagement with {entries} entries:")
    rows = [("bare Django view (baseline)", f"{bare:8.1f} req/s")]
    for label, (r, q) in [
        ("entries, empty engagement", small),
        ("entries, first page", first),
        ("entries, page 101 by cursor", deep),
        ("entries, filtered by person and dates", filtered),
    ]:
        rows.append((label, f"{r:8.1f} req/s   ratio {r / bare:.4f}   {q} queries"))
    report(rows)
