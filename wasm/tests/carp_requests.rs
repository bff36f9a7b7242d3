//! CARP requests as the protocol's schema reads them (SPEC §2): `null` is a value of the wrong type except where
//! the schema allows it, in the nested and the flat form and in the execution block; RFC 3339 timestamps with any
//! number of fraction digits; and the pointers of execute errors, which name the request's own members.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

/// A runtime with one atlas, one session and one resolution: (core, session id, resolution id).
fn setup() -> (Core, String, String) {
    let mut c = Core::new();
    c.load(manifest("com.test.req", &["doc.read", "doc.write"], json!([allow("all", &["*"])])));
    let (sid, _) = c.session(AGENT, "requests");
    let rid = c.resolve(&sid, AGENT)["resolution_id"].as_str().unwrap().to_string();
    (c, sid, rid)
}

/// A nested request with every optional member given, so that each can be set to `null`.
fn nested(c: &mut Core, sid: &str, rid: &str, operation: &str) -> Value {
    let mut req = c.request(
        sid,
        AGENT,
        "read a document",
        json!({"risk_tier": "low", "context_hints": ["x"], "required_capabilities": []}),
        json!({"atlas_ids": ["com.test.req"], "context": {"k": "v"}, "operation": operation}),
    );
    if operation == "execute" {
        req["execution"] = json!({"resolution_id": rid, "action_id": "doc.read", "parameters": {}, "idempotency_key": "k-1"});
    }
    req
}

/// The same request in the flat form.
fn flat(c: &mut Core, sid: &str, rid: &str, operation: &str) -> Value {
    let mut req = json!({
        "carp_version": "1.0", "request_id": c.new_request_id(), "timestamp": stamp(c.now), "operation": operation,
        "session_id": sid, "agent_id": AGENT, "goal": "read a document", "risk_tier": "low", "context_hints": ["x"],
        "required_capabilities": [], "atlas_ids": ["com.test.req"], "context": {"k": "v"},
    });
    if operation == "execute" {
        req["execution"] = json!({"resolution_id": rid, "action_id": "doc.read", "parameters": {}, "idempotency_key": "k-1"});
    }
    req
}

fn set_null(req: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() { req } else { req.pointer_mut(parent).unwrap() };
    target.as_object_mut().unwrap().insert(key.to_string(), Value::Null);
}

#[test]
fn the_requests_are_accepted_as_built() {
    let (mut c, sid, rid) = setup();
    for op in ["resolve", "execute"] {
        let req = nested(&mut c, &sid, &rid, op);
        c.ok("carp.request", json!({ "request": req }));
        let req = flat(&mut c, &sid, &rid, op);
        c.ok("carp.request", json!({ "request": req }));
    }
}

