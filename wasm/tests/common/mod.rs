//! Shared helpers for the integration tests: a runtime plus deterministic host, JSON helpers, small atlas
//! builders, an independent implementation of the TRACE hash (SPEC §4.1) and a small JSON Schema checker for
//! the subset of draft 2020-12 that the protocol's schemas use.
#![allow(dead_code)]

pub mod prop;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use cra_core::host::CountingHost;
use cra_core::json::sha256_hex;
use cra_core::time::{format_micros, parse_rfc3339};
use cra_core::Runtime;
use serde_json::{json, Map, Value};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every op name of the ABI (the core's own list, which `tests/abi_contract.rs` checks against `wasm/abi.json`).
pub const OPS: &[&str] = cra_core::runtime::OPERATIONS;

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures").join(rel)
}

pub fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(fixture_path(rel)).unwrap_or_else(|e| panic!("cannot read fixture {}: {}", rel, e))
}

pub fn fixture_json(rel: &str) -> Value {
    serde_json::from_str(&fixture_text(rel)).unwrap_or_else(|e| panic!("fixture {} is not JSON: {}", rel, e))
}

/// One of the protocol's JSON Schemas, as the package ships them (`schemas/` at the repository root).
pub fn schema_json(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read schema {}: {}", path.display(), e));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("schema {} is not JSON: {}", name, e))
}

pub fn fixture_jsonl(rel: &str) -> Vec<Value> {
    fixture_text(rel)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("fixture {} has a bad line: {}", rel, e)))
        .collect()
}

pub const OVERVIEW_MD: &str = "# Resources\n\nResources are records with an id, a name and free-form data.\n\
Read them with `resource.get` / `resource.list`; create and update them with `resource.create` / \
`resource.update`. Deleting is not permitted in the test environment.\n";

// ---------------------------------------------------------------------------------------------------------------
// Time

/// Microseconds since the epoch of an RFC 3339 date-time (panics on a bad literal: test bug).
pub fn us(s: &str) -> i64 {
    parse_rfc3339(s).unwrap_or_else(|| panic!("bad time literal {}", s))
}

pub const SEC: i64 = 1_000_000;

/// 2024-12-28T12:00:00Z, a Saturday: the golden case's time.
pub fn t0() -> i64 {
    us("2024-12-28T12:00:00Z")
}

pub fn stamp(now: i64) -> String {
    format_micros(now).expect("time in range")
}

// ---------------------------------------------------------------------------------------------------------------
// The runtime under test

pub fn envelope(out: &str) -> Result<Value, Value> {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("the core answered non-JSON ({}): {}", e, out));
    let m = v.as_object().unwrap_or_else(|| panic!("the envelope is not an object: {}", out));
    assert_eq!(m.len(), 1, "the envelope must have exactly one key: {}", out);
    if let Some(ok) = m.get("ok") {
        Ok(ok.clone())
    } else if let Some(err) = m.get("error") {
        Err(err.clone())
    } else {
        panic!("the envelope has neither ok nor error: {}", out)
    }
}

pub struct Core {
    pub rt: Runtime,
    pub host: CountingHost,
    pub now: i64,
    /// Every event returned by an operation, per session, in order.
    pub events: HashMap<String, Vec<Value>>,
    next_request: u64,
}

impl Core {
    pub fn new() -> Core {
        Core::with_prefix(0xa0000000)
    }

    pub fn with_prefix(prefix: u32) -> Core {
        Core { rt: Runtime::new(), host: CountingHost::new(prefix), now: t0(), events: HashMap::new(), next_request: 0 }
    }

    pub fn raw(&mut self, op: &str, input: &[u8], now: i64) -> String {
        self.rt.call(op, input, now as f64, &mut self.host)
    }

    pub fn call_at(&mut self, op: &str, input: &Value, now: i64) -> Result<Value, Value> {
        let bytes = serde_json::to_vec(input).unwrap();
        let out = self.raw(op, &bytes, now);
        let r = envelope(&out);
        if let Ok(ok) = &r {
            if op != "trace.replay" {
                if let Some(Value::Array(evs)) = ok.get("events") {
                    for e in evs {
                        let sid = e["session_id"].as_str().unwrap_or("").to_string();
                        self.events.entry(sid).or_default().push(e.clone());
                    }
                }
            }
        }
        if let Err(e) = &r {
            check_error_shape(e);
        }
        r
    }

