"""What every request pays before its own work, over HTTP: the bare view, a bare workspace page
(session, user, membership, navigation, base template) and an inclusion proof with an API token,
served by gunicorn (2 workers) from bench_trust_pages' database, one request at a time.

    python bench/bench_trust_pages.py --reuse --only bare   # once, to generate the database
    python bench/bench_floor.py [--seconds 3]

Prints p50 and p95 of each, and its ratio of rates to the bare view's in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import ROOT


def _timed(url: str, headers: dict[str, str], seconds: float) -> list[float]:
    request = urllib.request.Request(url, headers=headers)
    for _ in range(5):
        with urllib.request.urlopen(request) as response:
            # A redirect (to the log-in page) would be followed: the page itself must answer.
            assert response.status == 200 and response.geturl() == url, response.geturl()
            response.read()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 30:
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            response.read()
        times.append(time.perf_counter() - started)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    # A proof now takes about 2 ms: the default 600/min would refuse most of a 3 s run. A high
    # limit keeps the limiter's own work in the measure.
    os.environ.setdefault("API_RATE_LIMIT", "1000000/min")
    if "BENCH_DATABASE_URL" not in os.environ:
        common.DB_PATH = ROOT / "bench" / "bench_trust_pages.sqlite3"
    common.setup_django(fresh=False)
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore

    from bench.bench_scale import Server
    from bench.bench_trust_pages import ENTRIES, SLUG
    from confiance.core.models import Membership, Role
    from confiance.core.services import api_token_create
    from confiance.engagements.models import Engagement

    owner = Membership.objects.select_related("user").get(workspace__slug=SLUG, role=Role.OWNER)
    big = Engagement.objects.filter(workspace__slug=SLUG).order_by("pk").first()
    assert big is not None
    _token, plaintext = api_token_create(membership=owner, name="bench floor")
    session = SessionStore()
    session[SESSION_KEY] = str(owner.user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = owner.user.get_session_auth_hash()
    session.create()
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}
    server = Server(workers=2, env={"DATABASE_URL": os.environ["DATABASE_URL"]})
    try:
        base = f"http://127.0.0.1:{server.port}"
        cases = {
            "bare view": (f"{base}/bench/bare/", {}),
            "bare workspace page": (f"{base}/w/{SLUG}/bench/page/", cookie),
            "inclusion proof, API token": (
                f"{base}/api/v1/engagements/{big.pk}/ledger/entries/{ENTRIES // 2}",
                {"Authorization": f"Bearer {plaintext}"},
            ),
        }
        print(f"Over HTTP, gunicorn 2 workers (load average {os.getloadavg()[0]:.1f}):")
        bare = None
        for label, (url, headers) in cases.items():
            times = _timed(url, headers, args.seconds)
            p50, p95 = times[len(times) // 2] * 1000, times[int(len(times) * 0.95)] * 1000
            bare = bare or p50
            print(f"  {label:28} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ratio {bare / p50:.3f}")
        print(f"  (load average after: {os.getloadavg()[0]:.1f})")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
