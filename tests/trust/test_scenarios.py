"""The scenario suite: do alerts come before the client complains, and never on healthy work?

Eighteen histories of 120 days (tests/trust/scenarios.py), built through the services with a
moving clock, one test each so that the xdist workers share them (tests/conftest.py spreads this
file's tests one by one). The figures over all of them (share of trouble histories alerted before
the complaint, median lead, false alerts) are computed and printed at the end of the session by
tests/conftest.py, which fails the run when one misses its target (tests/trust/scenario_figures.py;
docs/trust.md keeps the figures).
"""

from __future__ import annotations

import pytest

from tests.trust.scenario_figures import PROPERTY
from tests.trust.scenarios import STORIES, run_all

pytestmark = pytest.mark.django_db


def test_the_histories_have_distinct_names() -> None:
    assert len({s.name for s in STORIES}) == len(STORIES)


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_history(story, settings, record_property) -> None:  # type: ignore[no-untyped-def]
    # Tasks queue and are not run: the day's scheduled refresh folds everything in, as a busy
    # worker would.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    [outcome] = run_all([story])
    record_property(PROPERTY, outcome.dumps())  # for the session's figures (tests/conftest.py)
    if story.complaint is None:
        assert outcome.alerts == (), "a false alert on a healthy history"
