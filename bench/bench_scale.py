"""Pages over HTTP as the data grows, one person and 16 at once, against a bare view.

A workspace with 1,000 engagements; one of them is filled through the services up to each size
of BENCH_SCALE_SIZES (default 1,000 and 100,000 entries; add 1000000 for the full run, which
takes about half an hour on two cores). After each fill, what the task worker would do next is
done in process and timed: a checkpoint signed, the engagement's trust brought up to date. At
each size a real gunicorn (2 workers, the benchmarks' database, `bench/scale_settings.py`)
serves: the engagement list, the consumption and trust pages of the big engagement, the
portfolio, an inclusion proof through the API, and the bare view measured in the same run. One
person at a time: p50 latency and rate, ratio to the bare view. Then 16 people at once
(threads, each its own keep-alive connection, pages in turn): p50 and p95. The growth between
the first and the last size is printed last, then a check of the data the pages read: the
engagement's ledger bundle, exported over HTTP, verified offline by `confiance verify` against
the log's key, and the consumption rollups equal to a recount of the entries. Targets (issue
14): every page p50 under 60 ms, consumption and trust at least 0.05 of the bare view's rate,
lists at least 0.1, an inclusion proof under 3 ms, p95 under 500 ms with 16 people.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import ROOT, report

SIZES = [int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "1000,100000").split(",")]
ENGAGEMENTS = 1000
PEOPLE_AT_ONCE = 16
FILL_BATCH = 5000  # entries per call of the logging service (one transaction each)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving the project with the bare view, on the benchmarks' database."""

    def __init__(
        self, workers: int = 2, env: dict[str, str] | None = None, log: Any = None
    ) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.scale_settings",
            "PYTHONPATH": str(ROOT),
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "confiance.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Browser:
    """One person: a keep-alive connection carrying their session cookie."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> float:
        """Seconds to fetch `path` completely; fails on anything but 200."""
        started = time.perf_counter()
        self.connection.request("GET", path, headers={"Cookie": self.cookie})
        response = self.connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        return elapsed


def _latencies(fn: Callable[[], float], seconds: float, at_least: int = 20) -> list[float]:
    for _ in range(6):  # warm up: each gunicorn worker loads the application on first use
        fn()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < deadline:
        times.append(fn())
    return times


def _interleaved(browser: Browser, paths: dict[str, str], seconds: float) -> dict[str, list[float]]:
    """Each path's latencies, `seconds` in all, measured in turns of a tenth of that: the bare
    view and the pages share the machine's slow and quiet moments alike, so a ratio does not
    depend on which one ran while a neighbour was busy (on a shared machine the bare view alone
    went from 1.0 to 2.7 ms between two runs of a minute)."""
    turns = 10
    times: dict[str, list[float]] = {label: [] for label in paths}
    for path in paths.values():
        for _ in range(6):  # warm up: each gunicorn worker loads the application on first use
            browser.get(path)
    for _ in range(turns):
        for label, path in paths.items():
            deadline = time.perf_counter() + seconds / turns
            found = times[label]
            at_least = len(found) + 2
            while len(found) < at_least or time.perf_counter() < deadline:
                found.append(browser.get(path))
    return times


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _session_cookie(user: Any) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _fill(owner: Any, engagement: Any, people: list[Any], done: int, total: int) -> float:
    """Log entries up to `total` through the services; seconds taken."""
    from django.utils import timezone

    from confiance.consumption.services import EntryInput, time_entries_log

    today = timezone.localdate()
    started = time.perf_counter()
    for start in range(done, total, FILL_BATCH):
        items = [
            EntryInput(
                person=people[i % len(people)],
                date=today - timedelta(days=(i * 7) % 700),
                minutes=30 + (i % 8) * 30,
                shared_note=f"entry {i}",
            )
            for i in range(start, min(total, start + FILL_BATCH))
        ]
        time_entries_log(membership=owner, engagement=engagement, items=items)
    return time.perf_counter() - started


def _concurrent(port: int, cookie: str, paths: list[str], seconds: float) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    errors: list[BaseException] = []

    def person(offset: int) -> None:
        browser = Browser(port, cookie)
        mine: list[float] = []
        i = offset
        try:
            while time.perf_counter() < stop_at:
                mine.append(browser.get(paths[i % len(paths)]))
                i += 1
        except BaseException as exc:  # reported after the threads end
            errors.append(exc)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=person, args=(n,)) for n in range(PEOPLE_AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {PEOPLE_AT_ONCE} people failed: {errors[0]}")
    return times


def run(seconds: float = 3.0) -> None:
    from django.db import connection

    from bench.generate import generate
    from confiance.consumption.services import budget_revise
    from confiance.core.models import Membership, User
    from confiance.engagements.models import Engagement

    started = time.perf_counter()
    data = generate(
        workspaces=1, clients=5, engagements=ENGAGEMENTS, members=5, slug_prefix="scale"
    )
    print(f"Generated {ENGAGEMENTS:,} engagements in {time.perf_counter() - started:.0f} s")
    owner = Membership.objects.select_related("workspace", "user").get(
        workspace__slug=data.workspace_slugs[0], role="owner"
    )
    workspace = owner.workspace
    engagement = Engagement.objects.filter(workspace=workspace).order_by("pk").first()
    assert engagement is not None
    Engagement.objects.filter(pk=engagement.pk).update(status="active")
    engagement.refresh_from_db()
    budget_revise(
        membership=owner, engagement=engagement, days=Decimal(90000), amount=None, reason="bench"
    )
    people = list(User.objects.filter(memberships__workspace=workspace))
    started = time.perf_counter()
    facts, alerts = _give_trust(workspace)
    print(
        f"Gave the active engagements {facts:,} trust facts, a week of trend and {alerts} open "
        f"alerts in {time.perf_counter() - started:.0f} s"
    )
    cookie = _session_cookie(owner.user)
    base = f"/w/{workspace.slug}"
    pages = {
        "engagement list": f"{base}/engagements/",
        "consumption page": f"{base}/engagements/{engagement.pk}/consumption/",
        "trust page": f"{base}/engagements/{engagement.pk}/trust/",
        "portfolio": f"{base}/portfolio/",
        "trust portfolio": f"{base}/trust/",
    }
    done = 0
    measured: dict[int, dict[str, float]] = {}
    checks: list[tuple[str, str]] = []
    for size in SIZES:
        fill_s = _fill(owner, engagement, people, done, size)
        fill_rate = (size - done) / max(fill_s, 1e-9)
        done = size
        worker_s = _worker_catches_up(engagement)
        _analyze()
        print(
            f"\n{connection.vendor}, {ENGAGEMENTS:,} engagements, {size:,} entries in the big "
            f"one (logged through the services at {fill_rate:,.0f} entries/s, "
            f"{fill_s:,.0f} s; checkpoint and trust up to date in {worker_s:.1f} s):"
        )
        print(f"  load average before measuring: {_load()}")
        server = Server()
        try:
            rows, figures = _measure(server.port, cookie, pages, owner, engagement, size, seconds)
            report(rows)
            print(f"  load average after measuring: {_load()}")
            measured[size] = figures
            if size == max(SIZES):
                checks = _check_data(server.port, cookie, owner, engagement)
        finally:
            server.stop()
    if len(measured) > 1:
        first, last = min(measured), max(measured)
        print(f"\nGrowth from {first:,} to {last:,} entries (p50 latency, last / first):")
        report(
            [
                (label, f"x{measured[last][label] / measured[first][label]:.2f}")
                for label in measured[first]
            ]
        )
    print(f"\nThe data the pages read, at {max(SIZES):,} entries:")
    report(checks)


def _give_trust(workspace: Any) -> tuple[int, int]:
    """What the trust pages read, as a workspace in use has it: each active engagement a few
    facts of its history (both directions, good and bad, over four months), today's snapshot and
    one a week ago for the trend, and the alerts the check opens. Through the services."""
    import random

    from django.utils import timezone

    from confiance.engagements.models import Engagement
    from confiance.trust import indicators
    from confiance.trust.services import (
        ACTIVE_STATUSES,
        trust_record_fact,
        trust_settings_for,
        trust_snapshot_and_check,
    )

    rng = random.Random(11)
    now = timezone.now()
    today = timezone.localdate(now)
    settings = trust_settings_for(workspace.pk)
    keys = [indicator.key for indicator in indicators.INDICATORS]
    facts = alerts = 0
    for engagement in Engagement.objects.filter(workspace=workspace, status__in=ACTIVE_STATUSES):
        tilt = rng.random()  # some engagements go well, some badly
        for n in range(rng.randint(4, 14)):
            good = rng.random() < tilt
            trust_record_fact(
                engagement=engagement,
                fact=indicators.Fact(
                    rng.choice(keys),
                    now - timedelta(days=rng.randint(0, 120), minutes=n),
                    1.0 if good else 0.0,
                    0.0 if good else 1.0,
                    "Bench fact",
                    "",
                    "bench",
                    f"bench-{engagement.pk}-{n}",
                ),
            )
            facts += 1
        for day in (today - timedelta(days=7), today):
            _written, opened, _closed = trust_snapshot_and_check(
                engagement=engagement, settings=settings, day=day, now=now
            )
            alerts += len(opened)
    return facts, alerts


def _analyze() -> None:
    """What PostgreSQL's autovacuum does after a table grows: refresh the planner's statistics.

    This machine's PostgreSQL runs with autovacuum off; without this, the pages would be
    planned with the statistics of an empty database (a production server gathers them within
    a minute of the fill)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg()) + " (1, 5, 15 min)"


