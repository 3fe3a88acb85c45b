"""Password reset by e-mail, and French for browsers that ask for it."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client as HttpClient

from tests.conftest import World


def test_password_reset_by_email(client: HttpClient, world: World) -> None:
    email = world.member.user.email
    response = client.post("/accounts/password-reset/", {"email": email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    link = re.search(r"http://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    # The links a process remembers (core/templatetags/url_remembered.py) never hold the token.
    from confiance.core.templatetags.url_remembered import _urls

    token = path.rstrip("/").rsplit("/", 1)[1]
    assert not [url for url in _urls.values() if token in url]
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "another-long-passphrase-7",
            "new_password2": "another-long-passphrase-7",
        },
    )
    assert done.status_code == 302
    assert HttpClient().login(username=email, password="another-long-passphrase-7")
    # The link works once.
    again = client.get("/" + path, follow=True)
    assert not again.context["validlink"]


def test_unknown_address_gets_the_same_answer(client: HttpClient, world: World) -> None:
    response = client.post("/accounts/password-reset/", {"email": "nobody@nowhere.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_french_when_the_browser_asks_for_it(client: HttpClient, db) -> None:
    from confiance.core.models import User

    User.objects.create_user("someone@x.test", "pw")  # past the first-run page
    page = client.get("/accounts/login/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert b'lang="fr"' in page.content
    assert b"Se connecter" in page.content
    english = HttpClient().get("/accounts/login/", headers={"Accept-Language": "en-GB"})
    assert b'lang="en"' in english.content and b"Log in" in english.content


def test_language_switch_is_remembered(client: HttpClient, world: World) -> None:
    client.force_login(world.client_contact.user)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = client.get(f"/w/{world.workspace.slug}/engagements/")
    assert b'lang="fr"' in page.content
