"""Invitations: sent by e-mail, accepted once, refused when expired, reused or tampered."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client as HttpClient
from django.utils import timezone

from confiance.core.models import AuditEvent, Invitation, Membership, Role
from confiance.core.services import invitation_create
from tests.conftest import World


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def test_member_invites_and_the_email_carries_the_link(
    login, world: World, django_capture_on_commit_callbacks
) -> None:
    http = login("member")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = http.post(
            f"/w/{world.workspace.slug}/members/",
            {"email": "New.Person@Client-A.test", "role": Role.CLIENT, "client": world.client_a.pk},
        )
    assert response.status_code == 200
    assert len(callbacks) == 1, "the e-mail is sent only once the invitation is committed"
    invitation = Invitation.objects.get(email="new.person@client-a.test")
    assert invitation.role == Role.CLIENT and invitation.client == world.client_a
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@client-a.test"]
    link = response.context["issued_link"]
    assert link in message.body, "the e-mail and the inviter see the same link"
    assert link.encode() in response.content


def test_accepting_creates_the_account_and_membership(client: HttpClient, world: World) -> None:
    issued = invitation_create(
        membership=world.owner,
        email="newcomer@client-a.test",
        role=Role.CLIENT,
        client=world.client_a,
    )
    url = "/invitations/" + _token(issued.link) + "/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"full_name": "Nina Newcomer", "password": "a-long-passphrase-42"})
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="newcomer@client-a.test")
    assert membership.role == Role.CLIENT and membership.client == world.client_a
    assert AuditEvent.objects.filter(verb="invitation.accept").count() == 1
    # The new person is logged in and sees the client's engagement.
    page = client.get(f"/w/{world.workspace.slug}/engagements/")
    assert world.engagement.title.encode() in page.content


def test_reused_link_is_refused_with_a_clear_page(client: HttpClient, world: World) -> None:
    issued = invitation_create(membership=world.owner, email="x@client-a.test", role=Role.EXPERT)
    url = "/invitations/" + _token(issued.link) + "/"
    client.post(url, {"full_name": "X", "password": "a-long-passphrase-42"})
    second = HttpClient().get(url)
    assert second.status_code == 410
    assert b"already been used" in second.content
    assert Membership.objects.filter(user__email="x@client-a.test").count() == 1


def test_tampered_link_is_refused(client: HttpClient, world: World) -> None:
    issued = invitation_create(membership=world.owner, email="y@client-a.test", role=Role.EXPERT)
    token = _token(issued.link)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(f"/invitations/{tampered}/")
    assert response.status_code == 410
    assert b"not valid" in response.content
    # A valid signature over another invitation's id with a wrong nonce is refused too.
    forged = signing.dumps({"i": issued.invitation.pk, "n": "0" * 32}, salt="confiance.invitation")
    assert client.get(f"/invitations/{forged}/").status_code == 410


def test_expired_link_is_refused(client: HttpClient, world: World, monkeypatch) -> None:
    issued = invitation_create(membership=world.owner, email="z@client-a.test", role=Role.EXPERT)
    url = "/invitations/" + _token(issued.link) + "/"
    eight_days_later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_later)
    response = client.get(url)
    assert response.status_code == 410
    assert b"expired" in response.content
    response = client.post(url, {"full_name": "Z", "password": "a-long-passphrase-42"})
    assert response.status_code == 410
    assert not Membership.objects.filter(user__email="z@client-a.test").exists()


def test_expiry_date_is_enforced_even_with_a_fresh_signature(client: HttpClient, world: World):
    issued = invitation_create(membership=world.owner, email="w@client-a.test", role=Role.EXPERT)
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get("/invitations/" + _token(issued.link) + "/").status_code == 410


def test_withdrawn_invitation_is_refused(login, world: World) -> None:
    issued = invitation_create(membership=world.owner, email="v@client-a.test", role=Role.EXPERT)
    http = login("owner")
    http.post(f"/w/{world.workspace.slug}/invitations/{issued.invitation.pk}/revoke/")
    response = HttpClient().get("/invitations/" + _token(issued.link) + "/")
    assert response.status_code == 410
    assert b"withdrawn" in response.content


def test_member_cannot_grant_owner_rights(login, world: World) -> None:
    http = login("member")
    response = http.post(
        f"/w/{world.workspace.slug}/members/", {"email": "boss@x.test", "role": Role.OWNER}
    )
    assert response.status_code == 400
    assert not Invitation.objects.filter(email="boss@x.test").exists()


def test_client_invitation_needs_a_client(login, world: World) -> None:
    http = login("owner")
    response = http.post(
        f"/w/{world.workspace.slug}/members/", {"email": "c@x.test", "role": Role.CLIENT}
    )
    assert response.status_code == 400
    assert "client" in response.context["form"].errors
    assert not Invitation.objects.filter(email="c@x.test").exists()


@pytest.mark.parametrize("persona", ["client_contact", "expert", "finance"])
def test_people_without_invite_rights_cannot_invite(login, world: World, persona: str) -> None:
    http = login(persona)
    response = http.post(
        f"/w/{world.workspace.slug}/members/", {"email": "q@x.test", "role": Role.EXPERT}
    )
    assert response.status_code == 404
    assert not Invitation.objects.filter(email="q@x.test").exists()


def test_the_newcomer_is_written_to_in_the_language_chosen_for_them(
    login, world: World, django_capture_on_commit_callbacks
) -> None:
    """An English-speaking inviter invites a French-speaking client contact: the e-mail, the
    acceptance page and the new account are French, whatever the inviter reads."""
    http = login("owner")
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            f"/w/{world.workspace.slug}/members/",
            {
                "email": "chloe@client-a.test",
                "role": Role.CLIENT,
                "client": world.client_a.pk,
                "language": "fr",
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 200
    assert b"Invitation sent" in response.content, "the inviter keeps reading English"
    assert Invitation.objects.get(email="chloe@client-a.test").language == "fr"
    (message,) = mail.outbox
    assert message.subject.startswith("Invitation à rejoindre")
    url = "/invitations/" + _token(response.context["issued_link"]) + "/"
    newcomer = HttpClient()  # a browser that chose no language, even one asking for English
    page = newcomer.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and page["Content-Language"] == "fr"
    accepted = newcomer.post(url, {"full_name": "Chloé Martin", "password": "a-long-passphrase-42"})
    assert accepted.status_code == 302
    membership = Membership.objects.get(user__email="chloe@client-a.test")
    assert membership.user.language == "fr", "their notices and e-mails will be French"
    assert accepted.cookies["django_language"].value == "fr", "and so will their pages"


def test_by_default_the_invitation_speaks_the_inviters_language_and_a_choice_wins(
    login, world: World, django_capture_on_commit_callbacks
) -> None:
    http = login("owner")
    http.cookies["django_language"] = "fr"
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            f"/w/{world.workspace.slug}/members/", {"email": "ana@x.test", "role": Role.EXPERT}
        )
    assert response.status_code == 200
    invitation = Invitation.objects.get(email="ana@x.test")
    assert invitation.language == "fr"
    # The newcomer's browser already chose English on our site: their choice wins.
    newcomer = HttpClient()
    newcomer.cookies["django_language"] = "en"
    url = "/invitations/" + _token(response.context["issued_link"]) + "/"
    assert newcomer.get(url)["Content-Language"] == "en"
    newcomer.post(url, {"full_name": "Ana", "password": "a-long-passphrase-42"})
    assert Membership.objects.get(user__email="ana@x.test").user.language == "en"
