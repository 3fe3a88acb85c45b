"""RFC 9162 hashing and proofs against the RFC 6962 reference vectors and brute force."""

from __future__ import annotations

import hashlib
import math
from functools import cache

import pytest

from confiance.ledger.merkle import (
    EMPTY_ROOT,
    canonical_json,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def h(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest)


# The eight test leaves and tree heads of the RFC 6962 reference implementation
# (certificate-transparency merkle_tree_test, reused by transparency-dev/merkle).
LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (index, size, proof); the reference tables number leaves from 1, these from 0.
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# --- An independent, literal transcription of RFC 9162's recursive definitions. ----------


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1 << (math.ceil(math.log2(len(d))) - 1)
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1 << (math.ceil(math.log2(len(d))) - 1)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1 << (math.ceil(math.log2(n)) - 1)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


@cache
def data_root(n: int) -> bytes:
    return root_hash(data(n))


def flipped(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[position])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:position], bytes(changed), *proof[position + 1 :]]


# --- Published vectors. ------------------------------------------------------------------


def test_hash_prefixes_follow_rfc_9162() -> None:
    assert leaf_hash(b"") == h(ROOTS[1])
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root_hash([]) == EMPTY_ROOT == h(ROOTS[0])


@pytest.mark.parametrize("size", range(9))
def test_roots_match_reference_tree_heads(size: int) -> None:
    assert root_hash(LEAVES[:size]) == h(ROOTS[size])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_proofs_match_reference_vectors(index: int, size: int, proof: list[str]) -> None:
    expected = [h(p) for p in proof]
    assert inclusion_proof(LEAVES[:size], index) == expected
    assert verify_inclusion(LEAVES[index], index, size, expected, h(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proofs_match_reference_vectors(old: int, new: int, proof: list[str]) -> None:
    expected = [h(p) for p in proof]
    assert consistency_proof(LEAVES[:new], old) == expected
    assert verify_consistency(old, new, h(ROOTS[old]), h(ROOTS[new]), expected)


def test_reference_consistency_rejects_wrong_old_root() -> None:
    proof = [h(p) for p in CONSISTENCY_VECTORS[2][2]]
    assert not verify_consistency(6, 8, h(ROOTS[5]), h(ROOTS[8]), proof)


# --- Brute force over every small tree. ----------------------------------------------------


@pytest.mark.parametrize("size", range(1, 41))
def test_every_inclusion_proof_verifies_and_every_corruption_fails(size: int) -> None:
    leaves = data(size)
    root = root_hash(leaves)
    assert root == ref_mth(leaves)
    # Every bit of every proof element up to size 16, then a spread of bits to keep this fast.
    bits = range(256) if size <= 16 else range(0, 256, 5)
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert proof == ref_path(index, leaves)
        assert verify_inclusion(leaves[index], index, size, proof, root)
        for position in range(len(proof)):
            for bit in bits:
                assert not verify_inclusion(
                    leaves[index], index, size, flipped(proof, position, bit), root
                )
        for other in range(size + 2):
            if other != index:
                assert not verify_inclusion(leaves[index], other, size, proof, root)
        for other_size in range(size * 2 + 2):
            # A proof is checked against the root of the size it claims (a signed checkpoint
            # binds the two); RFC 9162 paths alone do not encode the size, e.g. leaf 0's path
            # has the same shape in trees of size 3 and 4.
            if other_size != size:
                other_root = data_root(other_size)
                assert not verify_inclusion(leaves[index], index, other_size, proof, other_root)
        assert not verify_inclusion(leaves[index] + b"!", index, size, proof, root)
        assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)
        assert not verify_inclusion(leaves[index], index, size, [root, *proof], root)
        if proof:
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)


@pytest.mark.parametrize("new_size", range(1, 41))
def test_every_consistency_proof_verifies_and_every_corruption_fails(new_size: int) -> None:
    leaves = data(new_size)
    roots = [root_hash(leaves[:n]) for n in range(new_size + 1)]
    new_root = roots[new_size]
    for old_size in range(new_size + 1):
        old_root = roots[old_size]
        proof = consistency_proof(leaves, old_size)
        expected = [] if old_size in (0, new_size) else ref_subproof(old_size, leaves, True)
        assert proof == expected
        assert verify_consistency(old_size, new_size, old_root, new_root, proof)
        if old_size in (0, new_size):
            assert not verify_consistency(old_size, new_size, old_root, new_root, [new_root])
            continue
        for position in range(len(proof)):
            for bit in range(256) if new_size <= 16 else range(0, 256, 5):
                assert not verify_consistency(
                    old_size, new_size, old_root, new_root, flipped(proof, position, bit)
                )
        # Wrong sizes are checked against the true roots of those sizes, as a signed
        # checkpoint would supply them (see the inclusion test above).
        for other_old in range(new_size + 2):
            if other_old != old_size:
                other_root = data_root(other_old)
                assert not verify_consistency(other_old, new_size, other_root, new_root, proof)
                assert not verify_consistency(other_old, new_size, old_root, new_root, proof)
        for other_new in range(new_size * 2 + 2):
            if other_new != new_size:
                other_root = data_root(other_new)
                assert not verify_consistency(old_size, other_new, old_root, other_root, proof)
        assert not verify_consistency(old_size, new_size, new_root, old_root, proof)
        assert not verify_consistency(old_size, new_size, old_root, new_root, [])
        assert not verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
        assert not verify_consistency(old_size, new_size, old_root, new_root, [*proof, old_root])
        assert not verify_consistency(old_size, new_size, old_root, new_root, [old_root, *proof])
        assert not verify_consistency(old_size, new_size, old_root, new_root, [proof[0], *proof])


