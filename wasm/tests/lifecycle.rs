//! Sessions and the action lifecycle (SPEC §2, §4, §6; ABI.md): request → approve/deny → executed/failed, request
//! checks, errors that change nothing, determinism, restore, replay and diff.

mod common;

use common::*;
use cra_core::json::{canonical_hash, sha256_hex};
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

fn docs_atlas() -> Value {
    manifest(
        "com.test.docs",
        &["doc.read", "doc.write", "doc.delete", "pay.send"],
        json!([
            allow("allow-docs", &["doc.*"]),
            deny("deny-delete", &["doc.delete"], "documents are kept"),
            {"policy_id": "approve-pay", "type": "require_approval", "actions": ["pay.send"], "reason": "a human signs payments"},
        ]),
    )
}

struct Fx {
    c: Core,
    sid: String,
    handle: u32,
    rid: String,
}

fn fx() -> Fx {
    let mut c = Core::new();
    c.load(docs_atlas());
    let (sid, handle) = c.session(AGENT, "manage documents");
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    Fx { c, sid, handle, rid }
}

impl Fx {
    fn request(&mut self, action_id: &str, params: Value) -> Value {
        let (sid, rid) = (self.sid.clone(), self.rid.clone());
        self.c.execute(&sid, &rid, action_id, params)
    }

    fn exec_id(out: &Value) -> String {
        out["execution"]["execution_id"].as_str().unwrap().to_string()
    }

    /// Runs `op` expecting error `code`, and asserts the session did not change.
    fn refused(&mut self, op: &str, input: Value, expected: &str) -> Value {
        let sid = self.sid.clone();
        refused_on(&mut self.c, &sid, op, input, expected)
    }
}

fn refused_on(c: &mut Core, sid: &str, op: &str, input: Value, expected: &str) -> Value {
    let before = c.snapshot(sid);
    let e = c.err(op, input);
    assert_eq!(code(&e), expected, "{} refused with {}", op, e);
    assert_eq!(c.snapshot(sid), before, "a refused {} ({}) changed the session", op, expected);
    e
}

fn span_of(events: &[Value], event_type: &str) -> Value {
    events.iter().find(|e| e["event_type"] == event_type).map(|e| e["span_id"].clone()).unwrap()
}

// ------------------------------------------------------------------------------------------------- the happy path

#[test]
fn request_on_an_allowed_action_is_approved() {
    let mut f = fx();
    let params = json!({"doc_id": "d-1", "fields": ["title", "body"]});
    let out = f.request("doc.read", params.clone());
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.approved"]));
    let x = &out["execution"];
    assert_eq!(x["status"], "approved");
    for k in ["execution_id", "session_id", "resolution_id", "action_id", "status", "parameters_hash", "approval_hash", "reason", "policy_id", "created_at"] {
        assert!(x.get(k).is_some(), "Execution has `{}`: {}", k, x);
    }
    assert!(is_lower_uuid(x["execution_id"].as_str().unwrap()));
    assert_eq!(x["session_id"], json!(f.sid));
    assert_eq!(x["resolution_id"], json!(f.rid));
    let ph = sha256_hex(jcs(&params).as_bytes());
    assert_eq!(x["parameters_hash"], json!(ph), "parameters_hash = SHA-256 of the canonical parameters");
    let req = &out["events"][0]["payload"];
    assert_eq!(req["action_id"], "doc.read");
    assert_eq!(req["resolution_id"], json!(f.rid));
    assert_eq!(req["execution_id"], x["execution_id"]);
    assert_eq!(req["parameters_hash"], json!(ph));
    assert!(req.get("doc_id").is_none() && req.get("parameters").is_none(), "raw parameters are not stored");
    let ok = &out["events"][1]["payload"];
    assert_eq!(ok["execution_id"], x["execution_id"]);
    assert_eq!(ok["resolution_id"], json!(f.rid));
    for e in out["events"].as_array().unwrap() {
        check_event(e);
    }
    let s = f.c.get_session(&f.sid);
    assert_eq!(s["action_count"], 1);
    check_chain(&f.c.session_events(&f.sid));
}

#[test]
fn execution_events_nest_under_the_request_span() {
    let mut f = fx();
    let out = f.request("doc.read", json!({}));
    let events = f.c.session_events(&f.sid);
    let request_span = span_of(&events, "carp.request.received");
    assert_eq!(out["events"][0]["parent_span_id"], request_span, "action.requested is a child of the request that resolved it");
    assert_eq!(out["events"][1]["parent_span_id"], out["events"][0]["span_id"], "action.approved is a child of action.requested");
    let id = Fx::exec_id(&out);
    let done = f.c.complete(&f.sid, &id, json!({}));
    assert_eq!(done["events"][0]["parent_span_id"], out["events"][0]["span_id"]);
}

#[test]
fn complete_emits_executed_with_the_result_hash() {
    let mut f = fx();
    let id = Fx::exec_id(&f.request("doc.read", json!({"doc_id": "d-1"})));
    let result = json!({"title": "Hello", "body": "World", "tags": ["a", "b"], "n": 3, "nested": {"z": null, "a": true}});
    let out = f.c.ok("action.complete", json!({"session_id": f.sid, "execution_id": id, "result": result, "duration_ms": 42}));
    assert_eq!(types(&out["events"]), strs(&["action.executed"]));
    let p = &out["events"][0]["payload"];
    assert_eq!(p["result_hash"], json!(sha256_hex(jcs(&result).as_bytes())), "result_hash = SHA-256 of the canonical result");
    assert_eq!(p["result_hash"], json!(canonical_hash(&result)));
    assert_eq!(p["duration_ms"], 42);
    assert_eq!(p["execution_id"], json!(id));
    assert_eq!(p["action_id"], "doc.read");
    assert!(p.get("title").is_none() && p.get("result").is_none(), "raw results are not stored");
    assert_eq!(out["execution"]["status"], "executed");
    check_event(&out["events"][0]);
    f.refused("action.complete", json!({"session_id": f.sid, "execution_id": id, "result": {}}), "invalid_state");
    f.refused("action.fail", json!({"session_id": f.sid, "execution_id": id, "error_code": "E", "error_message": "m"}), "invalid_state");
}

#[test]
fn a_fractional_duration_is_recorded_in_whole_milliseconds() {
    let mut f = fx();
    let out = f.request("doc.read", json!({"doc_id": "d-1"}));
    let id = Fx::exec_id(&out);
    let sid = f.sid.clone();
    let done = f.c.ok("action.complete", json!({"session_id": sid, "execution_id": id, "result": {}, "duration_ms": 12.6}));
    assert_eq!(done["events"][0]["payload"]["duration_ms"], 13);
    let out = f.request("doc.read", json!({"doc_id": "d-2"}));
    let id = Fx::exec_id(&out);
    f.refused("action.complete", json!({"session_id": sid, "execution_id": id, "duration_ms": -1}), "invalid_request");
}

