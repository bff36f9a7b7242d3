//! The Merkle tree of a trace (RFC 6962 §2.1, RFC 9162 §2.1): one root that commits to every event of a session in
//! order, inclusion proofs (this event is in that tree) and consistency proofs (that tree is a prefix of this one).
//! The hash chain already proves order; the tree adds proofs of O(log n) hashes that a party holding only a root
//! can check, without the rest of the trace.
//!
//! Leaves and interior nodes are hashed with different one-byte prefixes (0x00 and 0x01): a leaf can never pass
//! for a node, so no one can present the 64 bytes of two child hashes as a "leaf" and prove an event that is not
//! in the trace (the second-preimage attack RFC 6962 §2.1 closes). Everything below works on leaf hashes, already
//! passed through [`leaf_hash`]; the caller hashes each event's `event_hash` (32 raw bytes) once.
//!
//! Costs, n leaves: [`root`] n - 1 node hashes, O(log n) stack; [`Frontier::push`] amortised one node hash,
//! [`Frontier::root`] O(log n), O(log n) memory; [`inclusion_proof`] and [`consistency_proof`] at most n - 1 node
//! hashes each (the subtrees they hash are disjoint), O(log n) stack; verification at most 64 (inclusion) or 128
//! (consistency) node hashes, the proof length being checked against the sizes before any hashing.
//!
//! Verification takes hostile input (any u64 sizes and index, any proof length) and answers a [`ProofError`],
//! never a panic.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// SHA-256(0x00 || data): the hash of a leaf whose input is `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0x00]).chain_update(data).finalize().into()
}

/// SHA-256(0x01 || left || right): the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([0x01]).chain_update(left).chain_update(right).finalize().into()
}

/// MTH of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// MTH(D[n]) over leaf hashes (already passed through [`leaf_hash`]), n = `leaves.len()`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            let (left, right) = leaves.split_at(split(leaves.len()));
            node_hash(&root(left), &root(right))
        }
    }
}

/// k of RFC 6962: the largest power of two smaller than `n` (`n` >= 2), where the tree of `n` leaves splits.
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The right edge of a growing tree (the roots of its perfect subtrees, largest first): O(log n) memory,
/// push is amortised O(1) hashes, root() is O(log n). Equal to [`root`] of the same leaves, always.
///
/// A tree of n leaves is the perfect subtrees of the sizes of n's one bits, largest first, joined from the right:
/// MTH = H(P1, H(P2, … H(Pk-1, Pk))). Pushing a leaf is adding one to n: the carries merge equal subtrees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// One root per one bit of `size`, the largest subtree first.
    nodes: Vec<Hash>,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut carry = self.size;
        while carry & 1 == 1 {
            match self.nodes.pop() {
                Some(left) => hash = node_hash(&left, &hash),
                None => break,
            }
            carry >>= 1;
        }
        self.nodes.push(hash);
        // 2^64 leaves cannot be pushed: wrapping only keeps the arithmetic free of a panic path.
        self.size = self.size.wrapping_add(1);
    }

    /// The number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// MTH of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        match nodes.next() {
            None => empty_root(),
            Some(last) => nodes.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

/// RFC 6962 PATH(index, D[n]) over leaf hashes, n = `leaves.len()`; None when `index` >= n. The siblings of the
/// path from the leaf up, the leaf's sibling first.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    // Walk down from the root, hashing the subtree beside the path at each level; the proof lists them bottom-up.
    let mut proof = Vec::new();
    let (mut tree, mut m) = (leaves, index);
    while tree.len() > 1 {
        let k = split(tree.len());
        let (left, right) = tree.split_at(k);
        if m < k {
            proof.push(root(right));
            tree = left;
        } else {
            proof.push(root(left));
            tree = right;
            m -= k;
        }
    }
    proof.reverse();
    Some(proof)
}

/// RFC 6962 PROOF(m, D[n]), n = `leaves.len()`; None when `m` > n. `m` == 0 or `m` == n: the empty proof.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    let n = leaves.len();
    if m > n {
        return None;
    }
    if m == 0 {
        return Some(Vec::new());
    }
    // SUBPROOF(m, D[n], b), unrolled: walk down while m < n, then the subtree of the first tree that the walk ends
    // on (omitted when it is the first tree's root itself, b = true). The proof lists them bottom-up.
    let mut proof = Vec::new();
    let (mut tree, mut m, mut whole_first) = (leaves, m, true);
    while m < tree.len() {
        let k = split(tree.len());
        let (left, right) = tree.split_at(k);
        if m <= k {
            proof.push(root(right));
            tree = left;
        } else {
            proof.push(root(left));
            tree = right;
            m -= k;
            whole_first = false;
        }
    }
    if !whole_first {
        proof.push(root(tree));
    }
    proof.reverse();
    Some(proof)
}

