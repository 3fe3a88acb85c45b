"""On PostgreSQL a page's queries are planned once per connection: a statement run twice is
prepared on the server at its next run, and later runs use it
(settings: DATABASE_PREPARED_STATEMENTS)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import World

pytestmark = pytest.mark.django_db


def _prepared() -> dict[str, int]:
    """The statements prepared on this connection, with the number of times each was run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return {statement: runs for statement, runs in cursor.fetchall()}


def test_the_pages_queries_are_prepared_once_and_reused(login, world: World) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    http = login("owner")
    page = f"/w/{world.workspace.slug}/engagements/"
    for _ in range(3):  # run twice, then prepared at the third run
        assert http.get(page).status_code == 200
    before = _prepared()
    membership = [s for s in before if 'FROM "core_membership"' in s and "core_user" in s]
    assert membership, "the page's membership query is prepared"
    assert http.get(page).status_code == 200
    after = _prepared()
    assert after[membership[0]] > before[membership[0]], "and the next run uses it"


def test_a_statement_is_sent_with_its_parameters_apart(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    # A value is never spliced into the text: two workspaces' reads share one statement.
    from confiance.core.models import Workspace

    for pk in (world.workspace.pk, world.other_workspace.pk) * 3:
        assert Workspace.objects.filter(pk=pk).exists()
    texts = [s for s in _prepared() if 'FROM "core_workspace"' in s and "LIMIT 1" in s]
    assert texts and all("$1" in text for text in texts)
