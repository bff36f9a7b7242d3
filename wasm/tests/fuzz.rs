//! Robustness (ABI.md): any input to any operation answers one JSON envelope, never panics, and an error never
//! changes state. Seeded property tests (`common::prop`: `CRA_QC_SEED` fixes the seed, a failure prints it), plus a
//! long loop of cheap calls.

mod common;

use common::*;
use common::prop::{self, check, Arbitrary, Gen};
use serde_json::{json, Map, Value};
use cra_core::runtime::ATTACHMENT_OPS;

const AGENT: &str = "agent-1";

/// A runtime with state to break: the golden atlas plus a gated/limited atlas, two sessions, a resolution, an
/// approved execution, a pending one, and an ended session.
struct World {
    c: Core,
    sid: String,
    rid: String,
    approved: String,
    pending: String,
    ended: String,
    events: Vec<Value>,
}

fn fuzz_atlas() -> Value {
    json!({
        "atlas_version": "1.0", "atlas_id": "com.test.fuzz", "version": "1.0.0", "name": "Fuzz", "description": "d",
        "capabilities": [{"capability_id": "pay", "name": "Pay", "actions": ["pay.send"], "context_packs": ["p"]}],
        "context_packs": [{"pack_id": "p", "name": "P", "files": ["p.md"], "max_tokens": 5}],
        "actions": [action("pay.send"), action("pay.view")],
        "policies": [
            {"policy_id": "gate", "type": "require_approval", "actions": ["pay.send"]},
            {"policy_id": "rl", "type": "rate_limit", "actions": ["pay.*"], "parameters": {"max_calls": 3, "window_seconds": 60}},
            {"policy_id": "budget", "type": "budget", "actions": ["pay.view"], "parameters": {"max_calls": 2}},
            {"policy_id": "scope", "type": "scope", "actions": ["pay.send"], "parameters": {"max": {"amount": 10}}},
            allow("all", &["*"]),
        ],
    })
}

fn world() -> World {
    let (mut c, sid, _h, res) = golden();
    c.load_with_files(fuzz_atlas(), json!({"p.md": "pay pay pay pay pay pay pay pay pay pay pay"}));
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    let res2 = c.resolve_with(&sid, GOLDEN_AGENT, json!({}), json!({}));
    let rid2 = res2["resolution_id"].as_str().unwrap().to_string();
    let approved = c.execute(&sid, &rid, "resource.get", json!({"resource_id": "r"}))["execution"]["execution_id"].as_str().unwrap().to_string();
    let pending = c.execute(&sid, &rid2, "pay.send", json!({"amount": 3}))["execution"]["execution_id"].as_str().unwrap().to_string();
    let (ended, _) = c.session(AGENT, "ended");
    c.ok("session.end", json!({"session_id": ended}));
    let events = c.session_events(&sid);
    World { c, sid, rid, approved, pending, ended, events }
}

thread_local! {
    static SPARE: std::cell::RefCell<Option<World>> = std::cell::RefCell::new(None);
}

/// A fresh world, or the one the previous case left untouched (its call failed, so it did not change).
fn take_world() -> World {
    SPARE.with(|s| s.borrow_mut().take()).unwrap_or_else(world)
}

/// Keeps `w` for the next case when every call on it failed (an error changes nothing, as call_checked asserts).
fn keep_world(w: World, untouched: bool) {
    if untouched {
        SPARE.with(|s| *s.borrow_mut() = Some(w));
    }
}

/// Everything an error must leave untouched, as observed through the ABI.
fn state(c: &mut Core) -> String {
    let mut parts = Vec::new();
    for op in ["session.list", "atlas.list", "runtime.configure"] {
        parts.push(c.raw(op, b"{}", t0()));
    }
    let sessions = envelope(&c.raw("session.list", b"{}", t0())).unwrap();
    for s in sessions["sessions"].as_array().unwrap() {
        for a in ["resource.get", "resource.delete", "pay.send", "pay.view"] {
            let input = json!({"session_id": s["session_id"], "action_id": a});
            parts.push(c.raw("session.check", input.to_string().as_bytes(), t0()));
        }
    }
    parts.join("\n")
}