    pub fn call(&mut self, op: &str, input: Value) -> Result<Value, Value> {
        let now = self.now;
        self.call_at(op, &input, now)
    }

    pub fn ok(&mut self, op: &str, input: Value) -> Value {
        match self.call(op, input.clone()) {
            Ok(v) => v,
            Err(e) => panic!("{} failed: {}\ninput: {}", op, e, input),
        }
    }

    pub fn ok_at(&mut self, op: &str, input: Value, now: i64) -> Value {
        match self.call_at(op, &input, now) {
            Ok(v) => v,
            Err(e) => panic!("{} failed: {}\ninput: {}", op, e, input),
        }
    }

    pub fn err(&mut self, op: &str, input: Value) -> Value {
        match self.call(op, input.clone()) {
            Ok(v) => panic!("{} succeeded where an error was expected: {}\ninput: {}", op, v, input),
            Err(e) => e,
        }
    }

    pub fn err_at(&mut self, op: &str, input: Value, now: i64) -> Value {
        match self.call_at(op, &input, now) {
            Ok(v) => panic!("{} succeeded where an error was expected: {}\ninput: {}", op, v, input),
            Err(e) => e,
        }
    }

    pub fn load(&mut self, manifest: Value) -> Value {
        self.ok("atlas.load", json!({ "manifest": manifest }))
    }

    pub fn load_with_files(&mut self, manifest: Value, files: Value) -> Value {
        self.ok("atlas.load", json!({ "manifest": manifest, "files": files }))
    }

    /// Creates a session; returns (session_id, handle).
    pub fn session(&mut self, agent: &str, goal: &str) -> (String, u32) {
        let out = self.ok("session.create", json!({"agent_id": agent, "goal": goal}));
        (out["session"]["session_id"].as_str().unwrap().to_string(), out["handle"].as_u64().unwrap() as u32)
    }

    pub fn new_request_id(&mut self) -> String {
        self.next_request += 1;
        // Distinct per host prefix, so that a second runtime never reuses a request id of a restored session.
        format!("{:08x}-0000-4000-8000-{:012x}", self.host.prefix ^ 0x0000beef, self.next_request)
    }

    /// A nested CARP resolve request at the current time; `task_extra` is merged into `task`, `extra` into the
    /// request.
    pub fn request(&mut self, sid: &str, agent: &str, goal: &str, task_extra: Value, extra: Value) -> Value {
        let mut task = json!({ "goal": goal });
        merge(&mut task, &task_extra);
        let mut req = json!({
            "carp_version": "1.0",
            "request_id": self.new_request_id(),
            "timestamp": stamp(self.now),
            "operation": "resolve",
            "requester": {"agent_id": agent, "session_id": sid},
            "task": task,
        });
        merge(&mut req, &extra);
        req
    }

    /// Resolves and returns the whole `{resolution, events}` result.
    pub fn resolve_full(&mut self, sid: &str, agent: &str, task_extra: Value, extra: Value) -> Value {
        let req = self.request(sid, agent, "do the work", task_extra, extra);
        self.ok("session.resolve", json!({ "request": req }))
    }

    pub fn resolve(&mut self, sid: &str, agent: &str) -> Value {
        self.resolve_full(sid, agent, json!({}), json!({}))["resolution"].clone()
    }

    pub fn resolve_with(&mut self, sid: &str, agent: &str, task_extra: Value, extra: Value) -> Value {
        self.resolve_full(sid, agent, task_extra, extra)["resolution"].clone()
    }

    pub fn action_handle(&mut self, action_id: &str) -> u32 {
        self.ok("action.handle", json!({ "action_id": action_id }))["handle"].as_u64().unwrap() as u32
    }

    pub fn check(&mut self, session_handle: u32, action_id: &str) -> i32 {
        let h = self.action_handle(action_id);
        let now = self.now;
        self.rt.check(session_handle, h, now as f64, &mut self.host)
    }

    pub fn check_at(&mut self, session_handle: u32, action_id: &str, now: i64) -> i32 {
        let h = self.action_handle(action_id);
        self.rt.check(session_handle, h, now as f64, &mut self.host)
    }

    /// `action.request`; returns `{execution, events}`.
    pub fn execute(&mut self, sid: &str, resolution_id: &str, action_id: &str, params: Value) -> Value {
        self.ok(
            "action.request",
            json!({"session_id": sid, "resolution_id": resolution_id, "action_id": action_id, "parameters": params}),
        )
    }