#[test]
fn a_null_member_of_a_request_is_refused_like_any_wrong_type() {
    let nested_cases = [
        ("resolve", "/carp_version", "expected a string, found null"),
        ("resolve", "/request_id", "expected a string, found null"),
        ("resolve", "/timestamp", "expected a string, found null"),
        ("resolve", "/operation", "expected a string, found null"),
        ("resolve", "/atlas_ids", "expected an array, found null"),
        ("resolve", "/context", "expected an object, found null"),
        ("resolve", "/execution", "expected an object, found null"),
        ("resolve", "/requester", "expected an object, found null"),
        ("resolve", "/task", "expected an object, found null"),
        ("resolve", "/requester/agent_id", "expected a string, found null"),
        ("resolve", "/requester/session_id", "expected a string, found null"),
        ("resolve", "/task/goal", "expected a string, found null"),
        ("resolve", "/task/risk_tier", "expected a string, found null"),
        ("resolve", "/task/context_hints", "expected an array, found null"),
        ("resolve", "/task/required_capabilities", "expected an array, found null"),
        ("execute", "/execution/resolution_id", "expected a string, found null"),
        ("execute", "/execution/action_id", "expected a string, found null"),
        ("execute", "/execution/parameters", "`parameters` must be an object"),
    ];
    let (mut c, sid, rid) = setup();
    for (op, pointer, message) in nested_cases {
        let mut req = nested(&mut c, &sid, &rid, op);
        set_null(&mut req, pointer);
        let e = c.err("carp.request", json!({ "request": req }));
        assert_eq!((code(&e), path(&e), e["message"].as_str()), ("invalid_request", Some(format!("/request{}", pointer).as_str()), Some(message)), "nested {}", pointer);
    }
    let flat_cases = [
        ("resolve", "/carp_version", "expected a string, found null"),
        ("resolve", "/request_id", "expected a string, found null"),
        ("resolve", "/timestamp", "expected a string, found null"),
        ("resolve", "/operation", "expected a string, found null"),
        ("resolve", "/agent_id", "expected a string, found null"),
        ("resolve", "/session_id", "expected a string, found null"),
        ("resolve", "/goal", "expected a string, found null"),
        ("resolve", "/risk_tier", "expected a string, found null"),
        ("resolve", "/context_hints", "expected an array, found null"),
        ("resolve", "/required_capabilities", "expected an array, found null"),
        ("resolve", "/atlas_ids", "expected an array, found null"),
        ("resolve", "/context", "expected an object, found null"),
        ("resolve", "/execution", "expected an object, found null"),
        ("execute", "/execution/resolution_id", "expected a string, found null"),
        ("execute", "/execution/action_id", "expected a string, found null"),
    ];
    for (op, pointer, message) in flat_cases {
        let mut req = flat(&mut c, &sid, &rid, op);
        set_null(&mut req, pointer);
        let e = c.err("carp.request", json!({ "request": req }));
        assert_eq!((code(&e), path(&e), e["message"].as_str()), ("invalid_request", Some(format!("/request{}", pointer).as_str()), Some(message)), "flat {}", pointer);
    }
    // session.resolve reads the same request.
    let mut req = nested(&mut c, &sid, &rid, "resolve");
    set_null(&mut req, "/task/risk_tier");
    assert_eq!(path(&c.err("session.resolve", json!({ "request": req }))), Some("/request/task/risk_tier"));
}

#[test]
fn null_stays_absent_where_the_schema_allows_it() {
    let (mut c, sid, rid) = setup();
    for build in [nested, flat] {
        let mut req = build(&mut c, &sid, &rid, "execute");
        set_null(&mut req, "/execution/idempotency_key");
        let parent = if req.get("requester").is_some() { "/requester/parent_session_id" } else { "/parent_session_id" };
        set_null(&mut req, parent);
        let out = c.ok("carp.request", json!({ "request": req }));
        assert_eq!(out["execution"]["status"], "approved");
        assert!(out["execution"].get("idempotency_key").map_or(true, Value::is_null), "{}", out);
    }
    // Free-form values keep their nulls.
    let mut req = nested(&mut c, &sid, &rid, "resolve");
    req["context"] = json!({"k": null});
    c.ok("carp.request", json!({ "request": req }));
    let mut req = nested(&mut c, &sid, &rid, "execute");
    req["execution"]["parameters"] = json!({"doc_id": null});
    c.ok("carp.request", json!({ "request": req }));
}

#[test]
fn operation_inputs_still_read_null_as_absent() {
    let (mut c, sid, rid) = setup();
    let out = c.ok(
        "action.request",
        json!({"session_id": sid, "resolution_id": rid, "action_id": "doc.read", "parameters": {}, "idempotency_key": null, "schema_errors": null}),
    );
    assert_eq!(out["execution"]["status"], "approved");
    let out = c.ok("session.create", json!({"agent_id": AGENT, "goal": "g", "parent_session_id": null, "metadata": null}));
    assert!(out["session"]["session_id"].is_string());
    let req = nested(&mut c, &sid, &rid, "resolve");
    c.ok("carp.request", json!({"request": req, "compact_actions": null, "schema_errors": null}));
}

