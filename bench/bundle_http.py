"""The ledger bundle of a large log over HTTP, before and after it is prepared by the worker.

Needs a database with a large log (BENCH_DATABASE_URL, e.g. filled by bench_scale's fill or
bench/generate.py and the logging service; the engagement with the most entries is used) and
the SECRET_KEY it was filled with. A real gunicorn (2 sync workers, `--timeout 30` as deployed)
serves it:

- before: LEDGER_BUNDLE_INLINE_MAX set above the log's size, so the web worker streams the
  bundle as it always did; the client reads it all, or is cut when the worker is killed;
- after: the default threshold; the API answers 202, the worker's build (run here, in process,
  as `confiance worker` runs it) is timed while a client polls the progress over HTTP, then the
  file is downloaded and checked by `confiance verify` against the log's key.

Usage: BENCH_DATABASE_URL=sqlite:////path/db.sqlite3 SECRET_KEY=... python bench/bundle_http.py
Not one of `make bench`'s modules (it needs the large database): run it alone.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


class Gunicorn:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "confiance.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "bench.scale_settings",
                "PYTHONPATH": str(ROOT),
                "SITE_URL": f"http://127.0.0.1:{self.port}",
                **env,
            },
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _get(port: int, path: str, cookie: str, out: Path | None = None) -> tuple[int, int, float, str]:
    """(status, bytes read, seconds, outcome) of one GET read to the end (or until cut)."""
    started = time.perf_counter()
    received = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)
    handle = out.open("wb") if out is not None else None
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        while chunk := response.read(1 << 20):
            received += len(chunk)
            if handle is not None:
                handle.write(chunk)
        status = response.status
        outcome = f"{status}, {received / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s"
    except (http.client.HTTPException, OSError) as exc:
        status = 0
        outcome = (
            f"CUT after {received / 1e6:,.1f} MB and {time.perf_counter() - started:.0f} s "
            f"({type(exc).__name__}: the web worker was killed)"
        )
    finally:
        connection.close()
        if handle is not None:
            handle.close()
    return status, received, time.perf_counter() - started, outcome


def run() -> None:
    from django.conf import settings
    from django.db.models import Max
    from django.test import Client
    from django.urls import reverse

    from confiance.core.models import Membership
    from confiance.engagements.models import Engagement
    from confiance.ledger import prepared, services
    from confiance.ledger.models import LedgerBundle, LedgerHead

    head = LedgerHead.objects.order_by("-size").select_related("engagement").first()
    assert head is not None, "no ledger in this database"
    engagement: Engagement = head.engagement
    owner = Membership.objects.select_related("user", "workspace").get(
        workspace_id=engagement.workspace_id, role="owner"
    )
    services.checkpoint_latest(engagement=engagement)
    size = services.checkpoint_latest(engagement=engagement).size
    client = Client()
    client.force_login(owner.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    path = reverse("api:ledger_bundle", kwargs={"engagement_id": engagement.pk})
    key = services.log_verifier_key(engagement)
    LedgerBundle.objects.filter(engagement=engagement).delete()
    print(f"{size:,} entries signed in engagement {engagement.pk}; load {_load()} (1, 5, 15 min)")
    rows: list[tuple[str, str]] = []

    warm = reverse("api:ledger_checkpoint", kwargs={"engagement_id": engagement.pk})
    server = Gunicorn({"LEDGER_BUNDLE_INLINE_MAX": str(size + 1)})
    try:
        for _ in range(4):  # each worker loads the application on its first request
            _get(server.port, warm, cookie)
        _status, _received, _seconds, outcome = _get(server.port, path, cookie)
    finally:
        server.stop()
    rows.append(("before: streamed by the web worker", outcome))
    print(f"  before done; load {_load()}")

    server = Gunicorn({})
    try:
        for _ in range(4):
            _get(server.port, warm, cookie)
        status, _received, first, _outcome = _get(server.port, path, cookie)
        rows.append(
            ("after: first request (queues the build)", f"{status} in {first * 1000:.0f} ms")
        )
        status, _received, first, _outcome = _get(server.port, path, cookie)
        rows.append(("after: asking again", f"{status} in {first * 1000:.0f} ms"))
        bundle = LedgerBundle.objects.filter(engagement=engagement).latest("pk")
        polls: list[tuple[int, int]] = []
        stop = threading.Event()

        def poll() -> None:
            # A client waiting: asks every second, as Retry-After suggests (5 s) but denser.
            while not stop.is_set():
                got, _r, _s, _o = _get(server.port, path, cookie)
                done = LedgerBundle.objects.filter(pk=bundle.pk).values_list("done", flat=True)
                polls.append((got, next(iter(done), 0)))
                stop.wait(1.0)

        watcher = threading.Thread(target=poll)
        watcher.start()
        started = time.perf_counter()
        built = prepared.bundle_build(bundle_id=bundle.pk)
        build_s = time.perf_counter() - started
        stop.set()
        watcher.join()
        assert built is not None, "the build did not run"
        rows.append(
            (
                "after: built by the worker (in process)",
                f"{built.bytes / 1e6:,.1f} MB in {build_s:.1f} s "
                f"({built.size / build_s:,.0f} entries/s)",
            )
        )
        waiting = [done for got, done in polls if got == 202]
        rows.append(
            (
                "after: polls while it was built",
                f"{len(waiting)} answered 202, progress seen {min(waiting, default=0):,} → "
                f"{max(waiting, default=0):,} entries",
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "bundle.json"
            outcome = _get(server.port, path, cookie, target)[3]
            rows.append(("after: download of the prepared file", outcome))
            again = _get(server.port, path, cookie)[3]
            rows.append(("after: a second download", again))
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "confiance.cli", "verify", str(target), "--key", key],
                capture_output=True,
                text=True,
                env={
                    k: v
                    for k, v in os.environ.items()
                    if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL"}
                }
                | {"LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)},
                check=False,
            )
            verified = time.perf_counter() - started
            if result.returncode != 0:
                raise RuntimeError(f"does not verify: {result.stdout}{result.stderr}")
            ok = next(line for line in result.stdout.splitlines() if line.startswith("OK"))
            rows.append(("confiance verify of the download", f"{ok.strip()} ({verified:.0f} s)"))
            first_entries = json.loads(target.read_text())["entries"][:1]
            assert first_entries and first_entries[0]["index"] == 0
    finally:
        server.stop()
    print(f"  after done; load {_load()}")
    report(rows)
    largest = LedgerBundle.objects.aggregate(Max("bytes"))["bytes__max"]
    print(f"  file kept: {largest / 1e6:,.1f} MB under {prepared.bundle_dir()}")


def main() -> None:
    from bench.common import setup_django

    setup_django(fresh=False)
    run()


if __name__ == "__main__":
    main()
