"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and verifiers.

`leaves` are leaf data (bytes, not yet hashed); indexes start at 0; every hash is 32 raw bytes.
These functions hold the whole tree in memory; `tree.MerkleLog` answers the same proofs from
stored nodes in O(log n).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def canonical_json(obj: object) -> bytes:
    """Encode `obj` as the ledger's canonical JSON: UTF-8, sorted keys, no whitespace, no NaN."""
    _check_string_keys(obj)
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _check_string_keys(obj: object) -> None:
    # json.dumps would turn int keys into strings but sort them as ints ({10, 9} -> "9","10"),
    # producing output that is not sorted once read back; refuse instead of guessing.
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if not isinstance(key, str):
                    raise TypeError(f"canonical JSON keys must be strings, not {key!r}")
                stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _leaf_hashes(leaves: Sequence[bytes]) -> list[bytes]:
    for position, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes):
            raise TypeError(f"leaf {position} is {type(leaf).__name__}, expected bytes")
    return [leaf_hash(leaf) for leaf in leaves]


def _subtree_root(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH over leaf hashes [start, end), end > start."""
    n = end - start
    if n == 1:
        return hashes[start]
    k = _largest_power_of_two_below(n)
    return node_hash(_subtree_root(hashes, start, start + k), _subtree_root(hashes, start + k, end))


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Root of the tree over `leaves` (RFC 9162 2.1.1); the empty tree's root is SHA-256("")."""
    hashes = _leaf_hashes(leaves)
    if not hashes:
        return EMPTY_ROOT
    return _subtree_root(hashes, 0, len(hashes))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path for leaf `index` in the tree over all `leaves` (RFC 9162 2.1.3.1 PATH)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"index {index} is outside a tree of size {len(leaves)}")
    hashes = _leaf_hashes(leaves)
    proof: list[bytes] = []
    start, end, m = 0, len(hashes), index
    # Walk down from the root; the RFC's recursion appends each sibling after the deeper
    # part of the path, so siblings collected top-down are reversed at the end.
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if m < k:
            proof.append(_subtree_root(hashes, start + k, end))
            end = start + k
        else:
            proof.append(_subtree_root(hashes, start, start + k))
            start, m = start + k, m - k
    proof.reverse()
    return proof


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """Proof that the first `old_size` leaves are a prefix of all `leaves` (RFC 9162 2.1.4.1)."""
    new_size = len(leaves)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is outside 0..{new_size}")
    hashes = _leaf_hashes(leaves)
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new_size, old_size, True
    # Iterative SUBPROOF(m, D[start:end], whole), collected top-down then reversed.
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            proof.append(_subtree_root(hashes, start + k, end))
            end = start + k
        else:
            proof.append(_subtree_root(hashes, start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(_subtree_root(hashes, start, end))
    proof.reverse()
    return proof


def _is_size(value: object) -> bool:
    # bool is an int subclass; True as a tree size is a caller bug, not a size of 1.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    return (
        isinstance(proof, Sequence)
        and not isinstance(proof, str | bytes | bytearray)
        and all(_is_hash(p) for p in proof)
    )


def verify_inclusion(
    leaf_data: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True if `proof` shows `leaf_data` at `index` in the tree of `size` with `root`."""
    if not (isinstance(leaf_data, bytes) and _is_size(index) and _is_size(size)):
        return False
    if not (_is_hash(root) and _is_proof(proof)) or index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf_data)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if `proof` shows tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    if not (_is_size(old_size) and _is_size(new_size) and old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)):
        return False
    if old_size == new_size:
        return len(proof) == 0 and old_root == new_root
    if old_size == 0:
        # Every tree extends the empty tree, whose root is fixed.
        return len(proof) == 0 and old_root == EMPTY_ROOT
    if len(proof) == 0:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one, so its root is a path element.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