/// Calls `op` and asserts the ABI contract: one envelope, known error codes, no state change on error.
fn call_checked(w: &mut World, op: &str, input: &[u8], now: f64) -> Result<Value, Value> {
    let before = state(&mut w.c);
    let out = w.c.rt.call(op, input, now, &mut w.c.host);
    let r = envelope(&out);
    if let Err(e) = &r {
        check_error_shape(e);
        let after = state(&mut w.c);
        assert!(before == after, "{} failed with {} but changed the state\ninput: {}", op, e, String::from_utf8_lossy(input));
    }
    r
}

// ------------------------------------------------------------------------------------------------- random bytes

#[test]
fn random_bytes_to_every_op_answer_an_envelope() {
    fn prop((op, bytes): (u8, Vec<u8>)) {
        let mut w = take_world();
        let op = OPS[op as usize % OPS.len()];
        let r = call_checked(&mut w, op, &bytes, t0() as f64);
        // The operations that read a trace take an attachment after a NUL byte: their JSON is what comes before.
        let json = match bytes.iter().position(|&b| b == 0) {
            Some(i) if ATTACHMENT_OPS.contains(&op) => bytes.get(..i).unwrap_or_default(),
            _ => &bytes[..],
        };
        if serde_json::from_slice::<Value>(json).is_err() {
            match &r {
                Err(e) => assert_eq!(code(e), "invalid_json", "non-JSON input to {}", op),
                Ok(v) => panic!("{} accepted non-JSON input: {}", op, v),
            }
        }
        keep_world(w, r.is_err());
    }
    check("random_bytes_to_every_op_answer_an_envelope", 300, 64, prop);
}

#[test]
fn random_bytes_in_a_json_string_answer_an_envelope() {
    // Valid JSON framing, random content: reaches the per-op field checks.
    fn prop((op, key, text): (u8, u8, String)) {
        let mut w = take_world();
        let op = OPS[op as usize % OPS.len()];
        let k = KEYS[key as usize % KEYS.len()];
        let input = json!({ k: text }).to_string();
        let r = call_checked(&mut w, op, input.as_bytes(), t0() as f64);
        keep_world(w, r.is_err());
    }
    check("random_bytes_in_a_json_string_answer_an_envelope", 300, 40, prop);
}

#[test]
fn odd_host_times_answer_an_envelope() {
    let mut w = world();
    for now in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.5, 1e300, 2.6e17, -0.0, 0.0, 253_402_300_799_999_999.0, 253_402_300_800_000_000.0] {
        for op in OPS {
            let input = match *op {
                "session.create" => json!({"agent_id": AGENT, "goal": "g"}),
                "session.check" => json!({"session_id": w.sid, "action_id": "resource.get"}),
                _ => json!({}),
            };
            call_checked(&mut w, op, input.to_string().as_bytes(), now).ok();
        }
        let code = w.c.rt.check(1, 1, now, &mut w.c.host);
        assert!([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8].contains(&code), "cra_check answered {} at {}", code, now);
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let mut w = world();
    for depth in [127usize, 128, 129, 1_000, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for op in OPS {
            for inner in [&arrays, &objects] {
                call_checked(&mut w, op, inner.as_bytes(), t0() as f64).ok();
                let wrapped = format!("{{\"value\": {}, \"events\": {}, \"manifest\": {}}}", inner, inner, inner);
                call_checked(&mut w, op, wrapped.as_bytes(), t0() as f64).ok();
            }
        }
    }
}

#[test]
fn large_inputs_answer_an_envelope() {
    let mut w = world();
    let big = "x".repeat(2_000_000);
    for op in ["session.create", "atlas.load", "trace.from_jsonl", "canonical.hash", "trace.append"] {
        let input = json!({"agent_id": big, "goal": big, "manifest": {"atlas_id": big}, "text": big, "value": big,
            "session_id": w.sid, "event_type": "error.occurred", "payload": {"code": big, "message": "m"}});
        call_checked(&mut w, op, input.to_string().as_bytes(), t0() as f64).ok();
    }
    let many: Vec<Value> = (0..20_000).map(|i| json!(i)).collect();
    call_checked(&mut w, "trace.verify", json!({ "events": many }).to_string().as_bytes(), t0() as f64).ok();
    let diff_input = json!({"a": w.events, "b": many}).to_string();
    call_checked(&mut w, "trace.diff", diff_input.as_bytes(), t0() as f64).ok();
}

// ------------------------------------------------------------------------------------------------- JSON-level fuzzing

