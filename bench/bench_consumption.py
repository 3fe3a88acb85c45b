"""The consumption page of an engagement with 100,000 entries, against the bare view."""

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
    from confiance.consumption.services import EntryInput, budget_revise, time_entries_log
    from confiance.core.models import Membership, User
    from confiance.engagements.models import Engagement

    data = generate(workspaces=1, clients=2, engagements=3, members=10, slug_prefix="cons")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=data.workspace_slugs[0], role="owner"
    )
    engagement = Engagement.objects.filter(workspace=owner.workspace).first()
    engagement.status = "active"
    engagement.save(update_fields=["status"])
    people = list(User.objects.filter(memberships__workspace=owner.workspace))
    budget_revise(membership=owner, engagement=engagement, days=200000, amount=None, reason="bench")
    today = timezone.localdate()

    def page_rate(label: str) -> tuple[float, int]:
        http = Client()
        http.force_login(owner.user)
        url = f"/w/{owner.workspace.slug}/engagements/{engagement.pk}/consumption/"
        assert http.get(url).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        count = len(queries)  # read now: the next request resets the query log
        return rate(lambda: http.get(url), seconds), count

    started = time.perf_counter()
    small_rate, small_queries = page_rate("100")
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
    print(
        f"Logged {entries} entries (with their ledger leaves) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    http = Client()
    bare = rate(lambda: http.get("/bench/bare/"), seconds)
    big_rate, big_queries = page_rate(str(entries))
    print("\nConsumption page of one engagement (owner's view, 50 entries a page):")
    report(
        [
            ("bare Django view (baseline)", f"{bare:8.1f} req/s"),
            (
                "consumption page, empty engagement",
                f"{small_rate:8.1f} req/s   ratio {small_rate / bare:.4f}",
            ),
            (
                f"consumption page, {entries} entries",
                f"{big_rate:8.1f} req/s   ratio {big_rate / bare:.4f}",
            ),
            ("queries per page (empty / full)", f"{small_queries} / {big_queries}"),
        ]
    )
