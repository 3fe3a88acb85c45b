"""Checkpoints as C2SP signed notes: the Go reference vector, round trips and tampering."""

from __future__ import annotations

import base64

import pytest

from confiance.ledger.checkpoint import (
    CheckpointError,
    CheckpointSignatureError,
    format_checkpoint,
    generate_signing_key,
    key_id,
    parse_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
    verify_checkpoint,
    verify_note,
)
from confiance.ledger.merkle import root_hash

# The example key and note of golang.org/x/mod/sumdb/note (note_test.go), which the
# C2SP signed-note spec formalises; Ed25519 is deterministic, so we must match byte for byte.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)
# The example of the C2SP tlog-checkpoint spec (its key is not published).
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)

ORIGIN = "confiance.example/ws/ACME/engagement/42"
ROOT = root_hash([b"a", b"b", b"c"])


def go_private_key() -> bytes:
    encoded = GO_SKEY.split("+", 4)[4]
    raw = base64.b64decode(encoded)
    assert raw[0] == 0x01
    return raw[1:]


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, str]:
    return generate_signing_key(ORIGIN)


@pytest.fixture
def note(keypair: tuple[bytes, str]) -> str:
    return sign_checkpoint(format_checkpoint(ORIGIN, 3, ROOT), ORIGIN, keypair[0])


def test_key_id_and_vkey_match_the_go_reference() -> None:
    key = parse_verifier_key(GO_VKEY)
    assert key.name == "PeterNeumann"
    assert key_id("PeterNeumann", key.public_key).hex() == "c74f20a3"
    assert verifier_key("PeterNeumann", go_private_key()) == GO_VKEY


def test_signing_reproduces_the_go_reference_note() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", go_private_key()) == GO_NOTE
    assert verify_note(GO_NOTE, GO_VKEY) == GO_TEXT


def test_the_go_reference_note_fails_once_altered() -> None:
    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_note(GO_NOTE.replace("cryptography", "cryptographY"), GO_VKEY)


def test_the_spec_example_checkpoint_parses() -> None:
    checkpoint = parse_checkpoint(SPEC_CHECKPOINT)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert base64.b64encode(checkpoint.root).decode() == (
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    )
    assert checkpoint.signatures[0].name == "example.com/behind-the-sofa"
    assert len(checkpoint.signatures[0].signature) == 64


def test_format_checkpoint_writes_three_newline_terminated_lines() -> None:
    body = format_checkpoint(ORIGIN, 3, ROOT)
    assert body == f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n"
    assert format_checkpoint(ORIGIN, 0, ROOT, extensions=["time 1"]).endswith("\ntime 1\n")


def test_round_trip(keypair: tuple[bytes, str], note: str) -> None:
    vkey = keypair[1]
    assert vkey.startswith(f"{ORIGIN}+")
    lines = note.split("\n")
    assert lines[3] == ""
    assert lines[4].startswith(f"\u2014 {ORIGIN} ")
    checkpoint = verify_checkpoint(note, vkey, origin=ORIGIN)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 3, ROOT)
    assert checkpoint.body == format_checkpoint(ORIGIN, 3, ROOT)
    assert checkpoint.signatures[0].key_id == parse_verifier_key(vkey).key_id


@pytest.mark.parametrize(
    ("old", "new"),
    [("\n3\n", "\n4\n"), (ORIGIN, ORIGIN.replace("42", "43")), ("=\n\n", "=\nextra\n\n")],
)
def test_a_tampered_body_is_rejected(
    keypair: tuple[bytes, str], note: str, old: str, new: str
) -> None:
    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_checkpoint(note.replace(old, new, 1), keypair[1])


def test_a_tampered_root_is_rejected(keypair: tuple[bytes, str], note: str) -> None:
    other = base64.b64encode(root_hash([b"a", b"b", b"x"])).decode()
    forged = note.replace(base64.b64encode(ROOT).decode(), other)
    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_checkpoint(forged, keypair[1])


def test_a_tampered_signature_is_rejected(keypair: tuple[bytes, str], note: str) -> None:
    body, signature_line = note.rsplit("\n\n", 1)
    prefix, encoded = signature_line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 0x01
    forged = f"{body}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_checkpoint(forged, keypair[1])


