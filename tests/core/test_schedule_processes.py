"""Two real worker processes run the schedule's due jobs at the same moment, on one database:
each job runs exactly once (the lock is the job's row, claimed by one conditional UPDATE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
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
from confiance.core.schedule import schedule_run_due
start = float(sys.argv[2])
while time.time() < start:  # both processes start their look at the same moment
    time.sleep(0.001)
print(json.dumps(schedule_run_due(worker_id=sys.argv[1], now=datetime.fromisoformat(sys.argv[3]))))
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
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-2000:]
        ran.extend(json.loads(out.strip().splitlines()[-1]))
    names = sorted(job.name for job in schedule.JOBS)
    assert sorted(ran) == names, "each due job ran in exactly one of the two processes"
    assert all(row.runs == 1 for row in ScheduledJob.objects.all())
