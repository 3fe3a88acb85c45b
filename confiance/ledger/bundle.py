"""Build and verify, offline, an engagement's exported ledger bundle (JSON).

A bundle holds the entries (canonical JSON leaves), the signed checkpoints (oldest first),
the workspace's verifier key and the consistency proofs between successive checkpoints.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeVar

from confiance.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointSignatureError,
    parse_checkpoint,
    parse_verifier_key,
    verify_checkpoint,
)
from confiance.ledger.merkle import (
    HASH_SIZE,
    canonical_json,
    consistency_proof,
    verify_consistency,
)
from confiance.ledger.tree import MemoryNodeStore, MerkleLog

BUNDLE_FORMAT = "confiance-ledger-bundle/1"
_KEYS = ("format", "origin", "public_key", "entries", "checkpoints", "consistency_proofs")
_KIND_NAMES: dict[type, str] = {str: "a string", int: "an integer", list: "a list"}

T = TypeVar("T")


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of verify_bundle; `first_failure` names the entry or checkpoint at fault.

    Counts are of entries well formed and checkpoints whose signature verified, before any
    failure. `signed_size` is the largest checkpoint size matched against the entries:
    entries from that index on are in the bundle but not covered by any signature.
    Checkpoints are numbered from 1 in messages, entries by their 0-based index.
    """

    ok: bool
    checked_entries: int
    checkpoints: int
    first_failure: str | None
    signed_size: int = 0


class _Failure(Exception):
    """Internal: stops verification with a plain-English message."""


