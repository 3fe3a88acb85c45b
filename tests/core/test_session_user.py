"""A workspace page reads the session's user with the membership, and still ends a session
exactly when Django would: log-out, a password change, a deactivated account."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tests.conftest import World

pytestmark = pytest.mark.django_db


def _page(world: World) -> str:
    return f"/w/{world.workspace.slug}/engagements/"


def test_the_user_and_the_membership_are_one_query(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    assert http.get(_page(world)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert http.get(_page(world)).status_code == 200
    alone = [q["sql"] for q in queries.captured_queries if 'FROM "core_user" WHERE' in q["sql"]]
    assert alone == []  # Django's own read of the session's user: joined to the membership now
    first = queries.captured_queries[0]["sql"]
    assert 'FROM "core_membership"' in first and '"core_user"."password"' in first


def test_a_password_change_ends_the_other_sessions(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    assert http.get(_page(world)).status_code == 200
    user = world.member.user
    user.set_password("a new long passphrase 42")
    user.save()
    answer = http.get(_page(world))
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_a_deactivated_person_is_sent_to_log_in(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("client_contact")
    assert http.get(_page(world)).status_code == 200
    world.client_contact.user.is_active = False
    world.client_contact.user.save(update_fields=["is_active"])
    answer = http.get(_page(world))
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_after_log_out_a_workspace_page_asks_to_log_in(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("owner")
    assert http.get(_page(world)).status_code == 200
    http.post("/accounts/logout/")
    answer = http.get(_page(world))
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


def test_another_workspace_stays_not_found(login, world: World, client: HttpClient) -> None:  # type: ignore[no-untyped-def]
    http = login("outsider")
    assert http.get(_page(world)).status_code == 404
