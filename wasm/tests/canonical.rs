//! Canonical JSON (SPEC §4.1: RFC 8785 / JCS) and the `canonical.hash` operation: the bytes every hash in the
//! protocol is taken over.

mod common;

use common::*;
use cra_core::json::{canonical, canonical_hash, parse_strict, sha256_hex};
use serde_json::json;

fn canon_op(c: &mut Core, value_text: &str) -> (String, String) {
    let input = format!("{{\"value\": {}}}", value_text);
    let out = envelope(&c.raw("canonical.hash", input.as_bytes(), t0())).unwrap_or_else(|e| panic!("canonical.hash failed: {}", e));
    (out["canonical"].as_str().unwrap().to_string(), out["sha256"].as_str().unwrap().to_string())
}

#[test]
fn rfc8785_example_numbers_strings_literals() {
    // RFC 8785 §3.2.2.
    let mut c = Core::new();
    let input = r#"{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"#;
    let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    let (canon, hash) = canon_op(&mut c, input);
    assert_eq!(canon, expected);
    assert_eq!(hash, sha256_hex(expected.as_bytes()));
    assert_eq!(canonical(&parse_strict(input.as_bytes()).unwrap()), expected);
}

#[test]
fn rfc8785_keys_sort_by_utf16_code_units() {
    // RFC 8785 §3.2.3: 😀 (U+1F600, UTF-16 D83D DE00) sorts before U+FB33, unlike in UTF-8 byte order.
    let mut c = Core::new();
    let input = r#"{
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let (canon, _) = canon_op(&mut c, input);
    let v: serde_json::Value = serde_json::from_str(&canon).unwrap();
    let keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    let expected: Vec<String> = ["\r", "1", "\u{80}", "\u{f6}", "\u{20ac}", "\u{1F600}", "\u{fb33}"].iter().map(|s| s.to_string()).collect();
    // `keys()` keeps the document order of the canonical text (preserve_order): it must be the sorted one.
    assert_eq!(keys, expected);
    assert!(canon.starts_with("{\"\\r\":\"Carriage Return\",\"1\":\"One\""), "{}", canon);
}

#[test]
fn numbers_in_shortest_form() {
    let mut c = Core::new();
    for (input, expected) in [
        ("0", "0"),
        ("-0", "0"),
        ("-0.0", "0"),
        ("1.0", "1"),
        ("100", "100"),
        ("1e2", "100"),
        ("1e20", "100000000000000000000"),
        ("1e21", "1e+21"),
        ("1e-6", "0.000001"),
        ("1e-7", "1e-7"),
        ("123456789012345678901234567890", "1.2345678901234568e+29"),
        ("9007199254740993", "9007199254740993"),
        ("-1.5", "-1.5"),
        ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("0.1", "0.1"),
    ] {
        let (canon, _) = canon_op(&mut c, input);
        if input == "9007199254740993" {
            // An integer beyond 2^53: JCS (IEEE double) gives 9007199254740992; kept exact it stays ...993.
            assert!(canon == "9007199254740992" || canon == "9007199254740993", "{} -> {}", input, canon);
            continue;
        }
        assert_eq!(canon, expected, "canonical form of {}", input);
    }
}

#[test]
fn strings_escape_minimally_and_keep_utf8() {
    let mut c = Core::new();
    for (input, expected) in [
        (r#""héllo wörld 😀""#, "\"héllo wörld 😀\""),
        (r#""\u00e9""#, "\"é\""),
        (r#""tab\tnl\ncr\rbs\bff\f""#, "\"tab\\tnl\\ncr\\rbs\\bff\\f\""),
        (r#""\u0001\u001f""#, "\"\\u0001\\u001f\""),
        (r#""\u007f""#, "\"\u{7f}\""),
        (r#""a/b""#, "\"a/b\""),
        (r#""\u2028\u2029""#, "\"\u{2028}\u{2029}\""),
        (r#""quote\" back\\""#, "\"quote\\\" back\\\\\""),
    ] {
        let (canon, _) = canon_op(&mut c, input);
        assert_eq!(canon, expected, "canonical form of {}", input);
    }
}

#[test]
fn nested_structures_and_whitespace() {
    let mut c = Core::new();
    let (canon, hash) = canon_op(&mut c, "  { \"b\" : [ 1 , { \"d\" : null , \"c\" : true } ] , \"a\" : \"\" }  ");
    assert_eq!(canon, r#"{"a":"","b":[1,{"c":true,"d":null}]}"#);
    assert_eq!(hash, sha256_hex(canon.as_bytes()));
    assert_eq!(hash, canonical_hash(&json!({"a": "", "b": [1, {"c": true, "d": null}]})));
}

#[test]
fn canonical_hash_matches_the_tests_own_jcs_for_payload_like_values() {
    let values = [
        json!({"agent_id": "test-agent", "goal": "Test session"}),
        json!({"z": [1, 2, {"y": "é", "x": null}], "a": {"nested": {"deep": [true, false]}}, "n": -42}),
        json!({"text": "line\nbreak\ttab \u{1} control \"quoted\" \\ back"}),
        json!([]),
        json!({}),
    ];
    for v in values {
        assert_eq!(canonical(&v), jcs(&v), "canonical of {}", v);
        assert_eq!(canonical_hash(&v), sha256_hex(jcs(&v).as_bytes()));
    }
}

#[test]
fn canonical_hash_requires_a_value() {
    let mut c = Core::new();
    let e = c.err("canonical.hash", json!({}));
    assert_eq!(code(&e), "invalid_request");
    assert_eq!(path(&e), Some("/value"));
    let out = c.ok("canonical.hash", json!({"value": null}));
    assert_eq!(out["canonical"], "null");
}

#[test]
fn duplicate_keys_are_refused_before_hashing() {
    let mut c = Core::new();
    let out = c.raw("canonical.hash", br#"{"value": {"a": 1, "a": 2}}"#, t0());
    let e = envelope(&out).unwrap_err();
    assert_eq!(code(&e), "invalid_json");
    assert_eq!(path(&e), Some("/value/a"), "the duplicated member is named");
}
