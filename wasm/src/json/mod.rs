//! JSON at the core's boundary: strict parsing, RFC 8785 canonical form, hashing and JSON pointers.
//!
//! Everything the core hashes (trace events, manifests, `canonical.hash`) goes through [`canonical`], the JSON
//! Canonicalization Scheme of RFC 8785, so that the SDK, the reference runtime and any third-party verifier derive
//! the same bytes from the same value. Input is parsed with [`parse_strict`], which refuses what a canonical form
//! cannot represent faithfully: duplicate object keys (which member would win is parser-dependent), invalid UTF-8,
//! trailing garbage and pathological nesting.

mod build;
mod canonical;
mod parse;
mod pointer;

pub use build::IntoJson;
pub use canonical::{canonical, write_canonical};
pub use parse::parse_strict;
pub use pointer::{pointer_index, pointer_push};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// SHA-256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of the RFC 8785 canonical form of `v`, as 64 lowercase hex digits.
pub fn canonical_hash(v: &Value) -> String {
    sha256_hex(canonical(v).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn canonical_hash_ignores_key_order_and_whitespace() {
        let a = parse_strict(br#"{"b": [1, 2.0, "x"], "a": {"d": null, "c": true}}"#).unwrap();
        let b = json!({"a": {"c": true, "d": null}, "b": [1, 2, "x"]});
        assert_eq!(canonical(&a), r#"{"a":{"c":true,"d":null},"b":[1,2,"x"]}"#);
        assert_eq!(canonical_hash(&a), canonical_hash(&b));
        assert_eq!(canonical_hash(&a), sha256_hex(canonical(&b).as_bytes()));
        assert_eq!(canonical_hash(&a).len(), 64);
    }
}
