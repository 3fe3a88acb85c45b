"""A C2SP tlog-witness: cosigns checkpoints that extend what it saw before, refuses the rest.

Pure Python, no Django: `confiance witness serve` runs it anywhere, e.g. on the client's own
machine. Specs: https://c2sp.org/tlog-witness (the add-checkpoint call and the monitoring
GET) and https://c2sp.org/tlog-cosignature (Ed25519 cosignatures, type 0x04). For each log it
keeps the latest size, root and note it cosigned, in SQLite; checking the old size and storing
the new checkpoint happen in one write transaction, so two racing requests cannot roll back.

Which logs it witnesses: the log vkeys it is given. A vkey named after a workspace (N) covers
the logs whose origin is N/<engagement> (see checkpoint.log_key_for), so a client can witness
every engagement it has with a provider from the provider's one published key.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from confiance.ledger.checkpoint import (
    COSIGNATURE_ALGORITHM,
    Checkpoint,
    CheckpointError,
    CheckpointSignatureError,
    VerifierKey,
    cosign,
    log_key_for,
    parse_checkpoint,
    verifier_key,
    verify_note,
)
from confiance.ledger.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency

MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 1 << 20
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, content type and body."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def _text(status: int, message: str) -> Answer:
    return Answer(status, (message + "\n").encode())


class WitnessStore:
    """The latest cosigned checkpoint of each log, in a SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, "
            "root BLOB NOT NULL, note TEXT NOT NULL)"
        )
        self.lock = threading.Lock()

    def get(self, origin: str) -> tuple[int, bytes, str] | None:
        row = self.connection.execute(
            "SELECT size, root, note FROM logs WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]), str(row[2]))

    def close(self) -> None:
        self.connection.close()


class Witness:
    """The witness's logic, independent of HTTP: `add_checkpoint(body)` returns an Answer."""

    def __init__(
        self,
        *,
        name: str,
        private_key: bytes,
        logs: Sequence[VerifierKey],
        store: WitnessStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.private_key = private_key
        self.logs = list(logs)
        self.store = store
        self.clock = clock
        self.vkey = verifier_key(name, private_key, COSIGNATURE_ALGORITHM)

    def _log_key(self, origin: str) -> VerifierKey | None:
        for key in self.logs:
            try:
                return log_key_for(key, origin)
            except CheckpointError:
                continue
        return None

    def add_checkpoint(self, body: bytes) -> Answer:
        """The add-checkpoint call: old size line, proof lines, blank line, checkpoint."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _text(400, "request is not UTF-8")
        head, separator, note = text.partition("\n\n")
        if not separator:
            return _text(400, "request has no blank line before the checkpoint")
        lines = head.split("\n")
        old_line, proof_lines = lines[0], lines[1:]
        if not old_line.startswith("old "):
            return _text(400, "first line must be 'old <size>'")
        old_text = old_line[4:]
        if not old_text.isdigit() or (old_text != "0" and old_text.startswith("0")):
            return _text(400, "old size is not a decimal number")
        old = int(old_text)
        if len(proof_lines) > MAX_PROOF_LINES:
            return _text(400, "too many consistency proof lines")
        proof: list[bytes] = []
        for line in proof_lines:
            try:
                raw = base64.b64decode(line.encode("ascii"), validate=True)
            except (ValueError, UnicodeEncodeError):
                raw = b""
            if len(raw) != HASH_SIZE:
                return _text(400, "a consistency proof line is not a base64 hash")
            proof.append(raw)
        try:
            checkpoint = parse_checkpoint(note)
        except CheckpointError as exc:
            return _text(400, f"malformed checkpoint: {exc}")
        key = self._log_key(checkpoint.origin)
        if key is None:
            return _text(404, f"unknown log {checkpoint.origin}")
        try:
            verify_note(note, key)
        except CheckpointSignatureError as exc:
            return _text(403, str(exc))
        except CheckpointError as exc:
            return _text(400, f"malformed checkpoint: {exc}")
        if old > checkpoint.size:
            return _text(400, "old size is larger than the checkpoint's size")
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            return _text(422, "a checkpoint of size 0 must have the empty tree's root")
        return self._update(checkpoint, note, old, proof)

    def _update(self, checkpoint: Checkpoint, note: str, old: int, proof: list[bytes]) -> Answer:
        store = self.store
        with store.lock:
            connection = store.connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                answer = self._check_and_store(checkpoint, note, old, proof)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT" if answer.status == 200 else "ROLLBACK")
            return answer

    def _check_and_store(
        self, checkpoint: Checkpoint, note: str, old: int, proof: list[bytes]
    ) -> Answer:
        current = self.store.get(checkpoint.origin)
        current_size = current[0] if current else 0
        if old != current_size:
            return Answer(409, f"{current_size}\n".encode(), SIZE_CONTENT_TYPE)
        if old == 0:
            if proof:
                return _text(422, "the proof must be empty when the old size is 0")
        elif old == checkpoint.size:
            if current is None or current[1] != checkpoint.root:
                return _text(422, "same size as the cosigned checkpoint but another root")
        elif current is None or not verify_consistency(
            old, checkpoint.size, current[1], checkpoint.root, proof
        ):
            return _text(422, "the consistency proof does not verify")
        timestamp = int(self.clock())
        line = cosign(checkpoint.body, self.name, self.private_key, timestamp)
        self.store.connection.execute(
            "INSERT INTO logs (origin, size, root, note) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "note = excluded.note",
            (checkpoint.origin, checkpoint.size, checkpoint.root, note + line + "\n"),
        )
        return Answer(200, (line + "\n").encode())

    def latest(self, origin_hash: str) -> Answer:
        """The monitoring GET: the latest cosigned checkpoint of the log whose origin hashes so."""
        rows = self.store.connection.execute("SELECT origin, note FROM logs").fetchall()
        for origin, note in rows:
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                return Answer(200, note.encode())
        return _text(404, "no checkpoint cosigned for that log")
