"""Shared set-up of the benchmarks: a throw-away database, a bare baseline view, timing helpers."""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_PATH = ROOT / "bench" / "bench.sqlite3"


def setup_django(fresh: bool = True) -> None:
    """Point Django at bench/bench.sqlite3 (or BENCH_DATABASE_URL), with the bare view mounted."""
    sys.path.insert(0, str(ROOT))
    if fresh and "BENCH_DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(str(DB_PATH) + suffix).unlink(missing_ok=True)
    elif fresh and os.environ["BENCH_DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        _fresh_postgres(os.environ["BENCH_DATABASE_URL"])
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{DB_PATH}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confiance.settings")
    os.environ.setdefault(
        "STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    import warnings

    import django
    from django.conf import settings

    warnings.filterwarnings("ignore", "No directory at")  # no collectstatic for benchmarks

    django.setup()
    settings.ROOT_URLCONF = "bench.urls"
    # Data generation needs speed, not strong hashes; pages measured are unaffected.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _fresh_postgres(url: str) -> None:
    """Drop and create the benchmarks' PostgreSQL database (never the one the app uses)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("confiance_bench"):
        raise SystemExit(f"BENCH_DATABASE_URL must name a confiance_bench* database, not {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def rate(fn: Callable[[], Any], seconds: float = 3.0, warmup: int = 3) -> float:
    """Calls per second of `fn`, measured for about `seconds`."""
    for _ in range(warmup):
        fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def peak_memory(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run `fn` and return its result with the peak Python memory it allocated, in MB."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / 1e6


def report(rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
