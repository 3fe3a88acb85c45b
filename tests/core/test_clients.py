"""Clients in the interface: create, rename, archive, see contacts; a new client from the engagement
form; invitation defaults and links from the configured public address."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from confiance.core.models import Client, Invitation, Role
from confiance.core.services import client_rename, client_set_archived, invitation_create
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.engagements.services import engagement_set_status
from tests.conftest import World


def _url(world: World, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"ws": world.workspace.slug, **kwargs})


def test_owner_creates_a_client_from_the_clients_page(world: World, login) -> None:
    http = login("owner")
    response = http.post(_url(world, "client-list"), {"name": "  Gamma Hospital "})
    client = Client.objects.get(workspace=world.workspace, name="Gamma Hospital")
    assert response.status_code == 302
    assert response["Location"] == _url(world, "client-detail", pk=client.pk)
    page = http.get(_url(world, "client-list")).content.decode()
    assert "Gamma Hospital" in page and "Client A" in page


def test_a_duplicate_client_name_is_a_field_error_whatever_the_case(world: World, login) -> None:
    response = login("member").post(_url(world, "client-list"), {"name": "client a"})
    assert response.status_code == 400
    assert "This client already exists." in response.content.decode()
    assert Client.objects.filter(workspace=world.workspace).count() == 2


def test_finance_sees_clients_but_cannot_create_one(world: World, login) -> None:
    http = login("finance")
    assert http.get(_url(world, "client-list")).status_code == 200
    assert "Create the client" not in http.get(_url(world, "client-list")).content.decode()
    assert http.post(_url(world, "client-list"), {"name": "Nope"}).status_code == 404
    assert not Client.objects.filter(name="Nope").exists()


def test_rename_keeps_the_client_and_refuses_a_taken_name(world: World, login) -> None:
    http = login("owner")
    url = _url(world, "client-rename", pk=world.client_a.pk)
    assert http.post(url, {"rename-name": "Client B"}).status_code == 400
    assert http.post(url, {"rename-name": "Alpha Group"}).status_code == 302
    world.client_a.refresh_from_db()
    assert world.client_a.name == "Alpha Group"
    assert world.engagement.client_id == world.client_a.pk


def test_a_client_with_live_engagements_cannot_be_archived(world: World) -> None:
    with pytest.raises(ValidationError, match="active or paused"):
        client_set_archived(membership=world.owner, client_id=world.client_a.pk, archived=True)


def test_an_archived_client_is_no_longer_offered_and_can_be_restored(world: World, login) -> None:
    for engagement in (world.engagement_b,):
        engagement_set_status(
            membership=world.owner, engagement=engagement, status=EngagementStatus.PAUSED
        )
        Engagement.objects.filter(pk=engagement.pk).update(status=EngagementStatus.CLOSED)
    http = login("owner")
    response = http.post(_url(world, "client-archive", pk=world.client_b.pk))
    assert response.status_code == 302
    world.client_b.refresh_from_db()
    assert world.client_b.archived_at is not None
    form_page = http.get(_url(world, "engagement-create")).content.decode()
    assert "Client A" in form_page and "Client B" not in form_page
    members_page = http.get(_url(world, "members")).content.decode()
    assert "Client B</option>" not in members_page
    with pytest.raises(ValidationError):
        invitation_create(
            membership=world.owner, email="x@b.test", role=Role.CLIENT, client=world.client_b
        )
    http.post(_url(world, "client-archive", pk=world.client_b.pk), {"restore": "1"})
    world.client_b.refresh_from_db()
    assert world.client_b.archived_at is None


def test_rename_by_a_client_contact_is_refused(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        client_rename(membership=world.client_contact, client_id=world.client_a.pk, name="Mine")


def test_client_page_shows_contacts_and_engagements_to_the_provider(world: World, login) -> None:
    page = login("member").get(_url(world, "client-detail", pk=world.client_a.pk)).content.decode()
    assert "Carla Contact" in page
    assert "Alpha migration" in page and "Alpha draft" in page
    assert "Beta audit" not in page


def test_client_contact_sees_its_own_overview_without_drafts(world: World, login) -> None:
    http = login("client_contact")
    page = http.get(_url(world, "client-detail", pk=world.client_a.pk)).content.decode()
    assert "Alpha migration" in page
    assert "Alpha draft" not in page, "drafts stay hidden from the client"
    assert "Rename" not in page and "Archive" not in page
    assert "Overview" in page, "the client's own page is in its menu"
    assert http.get(_url(world, "client-detail", pk=world.client_b.pk)).status_code == 404


def test_client_page_shows_its_engagements_a_page_at_a_time(
    world: World, login, monkeypatch
) -> None:
    from confiance.engagements import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 1)
    url = _url(world, "client-detail", pk=world.client_a.pk)
    http = login("member")
    first, second = (http.get(url, {"page": n}).content.decode() for n in (1, 2))
    shown = [("Alpha migration" in page, "Alpha draft" in page) for page in (first, second)]
    assert sorted(shown) == [(False, True), (True, False)], "each engagement on one page"
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    page = login("client_contact").get(url).content.decode()
    assert "Alpha migration" in page and "Page 1 of" not in page, "drafts are not counted"


# A new client straight from the engagement form -----------------------------------------------


def _engagement_post(**extra: str) -> dict[str, str]:
    return {
        "title": "Gamma study",
        "contact_origin": "chance",
        "status": "active",
        **extra,
    }


def test_an_engagement_form_creates_its_new_client(world: World, login) -> None:
    response = login("owner").post(
        _url(world, "engagement-create"), _engagement_post(new_client="Gamma Hospital")
    )
    assert response.status_code == 302
    engagement = Engagement.objects.get(title="Gamma study")
    assert engagement.client.name == "Gamma Hospital"
    assert engagement.client.workspace == world.workspace


def test_engagement_form_needs_one_client_and_only_one(world: World, login) -> None:
    http = login("owner")
    neither = http.post(_url(world, "engagement-create"), _engagement_post())
    assert neither.status_code == 400
    assert "Choose a client, or type the name of a new one" in neither.content.decode()
    both = http.post(
        _url(world, "engagement-create"),
        _engagement_post(client=str(world.client_a.pk), new_client="Gamma"),
    )
    assert both.status_code == 400
    assert not Engagement.objects.filter(title="Gamma study").exists()
    assert not Client.objects.filter(name="Gamma").exists()


def test_a_taken_new_client_name_loses_nothing(world: World, login) -> None:
    response = login("owner").post(
        _url(world, "engagement-create"), _engagement_post(new_client="Client B")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This client already exists." in page
    assert 'value="Gamma study"' in page, "what was typed stays in the form"
    assert not Engagement.objects.filter(title="Gamma study").exists()


def test_an_engagement_from_a_client_page_has_its_client_chosen(world: World, login) -> None:
    page = login("owner").get(_url(world, "engagement-create") + f"?client={world.client_b.pk}")
    assert f'<option value="{world.client_b.pk}" selected>' in page.content.decode()


# Invitations: sensible default role, copy button, links from the public address ---------------


def _selected_role(html: str) -> str:
    import re

    select = re.search(r'<select name="role"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    chosen = re.search(r'<option value="(\w+)" selected>', select.group(1))
    assert chosen is not None
    return chosen.group(1)


def test_invitation_role_defaults_to_client_contact_never_owner(world: World, login) -> None:
    html = login("owner").get(_url(world, "members")).content.decode()
    assert _selected_role(html) == "client"
    assert html.index('value="owner"') > html.index('value="member"'), "owner is offered last"


def test_without_clients_the_default_role_is_a_consultant(world: World, login) -> None:
    Client.objects.filter(workspace=world.workspace).update(archived_at="2026-01-01T00:00Z")
    assert _selected_role(login("owner").get(_url(world, "members")).content.decode()) == "member"


def test_invite_a_contact_from_the_client_page_prefills_the_form(world: World, login) -> None:
    url = _url(world, "members") + f"?role=client&client={world.client_b.pk}"
    html = login("member").get(url).content.decode()
    assert _selected_role(html) == "client"
    assert f'<option value="{world.client_b.pk}" selected>' in html


def test_invitation_link_follows_the_request_host_in_development(
    world: World, login, settings
) -> None:
    settings.SITE_URL_CONFIGURED = False
    settings.ALLOWED_HOSTS = ["192.168.1.20"]
    response = login("owner").post(
        _url(world, "members"),
        {"email": "new@client-a.test", "role": "client", "client": world.client_a.pk},
        HTTP_HOST="192.168.1.20:8000",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="http://192.168.1.20:8000/invitations/' in html
    assert "data-copy=" in html, "a copy button beside the link"


def test_invitation_link_uses_the_configured_public_address(
    world: World, login, settings, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    settings.SITE_URL_CONFIGURED = True
    settings.SITE_URL = "https://confiance.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        response = login("owner").post(
            _url(world, "members"),
            {"email": "new@client-a.test", "role": "client", "client": world.client_a.pk},
        )
    assert response.status_code == 200
    assert 'value="https://confiance.example.com/invitations/' in response.content.decode()
    assert "https://confiance.example.com/invitations/" in mail.outbox[-1].body
    assert Invitation.objects.get(email="new@client-a.test").client == world.client_a
