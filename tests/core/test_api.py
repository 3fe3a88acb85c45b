"""The API: hashed personal tokens, the same access policy as the pages, JSON errors, no 500."""

from __future__ import annotations

import hashlib

from django.test import Client as HttpClient

from confiance.core.models import ApiToken
from confiance.core.services import api_token_create
from tests.conftest import World


def _get(url: str, token: str | None = None) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return HttpClient().get(url, headers=headers)


def test_token_is_shown_once_and_stored_hashed(login, world: World) -> None:
    response = login("member").post(f"/w/{world.workspace.slug}/tokens/", {"name": "script"})
    plaintext = response.context["plaintext"]
    assert plaintext.startswith("cf_") and plaintext.encode() in response.content
    token = ApiToken.objects.get(name="script")
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    again = login("member").get(f"/w/{world.workspace.slug}/tokens/")
    assert plaintext.encode() not in again.content


def test_client_lists_only_its_clients_shared_engagements(world: World) -> None:
    _, token = api_token_create(membership=world.client_contact, name="t")
    data = _get("/api/v1/engagements", token).json()
    titles = {item["title"] for item in data["results"]}
    assert titles == {world.engagement.title}, "no draft, no other client's engagement"
    assert data["next"] is None
    assert "internal_notes" not in data["results"][0]


def test_member_lists_the_whole_workspace_and_nothing_else(world: World) -> None:
    _, token = api_token_create(membership=world.member, name="t")
    titles = {i["title"] for i in _get("/api/v1/engagements", token).json()["results"]}
    assert titles == {world.engagement.title, world.draft.title, world.engagement_b.title}


def test_other_workspace_engagement_is_not_found(world: World) -> None:
    _, token = api_token_create(membership=world.member, name="t")
    response = _get(f"/api/v1/engagements/{world.foreign_engagement.pk}", token)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_revoked_or_wrong_token_is_refused(world: World) -> None:
    token, plaintext = api_token_create(membership=world.member, name="t")
    assert _get("/api/v1/engagements", plaintext).status_code == 200
    login = HttpClient()
    login.force_login(world.member.user)
    login.post(f"/w/{world.workspace.slug}/tokens/{token.pk}/revoke/")
    assert _get("/api/v1/engagements", plaintext).status_code == 401
    assert _get("/api/v1/engagements", plaintext[:-1] + "x").status_code == 401
    assert _get("/api/v1/engagements", "not-a-token").status_code == 401


def test_bad_input_gets_a_json_error_not_a_500(world: World) -> None:
    _, token = api_token_create(membership=world.member, name="t")
    for url in [
        "/api/v1/engagements?status=bogus",
        "/api/v1/engagements?page_size=many",
        "/api/v1/engagements?cursor=not-base64",
        "/api/v1/engagements/not-a-number",
        "/api/v1/engagements/99999999999999999999999",
    ]:
        response = _get(url, token)
        assert 400 <= response.status_code < 500, url
        assert response.headers["Content-Type"].startswith("application/json"), url


def test_openapi_schema_describes_the_engagement_endpoints(db) -> None:
    schema = HttpClient().get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/engagements" in schema["paths"]
    assert (
        "BearerAuth" in str(schema["components"]["securitySchemes"])
        or schema["components"]["securitySchemes"]
    )
