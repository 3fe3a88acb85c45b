"""Rules of the core services: every write audited, the audit log append-only, first run."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient

from confiance.core.models import AuditEvent, User, Workspace
from confiance.core.services import client_create, first_run_setup
from confiance.engagements.models import ContactOrigin
from confiance.engagements.services import engagement_create
from tests.conftest import PASSWORD, World


def test_every_write_of_the_fixture_is_audited(world: World) -> None:
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"workspace.create", "client.create", "membership.add", "engagement.create"} <= verbs
    event = AuditEvent.objects.filter(verb="engagement.create").order_by("id").first()
    assert event.actor == world.owner.user
    assert event.workspace == world.workspace


def test_audit_log_cannot_be_edited_or_deleted(world: World) -> None:
    event = AuditEvent.objects.first()
    event.verb = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(verb="rewritten")
    assert not AuditEvent.objects.filter(verb="rewritten").exists()


def test_first_run_creates_owner_then_disappears(client: HttpClient, db) -> None:
    assert client.get("/").url == "/setup/"
    response = client.post(
        "/setup/",
        {
            "full_name": "Ada First",
            "email": "ada@first.test",
            "password": "a-long-passphrase-42",
            "workspace_name": "First Consulting",
        },
    )
    assert response.status_code == 302
    workspace = Workspace.objects.get()
    assert workspace.memberships.get().role == "owner"
    assert client.get("/setup/").status_code == 404
    with pytest.raises(PermissionDenied):
        first_run_setup(email="b@b.test", password="x", full_name="B", workspace_name="B")


def test_first_run_shows_field_errors_and_writes_nothing(client: HttpClient, db) -> None:
    response = client.post("/setup/", {"full_name": "", "email": "not-an-address", "password": "1"})
    assert response.status_code == 200
    form = response.context["form"]
    assert {"full_name", "email", "password", "workspace_name"} <= set(form.errors)
    assert not User.objects.exists()


def test_member_cannot_create_clients_in_another_workspace(world: World) -> None:
    with pytest.raises(PermissionDenied):
        client_create(membership=world.finance, name="Sneaky")
    with pytest.raises(ValidationError):
        engagement_create(
            membership=world.owner,
            client=world.foreign_engagement.client,
            title="Cross-tenant",
            contact_origin=ContactOrigin.CHANCE,
        )


def test_login_is_throttled_after_repeated_failures(client: HttpClient, world: World, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    email = world.member.user.email
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": email, "password": "wrong"})
        assert response.status_code == 200
    # Even the right password waits while throttled (tests/core/test_throttle.py: then it works).
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_login_with_the_right_password_works(client: HttpClient, world: World) -> None:
    response = client.post(
        "/accounts/login/", {"username": world.member.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(response.url, follow=True).status_code == 200


def test_owner_sets_the_late_logging_threshold_and_others_cannot(login, world: World) -> None:
    url = f"/w/{world.workspace.slug}/settings/"
    data = {
        "name": "Provider",
        "currency": "EUR",
        "minutes_per_day": 420,
        "late_logging_days": 5,
        "show_amounts_to_client": "on",
    }
    assert login("member").post(url, data).status_code == 404
    assert login("owner").post(url, {**data, "currency": "euros"}).status_code == 400
    assert login("owner").post(url, data).status_code == 302
    world.workspace.refresh_from_db()
    assert (world.workspace.late_logging_days, world.workspace.minutes_per_day) == (5, 420)
    assert world.workspace.show_amounts_to_client
    assert AuditEvent.objects.filter(verb="workspace.update").exists()