const KEYS: &[&str] = &[
    "manifest", "files", "replace", "atlas_id", "agent_id", "goal", "session_id", "parent_session_id", "metadata",
    "reason", "events", "expected_head", "length", "head_hash", "action_id", "request", "resolution_id",
    "parameters", "idempotency_key", "schema_errors", "execution_id", "approver", "approval_hash", "result",
    "duration_ms", "error_code", "error_message", "event_type", "payload", "a", "b", "text", "value",
    "default_decision", "max_context_tokens", "clock_skew_seconds", "default_ttl_seconds", "carp_version",
    "request_id", "timestamp", "operation", "requester", "task", "execution", "atlas_ids", "context",
    "risk_tier", "required_capabilities", "context_hints", "path", "message", "code", "x", "",
];

const STRINGS: &[&str] = &[
    "$SID", "$RID", "$EID", "$PENDING", "$ENDED", "$HEAD", "resource.get", "resource.delete", "pay.send", "pay.view",
    "com.cra.conformance.simple", "com.test.fuzz", "1.0", "2.0", "resolve", "execute", "validate", "allow", "deny",
    "low", "critical", "completed", "error.occurred", "session.started", "2024-12-28T12:00:00Z",
    "2024-12-28T12:00:00.000000Z", "1999-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000001",
    "00000000-0000-0000-0000-000000000100", "0000000000000000000000000000000000000000000000000000000000000000",
    "conformance-test-agent", "agent-1", "", " ", "*", "a*b", "../x", "\u{0}", "é", "\u{1F600}", "ABC", "null",
];

#[derive(Clone, Debug)]
struct JsonVal(Value);

fn gen_value(g: &mut Gen, depth: u32) -> Value {
    let kinds = if depth == 0 { 6 } else { 9 };
    match u32::arbitrary(g) % kinds {
        0 => Value::Null,
        1 => json!(bool::arbitrary(g)),
        2 => json!(*g.choose(&[0i64, 1, -1, 2, 3, 5, 60, 100, 3600, 86_401, i64::MAX, i64::MIN, 1 << 53])),
        3 => json!(*g.choose(&[0.5f64, -0.0, 1e300, 3.0, 1e-7, 2.5e15])),
        4 | 5 => {
            if bool::arbitrary(g) {
                json!(*g.choose(STRINGS))
            } else {
                json!(String::arbitrary(g))
            }
        }
        6 => {
            let n = usize::arbitrary(g) % 4;
            Value::Array((0..n).map(|_| gen_value(g, depth - 1)).collect())
        }
        _ => {
            let n = usize::arbitrary(g) % 5;
            let mut m = Map::new();
            for _ in 0..n {
                m.insert(g.choose(KEYS).to_string(), gen_value(g, depth - 1));
            }
            Value::Object(m)
        }
    }
}

impl Arbitrary for JsonVal {
    fn arbitrary(g: &mut Gen) -> Self {
        JsonVal(gen_value(g, 3))
    }
}

/// One edit of a JSON document: at the `at`-th node (in document order), do `kind` with `value`.
#[derive(Clone, Debug)]
struct Edit {
    at: u32,
    kind: u8,
    value: JsonVal,
    key: u8,
}

impl Arbitrary for Edit {
    fn arbitrary(g: &mut Gen) -> Self {
        Edit { at: u32::arbitrary(g), kind: u8::arbitrary(g), value: JsonVal::arbitrary(g), key: u8::arbitrary(g) }
    }
}

fn count_nodes(v: &Value) -> u32 {
    1 + match v {
        Value::Object(m) => m.values().map(count_nodes).sum(),
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        _ => 0,
    }
}

fn tweak(v: &Value) -> Value {
    match v {
        Value::String(s) if !s.is_empty() => {
            let mut t = s.to_uppercase();
            if t == *s {
                t.push('x');
            }
            json!(t)
        }
        Value::String(_) => json!("x"),
        Value::Number(n) => match n.as_i64() {
            Some(i) => json!(i.wrapping_add(1)),
            None => json!(0),
        },
        Value::Bool(b) => json!(!b),
        Value::Null => json!({}),
        Value::Array(a) => {
            let mut a = a.clone();
            a.reverse();
            a.push(Value::Null);
            Value::Array(a)
        }
        Value::Object(_) => json!([]),
    }
}

