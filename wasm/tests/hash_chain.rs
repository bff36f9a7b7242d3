//! TRACE/1.0 hash chain (SPEC §4.1, §4.2): the published vectors, verification reasons, timestamp renderings and
//! byte-level tamper detection of an exported JSONL trace.

mod common;

use common::*;
use cra_core::json::{parse_strict, sha256_hex};
use cra_core::trace::{verify, Event, Head, Verdict, GENESIS_HASH};
use serde_json::{json, Map, Value};

const VECTOR_HASH: &str = "3d71a7b30f84fadf986955467af6cabdbd180a61de5b14f4582cd3cdfbe57d2e";

fn vector_event() -> Value {
    json!({
        "trace_version": "1.0",
        "event_id": "01234567-89ab-cdef-0123-456789abcdef",
        "trace_id": "11111111-1111-1111-1111-111111111111",
        "span_id": "22222222-2222-2222-2222-222222222222",
        "parent_span_id": null,
        "session_id": "33333333-3333-3333-3333-333333333333",
        "sequence": 0,
        "timestamp": "2024-12-28T12:00:00.000000Z",
        "event_type": "session.started",
        "payload": {"agent_id": "test-agent", "goal": "Test session"},
        "event_hash": VECTOR_HASH,
        "previous_event_hash": GENESIS,
    })
}

fn as_event(v: &Value) -> Event {
    Event::from_json(v).unwrap_or_else(|e| panic!("not an event ({}): {}", e, v))
}

fn verdict(c: &mut Core, events: &[Value]) -> Value {
    c.verify(events)
}

fn assert_invalid(c: &mut Core, events: &[Value], index: usize, reason: &str) {
    let v = verdict(c, events);
    assert_eq!(v, json!({"valid": false, "index": index, "reason": reason}), "verdict of a chain with a {} at {}", reason, index);
    // The library entry point agrees with the op.
    match verify(events, None).0 {
        Verdict::Invalid { index: i, reason: r, .. } => {
            assert_eq!((i, r), (index, reason));
        }
        other => panic!("verify() said {:?}", other),
    }
}

/// A `sequence_gap` at `index`, with the kind of gap the verdict names beside SPEC's reason.
fn assert_gap(c: &mut Core, events: &[Value], index: usize, detail: &str) {
    let v = verdict(c, events);
    assert_eq!(v, json!({"valid": false, "index": index, "reason": "sequence_gap", "detail": detail}), "gap at {}", index);
    match verify(events, None).0 {
        Verdict::Invalid { index: i, reason: r, detail: d, .. } => assert_eq!((i, r, d), (index, "sequence_gap", Some(detail))),
        other => panic!("verify() said {:?}", other),
    }
}

// ------------------------------------------------------------------------------------------------- vectors

#[test]
fn spec_single_event_vector_hash() {
    let e = vector_event();
    assert_eq!(spec_hash(&e), VECTOR_HASH, "the tests' own §4.1 implementation reproduces the SPEC vector");
    assert_eq!(as_event(&e).compute_hash().as_deref(), Some(VECTOR_HASH), "Event::compute_hash");
}

#[test]
fn spec_single_event_vector_verifies() {
    let mut c = Core::new();
    let v = verdict(&mut c, &[vector_event()]);
    assert_eq!(v, json!({"valid": true, "length": 1, "head_hash": VECTOR_HASH}));
}

#[test]
fn spec_vector_hash_input_is_the_plain_concatenation() {
    // The exact bytes of SPEC §4.1 for the vector, spelled out.
    let input = concat!(
        "1.0",
        "01234567-89ab-cdef-0123-456789abcdef",
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
        "",
        "33333333-3333-3333-3333-333333333333",
        "0",
        "2024-12-28T12:00:00+00:00",
        "session.started",
        "{\"agent_id\":\"test-agent\",\"goal\":\"Test session\"}",
        "0000000000000000000000000000000000000000000000000000000000000000",
    );
    assert_eq!(sha256_hex(input.as_bytes()), VECTOR_HASH);
}

