//! The protocol's golden case (spec/conformance/simple-resolve): the resolution and the trace of one resolve
//! must match the published expectations, `$dynamic` values aside (SPEC, introduction and §2–§4).

mod common;

use common::*;
use cra_core::json::canonical;
use serde_json::{json, Value};

#[test]
fn golden_resolution_matches_expected_resolution() {
    let (_c, _sid, _h, res) = golden();
    let expected = fixture_json("conformance/simple-resolve/expected-resolution.json");
    let mut diffs = Vec::new();
    dynamic_diff(&expected, &res, "", &mut diffs);
    assert!(diffs.is_empty(), "resolution differs from expected-resolution.json at {:?}\nactual: {}", diffs, res);
}

#[test]
fn golden_resolution_matches_the_resolution_schema() {
    let (_c, _sid, _h, res) = golden();
    check_resolution(&res);
}

#[test]
fn golden_resolution_dynamic_values_are_well_formed() {
    let (c, sid, _h, res) = golden();
    assert!(is_lower_uuid(res["resolution_id"].as_str().unwrap()), "resolution_id {}", res["resolution_id"]);
    assert!(is_lower_uuid(res["trace_id"].as_str().unwrap()), "trace_id {}", res["trace_id"]);
    // Every event of one call carries the host time of that call; the resolution is stamped with it too.
    assert_eq!(res["timestamp"], "2024-12-28T12:00:00.000000Z");
    let block = &res["context_blocks"][0];
    assert_eq!(block["block_id"], "com.cra.conformance.simple/overview/context/overview.md");
    assert_eq!(block["content"], OVERVIEW_MD);
    let chars = OVERVIEW_MD.chars().count() as u64;
    assert_eq!(block["token_estimate"].as_u64(), Some((chars + 3) / 4), "token estimate is ceil(chars / 4)");
    // The resolution's trace id is the session's (SPEC §9: it differed in the reference).
    let s = c.events[&sid][0].clone();
    assert_eq!(res["trace_id"], s["trace_id"]);
}

#[test]
fn golden_trace_matches_expected_trace() {
    let (c, sid, _h, _res) = golden();
    let expected = fixture_jsonl("conformance/simple-resolve/expected-trace.jsonl");
    let events = c.session_events(&sid);
    assert_eq!(
        types_of(&events),
        types_of(&expected),
        "the session's events (session.create + session.resolve) differ in number or type from expected-trace.jsonl"
    );
    for (i, (e, a)) in expected.iter().zip(events.iter()).enumerate() {
        let mut diffs = Vec::new();
        dynamic_diff(e, a, "", &mut diffs);
        assert!(diffs.is_empty(), "event {} differs from expected-trace.jsonl at {:?}\nactual: {}", i, diffs, a);
    }
}

#[test]
fn golden_trace_events_are_well_formed_and_hashed_per_spec() {
    let (c, sid, _h, _res) = golden();
    let events = c.session_events(&sid);
    check_chain(&events);
    for e in &events {
        assert_eq!(e["timestamp"], "2024-12-28T12:00:00.000000Z", "every event carries the call's host time");
    }
}

#[test]
fn golden_trace_shares_one_trace_id_with_the_resolution() {
    let (c, sid, _h, res) = golden();
    for e in &c.session_events(&sid) {
        assert_eq!(e["trace_id"], res["trace_id"], "event {} has another trace id", e["event_type"]);
    }
}

#[test]
fn golden_trace_spans_nest_resolve_events_under_the_request() {
    let (c, sid, _h, _res) = golden();
    let events = c.session_events(&sid);
    assert_eq!(events[0]["parent_span_id"], Value::Null, "session.started is the root span");
    let root = events[0]["span_id"].as_str().unwrap().to_string();
    let request_span = events[1]["span_id"].as_str().unwrap().to_string();
    assert_eq!(events[1]["parent_span_id"], json!(root), "carp.request.received is a child of the session span");
    for e in &events[2..] {
        assert!(!e["parent_span_id"].is_null(), "resolve events have a parent span: {}", e);
        assert_eq!(e["parent_span_id"], json!(request_span), "{} is a child of the request's span", e["event_type"]);
    }
    let mut spans: Vec<&str> = events.iter().map(|e| e["span_id"].as_str().unwrap()).collect();
    spans.sort();
    spans.dedup();
    assert_eq!(spans.len(), events.len(), "span ids are unique");
    let mut ids: Vec<&str> = events.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "event ids are unique");
}