def _worker_catches_up(engagement: Any) -> float:
    """What the task worker does after the writes: sign a checkpoint, update trust; seconds."""
    from django.db import transaction

    from confiance.ledger.services import checkpoint_sign
    from confiance.trust.tasks import trust_update_task

    started = time.perf_counter()
    with transaction.atomic():
        checkpoint_sign(engagement=engagement)
    trust_update_task.call(engagement.pk)
    return time.perf_counter() - started


def _check_data(port: int, cookie: str, owner: Any, engagement: Any) -> list[tuple[str, str]]:
    """The ledger verifies offline and the rollups equal a recount; fails loudly otherwise.

    The bundle is first asked for over HTTP, as a client would (its time, or where the server
    cut it); then the same bundle (the generator the API view streams) is written in process
    and checked by `confiance verify` in a subprocess, trusting only the log's key.
    """
    import tempfile

    from django.db.models import Count, Sum
    from django.urls import reverse

    from confiance.consumption.figures import ACTIVITY, DAY, PERSON
    from confiance.consumption.models import TimeEntry
    from confiance.consumption.rollups import figures_load
    from confiance.ledger import selectors, services

    rows = []
    path = reverse("api:ledger_bundle", kwargs={"engagement_id": engagement.pk})
    started = time.perf_counter()
    received = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        while chunk := response.read(1 << 20):
            received += len(chunk)
        outcome = f"{received / 1e6:,.1f} MB in {time.perf_counter() - started:.0f} s"
        if response.status == 202:
            # Past 10,000 entries a task worker prepares the bundle (202 until it is ready);
            # none runs here: the bundle is written in process below.
            outcome = "answered 202 (prepared by the task worker, none runs here)"
        elif response.status != 200:
            outcome = f"FAILED: answered {response.status}"
    except (http.client.HTTPException, OSError) as exc:
        outcome = (
            f"CUT after {received / 1e6:,.1f} MB and {time.perf_counter() - started:.0f} s "
            f"({type(exc).__name__}: the server's worker timed out)"
        )
    finally:
        connection.close()
    rows.append(("ledger bundle over HTTP (owner)", outcome))
    key = services.log_verifier_key(engagement)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle.json"
        started = time.perf_counter()
        with bundle.open("w", encoding="utf-8") as out:
            for text in selectors.bundle_chunks(
                engagement=engagement,
                public_key=key,
                origin=services.origin_of(engagement),
                audiences=services.reader_audiences(owner),
            ):
                out.write(text)
        exported = time.perf_counter() - started
        megabytes = bundle.stat().st_size / 1e6
        started = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
        result = subprocess.run(
            [sys.executable, "-m", "confiance.cli", "verify", str(bundle), "--key", key],
            capture_output=True,
            text=True,
            env={**env, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)},
            check=False,
        )
        verified = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"the ledger does not verify: {result.stdout}{result.stderr}")
    ok = next(line for line in result.stdout.splitlines() if line.startswith("OK"))
    rows.append(("ledger bundle in process", f"{megabytes:,.0f} MB in {exported:.0f} s"))
    rows.append(("confiance verify", f"{ok.strip()} ({verified:.0f} s)"))

    figures = figures_load(engagement=engagement)
    entries = TimeEntry.objects.filter(engagement=engagement)
    total = entries.aggregate(minutes=Sum("minutes"), rows=Count("pk"))
    originals = entries.filter(kind="original").count()
    recount: dict[tuple[str, str], tuple[int, int]] = {}
    for dimension, field in (
        (DAY, "date"),
        (PERSON, "person__email"),
        (ACTIVITY, "activity__name"),
    ):
        for key, minutes, count in (
            entries.values_list(field)
            .annotate(minutes=Sum("minutes"), count=Count("pk"))
            .values_list(field, "minutes", "count")
        ):
            key = key.isoformat() if dimension == DAY else str(key or "")
            recount[(dimension, key)] = (int(minutes), int(count))
    rolled = {
        key: (cell.minutes, cell.entries)
        for key, cell in figures.cells.items()
        if key[0] in (DAY, PERSON, ACTIVITY)
    }
    same = (
        figures.consumed_minutes == total["minutes"]
        and figures.entry_rows == total["rows"]
        and figures.entry_count == originals
        and rolled == recount
    )
    if not same:
        raise RuntimeError(
            f"rollups differ from a recount: {figures.consumed_minutes} / {total['minutes']} "
            f"minutes, {figures.entry_rows} / {total['rows']} rows, {len(rolled)} / "
            f"{len(recount)} cells"
        )
    rows.append(
        (
            "rollups = recount of the entries",
            f"{total['rows']:,} entries, {total['minutes']:,} minutes, {len(recount):,} "
            "day / person / activity cells equal",
        )
    )
    return rows


