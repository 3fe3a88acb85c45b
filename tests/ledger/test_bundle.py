"""Offline bundle verification catches every kind of tampering with a plain-English reason."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from confiance.ledger.bundle import BUNDLE_FORMAT, build_bundle, verify_bundle
from confiance.ledger.checkpoint import format_checkpoint, generate_signing_key, sign_checkpoint
from confiance.ledger.merkle import canonical_json
from confiance.ledger.tree import MemoryNodeStore, MerkleLog

ORIGIN = "confiance.example/ws/ACME/engagement/42"
SKEY, VKEY = generate_signing_key(ORIGIN)
SIZES = (10, 30, 50)


def entry(i: int, note: str = "relecture") -> bytes:
    return canonical_json({"kind": "time_entry", "minutes": 30 + i, "note": f"{note} {i} é"})


def make_log(entries: list[bytes]) -> MerkleLog:
    log = MerkleLog(MemoryNodeStore())
    log.append_many(entries)
    return log


def checkpoint(log: MerkleLog, size: int, key: bytes = SKEY, origin: str = ORIGIN) -> str:
    # The workspace key is named after the engagement's origin, whatever the body says.
    return sign_checkpoint(format_checkpoint(origin, size, log.root(size)), ORIGIN, key)


ENTRIES = [entry(i) for i in range(50)]
LOG = make_log(ENTRIES)
CHECKPOINTS = [checkpoint(LOG, size) for size in SIZES]
GOOD: dict[str, Any] = build_bundle(ORIGIN, ENTRIES, CHECKPOINTS, LOG, public_key=VKEY)


@pytest.fixture
def bundle() -> dict[str, Any]:
    return copy.deepcopy(GOOD)


def failure(bundle: object, **options: bool) -> str | None:
    report = verify_bundle(bundle, **options)
    assert report.ok is (report.first_failure is None)
    return report.first_failure


def test_a_good_bundle_verifies(bundle: dict[str, Any]) -> None:
    report = verify_bundle(bundle)
    assert report.ok
    assert report.first_failure is None
    assert (report.checked_entries, report.checkpoints, report.signed_size) == (50, 3, 50)


def test_a_good_bundle_survives_a_json_round_trip(bundle: dict[str, Any]) -> None:
    assert verify_bundle(json.loads(json.dumps(bundle))).ok


def test_proofs_from_the_entries_equal_proofs_from_the_log() -> None:
    assert build_bundle(ORIGIN, ENTRIES, CHECKPOINTS, public_key=VKEY) == GOOD


def test_entries_beyond_the_last_checkpoint_are_reported_as_unsigned() -> None:
    entries = [*ENTRIES, *(entry(i) for i in range(50, 55))]
    report = verify_bundle(
        build_bundle(ORIGIN, entries, CHECKPOINTS, make_log(entries), public_key=VKEY)
    )
    assert report.ok
    assert (report.checked_entries, report.signed_size) == (55, 50)


def test_an_edited_entry_breaks_the_root_of_the_checkpoints_covering_it(
    bundle: dict[str, Any],
) -> None:
    bundle["entries"][17]["data"] = entry(17, note="invented").decode()
    assert failure(bundle) == "checkpoint 2 (size 30): root does not match entries 0..29"


def test_a_non_canonical_entry_is_named(bundle: dict[str, Any]) -> None:
    bundle["entries"][17]["data"] = json.dumps(json.loads(bundle["entries"][17]["data"]))
    assert failure(bundle) == "entry 17: not canonical JSON"


@pytest.mark.parametrize("data", ['{"a":', '{"a":NaN}', '{"a":Infinity}', "\ud800"])
def test_an_entry_that_is_not_json_is_named(bundle: dict[str, Any], data: str) -> None:
    bundle["entries"][17]["data"] = data
    assert failure(bundle) in ("entry 17: not valid JSON", "entry 17: data is not valid UTF-8")


def test_a_removed_entry_is_named(bundle: dict[str, Any]) -> None:
    del bundle["entries"][17]
    assert failure(bundle) == (
        "entry at position 17 has index 18, expected 17 (an entry is missing or out of order)"
    )


def test_a_removed_last_entry_is_caught(bundle: dict[str, Any]) -> None:
    del bundle["entries"][-1]
    assert failure(bundle) == (
        "checkpoint 3 (size 50): bundle has only 49 entries (entries are missing at the end)"
    )
    report = verify_bundle(bundle, allow_truncated=True)
    assert report.ok
    assert report.signed_size == 30


def test_reordered_entries_are_caught(bundle: dict[str, Any]) -> None:
    entries = bundle["entries"]
    entries[3], entries[4] = entries[4], entries[3]
    assert failure(bundle) == (
        "entry at position 3 has index 4, expected 3 (an entry is missing or out of order)"
    )
    entries[3]["index"], entries[4]["index"] = 3, 4
    assert failure(bundle) == "checkpoint 1 (size 10): root does not match entries 0..9"


def test_a_checkpoint_signed_with_another_key_is_caught(bundle: dict[str, Any]) -> None:
    forger_key, _ = generate_signing_key(ORIGIN)
    bundle["checkpoints"][1] = checkpoint(LOG, 30, key=forger_key)
    assert failure(bundle) == (
        "checkpoint 2: signature does not verify with the bundle's public key"
    )


def test_a_bundle_carrying_another_public_key_is_caught(bundle: dict[str, Any]) -> None:
    bundle["public_key"] = generate_signing_key(ORIGIN)[1]
    assert failure(bundle) == (
        "checkpoint 1: signature does not verify with the bundle's public key"
    )


def test_an_edited_checkpoint_root_breaks_its_signature(bundle: dict[str, Any]) -> None:
    old_root = base64.b64encode(LOG.root(30)).decode()
    new_root = base64.b64encode(LOG.root(29)).decode()
    bundle["checkpoints"][1] = bundle["checkpoints"][1].replace(old_root, new_root)
    assert failure(bundle) == (
        "checkpoint 2: signature does not verify with the bundle's public key"
    )


def test_a_signed_root_that_does_not_match_the_entries_is_caught() -> None:
    wrong = make_log([entry(i, note="other") for i in range(50)])
    bundle = build_bundle(ORIGIN, ENTRIES, [checkpoint(wrong, 50)], public_key=VKEY)
    assert failure(bundle) == "checkpoint 1 (size 50): root does not match entries 0..49"


def test_rewritten_history_between_two_checkpoints_is_caught() -> None:
    # The same key signs checkpoints of two logs that agree up to entry 14 only.
    rewritten = [*ENTRIES[:15], entry(15, note="rewritten"), *ENTRIES[16:]]
    other = make_log(rewritten)
    checkpoints = [checkpoint(LOG, 10), checkpoint(LOG, 30), checkpoint(other, 50)]
    bundle = build_bundle(ORIGIN, rewritten, checkpoints, other, public_key=VKEY)
    assert failure(bundle) == "checkpoint 2 is not consistent with checkpoint 1 (history rewritten)"
    # Even given an honest proof for the first step, no proof links checkpoints 2 and 3.
    honest = build_bundle(ORIGIN, ENTRIES, CHECKPOINTS, LOG, public_key=VKEY)
    bundle["consistency_proofs"][0] = honest["consistency_proofs"][0]
    assert failure(bundle) == "checkpoint 3 is not consistent with checkpoint 2 (history rewritten)"
    bundle["consistency_proofs"][1] = honest["consistency_proofs"][1]
    assert failure(bundle) == "checkpoint 3 is not consistent with checkpoint 2 (history rewritten)"


def test_a_shrinking_log_is_caught(bundle: dict[str, Any]) -> None:
    bundle["checkpoints"] = [CHECKPOINTS[1], CHECKPOINTS[0]]
    bundle["consistency_proofs"] = [{"old_size": 30, "new_size": 10, "proof": []}]
    assert failure(bundle) == (
        "checkpoint 2 (size 10) is smaller than checkpoint 1 (size 30): a log never shrinks"
    )


def test_a_checkpoint_of_another_engagement_is_caught(bundle: dict[str, Any]) -> None:
    other_origin = "confiance.example/ws/ACME/engagement/7"
    bundle["checkpoints"][0] = checkpoint(LOG, 10, origin=other_origin)
    assert failure(bundle) == (
        f"checkpoint 1: origin {other_origin!r} is not the bundle's {ORIGIN!r}"
    )


def test_a_bundle_without_checkpoints_proves_nothing(bundle: dict[str, Any]) -> None:
    bundle["checkpoints"] = []
    bundle["consistency_proofs"] = []
    assert failure(bundle) == "bundle has no checkpoint, so none of its entries is signed"


@pytest.mark.parametrize(
    "key", ["format", "origin", "public_key", "entries", "checkpoints", "consistency_proofs"]
)
def test_a_missing_key_is_named(bundle: dict[str, Any], key: str) -> None:
    del bundle[key]
    assert failure(bundle) == f"bundle is missing {key!r}"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"format": "confiance-ledger-bundle/2"}, "bundle format is"),
        ({"origin": 42}, "bundle: 'origin' must be a string"),
        ({"entries": {}}, "bundle: 'entries' must be a list"),
        ({"public_key": "not a key"}, "bundle public key: malformed verifier key"),
        ({"checkpoints": ["garbage"]}, "checkpoint 1 is malformed"),
        ({"checkpoints": [None]}, "checkpoint 1 is not a string"),
        ({"consistency_proofs": []}, "bundle has 0 consistency proofs for 3 checkpoints"),
        (
            {"consistency_proofs": [{"old_size": 10, "new_size": 30}, {}]},
            "consistency proof 1 (checkpoint 1 to 2): 'proof' must be a list",
        ),
        (
            {"consistency_proofs": [{"old_size": 10, "new_size": 31, "proof": []}, {}]},
            "consistency proof 1 (checkpoint 1 to 2) is for sizes 10 to 31",
        ),
        (
            {"consistency_proofs": [{"old_size": "10", "new_size": 30, "proof": []}, {}]},
            "consistency proof 1 (checkpoint 1 to 2): 'old_size' must be an integer",
        ),
        (
            {"consistency_proofs": [{"old_size": 10, "new_size": 30, "proof": ["!!"]}, {}]},
            "consistency proof 1 (checkpoint 1 to 2): proof element 0 is not a base64",
        ),
        ({"consistency_proofs": [[], []]}, "consistency proof 1 (checkpoint 1 to 2) is not"),
    ],
)
def test_bad_structure_is_a_failure_not_an_exception(
    bundle: dict[str, Any], change: dict[str, object], expected: str
) -> None:
    bundle.update(change)
    message = failure(bundle)
    assert message is not None
    assert message.startswith(expected)


@pytest.mark.parametrize(
    ("entry_value", "expected"),
    [
        (None, "entry at position 5 is not a JSON object"),
        ({"data": "{}"}, "entry at position 5 has no integer 'index'"),
        ({"index": True, "data": "{}"}, "entry at position 5 has no integer 'index'"),
        ({"index": 5}, "entry 5: 'data' must be a string"),
        ({"index": 5, "data": {"kind": "x"}}, "entry 5: 'data' must be a string"),
    ],
)
def test_bad_entries_are_named(bundle: dict[str, Any], entry_value: object, expected: str) -> None:
    bundle["entries"][5] = entry_value
    message = failure(bundle)
    assert message is not None
    assert message.startswith(expected)


ODD_VALUES: list[object] = [None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"": None}]


def test_no_odd_value_anywhere_makes_verification_raise() -> None:
    assert failure(None) == "bundle is not a JSON object"
    assert failure([GOOD]) == "bundle is not a JSON object"
    paths: list[tuple[object, ...]] = [(key,) for key in GOOD]
    paths += [("entries", 0, "index"), ("entries", 0, "data"), ("entries", 0)]
    paths += [("checkpoints", 1), ("consistency_proofs", 0)]
    paths += [("consistency_proofs", 1, key) for key in ("old_size", "new_size", "proof")]
    paths += [("consistency_proofs", 1, "proof", 0)]
    for path in paths:
        for value in ODD_VALUES:
            mutated = copy.deepcopy(GOOD)
            target: Any = mutated
            for step in path[:-1]:
                target = target[step]
            original = target[path[-1]]
            if value == original and type(value) is type(original):
                continue
            target[path[-1]] = value
            assert not verify_bundle(mutated).ok, (path, value)


def test_build_bundle_emits_the_documented_shape() -> None:
    assert GOOD["format"] == BUNDLE_FORMAT
    assert GOOD["entries"][3] == {"index": 3, "data": ENTRIES[3].decode()}
    assert [(p["old_size"], p["new_size"]) for p in GOOD["consistency_proofs"]] == [
        (10, 30),
        (30, 50),
    ]
    with pytest.raises(ValueError, match="exceeds"):
        build_bundle(ORIGIN, ENTRIES[:20], CHECKPOINTS, public_key=VKEY)
