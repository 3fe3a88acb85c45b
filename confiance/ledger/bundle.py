"""Build and verify, offline, an engagement's exported ledger bundle (JSON), streaming.

A bundle (format `confiance-ledger-bundle/2`) is one JSON object:

    format       "confiance-ledger-bundle/2"
    origin       the log's origin (also the name of the key that signs its checkpoints)
    public_key   the key the server says it signs with: information only, never trusted
    reader       {"audiences": [...]}: the sealed audiences this bundle's reader may see
    checkpoints  the signed checkpoints (C2SP signed notes, with any witness cosignatures)
    entries      [{"index": i, "data": leaf, "openings": {field: {"salt", "json"}},
                   "erased": [field, ...]}, ...]  or  {"index": i, "leaf_hash": base64}
                 for an entry withheld from this reader (only legacy leaves that predate
                 sealing and carry a field the reader may not see).

Verification trusts only the key given by the caller (`key`, a C2SP vkey of the log or of its
workspace), never the bundle's own; checks every entry, every opening against its leaf's
commitment, every checkpoint's signature and root against the entries, the cosignatures of
the witnesses the caller names, and checkpoints seen earlier (`known`). Entries after the last
trusted checkpoint fail unless `allow_unsigned_tail`. Memory stays bounded: entries are read
one at a time from the stream and folded into a Merkle frontier of O(log n) hashes (when the
checkpoints come after the entries in the file, 32 bytes per entry are kept to replay them).

Outcomes: ok; failed (the bundle was checked and something is wrong: tampering, a missing
opening, an unsigned tail); unusable (not a bundle at all, or a malformed argument).
`format` 1 bundles (no sealing, with consistency proofs) still verify: their proofs are
redundant with the entries and ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, TypedDict

from confiance.ledger.checkpoint import (
    COSIGNATURE_ALGORITHM,
    Checkpoint,
    CheckpointError,
    CheckpointSignatureError,
    VerifierKey,
    log_key_for,
    parse_checkpoint,
    parse_verifier_key,
    public_verifier_key,
    verify_cosignature,
    verify_note,
    verify_rotation,
)
from confiance.ledger.merkle import EMPTY_ROOT, HASH_SIZE, canonical_json, leaf_hash, node_hash
from confiance.ledger.sealing import (
    LEAF_VERSION,
    SEALED_AUDIENCES,
    Opening,
    SealError,
    check_opening,
    open_leaf,
    parse_opening,
    sealed_fields,
)

BUNDLE_FORMAT = "confiance-ledger-bundle/2"
# The kind of the entry that announces a new key for the log, signed by the previous key.
ROTATION_KIND = "key.rotated"
LEGACY_FORMATS = ("confiance-ledger-bundle/1",)
# A single JSON value (one entry, or the list of checkpoints) larger than this is refused.
MAX_VALUE_CHARS = 64 * 1024 * 1024
_READ_CHARS = 1 << 16


class _Unusable(Exception):
    """Internal: the input is not a bundle (or an argument is malformed)."""


class _Failure(Exception):
    """Internal: the bundle was checked and is wrong."""


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of a verification; `first_failure` names what failed, in plain English.

    `unusable` marks input that could not be checked at all (exit status 2). `signed_size` is
    the size of the latest checkpoint signed by the trusted key (and cosigned by every witness
    asked for); `latest_note` is that checkpoint, to remember for the next verification.
    """

    ok: bool
    checked_entries: int
    checkpoints: int
    first_failure: str | None
    signed_size: int = 0
    unusable: bool = False
    origin: str | None = None
    latest_note: str | None = None
    withheld: int = 0
    openings: int = 0
    erased: int = 0
    warnings: tuple[str, ...] = ()


