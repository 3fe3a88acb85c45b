"""Offline bundle verification trusts only the caller's key and catches every tamper class."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest

from confiance.ledger.bundle import build_bundle, verify_bundle, verify_stream
from confiance.ledger.checkpoint import (
    COSIGNATURE_ALGORITHM,
    add_signature_lines,
    cosign,
    format_checkpoint,
    generate_signing_key,
    parse_checkpoint,
    parse_verifier_key,
    public_verifier_key,
    sign_checkpoint,
)
from confiance.ledger.merkle import canonical_json
from confiance.ledger.sealing import AMOUNTS, INTERNAL, PERSONAL, seal
from confiance.ledger.tree import MemoryNodeStore, MerkleLog

WORKSPACE = "confiance.ledger/acme-0a1b2c3d"
ORIGIN = f"{WORKSPACE}/42"
SKEY, WORKSPACE_VKEY = generate_signing_key(WORKSPACE)
VKEY = public_verifier_key(ORIGIN, parse_verifier_key(WORKSPACE_VKEY).public_key)
OTHER_KEY, OTHER_VKEY = generate_signing_key(ORIGIN)
WITNESS_KEY, WITNESS_VKEY = generate_signing_key("client.example/w1", COSIGNATURE_ALGORITHM)


def fact(i: int, amount: str | None = None) -> tuple[bytes, dict[str, Any]]:
    """A format-2 leaf (time entry, or a budget revision with a sealed amount) and its entry."""
    fields: dict[str, object] = {"minutes": 30 + i, "note": f"relecture {i} é", "by": "a@x.example"}
    kind = "time_entry"
    if amount is not None:
        kind = "budget.revised"
        fields = {"days": "60", "amount": amount, "internal_note": "margin 20%", "by": "b@x"}
    leaf, openings = seal(kind, fields, random_bytes=lambda n: bytes([i % 256]) * n)
    leaf.update({"v": 2, "kind": kind, "engagement": 42, "seq": i, "at": "2026-12-01T10:00:00Z"})
    data = canonical_json(leaf)
    entry = {
        "index": i,
        "data": data.decode(),
        "openings": {o.field: o.as_json() for o in openings},
    }
    return data, entry


def make(
    count: int = 50, sizes: tuple[int, ...] = (10, 30, 50), key: bytes = SKEY
) -> tuple[dict[str, Any], MerkleLog]:
    leaves, entries = zip(
        *(fact(i, "57000" if i == 3 else None) for i in range(count)), strict=True
    )
    log = MerkleLog(MemoryNodeStore())
    log.append_many(list(leaves))
    notes = [checkpoint(log, size, key) for size in sizes]
    bundle = build_bundle(
        ORIGIN, list(entries), notes, public_key=VKEY, audiences=[PERSONAL, AMOUNTS, INTERNAL]
    )
    return bundle, log


def checkpoint(log: MerkleLog, size: int, key: bytes = SKEY) -> str:
    return sign_checkpoint(format_checkpoint(ORIGIN, size, log.root(size)), ORIGIN, key)


GOOD, LOG = make()


@pytest.fixture
def bundle() -> dict[str, Any]:
    return copy.deepcopy(GOOD)


def failure(bundle: object, **options: Any) -> str:
    options.setdefault("key", VKEY)
    report = verify_bundle(bundle, **options)
    assert not report.ok
    assert report.first_failure
    return report.first_failure


def test_a_good_bundle_verifies_with_the_log_key_or_the_workspace_key(bundle) -> None:
    for key in (VKEY, WORKSPACE_VKEY):
        report = verify_bundle(bundle, key=key)
        assert report.ok, report.first_failure
        assert (report.checked_entries, report.checkpoints, report.signed_size) == (50, 3, 50)
        assert report.openings == 50 + 2  # every "by", plus the revision's amount and note


def test_streaming_verification_gives_the_same_answer(bundle) -> None:
    report = verify_stream(io.StringIO(json.dumps(bundle)), key=VKEY)
    assert report.ok and report.checked_entries == 50
    # Entries before the checkpoints in the file: still verified (leaf hashes replayed).
    reordered = {
        "entries": bundle["entries"],
        **{k: v for k, v in bundle.items() if k != "entries"},
    }
    assert verify_stream(io.StringIO(json.dumps(reordered)), key=VKEY).ok


def test_a_forged_tail_fails_unless_asked(bundle) -> None:
    _data, entry = fact(50)
    entry["index"] = 50
    bundle["entries"].append(entry)
    assert "entries 50 to 50 come after the last checkpoint" in failure(bundle)
    report = verify_bundle(bundle, key=VKEY, allow_unsigned_tail=True)
    assert report.ok and report.warnings


def test_a_bundle_without_checkpoint_fails(bundle) -> None:
    bundle["checkpoints"] = []
    assert "no checkpoint" in failure(bundle)


def test_a_history_re_signed_with_a_foreign_key_fails_whatever_key_the_bundle_carries() -> None:
    forged, _log = make(key=OTHER_KEY)
    forged["public_key"] = OTHER_VKEY  # the bundle's own key is never trusted
    assert "is not signed by the trusted key" in failure(forged)


def test_a_history_re_signed_with_the_own_key_is_caught_by_a_known_checkpoint(bundle) -> None:
    known = bundle["checkpoints"][1]  # size 30, kept by the client's browser
    rewritten = copy.deepcopy(bundle)
    _data, changed = fact(7)
    forged_leaves = []
    for i, item in enumerate(rewritten["entries"]):
        if i == 7:
            leaf = json.loads(changed["data"])
            leaf["minutes"] = 480
            item["data"] = canonical_json(leaf).decode()
        forged_leaves.append(item["data"].encode())
    log = MerkleLog(MemoryNodeStore())
    log.append_many(forged_leaves)
    rewritten["checkpoints"] = [checkpoint(log, size) for size in (10, 30, 50)]
    # Signed by the right key, it verifies on its own: only memory catches it.
    assert verify_bundle(rewritten, key=VKEY).ok
    assert "history rewritten" in failure(rewritten, known=[known])
    assert verify_bundle(bundle, key=VKEY, known=[known]).ok


def test_truncation_and_rollback_are_caught_by_a_known_checkpoint(bundle) -> None:
    known = bundle["checkpoints"][2]  # size 50
    truncated = copy.deepcopy(bundle)
    truncated["entries"] = truncated["entries"][:30]
    truncated["checkpoints"] = truncated["checkpoints"][:2]
    assert verify_bundle(truncated, key=VKEY).ok
    assert "rollback or truncation" in failure(truncated, known=[known])
    # Entries cut without their checkpoint: caught even without memory.
    bundle["entries"] = bundle["entries"][:40]
    assert "entries are missing at the end" in failure(bundle)


def test_a_known_checkpoint_signed_by_another_key_reports_the_key_change(bundle) -> None:
    forged, _log = make(key=OTHER_KEY)
    old = bundle["checkpoints"][0]
    assert "not signed by the trusted key" in failure(forged, key=OTHER_VKEY, known=[old])


def test_a_wrong_opening_fails(bundle) -> None:
    bundle["entries"][3]["openings"]["amount"]["json"] = '"5700"'
    assert "opening of 'amount' does not match" in failure(bundle)


def test_a_missing_opening_fails_for_a_reader_who_may_see_it(bundle) -> None:
    del bundle["entries"][3]["openings"]["amount"]
    assert "no opening for 'amount' (amounts)" in failure(bundle)
    # A client that may not see amounts: the same bundle verifies, without the amount.
    bundle["reader"]["audiences"] = [PERSONAL]
    del bundle["entries"][3]["openings"]["internal_note"]
    report = verify_bundle(bundle, key=VKEY)
    assert report.ok, report.first_failure


def test_an_erased_opening_still_verifies_and_is_counted(bundle) -> None:
    del bundle["entries"][5]["openings"]["by"]
    bundle["entries"][5]["erased"] = ["by"]
    report = verify_bundle(bundle, key=VKEY)
    assert report.ok and report.erased == 1


def test_a_client_bundle_shows_no_amount_and_still_verifies_every_leaf(bundle) -> None:
    for item in bundle["entries"]:
        item.get("openings", {}).pop("amount", None)
        item.get("openings", {}).pop("internal_note", None)
    bundle["reader"]["audiences"] = [PERSONAL]
    seen: dict[int, dict[str, object]] = {}
    report = verify_bundle(bundle, key=VKEY, on_entry=lambda i, f: seen.__setitem__(i, f))
    assert report.ok
    assert "57000" not in json.dumps(bundle)
    assert seen[3]["days"] == "60" and "amount" not in seen[3]
    assert seen[4]["by"] == "a@x.example"


def test_a_changed_leaf_fails(bundle) -> None:
    leaf = json.loads(bundle["entries"][12]["data"])
    leaf["minutes"] = 600
    bundle["entries"][12]["data"] = canonical_json(leaf).decode()
    assert "root does not match entries 0 to 29" in failure(bundle)


def test_a_missing_entry_fails(bundle) -> None:
    del bundle["entries"][4]
    assert "an entry is missing or out of order" in failure(bundle)


def witnessed(note: str, stamp: int = 1_700_000_000) -> str:
    body = parse_checkpoint(note).body
    return add_signature_lines(note, [cosign(body, "client.example/w1", WITNESS_KEY, stamp)])


def test_witness_cosignatures_are_required_when_asked(bundle) -> None:
    assert "cosigned by 'client.example/w1'" in failure(bundle, witnesses=[WITNESS_VKEY])
    bundle["checkpoints"][-1] = witnessed(bundle["checkpoints"][-1])
    report = verify_bundle(bundle, key=VKEY, witnesses=[WITNESS_VKEY])
    assert report.ok, report.first_failure


def test_a_forged_cosignature_fails(bundle) -> None:
    note = witnessed(bundle["checkpoints"][-1])
    line = note.rstrip("\n").rsplit("\n", 1)[1]
    flipped = "A" if line[-20] != "A" else "B"
    bad = line[:-20] + flipped + line[-19:]
    bundle["checkpoints"][-1] = note.replace(line, bad)
    assert "does not verify" in failure(bundle, witnesses=[WITNESS_VKEY])


@pytest.mark.parametrize(
    "broken",
    [
        "not an object",
        {"format": "confiance-ledger-bundle/2"},
        {**GOOD, "format": "other/1"},
        {**GOOD, "checkpoints": ["not a checkpoint"]},
        {**GOOD, "entries": [{"index": 0, "data": "{not json"}]},
        {**GOOD, "entries": "nope"},
    ],
)
def test_malformed_bundles_are_unusable_not_failed(broken: object) -> None:
    report = verify_bundle(broken, key=VKEY)
    assert not report.ok and report.unusable and report.first_failure


def test_a_malformed_trusted_key_is_unusable(bundle) -> None:
    report = verify_bundle(bundle, key="not-a-key")
    assert report.unusable


def test_a_key_for_another_log_fails(bundle) -> None:
    _skey, elsewhere = generate_signing_key("confiance.ledger/other-00000000")
    assert "is not the key of the log" in failure(bundle, key=elsewhere)