fn check_vector_file(rel: &str, len: usize) {
    let mut c = Core::new();
    let text = fixture_text(rel);
    let events = c.ok("trace.from_jsonl", json!({ "text": text }))["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), len, "{} has {} events", rel, len);
    assert_eq!(events, fixture_jsonl(rel), "from_jsonl reads the lines as they are");
    let head = events.last().unwrap()["event_hash"].clone();
    let v = verdict(&mut c, &events);
    assert_eq!(v, json!({"valid": true, "length": len, "head_hash": head}), "{} verifies", rel);
    let v = c.ok("trace.verify", json!({"events": events, "expected_head": {"length": len, "head_hash": head}}));
    assert_eq!(v["valid"], true, "{} verifies against its own head", rel);
    for e in &events {
        assert_eq!(e["event_hash"].as_str().unwrap(), spec_hash(e), "independent hash of {} event {}", rel, e["sequence"]);
    }
}

#[test]
fn reference_simple_resolve_vector_verifies() {
    check_vector_file("vectors/reference-simple-resolve.trace.jsonl", 5);
}

#[test]
fn reference_branch_vector_verifies() {
    check_vector_file("vectors/reference-branch-simple-resolve.trace.jsonl", 8);
}

#[test]
fn vector_jsonl_round_trips_through_to_jsonl() {
    let mut c = Core::new();
    let events = fixture_jsonl("vectors/reference-branch-simple-resolve.trace.jsonl");
    let text = c.ok("trace.to_jsonl", json!({ "events": events }))["text"].as_str().unwrap().to_string();
    assert!(text.ends_with('\n'), "JSONL export ends with a newline (SPEC §9)");
    assert_eq!(text.matches('\n').count(), events.len(), "one line per event");
    assert!(!text.contains('\r'));
    let back = c.ok("trace.from_jsonl", json!({ "text": text }))["events"].clone();
    assert_eq!(back, json!(events));
}

#[test]
fn from_jsonl_refuses_a_torn_last_line() {
    let mut c = Core::new();
    let text = fixture_text("vectors/reference-simple-resolve.trace.jsonl");
    let whole = c.ok("trace.from_jsonl", json!({ "text": text }))["events"].clone();
    assert_eq!(whole.as_array().unwrap().len(), 5);
    // A last line without its newline is a torn write, whole or cut short (the rule of the TypeScript JSONL
    // store): refused, naming the line, even when it parses.
    let unterminated = text.trim_end_matches('\n');
    let torn = &unterminated[..unterminated.len() - 10];
    for text in [unterminated, torn] {
        let e = c.err("trace.from_jsonl", json!({ "text": text }));
        assert_eq!(code(&e), "invalid_json");
        assert_eq!(path(&e), Some("/text"));
        let message = e["message"].as_str().unwrap();
        assert!(message.starts_with("line 5: "), "{}", e);
        assert!(message.contains("no trailing newline") && message.contains("torn write"), "{}", e);
    }
    // Appending the newline makes the same text whole again.
    assert_eq!(c.ok("trace.from_jsonl", json!({ "text": format!("{}\n", unterminated) }))["events"], whole);
}

// ------------------------------------------------------------------------------------------------- reasons

fn base_chain() -> Vec<Value> {
    fixture_jsonl("vectors/reference-branch-simple-resolve.trace.jsonl")
}

#[test]
fn malformed_uppercase_uuid() {
    let mut c = Core::new();
    let mut ev = base_chain();
    let id = ev[2]["event_id"].as_str().unwrap().to_uppercase();
    ev[2]["event_id"] = json!(id);
    rehash_from(&mut ev, 2);
    assert_invalid(&mut c, &ev, 2, "malformed_event");
}

#[test]
fn malformed_uppercase_hash() {
    let mut c = Core::new();
    let mut ev = base_chain();
    let h = ev[3]["event_hash"].as_str().unwrap().to_uppercase();
    ev[3]["event_hash"] = json!(h);
    assert_invalid(&mut c, &ev, 3, "malformed_event");
}

#[test]
fn malformed_four_digit_fraction() {
    let mut c = Core::new();
    let mut ev = base_chain();
    let ts = ev[1]["timestamp"].as_str().unwrap();
    let four = format!("{}.1234Z", &ts[..19]);
    ev[1]["timestamp"] = json!(four);
    assert_invalid(&mut c, &ev, 1, "malformed_event");
}

#[test]
fn malformed_timestamps_of_other_forms() {
    let mut c = Core::new();
    for bad in [
        "2024-12-28T12:00:00.1Z",
        "2024-12-28T12:00:00.12Z",
        "2024-12-28T12:00:00.12345Z",
        "2024-12-28T12:00:00.1234567Z",
        "2024-12-28t12:00:00.000000Z",
        "2024-12-28T12:00:00.000000z",
        "2024-12-28T13:00:00.000000+01:00",
        "2024-12-28 12:00:00.000000Z",
        "2024-12-28T12:00:00",
        "2024-12-28T12:00:60.000000Z",
        "2024-02-30T12:00:00.000000Z",
    ] {
        let mut ev = vec![vector_event()];
        ev[0]["timestamp"] = json!(bad);
        let v = verdict(&mut c, &ev);
        assert_eq!(v, json!({"valid": false, "index": 0, "reason": "malformed_event"}), "timestamp {}", bad);
    }
}

#[test]
fn malformed_unknown_event_type() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[2]["event_type"] = json!("custom.happened");
    rehash_from(&mut ev, 2);
    assert_invalid(&mut c, &ev, 2, "malformed_event");
}