/// Applies `e` at node number `target` (counting from `*n`); returns true once applied.
fn apply(v: &mut Value, target: u32, n: &mut u32, e: &Edit) -> bool {
    if *n == target {
        match e.kind % 4 {
            0 => *v = e.value.0.clone(),
            1 => *v = tweak(v),
            2 => {
                if let Value::Object(m) = v {
                    m.insert(KEYS[e.key as usize % KEYS.len()].to_string(), e.value.0.clone());
                } else {
                    *v = e.value.0.clone();
                }
            }
            _ => match v {
                Value::Object(m) if !m.is_empty() => {
                    let k = m.keys().nth(e.key as usize % m.len()).cloned().unwrap();
                    m.remove(&k);
                }
                Value::Array(a) if !a.is_empty() => {
                    let i = e.key as usize % a.len();
                    a.remove(i);
                }
                _ => *v = Value::Null,
            },
        }
        return true;
    }
    *n += 1;
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                if apply(x, target, n, e) {
                    return true;
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                if apply(x, target, n, e) {
                    return true;
                }
            }
        }
        _ => {}
    }
    false
}

fn substitute(v: &mut Value, w: &World) {
    match v {
        Value::String(s) => {
            let r = match s.as_str() {
                "$SID" => Some(w.sid.clone()),
                "$RID" => Some(w.rid.clone()),
                "$EID" => Some(w.approved.clone()),
                "$PENDING" => Some(w.pending.clone()),
                "$ENDED" => Some(w.ended.clone()),
                "$HEAD" => w.events.last().and_then(|e| e["event_hash"].as_str()).map(str::to_string),
                _ => None,
            };
            if let Some(r) = r {
                *s = r;
            }
        }
        Value::Object(m) => m.values_mut().for_each(|x| substitute(x, w)),
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, w)),
        _ => {}
    }
}

/// A verifier key string (of a made-up public key) and a made-up signature: the core checks formats, never
/// signatures (the host does).
const KEY: &str = "cra+b5651ddf+AQcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";
const SIGNATURE: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
const EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A checkpoint of the world's whole trace, signed (by no real key) as `KEY`.
fn note_of(w: &World) -> String {
    use cra_core::proof::{keys::Verifier, merkle::root, note::*, tree::leaf_of};
    let leaves: Vec<_> = w.events.iter().map(|e| leaf_of(e["event_hash"].as_str().unwrap()).unwrap()).collect();
    let c = Checkpoint { origin: origin_of("cra", &w.sid), size: leaves.len() as u64, root: root(&leaves), time: None };
    let key = Verifier::parse(KEY).unwrap();
    SignedNote { body: c.body(), checkpoint: c, signatures: vec![Signature { name: key.name, key_id: key.key_id, signature: vec![0; 64] }] }.text()
}

