//! `session.restore` and `trace.verify` take a trace as `events` (an array) or as `jsonl` (its JSONL text, read as
//! `trace.from_jsonl` reads it): both give the same answers, errors about event `i` included (`/events/<i>`).
//! A JSONL text that cannot be read is refused at `/jsonl`, with its line number.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

fn atlas() -> Value {
    manifest(
        "com.test.jsonl",
        &["doc.read", "pay.send"],
        json!([allow("docs", &["doc.*"]), {"policy_id": "gate", "type": "require_approval", "actions": ["pay.send"]}]),
    )
}

/// A finished session's trace: resolve, a completed read, an approved payment, the end.
fn trace() -> Vec<Value> {
    let mut c = Core::new();
    c.load(atlas());
    let (sid, _) = c.session(AGENT, "read and pay");
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    let x = c.execute(&sid, &rid, "doc.read", json!({"id": 1}))["execution"]["execution_id"].as_str().unwrap().to_string();
    c.complete(&sid, &x, json!({"text": "é ünïcode \u{1F600}"}));
    let x = c.execute(&sid, &rid, "pay.send", json!({"amount": 3}))["execution"]["execution_id"].as_str().unwrap().to_string();
    c.ok("action.approve", json!({"session_id": sid, "execution_id": x}));
    c.ok("session.end", json!({"session_id": sid}));
    c.session_events(&sid)
}

fn jsonl(events: &[Value]) -> String {
    events.iter().map(|e| format!("{}\n", serde_json::to_string(e).unwrap())).collect()
}

/// The raw answers of `op` given `events` as an array and as JSONL (with `extra` members), each in a new runtime.
fn both(op: &str, events: &[Value], extra: Value) -> (String, String) {
    let run = |trace: (&str, Value)| {
        let mut c = Core::with_prefix(0xb0000000);
        c.load(atlas());
        let mut input = json!({});
        input[trace.0] = trace.1;
        merge(&mut input, &extra);
        c.raw(op, &serde_json::to_vec(&input).unwrap(), t0() + 3600 * SEC)
    };
    (run(("events", json!(events))), run(("jsonl", json!(jsonl(events)))))
}

/// Every kind of invalid chain, with the reason `trace.verify` gives it.
fn damaged() -> Vec<(&'static str, Vec<Value>)> {
    let good = trace();
    let mut out = Vec::new();
    let mut e = good.clone();
    e[2]["extra"] = json!(1);
    out.push(("malformed_event", e));
    let mut e = good.clone();
    e[3] = json!(42);
    out.push(("malformed_event", e));
    out.push(("bad_genesis", good[1..].to_vec()));
    let mut e = good.clone();
    e.remove(3);
    out.push(("sequence_gap", e));
    let mut e = good.clone();
    e.insert(3, good[2].clone());
    out.push(("sequence_gap", e));
    let mut e = good.clone();
    e.insert(4, good[1].clone());
    out.push(("sequence_gap", e));
    let mut e = good.clone();
    e[2]["previous_event_hash"] = json!("1".repeat(64));
    out.push(("broken_link", e));
    let mut e = good.clone();
    e[2]["payload"]["extra"] = json!("x");
    out.push(("hash_mismatch", e));
    let mut e = good.clone();
    e[2]["session_id"] = json!("33333333-3333-4333-8333-333333333333");
    rehash_from(&mut e, 2);
    out.push(("session_mismatch", e));
    out
}

#[test]
fn verify_answers_the_same_for_events_and_jsonl_valid_or_not() {
    let good = trace();
    let (a, b) = both("trace.verify", &good, json!({}));
    assert_eq!(a, b);
    assert_eq!(envelope(&a).unwrap()["valid"], true);
    let head = envelope(&a).unwrap();
    let wrong_head = json!({"expected_head": {"length": head["length"].as_u64().unwrap() - 1, "head_hash": head["head_hash"]}});
    let (a, b) = both("trace.verify", &good, wrong_head);
    assert_eq!(a, b);
    assert_eq!(envelope(&a).unwrap()["reason"], "head_mismatch");
    for (reason, events) in damaged() {
        let (a, b) = both("trace.verify", &events, json!({}));
        assert_eq!(a, b, "{}", reason);
        assert_eq!(envelope(&a).unwrap()["reason"], reason, "{}", a);
    }
}

