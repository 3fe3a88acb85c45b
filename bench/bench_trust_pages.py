"""What the trust pages, the portfolios, an inclusion proof and the bare page cost in process.

A workspace of 1,000 active engagements with their trust states (and summary rows), a month of
daily snapshots and some open alerts; one engagement filled with entries through the services
(BENCH_TRUST_PAGES_ENTRIES, default 5,000) and its trust updated. Each page is fetched through
the Django test client for about `seconds`: CPU time of the process per request (p50; what a
page costs a server's core, little affected by other work on the machine), wall time (p50) and
queries per request. The baselines of the same run: the bare view (no session, no database) and
a bare workspace page (log-in, membership, navigation and the base template, nothing else):
what every page pays.

    python bench/bench_trust_pages.py [--reuse] [--seconds 3] [--profile LABEL]

--reuse keeps bench/bench_trust_pages.sqlite3 between runs (generated once, ~1 min);
--profile prints the cProfile of one page's requests instead of the table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, report

ENGAGEMENTS = 1000
ENTRIES = int(os.environ.get("BENCH_TRUST_PAGES_ENTRIES", "5000"))
SLUG = "tp-0"
SNAPSHOT_DAYS = 30


def _prepare() -> dict[str, Any]:
    """The data (generated unless already there), the people and the pages' addresses."""
    from confiance.core.models import Membership, Role, User
    from confiance.engagements.models import Engagement

    if not Engagement.objects.filter(workspace__slug=SLUG).exists():
        _generate()
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=SLUG, role=Role.OWNER
    )
    client = Membership.objects.select_related("user").get(workspace__slug=SLUG, role=Role.CLIENT)
    big = Engagement.objects.filter(workspace__slug=SLUG).order_by("pk").first()
    assert big is not None
    from confiance.core.services import api_token_create

    _token, plaintext = api_token_create(membership=owner, name="bench")
    base = f"/w/{SLUG}"
    return {
        "owner": owner.user,
        "client": User.objects.get(pk=client.user_id),
        "token": plaintext,
        "pages": {
            "bare view (no session)": (None, "/bench/bare/", {}),
            "bare workspace page (owner)": ("owner", f"{base}/bench/page/", {}),
            "bare workspace page (client)": ("client", f"{base}/bench/page/", {}),
            "trust page (owner)": ("owner", f"{base}/engagements/{big.pk}/trust/", {}),
            "trust page (client)": ("client", f"{base}/engagements/{big.pk}/trust/", {}),
            "trust portfolio (owner)": ("owner", f"{base}/trust/", {}),
            "portfolio (owner)": ("owner", f"{base}/portfolio/", {}),
            "inclusion proof, API token": (
                None,
                f"/api/v1/engagements/{big.pk}/ledger/entries/{ENTRIES // 2}",
                {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"},
            ),
            "inclusion proof, session (client)": (
                "client",
                f"/api/v1/engagements/{big.pk}/ledger/entries/{ENTRIES // 2}",
                {},
            ),
        },
    }


def _generate() -> None:
    from decimal import Decimal

    from django.utils import timezone

    from bench.bench_scale import _fill
    from bench.generate import generate
    from confiance.consumption.services import budget_revise
    from confiance.core.models import Client, Membership, Role, User
    from confiance.core.services import membership_add, user_create
    from confiance.engagements.models import Engagement
    from confiance.trust import indicators
    from confiance.trust.models import TrustAlert, TrustSnapshot, TrustState, TrustSummary
    from confiance.trust.services import trust_update
    from confiance.trust.summaries import summaries_fill

    started = time.perf_counter()
    generate(workspaces=1, clients=5, engagements=ENGAGEMENTS, members=5, slug_prefix="tp")
    qs = Engagement.objects.filter(workspace__slug=SLUG)
    qs.update(status="active")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=SLUG, role=Role.OWNER
    )
    big = qs.order_by("pk").select_related("workspace", "client", "lead").first()
    assert big is not None
    contact = user_create(email="client@tp.test", password="bench", full_name="Client Contact")
    membership_add(
        by=owner, user=contact, role=Role.CLIENT, client=Client.objects.get(pk=big.client_id)
    )
    # Every other engagement: states, a month of daily snapshots, an open alert one in five.
    ids = list(qs.exclude(pk=big.pk).values_list("pk", flat=True))
    now = timezone.now()
    day = timezone.localdate(now)
    states, snapshots, alerts = [], [], []
    for n, pk in enumerate(ids):
        for direction in indicators.DIRECTIONS:
            for dimension in indicators.dimensions_of(direction):
                states.append(
                    TrustState(
                        workspace_id=owner.workspace_id,
                        engagement_id=pk,
                        direction=direction,
                        dimension=dimension,
                        positive=n % 7,
                        negative=n % 3,
                        at=now - timedelta(days=n % 30),
                        last_fact_at=now,
                        facts=10,
                    )
                )
            # One overall snapshot a day, as the daily job writes them: the trend's window.
            snapshots += [
                TrustSnapshot(
                    workspace_id=owner.workspace_id,
                    engagement_id=pk,
                    day=day - timedelta(days=d),
                    direction=direction,
                    dimension="overall",
                    belief=0.5,
                    disbelief=0.1,
                    uncertainty=0.4,
                    base_rate=0.5,
                    projected=0.5 + ((n + d) % 40) / 100,
                )
                for d in range(SNAPSHOT_DAYS)
            ]
        if n % 5 == 0:
            alerts.append(
                TrustAlert(
                    workspace_id=owner.workspace_id,
                    engagement_id=pk,
                    kind="drop",
                    direction="c2p",
                    reason="bench",
                    who_should_act="bench",
                    assignee=owner.user if n % 10 == 0 else None,
                    snoozed_until=now + timedelta(days=3) if n % 15 == 0 else None,
                )
            )
    TrustState.objects.bulk_create(states, batch_size=2000)
    # The portfolio's one row per engagement, as the trust refresh writes it with the states.
    summaries_fill(TrustState, TrustSummary, engagement_ids=ids)
    TrustSnapshot.objects.bulk_create(snapshots, batch_size=2000)
    TrustAlert.objects.bulk_create(alerts, batch_size=2000)
    budget_revise(
        membership=owner, engagement=big, days=Decimal(90000), amount=None, reason="bench"
    )
    people = list(
        User.objects.filter(
            memberships__workspace=owner.workspace, memberships__role__in=("owner", "member")
        )
    )
    _fill(owner, big, people, 0, ENTRIES)
    trust_update(engagement=big)
    print(f"Generated in {time.perf_counter() - started:.0f} s")


