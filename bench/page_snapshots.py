"""The list, consumption, client, engagement and trust pages in process: CPU per request, and
their HTML at a frozen moment, to compare two versions of the code on one database.

    python bench/page_snapshots.py measure [--seconds 2]
    python bench/page_snapshots.py html OUTDIR      # then: diff -r BEFORE_DIR AFTER_DIR

The database (bench/page_snapshots.sqlite3, or BENCH_DATABASE_URL) is generated on first use
and kept (1,000 engagements in one workspace, 1,000 entries logged in the first through the
services, a client contact of its client), so that the code before and after a change can be
run alternately from their own checkouts against the same rows. `--fresh` generates it again.
`measure` prints the CPU time of the process per request (p50, after a warm-up) and the
queries of each page; `html` writes each page for the owner, a member and the client contact,
in English and in French, first page, `?page=2` and a person filter, at 2026-12-04
05:40:07.654321 UTC, CSRF tokens blanked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import ROOT

SLUG = "snap-0"
FROZEN = dt.datetime(2026, 12, 4, 5, 40, 7, 654321, tzinfo=dt.UTC)


def _generate() -> None:
    from django.db import transaction

    from bench.bench_scale import _fill
    from bench.generate import generate
    from confiance.consumption.services import budget_revise
    from confiance.core.models import Membership, Role, User
    from confiance.core.services import membership_add, user_create
    from confiance.engagements.models import Engagement
    from confiance.ledger.services import checkpoint_sign
    from confiance.trust.tasks import trust_update_task

    generate(workspaces=1, clients=5, engagements=1000, members=5, slug_prefix="snap")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=SLUG, role=Role.OWNER
    )
    big = Engagement.objects.filter(workspace=owner.workspace).order_by("pk").first()
    assert big is not None
    Engagement.objects.filter(pk=big.pk).update(status="active")
    big.refresh_from_db()
    budget_revise(membership=owner, engagement=big, days=Decimal(9000), amount=None, reason="b")
    _fill(owner, big, list(User.objects.filter(memberships__workspace=owner.workspace)), 0, 1000)
    contact = user_create(email="contact@snap.test", password="bench", full_name="Contact")
    membership_add(by=owner, user=contact, role=Role.CLIENT, client=big.client)
    with transaction.atomic():
        checkpoint_sign(engagement=big)
    trust_update_task.call(big.pk)


def _pages() -> list[tuple[str, Any, str]]:
    from confiance.core.models import Membership, Role, User
    from confiance.engagements.models import Engagement

    if not Engagement.objects.filter(workspace__slug=SLUG).exists():
        _generate()
    owner = Membership.objects.select_related("user").get(workspace__slug=SLUG, role=Role.OWNER)
    member = (
        Membership.objects.filter(workspace__slug=SLUG, role=Role.MEMBER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    assert member is not None
    contact = User.objects.get(email="contact@snap.test")
    big = Engagement.objects.filter(workspace__slug=SLUG).order_by("pk").first()
    assert big is not None
    base = f"/w/{SLUG}"
    one = f"{base}/engagements/{big.pk}"
    return [
        ("bare view", owner.user, "/bench/bare/"),
        ("bare workspace page, owner", owner.user, f"{base}/bench/page/"),
        ("engagement list, member", member.user, f"{base}/engagements/"),
        ("engagement list, owner", owner.user, f"{base}/engagements/"),
        ("engagement list, client contact", contact, f"{base}/engagements/"),
        ("consumption page, owner", owner.user, f"{one}/consumption/"),
        ("consumption page, client contact", contact, f"{one}/consumption/"),
        ("client page, owner", owner.user, f"{base}/clients/{big.client_id}/"),
        ("engagement page, owner", owner.user, f"{one}/"),
        ("trust page, owner", owner.user, f"{one}/trust/"),
        ("trust page, client contact", contact, f"{one}/trust/"),
        ("trust portfolio, owner", owner.user, f"{base}/trust/"),
    ]


def _client(user: Any, language: str = "en") -> Any:
    from django.test import Client

    http = Client(headers={"accept-language": language})
    http.force_login(user)
    http.cookies["django_language"] = language
    return http


def _cpu_p50(fn: Callable[[], Any], seconds: float, at_least: int = 30) -> float:
    for _ in range(5):
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < deadline:
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def measure(seconds: float) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = _pages()
    print(f"{connection.vendor}, load average {os.getloadavg()[0]:.1f}")
    for label, user, url in pages:
        http = _client(user)
        assert http.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        count = len(queries)
        cpu = _cpu_p50(lambda http=http, url=url: http.get(url), seconds)
        print(f"  {label:34} {cpu:7.2f} ms CPU  {count:3d} queries")
    print(f"  (load average after: {os.getloadavg()[0]:.1f})")


def html(out: Path) -> None:
    import time_machine

    from confiance.core.models import User

    pages = _pages()[2:]
    person = User.objects.get(email="owner0@snap.test").pk
    out.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(FROZEN, tick=False):
        for label, user, url in pages:
            for language in ("en", "fr"):
                for extra in ("", "?page=2", f"?person={person}"):
                    response = _client(user, language).get(url + extra)
                    text = response.content.decode()
                    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", text)
                    name = re.sub(r"[^a-z0-9]+", "_", f"{label} {language} {extra}").strip("_")
                    (out / f"{name}.html").write_text(f"{response.status_code}\n{text}")
    print(f"{len(pages) * 6} pages written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["measure", "html"])
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    if "BENCH_DATABASE_URL" not in os.environ:
        common.DB_PATH = ROOT / "bench" / "page_snapshots.sqlite3"
        fresh = args.fresh or not common.DB_PATH.exists()
    else:
        fresh = args.fresh
    common.setup_django(fresh=fresh)
    if args.mode == "measure":
        measure(args.seconds)
    else:
        if args.out is None:
            parser.error("html needs an output directory")
        html(args.out)


if __name__ == "__main__":
    main()
