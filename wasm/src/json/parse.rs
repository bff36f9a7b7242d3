//! Strict JSON parsing into [`serde_json::Value`].
//!
//! `serde_json::from_slice::<Value>` silently keeps the last of duplicated object keys, while other parsers keep the
//! first or fail: two verifiers could then hash different values for the same bytes. This parser builds the `Value`
//! itself through a [`DeserializeSeed`] and rejects duplicates, naming the duplicated member by its JSON pointer.
//! The pointer is assembled only on failure: the member that detects the duplicate records its key, and every
//! enclosing object or array prepends its own segment while the error unwinds, so the happy path allocates nothing
//! extra.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::pointer::{pointer_index, pointer_push};
use crate::error::{CoreError, CoreResult};

/// Deepest nesting of arrays and objects accepted. serde_json's own recursion limit (which stops at 128 nested
/// containers) also applies, so in practice at most 127 levels parse; both limits report `invalid_json`.
const MAX_DEPTH: usize = 128;

const CODE: &str = "invalid_json";

/// Parses UTF-8 JSON text into a value, rejecting invalid UTF-8, trailing garbage, nesting deeper than
/// [`MAX_DEPTH`] and duplicate object keys. Member order is kept. Integers that fit `i64`/`u64` stay integers;
/// other numbers become `f64` (numbers beyond the `f64` range are rejected).
///
/// Errors have code `invalid_json`; the path is the JSON pointer of the duplicated member for duplicate keys and
/// `""` (the whole input) otherwise.
pub fn parse_strict(bytes: &[u8]) -> CoreResult<Value> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        CoreError::at(CODE, "", format!("invalid JSON: not UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })?;
    let ctx = Ctx::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let result = ValueSeed { ctx: &ctx, depth: 0 }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| {
        let path = match ctx.duplicate.into_inner() {
            Some(segments) => segments.iter().rev().fold(String::new(), |base, segment| match segment {
                Segment::Key(key) => pointer_push(&base, key),
                Segment::Index(i) => pointer_index(&base, *i),
            }),
            None => String::new(),
        };
        CoreError::at(CODE, path, format!("invalid JSON: {}", e))
    })
}

/// A step of the path to a duplicated member.
enum Segment {
    Key(String),
    Index(usize),
}

/// State shared by every seed of one parse.
#[derive(Default)]
struct Ctx {
    /// Set when a duplicate key is found: the path to it, innermost segment first.
    duplicate: RefCell<Option<Vec<Segment>>>,
}

impl Ctx {
    /// While a duplicate-key error unwinds through a container, prepends that container's step to the path.
    fn unwinding_through(&self, segment: impl FnOnce() -> Segment) {
        if let Some(segments) = self.duplicate.borrow_mut().as_mut() {
            segments.push(segment());
        }
    }
}

#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    ctx: &'a Ctx,
    /// Number of containers enclosing the value being parsed.
    depth: usize,
}

impl<'a> ValueSeed<'a> {
    /// The seed for the members of a container at this seed's position, failing if that container is too deep.
    fn child<E: de::Error>(self) -> Result<ValueSeed<'a>, E> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(E::custom(format_args!("nesting deeper than {} levels", MAX_DEPTH)));
        }
        Ok(ValueSeed { ctx: self.ctx, depth })
    }
}

