//! The Merkle tree of a trace (RFC 6962 §2.1, RFC 9162 §2.1): the published vectors of the reference
//! implementations, properties against a naive implementation written here straight from the RFC's definitions
//! (every index and every pair of sizes up to 130, every index of larger trees), and hostile verification input.
//!
//! An inclusion or consistency proof binds a tree size only through the root it leads to: two sizes whose proofs
//! have the same shape (the same sides, level by level) accept the same proof against the same root, e.g. leaf 1
//! in trees of 5 and of 6 leaves. The tests derive the shape of every (index, size) from the RFC's recursion and
//! expect a proof checked under other sizes to pass exactly when the shapes agree; a size is trustworthy only
//! together with its root.

mod common;

use common::prop::{check, Gen};
use cra_core::proof::merkle::*;
use cra_core::sha256::sha256;

// ------------------------------------------------------------------------------------------------ helpers

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex {}", s);
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn h(s: &str) -> Hash {
    let v = unhex(s);
    v.try_into().unwrap_or_else(|v: Vec<u8>| panic!("{} bytes, not 32", v.len()))
}

fn hs(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

fn flip(mut x: Hash, byte: usize) -> Hash {
    x[byte] ^= 1 << (byte % 8);
    x
}

// ------------------------------------------------------------------------- the reference, from the RFC text

fn ref_leaf(data: &[u8]) -> Hash {
    sha256(&[&[0x00][..], data].concat())
}

fn ref_node(l: &Hash, r: &Hash) -> Hash {
    sha256(&[&[0x01][..], &l[..], &r[..]].concat())
}

/// k: the largest power of two smaller than n (n >= 2).
fn ref_k(n: u64) -> u64 {
    let mut k = 1;
    while k < n - k {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
fn ref_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => sha256(b""),
        1 => d[0],
        n => {
            let k = ref_k(n as u64) as usize;
            ref_node(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = ref_k(d.len() as u64) as usize;
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(ref_mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty for m == 0 too.
fn ref_proof(m: usize, d: &[Hash]) -> Vec<Hash> {
    fn sub(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        if m == d.len() {
            return if b { Vec::new() } else { vec![ref_mth(d)] };
        }
        let k = ref_k(d.len() as u64) as usize;
        if m <= k {
            let mut p = sub(m, &d[..k], b);
            p.push(ref_mth(&d[k..]));
            p
        } else {
            let mut p = sub(m - k, &d[k..], false);
            p.push(ref_mth(&d[..k]));
            p
        }
    }
    if m == 0 {
        Vec::new()
    } else {
        sub(m, d, true)
    }
}

/// The shape of PATH(m, D[n]), bottom-up: per hash, whether it is the left sibling. None when m >= n.
fn path_shape(m: u64, n: u64) -> Option<Vec<bool>> {
    fn walk(m: u64, n: u64, out: &mut Vec<bool>) {
        if n > 1 {
            let k = ref_k(n);
            if m < k {
                walk(m, k, out);
                out.push(false);
            } else {
                walk(m - k, n - k, out);
                out.push(true);
            }
        }
    }
    (m < n).then(|| {
        let mut out = Vec::new();
        walk(m, n, &mut out);
        out
    })
}

/// The shape of PROOF(m, D[n]) for 0 < m < n: b'G' when the walk starts from the given first root (else b'E', the
/// first hash of the proof), then per further hash b'L' (left of both trees' paths) or b'R' (right, second only).
fn consistency_shape(m: u64, n: u64) -> Option<Vec<u8>> {
    fn sub(m: u64, n: u64, b: bool, out: &mut Vec<u8>) {
        if m == n {
            out.push(if b { b'G' } else { b'E' });
            return;
        }
        let k = ref_k(n);
        if m <= k {
            sub(m, k, b, out);
            out.push(b'R');
        } else {
            sub(m - k, n - k, false, out);
            out.push(b'L');
        }
    }
    (0 < m && m < n).then(|| {
        let mut out = Vec::new();
        sub(m, n, true, &mut out);
        out
    })
}

/// Every byte of a hash (the published vectors), and a few (the generated proofs: one is enough to change a hash).
const ALL_BYTES: [usize; 32] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
];
const SOME_BYTES: [usize; 3] = [0, 17, 31];

/// Unoptimised SHA-256 (a debug build, as `cargo test` makes) is some 40 times slower: the larger trees are then
/// sampled (every STRIDE-th index, fewer pairs of sizes) instead of covered; a release build covers every index.
const STRIDE: usize = if cfg!(debug_assertions) { 61 } else { 1 };
const PAIRS: usize = if cfg!(debug_assertions) { 30 } else { 200 };
/// One generated proof in TAMPER goes through every alteration (the others through a few).
const TAMPER: usize = if cfg!(debug_assertions) { 60 } else { 10 };

/// Indexes and sizes near `x`: neighbours, halves and doubles, one byte changed, the extremes.
fn nearby(x: u64) -> Vec<u64> {
    let mut v = vec![0, 1, 2, x.wrapping_sub(1), x.wrapping_add(1), x / 2, x.wrapping_mul(2), u64::MAX, u64::MAX - 1, x ^ 2];
    for byte in 0..8 {
        v.push(x ^ (1 << (8 * byte)));
        v.push(x ^ (0xff << (8 * byte)));
    }
    v.sort_unstable();
    v.dedup();
    v.retain(|y| *y != x);
    v
}

/// Checks an inclusion proof that verifies, then every alteration of it: each one-byte change of the leaf, the
/// root and every proof hash; a truncated, extended, prefixed proof and one with a hash inserted; other indexes
/// and sizes (accepted exactly when the proof has the same shape there).
fn check_inclusion_tamper(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash, bytes: &[usize]) {
    assert_eq!(verify_inclusion(leaf, index, size, proof, root), Ok(()), "inclusion of {} in {}", index, size);
    let refused = |l: &Hash, i: u64, s: u64, p: &[Hash], r: &Hash, what: &str| {
        assert!(verify_inclusion(l, i, s, p, r).is_err(), "{} accepted: index {} size {}", what, index, size);
    };
    for &b in bytes {
        refused(&flip(*leaf, b), index, size, proof, root, "a changed leaf");
        refused(leaf, index, size, proof, &flip(*root, b), "a changed root");
        for j in 0..proof.len() {
            let mut p = proof.to_vec();
            p[j] = flip(p[j], b);
            refused(leaf, index, size, &p, root, "a changed proof hash");
        }
    }
    if let Some((_, head)) = proof.split_last() {
        refused(leaf, index, size, head, root, "a truncated proof");
        refused(leaf, index, size, &proof[1..], root, "a proof without its first hash");
    }
    for extra in [*root, *leaf, [0; 32]] {
        let mut longer = proof.to_vec();
        longer.push(extra);
        refused(leaf, index, size, &longer, root, "an extended proof");
        longer.rotate_right(1);
        refused(leaf, index, size, &longer, root, "a prefixed proof");
    }
    if proof.len() > 1 {
        let mut p = proof.to_vec();
        p.insert(1, *root);
        refused(leaf, index, size, &p, root, "a proof with a hash inserted");
        p.remove(1);
        p.swap(0, 1);
        if p != proof {
            refused(leaf, index, size, &p, root, "a proof with two hashes swapped");
        }
    }
    if leaf != root {
        refused(root, index, size, proof, leaf, "leaf and root swapped");
    }
    let shape = path_shape(index, size);
    let mut alternatives: Vec<(u64, u64)> = nearby(index).into_iter().map(|i| (i, size)).collect();
    alternatives.extend(nearby(size).into_iter().map(|s| (index, s)));
    for (i, s) in alternatives {
        let got = verify_inclusion(leaf, i, s, proof, root);
        if path_shape(i, s) == shape {
            assert_eq!(got, Ok(()), "index {} size {}: same shape as {} in {}, refused", i, s, index, size);
        } else {
            assert!(got.is_err(), "index {} size {}: accepted the proof of {} in {}", i, s, index, size);
        }
    }
}

/// Checks a consistency proof (0 < first < second) that verifies, then every alteration of it, as above.
fn check_consistency_tamper(first: u64, second: u64, first_root: &Hash, second_root: &Hash, proof: &[Hash], bytes: &[usize]) {
    assert_eq!(verify_consistency(first, second, first_root, second_root, proof), Ok(()), "{} -> {}", first, second);
    let refused = |m: u64, n: u64, r1: &Hash, r2: &Hash, p: &[Hash], what: &str| {
        assert!(verify_consistency(m, n, r1, r2, p).is_err(), "{} accepted: {} -> {}", what, first, second);
    };
    for &b in bytes {
        refused(first, second, &flip(*first_root, b), second_root, proof, "a changed first root");
        refused(first, second, first_root, &flip(*second_root, b), proof, "a changed second root");
        for j in 0..proof.len() {
            let mut p = proof.to_vec();
            p[j] = flip(p[j], b);
            refused(first, second, first_root, second_root, &p, "a changed proof hash");
        }
    }
    refused(first, second, second_root, first_root, proof, "swapped roots");
    refused(first, second, first_root, second_root, &[], "an empty proof");
    if let Some((_, head)) = proof.split_last() {
        refused(first, second, first_root, second_root, head, "a truncated proof");
        refused(first, second, first_root, second_root, &proof[1..], "a proof without its first hash");
    }
    for extra in [*first_root, *second_root, proof[0], [0; 32]] {
        let mut longer = proof.to_vec();
        longer.push(extra);
        refused(first, second, first_root, second_root, &longer, "an extended proof");
        longer.rotate_right(1);
        refused(first, second, first_root, second_root, &longer, "a prefixed proof");
    }
    let shape = consistency_shape(first, second);
    let mut alternatives: Vec<(u64, u64)> = nearby(first).into_iter().map(|m| (m, second)).collect();
    alternatives.extend(nearby(second).into_iter().map(|n| (first, n)));
    for (m, n) in alternatives {
        let got = verify_consistency(m, n, first_root, second_root, proof);
        if consistency_shape(m, n) == shape {
            assert_eq!(got, Ok(()), "{} -> {}: same shape as {} -> {}, refused", m, n, first, second);
        } else {
            assert!(got.is_err(), "{} -> {}: accepted the proof of {} -> {}", m, n, first, second);
        }
    }
}

// ---------------------------------------------------------------------------------------- published vectors
//
// From transparency-dev/merkle (the successor of certificate-transparency-go's `merkle` package, with the same
// data): leaf inputs, node hashes and roots of `testonly/constants.go`; inclusion paths of `proof/verify_test.go`
// (its 1-based leaf numbers written here 0-based) and `testonly/reference_test.go`; consistency proofs of both.

const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// NodeHashes(): the perfect subtrees of the eight leaves, by level (0: the leaf hashes), left to right.
const NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// RootHashes(): the root of the first n leaves, n = 0..=8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (index, size, path).
const INCLUSION: [(u64, u64, &[&str]); 7] = [
    (0, 1, &[]),
    (0, 2, &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (first, second, proof).
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn published_leaves() -> Vec<Hash> {
    LEAF_INPUTS.iter().map(|s| leaf_hash(&unhex(s))).collect()
}

#[test]
fn published_leaf_node_and_root_hashes() {
    assert_eq!(empty_root(), h(ROOTS[0]));
    let leaves = published_leaves();
    for (i, input) in LEAF_INPUTS.iter().enumerate() {
        assert_eq!(leaves[i], ref_leaf(&unhex(input)), "leaf {}", i);
    }
    for (level, row) in NODE_HASHES.iter().enumerate() {
        let width = 1 << level;
        for (j, want) in row.iter().enumerate() {
            assert_eq!(root(&leaves[j * width..(j + 1) * width]), h(want), "node {} at level {}", j, level);
        }
    }
    for pair in leaves.chunks(2) {
        assert_eq!(node_hash(&pair[0], &pair[1]), ref_node(&pair[0], &pair[1]));
    }
    let mut f = Frontier::new();
    assert_eq!((f.size(), f.root()), (0, h(ROOTS[0])));
    for n in 0..=8 {
        assert_eq!(root(&leaves[..n]), h(ROOTS[n]), "root of {} leaves", n);
        if n > 0 {
            f.push(leaves[n - 1]);
            assert_eq!((f.size(), f.root()), (n as u64, h(ROOTS[n])), "frontier of {} leaves", n);
        }
    }
}

#[test]
fn published_inclusion_proofs_verify_and_every_change_is_refused() {
    let leaves = published_leaves();
    for (index, size, want) in INCLUSION {
        let want = hs(want);
        let tree = &leaves[..size as usize];
        assert_eq!(inclusion_proof(tree, index as usize), Some(want.clone()), "path of {} in {}", index, size);
        check_inclusion_tamper(&leaves[index as usize], index, size, &want, &h(ROOTS[size as usize]), &ALL_BYTES);
    }
}

#[test]
fn published_consistency_proofs_verify_and_every_change_is_refused() {
    let leaves = published_leaves();
    for (first, second, want) in CONSISTENCY {
        let want = hs(want);
        let tree = &leaves[..second as usize];
        assert_eq!(consistency_proof(tree, first as usize), Some(want.clone()), "proof {} -> {}", first, second);
        let (r1, r2) = (h(ROOTS[first as usize]), h(ROOTS[second as usize]));
        if first == second {
            assert_eq!(verify_consistency(first, second, &r1, &r2, &want), Ok(()));
            for b in 0..32 {
                let r = flip(r2, b);
                assert_eq!(verify_consistency(first, second, &r1, &r, &want), Err(ProofError::RootMismatch));
                assert_eq!(verify_consistency(first, second, &r, &r2, &want), Err(ProofError::RootMismatch));
            }
            assert_eq!(verify_consistency(first, second, &r1, &r2, &[r1]), Err(ProofError::WrongProofLength));
            assert!(verify_consistency(first, second + 1, &r1, &r2, &want).is_err());
        } else {
            check_consistency_tamper(first, second, &r1, &r2, &want, &ALL_BYTES);
        }
    }
}

/// The size reaches a verifier through its root only: leaf 1 proved in the tree of 5 passes as leaf 1 of 6 against
/// the root of 5 (same shape: left, right, right), not as leaf 1 of 4 or of 9.
#[test]
fn a_proof_binds_the_size_only_through_the_root() {
    let leaves = published_leaves();
    let proof = inclusion_proof(&leaves[..5], 1).expect("a path");
    let root5 = root(&leaves[..5]);
    assert_eq!(verify_inclusion(&leaves[1], 1, 6, &proof, &root5), Ok(()));
    assert_eq!(verify_inclusion(&leaves[1], 1, 4, &proof, &root5), Err(ProofError::WrongProofLength));
    assert_eq!(verify_inclusion(&leaves[1], 1, 9, &proof, &root5), Err(ProofError::WrongProofLength));
    // Against the root of 6 leaves, the proof of 5 fails: its right-hand hash is leaf 4, not the node of 4 and 5.
    assert_eq!(verify_inclusion(&leaves[1], 1, 6, &proof, &root(&leaves[..6])), Err(ProofError::RootMismatch));
    assert_eq!(path_shape(1, 5), path_shape(1, 6));
}

#[test]
fn trivial_consistency() {
    let e = empty_root();
    let some = h(ROOTS[3]);
    assert_eq!(verify_consistency(0, 0, &e, &e, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 5, &e, &some, &[]), Ok(()));
    assert_eq!(verify_consistency(0, u64::MAX, &e, &some, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 5, &some, &some, &[]), Err(ProofError::RootMismatch));
    assert_eq!(verify_consistency(0, 0, &e, &some, &[]), Err(ProofError::RootMismatch));
    assert_eq!(verify_consistency(0, 5, &e, &some, &[e]), Err(ProofError::WrongProofLength));
    assert_eq!(verify_consistency(3, 3, &some, &some, &[]), Ok(()));
    assert_eq!(verify_consistency(3, 3, &some, &e, &[]), Err(ProofError::RootMismatch));
    assert_eq!(verify_consistency(3, 3, &some, &some, &[some]), Err(ProofError::WrongProofLength));
    assert_eq!(verify_consistency(4, 3, &some, &some, &[]), Err(ProofError::FirstExceedsSecond));
    assert_eq!(verify_consistency(1, 0, &some, &e, &[]), Err(ProofError::FirstExceedsSecond));
    let leaves = published_leaves();
    assert_eq!(consistency_proof(&leaves, 0), Some(Vec::new()));
    assert_eq!(consistency_proof(&leaves, 8), Some(Vec::new()));
    assert_eq!(consistency_proof(&leaves, 9), None);
    assert_eq!(consistency_proof(&[], 0), Some(Vec::new()));
    assert_eq!(consistency_proof(&leaves, usize::MAX), None);
    assert_eq!(inclusion_proof(&leaves, 8), None);
    assert_eq!(inclusion_proof(&[], 0), None);
    assert_eq!(inclusion_proof(&leaves, usize::MAX), None);
}

#[test]
fn refusal_codes() {
    let all = [
        ProofError::IndexOutOfRange,
        ProofError::FirstExceedsSecond,
        ProofError::WrongProofLength,
        ProofError::RootMismatch,
    ];
    let codes: Vec<&str> = all.iter().map(|e| e.as_str()).collect();
    assert_eq!(codes, ["index_out_of_range", "first_exceeds_second", "wrong_proof_length", "root_mismatch"]);
    assert_eq!(ProofError::RootMismatch.to_string(), "root_mismatch");
}

// ------------------------------------------------------------------------------------- against the reference

/// Leaf hashes of `n` random leaf inputs (32 bytes, like an event hash).
fn random_leaves(g: &mut Gen, n: usize) -> Vec<Hash> {
    (0..n)
        .map(|_| {
            let mut input = [0u8; 32];
            for chunk in input.chunks_mut(8) {
                chunk.copy_from_slice(&g.next_u64().to_le_bytes());
            }
            leaf_hash(&input)
        })
        .collect()
}

/// The exhaustive range: every size, index and pair of sizes up to it.
const N: usize = 130;

#[test]
fn root_and_frontier_follow_the_definition() {
    check("root and frontier", 1, 1, |seed: u64| {
        let mut g = Gen::new(seed, 1);
        let leaves = random_leaves(&mut g, 4097);
        let mut f = Frontier::new();
        let mut snapshots = Vec::new();
        for n in 0..=leaves.len() {
            if n > 0 {
                f.push(leaves[n - 1]);
            }
            assert_eq!(f.size(), n as u64);
            // Every size up to N against the reference, then powers of two and their neighbours against `root`.
            if n <= N {
                let want = ref_mth(&leaves[..n]);
                assert_eq!(root(&leaves[..n]), want, "root of {}", n);
                assert_eq!(f.root(), want, "frontier root of {}", n);
            } else if (n - 1).is_power_of_two() || n.is_power_of_two() || (n + 1).is_power_of_two() || n % 397 == 0 {
                assert_eq!(f.root(), root(&leaves[..n]), "frontier root of {}", n);
                assert_eq!(f.root(), ref_mth(&leaves[..n]), "root of {}", n);
            }
            if n == 2500 || n == 4097 {
                snapshots.push(f.clone());
            }
        }
        // A frontier is its size and edge: two built from the same leaves are equal, and differ from others.
        let mut again = Frontier::new();
        leaves[..2500].iter().for_each(|l| again.push(*l));
        assert_eq!(again, snapshots[0]);
        assert_ne!(again, snapshots[1]);
        again.push(leaves[0]);
        assert_ne!(again, snapshots[0]);
    });
}

#[test]
fn inclusion_proofs_follow_the_definition_for_every_index_up_to_130() {
    check("inclusion up to N", 1, 1, |seed: u64| {
        let mut g = Gen::new(seed, 1);
        let leaves = random_leaves(&mut g, N + 1);
        for n in 1..=N {
            let tree = &leaves[..n];
            let r = ref_mth(tree);
            for i in 0..n {
                let proof = inclusion_proof(tree, i).expect("a path");
                assert_eq!(proof, ref_path(i, tree), "path of {} in {}", i, n);
                let (leaf, (i64_, n64)) = (&tree[i], (i as u64, n as u64));
                assert_eq!(verify_inclusion(leaf, i64_, n64, &proof, &r), Ok(()));
                // Another leaf, another tree's root, the path of a neighbour: refused.
                assert!(verify_inclusion(&leaves[n], i64_, n64, &proof, &r).is_err());
                assert!(verify_inclusion(leaf, i64_, n64, &proof, &root(&leaves[..n + 1])).is_err());
                if n > 1 {
                    let other = ref_path((i + 1) % n, tree);
                    assert!(verify_inclusion(leaf, i64_, n64, &other, &r).is_err(), "path of a neighbour");
                }
                if (n * 7 + i) % TAMPER == 0 {
                    check_inclusion_tamper(leaf, i64_, n64, &proof, &r, &SOME_BYTES);
                } else {
                    for j in 0..proof.len() {
                        let mut p = proof.clone();
                        p[j][g.below(32) as usize] ^= 1 << g.below(8);
                        assert!(verify_inclusion(leaf, i64_, n64, &p, &r).is_err(), "a flipped bit");
                    }
                    if let Some((_, head)) = proof.split_last() {
                        assert!(verify_inclusion(leaf, i64_, n64, head, &r).is_err(), "truncated");
                    }
                    let mut longer = proof.clone();
                    longer.push(r);
                    assert!(verify_inclusion(leaf, i64_, n64, &longer, &r).is_err(), "extended");
                }
            }
        }
    });
}

#[test]
fn consistency_proofs_follow_the_definition_for_every_pair_up_to_130() {
    check("consistency up to N", 1, 1, |seed: u64| {
        let mut g = Gen::new(seed, 1);
        let leaves = random_leaves(&mut g, N);
        let roots: Vec<Hash> = (0..=N).map(|n| ref_mth(&leaves[..n])).collect();
        for n in 0..=N {
            let tree = &leaves[..n];
            for m in 0..=n {
                let proof = consistency_proof(tree, m).expect("a proof");
                assert_eq!(proof, ref_proof(m, tree), "proof {} -> {}", m, n);
                let (m64, n64) = (m as u64, n as u64);
                assert_eq!(verify_consistency(m64, n64, &roots[m], &roots[n], &proof), Ok(()), "{} -> {}", m, n);
                if m == 0 || m == n {
                    continue;
                }
                // Another first tree, another second tree: refused.
                assert!(verify_consistency(m64, n64, &roots[m - 1], &roots[n], &proof).is_err());
                assert!(verify_consistency(m64, n64, &roots[m], &roots[n - 1], &proof).is_err());
                if (n * 7 + m) % TAMPER == 0 {
                    check_consistency_tamper(m64, n64, &roots[m], &roots[n], &proof, &SOME_BYTES);
                } else {
                    for j in 0..proof.len() {
                        let mut p = proof.clone();
                        p[j][g.below(32) as usize] ^= 1 << g.below(8);
                        assert!(verify_consistency(m64, n64, &roots[m], &roots[n], &p).is_err(), "a flipped bit");
                    }
                    let (_, head) = proof.split_last().expect("not empty");
                    assert!(verify_consistency(m64, n64, &roots[m], &roots[n], head).is_err(), "truncated");
                    let mut longer = proof.clone();
                    longer.push(roots[n]);
                    assert!(verify_consistency(m64, n64, &roots[m], &roots[n], &longer).is_err(), "extended");
                }
            }
        }
    });
}

#[test]
fn larger_trees_every_index_and_a_sample_of_pairs() {
    check("larger trees", 1, 1, |seed: u64| {
        let mut g = Gen::new(seed, 1);
        let leaves = random_leaves(&mut g, 4097);
        for n in [2500usize, 4097] {
            let tree = &leaves[..n];
            let r = ref_mth(tree);
            let n64 = n as u64;
            for i in (0..n).step_by(STRIDE).chain([n - 1]) {
                let proof = inclusion_proof(tree, i).expect("a path");
                assert_eq!(verify_inclusion(&tree[i], i as u64, n64, &proof, &r), Ok(()), "{} in {}", i, n);
                if i % (97 * STRIDE) == 0 || i == n - 1 {
                    assert_eq!(proof, ref_path(i, tree), "path of {} in {}", i, n);
                    check_inclusion_tamper(&tree[i], i as u64, n64, &proof, &r, &SOME_BYTES);
                }
            }
            for _ in 0..PAIRS {
                let b = 1 + g.below(n64) as usize;
                let a = 1 + g.below(b as u64) as usize;
                let proof = consistency_proof(&leaves[..b], a).expect("a proof");
                let (ra, rb) = (ref_mth(&leaves[..a]), ref_mth(&leaves[..b]));
                assert_eq!(verify_consistency(a as u64, b as u64, &ra, &rb, &proof), Ok(()), "{} -> {}", a, b);
                if a < b {
                    assert_eq!(proof, ref_proof(a, &leaves[..b]), "proof {} -> {}", a, b);
                    check_consistency_tamper(a as u64, b as u64, &ra, &rb, &proof, &SOME_BYTES);
                }
            }
        }
    });
}

// ------------------------------------------------------------------------------------------- hostile input

#[test]
fn hostile_verification_input_is_refused_without_a_panic() {
    let leaf = h(ROOTS[1]);
    let r = h(ROOTS[8]);
    let long: Vec<Hash> = (0..200u8).map(|b| [b; 32]).collect();
    assert_eq!(verify_inclusion(&leaf, 0, 0, &[], &r), Err(ProofError::IndexOutOfRange));
    assert_eq!(verify_inclusion(&leaf, u64::MAX, u64::MAX, &[], &r), Err(ProofError::IndexOutOfRange));
    assert_eq!(verify_inclusion(&leaf, u64::MAX, 0, &long, &r), Err(ProofError::IndexOutOfRange));
    for (index, size) in [(0, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX), (3, 1 << 40), (0, 1)] {
        let want = path_shape(index, size).expect("in range").len();
        assert!(want <= 64);
        for len in 0..=long.len() {
            let got = verify_inclusion(&leaf, index, size, &long[..len], &r);
            let expected = if len == want { ProofError::RootMismatch } else { ProofError::WrongProofLength };
            assert_eq!(got, Err(expected), "index {} size {} with {} hashes", index, size, len);
        }
    }
    for (first, second) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (3, u64::MAX), (1 << 63, u64::MAX), (5, 1 << 50)] {
        let want = consistency_shape(first, second).expect("0 < first < second");
        let want = want.len() - usize::from(want[0] == b'G');
        assert!(want <= 65);
        for len in 0..=long.len() {
            let got = verify_consistency(first, second, &leaf, &r, &long[..len]);
            let expected = if len == want { ProofError::RootMismatch } else { ProofError::WrongProofLength };
            assert_eq!(got, Err(expected), "{} -> {} with {} hashes", first, second, len);
        }
    }
    for (first, second) in [(u64::MAX, u64::MAX), (u64::MAX, 0), (u64::MAX, u64::MAX - 1), (0, u64::MAX)] {
        for len in [0, 1, 64, 65, 128, 200] {
            assert!(verify_consistency(first, second, &leaf, &r, &long[..len]).is_err(), "{} -> {}", first, second);
        }
    }
}

#[test]
fn random_verification_input_never_panics_and_passes_only_by_shape() {
    check("random verification input", 3000, 200, |(index, size, len): (u64, u64, u8)| {
        let long: Vec<Hash> = (0..len).map(|b| [b; 32]).collect();
        let got = verify_inclusion(&[7; 32], index, size, &long, &[9; 32]);
        let want = match path_shape_len(index, size) {
            None => Err(ProofError::IndexOutOfRange),
            Some(n) if n == long.len() => Err(ProofError::RootMismatch),
            Some(_) => Err(ProofError::WrongProofLength),
        };
        assert_eq!(got, want);
        let got = verify_consistency(index, size, &[7; 32], &[9; 32], &long);
        assert!(got.is_err());
        if index > size {
            assert_eq!(got, Err(ProofError::FirstExceedsSecond));
        }
    });
}

fn path_shape_len(index: u64, size: u64) -> Option<usize> {
    path_shape(index, size).map(|s| s.len())
}
