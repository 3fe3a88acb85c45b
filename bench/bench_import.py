"""CSV import of 100,000 time entries (generic format), end to end: rows/s and peak memory.

Run it with `python bench/run.py --only import` (add `--rows N` for another size).

The file is generated in a temporary directory, then imported through the same services as the
page and the command (import_prepare, then import_run). Bound: peak memory under 300 MB, whatever
the file's length, because rows are streamed and written in chunks.

Figures: end-to-end rows/s, against reading the same file with the bare csv module (the baseline,
measured in this run); the Python heap's peak (tracemalloc, which slows the code it watches, so it
is measured on a second import of its own); and the growth of the process's maximum resident set
size (getrusage) during the timed import.
"""

from __future__ import annotations

import csv
import random
import resource
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import peak_memory, rate, report

BOUND_MB = 300
PEOPLE = 20
ACTIVITIES = ("Analysis", "Workshops", "Development", "Tests", "Project management", "Travel")


def write_csv(path: Path, rows: int, seed: int = 11) -> None:
    """A generic-format file of `rows` entries over the last two years, for PEOPLE people."""
    rng = random.Random(seed)
    first_day = date.today() - timedelta(days=730)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["date", "email", "duration", "activity", "note", "internal_note"])
        for i in range(rows):
            writer.writerow(
                [
                    (first_day + timedelta(days=rng.randrange(730))).isoformat(),
                    f"consultant{rng.randrange(PEOPLE)}@bench-import.test",
                    rng.choice(("30", "45", "90", "1:30", "2.5h", "3h", "7:00")),
                    rng.choice(ACTIVITIES),
                    f"Work item {i} for the client",
                    "internal remark" if i % 7 == 0 else "",
                ]
            )


def _world(tag: str):  # type: ignore[no-untyped-def]
    """A workspace with an owner, PEOPLE consultants and one active engagement."""
    from django.db import transaction

    from confiance.core.models import Membership, Role, User
    from confiance.core.services import client_create, membership_add, user_create, workspace_create
    from confiance.engagements.models import ContactOrigin, EngagementStatus
    from confiance.engagements.services import engagement_create

    with transaction.atomic():
        owner_user = user_create(
            email=f"owner-{tag}@bench-import.test", password="bench", full_name=f"Owner {tag}"
        )
        workspace = workspace_create(name=f"Import {tag}", owner=owner_user, slug=f"import-{tag}")
        owner = Membership.objects.select_related("workspace", "user").get(
            user=owner_user, workspace=workspace
        )
        for n in range(PEOPLE):
            email = f"consultant{n}@bench-import.test"
            user = User.objects.filter(email=email).first() or user_create(
                email=email, password="bench", full_name=f"Consultant {n}"
            )
            membership_add(by=owner, user=user, role=Role.MEMBER)
        engagement = engagement_create(
            membership=owner,
            client=client_create(membership=owner, name="Client"),
            title=f"Imported engagement {tag}",
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.PEER_REFERRAL,
        )
    return owner, engagement


def _import(path: Path, tag: str):  # type: ignore[no-untyped-def]
    from confiance.consumption.imports.services import import_prepare, import_run

    owner, engagement = _world(tag)
    started = time.perf_counter()
    with path.open("rb") as stream:
        job = import_prepare(
            membership=owner, engagement=engagement, file=stream, filename=path.name
        )
    prepared = time.perf_counter()
    assert job.status == "preview", job.errors[:3]
    job = import_run(job_id=job.pk)
    finished = time.perf_counter()
    assert job.status == "done", job.errors
    return job, prepared - started, finished - prepared


def run(seconds: float = 3.0, rows: int = 100_000) -> None:
    from django.conf import settings

    with tempfile.TemporaryDirectory(prefix="confiance-bench-import-") as tmp:
        directory = Path(tmp)
        settings.VAR_DIR = directory  # stored uploads go to the temporary directory
        path = directory / "entries.csv"
        started = time.perf_counter()
        write_csv(path, rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"\nGenerated {rows:,} rows (generic format, {size_mb:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )

        def read_all() -> None:
            with path.open(encoding="utf-8", newline="") as stream:
                for _ in csv.reader(stream):
                    pass

        baseline = rate(read_all, seconds, warmup=1) * rows

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        job, prepare_s, run_s = _import(path, "timed")
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        total_s = prepare_s + run_s

        (_job, _p, _r), heap_mb = peak_memory(lambda: _import(path, "traced"))

    end_to_end = rows / total_s
    print(f"CSV import of {rows:,} time entries, end to end (validate + write + ledger):")
    report(
        [
            ("csv module, reading the file (baseline)", f"{baseline:10,.0f} rows/s"),
            (
                "prepare: store + validate + preview",
                f"{rows / prepare_s:10,.0f} rows/s   {prepare_s:6.1f} s",
            ),
            (
                "run: entries + ledger, one transaction",
                f"{rows / run_s:10,.0f} rows/s   {run_s:6.1f} s",
            ),
            (
                "end to end",
                f"{end_to_end:10,.0f} rows/s   {total_s:6.1f} s   "
                f"ratio {end_to_end / baseline:.4f}",
            ),
            ("entries created", f"{job.created_count:,}"),
            ("peak Python heap (tracemalloc)", f"{heap_mb:10.1f} MB   bound {BOUND_MB} MB"),
            ("max RSS growth (getrusage)", f"{rss_growth:10.1f} MB   bound {BOUND_MB} MB"),
        ]
    )
    within = heap_mb < BOUND_MB and rss_growth < BOUND_MB
    print(f"  {'within the 300 MB bound' if within else 'OVER THE 300 MB BOUND'}")