#[test]
fn malformed_extra_field() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[4]["note"] = json!("hello");
    assert_invalid(&mut c, &ev, 4, "malformed_event");
}

#[test]
fn malformed_missing_or_mistyped_fields() {
    let mut c = Core::new();
    let mutations: Vec<(&str, Box<dyn Fn(&mut Value)>)> = vec![
        ("no event_hash", Box::new(|e: &mut Value| {
            e.as_object_mut().unwrap().remove("event_hash");
        })),
        ("no payload", Box::new(|e: &mut Value| {
            e.as_object_mut().unwrap().remove("payload");
        })),
        ("sequence as string", Box::new(|e: &mut Value| e["sequence"] = json!("1"))),
        ("negative sequence", Box::new(|e: &mut Value| e["sequence"] = json!(-1))),
        ("fractional sequence", Box::new(|e: &mut Value| e["sequence"] = json!(1.5))),
        ("payload array", Box::new(|e: &mut Value| e["payload"] = json!([]))),
        ("trace_version 2.0", Box::new(|e: &mut Value| e["trace_version"] = json!("2.0"))),
        ("short hash", Box::new(|e: &mut Value| e["previous_event_hash"] = json!("abc"))),
        ("uuid without dashes", Box::new(|e: &mut Value| e["span_id"] = json!("5a000000000070008000000000000001xxxx"))),
        ("event not an object", Box::new(|e: &mut Value| *e = json!("event"))),
    ];
    for (what, m) in mutations {
        let mut ev = base_chain();
        m(&mut ev[1]);
        let v = verdict(&mut c, &ev);
        assert_eq!(v, json!({"valid": false, "index": 1, "reason": "malformed_event"}), "{}", what);
    }
}

#[test]
fn bad_genesis_when_first_event_is_not_session_started() {
    let mut c = Core::new();
    let ev = base_chain();
    assert_invalid(&mut c, &ev[1..], 0, "bad_genesis");
}

#[test]
fn bad_genesis_with_a_nonzero_previous_hash() {
    let mut c = Core::new();
    let mut ev = vec![vector_event()];
    ev[0]["previous_event_hash"] = json!("1".repeat(64));
    rehash_from(&mut ev, 0);
    assert_invalid(&mut c, &ev, 0, "bad_genesis");
}

#[test]
fn bad_genesis_with_a_nonzero_first_sequence() {
    let mut c = Core::new();
    let mut ev = vec![vector_event()];
    ev[0]["sequence"] = json!(1);
    rehash_from(&mut ev, 0);
    assert_invalid(&mut c, &ev, 0, "bad_genesis");
}

