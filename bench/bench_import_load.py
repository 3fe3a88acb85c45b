"""Writes, pages and log-ins while a large import is written, against the same with no import.

A workspace with 20 consultants, the engagement a 100,000-row CSV is imported into (the "import
engagement"), and OTHER engagements beside it. A real gunicorn (3 workers, like `make run`)
serves, and two real task workers (`confiance worker --no-schedule`, as `compose.yaml` runs two)
take the queue. The file goes through the import service as the page sends it (a large file is
checked by a worker, then confirmed); a worker writes it in chunks. Meanwhile, from concurrent
clients, each on its own keep-alive connection:

- one writer per other engagement, logging time entries through the API (a write token each);
- one writer logging time entries to the import engagement itself;
- one reader of the import engagement's consumption page (a logged-in owner);
- one person logging in through the login form (GET for the CSRF token, then POST).

The same clients run first for BASELINE seconds with no import (the baseline, same server, same
workers), then for as long as the worker writes the import. Figures: writes per second per kind,
p50 / p95 of the page and of the log-in, failures (anything but 201 / 200 / 302, a time-out, a
"database is locked" or a traceback in a server's or worker's log, a task that failed: all must be
0), the import's rows/s, and the time from the import's end to its engagement's trust being up to
date (an update started after the last chunk committed). The API's per-token rate limit is lifted
for the run: it is a throttle, not what is measured. BENCH_IMPORT_LOAD_ROWS changes the size.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from bench.bench_scale import Server, _p, _session_cookie
from bench.common import ROOT, report

ROWS = int(os.environ.get("BENCH_IMPORT_LOAD_ROWS", "100000"))
# An empty API_RATE_LIMIT means the default (600/min a token), which writers on a quiet machine
# exceed (429): a limit no writer here reaches instead.
NO_RATE_LIMIT = "1000000/min"
OTHER_ENGAGEMENTS = 3
BASELINE_SECONDS = 20.0
WARM_UP_SECONDS = 8.0
WEB_WORKERS = 3
TASK_WORKERS = 2
TRUST_WAIT_SECONDS = 900
LOG_PROBLEMS = re.compile(r"database is locked|Traceback|Internal Server Error|WORKER TIMEOUT")
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Tally:
    """What the clients saw in one window: latencies of successes by kind, and each failure."""

    times: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)

    def failed(self, kind: str, what: str) -> None:
        with self.lock:
            self.failures.append(f"{kind}: {what}")


Action = Callable[[http.client.HTTPConnection], tuple[int, bytes, float]]


def _request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes, float]:
    started = time.perf_counter()
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    content = response.read()
    return response, content, time.perf_counter() - started


def _api_write(token: str, engagement_id: int, day: str) -> Action:
    payload = json.dumps({"date": day, "minutes": 30, "shared_note": "during the import"})

    def act(connection: http.client.HTTPConnection) -> tuple[int, bytes, float]:
        response, content, seconds = _request(
            connection,
            "POST",
            f"/api/v1/engagements/{engagement_id}/entries",
            payload.encode(),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        return response.status, content, seconds

    return act


def _page(path: str, cookie: str) -> Action:
    def act(connection: http.client.HTTPConnection) -> tuple[int, bytes, float]:
        response, content, seconds = _request(connection, "GET", path, headers={"Cookie": cookie})
        return response.status, content, seconds

    return act


def _log_in(email: str, password: str) -> Action:
    """The login form as a browser sends it; the time is the POST's (the check and the session)."""

    def act(connection: http.client.HTTPConnection) -> tuple[int, bytes, float]:
        response, content, _seconds = _request(connection, "GET", "/accounts/login/")
        found = CSRF_INPUT.search(content)
        cookies = [
            value.split(";", 1)[0]
            for value in response.headers.get_all("Set-Cookie") or []
            if value.startswith("csrftoken=")
        ]
        if response.status != 200 or found is None or not cookies:
            return response.status, content, 0.0
        body = urlencode(
            {"username": email, "password": password, "csrfmiddlewaretoken": found.group(1)}
        )
        response, content, seconds = _request(
            connection,
            "POST",
            "/accounts/login/",
            body.encode(),
            {"Cookie": cookies[0], "Content-Type": "application/x-www-form-urlencoded"},
        )
        return response.status, content, seconds

    return act