# -- a streaming reader of one JSON object whose "entries" list may be huge -----------------


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class _Stream:
    """Reads JSON values one by one from a text handle, keeping only what is not consumed."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def _fill(self, at_least: int = _READ_CHARS) -> None:
        try:
            data = self.handle.read(max(at_least, _READ_CHARS))
        except UnicodeDecodeError:
            raise _Unusable("the bundle is not UTF-8 text") from None
        if not data:
            self.eof = True
            return
        self.buffer = self.buffer[self.pos :] + data
        self.pos = 0

    def peek(self) -> str:
        """The next non-blank character ("" at the end), not consumed."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if self.eof:
                return ""
            self._fill()

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = self.peek() or "the end of the file"
            raise _Unusable(f"the bundle is not valid JSON: expected {what}, found {found!r}")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next JSON value."""
        self.peek()
        want = _READ_CHARS
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except (json.JSONDecodeError, ValueError, RecursionError) as exc:
                if self.eof:
                    raise _Unusable(f"the bundle is not valid JSON: {exc}") from None
                if len(self.buffer) - self.pos > MAX_VALUE_CHARS:
                    raise _Unusable("the bundle holds a value too large to check") from None
                self._fill(want)
                want *= 2  # a large value is re-parsed a logarithmic number of times
                continue
            # A number cut by the buffer's end would decode short: read on to be sure.
            if end == len(self.buffer) and not self.eof:
                self._fill(want)
                continue
            self.pos = end
            return value


def _events(handle: TextIO) -> Iterator[tuple[str, Any]]:
    """("key", value) for each top-level member but entries; ("entry", e) for each entry."""
    stream = _Stream(handle)
    stream.expect("{", "a JSON object")
    seen: set[str] = set()
    if stream.peek() == "}":
        stream.pos += 1
    else:
        while True:
            key = stream.value()
            if not isinstance(key, str):
                raise _Unusable("the bundle is not valid JSON: a key is not a string")
            if key in seen:
                raise _Unusable(f"the bundle has {key!r} twice")
            seen.add(key)
            stream.expect(":", "':'")
            if key == "entries" and stream.peek() == "[":
                stream.pos += 1
                yield ("entries", None)
                if stream.peek() == "]":
                    stream.pos += 1
                else:
                    while True:
                        yield ("entry", stream.value())
                        if stream.peek() == ",":
                            stream.pos += 1
                            continue
                        stream.expect("]", "',' or ']' in the entries")
                        break
            else:
                yield ("key", (key, stream.value()))
            if stream.peek() == ",":
                stream.pos += 1
                continue
            stream.expect("}", "',' or '}'")
            break
    if stream.peek() != "":
        raise _Unusable("the bundle is not valid JSON: extra data after the object")


# -- Merkle frontier ------------------------------------------------------------------------


class _Frontier:
    """The perfect subtrees covering the leaves seen so far: O(log n) hashes."""

    def __init__(self) -> None:
        self.stack: list[bytes] = []
        self.size = 0

    def push(self, digest: bytes) -> None:
        size = self.size
        while size & 1:
            digest = node_hash(self.stack.pop(), digest)
            size >>= 1
        self.stack.append(digest)
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        digest = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            digest = node_hash(left, digest)
        return digest


# -- the verifier -----------------------------------------------------------------------------


def _b64_hash(value: object, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != HASH_SIZE:
        raise _Unusable(f"{what} is not a base64 32-byte hash")
    return raw


def _parse_key(vkey: str, algorithm: int, what: str) -> VerifierKey:
    try:
        return parse_verifier_key(vkey, algorithm)
    except CheckpointError as exc:
        raise _Unusable(f"{what}: {exc}") from None


@dataclass
class _Verifier:
    key: VerifierKey
    known: Sequence[str]
    witnesses: Sequence[VerifierKey]
    allow_unsigned_tail: bool
    entry_callback: Callable[[int, dict[str, object]], None] | None = None
    header: dict[str, Any] = field(default_factory=dict)
    checkpoints: list[Checkpoint] | None = None
    notes: list[str] = field(default_factory=list)
    known_checkpoints: list[Checkpoint] = field(default_factory=list)
    frontier: _Frontier = field(default_factory=_Frontier)
    wanted: set[int] = field(default_factory=set)
    roots: dict[int, bytes] = field(default_factory=dict)
    replay: bytearray | None = None
    entries: int = 0
    withheld: int = 0
    openings: int = 0
    erased: int = 0
    missing: dict[str, tuple[int, str]] = field(default_factory=dict)
    signed_checkpoints: int = 0
    warnings: list[str] = field(default_factory=list)
    # Key rotations announced in the log: (entry index, previous key vkey, new key vkey, note).
    rotations: list[tuple[int, object, object, object]] = field(default_factory=list)
    # The log's keys in order (the first one, then each announced one), once checked.
    chain: list[VerifierKey] = field(default_factory=list)

    def start(self) -> None:
        for number, note in enumerate(self.known, start=1):
            try:
                self.known_checkpoints.append(parse_checkpoint(note))
            except CheckpointError as exc:
                raise _Unusable(f"known checkpoint {number} is malformed: {exc}") from None
        self.wanted.update(c.size for c in self.known_checkpoints)

    def on_header(self, key: str, value: Any) -> None:
        self.header[key] = value
        if key == "checkpoints":
            if not isinstance(value, list):
                raise _Unusable("the bundle's 'checkpoints' is not a list")
            self.checkpoints = []
            for number, note in enumerate(value, start=1):
                if not isinstance(note, str):
                    raise _Unusable(f"checkpoint {number} is not a string")
                try:
                    self.checkpoints.append(parse_checkpoint(note))
                except CheckpointError as exc:
                    raise _Unusable(f"checkpoint {number} is malformed: {exc}") from None
                self.notes.append(note)
            self.wanted.update(c.size for c in self.checkpoints)

    def begin_entries(self) -> None:
        if self.checkpoints is None:
            # Checkpoints come later in the file: keep each leaf hash to replay.
            self.replay = bytearray()

    def on_entry(self, raw: object) -> None:
        position = self.entries
        if not isinstance(raw, Mapping):
            raise _Unusable(f"entry at position {position} is not a JSON object")
        index = raw.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise _Unusable(f"entry at position {position} has no integer 'index'")
        if index != position:
            raise _Failure(
                f"entry at position {position} has index {index}, expected {position} "
                "(an entry is missing or out of order)"
            )
        if "data" not in raw and "leaf_hash" in raw:
            digest = _b64_hash(raw["leaf_hash"], f"entry {position}: 'leaf_hash'")
            self.withheld += 1
        else:
            digest = self._leaf(position, raw)
        if self.replay is not None:
            self.replay += digest
        else:
            self._push(digest)
        self.entries += 1

    def _push(self, digest: bytes) -> None:
        self.frontier.push(digest)
        if self.frontier.size in self.wanted:
            self.roots[self.frontier.size] = self.frontier.root()

    def _leaf(self, position: int, raw: Mapping[str, object]) -> bytes:
        data = raw.get("data")
        if not isinstance(data, str):
            raise _Unusable(f"entry {position}: 'data' must be a string of canonical JSON")
        try:
            leaf_bytes = data.encode("utf-8")
            leaf = _DECODER.decode(data)
            canonical = canonical_json(leaf)
        except (ValueError, TypeError, RecursionError, UnicodeEncodeError):
            raise _Unusable(f"entry {position}: 'data' is not valid JSON") from None
        if canonical != leaf_bytes:
            raise _Unusable(f"entry {position}: 'data' is not canonical JSON")
        opened: dict[str, Opening] = {}
        if isinstance(leaf, dict) and leaf.get("v") == LEAF_VERSION:
            opened = self._openings(position, leaf, raw)
        if isinstance(leaf, dict) and leaf.get("kind") == ROTATION_KIND:
            self.rotations.append(
                (position, leaf.get("previous_key"), leaf.get("new_key"), leaf.get("announcement"))
            )
        if self.entry_callback is not None and isinstance(leaf, dict):
            self.entry_callback(position, open_leaf(leaf, opened))
        return leaf_hash(leaf_bytes)

    def _openings(
        self, position: int, leaf: Mapping[str, object], raw: Mapping[str, object]
    ) -> dict[str, Opening]:
        try:
            sealed = sealed_fields(leaf)
        except SealError as exc:
            raise _Failure(f"entry {position}: malformed sealed field: {exc}") from None
        given = raw.get("openings", {})
        erased = raw.get("erased", [])
        if not isinstance(given, Mapping):
            raise _Unusable(f"entry {position}: 'openings' is not an object")
        if not isinstance(erased, list) or not all(isinstance(e, str) for e in erased):
            raise _Unusable(f"entry {position}: 'erased' is not a list of field names")
        opened: dict[str, Opening] = {}
        for name, item in given.items():
            if name not in sealed:
                raise _Failure(
                    f"entry {position}: an opening is given for {name!r}, "
                    "which the leaf does not seal"
                )
            audience, expected = sealed[name]
            try:
                opening = parse_opening(name, audience, item)
            except SealError as exc:
                raise _Unusable(f"entry {position}: {exc}") from None
            if not check_opening(name, expected, opening):
                raise _Failure(
                    f"entry {position}: the opening of {name!r} does not match the leaf's "
                    "commitment (value or salt changed)"
                )
            opened[name] = opening
        self.openings += len(opened)
        self.erased += len([name for name in erased if name in sealed and name not in opened])
        for name, (audience, _digest) in sealed.items():
            if name not in opened and name not in erased and audience not in self.missing:
                self.missing[audience] = (position, name)
        return opened

    def finish(self) -> tuple[int, str | None]:
        """Check everything that needs the whole bundle; return (signed size, latest note)."""
        for key in ("format", "origin", "checkpoints"):
            if key not in self.header:
                raise _Unusable(f"the bundle is missing {key!r}")
        if "entries" not in self.header:
            raise _Unusable("the bundle is missing 'entries'")
        fmt = self.header["format"]
        if fmt != BUNDLE_FORMAT and fmt not in LEGACY_FORMATS:
            raise _Unusable(f"bundle format is {fmt!r}, expected {BUNDLE_FORMAT!r}")
        origin = self.header["origin"]
        if not isinstance(origin, str):
            raise _Unusable("the bundle's 'origin' is not a string")
        if self.replay is not None:
            for start in range(0, len(self.replay), HASH_SIZE):
                self._push(bytes(self.replay[start : start + HASH_SIZE]))
        self.roots[0] = EMPTY_ROOT
        try:
            log_key = log_key_for(self.key, origin)
        except CheckpointError as exc:
            raise _Failure(f"the trusted key does not match this bundle: {exc}") from None
        self._check_openings_present()
        signed, latest = self._check_checkpoints(origin, log_key)
        self._check_known(origin, log_key, signed)
        tail_from = signed
        if not self.checkpoints:
            message = (
                f"the bundle has no checkpoint: nothing signed by the trusted key vouches for "
                f"its {self.entries} entries"
            )
            self._tail(message)
        elif self.entries > tail_from:
            by = "signed by the trusted key"
            if self.witnesses:
                by += " and cosigned by " + ", ".join(repr(w.name) for w in self.witnesses)
            self._tail(
                f"entries {tail_from} to {self.entries - 1} come after the last checkpoint "
                f"{by} (size {tail_from}): nothing vouches for them"
            )
        return signed, latest

    def _tail(self, message: str) -> None:
        if not self.allow_unsigned_tail:
            raise _Failure(message + " (--allow-unsigned-tail accepts them as unverified)")
        self.warnings.append(message)

    def _check_openings_present(self) -> None:
        reader = self.header.get("reader", {})
        audiences = reader.get("audiences", []) if isinstance(reader, Mapping) else None
        if not isinstance(audiences, list):
            raise _Unusable("the bundle's 'reader' is malformed")
        for audience in audiences:
            if audience in self.missing and audience in SEALED_AUDIENCES:
                position, name = self.missing[audience]
                raise _Failure(
                    f"entry {position}: no opening for {name!r} ({audience}), which this "
                    "bundle's reader may see, and it is not marked erased (opening missing)"
                )

    def _key_chain(self, origin: str, trusted: VerifierKey) -> tuple[list[VerifierKey], int]:
        """The log's keys in order, each announced in the log and signed by the one before.

        Returns (keys, position of the trusted key among them). Without rotation the chain is
        the trusted key alone. The trusted key may be any key of the chain: a reader who pinned
        a key before a rotation follows the announcements forward; one who was given the new
        key checks the older checkpoints with the keys the announcements name.
        """
        if not self.rotations:
            return [trusted], 0
        keys: list[VerifierKey] = []
        for index, previous, new, announcement in self.rotations:
            what = f"entry {index} (key rotation)"
            try:
                previous_key = parse_verifier_key(previous) if isinstance(previous, str) else None
            except CheckpointError:
                previous_key = None
            if previous_key is None:
                raise _Failure(f"{what}: the previous key is missing or malformed")
            if keys and (
                previous_key.key_id != keys[-1].key_id
                or previous_key.public_key != keys[-1].public_key
            ):
                raise _Failure(f"{what}: its previous key is not the key announced before it")
            try:
                if not isinstance(announcement, str):
                    raise CheckpointError("the announcement is missing")
                announced = verify_rotation(announcement, origin, previous_key)
            except CheckpointSignatureError as exc:
                raise _Failure(
                    f"{what}: the announcement is not signed by the previous key: {exc}"
                ) from None
            except CheckpointError as exc:
                raise _Failure(f"{what}: {exc}") from None
            if not isinstance(new, str) or new != public_verifier_key(
                announced.name, announced.public_key
            ):
                raise _Failure(f"{what}: the new key differs from the one the announcement names")
            if not keys:
                keys.append(previous_key)
            keys.append(announced)
        for position, key in enumerate(keys):
            if key.key_id == trusted.key_id and key.public_key == trusted.public_key:
                return keys, position
        raise _Failure(
            f"the trusted key {trusted.name!r} is none of the keys this log announces "
            "(re-signed with another key?)"
        )

    def _check_checkpoints(self, origin: str, log_key: VerifierKey) -> tuple[int, str | None]:
        signed, latest, previous = 0, None, None
        keys, trusted_at = self._key_chain(origin, log_key)
        self.chain = keys
        # rotations[j - 1] made keys[j] the log's key from its entry on.
        starts = [0] + [r[0] for r in self.rotations]
        current = 0
        for number, checkpoint in enumerate(self.checkpoints or [], start=1):
            what = f"checkpoint {number} (size {checkpoint.size})"
            if checkpoint.origin != origin:
                raise _Failure(
                    f"{what}: origin {checkpoint.origin!r} is not the bundle's {origin!r}"
                )
            note = self.notes[number - 1]
            current = self._signed_by(what, note, checkpoint.size, keys, starts, current)
            self.signed_checkpoints = number
            if previous is not None and checkpoint.size < previous.size:
                raise _Failure(
                    f"{what} is smaller than checkpoint {number - 1} (size {previous.size}): "
                    "a log never shrinks"
                )
            if checkpoint.size > self.entries:
                raise _Failure(
                    f"{what}: the bundle has only {self.entries} entries (entries are missing "
                    "at the end)"
                )
            if self.roots[checkpoint.size] != checkpoint.root:
                covered = (
                    f"entries 0 to {checkpoint.size - 1}" if checkpoint.size else "the empty log"
                )
                raise _Failure(f"{what}: its root does not match {covered} (history rewritten)")
            previous = checkpoint
            cosigned = True
            for witness in self.witnesses:
                try:
                    stamp = verify_cosignature(note, witness)
                except CheckpointError as exc:
                    raise _Failure(f"{what}: {exc}") from None
                cosigned = cosigned and stamp is not None
            if cosigned and current >= trusted_at:
                signed, latest = checkpoint.size, note
            elif cosigned:
                # Signed by a key older than the trusted one: it vouches only once a checkpoint
                # by the trusted key (or a later one) covers the announcements that lead to it.
                pass
        if self.checkpoints and current < trusted_at:
            raise _Failure(
                f"no checkpoint is signed by the trusted key {log_key.name!r} "
                f"(its key ID {log_key.key_id.hex()}): the announcements that name it are "
                "vouched for by nothing it signed"
            )
        if len(keys) > 1:
            self.warnings.append(
                "the log's signing key changed "
                + ", ".join(f"at entry {r[0]}" for r in self.rotations)
                + ": each change is announced in the log and signed by the previous key"
            )
        if self.checkpoints and self.witnesses and latest is None:
            names = ", ".join(repr(w.name) for w in self.witnesses)
            self.warnings.append(f"no checkpoint in the bundle is cosigned by {names}")
        return signed, latest

    def _signed_by(
        self,
        what: str,
        note: str,
        size: int,
        keys: Sequence[VerifierKey],
        starts: Sequence[int],
        current: int,
    ) -> int:
        """The position in `keys` of the key that signed this checkpoint; fails if none may.

        A key may sign once its announcement is inside the checkpoint (its entry index is below
        the size), and an older key no longer once a newer one has signed.
        """
        error: CheckpointError | None = None
        for position in range(current, len(keys)):
            if position > current and starts[position] >= size:
                break
            try:
                verify_note(note, keys[position])
            except CheckpointSignatureError as exc:
                error = error or exc
                continue
            except CheckpointError as exc:
                raise _Unusable(f"{what} is malformed: {exc}") from None
            return position
        name = keys[current].name
        hint = (
            "(re-signed with another key?)"
            if len(keys) == 1
            else "(nor by a later key announced in the log before it)"
        )
        raise _Failure(f"{what} is not signed by the trusted key {name!r}: {error} {hint}")

    def _verify_any(self, note: str, log_key: VerifierKey) -> None:
        """Verify a note by the trusted key or any key the log announces (raises if none)."""
        error: CheckpointError | None = None
        for key in self.chain or [log_key]:
            try:
                verify_note(note, key)
                return
            except CheckpointError as exc:
                error = error or exc
        assert error is not None
        raise error

    def _check_known(self, origin: str, log_key: VerifierKey, signed: int) -> None:
        for number, known in enumerate(self.known_checkpoints, start=1):
            what = f"the checkpoint you saw earlier (size {known.size})"
            if known.origin != origin:
                raise _Failure(f"{what} is for the log {known.origin!r}, not {origin!r}")
            try:
                self._verify_any(self.known[number - 1], log_key)
            except CheckpointError as exc:
                raise _Failure(
                    f"{what} is not signed by the trusted key {log_key.name!r} ({exc}): "
                    "the log's key changed, or that checkpoint is forged"
                ) from None
            latest = max((c.size for c in self.checkpoints or []), default=0)
            if known.size > latest or known.size > self.entries:
                raise _Failure(
                    f"rollback or truncation: the bundle's latest checkpoint has size {latest} "
                    f"and it holds {self.entries} entries, but {what} covered {known.size}"
                )
            if self.roots.get(known.size) != known.root:
                raise _Failure(
                    f"history rewritten: entries 0 to {known.size - 1} are not those of {what}"
                )


def _report(
    verifier: _Verifier, outcome: tuple[int, str | None] | None, error: Exception | None
) -> VerifyReport:
    origin = verifier.header.get("origin")
    return VerifyReport(
        ok=error is None,
        checked_entries=verifier.entries,
        checkpoints=verifier.signed_checkpoints,
        first_failure=None if error is None else str(error),
        signed_size=outcome[0] if outcome else 0,
        unusable=isinstance(error, _Unusable),
        origin=origin if isinstance(origin, str) else None,
        latest_note=outcome[1] if outcome else None,
        withheld=verifier.withheld,
        openings=verifier.openings,
        erased=verifier.erased,
        warnings=tuple(verifier.warnings),
    )


def _run(
    feed: Callable[[_Verifier], None],
    key: str | VerifierKey,
    known: Sequence[str],
    witnesses: Sequence[str | VerifierKey],
    allow_unsigned_tail: bool,
    on_entry: Callable[[int, dict[str, object]], None] | None,
) -> VerifyReport:
    try:
        trusted = _parse_key(key, 0x01, "the trusted key") if isinstance(key, str) else key
        cosigners = [
            _parse_key(w, COSIGNATURE_ALGORITHM, "witness key") if isinstance(w, str) else w
            for w in witnesses
        ]
    except _Unusable as error:
        dummy = _Verifier(VerifierKey("x", b"", b""), (), (), False)
        return _report(dummy, None, error)
    verifier = _Verifier(trusted, list(known), cosigners, allow_unsigned_tail, on_entry)
    try:
        verifier.start()
        feed(verifier)
        outcome = verifier.finish()
    except (_Unusable, _Failure) as error:
        return _report(verifier, None, error)
    return _report(verifier, outcome, None)


def verify_stream(
    handle: TextIO,
    *,
    key: str | VerifierKey,
    known: Sequence[str] = (),
    witnesses: Sequence[str | VerifierKey] = (),
    allow_unsigned_tail: bool = False,
    on_entry: Callable[[int, dict[str, object]], None] | None = None,
) -> VerifyReport:
    """Verify a bundle read from a text handle, entry by entry; never raises on bad input.

    `on_entry(index, fact)` receives each entry's fact as its reader sees it (public fields
    plus the opened ones), as it is read: what it computes is trustworthy only if the report
    is ok.
    """

    def feed(verifier: _Verifier) -> None:
        for event, value in _events(handle):
            if event == "key":
                verifier.on_header(*value)
            elif event == "entries":
                verifier.header["entries"] = True
                verifier.begin_entries()
            else:
                verifier.on_entry(value)

    return _run(feed, key, known, witnesses, allow_unsigned_tail, on_entry)


def verify_bundle(
    bundle: object,
    *,
    key: str | VerifierKey,
    known: Sequence[str] = (),
    witnesses: Sequence[str | VerifierKey] = (),
    allow_unsigned_tail: bool = False,
    on_entry: Callable[[int, dict[str, object]], None] | None = None,
) -> VerifyReport:
    """Verify a bundle already loaded (a dict); same checks as verify_stream."""

    def feed(verifier: _Verifier) -> None:
        if not isinstance(bundle, Mapping):
            raise _Unusable("the bundle is not a JSON object")
        for name, value in bundle.items():
            if name != "entries":
                verifier.on_header(name, value)
        if "entries" in bundle:
            if not isinstance(bundle["entries"], list):
                raise _Unusable("the bundle's 'entries' is not a list")
            verifier.header["entries"] = True
            verifier.begin_entries()
            for entry in bundle["entries"]:
                verifier.on_entry(entry)

    return _run(feed, key, known, witnesses, allow_unsigned_tail, on_entry)


class BundleEntry(TypedDict, total=False):
    """One entry as it travels in a bundle (the module's docstring gives the format)."""

    index: int
    data: str
    openings: dict[str, dict[str, str]]  # {field: {"salt": base64, "json": value}}
    erased: list[str]
    leaf_hash: str  # base64; instead of data, openings and erased when withheld


def bundle_entry(
    index: int,
    data: bytes | str,
    openings: Sequence[Opening] = (),
    erased: Sequence[str] = (),
) -> BundleEntry:
    """One entry as it travels in a bundle."""
    entry: BundleEntry = {
        "index": index,
        "data": data.decode("utf-8") if isinstance(data, bytes) else data,
    }
    if openings:
        entry["openings"] = {o.field: o.as_json() for o in openings}
    if erased:
        entry["erased"] = list(erased)
    return entry


def withheld_entry(index: int, data: bytes | str) -> BundleEntry:
    """An entry whose leaf this reader may not read: its leaf hash only."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return {"index": index, "leaf_hash": base64.b64encode(leaf_hash(raw)).decode("ascii")}


def build_bundle(
    origin: str,
    entries: Sequence[bytes | Mapping[str, object]],
    checkpoints: Sequence[str],
    *,
    public_key: str,
    audiences: Sequence[str] = (),
) -> dict[str, Any]:
    """Assemble a bundle in memory (tests, small logs); the server streams its own."""
    return {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "public_key": public_key,
        "reader": {"audiences": list(audiences)},
        "checkpoints": list(checkpoints),
        "entries": [
            bundle_entry(i, e) if isinstance(e, bytes) else dict(e) for i, e in enumerate(entries)
        ],
    }