#[test]
fn sequence_gap_when_an_event_is_removed() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev.remove(2);
    assert_gap(&mut c, &ev, 2, "missing_events");
}

#[test]
fn sequence_gap_even_when_relinked() {
    // Remove an event and re-link the rest properly: the sequence still betrays the gap.
    let mut c = Core::new();
    let mut ev = base_chain();
    ev.remove(3);
    rehash_from(&mut ev, 3);
    assert_gap(&mut c, &ev, 3, "missing_events");
}

#[test]
fn sequence_gap_on_a_duplicated_event() {
    let mut c = Core::new();
    let mut ev = base_chain();
    let dup = ev[2].clone();
    ev.insert(3, dup);
    assert_gap(&mut c, &ev, 3, "duplicated_event");
}

#[test]
fn broken_link_with_a_rehashed_event() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[2]["previous_event_hash"] = json!("a".repeat(64));
    let h = spec_hash(&ev[2]);
    ev[2]["event_hash"] = json!(h);
    assert_invalid(&mut c, &ev, 2, "broken_link");
}

#[test]
fn broken_link_when_events_are_swapped_and_renumbered() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev.swap(2, 3);
    ev[2]["sequence"] = json!(2);
    ev[3]["sequence"] = json!(3);
    assert_invalid(&mut c, &ev, 2, "broken_link");
}

#[test]
fn hash_mismatch_on_a_changed_payload() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[3]["payload"]["injected"] = json!(true);
    assert_invalid(&mut c, &ev, 3, "hash_mismatch");
}

#[test]
fn hash_mismatch_on_a_changed_parent_span() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[5]["parent_span_id"] = Value::Null;
    assert_invalid(&mut c, &ev, 5, "hash_mismatch");
}

#[test]
fn hash_mismatch_on_a_changed_timestamp_instant() {
    let mut c = Core::new();
    let mut ev = base_chain();
    let ts = ev[4]["timestamp"].as_str().unwrap().replace("12:00", "12:01");
    ev[4]["timestamp"] = json!(ts);
    assert_invalid(&mut c, &ev, 4, "hash_mismatch");
}

#[test]
fn session_mismatch_on_a_rehashed_event_of_another_session() {
    let mut c = Core::new();
    let mut ev = base_chain();
    let prev = ev.last().unwrap()["event_hash"].as_str().unwrap().to_string();
    let mut payload = Map::new();
    payload.insert("code".into(), json!("oops"));
    payload.insert("message".into(), json!("from elsewhere"));
    let mut intruder = Event {
        event_id: "e0000000-0000-7000-8000-0000000000ff".into(),
        trace_id: ev[0]["trace_id"].as_str().unwrap().into(),
        span_id: "5a000000-0000-7000-8000-0000000000ff".into(),
        parent_span_id: None,
        session_id: "99999999-0000-4000-8000-000000000000".into(),
        sequence: ev.len() as u64,
        timestamp: "2024-12-28T12:00:09.000000Z".into(),
        event_type: "error.occurred".into(),
        payload,
        event_hash: String::new(),
        previous_event_hash: prev,
    };
    intruder.event_hash = intruder.compute_hash().unwrap();
    let j = intruder.to_json();
    assert_eq!(j["event_hash"].as_str().unwrap(), spec_hash(&j));
    let index = ev.len();
    ev.push(j);
    assert_invalid(&mut c, &ev, index, "session_mismatch");
}

#[test]
fn head_mismatch_on_a_truncated_chain() {
    let mut c = Core::new();
    let ev = base_chain();
    let head = json!({"length": ev.len(), "head_hash": ev.last().unwrap()["event_hash"]});
    let cut = &ev[..ev.len() - 2];
    // Without the head a cut chain looks valid (SPEC §4.2): that is why the runtime keeps heads.
    assert_eq!(verdict(&mut c, cut)["valid"], true);
    let v = c.ok("trace.verify", json!({"events": cut, "expected_head": head}));
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "head_mismatch");
    assert!(v["index"].is_u64(), "an invalid verdict carries an index: {}", v);
    let h = Head { length: ev.len(), head_hash: ev.last().unwrap()["event_hash"].as_str().unwrap().into() };
    assert!(matches!(verify(cut, Some(&h)).0, Verdict::Invalid { reason: "head_mismatch", .. }));
}