impl<'de, 'a> DeserializeSeed<'de> for ValueSeed<'a> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'a> Visitor<'de> for ValueSeed<'a> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::Number(u.into()))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Number::from_f64(f).map(Value::Number).ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let child = self.child()?;
        let mut items = Vec::new();
        loop {
            match seq.next_element_seed(child) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    let index = items.len();
                    self.ctx.unwinding_through(|| Segment::Index(index));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let child = self.child()?;
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                let message = format!("duplicate object key {:?}", key);
                *self.ctx.duplicate.borrow_mut() = Some(vec![Segment::Key(key)]);
                return Err(de::Error::custom(message));
            }
            match map.next_value_seed(child) {
                Ok(value) => {
                    members.insert(key, value);
                }
                Err(e) => {
                    self.ctx.unwinding_through(|| Segment::Key(key));
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(input: &str) -> CoreError {
        parse_strict(input.as_bytes()).expect_err(input)
    }

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn parses_plain_json() {
        assert_eq!(parse_strict(b"null").unwrap(), Value::Null);
        assert_eq!(parse_strict(b" true ").unwrap(), json!(true));
        assert_eq!(parse_strict(b"\"a\\u00e9\\n\"").unwrap(), json!("a\u{e9}\n"));
        assert_eq!(parse_strict(b"[1, -2, 2.5, {}, []]").unwrap(), json!([1, -2, 2.5, {}, []]));
        assert_eq!(
            parse_strict("{\"a\": {\"b\": [null, \"\u{1F600}\"]}}".as_bytes()).unwrap(),
            json!({"a": {"b": [null, "\u{1F600}"]}})
        );
    }

    #[test]
    fn keeps_member_order() {
        let v = parse_strict(br#"{"z": 1, "a": 2, "m": {"y": 1, "b": 2}}"#).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        let inner: Vec<&str> = v["m"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(inner, ["y", "b"]);
    }

    #[test]
    fn numbers_keep_their_kind() {
        let v = parse_strict(
            b"[0, 9223372036854775807, 18446744073709551615, -9223372036854775808, 18446744073709551616, 1.0, 1e2, -0]",
        )
        .unwrap();
        assert_eq!(v[0].as_u64(), Some(0));
        assert_eq!(v[1].as_i64(), Some(i64::MAX));
        assert_eq!(v[2].as_u64(), Some(u64::MAX));
        assert_eq!(v[3].as_i64(), Some(i64::MIN));
        assert!(v[4].is_f64());
        assert_eq!(v[4].as_f64(), Some(18446744073709551616.0));
        assert!(v[5].is_f64());
        assert!(v[6].is_f64());
        assert!(v[7].is_f64());
    }

    #[test]
    fn floats_are_correctly_rounded() {
        // Needs serde_json's `float_roundtrip` feature: its default fast path can be one ulp off, which would
        // change canonical forms (and hashes) relative to JavaScript's `JSON.parse`.
        for text in ["333333333.33333329", "6.9929312217683788732790e-254", "9.618777898017517133899e-253", "0.1"] {
            let parsed = parse_strict(text.as_bytes()).unwrap().as_f64().unwrap();
            assert_eq!(parsed.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{}", text);
        }
    }

    #[test]
    fn rejects_duplicate_keys_with_their_pointer() {
        let e = err(r#"{"a": 1, "a": 2}"#);
        assert_eq!(e.code, "invalid_json");
        assert_eq!(e.path.as_deref(), Some("/a"));
        assert!(e.message.contains("duplicate object key \"a\""), "{}", e.message);

        assert_eq!(err(r#"{"a": {"b": 1, "c": 2, "b": 3}}"#).path.as_deref(), Some("/a/b"));
        assert_eq!(err(r#"{"x": 0, "a": [1, {"k": 1}, {"k": 1, "k": 2}]}"#).path.as_deref(), Some("/a/2/k"));
        assert_eq!(err(r#"[[], [{"a/b": {"m~n": 1, "m~n": 1}}]]"#).path.as_deref(), Some("/1/0/a~1b/m~0n"));
        assert_eq!(err(r#"{"": 1, "": 2}"#).path.as_deref(), Some("/"));
        // Keys are compared after unescaping.
        assert_eq!(err(r#"{"é": 1, "\u00e9": 2}"#).path.as_deref(), Some("/é"));
    }

    #[test]
    fn same_key_in_different_objects_is_fine() {
        let v = parse_strict(br#"{"a": {"a": 1}, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}"#).unwrap();
        assert_eq!(v["c"][1]["a"], json!(4));
    }

    #[test]
    fn syntax_errors_blame_the_whole_input() {
        for input in [
            "",
            "   ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "[1] x",
            "{} {}",
            "nul",
            "NaN",
            "1e400",
            "-",
            "01",
            "\"\\ud800\"",
            "\"tab\there\"",
            "\u{feff}{}",
            "[1, {\"a\": }]",
        ] {
            let e = err(input);
            assert_eq!(e.code, "invalid_json", "{:?}", input);
            assert_eq!(e.path.as_deref(), Some(""), "{:?}", input);
            assert!(e.message.starts_with("invalid JSON: "), "{}", e.message);
        }
    }

    #[test]
    fn rejects_invalid_utf8() {
        let e = parse_strict(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e.code, "invalid_json");
        assert_eq!(e.path.as_deref(), Some(""));
        assert!(e.message.contains("UTF-8"), "{}", e.message);
        assert!(parse_strict(b"\"\xed\xa0\x80\"").is_err()); // an encoded surrogate
    }

    #[test]
    fn limits_nesting_without_overflowing_the_stack() {
        assert!(parse_strict(nested(100).as_bytes()).is_ok());
        assert!(parse_strict(nested(127).as_bytes()).is_ok());
        for depth in [MAX_DEPTH + 1, 1_000, 100_000] {
            let e = parse_strict(nested(depth).as_bytes()).unwrap_err();
            assert_eq!(e.code, "invalid_json");
            assert_eq!(e.path.as_deref(), Some(""));
        }
        let objects = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
        assert_eq!(err(&objects).code, "invalid_json");
        // Unbalanced deep input fails on depth, not on a missing bracket.
        assert_eq!(err(&"[".repeat(1_000_000)).code, "invalid_json");
    }

    #[test]
    fn own_depth_limit_applies() {
        // serde_json's limit (128 containers from the top) would mask ours at the top level, so start the seed
        // deep: ten more levels fit under MAX_DEPTH, eleven do not.
        let parse_at = |depth: usize, text: &str| {
            let ctx = Ctx::default();
            let mut de = serde_json::Deserializer::from_str(text);
            ValueSeed { ctx: &ctx, depth }.deserialize(&mut de).map_err(|e| e.to_string())
        };
        assert!(parse_at(MAX_DEPTH - 10, &nested(10)).is_ok());
        let e = parse_at(MAX_DEPTH - 10, &nested(11)).unwrap_err();
        assert!(e.contains("nesting deeper than 128 levels"), "{}", e);
    }
}
