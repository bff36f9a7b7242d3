//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! The canonical form is what ECMAScript's `JSON.stringify` produces once object members are sorted by the UTF-16
//! code units of their names: no whitespace, minimal string escaping and ECMAScript number rendering. Following
//! the ECMAScript rules exactly is what lets the JavaScript SDK (and any JCS library) reproduce our hashes.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::sha256::hex_digit;

/// Largest magnitude below which every integer is exactly representable as an `f64` (2^53).
const MAX_SAFE: u64 = 1 << 53;

/// The canonical (RFC 8785) text of `v`.
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

/// Appends the canonical (RFC 8785) text of `v` to `out`.
pub fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => write_canonical_map(members, out),
    }
}

/// Appends the canonical (RFC 8785) text of an object.
pub fn write_canonical_map(members: &Map<String, Value>, out: &mut String) {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    // Keys of plain ASCII compare the same by bytes and by UTF-16 code units: skip the re-encoding then.
    if members.keys().all(|k| k.is_ascii()) {
        sorted.sort_by(|a, b| a.0.cmp(b.0));
    } else {
        sorted.sort_by(|a, b| utf16_cmp(a.0, b.0));
    }
    out.push('{');
    for (i, (key, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_canonical(value, out);
    }
    out.push('}');
}

/// Orders strings by their UTF-16 code units, as RFC 8785 §3.2.3 requires (this differs from byte or code point
/// order only when characters above U+FFFF meet characters in U+E000..=U+FFFF).
pub(crate) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Writes a JSON string with the minimal escaping of RFC 8785 §3.2.2.2: `"`, `\` and control characters only.
/// Runs of plain bytes are copied whole (this is the innermost loop of every answer the core writes).
pub(crate) fn write_string(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            continue;
        }
        // Every escaped byte is ASCII, so `i` is a character boundary (and `get` never misses).
        out.push_str(s.get(start..i).unwrap_or_default());
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\x08' => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\x0c' => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            _ => {
                out.push_str("\\u00");
                out.push(hex_digit(byte >> 4));
                out.push(hex_digit(byte & 0xf));
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Writes a number as ECMAScript's `Number.prototype.toString` would render the `f64` it denotes.
pub(crate) fn write_number(n: &Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE {
            out.push_str(itoa::Buffer::new().format(i));
            return;
        }
    } else if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE {
            out.push_str(itoa::Buffer::new().format(u));
            return;
        }
    }
    // Integers beyond 2^53 are rendered from their nearest f64, as a JavaScript producer would have seen them.
    write_es_f64(n.as_f64().unwrap_or(f64::NAN), out);
}

/// ECMAScript `Number::toString(x)` (ECMA-262 §6.1.6.1.20) for finite `x`; non-finite values, which a
/// `serde_json::Value` cannot hold, render as `null` like `JSON.stringify` does.
fn write_es_f64(x: f64, out: &mut String) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x == 0.0 {
        out.push('0'); // both zeros
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    let (digits, n) = shortest_digits(x.abs());
    let k = digits.len() as i32;

    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.push_str(&"0".repeat((n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-n) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(itoa::Buffer::new().format((n - 1).abs()));
    }
}

/// The shortest decimal digits `s` and exponent `n` with `x` = 0.`s` × 10^`n` (as ECMAScript defines them for
/// positive finite `x`): as few digits as round-trip, the closest such to `x`, and the even one on an exact tie.
/// Ryū computes exactly that; only its layout (`1.5e-7`, `123.45`) is undone here. (Ryū is already in the module
/// through serde_json, so this keeps core's float formatting machinery out of it.)
fn shortest_digits(x: f64) -> (String, i32) {
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x);
    let (mantissa, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = int.chars().chain(frac.chars()).collect();
    let mut n = int.len() as i32 + exp;
    while digits.len() > 1 && digits.starts_with('0') {
        digits.remove(0);
        n -= 1;
    }
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_strict;
    use serde_json::json;

    fn es(x: f64) -> String {
        canonical(&json!(x))
    }

    fn bits(b: u64) -> String {
        es(f64::from_bits(b))
    }

    #[test]
    fn literals_and_structure() {
        assert_eq!(canonical(&json!(null)), "null");
        assert_eq!(canonical(&json!(true)), "true");
        assert_eq!(canonical(&json!(false)), "false");
        assert_eq!(canonical(&json!([])), "[]");
        assert_eq!(canonical(&json!({})), "{}");
        assert_eq!(canonical(&json!([1, [2, {}], {"a": []}])), r#"[1,[2,{}],{"a":[]}]"#);
        let mut out = String::from("prefix:");
        write_canonical(&json!({"b": 1, "a": "x"}), &mut out);
        assert_eq!(out, r#"prefix:{"a":"x","b":1}"#);
    }

    #[test]
    #[allow(clippy::excessive_precision)] // RFC 8785 sample input, rounded on purpose
    fn rfc8785_sample_numbers() {
        assert_eq!(es(1e21), "1e+21");
        assert_eq!(es(1e-7), "1e-7");
        assert_eq!(es(0.000001), "0.000001");
        assert_eq!(es(123456789012345680000.0), "123456789012345680000");
        assert_eq!(es(4.5), "4.5");
        assert_eq!(es(2e-3), "0.002");
        assert_eq!(es(-0.0), "0");
        assert_eq!(es(5e-324), "5e-324");
        assert_eq!(es(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(es(1e30), "1e+30");
        assert_eq!(es(1e-27), "1e-27");
        assert_eq!(es(333333333.33333329), "333333333.3333333");
    }

    #[test]
    fn rfc8785_appendix_b_ieee_values() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(b, expected) in cases {
            assert_eq!(bits(b), expected, "{:016x}", b);
        }
    }

    #[test]
    fn number_layout_boundaries() {
        assert_eq!(es(1.0), "1");
        assert_eq!(es(-1.5), "-1.5");
        assert_eq!(es(100.0), "100");
        assert_eq!(es(0.1), "0.1");
        assert_eq!(es(0.5e-6), "5e-7");
        assert_eq!(es(1.5e-6), "0.0000015");
        assert_eq!(es(1.25e-7), "1.25e-7");
        assert_eq!(es(999999999999999900000.0), "999999999999999900000");
        assert_eq!(es(1.5e21), "1.5e+21");
        assert_eq!(es(-1e21), "-1e+21");
        assert_eq!(es(123.456), "123.456");
        assert_eq!(es(1e20), "100000000000000000000");
        assert_eq!(es(f64::MIN_POSITIVE), "2.2250738585072014e-308");
    }

    #[test]
    fn integers() {
        assert_eq!(canonical(&json!(0)), "0");
        assert_eq!(canonical(&json!(-7)), "-7");
        assert_eq!(canonical(&json!(9007199254740992u64)), "9007199254740992");
        assert_eq!(canonical(&json!(-9007199254740992i64)), "-9007199254740992");
        // Beyond 2^53 the nearest f64 is rendered, as JavaScript would.
        assert_eq!(canonical(&json!(9007199254740993u64)), "9007199254740992");
        assert_eq!(canonical(&json!(1152921504606846976u64)), "1152921504606847000");
        assert_eq!(canonical(&json!(u64::MAX)), "18446744073709552000");
        assert_eq!(canonical(&json!(i64::MAX)), "9223372036854776000");
        assert_eq!(canonical(&json!(i64::MIN)), "-9223372036854776000");
        // An integral f64 renders like the integer.
        assert_eq!(canonical(&json!(2.0)), "2");
        assert_eq!(canonical(&json!(-0.0)), "0");
    }

    #[test]
    fn string_escaping() {
        assert_eq!(canonical(&json!("")), r#""""#);
        assert_eq!(canonical(&json!("plain")), r#""plain""#);
        assert_eq!(canonical(&json!("q\"b\\s/")), r#""q\"b\\s/""#);
        assert_eq!(canonical(&json!("\u{8}\t\n\u{c}\r")), r#""\b\t\n\f\r""#);
        assert_eq!(canonical(&json!("\u{0}\u{1}\u{1f}\u{b}")), r#""\u0000\u0001\u001f\u000b""#);
        assert_eq!(canonical(&json!("\u{7f}\u{80}é€\u{1F600}\u{2028}")), "\"\u{7f}\u{80}é€\u{1F600}\u{2028}\"");
        assert_eq!(canonical(&json!("a\u{1a}b\u{1F600}\n")), "\"a\\u001ab\u{1F600}\\n\"");
    }

    #[test]
    fn rfc8785_key_order() {
        // RFC 8785 §3.2.3.
        let v = parse_strict(
            br#"{
                "\u20ac": "Euro Sign",
                "\r": "Carriage Return",
                "\ufb33": "Hebrew Letter Dalet With Dagesh",
                "1": "One",
                "\ud83d\ude00": "Emoji: Grinning Face",
                "\u0080": "Control",
                "\u00f6": "Latin Small Letter O With Diaeresis"
            }"#,
        )
        .unwrap();
        let expected = concat!(
            "{\"\\r\":\"Carriage Return\",",
            "\"1\":\"One\",",
            "\"\u{80}\":\"Control\",",
            "\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",",
            "\"\u{20ac}\":\"Euro Sign\",",
            "\"\u{1F600}\":\"Emoji: Grinning Face\",",
            "\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
        );
        assert_eq!(canonical(&v), expected);
    }

    #[test]
    fn rfc8785_sample_document() {
        // RFC 8785 §3.2.2.
        let input = br#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        let expected = concat!(
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
            "\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}",
        );
        assert_eq!(canonical(&parse_strict(input).unwrap()), expected);
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        let v = parse_strict(br#"{"z": [1.5e300, -0.0, "\u0007"], "a": {"\ud83d\ude00": 1, "\uffff": 2}}"#).unwrap();
        let once = canonical(&v);
        assert_eq!(canonical(&parse_strict(once.as_bytes()).unwrap()), once);
    }
}