/// A valid input for each op in the world `w`.
fn template(op: &str, w: &World) -> Value {
    let req = json!({
        "carp_version": "1.0", "request_id": "0000beef-0000-4000-8000-00000000f00d", "timestamp": "2024-12-28T12:00:00Z",
        "operation": "resolve", "requester": {"agent_id": GOLDEN_AGENT, "session_id": w.sid},
        "task": {"goal": "g", "risk_tier": "medium", "required_capabilities": ["resource.read", "pay"]},
        "atlas_ids": ["com.cra.conformance.simple", "com.test.fuzz"], "context": {"env": "x", "max_context_tokens": 100},
    });
    match op {
        "runtime.configure" => json!({"default_decision": "deny", "max_context_tokens": 8000, "clock_skew_seconds": 300, "default_ttl_seconds": 3600}),
        "runtime.stats" | "atlas.list" | "session.list" => json!({}),
        "atlas.validate" | "atlas.load" => json!({"manifest": fuzz_atlas(), "files": {"p.md": "text"}, "replace": true}),
        "atlas.unload" | "atlas.get" => json!({"atlas_id": "com.test.fuzz"}),
        "session.create" => json!({"agent_id": AGENT, "goal": "g", "session_id": "0000cafe-0000-4000-8000-000000000001", "metadata": {"k": 1}}),
        "session.get" | "session.forget" => json!({"session_id": w.sid}),
        "session.end" => json!({"session_id": w.sid, "reason": "cancelled"}),
        "session.restore" => json!({
            "events": w.events, "expected_head": {"length": w.events.len(), "head_hash": "$HEAD"},
            "synced_head": {"length": w.events.len(), "head_hash": "$HEAD"}, "session_id": "$SID",
        }),
        "session.check" => json!({"session_id": w.sid, "action_id": "pay.send"}),
        "carp.request" | "session.resolve" => json!({ "request": req }),
        "action.handle" => json!({"action_id": "pay.view"}),
        "action.get" => json!({"session_id": w.sid, "execution_id": w.approved}),
        "action.request" => json!({"session_id": w.sid, "resolution_id": w.rid, "action_id": "resource.get", "parameters": {"resource_id": "r"}, "idempotency_key": "k", "schema_errors": []}),
        "action.approve" => json!({"session_id": w.sid, "execution_id": w.pending, "approver": "alice"}),
        "action.deny" => json!({"session_id": w.sid, "execution_id": w.pending, "reason": "no"}),
        "action.complete" => json!({"session_id": w.sid, "execution_id": w.approved, "result": {"ok": true}, "duration_ms": 1}),
        "action.fail" => json!({"session_id": w.sid, "execution_id": w.approved, "error_code": "E", "error_message": "m"}),
        "trace.append" => json!({"session_id": w.sid, "event_type": "error.occurred", "payload": {"code": "c", "message": "m"}}),
        "trace.verify" => json!({"events": w.events, "expected_head": {"length": w.events.len(), "head_hash": "$HEAD"}}),
        "trace.diff" => json!({"a": w.events, "b": w.events[..3]}),
        "trace.replay" => json!({"events": w.events}),
        "trace.from_jsonl" => json!({"text": w.events.iter().map(|e| format!("{}\n", e)).collect::<String>()}),
        "trace.to_jsonl" => json!({"events": w.events}),
        "canonical.hash" => json!({"value": {"b": [1, "x", null], "a": 1.5}}),
        "session.checkpoint" => json!({"session_id": w.sid, "name": "cra"}),
        "checkpoint.body" => json!({"name": "cra", "session_id": w.sid, "size": 1, "root": EMPTY_ROOT}),
        "checkpoint.open" => json!({"note": note_of(w), "keys": [KEY]}),
        "checkpoint.sign" => json!({"body": note_of(w).split("\n\n").next().unwrap().to_string() + "\n", "key": KEY, "signature": SIGNATURE}),
        "key.parse" => json!({"key": KEY}),
        "key.format" => json!({"name": "cra", "public_key": "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", "seed": "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="}),
        "trace.tree" => json!({"events": w.events, "size": 2}),
        "trace.sync" => json!({"events": w.events[..2], "incoming": w.events[1..], "checkpoints": [note_of(w)]}),
        "proof.inclusion" => json!({"events": w.events, "index": 1}),
        "proof.consistency" => json!({"events": w.events, "first": 2}),
        "proof.verify" => json!({"proof": {"type": "consistency", "first": 0, "second": 0, "first_root": EMPTY_ROOT, "second_root": EMPTY_ROOT, "proof": []}}),
        "receipt.build" => json!({"events": w.events, "execution_id": w.approved, "checkpoint": note_of(w)}),
        "receipt.verify" => json!({"receipt": {"receipt_version": "1"}, "keys": [KEY]}),
        other => panic!("no template for {}", other),
    }
}

#[test]
fn every_template_input_is_accepted() {
    // The templates are valid: the fuzzing below starts from inputs that work.
    for op in OPS {
        let mut w = world();
        let mut t = template(op, &w);
        substitute(&mut t, &w);
        let r = w.c.call(op, t.clone());
        if *op == "session.restore" {
            assert_eq!(code(&r.unwrap_err()), "session_exists", "restore of a live session");
            continue;
        }
        assert!(r.is_ok(), "template of {} failed: {:?}", op, r);
    }
}

#[test]
fn json_edits_of_valid_inputs_never_break_the_contract() {
    fn prop((op, edits): (u8, Vec<Edit>)) {
        let mut w = take_world();
        let op = OPS[op as usize % OPS.len()];
        let mut input = template(op, &w);
        for e in edits.iter().take(4) {
            let total = count_nodes(&input);
            let mut n = 0;
            apply(&mut input, e.at % total, &mut n, e);
        }
        substitute(&mut input, &w);
        let r = call_checked(&mut w, op, input.to_string().as_bytes(), t0() as f64);
        keep_world(w, r.is_err());
    }
    check("json_edits_of_valid_inputs_never_break_the_contract", 600, 20, prop);
}