def _measure(
    port: int,
    cookie: str,
    pages: dict[str, str],
    owner: Any,
    engagement: Any,
    size: int,
    seconds: float,
) -> tuple[list[tuple[str, str]], dict[str, float]]:
    """The figures of one size: each page alone, a proof, then 16 people at once."""
    from confiance.ledger import selectors

    browser = Browser(port, cookie)
    measured = _interleaved(browser, {"bare": "/bench/bare/", **pages}, seconds)
    bare = measured["bare"]
    # One person at a time: a page's rate is 1 / its median latency (a few slow outliers,
    # from other work on the machine, do not decide the ratio).
    bare_rate = 1000 / _p(bare, 0.5)
    rows = [
        ("bare Django view (baseline)", f"p50 {_p(bare, 0.5):7.1f} ms   {bare_rate:7.1f} req/s")
    ]
    figures: dict[str, float] = {"bare": _p(bare, 0.5)}
    for label in pages:
        times = measured[label]
        page_rate = 1000 / _p(times, 0.5)
        figures[label] = _p(times, 0.5)
        rows.append(
            (
                label,
                f"p50 {_p(times, 0.5):7.1f} ms   {page_rate:7.1f} req/s   "
                f"ratio {page_rate / bare_rate:.3f}",
            )
        )
    index = size // 2
    proof_path = f"/api/v1/engagements/{engagement.pk}/ledger/entries/{index}"
    proof_http = _latencies(lambda: browser.get(proof_path), seconds / 2)
    figures["proof over HTTP"] = _p(proof_http, 0.5)
    proof_local = _latencies(
        lambda: _timed(
            lambda: selectors.entry_with_proof(engagement=engagement, index=index, size=None)
        ),
        seconds / 2,
    )
    figures["proof"] = _p(proof_local, 0.5)
    rows.append(
        (
            "inclusion proof (selector, stored subtree hashes)",
            f"p50 {_p(proof_local, 0.5):7.2f} ms   over HTTP p50 {_p(proof_http, 0.5):.1f} ms",
        )
    )
    first, again = _weighing(owner, seconds / 2)
    rows.append(
        (
            "trust portfolio's ranking and shown rows",
            f"p50 {first:7.2f} ms first of its minute, {again:.2f} ms again within it (in process)",
        )
    )
    together = _concurrent(port, cookie, list(pages.values()), seconds * 2)
    figures["16 p95"] = _p(together, 0.95)
    rows.append(
        (
            f"{PEOPLE_AT_ONCE} people at once, pages in turn",
            f"p50 {_p(together, 0.5):7.1f} ms   p95 {_p(together, 0.95):7.1f} ms   "
            f"{len(together) / (seconds * 2):.1f} req/s in all",
        )
    )
    return rows, figures


def _weighing(owner: Any, seconds: float) -> tuple[float, float]:
    """The trust portfolio's own work in process (its ranking, then its first page of rows),
    p50 in ms: as the first view of a minute weighs every summary, and as a view again within
    the minute finds them weighed (only the summaries written since are weighed again) and,
    its rows unchanged, ranked."""
    from django.utils import timezone

    from confiance.trust import selectors
    from confiance.trust.views import PORTFOLIO_PAGE

    now = timezone.now().replace(second=0, microsecond=0)

    def view() -> None:
        ranked = selectors.trust_portfolio_ranking(fetched_by=owner, now=now)
        shown = selectors.trust_portfolio_rows(
            fetched_by=owner, ranked=ranked[:PORTFOLIO_PAGE], now=now
        )
        assert shown

    def first() -> float:
        selectors._weighed.clear()  # nothing weighed yet at this instant
        selectors._ranked.clear()  # nor ranked
        return _timed(view)

    return (
        _p(_latencies(first, seconds), 0.5),
        _p(_latencies(lambda: _timed(view), seconds), 0.5),
    )


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.common import setup_django

    setup_django(fresh=True)
    run()
