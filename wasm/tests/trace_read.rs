//! JSONL traces are read directly into events when their lines have the shape this runtime writes, and their
//! canonical payloads are hashed as written. These properties hold that reading to the full one (parse, then
//! canonicalise): for random payloads, spelled canonically or not, the same hash, the same events, the same
//! verdict; and the canonical-form recogniser never accepts text whose canonical form differs.

mod common;

use common::prop::{check, Gen};
use common::GENESIS;
use cra_core::json::{canonical, canonical_end, parse_strict};
use cra_core::trace::{read_trace, verify, verify_items, Event, Item};
use serde_json::{json, Map, Number, Value};

/// A random JSON value, `depth` levels deep at most.
fn value(g: &mut Gen, depth: usize) -> Value {
    let kinds = if depth == 0 { 6 } else { 8 };
    match g.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(g.below(2) == 0),
        2 => Value::Number(match g.below(4) {
            0 => Number::from(g.below(1000) as i64 - 500),
            1 => Number::from(g.next_u64() >> g.below(64)),
            2 => Number::from(-((g.next_u64() >> (1 + g.below(63))) as i64)),
            _ => Number::from_f64(float(g)).unwrap_or_else(|| Number::from(0)),
        }),
        3 | 4 => Value::String(text(g)),
        5 => Value::String(g.gen::<String>()),
        6 => Value::Array((0..g.below(4)).map(|_| value(g, depth - 1)).collect()),
        _ => Value::Object(object(g, depth - 1)),
    }
}

fn object(g: &mut Gen, depth: usize) -> Map<String, Value> {
    (0..g.below(5)).map(|_| (key(g), value(g, depth))).collect()
}

fn key(g: &mut Gen) -> String {
    match g.below(4) {
        0 => g.gen::<String>(),
        _ => (*g.choose(&["a", "b", "id", "z", "é", "\u{1F600}", "\u{fb33}", "A", "a\"b", ""])).to_string(),
    }
}

/// Strings with the characters canonical escaping cares about.
fn text(g: &mut Gen) -> String {
    let pieces = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{8}", "\u{c}", "\r", "\u{0}", "\u{1f}", "\u{7f}", "é", "\u{2028}", "\u{1F600}"];
    (0..g.below(6)).map(|_| *g.choose(&pieces)).collect()
}

fn float(g: &mut Gen) -> f64 {
    match g.below(3) {
        0 => f64::from_bits(g.next_u64()),
        1 => (g.below(2_000_001) as f64 - 1_000_000.0) / 1000.0,
        _ => (g.next_u64() as f64) * 10f64.powi(g.below(80) as i32 - 40),
    }
}

/// Whether no member name in `v` needs an escape.
fn plain_names(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().all(plain_names),
        Value::Object(m) => m.iter().all(|(k, x)| !k.chars().any(|c| c == '"' || c == '\\' || c < ' ') && plain_names(x)),
        _ => true,
    }
}

/// `v` written as valid JSON in a random non-canonical spelling: whitespace, member order, escapes and number forms.
fn respell(g: &mut Gen, v: &Value, out: &mut String) {
    let ws = |g: &mut Gen, out: &mut String| {
        if g.below(3) == 0 {
            out.push_str(*g.choose(&[" ", "\t", "\t ", "  "]));
        }
    };
    ws(g, out);
    match v {
        Value::Null | Value::Bool(_) => out.push_str(&v.to_string()),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if g.below(2) == 0 => out.push_str(&format!("{}.0", i)),
            (Some(i), _) if g.below(2) == 0 => out.push_str(&format!("{}e0", i)),
            (_, Some(f)) if n.is_f64() && g.below(2) == 0 => out.push_str(&format!("{:e}", f)),
            _ => out.push_str(&canonical(v)),
        },
        Value::String(s) => respell_string(g, s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                respell(g, item, out);
            }
            ws(g, out);
            out.push(']');
        }
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            if g.below(2) == 0 {
                members.reverse();
            }
            out.push('{');
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(g, out);
                respell_string(g, k, out);
                ws(g, out);
                out.push(':');
                respell(g, item, out);
            }
            ws(g, out);
            out.push('}');
        }
    }
    ws(g, out);
}

