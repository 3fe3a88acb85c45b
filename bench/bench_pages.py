"""What a page costs in process: CPU time per request (p50) and queries, against a bare view.

A workspace of 1,000 engagements (and a second one, which must not slow the first); one active
engagement holds 5,000 entries logged through the services. Each page is requested through the
Django test client (no HTTP, no server) by the provider's owner and by a contact of the client,
in English and in French; the figure is the CPU time of the process per request (SQLite runs in
the process, so its queries count; a loaded machine distorts CPU time much less than wall
time), p50 of repeated requests, with the page's query count. The target over HTTP (p50 under
60 ms, p95 under 500 ms with 16 people on 2 cores) needs about 25-30 ms of CPU in process.

BENCH_PAGES_PROFILE=<label substring> prints a cProfile of that page (by cumulative time).
BENCH_PAGES_ENTRIES sets the entries of the big engagement (default 5000).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench.common import rate, report

ENTRIES = int(os.environ.get("BENCH_PAGES_ENTRIES", "5000"))


def _cpu_p50(fn: Callable[[], Any], seconds: float, at_least: int = 15) -> float:
    """Median CPU milliseconds of `fn` (after a warm-up), over about `seconds` of wall time."""
    for _ in range(3):
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < deadline:
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def run(seconds: float = 3.0, engagements: int = 1000) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.bench_scale import _fill
    from bench.generate import generate
    from confiance.consumption.services import budget_revise
    from confiance.core.models import Membership, Role, User
    from confiance.core.services import membership_add, user_create
    from confiance.engagements.models import Engagement

    started = time.perf_counter()
    data = generate(workspaces=2, clients=5, engagements=engagements, members=5)
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=data.workspace_slugs[0], role=Role.OWNER
    )
    workspace = owner.workspace
    engagement = Engagement.objects.filter(workspace=workspace).order_by("pk").first()
    assert engagement is not None
    Engagement.objects.filter(pk=engagement.pk).update(status="active")
    engagement.refresh_from_db()
    budget_revise(
        membership=owner, engagement=engagement, days=Decimal(9000), amount=None, reason="bench"
    )
    people = list(User.objects.filter(memberships__workspace=workspace))
    _fill(owner, engagement, people, 0, ENTRIES)
    contact = user_create(email="contact@bench.test", password="bench", full_name="Contact")
    membership_add(by=owner, user=contact, role=Role.CLIENT, client=engagement.client)
    print(
        f"Generated 2 workspaces x {engagements} engagements, {ENTRIES:,} entries in one, "
        f"in {time.perf_counter() - started:.0f} s"
    )

    member = User.objects.get(email=data.member_emails[0])
    base = f"/w/{workspace.slug}"
    one = f"{base}/engagements/{engagement.pk}"
    pages = [
        ("bare Django view (baseline)", owner.user, "/bench/bare/"),
        ("engagement list, member", member, f"{base}/engagements/"),
        ("engagement list, last page", member, f"{base}/engagements/?page={engagements // 50}"),
        ("engagement list, client", contact, f"{base}/engagements/"),
        ("consumption page, owner", owner.user, f"{one}/consumption/"),
        ("consumption page, client", contact, f"{one}/consumption/"),
        ("engagement page, owner", owner.user, f"{one}/"),
        ("engagement page, client", contact, f"{one}/"),
        ("client page, owner", owner.user, f"{base}/clients/{engagement.client_id}/"),
        ("client page, client", contact, f"{base}/clients/{engagement.client_id}/"),
    ]
    profile = os.environ.get("BENCH_PAGES_PROFILE", "")
    rows: list[tuple[str, str]] = []
    bare_ms = 0.0
    for label, user, url in pages:
        figures = []
        for language in ("en", "fr"):
            http = Client(headers={"accept-language": language})
            http.force_login(user)
            http.cookies["django_language"] = language
            assert http.get(url).status_code == 200, url
            with CaptureQueriesContext(connection) as queries:
                http.get(url)
            count = len(queries)  # read now: the next request resets the query log
            cpu = _cpu_p50(lambda http=http, url=url: http.get(url), seconds / 2)
            bare_ms = bare_ms or cpu
            figures.append(f"{language} {cpu:6.1f} ms")
            if profile and profile in label and language == "en":
                _profile(lambda http=http, url=url: http.get(url))
        rows.append((label, f"{'  '.join(figures)}   {count:3d} queries"))
    print(f"\nIn process, CPU per request (p50), {engagements:,} engagements, {ENTRIES:,} entries:")
    report(rows)

    # The list's rate against the bare view, as this benchmark printed before.
    http = Client()
    http.force_login(member)
    bare = rate(lambda: http.get("/bench/bare/"), seconds)
    first = rate(lambda: http.get(f"{base}/engagements/"), seconds)
    print("\nEngagement list, member, requests per second:")
    report(
        [
            ("bare Django view (baseline)", f"{bare:8.0f} req/s"),
            ("engagement list, page 1", f"{first:8.0f} req/s   ratio {first / bare:.3f}"),
        ]
    )


def _profile(fn: Callable[[], Any], calls: int = 20) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