#[test]
fn random_json_objects_to_every_op_never_break_the_contract() {
    fn prop((op, fields): (u8, Vec<(u8, JsonVal)>)) {
        let mut w = take_world();
        let op = OPS[op as usize % OPS.len()];
        let mut m = Map::new();
        for (k, v) in fields.iter().take(6) {
            m.insert(KEYS[*k as usize % KEYS.len()].to_string(), v.0.clone());
        }
        let mut input = Value::Object(m);
        substitute(&mut input, &w);
        let r = call_checked(&mut w, op, input.to_string().as_bytes(), t0() as f64);
        keep_world(w, r.is_err());
    }
    check("random_json_objects_to_every_op_never_break_the_contract", 400, 12, prop);
}

// ------------------------------------------------------------------------------------------------- byte mutations

#[derive(Clone, Debug)]
enum ByteEdit {
    Flip(u32, u8),
    Insert(u32, u8),
    Delete(u32),
}

impl Arbitrary for ByteEdit {
    fn arbitrary(g: &mut Gen) -> Self {
        match u8::arbitrary(g) % 3 {
            0 => ByteEdit::Flip(u32::arbitrary(g), u8::arbitrary(g).max(1)),
            1 => ByteEdit::Insert(u32::arbitrary(g), *g.choose(b"{}[]\",:0\\ ax\x00\xff-.e")),
            _ => ByteEdit::Delete(u32::arbitrary(g)),
        }
    }
}

fn mutate(bytes: &mut Vec<u8>, edits: &[ByteEdit]) {
    for e in edits.iter().take(6) {
        if bytes.is_empty() {
            return;
        }
        match *e {
            ByteEdit::Flip(i, x) => {
                let i = i as usize % bytes.len();
                bytes[i] ^= x;
            }
            ByteEdit::Insert(i, b) => {
                let i = i as usize % (bytes.len() + 1);
                bytes.insert(i, b);
            }
            ByteEdit::Delete(i) => {
                let i = i as usize % bytes.len();
                bytes.remove(i);
            }
        }
    }
}

#[test]
fn byte_mutations_of_a_resolve_input_never_break_the_contract() {
    fn prop(edits: Vec<ByteEdit>) {
        let mut w = take_world();
        let mut input = template("session.resolve", &w);
        substitute(&mut input, &w);
        let mut bytes = serde_json::to_vec(&input).unwrap();
        mutate(&mut bytes, &edits);
        let r = call_checked(&mut w, "session.resolve", &bytes, t0() as f64);
        keep_world(w, r.is_err());
    }
    check("byte_mutations_of_a_resolve_input_never_break_the_contract", 400, 16, prop);
}

#[test]
fn byte_mutations_of_an_atlas_load_input_never_break_the_contract() {
    fn prop((edits, replace): (Vec<ByteEdit>, bool)) {
        let mut w = take_world();
        let mut input = template("atlas.load", &w);
        input["replace"] = json!(replace);
        let mut bytes = serde_json::to_vec(&input).unwrap();
        mutate(&mut bytes, &edits);
        let r = call_checked(&mut w, "atlas.load", &bytes, t0() as f64);
        keep_world(w, r.is_err());
    }
    check("byte_mutations_of_an_atlas_load_input_never_break_the_contract", 400, 16, prop);
}

#[test]
fn byte_mutations_of_the_golden_manifest_never_break_the_contract() {
    fn prop(edits: Vec<ByteEdit>) {
        let mut w = take_world();
        let input = json!({"manifest": fixture_json("conformance/simple-resolve/atlas.json"), "files": {"context/overview.md": OVERVIEW_MD}});
        let mut bytes = serde_json::to_vec(&input).unwrap();
        mutate(&mut bytes, &edits);
        let mut untouched = true;
        for op in ["atlas.validate", "atlas.load"] {
            untouched &= call_checked(&mut w, op, &bytes, t0() as f64).is_err() || op == "atlas.validate";
        }
        keep_world(w, untouched);
    }
    check("byte_mutations_of_the_golden_manifest_never_break_the_contract", 300, 16, prop);
}