def _measure(
    fetch: Callable[[], Any], seconds: float, at_least: int = 15
) -> tuple[float, float, int]:
    """p50 CPU ms, p50 wall ms and queries of one request."""
    from django.db import connection

    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    for _ in range(3):
        fetch()
    with connection.execute_wrapper(wrapper):
        fetch()
    queries = len(seen)
    cpu: list[float] = []
    wall: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(cpu) < at_least or time.perf_counter() < deadline:
        c0, w0 = time.process_time(), time.perf_counter()
        fetch()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    cpu.sort()
    wall.sort()
    return cpu[len(cpu) // 2] * 1000, wall[len(wall) // 2] * 1000, queries


def _fetcher(clients: dict[str | None, Any], who: str | None, path: str, extra: dict) -> Any:
    client = clients[who]

    def fetch() -> Any:
        response = client.get(path, **extra)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response

    return fetch


def run(seconds: float = 3.0, profile: str | None = None, only: list[str] | None = None) -> None:
    from django.test import Client

    data = _prepare()
    clients: dict[str | None, Any] = {None: Client()}
    for who in ("owner", "client"):
        clients[who] = Client()
        clients[who].force_login(data[who])
    if profile:
        import cProfile
        import pstats

        who, path, extra = data["pages"][profile]
        fetch = _fetcher(clients, who, path, extra)
        for _ in range(3):
            fetch()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(20):
            fetch()
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(30)
        return
    rows = []
    for label, (who, path, extra) in data["pages"].items():
        if only and not any(o in label for o in only):
            continue
        cpu, wall, queries = _measure(_fetcher(clients, who, path, extra), seconds)
        rows.append(
            (label, f"CPU p50 {cpu:7.2f} ms   wall p50 {wall:7.2f} ms   {queries:3d} queries")
        )
    print(
        f"\nIn process, {ENGAGEMENTS:,} active engagements, {ENTRIES:,} entries in one "
        f"(load average {os.getloadavg()[0]:.1f}):"
    )
    report(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reuse", action="store_true", help="keep the generated database")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", help="a page's label: print its profile")
    parser.add_argument("--only", nargs="*", help="pages whose label contains one of these")
    args = parser.parse_args()
    from bench import common

    # A proof takes about 1.3 ms in process: the default 600/min would refuse most of a run. A
    # high limit keeps the limiter's own work in the measure.
    os.environ.setdefault("API_RATE_LIMIT", "1000000/min")
    if "BENCH_DATABASE_URL" not in os.environ:
        common.DB_PATH = ROOT / "bench" / "bench_trust_pages.sqlite3"
    common.setup_django(fresh=not args.reuse)
    run(seconds=args.seconds, profile=args.profile, only=args.only)


if __name__ == "__main__":
    main()