#[test]
fn timestamps_may_carry_any_number_of_fraction_digits() {
    let (mut c, sid, rid) = setup();
    let base = stamp(c.now);
    // `stamp` writes `…SS.ffffffZ`: add digits past the microsecond.
    let long = base.replace('Z', "123456789012Z");
    let mut req = nested(&mut c, &sid, &rid, "resolve");
    req["timestamp"] = json!(long);
    c.ok("carp.request", json!({ "request": req }));
    assert_eq!(base, "2024-12-28T12:00:00.000000Z");
    for bad in ["2024-12-28T12:00:00.Z", "2024-12-28 12:00:00.000000Z", "2024-12-28T12:00:60Z", "2024-12-28T12:00:00.123456789012"] {
        let mut req = nested(&mut c, &sid, &rid, "resolve");
        req["timestamp"] = json!(bad);
        let e = c.err("carp.request", json!({ "request": req }));
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/request/timestamp")), "{:?}: {}", bad, e);
    }
}

#[test]
fn execute_errors_point_at_the_members_of_the_input_that_carries_them() {
    let (mut c, sid, rid) = setup();
    let unknown = "00000000-0000-4000-8000-000000000000";
    // A CARP execute request: the members sit in `execution`.
    for build in [nested, flat] {
        let mut req = build(&mut c, &sid, &rid, "execute");
        req["execution"]["resolution_id"] = json!(unknown);
        let e = c.err("carp.request", json!({ "request": req }));
        assert_eq!((code(&e), path(&e)), ("resolution_not_found", Some("/request/execution/resolution_id")));
    }
    let mut req = nested(&mut c, &sid, &rid, "execute");
    req["execution"]["idempotency_key"] = json!("reused");
    c.ok("carp.request", json!({ "request": req }));
    let mut req = nested(&mut c, &sid, &rid, "execute");
    req["execution"]["idempotency_key"] = json!("reused");
    req["execution"]["action_id"] = json!("doc.write");
    let e = c.err("carp.request", json!({ "request": req }));
    assert_eq!((code(&e), path(&e)), ("idempotency_conflict", Some("/request/execution/idempotency_key")));
    // action.request: the members sit at the top of its input.
    let e = c.err("action.request", json!({"session_id": sid, "resolution_id": unknown, "action_id": "doc.read", "parameters": {}}));
    assert_eq!((code(&e), path(&e)), ("resolution_not_found", Some("/resolution_id")));
    let e = c.err(
        "action.request",
        json!({"session_id": sid, "resolution_id": rid, "action_id": "doc.write", "parameters": {}, "idempotency_key": "reused"}),
    );
    assert_eq!((code(&e), path(&e)), ("idempotency_conflict", Some("/idempotency_key")));
}

#[test]
fn the_context_budget_is_an_integer_every_json_reader_holds_exactly() {
    let (mut c, sid, rid) = setup();
    for (budget, ok) in [(json!(9_007_199_254_740_991i64), true), (json!(10_000_000_000_000_000i64), false), (json!(1e16), false), (json!(-1), false), (json!("x"), false)] {
        let mut req = nested(&mut c, &sid, &rid, "resolve");
        req["context"] = json!({ "max_context_tokens": budget.clone() });
        if ok {
            c.ok("carp.request", json!({ "request": req }));
        } else {
            let e = c.err("carp.request", json!({ "request": req }));
            assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/request/context/max_context_tokens")), "{}: {}", budget, e);
        }
    }
}

#[test]
fn a_refused_timestamp_says_why() {
    let (mut c, sid, rid) = setup();
    let day = &stamp(c.now)[..10];
    for (ts, cause) in [
        (format!("{} 00:00:00Z", day), "not a space"),
        (format!("{}T23:59:60Z", day), "leap second"),
        (format!("{}T00:00:00", day), "add the time zone"),
        (format!("{}T00:00:00+0000", day), "±HH:MM"),
    ] {
        let mut req = nested(&mut c, &sid, &rid, "resolve");
        req["timestamp"] = json!(ts);
        let e = c.err("carp.request", json!({ "request": req }));
        assert_eq!(path(&e), Some("/request/timestamp"), "{}", e);
        assert!(e["message"].as_str().unwrap().contains(cause), "{}: {}", ts, e);
    }
}
