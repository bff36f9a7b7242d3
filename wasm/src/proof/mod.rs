//! Proofs about a trace to someone who does not hold it. The hash chain shows an unbroken sequence to whoever has
//! the whole log; the Merkle tree over the same event hashes (RFC 6962 / RFC 9162) lets a third party check that one
//! event belongs to a log (inclusion) and that a later log extends an earlier one (consistency) from a few hashes,
//! and a signed checkpoint (a C2SP signed note) fixes a log's size and root under a key.
//!
//! The core owns every format and every check here: the tree and its proofs (`merkle`, `tree`), the checkpoint
//! text and key strings (`note`, `keys`), receipts (`receipt`) and the sync of a trace another runtime kept
//! (`sync`). The host only signs and verifies Ed25519 signatures (WebCrypto): the core has no Ed25519, and hands
//! the host the exact bytes and keys to check.

pub mod base64;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod ops;
pub mod receipt;
pub mod sync;
pub mod tree;
