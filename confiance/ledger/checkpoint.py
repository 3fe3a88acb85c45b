"""C2SP tlog-checkpoint bodies in C2SP signed notes, signed with Ed25519.

Specs: https://c2sp.org/tlog-checkpoint and https://c2sp.org/signed-note. Verifier keys use
the signed-note "vkey" text form `<name>+<hex key ID>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from confiance.ledger.merkle import HASH_SIZE

ED25519_ALGORITHM = 0x01
# C2SP tlog-cosignature: timestamped Ed25519 checkpoint cosignatures.
COSIGNATURE_ALGORITHM = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# The spec asks verifiers to accept at least 16 signatures; bound the work on hostile input.
MAX_SIGNATURES = 100

_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_RE = re.compile(r"[0-9a-fA-F]{8}")


class CheckpointError(ValueError):
    """A checkpoint or signed note is malformed, unsigned by the expected key, or forged."""


class CheckpointSignatureError(CheckpointError):
    """The note is well formed but carries no valid signature by the expected key."""


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a signed note."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: the signed tree head plus the note's signature lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]
    body: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class VerifierKey:
    """A parsed vkey: the key name, its 4-byte key ID and the raw Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: bytes


def _b64decode(text: str) -> bytes:
    """Strict standard base64: padded, no stray characters, canonical trailing bits."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CheckpointError(f"invalid base64 {text[:60]!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"non-canonical base64 {text[:60]!r}")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_valid_key_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode space, '+' or control character."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in name)
    )


def _check_text(text: str, what: str) -> None:
    """Signed notes are valid UTF-8 with no control characters besides newline."""
    if not isinstance(text, str):
        raise CheckpointError(f"{what} must be a string, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError(f"{what} is not valid UTF-8") from exc
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise CheckpointError(f"{what} contains a control character")


def key_id(name: str, public_key: bytes, algorithm: int = ED25519_ALGORITHM) -> bytes:
    """The signed-note key ID: SHA-256(name || 0x0A || algorithm || public key)[:4]."""
    data = name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key
    return hashlib.sha256(data).digest()[:4]


def _private_key(private_key: bytes) -> Ed25519PrivateKey:
    if not isinstance(private_key, bytes) or len(private_key) != 32:
        raise CheckpointError("an Ed25519 private key is 32 raw bytes")
    return Ed25519PrivateKey.from_private_bytes(private_key)


def verifier_key(name: str, private_key: bytes, algorithm: int = ED25519_ALGORITHM) -> str:
    """The vkey string that verifies signatures made by `private_key` under `name`.

    `algorithm` is 0x01 for note signatures, 0x04 for a witness's cosignatures.
    """
    if not is_valid_key_name(name):
        raise CheckpointError(f"invalid key name {name!r}")
    public = _private_key(private_key).public_key().public_bytes_raw()
    return public_verifier_key(name, public, algorithm)


def public_verifier_key(name: str, public: bytes, algorithm: int = ED25519_ALGORITHM) -> str:
    """The vkey string for a raw Ed25519 public key under `name`."""
    encoded = _b64encode(bytes([algorithm]) + public)
    return f"{name}+{key_id(name, public, algorithm).hex()}+{encoded}"


def generate_signing_key(name: str, algorithm: int = ED25519_ALGORITHM) -> tuple[bytes, str]:
    """Make a new Ed25519 key: (32 raw private key bytes, vkey string for `name`)."""
    private = Ed25519PrivateKey.generate().private_bytes_raw()
    return private, verifier_key(name, private, algorithm)


def log_key_for(vkey: VerifierKey, origin: str) -> VerifierKey:
    """The key that signs the log `origin`, given a trusted key for it or for its workspace.

    Each log's checkpoints are signed under a key name equal to the origin (C2SP
    tlog-checkpoint). A workspace's logs share one Ed25519 key, published once as a vkey named
    after the workspace: a vkey named N vouches for the logs whose origin is N/<something>.
    Raises CheckpointError if `vkey` is for neither.
    """
    if vkey.name == origin:
        return vkey
    if origin.startswith(vkey.name + "/") and is_valid_key_name(origin):
        return VerifierKey(
            name=origin, key_id=key_id(origin, vkey.public_key), public_key=vkey.public_key
        )
    raise CheckpointError(
        f"the key {vkey.name!r} is not the key of the log {origin!r} nor of its workspace"
    )


def parse_verifier_key(vkey: str, algorithm: int = ED25519_ALGORITHM) -> VerifierKey:
    """Parse and check a vkey string, including that its key ID matches name and key."""
    if not isinstance(vkey, str):
        raise CheckpointError("verifier key must be a string")
    parts = vkey.split("+", 2)
    if len(parts) != 3 or not is_valid_key_name(parts[0]) or not _KEY_ID_RE.fullmatch(parts[1]):
        raise CheckpointError("malformed verifier key: expected <name>+<key ID>+<key>")
    name, id_hex, encoded = parts
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[0] != algorithm:
        what = "a witness cosigning" if algorithm == COSIGNATURE_ALGORITHM else "an Ed25519"
        raise CheckpointError(f"verifier key is not {what} key (type 0x{algorithm:02x})")
    public = raw[1:]
    if key_id(name, public, algorithm) != bytes.fromhex(id_hex):
        raise CheckpointError("verifier key ID does not match its name and public key")
    try:
        Ed25519PublicKey.from_public_bytes(public)
    except ValueError as exc:
        raise CheckpointError("verifier key is not a valid Ed25519 public key") from exc
    return VerifierKey(name=name, key_id=bytes.fromhex(id_hex), public_key=public)


def format_checkpoint(
    origin: str, size: int, root: bytes, *, extensions: Sequence[str] = ()
) -> str:
    """The checkpoint note text: origin, size, base64 root (and extension lines), each + "\\n"."""
    # The origin doubles as the signing key name, so it must also be a valid key name.
    if not is_valid_key_name(origin):
        raise CheckpointError(f"invalid origin {origin!r}: no spaces, '+' or control characters")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise CheckpointError(f"invalid tree size {size!r}")
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise CheckpointError("root hash must be 32 bytes")
    for line in extensions:
        _check_text(line, "extension line")
        if line == "" or "\n" in line:
            raise CheckpointError("extension lines must be non-empty single lines")
    return "".join(f"{line}\n" for line in [origin, str(size), _b64encode(root), *extensions])


def _parse_body(body: str) -> tuple[str, int, bytes, tuple[str, ...]]:
    if not body.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint text needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if origin == "":
        raise CheckpointError("checkpoint origin is empty")
    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(f"checkpoint tree size {size_text[:30]!r} is not a decimal number")
    root = _b64decode(root_text)
    if len(root) != HASH_SIZE:
        raise CheckpointError("checkpoint root hash is not 32 bytes")
    if "" in extensions:
        raise CheckpointError("checkpoint extension lines must be non-empty")
    return origin, int(size_text), root, tuple(extensions)


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointError("signature line must start with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not is_valid_key_name(name):
        raise CheckpointError(f"invalid key name {name!r} in signature line")
    raw = _b64decode(encoded)
    if len(raw) < 5:
        raise CheckpointError(f"signature by {name!r} is too short")
    return NoteSignature(name=name, key_id=raw[:4], signature=raw[4:])


def sign_note(text: str, name: str, private_key: bytes) -> str:
    """Sign any signed-note `text` (ending in a newline) as key `name`; return the note."""
    _check_text(text, "note text")
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    if not is_valid_key_name(name):
        raise CheckpointError(f"invalid key name {name!r}")
    key = _private_key(private_key)
    public = key.public_key().public_bytes_raw()
    signature = key.sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{name} {_b64encode(key_id(name, public) + signature)}\n"


def _split_note(note: str) -> tuple[str, tuple[NoteSignature, ...]]:
    """Split a signed note into its text and parsed signature lines."""
    _check_text(note, "note")
    # The text is separated from the signatures by the last blank line.
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("note must end with a newline after its signatures")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    return text, tuple(_parse_signature_line(line) for line in lines)


def verify_note(note: str, vkey: str | VerifierKey) -> str:
    """Check the note carries a valid signature by `vkey`; return its text."""
    key = parse_verifier_key(vkey) if isinstance(vkey, str) else vkey
    text, signatures = _split_note(note)
    named = [s for s in signatures if s.name == key.name]
    if not named:
        signers = ", ".join(sorted({s.name for s in signatures}))
        raise CheckpointSignatureError(
            f"note has no signature by key {key.name!r} (signed by {signers})"
        )
    # Per signed-note, a signature is ours only if both name and key ID match; the rest are
    # other keys (e.g. after a rotation, or witnesses) and are ignored.
    ours = [s for s in named if s.key_id == key.key_id]
    if not ours:
        raise CheckpointSignatureError(
            f"note is signed by a different key named {key.name!r} "
            f"(key ID {named[0].key_id.hex()}, expected {key.key_id.hex()})"
        )
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    message = text.encode("utf-8")
    for signature in ours:
        try:
            public.verify(signature.signature, message)
        except InvalidSignature:
            raise CheckpointSignatureError(
                f"signature by key {key.name!r} does not verify (note altered or forged)"
            ) from None
    return text


def sign_checkpoint(body: str, name: str, private_key: bytes) -> str:
    """Sign checkpoint text `body` as key `name`; return the full signed note."""
    _check_text(body, "checkpoint text")
    _parse_body(body)  # never sign something a verifier would reject
    return sign_note(body, name, private_key)


def parse_checkpoint(note: str) -> Checkpoint:
    """Parse a signed checkpoint note WITHOUT verifying any signature."""
    body, signatures = _split_note(note)
    origin, size, root, extensions = _parse_body(body)
    return Checkpoint(
        origin=origin,
        size=size,
        root=root,
        extensions=extensions,
        body=body,
        signatures=signatures,
    )


def verify_checkpoint(
    note: str, vkey: str | VerifierKey, *, origin: str | None = None
) -> Checkpoint:
    """Parse `note` and check its signature by `vkey` (and its origin, if given)."""
    checkpoint = parse_checkpoint(note)
    verify_note(note, vkey)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}"
        )
    return checkpoint


# -- C2SP tlog-cosignature (Ed25519, type 0x04) -------------------------------------------------


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a v1 cosignature signs: header line, time line, then the checkpoint's note text."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{body}".encode()


def cosign(body: str, name: str, private_key: bytes, timestamp: int) -> str:
    """A witness's cosignature line on checkpoint text `body` (ending in "\n", no newline)."""
    _parse_body(body)
    if not 0 < timestamp < 2**63:
        raise CheckpointError("cosignature timestamp out of range")
    key = _private_key(private_key)
    public = key.public_key().public_bytes_raw()
    signature = key.sign(cosigned_message(body, timestamp))
    raw = key_id(name, public, COSIGNATURE_ALGORITHM) + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_PREFIX}{name} {_b64encode(raw)}"