#[test]
fn head_mismatch_on_same_length_other_head() {
    let mut c = Core::new();
    let ev = base_chain();
    let v = c.ok("trace.verify", json!({"events": ev, "expected_head": {"length": ev.len(), "head_hash": "b".repeat(64)}}));
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "head_mismatch");
}

#[test]
fn head_mismatch_on_an_extended_chain() {
    let mut c = Core::new();
    let ev = base_chain();
    let head = json!({"length": 5, "head_hash": ev[4]["event_hash"]});
    let v = c.ok("trace.verify", json!({"events": ev, "expected_head": head}));
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "head_mismatch");
}

#[test]
fn verify_reports_the_first_defect() {
    // Two defects: the earlier one is reported.
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[6]["payload"]["x"] = json!(1);
    ev[2]["payload"]["x"] = json!(1);
    assert_invalid(&mut c, &ev, 2, "hash_mismatch");
}

// ------------------------------------------------------------------------------------------------- timestamps

fn single_with_timestamp(ts: &str) -> Value {
    let mut e = vector_event();
    e["timestamp"] = json!(ts);
    let h = spec_hash(&e);
    e["event_hash"] = json!(h);
    e
}

#[test]
fn hash_rendering_of_timestamps_follows_spec() {
    let cases = [
        ("2024-12-28T12:00:00.000000Z", "2024-12-28T12:00:00+00:00"),
        ("2024-12-28T12:00:00.500000Z", "2024-12-28T12:00:00.500+00:00"),
        ("2024-12-28T12:00:00.123456Z", "2024-12-28T12:00:00.123456+00:00"),
        ("2024-12-28T12:00:00.120000Z", "2024-12-28T12:00:00.120+00:00"),
        ("2024-12-28T12:00:00.123450Z", "2024-12-28T12:00:00.123450+00:00"),
        ("2024-12-28T12:00:00.123456789Z", "2024-12-28T12:00:00.123456789+00:00"),
        ("2024-12-28T12:00:00.100000000Z", "2024-12-28T12:00:00.100+00:00"),
        ("2024-12-28T12:00:00Z", "2024-12-28T12:00:00+00:00"),
        ("2024-12-28T12:00:00.000+00:00", "2024-12-28T12:00:00+00:00"),
    ];
    for (stored, rendered) in cases {
        assert_eq!(ts_rendering(stored), rendered, "test helper");
        assert_eq!(cra_core::time::hash_rendering(stored).as_deref(), Some(rendered), "core rendering of {}", stored);
    }
}

#[test]
fn timestamps_with_0_3_6_9_digits_and_offset_verify_when_correctly_hashed() {
    let mut c = Core::new();
    for ts in [
        "2024-12-28T12:00:00Z",
        "2024-12-28T12:00:00.500Z",
        "2024-12-28T12:00:00.123Z",
        "2024-12-28T12:00:00.123456Z",
        "2024-12-28T12:00:00.123456789Z",
        "2024-12-28T12:00:00.000000001Z",
        "2024-12-28T12:00:00+00:00",
        "2024-12-28T12:00:00.250+00:00",
        "2024-12-28T12:00:00.123456+00:00",
        "2024-12-28T12:00:00.987654321+00:00",
    ] {
        let e = single_with_timestamp(ts);
        assert_eq!(as_event(&e).compute_hash().unwrap(), e["event_hash"].as_str().unwrap(), "core hash of {}", ts);
        let v = verdict(&mut c, &[e.clone()]);
        assert_eq!(v["valid"], true, "an event stamped {} verifies: {}", ts, v);
    }
}