#[test]
fn restore_answers_the_same_for_events_and_jsonl_valid_or_not() {
    let good = trace();
    let (a, b) = both("session.restore", &good, json!({"owner": "tenant-a"}));
    assert_eq!(a, b);
    assert_eq!(envelope(&a).unwrap()["session"]["status"], "ended", "{}", a);
    for (reason, events) in damaged() {
        let (a, b) = both("session.restore", &events, json!({}));
        assert_eq!(a, b, "{}", reason);
        let e = envelope(&a).unwrap_err();
        assert_eq!(code(&e), "trace_invalid");
        assert!(path(&e).unwrap().starts_with("/events/"), "{}", e);
        assert!(e["message"].as_str().unwrap().contains(reason), "{}", e);
    }
}

#[test]
fn jsonl_that_cannot_be_read_is_refused_at_jsonl_with_its_line() {
    let text = jsonl(&trace());
    let mut c = Core::new();
    c.load(atlas());
    let torn = &text[..text.len() - 1];
    let not_json = text.replacen("\n{", "\n{]", 1);
    for (label, bad, line) in [("torn", torn.to_string(), text.lines().count()), ("not JSON", not_json, 2)] {
        for op in ["session.restore", "trace.verify"] {
            let e = c.err(op, json!({ "jsonl": bad }));
            assert_eq!((code(&e), path(&e)), ("invalid_json", Some("/jsonl")), "{} {}", label, op);
            assert!(e["message"].as_str().unwrap().starts_with(&format!("line {}: ", line)), "{} {}: {}", label, op, e);
        }
    }
    assert!(c.ok("session.list", json!({}))["sessions"].as_array().unwrap().is_empty(), "nothing was restored");
}

#[test]
fn a_trace_is_given_once_as_events_or_as_jsonl() {
    let events = trace();
    let mut c = Core::new();
    c.load(atlas());
    for op in ["session.restore", "trace.verify"] {
        let e = c.err(op, json!({}));
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/events")), "{}", op);
        let e = c.err(op, json!({"events": events, "jsonl": jsonl(&events)}));
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/events")), "{}", op);
        let e = c.err(op, json!({"jsonl": 42}));
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/jsonl")), "{}", op);
    }
    assert_eq!(c.ok("trace.verify", json!({"jsonl": ""}))["valid"], true, "no events: an empty chain, as `events: []`");
    let e = c.err("session.restore", json!({"jsonl": ""}));
    assert_eq!(path(&e), Some("/events"), "{}", e);
    let e = c.err("trace.replay", json!({"jsonl": jsonl(&events)}));
    assert_eq!(code(&e), "invalid_request", "replay takes events only");
}