@dataclass
class _Progress:
    entries: int = 0
    checkpoints: int = 0
    signed_size: int = 0


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _field(mapping: Mapping[str, object], key: str, kind: type[T], where: str) -> T:
    """Return mapping[key] if present and of `kind`, else fail naming `where`."""
    if key not in mapping:
        raise _Failure(f"{where} is missing {key!r}")
    value = mapping[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Failure(f"{where}: {key!r} must be {_KIND_NAMES[kind]}")
    return value


def _leaf(position: int, entry: object) -> bytes:
    """Check one entry's index and canonical form; return its leaf bytes."""
    if not isinstance(entry, Mapping):
        raise _Failure(f"entry at position {position} is not a JSON object")
    index = entry.get("index")
    if not _is_int(index):
        raise _Failure(f"entry at position {position} has no integer 'index'")
    if index != position:
        raise _Failure(
            f"entry at position {position} has index {index}, expected {position} "
            "(an entry is missing or out of order)"
        )
    data = entry.get("data")
    if not isinstance(data, str):
        raise _Failure(f"entry {position}: 'data' must be a string of canonical JSON")
    try:
        leaf = data.encode("utf-8")
    except UnicodeEncodeError:
        raise _Failure(f"entry {position}: data is not valid UTF-8") from None
    try:
        value = json.loads(data, parse_constant=_reject_constant)
        canonical = canonical_json(value)
    except (ValueError, TypeError, RecursionError):
        raise _Failure(f"entry {position}: not valid JSON") from None
    if canonical != leaf:
        raise _Failure(f"entry {position}: not canonical JSON")
    return leaf


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in canonical JSON")


def _decode_proof(items: object, where: str) -> list[bytes]:
    if not isinstance(items, list):
        raise _Failure(f"{where}: 'proof' must be a list of base64 hashes")
    proof: list[bytes] = []
    for item in items:
        try:
            raw = base64.b64decode(item, validate=True) if isinstance(item, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != HASH_SIZE:
            raise _Failure(f"{where}: proof element {len(proof)} is not a base64 32-byte hash")
        proof.append(raw)
    return proof


def _check_chain(
    notes: Sequence[object], proofs: Sequence[object], vkey: str, origin: str, progress: _Progress
) -> list[Checkpoint]:
    """Verify every checkpoint's signature, then the consistency between successive ones."""
    if not notes:
        raise _Failure("bundle has no checkpoint, so none of its entries is signed")
    checkpoints: list[Checkpoint] = []
    for number, note in enumerate(notes, start=1):
        if not isinstance(note, str):
            raise _Failure(f"checkpoint {number} is not a string")
        try:
            checkpoint = verify_checkpoint(note, vkey)
        except CheckpointSignatureError:
            raise _Failure(
                f"checkpoint {number}: signature does not verify with the bundle's public key"
            ) from None
        except CheckpointError as exc:
            raise _Failure(f"checkpoint {number} is malformed: {exc}") from None
        if checkpoint.origin != origin:
            raise _Failure(
                f"checkpoint {number}: origin {checkpoint.origin!r} is not the bundle's {origin!r}"
            )
        checkpoints.append(checkpoint)
        progress.checkpoints = number
    if len(proofs) != len(notes) - 1:
        raise _Failure(
            f"bundle has {len(proofs)} consistency proofs for {len(notes)} checkpoints, "
            f"expected {len(notes) - 1}"
        )
    for number in range(2, len(checkpoints) + 1):
        _check_step(checkpoints[number - 2], checkpoints[number - 1], proofs[number - 2], number)
    return checkpoints


def _check_step(old: Checkpoint, new: Checkpoint, item: object, number: int) -> None:
    """Check that checkpoint `number` extends the previous one."""
    if new.size < old.size:
        raise _Failure(
            f"checkpoint {number} (size {new.size}) is smaller than checkpoint {number - 1} "
            f"(size {old.size}): a log never shrinks"
        )
    where = f"consistency proof {number - 1} (checkpoint {number - 1} to {number})"
    if not isinstance(item, Mapping):
        raise _Failure(f"{where} is not a JSON object")
    old_size = _field(item, "old_size", int, where)
    new_size = _field(item, "new_size", int, where)
    if (old_size, new_size) != (old.size, new.size):
        raise _Failure(
            f"{where} is for sizes {old_size} to {new_size}, "
            f"but the checkpoints have sizes {old.size} to {new.size}"
        )
    proof = _decode_proof(item.get("proof"), where)
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise _Failure(
            f"checkpoint {number} is not consistent with checkpoint {number - 1} "
            "(history rewritten)"
        )


def _check_roots(
    checkpoints: Sequence[Checkpoint], log: MerkleLog, allow_truncated: bool, progress: _Progress
) -> None:
    """Check each checkpoint's root against the bundle's own entries."""
    count = log.size()
    for number, checkpoint in enumerate(checkpoints, start=1):
        size = checkpoint.size
        if size > count:
            if allow_truncated:
                continue
            raise _Failure(
                f"checkpoint {number} (size {size}): bundle has only {count} entries "
                "(entries are missing at the end)"
            )
        if log.root(size) != checkpoint.root:
            covered = f"entries 0..{size - 1}" if size else "the empty log"
            raise _Failure(f"checkpoint {number} (size {size}): root does not match {covered}")
        progress.signed_size = max(progress.signed_size, size)


def _verify(bundle: object, allow_truncated: bool, progress: _Progress) -> None:
    if not isinstance(bundle, Mapping):
        raise _Failure("bundle is not a JSON object")
    for key in _KEYS:
        if key not in bundle:
            raise _Failure(f"bundle is missing {key!r}")
    if bundle["format"] != BUNDLE_FORMAT:
        raise _Failure(f"bundle format is {bundle['format']!r}, expected {BUNDLE_FORMAT!r}")
    origin = _field(bundle, "origin", str, "bundle")
    vkey = _field(bundle, "public_key", str, "bundle")
    entries = _field(bundle, "entries", list, "bundle")
    notes = _field(bundle, "checkpoints", list, "bundle")
    proofs = _field(bundle, "consistency_proofs", list, "bundle")
    try:
        parse_verifier_key(vkey)
    except CheckpointError as exc:
        raise _Failure(f"bundle public key: {exc}") from None

    log = MerkleLog(MemoryNodeStore())
    for position, entry in enumerate(entries):
        log.append(_leaf(position, entry))
        progress.entries = position + 1
    checkpoints = _check_chain(notes, proofs, vkey, origin, progress)
    _check_roots(checkpoints, log, allow_truncated, progress)


def verify_bundle(bundle: object, *, allow_truncated: bool = False) -> VerifyReport:
    """Check a bundle offline; never raises on bad input, reports the first failure instead.

    With `allow_truncated`, a checkpoint larger than the entries present is accepted on its
    signature and consistency proofs alone (the brief's partial-bundle case).
    """
    progress = _Progress()
    try:
        _verify(bundle, allow_truncated, progress)
    except _Failure as failure:
        return VerifyReport(
            ok=False,
            checked_entries=progress.entries,
            checkpoints=progress.checkpoints,
            first_failure=str(failure),
            signed_size=progress.signed_size,
        )
    return VerifyReport(
        ok=True,
        checked_entries=progress.entries,
        checkpoints=progress.checkpoints,
        first_failure=None,
        signed_size=progress.signed_size,
    )


def build_bundle(
    origin: str,
    entries_data: Sequence[bytes],
    checkpoints: Sequence[str],
    log: MerkleLog | None = None,
    *,
    public_key: str,
) -> dict[str, Any]:
    """Assemble a bundle; consistency proofs come from `log` if given, else from the entries."""
    sizes = [parse_checkpoint(note).size for note in checkpoints]
    proofs: list[dict[str, object]] = []
    for old_size, new_size in pairwise(sizes):
        if log is not None:
            proof = log.consistency_proof(old_size, new_size)
        elif new_size <= len(entries_data):
            proof = consistency_proof(entries_data[:new_size], old_size)
        else:
            raise ValueError(f"checkpoint size {new_size} exceeds the {len(entries_data)} entries")
        proofs.append(
            {
                "old_size": old_size,
                "new_size": new_size,
                "proof": [base64.b64encode(node).decode("ascii") for node in proof],
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "public_key": public_key,
        "entries": [
            {"index": index, "data": data.decode("utf-8")}
            for index, data in enumerate(entries_data)
        ],
        "checkpoints": list(checkpoints),
        "consistency_proofs": proofs,
    }