#[test]
fn byte_mutations_of_a_trace_never_break_verify_or_restore() {
    fn prop(edits: Vec<ByteEdit>) {
        let mut w = take_world();
        let text: String = w.events.iter().map(|e| format!("{}\n", e)).collect();
        let mut bytes = text.into_bytes();
        mutate(&mut bytes, &edits);
        let text = String::from_utf8_lossy(&bytes).to_string();
        let parsed = call_checked(&mut w, "trace.from_jsonl", json!({ "text": text }).to_string().as_bytes(), t0() as f64);
        if let Ok(v) = parsed {
            let events = v["events"].clone();
            for op in ["trace.verify", "trace.replay", "trace.diff", "session.restore", "trace.to_jsonl"] {
                let input = if op == "trace.diff" { json!({"a": events, "b": w.events}) } else { json!({ "events": events }) };
                let r = call_checked(&mut w, op, input.to_string().as_bytes(), t0() as f64);
                if op == "session.restore" && r.is_ok() {
                    return; // a restored session changed the world: do not keep it
                }
            }
        }
        keep_world(w, true);
    }
    check("byte_mutations_of_a_trace_never_break_verify_or_restore", 200, 8, prop);
}

// ------------------------------------------------------------------------------------------------- long loop

#[test]
fn a_hundred_thousand_cheap_calls_complete() {
    let mut w = world();
    let vector = json!([{
        "trace_version": "1.0", "event_id": "01234567-89ab-cdef-0123-456789abcdef",
        "trace_id": "11111111-1111-1111-1111-111111111111", "span_id": "22222222-2222-2222-2222-222222222222",
        "parent_span_id": null, "session_id": "33333333-3333-3333-3333-333333333333", "sequence": 0,
        "timestamp": "2024-12-28T12:00:00.000000Z", "event_type": "session.started",
        "payload": {"agent_id": "test-agent", "goal": "Test session"},
        "event_hash": "3d71a7b30f84fadf986955467af6cabdbd180a61de5b14f4582cd3cdfbe57d2e",
        "previous_event_hash": GENESIS,
    }]);
    let verify_input = json!({ "events": vector }).to_string();
    let check_input = json!({"session_id": w.sid, "action_id": "resource.get"}).to_string();
    let sh = envelope(&w.c.raw("session.get", json!({"session_id": w.sid}).to_string().as_bytes(), t0())).unwrap()["handle"].as_u64().unwrap() as u32;
    let ah = w.c.action_handle("resource.get");
    let before = state(&mut w.c);
    let now = t0() as f64;
    for i in 0..100_000u32 {
        match i % 4 {
            0 => assert_eq!(w.c.rt.check(sh, ah, now, &mut w.c.host), 1),
            1 => {
                let out = w.c.rt.call("session.check", check_input.as_bytes(), now, &mut w.c.host);
                assert!(out.starts_with("{\"ok\":"), "{}", out);
            }
            2 => {
                let out = w.c.rt.call("trace.verify", verify_input.as_bytes(), now, &mut w.c.host);
                assert!(out.contains("\"valid\":true"), "{}", out);
            }
            _ => {
                let out = w.c.rt.call("runtime.stats", b"{}", now, &mut w.c.host);
                assert!(out.starts_with("{\"ok\":"), "{}", out);
            }
        }
    }
    assert_eq!(state(&mut w.c), before, "cheap calls change nothing");
}

// ------------------------------------------------------------------------------------------------- a failing host

/// A host whose `fail_at`-th id (1-based) is not a lowercase UUID.
struct FlakyHost {
    inner: cra_core::host::CountingHost,
    calls: u64,
    fail_at: u64,
    bad: &'static str,
}

impl cra_core::host::Host for FlakyHost {
    fn new_id(&mut self) -> String {
        self.calls += 1;
        if self.calls == self.fail_at {
            self.bad.to_string()
        } else {
            self.inner.new_id()
        }
    }

    fn tz_offset_minutes(&mut self, zone: &str, epoch_secs: i64) -> Option<i32> {
        self.inner.tz_offset_minutes(zone, epoch_secs)
    }
}

