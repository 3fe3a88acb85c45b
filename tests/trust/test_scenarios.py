"""The scenario suite: do alerts come before the client complains, and never on healthy work?

Eighteen histories of 120 days (tests/trust/scenarios.py), built through the services with a
moving clock. Prints the share of trouble histories alerted before the complaint, the median lead
time and the false alerts (run with -s to see them; docs/trust.md keeps the figures).
"""

from __future__ import annotations

import pytest

from tests.trust.scenarios import STORIES, report, run_all

pytestmark = pytest.mark.django_db


def test_alerts_come_before_the_complaint_and_never_on_healthy_work(settings) -> None:
    # Tasks queue and are not run: the day's scheduled refresh folds everything in, as a busy
    # worker would.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    results = run_all()
    found = report(results)
    assert found.trouble >= 10 and found.healthy >= 5
    assert len({s.name for s in STORIES}) == len(STORIES)
    assert found.false_alerts == 0
    assert found.share >= 0.9
    assert found.median_lead is not None and found.median_lead >= 14
