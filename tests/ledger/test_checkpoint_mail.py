"""Each client contact's weekly e-mail carries the ledger's latest signed checkpoint; a key
change is told to every reader at once, in their language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import mail
from django.utils import timezone

from confiance.ledger import services
from confiance.ledger.bundle import verify_bundle
from confiance.ledger.checkpoint import verify_note
from tests.conftest import World
from tests.ledger.test_verify_cli import export, log_entries


def contact_mails(world: World, persona: str) -> list[Any]:
    email = world.user(persona).email
    return [m for m in mail.outbox if m.to == [email]]


def test_client_contacts_get_the_same_signed_checkpoint_weekly(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    log_entries(world, 3, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    assert services.checkpoint_mail_send() == 1
    sent = contact_mails(world, "client_contact")
    assert len(sent) == 1
    assert contact_mails(world, "other_client_contact") == []  # another client's contact
    message = sent[0]
    assert "latest signed checkpoint (3 entries)" in message.subject
    filename, content, mimetype = message.attachments[0]
    assert filename.endswith("-3.txt") and mimetype.startswith("text/plain")
    note = content if isinstance(content, str) else content.decode()
    verify_note(note, services.log_verifier_key(world.engagement))
    assert note in message.body
    # The attachment is what `confiance verify --known` takes: it vouches for the bundle.
    assert verify_bundle(
        export(world, "client_contact"),
        key=services.log_verifier_key(world.engagement),
        known=[note],
    ).ok

    # Nothing new within the week, nor when the ledger did not grow.
    mail.outbox.clear()
    assert services.checkpoint_mail_send() == 0
    later = timezone.now() + timedelta(days=8)
    assert services.checkpoint_mail_send(now=later) == 0
    log_entries(world, 1, django_capture_on_commit_callbacks)
    assert services.checkpoint_mail_send() == 0  # mailed less than a week ago
    assert services.checkpoint_mail_send(now=later) == 1
    assert "(4 entries)" in contact_mails(world, "client_contact")[0].subject


def test_a_contact_reads_it_in_french_and_may_turn_it_off(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    user = world.user("client_contact")
    user.language = "fr"
    user.notice_modes = {"ledger": "off"}
    user.save(update_fields=["language", "notice_modes"])
    log_entries(world, 2, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    services.checkpoint_mail_send()
    assert contact_mails(world, "client_contact") == []
    user.notice_modes = {}
    user.save(update_fields=["notice_modes"])
    log_entries(world, 1, django_capture_on_commit_callbacks)
    services.checkpoint_mail_send(now=timezone.now() + timedelta(days=8))
    (message,) = contact_mails(world, "client_contact")
    assert "dernier point de contrôle signé du registre (3 entrées)" in message.subject


def test_every_reader_is_told_of_a_key_change(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    world.user("client_contact").language = "fr"
    world.user("client_contact").save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.workspace_key_rotate(
            workspace=world.workspace, actor=world.owner.user, reason="Clé perdue"
        )
    (message,) = contact_mails(world, "client_contact")
    assert "a remplacé la clé qui signe ses registres" in message.subject
    assert "Clé perdue" in message.body
    assert contact_mails(world, "expert") == []
    assert contact_mails(world, "owner") == []  # who rotated it knows