#[test]
fn a_bad_host_id_at_any_point_fails_closed_and_changes_nothing() {
    let bads = ["", "not-a-uuid", "A0000000-0000-7000-8000-000000000001", "a0000000-0000-7000-8000-00000000000g", "a0000000000070008000000000000001"];
    for (k, bad) in bads.iter().enumerate() {
        for fail_at in 1..=12u64 {
            let mut w = take_world();
            let sid = w.sid.clone();
            let req = json!({"carp_version": "1.0", "request_id": format!("0000f00d-0000-4000-8000-{:012x}", fail_at * 10 + k as u64),
                "timestamp": "2024-12-28T12:00:00Z", "operation": "resolve",
                "requester": {"agent_id": GOLDEN_AGENT, "session_id": sid}, "task": {"goal": "g"}});
            let inputs = [
                ("session.create", json!({"agent_id": AGENT, "goal": "g"})),
                ("session.resolve", json!({ "request": req })),
                ("action.request", json!({"session_id": sid, "resolution_id": w.rid, "action_id": "resource.get", "parameters": {}})),
                ("action.request", json!({"session_id": sid, "resolution_id": w.rid, "action_id": "resource.delete", "parameters": {}})),
                ("action.approve", json!({"session_id": sid, "execution_id": w.pending})),
                ("action.complete", json!({"session_id": sid, "execution_id": w.approved, "result": 1})),
                ("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "c", "message": "m"}})),
                ("session.end", json!({"session_id": sid})),
            ];
            let mut untouched = true;
            for (op, input) in inputs.iter() {
                let before = state(&mut w.c);
                let mut host = FlakyHost { inner: cra_core::host::CountingHost::new(0xf0000000 + fail_at as u32 * 16 + k as u32), calls: 0, fail_at, bad };
                let out = w.c.rt.call(op, input.to_string().as_bytes(), t0() as f64, &mut host);
                match envelope(&out) {
                    Err(e) => {
                        check_error_shape(&e);
                        if host.calls >= fail_at {
                            assert_eq!(code(&e), "host_id_invalid", "{} with a bad id #{}: {}", op, fail_at, e);
                        }
                        assert!(state(&mut w.c) == before, "{} failed ({}) but changed the state", op, e);
                    }
                    Ok(v) => {
                        assert!(host.calls < fail_at, "{} used the bad id #{} ({:?}) and succeeded: {}", op, fail_at, bad, v);
                        untouched = false;
                        break; // the world changed: take a fresh one for the next input
                    }
                }
            }
            keep_world(w, untouched);
        }
    }
}

// ------------------------------------------------------------------------------------------------- the seed

#[test]
fn seeded_generation_is_reproducible() {
    let draw = |seed| {
        let mut g = Gen::new(seed, 16);
        (0..50).map(|_| g.gen::<(u8, Vec<u32>, String)>()).collect::<Vec<_>>()
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
    assert_eq!(prop::parse_seed("0x1F"), Some(31));
    assert_eq!(prop::parse_seed(" 42 "), Some(42));
    assert_eq!(prop::parse_seed("x"), None);
}

/// Fails on purpose, but only when `CRA_QC_PLANTED` is set: the next test runs it in a child process.
#[test]
fn planted_property_failure() {
    if std::env::var_os("CRA_QC_PLANTED").is_none() {
        return;
    }
    check("planted_property_failure", 100, 16, |bytes: Vec<u8>| assert!(bytes.len() < 4, "planted failure"));
}

#[test]
fn a_failing_property_prints_its_seed_and_how_to_run_it_again() {
    let run = |seed: &str| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["planted_property_failure", "--exact", "--test-threads=1"])
            .env("CRA_QC_PLANTED", "1")
            .env(prop::SEED_VAR, seed)
            .output()
            .unwrap();
        assert!(!out.status.success(), "the planted property fails");
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let text = run("12345");
    assert!(text.contains("property `planted_property_failure` failed on case"), "{}", text);
    assert!(text.contains("seed 12345"), "{}", text);
    assert!(text.contains("CRA_QC_SEED=12345 cargo test --test fuzz planted_property_failure"), "{}", text);
    // The same seed fails on the same case with the same input.
    let report = |t: &str| t.lines().filter(|l| l.starts_with("property `") || l.starts_with("input: ")).collect::<Vec<_>>().join("\n");
    assert_eq!(report(&run("0x3039")), report(&text), "0x3039 is 12345");
    assert_ne!(report(&run("54321")), "", "another seed fails too (on its own case)");
}
