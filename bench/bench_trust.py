"""Trust model: one incremental update, a recompute over 100,000 facts, the portfolio page.

The portfolio is measured with 1,000 active engagements (each with its states, a snapshot and
some open alerts) against the bare view, with its query count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import peak_memory, rate, report


def _count(connection: Any, fn: Callable[[], Any]) -> int:
    """Queries run by `fn`, counted at the driver (independent of DEBUG and the query log)."""
    seen = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return len(seen)


def _appends(coalesced_id: int, baseline_id: int, slug: str, seconds: float) -> tuple[float, float]:
    """Time entries logged one by one (each a ledger append), per second, trust included: with
    the live update coalesced (trust/live.py: the burst queues one update, run once at the end)
    and, as the baseline, with a trust update after each append."""
    from django.utils import timezone

    from confiance.consumption.services import EntryInput, time_entry_log
    from confiance.core.models import Membership, Role
    from confiance.engagements.models import Engagement
    from confiance.trust.services import trust_update

    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=slug, role=Role.OWNER
    )
    today = timezone.localdate()

    def measure(engagement_id: int, each: bool) -> float:
        engagement = Engagement.objects.select_related("workspace", "lead").get(pk=engagement_id)
        trust_update(engagement=engagement)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            time_entry_log(
                membership=owner,
                engagement=engagement,
                item=EntryInput(person=owner.user, date=today, minutes=1),
            )
            count += 1
            if each:
                trust_update(engagement=engagement)
        if not each:
            trust_update(engagement=engagement)  # the one update the burst left pending
        return count / (time.perf_counter() - start)

    return measure(coalesced_id, each=False), measure(baseline_id, each=True)


def run(seconds: float = 3.0, engagements: int = 1000, facts: int = 100_000) -> None:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bench.generate import generate
    from confiance.core.models import User
    from confiance.engagements.models import Engagement
    from confiance.trust import indicators
    from confiance.trust.models import TrustAlert, TrustFact, TrustSnapshot, TrustState
    from confiance.trust.services import trust_recompute, trust_record_fact

    started = time.perf_counter()
    data = generate(workspaces=1, clients=20, engagements=engagements, members=5, slug_prefix="tb")
    workspace_slug = data.workspace_slugs[0]
    qs = Engagement.objects.filter(workspace__slug=workspace_slug)
    qs.update(status="active")
    ids = list(qs.values_list("pk", flat=True))
    workspace_id = qs.values_list("workspace_id", flat=True).first()
    now = timezone.now()
    states, snapshots, alerts = [], [], []
    day = timezone.localdate(now) - timedelta(days=7)
    for n, pk in enumerate(ids):
        for direction in indicators.DIRECTIONS:
            for dimension in indicators.DIMENSIONS:
                states.append(
                    TrustState(
                        workspace_id=workspace_id,
                        engagement_id=pk,
                        direction=direction,
                        dimension=dimension,
                        positive=n % 7,
                        negative=n % 3,
                        at=now,
                        last_fact_at=now,
                        facts=10,
                    )
                )
            snapshots.append(
                TrustSnapshot(
                    workspace_id=workspace_id,
                    engagement_id=pk,
                    day=day,
                    direction=direction,
                    dimension="overall",
                    belief=0.5,
                    disbelief=0.1,
                    uncertainty=0.4,
                    base_rate=0.5,
                    projected=0.7,
                )
            )
        if n % 5 == 0:
            alerts.append(
                TrustAlert(
                    workspace_id=workspace_id,
                    engagement_id=pk,
                    kind="drop",
                    direction="c2p",
                    reason="bench",
                    who_should_act="bench",
                )
            )
    TrustState.objects.bulk_create(states, batch_size=2000)
    TrustSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    TrustAlert.objects.bulk_create(alerts, batch_size=2000)
    print(
        f"Generated {engagements} active engagements with trust in "
        f"{time.perf_counter() - started:.1f} s"
    )

    # -- one incremental update (a new fact: insert + O(1) state update) ----------------------
    engagement = Engagement.objects.select_related("workspace").get(pk=ids[0])
    counter = iter(range(10**9))

    def one_update() -> None:
        i = next(counter)
        trust_record_fact(
            engagement=engagement,
            fact=indicators.Fact(
                "time_logged_promptly", now, 1.0, 0.0, "bench", "", "bench", f"u{i}"
            ),
        )

    updates = rate(one_update, seconds)

    # -- recompute of an engagement with 100,000 facts (streaming) -----------------------------
    big = Engagement.objects.select_related("workspace").get(pk=ids[1])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    keys = [i.key for i in indicators.INDICATORS]
    rows = []
    for i in range(facts):
        key = keys[i % len(keys)]
        ind = indicators.BY_KEY[key]
        rows.append(
            TrustFact(
                workspace_id=workspace_id,
                engagement=big,
                direction=ind.direction,
                dimension=ind.dimension,
                indicator=key,
                at=start + timedelta(minutes=7 * i),
                positive=(i % 3) * 0.5,
                negative=(i % 5 == 0) * 1.0,
                label="bench fact",
                source_type="bench",
                source_id=str(i),
            )
        )
        if len(rows) == 5000:
            TrustFact.objects.bulk_create(rows)
            rows = []
    TrustFact.objects.bulk_create(rows)
    del rows
    t0 = time.perf_counter()
    trust_recompute(engagement=big)
    recompute_s = time.perf_counter() - t0
    # Memory measured on a second run: tracemalloc slows Python down several times.
    _, peak_mb = peak_memory(lambda: trust_recompute(engagement=big))

    # Baseline: a bare streaming read of the same facts (the recompute's query, no arithmetic).
    def bare_read() -> int:
        rows = (
            TrustFact.objects.filter(engagement=big)
            .order_by("at", "id")
            .values_list("direction", "dimension", "positive", "negative", "at")
        )
        return sum(1 for _row in rows.iterator(chunk_size=5000))

    t0 = time.perf_counter()
    bare_read()
    read_s = time.perf_counter() - t0
    _, read_mb = peak_memory(bare_read)

    # -- appends (time entries, ledgered) with the coalesced live update -------------------------
    appends, one_by_one = _appends(ids[2], ids[3], workspace_slug, seconds)

    # -- portfolio page vs bare view -------------------------------------------------------------
    http = Client()
    http.force_login(User.objects.get(email=data.member_emails[0]))
    url = f"/w/{workspace_slug}/trust/"
    trust_url = f"/w/{workspace_slug}/engagements/{ids[1]}/trust/"
    for target in (url, trust_url, "/bench/bare/"):
        assert http.get(target).status_code == 200, target
    queries, page_queries = (
        _count(connection, lambda: http.get(url)),
        _count(connection, lambda: http.get(trust_url)),
    )
    bare = rate(lambda: http.get("/bench/bare/"), seconds)
    portfolio = rate(lambda: http.get(url), seconds)
    trust_page = rate(lambda: http.get(trust_url), seconds)
    print(f"\nTrust: {engagements} active engagements; one engagement with {facts:,} facts:")
    report(
        [
            ("one incremental update (trust_record_fact)", f"{updates:8.0f} /s"),
            (
                "appends, one trust update after each (baseline)",
                f"{one_by_one:8.1f} /s",
            ),
            (
                "appends, coalesced update (one pending per engagement)",
                f"{appends:8.1f} /s   ratio {appends / one_by_one:.2f}",
            ),
            (
                f"bare streaming read of the {facts:,} facts (baseline)",
                f"{read_s:8.2f} s   peak Python memory {read_mb:.1f} MB",
            ),
            (
                f"recompute from {facts:,} facts (streaming)",
                f"{recompute_s:8.2f} s   peak Python memory {peak_mb:.1f} MB   "
                f"ratio {recompute_s / read_s:.2f}",
            ),
            ("bare Django view (baseline)", f"{bare:8.0f} req/s"),
            ("trust portfolio page", f"{portfolio:8.1f} req/s   ratio {portfolio / bare:.4f}"),
            ("queries per portfolio request", f"{queries}"),
            (
                f"engagement trust page ({facts:,} facts)",
                f"{trust_page:8.1f} req/s   ratio {trust_page / bare:.4f}",
            ),
            ("queries per engagement trust page", f"{page_queries}"),
        ]
    )
