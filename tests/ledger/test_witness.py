"""The witness (C2SP tlog-witness) refuses what does not extend what it saw; the provider's
side submits each checkpoint, stores cosignatures, and never blocks a write on a witness."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entries_log
from confiance.ledger import services, witnessing
from confiance.ledger.bundle import verify_bundle
from confiance.ledger.checkpoint import (
    COSIGNATURE_ALGORITHM,
    format_checkpoint,
    generate_signing_key,
    parse_verifier_key,
    sign_checkpoint,
)
from confiance.ledger.merkle import canonical_json, consistency_proof, root_hash
from confiance.ledger.models import Cosignature, LedgerNode
from confiance.ledger.models import Witness as WitnessRow
from confiance.ledger.witness import Witness, WitnessStore
from confiance.ledger.witness_cli import make_server
from tests.conftest import World

ORIGIN = "confiance.ledger/acme-00000000/7"
LOG_KEY, LOG_VKEY = generate_signing_key(ORIGIN)
W_KEY, W_VKEY = generate_signing_key("client.example/w1", COSIGNATURE_ALGORITHM)
LEAVES = [canonical_json({"n": i}) for i in range(20)]


def note(size: int, leaves: list[bytes] = LEAVES, key: bytes = LOG_KEY) -> str:
    return sign_checkpoint(format_checkpoint(ORIGIN, size, root_hash(leaves[:size])), ORIGIN, key)


def request(old: int, size: int, leaves: list[bytes] = LEAVES, key: bytes = LOG_KEY) -> bytes:
    proof = consistency_proof(leaves[:size], old) if old else []
    lines = [f"old {old}", *(base64.b64encode(p).decode() for p in proof)]
    return ("\n".join(lines) + "\n\n" + note(size, leaves, key)).encode()


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness(
        name="client.example/w1",
        private_key=W_KEY,
        logs=[parse_verifier_key(LOG_VKEY)],
        store=WitnessStore(tmp_path / "state.sqlite3"),
    )


def test_witness_cosigns_extensions_and_refuses_everything_else(witness: Witness) -> None:
    first = witness.add_checkpoint(request(0, 5))
    assert first.status == 200 and first.body.decode().startswith("\u2014 client.example/w1 ")
    assert witness.add_checkpoint(request(5, 12)).status == 200
    # Wrong old size: 409 with the size it knows.
    conflict = witness.add_checkpoint(request(5, 15))
    assert (conflict.status, conflict.body, conflict.content_type) == (
        409,
        b"12\n",
        "text/x.tlog.size",
    )
    # A split view: another history of the same size, or a proof that does not verify.
    other = [canonical_json({"n": -i}) for i in range(20)]
    assert witness.add_checkpoint(request(12, 12, other)).status == 422
    assert witness.add_checkpoint(request(12, 15, other)).status == 422
    # Rollback: an older size is a conflict, never cosigned.
    assert witness.add_checkpoint(request(5, 5)).status == 409
    assert witness.store.get(ORIGIN)[0] == 12


def test_witness_answers_the_spec_status_codes(witness: Witness) -> None:
    foreign_key, _vkey = generate_signing_key(ORIGIN)
    assert witness.add_checkpoint(request(0, 3, key=foreign_key)).status == 403
    unknown = request(0, 3).replace(ORIGIN.encode(), b"elsewhere.example/log")
    assert witness.add_checkpoint(unknown).status == 404
    assert witness.add_checkpoint(b"old 4\n\n" + note(3).encode()).status == 400
    assert witness.add_checkpoint(b"not a request").status == 400
    assert witness.add_checkpoint(b"old 0\nAAAA\n\n" + note(3).encode()).status == 400


@pytest.fixture
def server(tmp_path: Path, world: World, settings: Any) -> Iterator[tuple[str, str]]:
    """A witness serving on loopback, trusting the workspace's key: (url, vkey).

    Loopback is refused by default (either side names a witness's address): allowed here.
    """
    settings.WITNESS_ALLOW_PRIVATE_ADDRESSES = True
    workspace_vkey = services.workspace_key_get_or_create(workspace=world.workspace).verifier_key
    private, vkey = generate_signing_key("client.example/witness", COSIGNATURE_ALGORITHM)
    instance = Witness(
        name="client.example/witness",
        private_key=private,
        logs=[parse_verifier_key(workspace_vkey)],
        store=WitnessStore(tmp_path / "w.sqlite3"),
    )
    httpd = make_server(instance, "127.0.0.1:0", "/")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield f"http://{host}:{port}/", vkey
    httpd.shutdown()
    httpd.server_close()


def log(world: World, count: int, capture: Any) -> None:
    day = timezone.localdate() - timedelta(days=1)
    with capture(execute=True):
        time_entries_log(
            membership=world.member,
            engagement=world.engagement,
            items=[
                EntryInput(person=world.member.user, date=day, minutes=30, shared_note="w")
                for _ in range(count)
            ],
        )


def bundle_of(world: World, persona: str, client: Any) -> dict[str, Any]:
    client.force_login(world.user(persona))
    url = reverse("api:ledger_bundle", kwargs={"engagement_id": world.engagement.pk})
    import json

    return json.loads(b"".join(client.get(url).streaming_content))


def test_a_client_names_its_witness_and_cosignatures_travel_with_checkpoints(
    world: World, server: tuple[str, str], client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url, vkey = server
    log(world, 3, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        row = witnessing.witness_add(
            membership=world.client_contact,
            engagement=world.engagement,
            verifier_key=vkey,
            url=url,
        )
    assert row.side == "client"
    log(world, 2, django_capture_on_commit_callbacks)  # checkpoint, then the witness cosigns
    row.refresh_from_db()
    assert (row.last_error, row.last_size) == ("", 5)
    assert Cosignature.objects.filter(witness=row).count() == 2
    assert Cosignature.objects.filter(witness=row, workspace=world.workspace).count() == 2
    bundle = bundle_of(world, "client_contact", client)
    key = services.log_verifier_key(world.engagement)
    report = verify_bundle(bundle, key=key, witnesses=[vkey])
    assert report.ok, report.first_failure
    assert report.signed_size == 5


def test_a_split_view_is_refused_by_the_witness_and_shown_to_both_sides(
    world: World, server: tuple[str, str], client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    url, vkey = server
    with django_capture_on_commit_callbacks(execute=True):
        witnessing.witness_add(
            membership=world.client_contact, engagement=world.engagement, verifier_key=vkey, url=url
        )
    log(world, 4, django_capture_on_commit_callbacks)
    row = WitnessRow.objects.get()
    assert row.last_size == 4
    # The provider rewrites entry 2 and signs the other history (a split view for whoever
    # is shown it). The witness, which saw the first, refuses to cosign the second.
    LedgerNode.objects.filter(engagement=world.engagement, level=0, index=2).update(hash=b"x" * 32)
    LedgerNode.objects.filter(engagement=world.engagement, level__gt=0).delete()
    from confiance.ledger.models import LedgerHead
    from confiance.ledger.store import DatabaseNodeStore
    from confiance.ledger.tree import MerkleLog

    head = LedgerHead.objects.get(engagement=world.engagement)
    hashes = [
        bytes(h)
        for h in LedgerNode.objects.filter(engagement=world.engagement, level=0)
        .order_by("index")
        .values_list("hash", flat=True)
    ]
    LedgerNode.objects.filter(engagement=world.engagement).delete()
    LedgerHead.objects.filter(pk=head.pk).update(size=0)
    head.size = 0
    store = DatabaseNodeStore(head)
    rebuilt = MerkleLog(store)
    for digest in hashes:  # re-append the same leaf hashes through the frontier
        frontier = rebuilt._frontier(store.size())
        nodes: list[tuple[int, int, bytes]] = []
        size = rebuilt._push(frontier, store.size(), digest, nodes)
        store.put_many(nodes)
        store.set_size(size)
    log(world, 1, django_capture_on_commit_callbacks)
    row.refresh_from_db()
    assert "HTTP 422" in row.last_error
    assert row.last_size == 4
    # The write itself went through, and both sides are told.
    assert head.__class__.objects.get(pk=head.pk).size == 5
    for persona in ("client_contact", "owner"):
        client.force_login(world.user(persona))
        page = client.get(
            reverse("consumption", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
        )
        assert "did not cosign the latest checkpoint" in page.content.decode()


def test_a_witness_down_never_blocks_writes(
    world: World, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.WITNESS_ALLOW_PRIVATE_ADDRESSES = True  # a closed port on loopback: nobody answers
    _private, vkey = generate_signing_key("down.example/w", COSIGNATURE_ALGORITHM)
    with django_capture_on_commit_callbacks(execute=True):
        witnessing.witness_add(
            membership=world.owner,
            engagement=world.engagement,
            verifier_key=vkey,
            url="http://127.0.0.1:9/",
        )
    log(world, 2, django_capture_on_commit_callbacks)
    row = WitnessRow.objects.get()
    assert row.last_error.startswith("unreachable")
    assert services.checkpoint_latest(engagement=world.engagement).size == 2


def test_only_the_engagements_sides_may_name_witnesses_and_keys_are_checked(world: World) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    _private, vkey = generate_signing_key("x.example/w", COSIGNATURE_ALGORITHM)
    with pytest.raises(PermissionDenied):
        witnessing.witness_add(
            membership=world.other_client_contact,
            engagement=world.engagement,
            verifier_key=vkey,
            url="https://x.example/",
        )
    with pytest.raises(ValidationError) as error:
        witnessing.witness_add(
            membership=world.client_contact,
            engagement=world.engagement,
            verifier_key=LOG_VKEY,  # a note key, not a cosigning key
            url="ftp://x",
        )
    assert set(error.value.message_dict) == {"verifier_key", "url"}


def test_a_witness_cannot_point_the_server_at_its_own_network(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    """Either side names the witness's address: the server must not become a way to reach
    private, loopback or link-local services (unless WITNESS_ALLOW_PRIVATE_ADDRESSES)."""
    from django.core.exceptions import ValidationError

    _private, vkey = generate_signing_key("inside.example/w", COSIGNATURE_ALGORITHM)
    for url in ("http://127.0.0.1:6379/", "http://10.0.0.5/", "http://[::1]/", "http://localhost/"):
        with pytest.raises(ValidationError) as error:
            witnessing.witness_add(
                membership=world.client_contact,
                engagement=world.engagement,
                verifier_key=vkey,
                url=url,
            )
        assert set(error.value.message_dict) == {"url"}
    # A name that resolves to loopback is refused when the request is made.
    log(world, 1, django_capture_on_commit_callbacks)
    # (A row written behind the form's back, as after a DNS change.)
    witness = WitnessRow.objects.create(
        workspace_id=world.workspace.pk,
        engagement=world.engagement,
        name="inside.example/w",
        verifier_key=vkey,
        url="http://localhost:1/",
        side="client",
    )
    error_text = witnessing.witness_submit(witness_id=witness.pk)
    assert error_text is not None and "blocked" in error_text