def verify_cosignature(note: str, vkey: str | VerifierKey) -> int | None:
    """The timestamp of `vkey`'s valid cosignature on the checkpoint `note`, or None if absent.

    Raises CheckpointSignatureError if a line by that key (name and key ID) does not verify.
    """
    key = parse_verifier_key(vkey, COSIGNATURE_ALGORITHM) if isinstance(vkey, str) else vkey
    text, signatures = _split_note(note)
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    found: int | None = None
    for signature in signatures:
        if signature.name != key.name or signature.key_id != key.key_id:
            continue
        if len(signature.signature) != 8 + 64:
            raise CheckpointSignatureError(f"cosignature by {key.name!r} has the wrong length")
        timestamp = int.from_bytes(signature.signature[:8], "big")
        try:
            public.verify(signature.signature[8:], cosigned_message(text, timestamp))
        except InvalidSignature:
            raise CheckpointSignatureError(
                f"cosignature by witness {key.name!r} does not verify (note altered or forged)"
            ) from None
        found = max(found or 0, timestamp)
    return found


def add_signature_lines(note: str, lines: Sequence[str]) -> str:
    """The note with extra signature lines (e.g. cosignatures) appended; duplicates skipped."""
    present = set(note[:-1].split("\n"))
    extra = [line for line in lines if line not in present]
    return note + "".join(f"{line}\n" for line in extra)