def test_equal_sizes_need_equal_roots_and_an_empty_proof() -> None:
    root = root_hash(data(5))
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, EMPTY_ROOT, [])


def test_consistency_from_the_empty_tree_needs_the_empty_root() -> None:
    root = root_hash(data(5))
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, root, root, [])


# --- Malformed input: verifiers answer False, producers raise. --------------------------


GOOD_ROOT = root_hash(data(4))
GOOD_PROOF = inclusion_proof(data(4), 1)


@pytest.mark.parametrize(
    ("leaf", "index", "size", "proof", "root"),
    [
        ("leaf 1", 1, 4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", -1, 4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", 4, 4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", 1, -4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", True, 4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", 1.0, 4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", "1", 4, GOOD_PROOF, GOOD_ROOT),
        (b"leaf 1", 1, 4, b"".join(GOOD_PROOF), GOOD_ROOT),
        (b"leaf 1", 1, 4, [p.hex() for p in GOOD_PROOF], GOOD_ROOT),
        (b"leaf 1", 1, 4, [GOOD_PROOF[0], None], GOOD_ROOT),
        (b"leaf 1", 1, 4, [GOOD_PROOF[0], GOOD_PROOF[1][:31]], GOOD_ROOT),
        (b"leaf 1", 1, 4, None, GOOD_ROOT),
        (b"leaf 1", 1, 4, GOOD_PROOF, GOOD_ROOT[:31]),
        (b"leaf 1", 1, 4, GOOD_PROOF, GOOD_ROOT.hex()),
        (b"leaf 1", 1, 4, GOOD_PROOF, None),
        (b"leaf 1", 0, 0, [], EMPTY_ROOT),
    ],
)
def test_verify_inclusion_returns_false_on_malformed_input(
    leaf: object, index: object, size: object, proof: object, root: object
) -> None:
    assert verify_inclusion(b"leaf 1", 1, 4, GOOD_PROOF, GOOD_ROOT)
    assert verify_inclusion(leaf, index, size, proof, root) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (-1, 4, GOOD_ROOT, GOOD_ROOT, []),
        (5, 4, GOOD_ROOT, GOOD_ROOT, []),
        (True, 1, GOOD_ROOT, GOOD_ROOT, []),
        (2, 4, "root", GOOD_ROOT, [GOOD_ROOT]),
        (2, 4, GOOD_ROOT, None, [GOOD_ROOT]),
        (2, 4, GOOD_ROOT, GOOD_ROOT, [b"short"]),
        (2, 4, GOOD_ROOT, GOOD_ROOT, GOOD_ROOT),
        (2, 4, GOOD_ROOT, GOOD_ROOT, None),
        (2.0, 4, GOOD_ROOT, GOOD_ROOT, [GOOD_ROOT]),
    ],
)
def test_verify_consistency_returns_false_on_malformed_input(
    old: object, new: object, old_root: object, new_root: object, proof: object
) -> None:
    assert verify_consistency(old, new, old_root, new_root, proof) is False  # type: ignore[arg-type]


def test_proof_producers_reject_out_of_range_arguments() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(data(3), 3)
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match="outside"):
        consistency_proof(data(3), 4)
    with pytest.raises(TypeError, match="expected bytes"):
        root_hash([b"ok", "not bytes"])  # type: ignore[list-item]


# --- Canonical JSON. -------------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    value = {"b": [1, 2, {"d": None, "c": True}], "a": "é€"}
    assert canonical_json(value) == '{"a":"é€","b":[1,2,{"c":true,"d":null}]}'.encode()


def test_canonical_json_rejects_nan_and_infinity() -> None:
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            canonical_json({"x": bad})


def test_canonical_json_rejects_non_string_keys() -> None:
    # Integer keys would be sorted as numbers (9 before 10) but read back as strings.
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_json({"outer": [{10: "a", 9: "b"}]})