    pub fn complete(&mut self, sid: &str, execution_id: &str, result: Value) -> Value {
        self.ok("action.complete", json!({"session_id": sid, "execution_id": execution_id, "result": result}))
    }

    pub fn get_session(&mut self, sid: &str) -> Value {
        self.ok("session.get", json!({ "session_id": sid }))["session"].clone()
    }

    /// What must not change when an operation fails: the session's view (and the event list we hold).
    pub fn snapshot(&mut self, sid: &str) -> (Value, usize) {
        let s = self.get_session(sid);
        (s, self.events.get(sid).map(|v| v.len()).unwrap_or(0))
    }

    pub fn session_events(&self, sid: &str) -> Vec<Value> {
        self.events.get(sid).cloned().unwrap_or_default()
    }

    pub fn verify(&mut self, events: &[Value]) -> Value {
        self.ok("trace.verify", json!({ "events": events }))
    }
}

pub fn merge(target: &mut Value, extra: &Value) {
    if let (Some(t), Some(e)) = (target.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            t.insert(k.clone(), v.clone());
        }
    }
}

pub fn check_error_shape(e: &Value) {
    let m = e.as_object().unwrap_or_else(|| panic!("error is not an object: {}", e));
    let code = m.get("code").and_then(Value::as_str).unwrap_or_else(|| panic!("error without a code: {}", e));
    assert!(cra_core::ErrorCode::parse(code).is_some(), "error code `{}` is not one of the ABI's: {}", code, e);
    assert!(m.get("message").map(Value::is_string).unwrap_or(false), "error without a message: {}", e);
    match m.get("path") {
        None | Some(Value::Null) => {}
        Some(Value::String(p)) => assert!(p.is_empty() || p.starts_with('/'), "error path is not a JSON pointer: {}", e),
        Some(other) => panic!("error path must be a string or null, found {}", other),
    }
}

pub fn code(e: &Value) -> &str {
    e["code"].as_str().unwrap_or("")
}

pub fn path(e: &Value) -> Option<&str> {
    e["path"].as_str()
}

