"""`{% remember %}`: the navigation's links, remembered per process, are what rendering them
afresh writes, for every persona, page and language, and follow the counts they show."""

from __future__ import annotations

import re

from django.test import Client as HttpClient

from confiance.core.models import Notice
from confiance.core.templatetags import remember_tags
from tests.conftest import PERSONAS, World


def _nav(http: HttpClient, url: str) -> str:
    html = http.get(url).content.decode()
    found = re.search(r'<ul class="nav-links">.*?</ul>', html, re.S)
    assert found is not None
    return found.group(0)


def test_remembered_links_are_the_rendered_ones(world: World) -> None:
    urls = ("/w/provider/notices/", "/w/provider/engagements/", "/w/provider/tokens/")
    seen = {}
    for language in ("en", "fr"):
        for persona in PERSONAS:
            if persona == "outsider":
                continue
            http = HttpClient(headers={"accept-language": language})
            http.cookies["django_language"] = language
            http.force_login(world.user(persona))
            for url in urls:
                warm = _nav(http, url)  # remembered after the other personas' pages
                remember_tags._cache.clear()
                assert _nav(http, url) == warm, (persona, url, language)
                # remembered, not rendered each time
                assert any(key[3] == "nav-links" for key in remember_tags._cache)
                seen[persona, url, language] = warm
    assert 'aria-current="page">Notices' in seen["owner", "/w/provider/notices/", "en"]
    assert "Settings" in seen["owner", "/w/provider/tokens/", "en"]
    assert "Settings" not in seen["member", "/w/provider/tokens/", "en"]
    client_a = world.client_a.pk
    assert f"/clients/{client_a}/" in seen["client_contact", "/w/provider/tokens/", "en"]
    assert f"/clients/{client_a}/" not in seen["other_client_contact", "/w/provider/tokens/", "en"]
    notices = "/w/provider/notices/"
    assert seen["owner", notices, "en"] != seen["owner", notices, "fr"]


def test_the_unread_count_is_part_of_the_key(world: World, client: HttpClient) -> None:
    client.force_login(world.owner.user)
    assert "1 unread" not in _nav(client, "/w/provider/tokens/")
    Notice.objects.create(workspace=world.workspace, user=world.owner.user, kind="test")
    assert "1 unread" in _nav(client, "/w/provider/tokens/")


def test_the_ledger_texts_follow_the_lead_and_the_language(world: World) -> None:
    from confiance.engagements.models import Engagement

    http = HttpClient()
    http.force_login(world.client_contact.user)
    url = f"/w/provider/engagements/{world.engagement.pk}/consumption/"

    def failed() -> str:
        html = http.get(url).content.decode()
        found = re.search(r'data-msg-failed="([^"]*)"', html)
        assert found is not None and "data-ledger-key" in html
        return found.group(1)

    assert "Contact Provider and keep" in failed()  # no lead
    lead = world.owner.user
    Engagement.objects.filter(pk=world.engagement.pk).update(lead=lead)
    assert f"Contact {lead.get_full_name()} ({lead.email}), who leads" in failed()
    lead.full_name = "Renamed Lead"
    lead.save(update_fields=["full_name"])
    assert f"Contact Renamed Lead ({lead.email}), who leads" in failed()
    Engagement.objects.filter(pk=world.engagement.pk).update(lead=None)
    assert "Contact Provider and keep" in failed()
    http.cookies["django_language"] = "fr"
    assert "Contactez Provider et conservez" in failed()


def test_the_list_filter_follows_the_status_asked(world: World, client: HttpClient) -> None:
    client.force_login(world.owner.user)

    def form(query: str) -> str:
        html = client.get(f"/w/provider/engagements/{query}").content.decode()
        found = re.search(r'<form method="get" class="filters".*?</form>', html, re.S)
        assert found is not None
        return found.group(0)

    queries = ("", "?status=active", "?status=nonsense", "?status=draft", "?status=active")
    warm = [form(query) for query in queries]
    fresh = []
    for query in queries:
        remember_tags._cache.clear()
        fresh.append(form(query))
    assert warm == fresh
    assert '<option value="active" selected>' in warm[1]
    assert '<option value="active" selected>' not in warm[0] + warm[3]
    assert warm[1] == warm[4] and len(set(warm)) == 4
