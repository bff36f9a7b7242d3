"""Merkle trees of RFC 9162 (Certificate Transparency 2.0), §2.1: the tree a checkpoint signs and proofs climb.

A session's log is the tree over its events in order; the leaf of event i is ``SHA-256(0x00 ‖ event_hash)`` (the
event's hash as 32 raw bytes) and a node is ``SHA-256(0x01 ‖ left ‖ right)``; the empty tree's root is
``SHA-256("")``. Written from the RFC: the tree hash (§2.1.1), audit paths and consistency proofs (§2.1.3.1,
§2.1.4.1, to make proofs in tests and tools) and their verification (§2.1.3.2, §2.1.4.2), which is what a verifier
relies on. Hashes are 32-byte ``bytes`` throughout.
"""

from __future__ import annotations

import hashlib
from typing import List, Sequence

__all__ = [
    "leaf_hash",
    "node_hash",
    "root",
    "inclusion_proof",
    "consistency_proof",
    "verify_inclusion",
    "verify_consistency",
    "event_leaf",
]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def event_leaf(event_hash_hex: str) -> bytes:
    """The leaf of an event: its ``event_hash`` as 32 raw bytes, hashed as a leaf."""
    return leaf_hash(bytes.fromhex(event_hash_hex))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed with :func:`leaf_hash`), §2.1.1."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> List[bytes]:
    """PATH(index, leaves), §2.1.3.1."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError(f"index {index} is outside a tree of {n} leaves")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_proof(leaves[:k], index) + [root(leaves[k:])]
    return inclusion_proof(leaves[k:], index - k) + [root(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> List[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves[:k], complete) + [root(leaves[k:])]
    return _subproof(m - k, leaves[k:], False) + [root(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], first: int) -> List[bytes]:
    """PROOF(first, leaves), §2.1.4.1 (empty for 0 and for the whole tree)."""
    if not 0 <= first <= len(leaves):
        raise ValueError(f"size {first} is outside a tree of {len(leaves)} leaves")
    if first in (0, len(leaves)):
        return []
    return _subproof(first, leaves, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """§2.1.3.2: True when the audit path leads from ``leaf`` at ``index`` to ``expected_root`` of a ``size`` tree."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """§2.1.4.2: True when ``proof`` shows the ``first`` tree is a prefix of the ``second``.

    The RFC leaves ``first = 0`` outside the algorithm; the empty tree is a prefix of every tree, so an empty proof
    with the empty root is accepted for it.
    """
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and first_root == root([])
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is the proof's implicit first node
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
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
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