pub fn types(events: &Value) -> Vec<String> {
    events.as_array().map(|a| a.iter().map(|e| e["event_type"].as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

pub fn types_of(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["event_type"].as_str().unwrap_or("").to_string()).collect()
}

pub fn ids(list: &Value) -> Vec<String> {
    list.as_array().map(|a| a.iter().map(|x| x["action_id"].as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
}

pub fn allowed_ids(res: &Value) -> Vec<String> {
    ids(&res["allowed_actions"])
}

pub fn denied_ids(res: &Value) -> Vec<String> {
    ids(&res["denied_actions"])
}

pub fn denied_entry(res: &Value, action_id: &str) -> Value {
    res["denied_actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["action_id"] == action_id).cloned())
        .unwrap_or_else(|| panic!("{} is not in denied_actions: {}", action_id, res["denied_actions"]))
}

pub fn allowed_entry(res: &Value, action_id: &str) -> Value {
    res["allowed_actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["action_id"] == action_id).cloned())
        .unwrap_or_else(|| panic!("{} is not in allowed_actions: {}", action_id, res["allowed_actions"]))
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Atlas builders

pub fn action(id: &str) -> Value {
    json!({
        "action_id": id,
        "name": format!("Action {}", id),
        "description": format!("Does {}", id),
        "parameters_schema": {"type": "object"},
    })
}

pub fn action_tier(id: &str, tier: &str) -> Value {
    let mut a = action(id);
    a["risk_tier"] = json!(tier);
    a
}

/// A manifest with the given actions (ids or full objects) and policies.
pub fn manifest(atlas_id: &str, actions: &[&str], policies: Value) -> Value {
    let acts: Vec<Value> = actions.iter().map(|a| action(a)).collect();
    manifest_with(atlas_id, Value::Array(acts), policies)
}

pub fn manifest_with(atlas_id: &str, actions: Value, policies: Value) -> Value {
    json!({
        "atlas_version": "1.0",
        "atlas_id": atlas_id,
        "version": "1.0.0",
        "name": format!("Atlas {}", atlas_id),
        "description": "A test atlas",
        "actions": actions,
        "policies": policies,
    })
}

pub fn allow(id: &str, patterns: &[&str]) -> Value {
    json!({"policy_id": id, "type": "allow", "actions": patterns})
}

pub fn deny(id: &str, patterns: &[&str], reason: &str) -> Value {
    json!({"policy_id": id, "type": "deny", "actions": patterns, "reason": reason})
}

// ---------------------------------------------------------------------------------------------------------------
// An independent implementation of SPEC §4.1

/// RFC 8785 for the values the tests build (ASCII keys, integers, strings, bools, null, arrays, objects).
pub fn jcs(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            let parts: Vec<String> = sorted.iter().map(|(k, v)| format!("{}:{}", jcs_str(k), jcs(v))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(jcs).collect::<Vec<_>>().join(",")),
        Value::String(s) => jcs_str(s),
        other => other.to_string(),
    }
}

fn jcs_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// TS(timestamp) of SPEC §4.1 for stored forms `YYYY-MM-DDTHH:MM:SS[.f{3,6,9}](Z|+00:00)`.
pub fn ts_rendering(stored: &str) -> String {
    let base = &stored[..19];
    let rest = &stored[19..];
    let (frac, _zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (&r[..n], &r[n..])
        }
        None => ("", rest),
    };
    let mut nanos_str = frac.to_string();
    while nanos_str.len() < 9 {
        nanos_str.push('0');
    }
    let nanos: u64 = if frac.is_empty() { 0 } else { nanos_str.parse().unwrap() };
    let f = if nanos == 0 {
        String::new()
    } else if nanos % 1_000_000 == 0 {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos % 1000 == 0 {
        format!(".{:06}", nanos / 1000)
    } else {
        format!(".{:09}", nanos)
    };
    format!("{}{}+00:00", base, f)
}

/// event_hash of a JSON event per SPEC §4.1 (ignores the event's own `event_hash`).
pub fn spec_hash(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    let input = format!(
        "{}{}{}{}{}{}{}{}{}{}{}",
        s("trace_version"),
        s("event_id"),
        s("trace_id"),
        s("span_id"),
        e["parent_span_id"].as_str().unwrap_or(""),
        s("session_id"),
        e["sequence"].as_u64().expect("sequence"),
        ts_rendering(&s("timestamp")),
        s("event_type"),
        jcs(&e["payload"]),
        s("previous_event_hash"),
    );
    sha256_hex(input.as_bytes())
}

/// Re-hashes `events[from..]` in place, re-linking each to its predecessor (to build chains that are valid except
/// for one deliberate defect).
pub fn rehash_from(events: &mut [Value], from: usize) {
    for i in from..events.len() {
        if i > 0 {
            let prev = events[i - 1]["event_hash"].clone();
            events[i]["previous_event_hash"] = prev;
        }
        let h = spec_hash(&events[i]);
        events[i]["event_hash"] = json!(h);
    }
}

pub fn is_lower_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, exactly six fractional digits (what this runtime writes).
pub fn is_stored_micros(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 27
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            26 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// SPEC §4's table: the payload fields each event type carries at least.
pub fn required_payload(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "session.started" => &["agent_id", "goal"],
        "session.ended" => &["reason", "duration_ms"],
        "carp.request.received" => &["request_id", "operation", "goal", "atlas_ids"],
        "carp.resolution.completed" => &[
            "resolution_id",
            "request_id",
            "decision_type",
            "allowed_count",
            "denied_count",
            "context_block_count",
            "ttl_seconds",
        ],
        "carp.resolution.cached" => &["resolution_id", "cache_hit"],
        "context.injected" => &["block_id", "source", "content_type", "token_count", "priority"],
        "context.redacted" => &["block_id", "redaction_reason"],
        "policy.evaluated" => &["policy_id", "action_id", "result"],
        "policy.violated" => &["policy_id", "violation_type", "details"],
        "action.requested" => &["action_id", "resolution_id", "execution_id", "parameters_hash"],
        "action.approved" => &["action_id", "resolution_id", "execution_id"],
        "action.denied" => &["action_id", "reason", "policy_id"],
        "action.executed" => &["action_id", "execution_id", "duration_ms", "result_hash"],
        "action.failed" => &["action_id", "execution_id", "error_code", "error_message"],
        "error.occurred" => &["code", "message"],
        other => panic!("unknown event type {}", other),
    }
}

/// Checks an emitted event against the trace-event schema, SPEC §4's payload table, the stored timestamp form, the
/// payload rule of §4.1 (keys `[a-z0-9_]+`, integer numbers) and its own hash.
pub fn check_event(e: &Value) {
    let schema = schema_json("trace-event.schema.json");
    let errs = schema_errors(&schema, e);
    assert!(errs.is_empty(), "event does not match trace-event.schema.json: {:?}\n{}", errs, e);
    let t = e["event_type"].as_str().unwrap();
    for k in required_payload(t) {
        assert!(e["payload"].get(*k).is_some(), "{} payload lacks `{}`: {}", t, k, e["payload"]);
    }
    assert!(e.get("parent_span_id").is_some(), "parent_span_id must be present (null or uuid): {}", e);
    assert!(is_stored_micros(e["timestamp"].as_str().unwrap()), "timestamp is not ...SS.ffffffZ: {}", e["timestamp"]);
    payload_rule(&e["payload"], "/payload");
    assert_eq!(e["event_hash"].as_str().unwrap(), spec_hash(e), "event_hash is not SPEC §4.1's hash: {}", e);
}

fn payload_rule(v: &Value, at: &str) {
    match v {
        Value::Number(n) => assert!(n.is_i64() || n.is_u64(), "payload number at {} is not an integer: {}", at, n),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| payload_rule(x, &format!("{}/{}", at, i))),
        Value::Object(m) => {
            for (k, x) in m {
                assert!(
                    !k.is_empty() && k.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
                    "payload key `{}` at {} is not [a-z0-9_]+",
                    k,
                    at
                );
                payload_rule(x, &format!("{}/{}", at, k));
            }
        }
        _ => {}
    }
}

/// Checks a chain: every event well-formed, sequences 0.., links, one session and one trace id.
pub fn check_chain(events: &[Value]) {
    assert!(!events.is_empty());
    let mut prev = GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        check_event(e);
        assert_eq!(e["sequence"].as_u64(), Some(i as u64), "sequence of event {}", i);
        assert_eq!(e["previous_event_hash"].as_str().unwrap(), prev, "link of event {}", i);
        assert_eq!(e["session_id"], events[0]["session_id"], "session of event {}", i);
        assert_eq!(e["trace_id"], events[0]["trace_id"], "trace id of event {}", i);
        prev = e["event_hash"].as_str().unwrap().to_string();
    }
    assert_eq!(events[0]["event_type"], "session.started");
}

pub fn check_resolution(res: &Value) {
    let schema = schema_json("carp-resolution.schema.json");
    let errs = schema_errors(&schema, res);
    assert!(errs.is_empty(), "resolution does not match carp-resolution.schema.json: {:?}\n{}", errs, res);
}

// ---------------------------------------------------------------------------------------------------------------
// A small JSON Schema checker (type, const, enum, required, properties, additionalProperties, items, $ref into
// $defs, minimum, maximum, minLength, maxLength, format uuid/date-time, and the two patterns the schemas use for
// emitted values). Unknown keywords are ignored.

pub fn schema_errors(schema: &Value, v: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    check_schema(schema, schema, v, "", &mut errs);
    errs
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().map(|f| f.fract() == 0.0).unwrap_or(false),
        "number" => v.is_number(),
        _ => true,
    }
}

fn check_schema(root: &Value, s: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        match root["$defs"].get(name) {
            Some(d) => check_schema(root, d, v, at, errs),
            None => errs.push(format!("{}: unresolved $ref {}", at, r)),
        }
    }
    match s.get("type") {
        Some(Value::String(t)) => {
            if !type_ok(t, v) {
                errs.push(format!("{}: expected {}, found {}", at, t, v));
                return;
            }
        }
        Some(Value::Array(ts)) => {
            if !ts.iter().any(|t| t.as_str().map(|t| type_ok(t, v)).unwrap_or(false)) {
                errs.push(format!("{}: expected one of {:?}, found {}", at, ts, v));
                return;
            }
        }
        _ => {}
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errs.push(format!("{}: expected const {}, found {}", at, c, v));
        }
    }
    if let Some(Value::Array(e)) = s.get("enum") {
        if !e.contains(v) {
            errs.push(format!("{}: {} is not in {:?}", at, v, e));
        }
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            errs.push(format!("{}: {} < minimum {}", at, n, min));
        }
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if n > max {
            errs.push(format!("{}: {} > maximum {}", at, n, max));
        }
    }
    if let Value::String(text) = v {
        let n = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if n < min {
                errs.push(format!("{}: shorter than {}", at, min));
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if n > max {
                errs.push(format!("{}: longer than {}", at, max));
            }
        }
        match s.get("format").and_then(Value::as_str) {
            Some("uuid") if !is_lower_uuid(text) => errs.push(format!("{}: `{}` is not a lowercase uuid", at, text)),
            Some("date-time") if parse_rfc3339(text).is_none() => errs.push(format!("{}: `{}` is not a date-time", at, text)),
            _ => {}
        }
        match s.get("pattern").and_then(Value::as_str) {
            Some("^[a-f0-9]{64}$") if !is_hash(text) => errs.push(format!("{}: `{}` is not 64 hex", at, text)),
            Some("^[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)+$") if !is_dotted(text) => {
                errs.push(format!("{}: `{}` is not a dotted id", at, text))
            }
            _ => {}
        }
    }
    if let Value::Object(m) = v {
        if let Some(Value::Array(req)) = s.get("required") {
            for k in req.iter().filter_map(Value::as_str) {
                if !m.contains_key(k) {
                    errs.push(format!("{}: missing required `{}`", at, k));
                }
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, x) in m {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check_schema(root, ps, x, &format!("{}/{}", at, k), errs),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => errs.push(format!("{}: unexpected property `{}`", at, k)),
                    Some(ap @ Value::Object(_)) => check_schema(root, ap, x, &format!("{}/{}", at, k), errs),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(a), Some(items)) = (v, s.get("items")) {
        for (i, x) in a.iter().enumerate() {
            check_schema(root, items, x, &format!("{}/{}", at, i), errs);
        }
    }
}

fn is_dotted(s: &str) -> bool {
    let segs: Vec<&str> = s.split('.').collect();
    segs.len() >= 2
        && segs.iter().all(|seg| {
            let mut c = seg.chars();
            matches!(c.next(), Some(x) if x.is_ascii_lowercase()) && c.all(|x| x.is_ascii_lowercase() || x.is_ascii_digit())
        })
}

/// Compares `actual` with an expected value in which the string "$dynamic" matches anything (but the key must be
/// present) and the key "$comment" is ignored. Returns the JSON pointers that differ.
pub fn dynamic_diff(expected: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    if expected == "$dynamic" {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                if k == "$comment" {
                    continue;
                }
                match a.get(k) {
                    Some(av) => dynamic_diff(ev, av, &format!("{}/{}", at, k), out),
                    None => out.push(format!("{}/{} (missing)", at, k)),
                }
            }
            for k in a.keys() {
                if !e.contains_key(k) {
                    out.push(format!("{}/{} (unexpected)", at, k));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!("{} (length {} vs {})", at, e.len(), a.len()));
            }
            for (i, (ev, av)) in e.iter().zip(a.iter()).enumerate() {
                dynamic_diff(ev, av, &format!("{}/{}", at, i), out);
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            if x.as_f64() != y.as_f64() {
                out.push(format!("{} ({} vs {})", at, x, y));
            }
        }
        (e, a) => {
            if e != a {
                out.push(format!("{} ({} vs {})", at, e, a));
            }
        }
    }
}

pub fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {}", v))
}

/// The golden case's runtime: the conformance atlas loaded (with OVERVIEW_MD), its session created and the
/// request resolved at 2024-12-28T12:00:00Z. Returns (core, session_id, handle, resolution).
pub fn golden() -> (Core, String, u32, Value) {
    let mut c = Core::new();
    // Sessions keep their Merkle trees (`session.checkpoint` reads them); nothing else depends on it.
    c.ok("runtime.configure", json!({ "merkle_trees": true }));
    let atlas = fixture_json("conformance/simple-resolve/atlas.json");
    c.load_with_files(atlas, json!({ "context/overview.md": OVERVIEW_MD }));
    let req = fixture_json("conformance/simple-resolve/request.json");
    let created = c.ok(
        "session.create",
        json!({
            "agent_id": req["requester"]["agent_id"],
            "goal": req["task"]["goal"],
            "session_id": req["requester"]["session_id"],
        }),
    );
    let sid = created["session"]["session_id"].as_str().unwrap().to_string();
    let handle = created["handle"].as_u64().unwrap() as u32;
    let out = c.ok("session.resolve", json!({ "request": req }));
    (c, sid, handle, out["resolution"].clone())
}

pub const GOLDEN_AGENT: &str = "conformance-test-agent";
