"""Two real worker processes run the schedule's due jobs at the same moment, on one database:
each job runs exactly once, never twice at overlapping times, and only while its runner holds
the job's row (the lock is that row, claimed by one conditional UPDATE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

import pytest
from django.db import connection

from confiance.core import schedule
from confiance.core.models import ScheduledJob

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import json, os, sys, time
from datetime import datetime
import django
django.setup()
from confiance.core import schedule
from confiance.core.models import ScheduledJob

runs = []  # each job this process actually ran: name, who held its row then, start, end
declared = schedule.Job.function


def watched(job):
    run = declared(job)

    def timed():
        holder = ScheduledJob.objects.get(name=job.name).locked_by
        began = time.time()
        try:
            return run()
        finally:
            runs.append([job.name, holder, began, time.time()])

    return timed


schedule.Job.function = watched
start = float(sys.argv[2])
while time.time() < start:  # both processes start their look at the same moment
    time.sleep(0.001)
now = datetime.fromisoformat(sys.argv[3])
outcomes = schedule.schedule_run_due(worker_id=sys.argv[1], now=now)
print(json.dumps({"outcomes": outcomes, "runs": runs}))
"""


def _database_url() -> str:
    found = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{found['NAME']}"
    return (
        f"postgresql://{found['USER']}:{found['PASSWORD']}@{found['HOST'] or 'localhost'}:"
        f"{found['PORT'] or 5432}/{found['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_run_each_due_job_exactly_once(tmp_path) -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("two processes need a database file (or server) they both open")
    from django.utils import timezone

    now = timezone.now()
    schedule._ensure_rows(now)  # every job due now, nobody holding it
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "confiance.settings",
        "PYTHONPATH": str(ROOT),
        "BACKUP_DIR": str(tmp_path / "backups"),
    }
    start = time.time() + 15  # time for both interpreters to load Django
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, name, str(start), now.isoformat()],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    ran: list[str] = []
    runs: list[tuple[str, str, str, float, float]] = []  # job, process, holder, start, end
    for name, worker in zip(("worker-a", "worker-b"), workers, strict=True):
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-2000:]
        told = json.loads(out.strip().splitlines()[-1])
        ran.extend(told["outcomes"])
        runs.extend((job, name, holder, began, ended) for job, holder, began, ended in told["runs"])
    names = sorted(job.name for job in schedule.JOBS)
    assert sorted(ran) == names, "each due job ran in exactly one of the two processes"
    assert sorted(run[0] for run in runs) == names, "each job's function was called once"
    assert all(row.runs == 1 for row in ScheduledJob.objects.all())
    for job, process, holder, _began, _ended in runs:
        assert holder == process, f"{job} ran in {process} while {holder or 'nobody'} held it"
    for a, b in combinations(runs, 2):
        overlap = a[0] == b[0] and a[3] < b[4] and b[3] < a[4]
        assert not overlap, f"{a[0]} ran in {a[1]} and {b[1]} at overlapping times"
