"""The consumption page at 1,000 and at 100,000 entries, against the bare view, in one run.

The page reads the rollups of the ledgered facts (maintained on every append), so its cost and
its query count should not grow with the entries; logging reads the running totals, so its
cost per entry should not grow either. Both are printed with their growth.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bench.common import rate, report

SIZES = [int(n) for n in os.environ.get("BENCH_CONSUMPTION_SIZES", "1000,100000").split(",")]


def run(seconds: float = 3.0) -> None:
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
    url = f"/w/{owner.workspace.slug}/engagements/{engagement.pk}/consumption/"

    def page_rate() -> tuple[float, int]:
        http = Client()
        http.force_login(owner.user)
        assert http.get(url).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        count = len(queries)  # read now: the next request resets the query log
        return rate(lambda: http.get(url), seconds), count

    def log_until(total: int, done: int) -> float:
        """Log entries up to `total`; the seconds per 1,000 entries it took."""
        started = time.perf_counter()
        batch = 5000
        for start in range(done, total, batch):
            items = [
                EntryInput(
                    person=people[i % len(people)],
                    date=today - timedelta(days=(i * 7) % 700),
                    minutes=30 + (i % 8) * 30,
                    shared_note=f"entry {i}",
                )
                for i in range(start, min(total, start + batch))
            ]
            time_entries_log(membership=owner, engagement=engagement, items=items)
        return (time.perf_counter() - started) / max(1, total - done) * 1000

    def one_entry_ms() -> float:
        started = time.perf_counter()
        for _ in range(20):
            time_entries_log(
                membership=owner,
                engagement=engagement,
                items=[EntryInput(person=people[0], date=today, minutes=30)],
            )
        return (time.perf_counter() - started) / 20 * 1000

    http = Client()
    bare = rate(lambda: http.get("/bench/bare/"), seconds)
    rows: list[tuple[str, str]] = [("bare Django view (baseline)", f"{bare:8.1f} req/s")]
    done = 0
    measured = []
    for size in SIZES:
        per_thousand = log_until(size, done)
        done = size
        page, queries = page_rate()
        single = one_entry_ms()
        done += 20
        measured.append((size, page, queries, single))
        rows += [
            (
                f"consumption page, {size:,} entries",
                f"{page:8.1f} req/s   ratio {page / bare:.4f}   {queries} queries",
            ),
            (f"log one entry at {size:,} entries", f"{single:8.2f} ms"),
            (f"  (bulk logging up to {size:,})", f"{per_thousand:8.0f} ms per 1,000 entries"),
        ]
    if len(measured) > 1:
        first, last = measured[0], measured[-1]
        rows.append(
            (
                f"growth {first[0]:,} -> {last[0]:,} entries",
                f"page rate x{last[1] / first[1]:.2f}, queries {first[2]} -> {last[2]}, "
                f"one entry x{last[3] / first[3]:.2f}",
            )
        )
    print("\nConsumption page of one engagement (owner's view, 50 entries a page):")
    report(rows)
