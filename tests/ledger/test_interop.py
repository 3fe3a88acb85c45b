"""Interoperability: the project's checkpoints and cosignatures, checked by a verifier written
here from the C2SP specs alone (signed-note, tlog-checkpoint, tlog-cosignature), using only
the standard library and an Ed25519 primitive; and the spec's own example through ours."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entries_log
from confiance.ledger import services
from confiance.ledger.checkpoint import COSIGNATURE_ALGORITHM, generate_signing_key, verify_note
from confiance.ledger.witness import Witness, WitnessStore
from confiance.ledger.witnessing import _request_body
from tests.conftest import World

# --- a minimal verifier, from the specs -------------------------------------------------------


def spec_vkey(vkey: str) -> tuple[str, bytes, int, bytes]:
    """signed-note: <name>+hex(key ID)+base64(type || public key)."""
    name, key_id_hex, material = vkey.split("+", 2)
    raw = base64.b64decode(material)
    return name, bytes.fromhex(key_id_hex), raw[0], raw[1:]


def spec_split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text ends with the last blank line; each signature line is "— name base64"."""
    cut = note.rindex("\n\n")
    text = note[: cut + 1]
    sigs = []
    for line in note[cut + 2 :].rstrip("\n").split("\n"):
        assert line.startswith("\u2014 ")
        name, b64 = line[2:].split(" ")
        sigs.append((name, base64.b64decode(b64)))
    return text, sigs


def spec_verify_note(note: str, vkey: str) -> str:
    name, key_id, kind, public = spec_vkey(vkey)
    assert kind == 0x01
    assert hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4] == key_id
    text, sigs = spec_split(note)
    ours = [raw[4:] for signer, raw in sigs if signer == name and raw[:4] == key_id]
    assert ours, "no signature by the trusted key"
    for signature in ours:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
    return text


def spec_checkpoint(text: str) -> tuple[str, int, bytes]:
    lines = text[:-1].split("\n")
    assert len(lines) >= 3 and all(lines)
    return lines[0], int(lines[1]), base64.b64decode(lines[2])


def spec_cosignature_time(note: str, vkey: str) -> int:
    name, key_id, kind, public = spec_vkey(vkey)
    assert kind == 0x04
    assert hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4] == key_id
    text, sigs = spec_split(note)
    (raw,) = [raw for signer, raw in sigs if signer == name and raw[:4] == key_id]
    timestamp = int.from_bytes(raw[4:12], "big")
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text.encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)
    return timestamp


# --- the tests -----------------------------------------------------------------------------


def test_our_note_verifier_accepts_the_signed_note_spec_example() -> None:
    vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    note = (
        "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6Tf"
        "Xppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
    )
    assert verify_note(note, vkey) == "This is an example message.\n"
    assert spec_verify_note(note, vkey) == "This is an example message.\n"


def test_project_checkpoints_and_cosignatures_pass_a_verifier_written_from_the_specs(
    world: World, tmp_path
) -> None:
    day = timezone.localdate() - timedelta(days=1)
    time_entries_log(
        membership=world.member,
        engagement=world.engagement,
        items=[EntryInput(person=world.member.user, date=day, minutes=60, shared_note="a")],
    )
    checkpoint = services.checkpoint_sign(engagement=world.engagement)
    assert checkpoint is not None
    vkey = services.log_verifier_key(world.engagement)
    text = spec_verify_note(checkpoint.note, vkey)
    origin, size, root = spec_checkpoint(text)
    assert (origin, size, root) == (
        services.origin_of(world.engagement),
        1,
        bytes(checkpoint.root_hash),
    )
    assert text.count("\n") == 3, "no extension line"
    assert vkey.split("+")[0] == origin, "key name = origin"

    private, witness_vkey = generate_signing_key("client.example/w", COSIGNATURE_ALGORITHM)
    from confiance.ledger.checkpoint import parse_verifier_key

    witness = Witness(
        name="client.example/w",
        private_key=private,
        logs=[parse_verifier_key(vkey)],
        store=WitnessStore(tmp_path / "w.sqlite3"),
        clock=lambda: 1_764_000_000,
    )
    answer = witness.add_checkpoint(_request_body(world.engagement, 0, checkpoint))
    assert answer.status == 200
    cosigned = checkpoint.note + answer.body.decode()
    assert spec_cosignature_time(cosigned, witness_vkey) == 1_764_000_000
    # And a tampered body fails the spec verifier.
    forged = cosigned.replace(f"\n{size}\n", f"\n{size + 1}\n", 1)
    try:
        spec_cosignature_time(forged, witness_vkey)
    except InvalidSignature:
        pass
    else:
        raise AssertionError("a changed checkpoint kept its cosignature")