/// Why a proof was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    /// Inclusion: the index is not below the tree size (every index of the empty tree).
    IndexOutOfRange,
    /// Consistency: the first tree is larger than the second.
    FirstExceedsSecond,
    /// The proof has not the number of hashes the index and sizes call for.
    WrongProofLength,
    /// The proof does not lead to the root (or roots) given.
    RootMismatch,
}

impl ProofError {
    /// The snake_case code of the refusal.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofError::IndexOutOfRange => "index_out_of_range",
            ProofError::FirstExceedsSecond => "first_exceeds_second",
            ProofError::WrongProofLength => "wrong_proof_length",
            ProofError::RootMismatch => "root_mismatch",
        }
    }
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The number of bits of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// The length of an inclusion proof of `index` in a tree of `size` leaves (`index` < `size`): one hash per level
/// below the point where the paths to `index` and to the last leaf part (`inner`), and one per one bit of `index`
/// above it, the levels where the path runs along the right edge and a perfect subtree lies to its left.
/// At most 64.
fn inclusion_len(index: u64, size: u64) -> u32 {
    let inner = bit_len(index ^ (size - 1));
    inner + above(index, inner)
}

/// The one bits of `index` from bit `level` up (none when `level` is 64).
fn above(index: u64, level: u32) -> u32 {
    index.checked_shr(level).map_or(0, u64::count_ones)
}

/// `x` and `y` shifted right together until `x`'s lowest bit is set or `x` is 0.
fn shift_to_one_bit(x: &mut u64, y: &mut u64) {
    while *x & 1 == 0 && *x != 0 {
        *x >>= 1;
        *y >>= 1;
    }
}

/// RFC 9162 §2.1.3.2: is `leaf` (a leaf hash) at `index` of the tree of `size` leaves with `root`?
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange);
    }
    if proof.len() != inclusion_len(index, size) as usize {
        return Err(ProofError::WrongProofLength);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongProofLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                shift_to_one_bit(&mut fn_, &mut sn);
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongProofLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The length of a consistency proof from `first` to `second` leaves (0 < `first` < `second`): the inclusion
/// proof, in the tree of `second`, of the last perfect subtree of the first tree (at the level of `first`'s lowest
/// one bit), preceded by that subtree's hash unless it is the whole first tree (`first` a power of two).
/// At most 65.
fn consistency_len(first: u64, second: u64) -> u32 {
    let level = first.trailing_zeros();
    let index = (first - 1) >> level;
    let last = (second - 1) >> level;
    let inner = bit_len(index ^ last);
    let start = u32::from(index != 0);
    start + inner + above(index, inner)
}

/// RFC 9162 §2.1.4.2: is the tree (`first`, `first_root`) a prefix of (`second`, `second_root`)?
/// `first` == 0: valid iff the proof is empty (and `first_root` is [`empty_root`]); `first` == `second`: valid iff
/// the proof is empty and the roots are equal; `first` > `second`: refused.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::FirstExceedsSecond);
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength);
        }
        let empty_ok = first != 0 || *first_root == empty_root();
        let equal_ok = first != second || first_root == second_root;
        return if empty_ok && equal_ok { Ok(()) } else { Err(ProofError::RootMismatch) };
    }
    if proof.len() != consistency_len(first, second) as usize {
        return Err(ProofError::WrongProofLength);
    }
    // 0 < first < second from here on.
    let (start, rest) = match (first.is_power_of_two(), proof.split_first()) {
        (true, _) => (first_root, proof),
        (false, Some((head, rest))) => (head, rest),
        (false, None) => return Err(ProofError::WrongProofLength),
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    // Up to the root of the first tree's last perfect subtree, where `start` sits.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*start, *start);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongProofLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                shift_to_one_bit(&mut fn_, &mut sn);
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongProofLength);
    }
    if fr != *first_root || sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
