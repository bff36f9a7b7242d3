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
mod scan;
mod write;

pub use build::IntoJson;
pub use canonical::{canonical, write_canonical, write_canonical_map};
pub use parse::{parse_strict, MAX_DEPTH};
pub use pointer::{pointer_index, pointer_push};
pub use scan::{canonical_end, plain_run};
pub use write::{JsonOut, Payload};

use serde_json::{Map, Value};
pub use crate::sha256::{lower_hex, sha256_hex};

/// SHA-256 of the RFC 8785 canonical form of `v`, as 64 lowercase hex digits.
pub fn canonical_hash(v: &Value) -> String {
    sha256_hex(canonical(v).as_bytes())
}

/// [`canonical_hash`] of an object.
pub fn canonical_map_hash(m: &Map<String, Value>) -> String {
    let mut text = String::new();
    write_canonical_map(m, &mut text);
    sha256_hex(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
