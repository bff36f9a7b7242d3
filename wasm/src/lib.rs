//! CRA governance core: Atlas (what exists), CARP (what is allowed, and why) and TRACE (what happened, provably).
//!
//! The crate is deterministic: it reads no clock and no randomness. The host passes the time of every call and
//! supplies every id through [`host::Host`]. On `wasm32` the host is the JavaScript SDK behind the C ABI in
//! [`abi`]; natively it is whatever the caller plugs in (tests use a counter).

pub mod error;
pub mod input;
pub mod host;
pub mod json;
pub mod sha256;
pub mod time;
pub mod ids;
pub mod atlas;
pub mod carp;
pub mod trace;
pub mod runtime;

#[cfg(target_arch = "wasm32")]
pub mod abi;

pub use error::CoreError;
pub use runtime::Runtime;