def test_another_key_with_the_same_name_is_rejected(note: str) -> None:
    _, other_vkey = generate_signing_key(ORIGIN)
    with pytest.raises(CheckpointSignatureError, match="different key"):
        verify_checkpoint(note, other_vkey)


def test_a_key_with_another_name_is_rejected(keypair: tuple[bytes, str], note: str) -> None:
    other_vkey = verifier_key("someone.else", keypair[0])
    with pytest.raises(CheckpointSignatureError, match=r"no signature by key 'someone\.else'"):
        verify_checkpoint(note, other_vkey)


def test_signatures_by_unknown_keys_are_ignored(keypair: tuple[bytes, str], note: str) -> None:
    witness_key, _ = generate_signing_key("witness.example")
    cosigned = sign_note(format_checkpoint(ORIGIN, 3, ROOT), "witness.example", witness_key)
    witness_line = cosigned.rsplit("\n\n", 1)[1]
    assert verify_checkpoint(note + witness_line, keypair[1]).size == 3


def test_an_unexpected_origin_is_rejected(keypair: tuple[bytes, str], note: str) -> None:
    with pytest.raises(CheckpointError, match="origin"):
        verify_checkpoint(note, keypair[1], origin="confiance.example/ws/ACME/engagement/7")


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda n: n.replace("\n\n", "\n"), "no blank line"),
        (lambda n: n.rstrip("\n"), "end with a newline"),
        (lambda n: n.replace("\n3\n", "\n03\n"), "not a decimal"),
        (lambda n: n.replace("\n3\n", "\n-3\n"), "not a decimal"),
        (lambda n: n.replace("\n3\n", "\n\u0663\n"), "not a decimal"),
        (lambda n: n.replace("=\n\n", "\n\n"), "base64"),
        (lambda n: n.replace(base64.b64encode(ROOT).decode(), "QUJD"), "32 bytes"),
        (lambda n: n.replace("\u2014 ", "- "), "em dash"),
        (lambda n: n.replace("\n3\n", "\n3\t\n"), "control character"),
        (lambda n: n.split("\n", 1)[1], "needs origin, size and root"),
        (lambda n: n.replace("=\n\n", "=\n\n\n"), "non-empty"),
        (lambda n: n + "\u2014 x AAAA\n", "too short"),
    ],
)
def test_malformed_notes_raise_checkpoint_error(
    keypair: tuple[bytes, str], note: str, mangle: object, message: str
) -> None:
    assert callable(mangle)
    with pytest.raises(CheckpointError, match=message):
        verify_checkpoint(mangle(note), keypair[1])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcsQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+_74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        verify_note(GO_NOTE, vkey)


def test_every_truncation_of_the_go_vkey_is_rejected() -> None:
    for cut in range(len(GO_VKEY)):
        with pytest.raises(CheckpointError):
            parse_verifier_key(GO_VKEY[:cut])


@pytest.mark.parametrize(
    "origin", ["", "has space", "has+plus", "line\nbreak", "tab\there", "nbsp\u00a0here"]
)
def test_format_checkpoint_refuses_origins_that_cannot_be_key_names(origin: str) -> None:
    with pytest.raises(CheckpointError, match="invalid origin"):
        format_checkpoint(origin, 1, ROOT)


def test_format_checkpoint_refuses_bad_sizes_roots_and_extensions() -> None:
    with pytest.raises(CheckpointError, match="size"):
        format_checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(CheckpointError, match="size"):
        format_checkpoint(ORIGIN, True, ROOT)
    with pytest.raises(CheckpointError, match="32 bytes"):
        format_checkpoint(ORIGIN, 1, ROOT[:31])
    with pytest.raises(CheckpointError, match="extension"):
        format_checkpoint(ORIGIN, 1, ROOT, extensions=["two\nlines"])


def test_sign_checkpoint_refuses_a_body_that_is_not_a_checkpoint(
    keypair: tuple[bytes, str],
) -> None:
    with pytest.raises(CheckpointError):
        sign_checkpoint(GO_TEXT, ORIGIN, keypair[0])
    with pytest.raises(CheckpointError, match="32 raw bytes"):
        sign_checkpoint(format_checkpoint(ORIGIN, 1, ROOT), ORIGIN, b"short")
    with pytest.raises(CheckpointError, match="invalid key name"):
        sign_checkpoint(format_checkpoint(ORIGIN, 1, ROOT), "a b", keypair[0])