#[test]
fn fail_emits_action_failed() {
    let mut f = fx();
    let id = Fx::exec_id(&f.request("doc.write", json!({"doc_id": "d-1"})));
    let out = f.c.ok(
        "action.fail",
        json!({"session_id": f.sid, "execution_id": id, "error_code": "E_TIMEOUT", "error_message": "the backend timed out", "duration_ms": 5000}),
    );
    assert_eq!(types(&out["events"]), strs(&["action.failed"]));
    let p = &out["events"][0]["payload"];
    assert_eq!(p["error_code"], "E_TIMEOUT");
    assert_eq!(p["error_message"], "the backend timed out");
    assert_eq!(p["execution_id"], json!(id));
    assert_eq!(out["execution"]["status"], "failed");
    check_event(&out["events"][0]);
    f.refused("action.complete", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
}

// ------------------------------------------------------------------------------------------------- refusals that are traced

#[test]
fn request_on_a_denied_action_is_traced_as_denied() {
    let mut f = fx();
    let out = f.request("doc.delete", json!({"doc_id": "d-1"}));
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.denied"]));
    let p = &out["events"][1]["payload"];
    assert_eq!(p["action_id"], "doc.delete");
    assert_eq!(p["policy_id"], "deny-delete", "the policy from the resolution's denied list");
    assert_eq!(p["reason"], "documents are kept");
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(out["execution"]["policy_id"], "deny-delete");
    let id = Fx::exec_id(&out);
    f.refused("action.complete", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
    f.refused("action.approve", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
}

#[test]
fn request_on_an_action_outside_the_resolution_is_denied() {
    let mut c = Core::new();
    c.load(docs_atlas());
    let (sid, _) = c.session(AGENT, "g");
    // Narrow the resolution to doc.read only via a capability-free atlas scope: use another atlas's action.
    c.load(manifest("com.test.other", &["other.act"], json!([allow("a", &["*"])])));
    let res = c.resolve_with(&sid, AGENT, json!({}), json!({"atlas_ids": ["com.test.docs"]}));
    let out = c.execute(&sid, res["resolution_id"].as_str().unwrap(), "other.act", json!({}));
    assert_eq!(out["execution"]["status"], "denied", "an action not in the resolution cannot run");
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.denied"]));
}

#[test]
fn request_on_an_expired_resolution_is_denied_with_policy_ttl() {
    let mut f = fx();
    let later = t0() + 3601 * SEC;
    assert_eq!(f.c.check_at(f.handle, "doc.read", later), 5, "cra_check: the resolution has expired");
    assert_eq!(f.c.check_at(f.handle, "doc.read", t0() + 3599 * SEC), 1);
    f.c.now = later;
    let out = f.request("doc.read", json!({}));
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.denied"]));
    assert_eq!(out["events"][1]["payload"]["policy_id"], "ttl");
    assert_eq!(out["execution"]["status"], "denied");
}

#[test]
fn schema_errors_from_the_host_are_a_policy_violation() {
    let mut f = fx();
    let out = f.c.ok(
        "action.request",
        json!({
            "session_id": f.sid, "resolution_id": f.rid, "action_id": "doc.write", "parameters": {"doc_id": 7},
            "schema_errors": [{"path": "/doc_id", "message": "must be a string"}],
        }),
    );
    assert_eq!(types(&out["events"]), strs(&["action.requested", "policy.violated"]));
    let p = &out["events"][1]["payload"];
    for k in ["policy_id", "violation_type", "details"] {
        assert!(p.get(k).is_some(), "policy.violated has `{}`: {}", k, p);
    }
    assert_eq!(out["execution"]["status"], "violated");
    check_event(&out["events"][1]);
}

// ------------------------------------------------------------------------------------------------- approvals

#[test]
fn gated_action_waits_for_approval() {
    let mut f = fx();
    assert_eq!(f.c.check(f.handle, "pay.send"), 2);
    let out = f.request("pay.send", json!({"to": "bob", "amount": 10}));
    assert_eq!(types(&out["events"]), strs(&["action.requested"]));
    assert_eq!(out["execution"]["status"], "pending_approval");
    let h = out["execution"]["approval_hash"].as_str().unwrap().to_string();
    assert!(is_hash(&h), "approval_hash is a SHA-256: {}", h);
    let id = Fx::exec_id(&out);
    f.refused("action.complete", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
    let e = f.refused("action.approve", json!({"session_id": f.sid, "execution_id": id, "approval_hash": "0".repeat(64)}), "approval_mismatch");
    assert_eq!(path(&e), Some("/approval_hash"));
    let ok = f.c.ok("action.approve", json!({"session_id": f.sid, "execution_id": id, "approval_hash": h, "approver": "alice"}));
    assert_eq!(types(&ok["events"]), strs(&["action.approved"]));
    assert_eq!(ok["events"][0]["payload"]["approver"], "alice");
    assert_eq!(ok["events"][0]["payload"]["execution_id"], json!(id));
    assert_eq!(ok["execution"]["status"], "approved");
    f.refused("action.approve", json!({"session_id": f.sid, "execution_id": id, "approval_hash": h}), "invalid_state");
    f.refused("action.deny", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
    let done = f.c.complete(&f.sid, &id, json!({"receipt": "r-1"}));
    assert_eq!(done["execution"]["status"], "executed");
    check_chain(&f.c.session_events(&f.sid));
}

#[test]
fn approval_hash_is_bound_to_the_exact_execution() {
    let mut f = fx();
    let a = f.request("pay.send", json!({"to": "bob", "amount": 10}));
    let b = f.request("pay.send", json!({"to": "bob", "amount": 1000}));
    let c2 = f.request("pay.send", json!({"amount": 10, "to": "bob"}));
    let ha = a["execution"]["approval_hash"].as_str().unwrap().to_string();
    let hb = b["execution"]["approval_hash"].as_str().unwrap().to_string();
    assert_ne!(ha, hb, "other parameters, other approval");
    assert_eq!(ha, c2["execution"]["approval_hash"].as_str().unwrap(), "key order does not matter (canonical JSON)");
    f.refused("action.approve", json!({"session_id": f.sid, "execution_id": Fx::exec_id(&b), "approval_hash": ha}), "approval_mismatch");
    let ok = f.c.ok("action.approve", json!({"session_id": f.sid, "execution_id": Fx::exec_id(&b), "approval_hash": hb}));
    assert_eq!(ok["execution"]["status"], "approved");
    // Another session's identical call needs its own approval.
    let (sid2, _) = f.c.session(AGENT, "g");
    let res2 = f.c.resolve(&sid2, AGENT);
    let other = f.c.execute(&sid2, res2["resolution_id"].as_str().unwrap(), "pay.send", json!({"to": "bob", "amount": 10}));
    assert_ne!(other["execution"]["approval_hash"].as_str().unwrap(), ha);
}

#[test]
fn approval_after_the_resolution_expired_is_denied() {
    let mut f = fx();
    let id = Fx::exec_id(&f.request("pay.send", json!({"amount": 1})));
    f.c.now = t0() + 3601 * SEC;
    let out = f.c.ok("action.approve", json!({"session_id": f.sid, "execution_id": id}));
    assert_eq!(out["execution"]["status"], "denied", "an expired resolution cannot be executed against");
    assert_eq!(types(&out["events"]), strs(&["action.denied"]));
    assert_eq!(out["events"][0]["payload"]["policy_id"], "ttl");
}

#[test]
fn deny_of_a_pending_execution_is_traced() {
    let mut f = fx();
    let id = Fx::exec_id(&f.request("pay.send", json!({"to": "eve", "amount": 999})));
    let out = f.c.ok("action.deny", json!({"session_id": f.sid, "execution_id": id, "reason": "looks like fraud", "approver": "alice"}));
    assert_eq!(types(&out["events"]), strs(&["action.denied"]));
    let p = &out["events"][0]["payload"];
    assert_eq!(p["action_id"], "pay.send");
    assert_eq!(p["reason"], "looks like fraud");
    assert!(p["policy_id"].is_string(), "action.denied carries a policy id: {}", p);
    assert_eq!(out["execution"]["status"], "denied");
    f.refused("action.approve", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
    f.refused("action.deny", json!({"session_id": f.sid, "execution_id": id}), "invalid_state");
}

// ------------------------------------------------------------------------------------------------- idempotency

#[test]
fn idempotency_key_reuse_with_the_same_call_returns_the_same_execution() {
    let mut f = fx();
    let input = json!({"session_id": f.sid, "resolution_id": f.rid, "action_id": "doc.write", "parameters": {"doc_id": "d-1", "text": "x"}, "idempotency_key": "k-1"});
    let first = f.c.ok("action.request", input.clone());
    let before = f.c.snapshot(&f.sid);
    let again = f.c.ok("action.request", input);
    assert_eq!(again["execution"]["execution_id"], first["execution"]["execution_id"]);
    assert_eq!(again["execution"]["status"], first["execution"]["status"]);
    assert!(again["events"].as_array().map(|a| a.is_empty()).unwrap_or(true), "no new events: {}", again["events"]);
    assert_eq!(f.c.snapshot(&f.sid), before, "nothing recorded");
}

#[test]
fn idempotency_key_reuse_with_other_parameters_conflicts() {
    let mut f = fx();
    let mut input = json!({"session_id": f.sid, "resolution_id": f.rid, "action_id": "doc.write", "parameters": {"doc_id": "d-1"}, "idempotency_key": "k-1"});
    f.c.ok("action.request", input.clone());
    input["parameters"] = json!({"doc_id": "d-2"});
    let e = f.refused("action.request", input, "idempotency_conflict");
    assert_eq!(path(&e), Some("/idempotency_key"));
}

// ------------------------------------------------------------------------------------------------- request checks

#[test]
fn ended_session_refuses_everything() {
    let mut f = fx();
    let pending = Fx::exec_id(&f.request("pay.send", json!({"amount": 1})));
    let approved = Fx::exec_id(&f.request("doc.read", json!({})));
    f.c.now = t0() + 90 * SEC;
    let out = f.c.ok("session.end", json!({"session_id": f.sid, "reason": "completed"}));
    assert_eq!(types(&out["events"]), strs(&["session.ended"]));
    assert_eq!(out["events"][0]["payload"]["reason"], "completed");
    assert_eq!(out["events"][0]["payload"]["duration_ms"], 90_000);
    assert_eq!(out["session"]["status"], "ended");
    assert_eq!(out["session"]["ended_at"], json!(stamp(t0() + 90 * SEC)));
    let sid = f.sid.clone();
    let rid = f.rid.clone();
    let req = f.c.request(&sid, AGENT, "more", json!({}), json!({}));
    f.refused("session.resolve", json!({ "request": req }), "session_ended");
    f.refused("action.request", json!({"session_id": sid, "resolution_id": rid, "action_id": "doc.read", "parameters": {}}), "session_ended");
    f.refused("action.approve", json!({"session_id": sid, "execution_id": pending}), "session_ended");
    f.refused("action.deny", json!({"session_id": sid, "execution_id": pending}), "session_ended");
    f.refused("action.complete", json!({"session_id": sid, "execution_id": approved}), "session_ended");
    f.refused("action.fail", json!({"session_id": sid, "execution_id": approved, "error_code": "E", "error_message": "m"}), "session_ended");
    f.refused("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "x", "message": "y"}}), "session_ended");
    f.refused("session.end", json!({"session_id": sid}), "session_ended");
    assert_eq!(f.c.check(f.handle, "doc.read"), 6);
    let s = f.c.get_session(&sid);
    assert_eq!(s["status"], "ended");
    check_chain(&f.c.session_events(&sid));
}

#[test]
fn duplicate_request_id_is_refused() {
    let mut f = fx();
    let sid = f.sid.clone();
    let req = f.c.request(&sid, AGENT, "again", json!({}), json!({}));
    f.c.ok("session.resolve", json!({ "request": req.clone() }));
    let e = f.refused("session.resolve", json!({ "request": req }), "duplicate_request");
    assert_eq!(path(&e), Some("/request/request_id"));
}

#[test]
fn clock_skew_beyond_five_minutes_is_refused() {
    let mut f = fx();
    let sid = f.sid.clone();
    for (offset, ok) in [(-301, false), (301, false), (-299, true), (299, true)] {
        let mut req = f.c.request(&sid, AGENT, "skew", json!({}), json!({}));
        req["timestamp"] = json!(stamp(f.c.now + offset * SEC));
        if ok {
            f.c.ok("session.resolve", json!({ "request": req }));
        } else {
            let e = f.refused("session.resolve", json!({ "request": req }), "clock_skew");
            assert_eq!(path(&e), Some("/request/timestamp"));
        }
    }
}

#[test]
fn request_timestamp_with_an_offset_is_compared_as_an_instant() {
    let mut f = fx();
    let sid = f.sid.clone();
    let mut req = f.c.request(&sid, AGENT, "tz", json!({}), json!({}));
    req["timestamp"] = json!("2024-12-28T14:00:00+02:00");
    f.c.ok("session.resolve", json!({ "request": req }));
}

#[test]
fn clock_skew_of_exactly_five_minutes_is_accepted() {
    let mut f = fx();
    let sid = f.sid.clone();
    for offset in [-300, 300] {
        let mut req = f.c.request(&sid, AGENT, "edge", json!({}), json!({}));
        req["timestamp"] = json!(stamp(f.c.now + offset * SEC));
        f.c.ok("session.resolve", json!({ "request": req }));
    }
}

#[test]
fn configured_clock_skew_applies() {
    let mut f = fx();
    let sid = f.sid.clone();
    f.c.ok("runtime.configure", json!({"clock_skew_seconds": 10}));
    let mut req = f.c.request(&sid, AGENT, "skew", json!({}), json!({}));
    req["timestamp"] = json!(stamp(f.c.now - 11 * SEC));
    f.refused("session.resolve", json!({ "request": req }), "clock_skew");
}

#[test]
fn agent_mismatch_is_refused() {
    let mut f = fx();
    let sid = f.sid.clone();
    let req = f.c.request(&sid, "someone-else", "steal", json!({}), json!({}));
    f.refused("session.resolve", json!({ "request": req }), "agent_mismatch");
}

#[test]
fn unknown_ids_are_refused_with_their_codes() {
    let mut f = fx();
    let sid = f.sid.clone();
    let rid = f.rid.clone();
    let ghost = "0000dead-0000-4000-8000-000000000000";
    let req = f.c.request(ghost, AGENT, "nobody", json!({}), json!({}));
    f.refused("session.resolve", json!({ "request": req }), "session_not_found");
    f.refused("action.request", json!({"session_id": sid, "resolution_id": ghost, "action_id": "doc.read", "parameters": {}}), "resolution_not_found");
    f.refused("action.approve", json!({"session_id": sid, "execution_id": ghost}), "execution_not_found");
    f.refused("action.complete", json!({"session_id": sid, "execution_id": ghost}), "execution_not_found");
    f.refused("session.get", json!({"session_id": ghost}), "session_not_found");
    f.refused("action.request", json!({"session_id": ghost, "resolution_id": rid, "action_id": "doc.read", "parameters": {}}), "session_not_found");
    // A resolution of another session does not belong to this one.
    let (sid2, _) = f.c.session(AGENT, "g2");
    refused_on(&mut f.c, &sid2, "action.request", json!({"session_id": sid2, "resolution_id": rid, "action_id": "doc.read", "parameters": {}}), "resolution_not_found");
}

#[test]
fn malformed_inputs_are_invalid_request_with_a_path() {
    let mut f = fx();
    let sid = f.sid.clone();
    let rid = f.rid.clone();
    let e = f.refused("action.request", json!({"session_id": sid, "resolution_id": rid, "action_id": "doc.read"}), "invalid_request");
    assert_eq!(path(&e), Some("/parameters"));
    let e = f.refused("action.request", json!({"session_id": sid, "resolution_id": rid, "action_id": "Doc Read", "parameters": {}}), "invalid_request");
    assert_eq!(path(&e), Some("/action_id"));
    let mut req = f.c.request(&sid, AGENT, "g", json!({}), json!({}));
    req["carp_version"] = json!("2.0");
    let e = f.refused("session.resolve", json!({ "request": req }), "invalid_request");
    assert_eq!(path(&e), Some("/request/carp_version"));
    let mut req = f.c.request(&sid, AGENT, "g", json!({}), json!({}));
    req["task"]["risk_tier"] = json!("extreme");
    let e = f.refused("session.resolve", json!({ "request": req }), "invalid_request");
    assert_eq!(path(&e), Some("/request/task/risk_tier"));
    let e = f.refused("session.end", json!({"session_id": sid, "reason": "bored"}), "invalid_request");
    assert_eq!(path(&e), Some("/reason"));
    let e = f.c.err("session.resolve", json!({}));
    assert_eq!(code(&e), "invalid_request");
    assert_eq!(path(&e), Some("/request"));
    let out = f.c.raw("session.get", b"{not json", t0());
    assert_eq!(code(&envelope(&out).unwrap_err()), "invalid_json");
    let out = f.c.raw("session.get", br#"{"session_id": "a", "session_id": "b"}"#, t0());
    assert_eq!(code(&envelope(&out).unwrap_err()), "invalid_json", "duplicate keys are invalid JSON");
    let out = f.c.raw("no.such.op", b"{}", t0());
    assert_eq!(code(&envelope(&out).unwrap_err()), "unknown_operation");
}

#[test]
fn session_create_with_a_used_id_is_refused() {
    let mut f = fx();
    let sid = f.sid.clone();
    let e = f.refused("session.create", json!({"agent_id": AGENT, "goal": "g", "session_id": sid}), "session_exists");
    assert_eq!(path(&e), Some("/session_id"));
}

// ------------------------------------------------------------------------------------------------- sessions

#[test]
fn session_view_has_the_abi_fields() {
    let mut c = Core::new();
    c.load(docs_atlas());
    let out = c.ok(
        "session.create",
        json!({"agent_id": AGENT, "goal": "a goal", "parent_session_id": "0000aaaa-0000-4000-8000-000000000000", "metadata": {"ticket": "t-1", "attempt": 2}}),
    );
    let s = &out["session"];
    for k in ["session_id", "agent_id", "goal", "status", "created_at", "ended_at", "event_count", "head_hash", "resolution_count", "action_count", "trace_id", "parent_session_id", "metadata"] {
        assert!(s.get(k).is_some(), "Session has `{}`: {}", k, s);
    }
    assert_eq!(s["status"], "active");
    assert_eq!(s["event_count"], 1);
    assert_eq!(s["created_at"], json!(stamp(t0())));
    assert_eq!(s["ended_at"], Value::Null);
    assert_eq!(s["head_hash"], out["events"][0]["event_hash"]);
    assert_eq!(s["trace_id"], out["events"][0]["trace_id"]);
    assert_eq!(out["events"][0]["event_type"], "session.started");
    assert_eq!(out["events"][0]["payload"]["agent_id"], AGENT);
    assert_eq!(out["events"][0]["payload"]["goal"], "a goal");
    check_chain(out["events"].as_array().unwrap());
    let sid = s["session_id"].as_str().unwrap().to_string();
    let got = c.ok("session.get", json!({ "session_id": sid }));
    assert_eq!(&got["session"], s);
    assert_eq!(got["handle"], out["handle"]);
    let res = c.resolve(&sid, AGENT);
    let s = c.get_session(&sid);
    assert_eq!(s["resolution_count"], 1);
    assert_eq!(s["event_count"], json!(c.session_events(&sid).len()));
    assert_eq!(s["head_hash"], c.session_events(&sid).last().unwrap()["event_hash"]);
    let _ = res;
}

#[test]
fn session_create_validates_its_input() {
    let mut c = Core::new();
    let e = c.err("session.create", json!({"agent_id": "", "goal": "g"}));
    assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/agent_id")));
    let e = c.err("session.create", json!({"agent_id": "a"}));
    assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/goal")));
    let e = c.err("session.create", json!({"agent_id": "a", "goal": "g", "session_id": "not-a-uuid"}));
    assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/session_id")));
    let e = c.err("session.create", json!({"agent_id": "a", "goal": "g", "colour": "blue"}));
    assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/colour")));
    assert_eq!(c.ok("session.list", json!({}))["sessions"], json!([]), "nothing was created");
}

#[test]
fn runtime_stats_counts_atlases_and_sessions() {
    let mut c = Core::new();
    let s = c.ok("runtime.stats", json!({}));
    assert_eq!(s["atlases"], 0);
    assert_eq!(s["sessions"], 0);
    assert!(s["memory_bytes"].is_u64(), "{}", s);
    c.load(docs_atlas());
    c.session(AGENT, "g");
    c.session(AGENT, "g");
    let s = c.ok("runtime.stats", json!({}));
    assert_eq!((s["atlases"].clone(), s["sessions"].clone()), (json!(1), json!(2)));
}

#[test]
fn session_list_and_forget() {
    let mut c = Core::new();
    let (a, _) = c.session(AGENT, "first");
    let (b, hb) = c.session(AGENT, "second");
    let list: Vec<Value> = c.ok("session.list", json!({}))["sessions"].as_array().unwrap().iter().map(|s| s["session_id"].clone()).collect();
    assert_eq!(list, vec![json!(a), json!(b)], "creation order");
    c.ok("session.forget", json!({ "session_id": b }));
    assert_eq!(code(&c.err("session.get", json!({ "session_id": b }))), "session_not_found");
    assert_eq!(c.check(hb, "doc.read"), 7, "a forgotten session's handle is unknown");
    assert_eq!(c.ok("session.list", json!({}))["sessions"].as_array().unwrap().len(), 1);
}

#[test]
fn check_codes_for_unknown_handles_and_missing_resolution() {
    let mut c = Core::new();
    c.load(docs_atlas());
    let (sid, h) = c.session(AGENT, "g");
    assert_eq!(c.check(h, "doc.read"), -1, "no resolution yet");
    let a = c.action_handle("doc.read");
    assert_eq!(c.rt.check(9999, a, t0() as f64, &mut c.host), 7);
    assert_eq!(c.rt.check(h, 987_654, t0() as f64, &mut c.host), -1, "as action.request: no resolution first");
    c.resolve(&sid, AGENT);
    assert_eq!(c.rt.check(h, 987_654, t0() as f64, &mut c.host), 8);
    let a2 = c.action_handle("doc.read");
    assert_eq!(a, a2, "action handles are interned");
}

#[test]
fn trace_append_accepts_host_event_types_only() {
    let mut f = fx();
    let sid = f.sid.clone();
    let out = f.c.ok("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "E_TOOL", "message": "tool crashed"}}));
    assert_eq!(types(&out["events"]), strs(&["error.occurred"]));
    check_event(&out["events"][0]);
    f.refused("trace.append", json!({"session_id": sid, "event_type": "action.executed", "payload": {"action_id": "doc.read", "execution_id": "x", "duration_ms": 1, "result_hash": "y"}}), "invalid_request");
    f.refused("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "E"}}), "invalid_request");
    f.refused("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "E", "message": "m", "Bad-Key": 1}}), "invalid_request");
    check_chain(&f.c.session_events(&sid));
}

#[test]
fn trace_append_takes_a_batch_in_order_in_one_call() {
    let mut f = fx();
    let sid = f.sid.clone();
    let before = f.c.session_events(&sid).len() as u64;
    let out = f.c.ok(
        "trace.append",
        json!({"session_id": sid, "events": [
            {"event_type": "error.occurred", "payload": {"code": "E1", "message": "one"}},
            {"event_type": "context.redacted", "payload": {"block_id": "b/1", "redaction_reason": "pii"}},
            {"event_type": "error.occurred", "payload": {"code": "E3", "message": "three"}},
        ]}),
    );
    assert_eq!(types(&out["events"]), strs(&["error.occurred", "context.redacted", "error.occurred"]));
    let seqs: Vec<u64> = out["events"].as_array().unwrap().iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![before, before + 1, before + 2]);
    assert_eq!(out["events"][2]["payload"]["code"], "E3");
    check_chain(&f.c.session_events(&sid));
}

#[test]
fn trace_append_batch_is_refused_whole_with_the_path_of_the_bad_event() {
    let mut f = fx();
    let sid = f.sid.clone();
    let good = json!({"event_type": "error.occurred", "payload": {"code": "E", "message": "m"}});
    let e = f.refused(
        "trace.append",
        json!({"session_id": sid, "events": [good.clone(), {"event_type": "error.occurred", "payload": {"code": "E"}}]}),
        "invalid_request",
    );
    assert_eq!(e["path"], "/events/1/payload/message");
    let e = f.refused("trace.append", json!({"session_id": sid, "events": [good.clone(), {"event_type": "action.executed", "payload": {}}]}), "invalid_request");
    assert_eq!(e["path"], "/events/1/event_type");
    let e = f.refused("trace.append", json!({"session_id": sid, "events": [good.clone(), {"event_type": "error.occurred", "payload": {"code": "E", "message": "m", "x": 1.5}}]}), "invalid_request");
    assert_eq!(e["path"], "/events/1/payload/x");
    let e = f.refused("trace.append", json!({"session_id": sid, "events": [{"event_type": "error.occurred", "payload": {"code": "E", "message": "m"}, "extra": 1}]}), "invalid_request");
    assert_eq!(e["path"], "/events/0/extra");
    f.refused("trace.append", json!({"session_id": sid, "events": []}), "invalid_request");
    let many: Vec<Value> = (0..1001).map(|_| good.clone()).collect();
    f.refused("trace.append", json!({"session_id": sid, "events": many}), "invalid_request");
    f.refused("trace.append", json!({"session_id": sid, "events": [good.clone()], "event_type": "error.occurred"}), "invalid_request");
    let thousand: Vec<Value> = (0..1000).map(|_| good.clone()).collect();
    assert_eq!(f.c.ok("trace.append", json!({"session_id": sid, "events": thousand}))["events"].as_array().unwrap().len(), 1000);
}

#[test]
fn stored_payloads_are_their_canonical_form() {
    // The payload bytes of an emitted event are the bytes its hash covers: members sorted, no whitespace.
    let mut f = fx();
    let sid = f.sid.clone();
    let out = f.c.raw(
        "trace.append",
        serde_json::to_string(&json!({"session_id": sid, "event_type": "error.occurred", "payload": {"message": "m", "code": "E", "detail": {"z": 1, "a": [true]}}})).unwrap().as_bytes(),
        t0(),
    );
    assert!(out.contains(r#""payload":{"code":"E","detail":{"a":[true],"z":1},"message":"m"}"#), "{}", out);
    let req = f.c.request(&sid, AGENT, "g", json!({}), json!({}));
    let resolved = f.c.raw("session.resolve", serde_json::to_string(&json!({ "request": req })).unwrap().as_bytes(), t0());
    for e in envelope(&resolved).unwrap()["events"].as_array().unwrap() {
        let text = serde_json::to_string(&e["payload"]).unwrap();
        assert!(resolved.contains(&jcs(&e["payload"])), "payload not canonical in the answer: {}", text);
    }
}

#[test]
fn compact_resolutions_carry_only_what_was_decided_per_action() {
    let mut f = fx();
    let sid = f.sid.clone();
    let full = f.c.resolve(&sid, AGENT);
    let req = f.c.request(&sid, AGENT, "do the work", json!({}), json!({}));
    let compact = f.c.ok("session.resolve", json!({"request": req, "compact_actions": true}))["resolution"].clone();
    let loaded = f.c.ok("atlas.load", json!({"manifest": manifest("com.test.other", &["other.thing"], json!([])) }));
    assert_eq!(loaded["actions"][0]["action_id"], "other.thing");
    assert_eq!(loaded["name"], "Atlas com.test.other");
    assert!(loaded["actions"][0].get("requires_confirmation").is_none());
    let descriptors = f.c.ok("atlas.load", json!({"manifest": docs_atlas(), "replace": true}))["actions"].clone();
    let allowed = compact["allowed_actions"].as_array().unwrap();
    assert_eq!(allowed.len(), full["allowed_actions"].as_array().unwrap().len());
    for (c, x) in allowed.iter().zip(full["allowed_actions"].as_array().unwrap()) {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.iter().all(|k| ["action_id", "requires_confirmation", "rate_limit"].contains(k)), "{:?}", keys);
        // Descriptor + what was decided = the full entry.
        let mut joined = descriptors.as_array().unwrap().iter().find(|d| d["action_id"] == c["action_id"]).unwrap().clone();
        for (k, v) in c.as_object().unwrap() {
            joined[k] = v.clone();
        }
        assert_eq!(&joined, x);
    }
    assert_eq!(compact["denied_actions"], full["denied_actions"]);
    assert_eq!(compact["decision"], full["decision"]);
    let validate = f.c.request(&sid, AGENT, "do the work", json!({}), json!({"operation": "validate"}));
    let dry = f.c.ok("carp.request", json!({"request": validate, "compact_actions": true}));
    assert_eq!(dry["resolution"]["allowed_actions"], compact["allowed_actions"]);
    let req = f.c.request(&sid, AGENT, "x", json!({}), json!({}));
    f.refused("session.resolve", json!({"request": req, "compact_actions": "yes"}), "invalid_request");
}

#[test]
fn carp_request_execute_runs_like_action_request() {
    let mut f = fx();
    let sid = f.sid.clone();
    let mut req = f.c.request(&sid, AGENT, "x", json!({}), json!({}));
    req.as_object_mut().unwrap().remove("task");
    req["operation"] = json!("execute");
    req["execution"] = json!({"resolution_id": f.rid, "action_id": "doc.read", "parameters": {"doc_id": "d-9"}});
    let out = f.c.ok("carp.request", json!({ "request": req.clone() }));
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.approved"]));
    assert_eq!(out["execution"]["status"], "approved");
    assert_eq!(out["events"][0]["payload"]["parameters_hash"], json!(sha256_hex(jcs(&json!({"doc_id": "d-9"})).as_bytes())));
    f.refused("carp.request", json!({ "request": req }), "duplicate_request");
}

// ------------------------------------------------------------------------------------------------- determinism

fn script(prefix: u32) -> Vec<String> {
    let mut c = Core::with_prefix(prefix);
    let mut outs = Vec::new();
    let mut call = |c: &mut Core, op: &str, input: Value, now: i64| {
        let out = c.raw(op, serde_json::to_string(&input).unwrap().as_bytes(), now);
        outs.push(out.clone());
        envelope(&out).unwrap_or_else(|e| panic!("{} failed: {}", op, e))
    };
    call(&mut c, "atlas.load", json!({"manifest": docs_atlas()}), t0());
    let s = call(&mut c, "session.create", json!({"agent_id": AGENT, "goal": "g"}), t0());
    let sid = s["session"]["session_id"].as_str().unwrap().to_string();
    let req = json!({"carp_version": "1.0", "request_id": "0000beef-0000-4000-8000-000000000001", "timestamp": stamp(t0() + SEC),
        "operation": "resolve", "requester": {"agent_id": AGENT, "session_id": sid}, "task": {"goal": "g"}});
    let r = call(&mut c, "session.resolve", json!({ "request": req }), t0() + SEC);
    let rid = r["resolution"]["resolution_id"].as_str().unwrap().to_string();
    let x = call(&mut c, "action.request", json!({"session_id": sid, "resolution_id": rid, "action_id": "doc.read", "parameters": {"a": 1}}), t0() + 2 * SEC);
    let id = x["execution"]["execution_id"].as_str().unwrap().to_string();
    call(&mut c, "action.complete", json!({"session_id": sid, "execution_id": id, "result": {"ok": true}, "duration_ms": 3}), t0() + 3 * SEC);
    let p = call(&mut c, "action.request", json!({"session_id": sid, "resolution_id": rid, "action_id": "pay.send", "parameters": {"amount": 5}}), t0() + 4 * SEC);
    let pid = p["execution"]["execution_id"].as_str().unwrap().to_string();
    call(&mut c, "action.approve", json!({"session_id": sid, "execution_id": pid, "approver": "alice"}), t0() + 5 * SEC);
    call(&mut c, "session.end", json!({"session_id": sid}), t0() + 6 * SEC);
    outs
}

#[test]
fn same_seed_same_inputs_give_byte_identical_output() {
    let a = script(0x1234abcd);
    let b = script(0x1234abcd);
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert_eq!(x, y, "call {} differs", i);
    }
}

#[test]
fn diff_ignores_ids_between_runs_with_other_seeds() {
    let trace = |prefix: u32| -> Vec<Value> {
        script(prefix)
            .iter()
            .flat_map(|o| envelope(o).unwrap().get("events").and_then(Value::as_array).cloned().unwrap_or_default())
            .collect()
    };
    let a = trace(0x11111111);
    let b = trace(0x22222222);
    assert_ne!(a[0]["event_id"], b[0]["event_id"]);
    let mut c = Core::new();
    let d = c.ok("trace.diff", json!({"a": a, "b": b}));
    assert_eq!(d["identical"], true, "{}", d);
    assert_eq!(d["differences"], json!([]));
}

// ------------------------------------------------------------------------------------------------- restore

/// A recorded session with a resolution, an executed action, a pending approval and a spent budget.
fn recorded() -> (Core, String, u32, String, Vec<Value>) {
    let mut c = Core::new();
    let mut m = docs_atlas();
    m["policies"].as_array_mut().unwrap().push(json!({"policy_id": "one-write", "type": "budget", "actions": ["doc.write"], "parameters": {"max_calls": 1}}));
    c.load(m);
    let (sid, h) = c.session(AGENT, "restore me");
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    let x = c.execute(&sid, &rid, "doc.write", json!({"doc_id": "d-1"}));
    c.complete(&sid, x["execution"]["execution_id"].as_str().unwrap(), json!({"ok": true}));
    c.execute(&sid, &rid, "pay.send", json!({"amount": 3}));
    let events = c.session_events(&sid);
    (c, sid, h, rid, events)
}

/// Another runtime with the atlas of [`recorded`], to restore into.
fn restorer() -> Core {
    let mut b = Core::with_prefix(0xb0000000);
    let mut m = docs_atlas();
    m["policies"].as_array_mut().unwrap().push(json!({"policy_id": "one-write", "type": "budget", "actions": ["doc.write"], "parameters": {"max_calls": 1}}));
    b.load(m);
    b
}

fn restored(events: &[Value], head: Option<Value>) -> (Core, Result<Value, Value>) {
    let mut b = restorer();
    let mut input = json!({ "events": events });
    if let Some(h) = head {
        input["expected_head"] = h;
    }
    let r = b.call("session.restore", input);
    (b, r)
}

#[test]
fn restore_rebuilds_the_session_view() {
    let (mut a, sid, _h, _rid, events) = recorded();
    let view = a.get_session(&sid);
    let (_b, r) = restored(&events, Some(json!({"length": view["event_count"], "head_hash": view["head_hash"]})));
    let out = r.expect("restore succeeds");
    let s = &out["session"];
    for k in ["session_id", "agent_id", "goal", "status", "created_at", "event_count", "head_hash", "resolution_count", "action_count", "trace_id"] {
        assert_eq!(s[k], view[k], "restored `{}`", k);
    }
    assert!(out["handle"].is_u64());
    assert_eq!(out["stale_resolutions"], json!([]));
}

#[test]
fn restore_gives_the_same_check_answers() {
    let (mut a, _sid, h, _rid, events) = recorded();
    let (mut b, r) = restored(&events, None);
    let hb = r.unwrap()["handle"].as_u64().unwrap() as u32;
    for action in ["doc.read", "doc.write", "doc.delete", "pay.send"] {
        let ca = a.check(h, action);
        let cb = b.check(hb, action);
        assert_eq!(ca, cb, "check of {} after restore", action);
    }
    assert_eq!(b.check(hb, "doc.write"), 4, "the spent budget is rebuilt from the trace");
}

#[test]
fn restored_session_chains_on() {
    let (_a, sid, _h, rid, events) = recorded();
    let (mut b, r) = restored(&events, None);
    r.unwrap();
    let out = b.execute(&sid, &rid, "doc.read", json!({}));
    let first = &out["events"][0];
    assert_eq!(first["sequence"], json!(events.len()), "the next sequence");
    assert_eq!(first["previous_event_hash"], events.last().unwrap()["event_hash"], "links to the restored head");
    assert_eq!(first["trace_id"], events[0]["trace_id"]);
    let mut all = events.clone();
    all.extend(out["events"].as_array().unwrap().iter().cloned());
    check_chain(&all);
    assert_eq!(b.verify(&all)["valid"], true);
}

#[test]
fn restored_session_keeps_pending_approvals_and_request_ids() {
    let (_a, sid, _h, _rid, events) = recorded();
    let pending = events.iter().rev().find(|e| e["event_type"] == "action.requested").unwrap()["payload"]["execution_id"].clone();
    let (mut b, r) = restored(&events, None);
    r.unwrap();
    let ok = b.ok("action.approve", json!({"session_id": sid, "execution_id": pending}));
    assert_eq!(ok["execution"]["status"], "approved");
    let request_id = events.iter().find(|e| e["event_type"] == "carp.request.received").unwrap()["payload"]["request_id"].clone();
    let mut req = b.request(&sid, AGENT, "again", json!({}), json!({}));
    req["request_id"] = request_id;
    let e = b.err("session.resolve", json!({ "request": req }));
    assert_eq!(code(&e), "duplicate_request", "recorded request ids stay used");
}

#[test]
fn restore_against_a_changed_atlas_fails_closed() {
    let (_a, sid, _h, rid, events) = recorded();
    let mut b = Core::with_prefix(0xb0000000);
    let mut m = docs_atlas();
    m["version"] = json!("2.0.0");
    m["policies"] = json!([allow("allow-docs", &["doc.read"])]);
    b.load(m);
    let out = b.ok("session.restore", json!({ "events": events }));
    assert_eq!(out["stale_resolutions"], json!([rid]), "the recorded outcome is not reproduced");
    let hb = out["handle"].as_u64().unwrap() as u32;
    assert_eq!(b.check(hb, "doc.read"), 0, "nothing may run on a stale resolution");
    let x = b.execute(&sid, &rid, "doc.read", json!({}));
    assert_eq!(x["execution"]["status"], "denied");
    let res = b.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["doc.read"]), "a new resolution works");
    assert_eq!(b.check(hb, "doc.read"), 1);
}

#[test]
fn restore_of_an_ended_session_keeps_it_ended() {
    let (mut a, sid, _h, _rid, _events) = recorded();
    a.now = t0() + 30 * SEC;
    a.ok("session.end", json!({"session_id": sid, "reason": "timeout"}));
    let events = a.session_events(&sid);
    let (mut b, r) = restored(&events, None);
    let out = r.unwrap();
    assert_eq!(out["session"]["status"], "ended");
    assert_eq!(out["session"]["ended_at"], json!(stamp(t0() + 30 * SEC)));
    let hb = out["handle"].as_u64().unwrap() as u32;
    assert_eq!(b.check(hb, "doc.read"), 6);
    let req = b.request(&sid, AGENT, "g", json!({}), json!({}));
    assert_eq!(code(&b.err("session.resolve", json!({ "request": req }))), "session_ended");
}

#[test]
fn restore_keeps_parent_and_metadata() {
    let mut a = Core::new();
    a.load(docs_atlas());
    let out = a.ok(
        "session.create",
        json!({"agent_id": AGENT, "goal": "child", "parent_session_id": "0000aaaa-0000-4000-8000-000000000000", "metadata": {"ticket": "t-9", "attempt": 3}}),
    );
    let sid = out["session"]["session_id"].as_str().unwrap().to_string();
    a.resolve(&sid, AGENT);
    let view = a.get_session(&sid);
    let (_b, r) = restored(&a.session_events(&sid), None);
    let s = r.unwrap()["session"].clone();
    assert_eq!(s["parent_session_id"], view["parent_session_id"]);
    assert_eq!(s["metadata"], view["metadata"]);
    assert_eq!(s["trace_id"], view["trace_id"]);
}

#[test]
fn restore_with_a_wrong_head_is_trace_invalid() {
    let (_a, _sid, _h, _rid, events) = recorded();
    let (mut b, r) = restored(&events[..events.len() - 1], Some(json!({"length": events.len(), "head_hash": events.last().unwrap()["event_hash"]})));
    assert_eq!(code(&r.unwrap_err()), "trace_invalid");
    assert!(b.ok("session.list", json!({}))["sessions"].as_array().unwrap().is_empty(), "nothing restored");
}

#[test]
fn restore_of_a_tampered_chain_is_trace_invalid() {
    let (_a, _sid, _h, _rid, mut events) = recorded();
    events[3]["payload"]["extra"] = json!(1);
    let (_b, r) = restored(&events, None);
    let e = r.unwrap_err();
    assert_eq!(code(&e), "trace_invalid");
    assert_eq!(path(&e), Some("/events/3"));
}

#[test]
fn restore_of_a_tampered_chain_names_the_event_and_its_reason() {
    let (_a, _sid, _h, _rid, mut events) = recorded();
    events[2]["payload"]["extra"] = json!(1);
    let (mut b, r) = restored(&events, None);
    let e = r.unwrap_err();
    assert_eq!(path(&e), Some("/events/2"));
    let message = e["message"].as_str().unwrap();
    assert!(message.starts_with("event 2: hash_mismatch"), "{}", message);
    assert_eq!(b.verify(&events)["reason"], "hash_mismatch", "the message's reason is trace.verify's");
}

/// `session.restore` of `events` with extra input members.
fn restore_with(events: &[Value], extra: Value) -> (Core, Result<Value, Value>) {
    let mut b = restorer();
    let mut input = json!({ "events": events });
    merge(&mut input, &extra);
    let r = b.call("session.restore", input);
    (b, r)
}

fn head_of(events: &[Value], length: usize) -> Value {
    let hash = if length == 0 { json!(GENESIS) } else { events[length - 1]["event_hash"].clone() };
    json!({"length": length, "head_hash": hash})
}

#[test]
fn restore_accepts_a_trace_that_contains_its_synced_head() {
    let (_a, sid, _h, _rid, events) = recorded();
    for length in [0, 1, events.len() / 2, events.len()] {
        let (mut b, r) = restore_with(&events, json!({"synced_head": head_of(&events, length), "session_id": sid}));
        let out = r.unwrap_or_else(|e| panic!("synced length {}: {}", length, e));
        assert_eq!(out["session"]["event_count"], json!(events.len()), "the whole trace is restored, synced or not");
        assert_eq!(b.get_session(&sid)["head_hash"], events.last().unwrap()["event_hash"]);
    }
}

#[test]
fn restore_refuses_a_trace_shorter_than_its_synced_head() {
    let (_a, _sid, _h, _rid, events) = recorded();
    let n = events.len();
    let (mut b, r) = restore_with(&events[..n - 2], json!({"synced_head": head_of(&events, n)}));
    let e = r.unwrap_err();
    assert_eq!(code(&e), "trace_invalid");
    assert_eq!(path(&e), Some("/synced_head"));
    assert_eq!(e["message"], json!(format!("the trace has {} events but {} were synced", n - 2, n)));
    assert!(b.ok("session.list", json!({}))["sessions"].as_array().unwrap().is_empty(), "nothing restored");
}

#[test]
fn restore_refuses_a_trace_that_does_not_contain_its_synced_head() {
    let (_a, _sid, _h, _rid, events) = recorded();
    // The synced head of another chain of the same length: the trace was rewritten after the sync.
    let mut other = head_of(&events, 3);
    other["head_hash"] = events[4]["event_hash"].clone();
    let (_b, r) = restore_with(&events, json!({ "synced_head": other }));
    let e = r.unwrap_err();
    assert_eq!((code(&e), path(&e)), ("trace_invalid", Some("/synced_head")));
    assert!(e["message"].as_str().unwrap().contains("does not contain its synced head"), "{}", e);
    // A head of no events is the genesis hash.
    let (_b, r) = restore_with(&events, json!({"synced_head": {"length": 0, "head_hash": events[0]["event_hash"]}}));
    assert_eq!(path(&r.unwrap_err()), Some("/synced_head"));
    // `expected_head` keeps its exact meaning: a longer trace than the head is refused there.
    let (_b, r) = restore_with(&events, json!({ "expected_head": head_of(&events, 3) }));
    assert_eq!(code(&r.unwrap_err()), "trace_invalid");
    // A malformed head is an invalid request.
    let (_b, r) = restore_with(&events, json!({"synced_head": {"length": -1, "head_hash": GENESIS}}));
    let e = r.unwrap_err();
    assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/synced_head/length")));
}

#[test]
fn restore_refuses_the_trace_of_another_session() {
    let (_a, sid, _h, _rid, events) = recorded();
    let other = "00000000-0000-7000-8000-0000000000ff";
    let (mut b, r) = restore_with(&events, json!({ "session_id": other }));
    let e = r.unwrap_err();
    assert_eq!((code(&e), path(&e)), ("trace_invalid", Some("/session_id")));
    assert!(e["message"].as_str().unwrap().contains(&sid), "{}", e);
    assert!(b.ok("session.list", json!({}))["sessions"].as_array().unwrap().is_empty(), "nothing restored");
    let (_b, r) = restore_with(&events, json!({ "session_id": sid.to_uppercase() }));
    assert!(r.is_ok(), "ids are compared as UUIDs: {:?}", r);
    let (_b, r) = restore_with(&events, json!({ "session_id": "not-a-uuid" }));
    assert_eq!(code(&r.unwrap_err()), "invalid_request");
}

#[test]
fn session_answers_carry_the_last_resolution_id() {
    let mut c = Core::new();
    c.load(docs_atlas());
    let created = c.ok("session.create", json!({"agent_id": AGENT, "goal": "g"}));
    assert_eq!(created["last_resolution_id"], Value::Null);
    let sid = created["session"]["session_id"].as_str().unwrap().to_string();
    assert_eq!(c.ok("session.get", json!({ "session_id": sid }))["last_resolution_id"], Value::Null);
    let first = c.resolve(&sid, AGENT)["resolution_id"].clone();
    assert_eq!(c.ok("session.get", json!({ "session_id": sid }))["last_resolution_id"], first);
    let second = c.resolve(&sid, AGENT)["resolution_id"].clone();
    assert_ne!(first, second);
    assert_eq!(c.ok("session.get", json!({ "session_id": sid }))["last_resolution_id"], second);
    // A restore answers the last `carp.resolution.completed` of the trace.
    let events = c.session_events(&sid);
    let last_completed = events.iter().rev().find(|e| e["event_type"] == "carp.resolution.completed").unwrap();
    assert_eq!(last_completed["payload"]["resolution_id"], second);
    let mut b = Core::with_prefix(0xb0000000);
    b.load(docs_atlas());
    let restored = b.ok("session.restore", json!({ "events": events }));
    assert_eq!(restored["last_resolution_id"], second);
    assert_eq!(b.ok("session.get", json!({ "session_id": sid }))["last_resolution_id"], second);
    // A trace without a resolution has none.
    let (sid2, _) = c.session(AGENT, "none");
    let restored = b.ok("session.restore", json!({ "events": c.session_events(&sid2) }));
    assert_eq!(restored["last_resolution_id"], Value::Null);
}

#[test]
fn restore_of_a_live_session_is_refused() {
    let (mut a, sid, _h, _rid, events) = recorded();
    let before = a.snapshot(&sid);
    let e = a.err("session.restore", json!({ "events": events }));
    assert_eq!(code(&e), "session_exists");
    assert_eq!(a.snapshot(&sid), before);
}

// ------------------------------------------------------------------------------------------------- replay and diff

fn finished_session() -> (Core, String, Vec<Value>) {
    let mut f = fx();
    let id = Fx::exec_id(&f.request("doc.read", json!({"doc_id": "d-1"})));
    f.c.now = t0() + 5 * SEC;
    f.c.complete(&f.sid, &id, json!({"text": "hi"}));
    f.request("doc.delete", json!({"doc_id": "d-1"}));
    f.c.now = t0() + 60 * SEC;
    let sid = f.sid.clone();
    f.c.resolve_with(&sid, AGENT, json!({"risk_tier": "medium"}), json!({"context": {"team": "blue"}}));
    f.c.ok("session.end", json!({"session_id": sid, "reason": "completed"}));
    let events = f.c.session_events(&sid);
    (f.c, sid, events)
}

#[test]
fn replay_of_a_recorded_session_is_identical() {
    let (mut c, _sid, events) = finished_session();
    let out = c.ok("trace.replay", json!({ "events": events }));
    assert_eq!(out["identical"], true, "divergences: {}", out["divergences"]);
    assert_eq!(out["divergences"], json!([]));
    assert_eq!(out["original_length"], json!(events.len()));
    assert_eq!(out["replayed_length"], json!(events.len()));
    assert_eq!(types(&out["events"]), types_of(&events));
}

#[test]
fn replay_is_identical_with_every_kind_of_event() {
    let mut f = fx();
    let sid = f.sid.clone();
    let a = Fx::exec_id(&f.request("pay.send", json!({"amount": 1})));
    let b = Fx::exec_id(&f.request("pay.send", json!({"amount": 2})));
    f.c.now = t0() + 2 * SEC;
    f.c.ok("action.approve", json!({"session_id": sid, "execution_id": a, "approver": "alice"}));
    f.c.ok("action.deny", json!({"session_id": sid, "execution_id": b, "reason": "no"}));
    f.c.complete(&sid, &a, json!({"paid": true}));
    let x = Fx::exec_id(&f.request("doc.write", json!({"doc_id": "d"})));
    f.c.ok("action.fail", json!({"session_id": sid, "execution_id": x, "error_code": "E", "error_message": "m"}));
    f.c.ok("action.request", json!({"session_id": sid, "resolution_id": f.rid, "action_id": "doc.write", "parameters": {}, "schema_errors": [{"path": "", "message": "bad"}]}));
    f.c.ok("action.request", json!({"session_id": sid, "resolution_id": f.rid, "action_id": "doc.read", "parameters": {}, "idempotency_key": "k"}));
    f.c.ok("trace.append", json!({"session_id": sid, "event_type": "error.occurred", "payload": {"code": "c", "message": "m"}}));
    f.c.ok("trace.append", json!({"session_id": sid, "event_type": "context.redacted", "payload": {"block_id": "b", "redaction_reason": "pii"}}));
    f.c.now = t0() + 3 * SEC;
    f.c.resolve(&sid, AGENT);
    f.c.ok("session.end", json!({"session_id": sid, "reason": "completed"}));
    let events = f.c.session_events(&sid);
    let out = f.c.ok("trace.replay", json!({ "events": events }));
    assert_eq!(out["identical"], true, "divergences: {}", out["divergences"]);
    assert_eq!(out["replayed_length"], json!(events.len()));
}

#[test]
fn replay_against_a_changed_atlas_diverges() {
    let (mut c, _sid, events) = finished_session();
    let mut m = docs_atlas();
    m["version"] = json!("1.1.0");
    m["policies"] = json!([allow("allow-docs", &["doc.write"]), deny("deny-delete", &["doc.delete"], "documents are kept")]);
    c.ok("atlas.load", json!({"manifest": m, "replace": true}));
    let out = c.ok("trace.replay", json!({ "events": events }));
    assert_eq!(out["identical"], false);
    let div = out["divergences"].as_array().unwrap();
    assert!(!div.is_empty());
    assert!(
        div.iter().any(|d| d["event_type"] == "carp.resolution.completed" || d["event_type"] == "policy.evaluated"),
        "the resolution diverges: {:?}",
        div
    );
}

#[test]
fn replay_refuses_an_unverifiable_trace() {
    let (mut c, _sid, mut events) = finished_session();
    events.remove(2);
    let e = c.err("trace.replay", json!({ "events": events }));
    assert_eq!(code(&e), "trace_invalid");
}

#[test]
fn diff_reports_added_removed_and_changed_events() {
    let (mut c, _sid, events) = finished_session();
    let d = c.ok("trace.diff", json!({"a": events, "b": events}));
    assert_eq!(d, json!({"identical": true, "differences": []}));

    let mut fewer = events.clone();
    let removed_type = fewer.remove(3)["event_type"].clone();
    let d = c.ok("trace.diff", json!({"a": events, "b": fewer}));
    assert_eq!(d["identical"], false);
    let diffs = d["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 1, "{:?}", diffs);
    assert_eq!(diffs[0]["kind"], "removed");
    assert_eq!(diffs[0]["index"], 3);
    assert_eq!(diffs[0]["event_type"], removed_type);

    let d = c.ok("trace.diff", json!({"a": fewer, "b": events}));
    let diffs = d["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 1, "{:?}", diffs);
    assert_eq!(diffs[0]["kind"], "added");
    assert_eq!(diffs[0]["index"], 3);

    let mut changed = events.clone();
    let i = changed.iter().position(|e| e["event_type"] == "action.denied").unwrap();
    changed[i]["payload"]["reason"] = json!("something else");
    let d = c.ok("trace.diff", json!({"a": events, "b": changed}));
    let diffs = d["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 1, "{:?}", diffs);
    assert_eq!(diffs[0]["kind"], "changed");
    assert_eq!(diffs[0]["index"], json!(i));
    assert_eq!(diffs[0]["event_type"], "action.denied");
    assert_eq!(diffs[0]["paths"], json!(["/payload/reason"]));
}

#[test]
fn diff_ignores_timestamps_and_hashes() {
    let (mut c, _sid, events) = finished_session();
    let mut other = events.clone();
    for e in other.iter_mut() {
        e["timestamp"] = json!("2030-01-01T00:00:00.000000Z");
        e["event_hash"] = json!("f".repeat(64));
    }
    let d = c.ok("trace.diff", json!({"a": events, "b": other}));
    assert_eq!(d["identical"], true, "{}", d);
}

#[test]
fn action_get_answers_an_execution_as_it_stands() {
    let mut f = fx();
    let sid = f.sid.clone();
    let out = f.request("doc.read", json!({"doc_id": "d-1"}));
    let id = Fx::exec_id(&out);
    let got = f.c.ok("action.get", json!({"session_id": sid, "execution_id": id}));
    assert_eq!(got["execution"], out["execution"]);
    f.c.ok("action.complete", json!({"session_id": sid, "execution_id": id, "result": {"ok": true}}));
    let got = f.c.ok("action.get", json!({"session_id": sid, "execution_id": id.to_uppercase()}));
    assert_eq!(got["execution"]["status"], "executed");
    let ghost = "0000dead-0000-4000-8000-000000000000";
    f.refused("action.get", json!({"session_id": sid, "execution_id": ghost}), "execution_not_found");
    f.refused("action.get", json!({"session_id": sid, "execution_id": id, "extra": 1}), "invalid_request");
    // Another session's execution is not found in this one.
    let (sid2, _) = f.c.session(AGENT, "g2");
    refused_on(&mut f.c, &sid2, "action.get", json!({"session_id": sid2, "execution_id": id}), "execution_not_found");
}
