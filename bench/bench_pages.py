"""Requests per second of the engagement list (member with 1,000 engagements) vs a bare view."""

from __future__ import annotations

import time

from bench.common import rate, report


def run(seconds: float = 3.0, engagements: int = 1000) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.generate import generate
    from confiance.core.models import User

    started = time.perf_counter()
    data = generate(workspaces=2, clients=5, engagements=engagements, members=5)
    print(
        f"Generated 2 workspaces x {engagements} engagements "
        f"in {time.perf_counter() - started:.1f} s"
    )

    http = Client()
    http.force_login(User.objects.get(email=data.member_emails[0]))
    list_url = f"/w/{data.workspace_slugs[0]}/engagements/"
    filtered_url = list_url + "?status=active"
    last_page = list_url + f"?page={engagements // 50}"
    for url in (list_url, filtered_url, last_page, "/bench/bare/"):
        assert http.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as queries:
        http.get(list_url)
    query_count = len(queries)

    bare = rate(lambda: http.get("/bench/bare/"), seconds)
    first = rate(lambda: http.get(list_url), seconds)
    filtered = rate(lambda: http.get(filtered_url), seconds)
    deep = rate(lambda: http.get(last_page), seconds)
    print(f"\nEngagement list, member of a workspace with {engagements} engagements (50 a page):")
    report(
        [
            ("bare Django view (baseline)", f"{bare:8.0f} req/s"),
            ("engagement list, page 1", f"{first:8.0f} req/s   ratio {first / bare:.3f}"),
            (
                "engagement list, status filter",
                f"{filtered:8.0f} req/s   ratio {filtered / bare:.3f}",
            ),
            ("engagement list, last page", f"{deep:8.0f} req/s   ratio {deep / bare:.3f}"),
            ("queries per list request", f"{query_count}"),
        ]
    )