#[test]
fn golden_trace_verifies_with_trace_verify() {
    let (mut c, sid, _h, _res) = golden();
    let events = c.session_events(&sid);
    let v = c.verify(&events);
    let head = events.last().unwrap()["event_hash"].clone();
    assert_eq!(v, json!({"valid": true, "length": 5, "head_hash": head}));
    let s = c.get_session(&sid);
    assert_eq!(s["event_count"], 5);
    assert_eq!(s["head_hash"], head, "session.get reports the chain head");
    let v = c.ok("trace.verify", json!({"events": events, "expected_head": {"length": 5, "head_hash": head}}));
    assert_eq!(v["valid"], true);
}

#[test]
fn golden_request_received_carries_the_client_request_id() {
    let (c, sid, _h, res) = golden();
    let events = c.session_events(&sid);
    assert_eq!(events[1]["payload"]["request_id"], "00000000-0000-0000-0000-000000000001");
    assert_eq!(res["request_id"], "00000000-0000-0000-0000-000000000001");
    assert_eq!(events[4]["payload"]["resolution_id"], res["resolution_id"]);
}

#[test]
fn golden_check_answers_follow_the_resolution() {
    let (mut c, _sid, h, _res) = golden();
    for a in ["resource.get", "resource.list", "resource.create", "resource.update"] {
        assert_eq!(c.check(h, a), 1, "{} is allowed", a);
    }
    assert_eq!(c.check(h, "resource.delete"), 0, "resource.delete is denied");
}

#[test]
fn golden_check_json_form_agrees_with_cra_check() {
    let (mut c, sid, _h, _res) = golden();
    let v = c.ok("session.check", json!({"session_id": sid, "action_id": "resource.get"}));
    assert_eq!(v["code"], 1);
    assert_eq!(v["result"], "allow");
    let v = c.ok("session.check", json!({"session_id": sid, "action_id": "resource.delete"}));
    assert_eq!(v["code"], 0);
}

#[test]
fn golden_flat_request_form_resolves_like_the_nested_one() {
    // SPEC §9: the reference runtime's flat request is accepted as a compatibility input.
    let (mut c, _sid, _h, nested) = golden();
    let (sid2, _) = c.session("conformance-test-agent", "Manage resources in the test environment");
    let flat = json!({
        "carp_version": "1.0",
        "request_id": "00000000-0000-0000-0000-000000000002",
        "timestamp": "2024-12-28T12:00:00.000Z",
        "operation": "resolve",
        "session_id": sid2,
        "agent_id": "conformance-test-agent",
        "goal": "Manage resources in the test environment",
        "risk_tier": "low",
        "atlas_ids": ["com.cra.conformance.simple"],
    });
    let res = c.ok("session.resolve", json!({ "request": flat }))["resolution"].clone();
    assert_eq!(res["decision"], nested["decision"]);
    assert_eq!(res["allowed_actions"], nested["allowed_actions"]);
    assert_eq!(res["denied_actions"], nested["denied_actions"]);
    assert_eq!(res["context_blocks"], nested["context_blocks"]);
}

#[test]
fn golden_validate_operation_is_a_dry_run_with_the_same_resolution() {
    let mut c = Core::new();
    c.load_with_files(fixture_json("conformance/simple-resolve/atlas.json"), json!({"context/overview.md": OVERVIEW_MD}));
    let mut req = fixture_json("conformance/simple-resolve/request.json");
    c.ok(
        "session.create",
        json!({"agent_id": GOLDEN_AGENT, "goal": req["task"]["goal"], "session_id": req["requester"]["session_id"]}),
    );
    let sid = req["requester"]["session_id"].as_str().unwrap().to_string();
    req["operation"] = json!("validate");
    let before = c.snapshot(&sid);
    let out = c.ok("carp.request", json!({ "request": req }));
    assert!(out.get("events").map(|e| e.as_array().map(|a| a.is_empty()).unwrap_or(true)).unwrap_or(true), "validate records nothing");
    assert_eq!(c.snapshot(&sid), before, "validate changes no session state");
    let dry = out["resolution"].clone();
    let expected = fixture_json("conformance/simple-resolve/expected-resolution.json");
    let mut diffs = Vec::new();
    dynamic_diff(&expected, &dry, "", &mut diffs);
    assert!(diffs.is_empty(), "validate's resolution differs at {:?}", diffs);
    // The same request id then resolves for real (a dry run does not consume it).
    req["operation"] = json!("resolve");
    let real = c.ok("carp.request", json!({ "request": req }));
    assert_eq!(real["resolution"]["allowed_actions"], dry["allowed_actions"]);
    assert_eq!(types(&real["events"]).len(), 4);
}

#[test]
fn golden_case_is_deterministic_across_runtimes() {
    let (c1, sid1, _, r1) = golden();
    let (c2, sid2, _, r2) = golden();
    assert_eq!(canonical(&r1), canonical(&r2));
    assert_eq!(
        serde_json::to_string(&c1.session_events(&sid1)).unwrap(),
        serde_json::to_string(&c2.session_events(&sid2)).unwrap()
    );
}