# -- key rotation ---------------------------------------------------------------------------

ROTATION_HEADER = "confiance.ledger/key-rotation/v1"


def format_rotation(origin: str, new_vkey: str) -> str:
    """The text of a key rotation announcement: the log, then the key that signs it from now."""
    if not is_valid_key_name(origin):
        raise CheckpointError(f"invalid origin {origin!r}")
    new = parse_verifier_key(new_vkey)
    if new.name != origin:
        raise CheckpointError(f"the new key is named {new.name!r}, not after the log {origin!r}")
    return f"{ROTATION_HEADER}\n{origin}\n{new_vkey}\n"


def sign_rotation(origin: str, new_vkey: str, previous_private_key: bytes) -> str:
    """The announcement that `new_vkey` signs the log `origin` from now, signed by the old key."""
    return sign_note(format_rotation(origin, new_vkey), origin, previous_private_key)


def verify_rotation(announcement: str, origin: str, previous: VerifierKey) -> VerifierKey:
    """Check an announcement is signed by `previous` and is about `origin`; return the new key.

    Raises CheckpointSignatureError when the previous key did not sign it, CheckpointError when
    it is malformed.
    """
    if not isinstance(announcement, str):
        raise CheckpointError("the key rotation announcement is not text")
    text = verify_note(announcement, previous)
    lines = text.split("\n")
    if len(lines) != 4 or lines[0] != ROTATION_HEADER or lines[3] != "":
        raise CheckpointError("the key rotation announcement is malformed")
    if lines[1] != origin:
        raise CheckpointError(f"the key rotation announcement is for {lines[1]!r}, not {origin!r}")
    new = parse_verifier_key(lines[2])
    if new.name != origin:
        raise CheckpointError("the announced key is not named after the log")
    return new