fn respell_string(g: &mut Gen, s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if g.below(2) == 0 => out.push_str("\\/"),
            c if (c as u32) < 0x20 || g.below(8) == 0 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let hex = format!("{:04x}", u);
                    out.push_str("\\u");
                    out.push_str(&if g.below(2) == 0 { hex.to_uppercase() } else { hex });
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

const SID: &str = "33333333-3333-4333-8333-333333333333";

/// A `session.started` line (schema order, no whitespace) with `payload` spelled as given, hashed the full way
/// (`Event::from_json`, then `compute_hash`).
fn line(payload: &str) -> String {
    let head = format!(
        concat!(
            r#"{{"trace_version":"1.0","event_id":"01234567-89ab-cdef-0123-456789abcdef","#,
            r#""trace_id":"11111111-1111-1111-1111-111111111111","span_id":"22222222-2222-2222-2222-222222222222","#,
            r#""parent_span_id":null,"session_id":"{}","sequence":0,"timestamp":"2024-12-28T12:00:00.000001Z","#,
            r#""event_type":"session.started","payload":{}"#,
        ),
        SID, payload
    );
    let draft = parse_strict(format!(r#"{},"event_hash":"{}","previous_event_hash":"{}"}}"#, head, GENESIS, GENESIS).as_bytes())
        .expect("a valid event line");
    let hash = Event::from_json(&draft).expect("a valid event").compute_hash().expect("a hashable event");
    format!(r#"{},"event_hash":"{}","previous_event_hash":"{}"}}"#, head, hash, GENESIS)
}

/// The direct reading and the full one agree on `text` (one or more lines): same events, same verdict.
fn same_reading(text: &str) {
    let values: Vec<Value> = text.lines().map(|l| parse_strict(l.as_bytes()).unwrap()).collect();
    let (full, full_events) = verify(&values, None);
    let items = read_trace(text, "/jsonl", |_| true).unwrap();
    let direct = verify_items(items, None, true, None);
    assert_eq!(direct.verdict, full, "{}", text);
    assert_eq!(direct.events, full_events, "{}", text);
    let items = read_trace(text, "/jsonl", |_| false).unwrap();
    assert_eq!(verify_items(items, None, false, None).verdict, full, "{}", text);
}

#[test]
fn canonical_text_is_recognised_and_anything_recognised_is_canonical() {
    check("canonical_end", 2000, 12, |seed: u64| {
        let mut g = Gen::new(seed, 12);
        let v = value(&mut g, 4);
        let c = canonical(&v);
        // Names with escapes are left to the full path (their order is that of the unescaped text).
        if plain_names(&v) {
            assert_eq!(canonical_end(&c, 0, 0), Some(c.len()), "canonical text refused: {}", c);
        }
        let mut other = String::new();
        respell(&mut g, &v, &mut other);
        let parsed = parse_strict(other.as_bytes()).unwrap_or_else(|e| panic!("{}: {}", other, e.message));
        assert_eq!(canonical(&parsed), c, "{}", other);
        if canonical_end(&other, 0, 0) == Some(other.len()) {
            assert_eq!(other, c, "accepted as canonical");
        }
    });
}

#[test]
fn payloads_hash_the_same_read_directly_or_parsed_canonical_or_not() {
    check("payload hash", 1000, 12, |seed: u64| {
        let mut g = Gen::new(seed, 12);
        let payload = Value::Object(object(&mut g, 3));
        let c = canonical(&payload);
        let mut other = String::new();
        respell(&mut g, &payload, &mut other);
        let canonical_line = line(&c);
        let other_line = line(&other);
        // One hash, whichever the spelling: the full reading canonicalises.
        let hash = |l: &str| parse_strict(l.as_bytes()).unwrap()["event_hash"].clone();
        assert_eq!(hash(&canonical_line), hash(&other_line), "{}", other);
        if plain_names(&payload) {
            let text = format!("{}\n", canonical_line);
            let read = read_trace(&text, "/jsonl", |_| false).unwrap();
            assert!(matches!(read[0], Item::Read { .. }), "a canonical line is read directly: {}", canonical_line);
        }
        for l in [&canonical_line, &other_line] {
            same_reading(&format!("{}\n", l));
            // A hash that is not the event's is refused either way.
            let at = l.find("\"event_hash\":\"").unwrap() + 14;
            let flipped = if &l[at..at + 1] == "0" { "1" } else { "0" };
            same_reading(&format!("{}{}{}\n", &l[..at], flipped, &l[at + 1..]));
        }
    });
}

#[test]
fn lines_of_every_other_shape_read_the_full_way() {
    let good = line(r#"{"a":[1,"x"],"b":{"c":null}}"#);
    let v: Value = serde_json::from_str(&good).unwrap();
    let mut variants = vec![good.clone(), good.replace(",\"", ", \""), format!(" {}\r", good)];
    let mut reordered = v.as_object().unwrap().clone();
    let hash = reordered.remove("event_hash").unwrap();
    reordered.insert("event_hash".into(), hash);
    reordered.remove("parent_span_id");
    variants.push(Value::Object(reordered).to_string());
    variants.push(good.replace("\"sequence\":0", "\"sequence\":0.0"));
    variants.push(good.replace("\"sequence\":0", "\"sequence\":-0"));
    variants.push(good.replace("\"trace_id\":\"1111", "\"trace_id\":\"\\u0031111"));
    variants.push(good.replace("01234567-89ab", "01234567-89AB"));
    variants.push(good.replace("session.started", "session.begun"));
    variants.push(good.replace("\"payload\":{", "\"payload\":{\"0\":0,"));
    variants.push(good.replace("\"payload\":{", "\"payload\":{\"z\":0,"));
    for text in &variants {
        same_reading(&format!("{}\n", text));
    }
    // The duplicate of a line read directly is told apart from other sequence errors by value, as before.
    let second = v.clone();
    let chain = format!("{}\n{}\n", good, serde_json::to_string(&second).unwrap());
    same_reading(&chain);
    assert_eq!(json!(verify(&[v.clone(), v], None).0.to_json()["detail"]), json!("duplicated_event"));
}