/// The JSONL may follow the JSON input after a NUL byte, as raw UTF-8: the same answers as `jsonl`, valid or not.
#[test]
fn an_attached_jsonl_reads_as_the_jsonl_member() {
    let attached = |op: &str, json: Value, text: &[u8]| {
        let mut c = Core::with_prefix(0xb0000000);
        c.load(atlas());
        let mut input = serde_json::to_vec(&json).unwrap();
        input.push(0);
        input.extend_from_slice(text);
        c.raw(op, &input, t0() + 3600 * SEC)
    };
    let good = trace();
    for op in ["trace.verify", "session.restore"] {
        let (_, as_member) = both(op, &good, json!({}));
        assert_eq!(attached(op, json!({}), jsonl(&good).as_bytes()), as_member, "{}", op);
        for (reason, events) in damaged() {
            let (_, as_member) = both(op, &events, json!({}));
            assert_eq!(attached(op, json!({}), jsonl(&events).as_bytes()), as_member, "{} {}", op, reason);
        }
        let torn = jsonl(&good);
        let e = envelope(&attached(op, json!({}), torn[..torn.len() - 1].as_bytes())).unwrap_err();
        assert_eq!((code(&e), path(&e)), ("invalid_json", Some("/jsonl")), "{}", op);
        let e = envelope(&attached(op, json!({}), &[0xff, 0xfe, b'\n'])).unwrap_err();
        assert_eq!((code(&e), path(&e)), ("invalid_json", Some("/jsonl")), "{}", op);
        let e = envelope(&attached(op, json!({"jsonl": ""}), jsonl(&good).as_bytes())).unwrap_err();
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/jsonl")), "{}", op);
    }
    let e = envelope(&attached("trace.from_jsonl", json!({}), jsonl(&good).as_bytes())).unwrap_err();
    assert_eq!(code(&e), "invalid_json", "only the operations that read a trace take one: a NUL is not JSON");
    let e = envelope(&attached("trace.verify", json!({}), b"")).unwrap();
    assert_eq!(e["valid"], true, "an empty attachment is an empty trace");
}

/// `synced_head`: a store's last durable head. A valid chain must contain it; it may hold more events after it.
#[test]
fn verify_checks_the_synced_head_as_a_prefix() {
    let events = trace();
    let n = events.len();
    let head = |i: usize| json!({"length": i + 1, "head_hash": events[i]["event_hash"]});
    let mut c = Core::new();
    let verdict = |c: &mut Core, evs: &[Value], synced: Value| c.ok("trace.verify", json!({"jsonl": jsonl(evs), "synced_head": synced}));
    // The whole chain, or a longer chain than was synced: valid.
    assert_eq!(verdict(&mut c, &events, head(n - 1))["valid"], json!(true));
    assert_eq!(verdict(&mut c, &events, head(2))["valid"], json!(true));
    // Cut below the synced head: head_mismatch at the first event it lacks.
    assert_eq!(verdict(&mut c, &events[..3], head(n - 1)), json!({"valid": false, "index": 3, "reason": "head_mismatch"}));
    // As long, but another chain at the synced length: head_mismatch at that event.
    let other = json!({"length": 3, "head_hash": events[1]["event_hash"]});
    assert_eq!(verdict(&mut c, &events, other), json!({"valid": false, "index": 2, "reason": "head_mismatch"}));
    // A chain that does not verify keeps its own verdict.
    let mut bad = events.clone();
    bad[1]["payload"]["goal"] = json!("x");
    assert_eq!(verdict(&mut c, &bad, head(n - 1))["reason"], json!("hash_mismatch"));
}

/// `runtime.stats` names the longest rate-limit window shared across sessions (scope agent or global).
#[test]
fn stats_name_the_longest_shared_window() {
    let limit = |id: &str, window: u64, scope: &str| {
        json!({"policy_id": id, "type": "rate_limit", "actions": ["*"], "parameters": {"max_calls": 5, "window_seconds": window, "scope": scope}})
    };
    let mut c = Core::new();
    assert_eq!(c.ok("runtime.stats", json!({}))["shared_window_seconds"], json!(0));
    c.load(manifest("com.test.one", &["doc.read"], json!([allow("docs", &["doc.*"]), limit("s", 9000, "session"), limit("a", 120, "agent")])));
    assert_eq!(c.ok("runtime.stats", json!({}))["shared_window_seconds"], json!(120));
    c.load(manifest("com.test.two", &["mail.send"], json!([allow("mail", &["mail.*"]), limit("g", 600, "global")])));
    assert_eq!(c.ok("runtime.stats", json!({}))["shared_window_seconds"], json!(600));
    c.ok("atlas.unload", json!({"atlas_id": "com.test.two"}));
    assert_eq!(c.ok("runtime.stats", json!({}))["shared_window_seconds"], json!(120));
}