#[test]
fn one_instant_spelled_differently_hashes_the_same() {
    for ts in [
        "2024-12-28T12:00:00Z",
        "2024-12-28T12:00:00.000Z",
        "2024-12-28T12:00:00.000000Z",
        "2024-12-28T12:00:00.000000000Z",
        "2024-12-28T12:00:00+00:00",
        "2024-12-28T12:00:00.000000+00:00",
    ] {
        let e = single_with_timestamp(ts);
        assert_eq!(e["event_hash"], VECTOR_HASH, "{}", ts);
        assert_eq!(as_event(&e).compute_hash().as_deref(), Some(VECTOR_HASH), "{}", ts);
    }
}

#[test]
fn genesis_hash_constant_is_64_zeros() {
    assert_eq!(GENESIS_HASH, GENESIS);
}

// ------------------------------------------------------------------------------------------------- runtime chains

/// A real trace of about a dozen events: the golden session plus executions, a denial, a failure and the end.
fn recorded_trace() -> (Core, String, Vec<Value>) {
    let (mut c, sid, _h, res) = golden();
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    let x = c.execute(&sid, &rid, "resource.get", json!({"resource_id": "r-1"}));
    let eid = x["execution"]["execution_id"].as_str().unwrap().to_string();
    c.complete(&sid, &eid, json!({"id": "r-1", "name": "first"}));
    c.execute(&sid, &rid, "resource.delete", json!({"resource_id": "r-1"}));
    let x = c.execute(&sid, &rid, "resource.create", json!({"name": "second"}));
    let eid = x["execution"]["execution_id"].as_str().unwrap().to_string();
    c.ok(
        "action.fail",
        json!({"session_id": sid, "execution_id": eid, "error_code": "E_BACKEND", "error_message": "backend down"}),
    );
    c.ok("session.end", json!({"session_id": sid, "reason": "completed"}));
    let events = c.session_events(&sid);
    (c, sid, events)
}

#[test]
fn runtime_trace_is_a_valid_chain() {
    let (mut c, sid, events) = recorded_trace();
    check_chain(&events);
    assert!(events.len() >= 10, "the trace has {} events", events.len());
    let s = c.get_session(&sid);
    let v = c.ok("trace.verify", json!({"events": events, "expected_head": {"length": s["event_count"], "head_hash": s["head_hash"]}}));
    assert_eq!(v["valid"], true, "the chain verifies against the session's head");
    assert_eq!(v["length"], json!(events.len()));
}

/// About ten events: the golden session, one executed action, one denied action, the end.
fn tamper_trace() -> (Core, String, Vec<Value>) {
    let (mut c, sid, _h, res) = golden();
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    let x = c.execute(&sid, &rid, "resource.get", json!({"resource_id": "r-1"}));
    let eid = x["execution"]["execution_id"].as_str().unwrap().to_string();
    c.complete(&sid, &eid, json!({"id": "r-1", "name": "first"}));
    c.execute(&sid, &rid, "resource.delete", json!({"resource_id": "r-1"}));
    c.ok("session.end", json!({"session_id": sid, "reason": "completed"}));
    let events = c.session_events(&sid);
    (c, sid, events)
}

/// Line index (0-based) of the byte at `pos`; a line's terminating LF belongs to it.
fn line_of(text: &[u8], pos: usize) -> usize {
    text[..pos].iter().filter(|b| **b == b'\n').count()
}

/// Another byte for `b`: same class where possible (so that formats often survive and the hash must catch it).
fn same_class(b: u8) -> u8 {
    match b {
        b'0'..=b'8' => b + 1,
        b'9' => b'0',
        b'a'..=b'e' => b + 1,
        b'f' => b'a',
        b'g'..=b'y' => b + 1,
        b'z' => b'g',
        b'A'..=b'Y' => b + 1,
        b'Z' => b'A',
        b'-' => b'_',
        b'_' => b'-',
        b'.' => b'-',
        b':' => b'.',
        _ => b'x',
    }
}

