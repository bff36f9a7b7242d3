//! CRA governance core: Atlas (what exists), CARP (what is allowed, and why) and TRACE (what happened, provably).
//!
//! The crate is deterministic: it reads no clock and no randomness. The host passes the time of every call and
//! supplies every id through [`host::Host`]. On `wasm32` the host is the JavaScript SDK behind the C ABI in
//! `abi`; natively it is whatever the caller plugs in (tests use a counter).
//!
//! Promises the compiler checks: no `unsafe` outside `abi` (the only place that touches host pointers; each
//! unsafe operation there sits in its own block with a SAFETY note, even inside an `unsafe fn`), and, in
//! the shipped code, no `unwrap`, no `panic!` and no indexing that could panic (`npm run lint:rust` runs clippy
//! with these lints as errors): a failure is an error value, never a trap.

#![deny(unsafe_code, unsafe_op_in_unsafe_fn)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing))]

pub mod error;
pub mod input;
pub mod host;
pub mod json;
pub mod sha256;
pub mod time;
pub mod ids;
pub mod uri;
pub mod atlas;
pub mod carp;
pub mod trace;
pub mod proof;
pub mod runtime;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
pub mod abi;

pub use error::{CoreError, ErrorCode};
pub use runtime::Runtime;

/// The version of the ABI contract (`abi_version` of `wasm/abi.json`) this crate implements; the module answers it
/// from its `cra_abi_version` export.
pub const ABI_VERSION: u32 = 3;