class Clients:
    """Client threads, each repeating its action on its own connection until stopped."""

    def __init__(self, port: int, actions: list[tuple[str, int, Action]]) -> None:
        self.port = port
        self.actions = actions  # (kind, expected status, action)
        self.stop_event = threading.Event()
        self.tally = Tally()
        self.threads: list[threading.Thread] = []
        self.started = 0.0

    def _loop(self, kind: str, expected: int, act: Action) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop_event.is_set():
            try:
                status, content, seconds = act(connection)
            except (OSError, http.client.HTTPException) as error:
                self.tally.failed(kind, f"{error.__class__.__name__}: {error}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            if status == expected:
                self.tally.ok(kind, seconds)
            else:
                self.tally.failed(kind, f"{status} {content[:200]!r}")
        connection.close()

    def start(self) -> None:
        self.started = time.perf_counter()
        for kind, expected, act in self.actions:
            thread = threading.Thread(target=self._loop, args=(kind, expected, act), daemon=True)
            self.threads.append(thread)
            thread.start()

    def stop(self) -> float:
        """Stop the clients (each ends its request in flight); the window's length in seconds."""
        self.stop_event.set()
        elapsed = time.perf_counter() - self.started
        for thread in self.threads:
            thread.join()
        return elapsed


def _task_worker(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "confiance.cli", "worker", "--no-schedule", "--interval", "0.2"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for(what: str, check: Callable[[], bool], timeout: float) -> float:
    """Poll `check` until true; seconds waited."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return time.perf_counter() - started


def _world(directory: Path) -> dict[str, Any]:
    """The workspace, the engagements, the people's tokens and the file to import."""
    from django.utils import timezone

    from bench.bench_import import _world as import_world
    from bench.bench_import import write_csv
    from confiance.core.services import api_token_create, client_create
    from confiance.engagements.models import ContactOrigin, EngagementStatus
    from confiance.engagements.services import engagement_create

    owner, engagement = import_world("load")
    client = client_create(membership=owner, name="Other client")
    others = [
        engagement_create(
            membership=owner,
            client=client,
            title=f"Other engagement {n}",
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.PEER_REFERRAL,
        )
        for n in range(OTHER_ENGAGEMENTS)
    ]
    tokens = [
        api_token_create(membership=owner, name=f"writer {n}", scope="write")[1]
        for n in range(OTHER_ENGAGEMENTS + 1)
    ]
    path = directory / "entries.csv"
    write_csv(path, ROWS)
    return {
        "owner": owner,
        "engagement": engagement,
        "others": others,
        "tokens": tokens,
        "path": path,
        "cookie": _session_cookie(owner.user),
        "day": (timezone.localdate() - timedelta(days=1)).isoformat(),
    }


def _actions(world: dict[str, Any]) -> list[tuple[str, int, Action]]:
    owner, engagement, day = world["owner"], world["engagement"], world["day"]
    consumption = f"/w/{owner.workspace.slug}/engagements/{engagement.pk}/consumption/"
    actions: list[tuple[str, int, Action]] = [
        ("write, other engagement", 201, _api_write(token, other.pk, day))
        for token, other in zip(world["tokens"], world["others"], strict=False)
    ]
    actions += [
        ("write, import engagement", 201, _api_write(world["tokens"][-1], engagement.pk, day)),
        ("consumption page", 200, _page(consumption, world["cookie"])),
        ("log-in", 302, _log_in("consultant0@bench-import.test", "bench")),
    ]
    return actions


def _figures(tally: Tally, seconds: float) -> dict[str, str]:
    rows = {}
    for kind in ("write, other engagement", "write, import engagement"):
        times = tally.times.get(kind, [])
        rows[kind] = (
            f"{len(times) / seconds:6.1f} writes/s   p50 {_p(times, 0.5):7.1f} ms   "
            f"p95 {_p(times, 0.95):7.1f} ms   max {max(times) * 1000:7.1f} ms"
            if times
            else "none succeeded"
        )
    for kind in ("consumption page", "log-in"):
        times = tally.times.get(kind, [])
        rows[kind] = (
            f"p50 {_p(times, 0.5):7.1f} ms   p95 {_p(times, 0.95):7.1f} ms   ({len(times)})"
            if times
            else "none succeeded"
        )
    rows["failures"] = str(len(tally.failures))
    return rows


def run(seconds: float = 3.0) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from confiance.consumption.imports.services import import_confirm, import_prepare
    from confiance.consumption.models import ImportJob
    from confiance.trust.models import TrustCursor

    with tempfile.TemporaryDirectory(prefix="confiance-bench-load-") as tmp:
        directory = Path(tmp)
        settings.VAR_DIR = directory  # stored uploads, read by the workers through their path
        started = time.perf_counter()
        world = _world(directory)
        owner, engagement = world["owner"], world["engagement"]
        print(
            f"\n{connection.vendor}: {ROWS:,}-row file, {OTHER_ENGAGEMENTS} other engagements, "
            f"ready in {time.perf_counter() - started:.0f} s"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.scale_settings",
            "PYTHONPATH": str(ROOT),
            "API_RATE_LIMIT": NO_RATE_LIMIT,
        }
        logs = ROOT / "var" / "bench-import-load"  # kept after the run, to read the failures
        logs.mkdir(parents=True, exist_ok=True)
        server_log = (logs / "gunicorn.log").open("wb")
        worker_log = (logs / "workers.log").open("wb")
        workers = [_task_worker(env, worker_log) for _ in range(TASK_WORKERS)]
        server = Server(workers=WEB_WORKERS, env={"API_RATE_LIMIT": NO_RATE_LIMIT}, log=server_log)
        try:
            with world["path"].open("rb") as stream:
                job = import_prepare(
                    membership=owner, engagement=engagement, file=stream, filename="entries.csv"
                )
            checked_in = _wait_for(
                "the file's check",
                lambda: (
                    ImportJob.objects.filter(pk=job.pk)
                    .exclude(status=ImportJob.Status.CHECKING)
                    .exists()
                ),
                TRUST_WAIT_SECONDS,
            )
            job.refresh_from_db()
            if job.status != ImportJob.Status.PREVIEW:
                raise RuntimeError(f"the import is {job.status}: {job.errors[:3]}")

            warm_up = Clients(server.port, _actions(world))  # each process loads what it uses
            warm_up.start()
            time.sleep(WARM_UP_SECONDS)
            warm_up.stop()
            baseline = Clients(server.port, _actions(world))
            baseline.start()
            time.sleep(max(BASELINE_SECONDS, seconds * 5))
            baseline_s = baseline.stop()

            during = Clients(server.port, _actions(world))
            during.start()
            import_confirm(membership=owner, job=job)
            import_s = _wait_for(
                "the import",
                lambda: (
                    ImportJob.objects.filter(pk=job.pk)
                    .exclude(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
                    .exists()
                ),
                TRUST_WAIT_SECONDS * 4,
            )
            during_s = during.stop()
            job.refresh_from_db()
            if job.status != ImportJob.Status.DONE:
                raise RuntimeError(f"the import is {job.status}: {job.errors[:3]}")
            finished = job.finished_at
            assert finished is not None
            _wait_for(
                "trust to be up to date",
                lambda: TrustCursor.objects.filter(
                    engagement=engagement, processed_until__gte=finished
                ).exists(),
                TRUST_WAIT_SECONDS,
            )
            lag_s = (timezone.now() - finished).total_seconds()  # within the 0.2 s of polling
        finally:
            server.stop()
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)
            server_log.close()
            worker_log.close()
        log_problems = [
            line
            for name in ("gunicorn.log", "workers.log")
            for line in (logs / name).read_text(errors="replace").splitlines()
            if LOG_PROBLEMS.search(line)
        ]
    failed_tasks = DBTaskResult.objects.failed().count()
    without, withit = _figures(baseline.tally, baseline_s), _figures(during.tally, during_s)
    print(
        f"Import of {ROWS:,} rows by a task worker: checked in {checked_in:.0f} s, written in "
        f"{import_s:.0f} s ({ROWS / import_s:,.0f} rows/s) while the clients ran; "
        f"{job.created_count:,} entries created"
    )
    report(
        [("", f"{'no import (baseline, ' + f'{baseline_s:.0f} s)':<60}  during the import")]
        + [(kind, f"{without[kind]:<60}  {withit[kind]}") for kind in without]
    )
    report(
        [
            ("import end to trust up to date", f"{lag_s:.1f} s"),
            ("tasks failed", str(failed_tasks)),
            ("problems in the server and worker logs", str(len(log_problems))),
        ]
    )
    failures = (
        warm_up.tally.failures + baseline.tally.failures + during.tally.failures + log_problems
    )
    for failure in failures[:10]:
        print(f"  ! {failure}")
    if failures or failed_tasks:
        print(f"  FAILURES: there must be none (issue 14); the logs are in {logs}")