/// Outcome of one mutated JSONL text: `None` when refused on import, else the verdict of the parsed events.
fn judge(parsed: Option<Vec<Value>>, original: &[Value], upto: usize) -> Result<Option<(usize, &'static str)>, ()> {
    let parsed = match parsed {
        None => return Ok(None),
        Some(p) => p,
    };
    if parsed.as_slice() == original {
        return Err(()); // the same events: undetectable, and not expected to happen for a single byte
    }
    // Verification is sequential and stops at the first defect, so verifying up to one event past the mutated
    // line decides whether the defect is reported at that line.
    let end = upto.min(parsed.len());
    match verify(&parsed[..end], None).0 {
        Verdict::Valid { .. } => Ok(Some((usize::MAX, "valid"))),
        Verdict::Invalid { index, reason, .. } => Ok(Some((index, reason))),
    }
}

#[test]
fn every_single_byte_change_of_an_exported_trace_is_detected_at_its_line() {
    let (mut c, _sid, events) = tamper_trace();
    let text = c.ok("trace.to_jsonl", json!({ "events": events }))["text"].as_str().unwrap().to_string();
    assert!(text.is_ascii(), "the test trace is ASCII so that any ASCII byte change keeps valid UTF-8");
    assert_eq!(cra_core::trace::jsonl::from_jsonl(&text).unwrap(), events);
    let bytes = text.as_bytes();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), events.len());
    let extra = [b' ', b'"', b'\n', b'\\', b'}', b'{', b',', b'0', b'x', 0x7f];
    let mut failures: Vec<String> = Vec::new();
    let mut checked = 0usize;
    let mut line_start = 0usize;
    for (k, line) in lines.iter().enumerate() {
        let lb = line.as_bytes();
        for off in 0..=lb.len() {
            let pos = line_start + off;
            let orig = bytes[pos];
            let mut repls = vec![same_class(orig)];
            if pos % 3 == 0 {
                repls.push(extra[(pos / 3) % extra.len()]);
            }
            for repl in repls {
                if repl == orig {
                    continue;
                }
                checked += 1;
                let parsed = if off < lb.len() && repl != b'\n' {
                    // The line structure is unchanged: only this line's parse differs.
                    let mut m = lb.to_vec();
                    m[off] = repl;
                    match parse_strict(&m) {
                        Ok(v) if v.is_object() => {
                            let mut p = events.clone();
                            p[k] = v;
                            Some(p)
                        }
                        _ => None,
                    }
                } else {
                    let mut m = bytes.to_vec();
                    m[pos] = repl;
                    cra_core::trace::jsonl::from_jsonl(std::str::from_utf8(&m).unwrap()).ok()
                };
                match judge(parsed, &events, k + 2) {
                    Ok(None) => {}
                    Ok(Some((index, _))) if index == k => {}
                    Ok(Some((index, reason))) => failures.push(format!(
                        "byte {} ({:?} -> {:?}) on line {}: {}",
                        pos,
                        orig as char,
                        repl as char,
                        k,
                        if index == usize::MAX { "undetected".to_string() } else { format!("reported at {} ({})", index, reason) }
                    )),
                    Err(()) => failures.push(format!("byte {} ({:?} -> {:?}) gave the same events", pos, orig as char, repl as char)),
                }
            }
        }
        line_start += lb.len() + 1;
    }
    assert_eq!(line_start, bytes.len());
    assert!(checked > 5_000, "checked {} mutations", checked);
    assert!(
        failures.is_empty(),
        "{} of {} mutations misreported, e.g.:\n{}",
        failures.len(),
        checked,
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn sampled_byte_changes_are_detected_through_the_operations() {
    // The same property through the ABI operations (trace.from_jsonl, then trace.verify), on a sample of bytes.
    let (mut c, _sid, events) = tamper_trace();
    let text = c.ok("trace.to_jsonl", json!({ "events": events }))["text"].as_str().unwrap().to_string();
    let bytes = text.as_bytes();
    for pos in (0..bytes.len()).step_by(61) {
        let line = line_of(bytes, pos);
        let mut m = bytes.to_vec();
        m[pos] = same_class(bytes[pos]);
        let mutated = String::from_utf8(m).unwrap();
        let parsed = match c.call("trace.from_jsonl", json!({ "text": mutated })) {
            Err(e) => {
                assert_eq!(code(&e), "invalid_json", "byte {}", pos);
                continue;
            }
            Ok(v) => v["events"].as_array().unwrap().clone(),
        };
        let v = c.verify(&parsed);
        assert_eq!(v["valid"], false, "byte {} on line {} went undetected", pos, line);
        assert_eq!(v["index"], json!(line), "byte {} on line {}: {}", pos, line, v);
    }
}

#[test]
fn sequence_and_link_edits_are_reported_at_their_own_line() {
    let (mut c, _sid, events) = recorded_trace();
    for i in 1..events.len() {
        let mut ev = events.clone();
        ev[i]["sequence"] = json!(i + 1);
        let v = verdict(&mut c, &ev);
        assert_eq!(v, json!({"valid": false, "index": i, "reason": "sequence_gap", "detail": "missing_events"}), "sequence edit at {}", i);
        let mut ev = events.clone();
        ev[i]["previous_event_hash"] = ev[i]["event_hash"].clone();
        let v = verdict(&mut c, &ev);
        assert_eq!(v, json!({"valid": false, "index": i, "reason": "broken_link"}), "link edit at {}", i);
    }
}

#[test]
fn strict_parser_refuses_duplicate_keys_in_events() {
    let line = r#"{"trace_version":"1.0","trace_version":"1.0"}"#;
    assert!(parse_strict(line.as_bytes()).is_err());
    let mut c = Core::new();
    let e = c.err("trace.from_jsonl", json!({ "text": format!("{}\n", line) }));
    assert_eq!(code(&e), "invalid_json");
}


#[test]
fn runtime_events_at_sub_second_times_hash_per_spec() {
    // The stored form is always six digits; the hash rendering trims to 0/3/6 digits (SPEC §4.1).
    let mut c = Core::new();
    let mut all = Vec::new();
    let (sid, _) = c.session("agent", "times");
    for (i, offset) in [500_000i64, 123_456, 1_000, 1, 999_999, 10_000, 0].iter().enumerate() {
        let now = t0() + (i as i64 + 1) * SEC + offset;
        let out = c.ok_at("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "c", "message": "m"}}), now);
        let e = out["events"][0].clone();
        assert_eq!(e["timestamp"], json!(stamp(now)), "stored with six digits");
        all.push(e);
    }
    let first = c.session_events(&sid)[0].clone();
    let mut chain = vec![first];
    chain.extend(all.iter().cloned());
    check_chain(&chain);
    assert_eq!(all[0]["event_hash"].as_str().unwrap(), spec_hash(&all[0]));
    assert_eq!(c.verify(&chain)["valid"], true);
}

#[test]
fn non_ascii_and_control_characters_hash_as_raw_utf8() {
    let mut c = Core::new();
    let goal = "Grüße 😀 — «quotes» \"q\" back\\slash\nnew line\ttab \u{1} \u{7f} \u{2028}";
    let out = c.ok("session.create", json!({"agent_id": "agent-é", "goal": goal}));
    let e = out["events"][0].clone();
    assert_eq!(e["payload"]["goal"], goal);
    assert_eq!(e["event_hash"].as_str().unwrap(), spec_hash(&e), "hash over raw UTF-8 with minimal escaping");
    assert_eq!(c.verify(&[e])["valid"], true);
}

#[test]
fn malformed_sequence_written_as_a_float() {
    let mut c = Core::new();
    let mut ev = base_chain();
    ev[1]["sequence"] = json!(1.0);
    let v = verdict(&mut c, &ev);
    assert_eq!(v, json!({"valid": false, "index": 1, "reason": "malformed_event"}));
    // Through JSONL text as well: `1.0` is not the decimal sequence the hash is taken over.
    let text: String = base_chain().iter().map(|e| format!("{}\n", e)).collect::<String>().replacen("\"sequence\":1,", "\"sequence\":1.0,", 1);
    let parsed = c.ok("trace.from_jsonl", json!({ "text": text }))["events"].as_array().unwrap().clone();
    assert_eq!(verdict(&mut c, &parsed)["reason"], "malformed_event");
}
