//! Refusals a model can act on (ABI.md `Execution.details`): every code with its specifics, every problem listed
//! (not only the first), the closest known ids of an unknown action, what the trace keeps (safe payloads, no
//! parameter values), and restore giving the same details and reason as the live answer, minus the untraced values.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

fn shop_atlas() -> Value {
    manifest(
        "com.test.shop",
        &["ticket.lookup", "ticket.close", "refund.issue", "order.cancel", "api.call", "llm.call", "doc.delete", "pay.send"],
        json!([
            allow("allow-most", &["ticket.*", "refund.*", "api.*", "llm.*", "pay.*"]),
            deny("deny-delete", &["doc.delete"], "documents are kept"),
            {"policy_id": "approve-pay", "type": "require_approval", "actions": ["pay.send"]},
            {"policy_id": "api-rate", "type": "rate_limit", "actions": ["api.call"], "parameters": {"max_calls": 1, "window_seconds": 60}},
            {"policy_id": "spend", "type": "budget", "actions": ["llm.call"], "parameters": {"max_cost": 10, "cost_param": "tokens"}},
            {"policy_id": "llm-models", "type": "scope", "actions": ["llm.call"], "parameters": {"allowed_values": {"model": ["small"]}}},
            {"policy_id": "limits", "type": "scope", "actions": ["refund.issue"],
             "parameters": {"allowed_values": {"currency": ["EUR", "USD"]}, "max": {"amount": 500}}},
            {"policy_id": "counts", "type": "scope", "actions": ["refund.issue"], "parameters": {"max": {"items": 3, "a/b~c": 1.5}}},
        ]),
    )
}

fn other_atlas() -> Value {
    manifest("com.test.other", &["other.act"], json!([allow("all", &["*"])]))
}

struct Fx {
    c: Core,
    sid: String,
    rid: String,
    keys: u32,
}

fn fx() -> Fx {
    let mut c = Core::new();
    c.load(shop_atlas());
    c.load(other_atlas());
    let (sid, _) = c.session(AGENT, "refusals");
    let rid = c.resolve(&sid, AGENT)["resolution_id"].as_str().unwrap().to_string();
    Fx { c, sid, rid, keys: 0 }
}

impl Fx {
    /// `action.request` with an idempotency key (so that a restored session can be asked for the same execution).
    fn request(&mut self, action_id: &str, params: Value, schema_errors: Value) -> Value {
        let rid = self.rid.clone();
        self.request_on(&rid, action_id, params, schema_errors)
    }

    fn request_on(&mut self, rid: &str, action_id: &str, params: Value, schema_errors: Value) -> Value {
        self.keys += 1;
        let key = format!("k-{}", self.keys);
        let out = self.c.ok(
            "action.request",
            json!({"session_id": self.sid, "resolution_id": rid, "action_id": action_id, "parameters": params,
                   "schema_errors": schema_errors, "idempotency_key": key}),
        );
        for e in out["events"].as_array().unwrap() {
            check_event(e);
        }
        out
    }

    fn refused(&mut self, action_id: &str, params: Value) -> Value {
        self.request(action_id, params, json!([]))
    }
}

fn details(out: &Value) -> &Value {
    &out["execution"]["details"]
}

fn denied_payload(out: &Value) -> &Value {
    let e = out["events"].as_array().unwrap().iter().find(|e| e["event_type"] == "action.denied").expect("an action.denied");
    &e["payload"]
}

// ------------------------------------------------------------------------------------------------- denials

#[test]
fn an_unknown_action_names_the_closest_known_ids() {
    let mut f = fx();
    let out = f.refused("tickets.lookup", json!({}));
    let x = &out["execution"];
    assert_eq!(x["status"], "denied");
    assert_eq!(x["reason"], "unknown action `tickets.lookup`; did you mean `ticket.lookup`?");
    assert_eq!(details(&out), &json!({"code": "unknown_action", "action_id": "tickets.lookup", "closest": ["ticket.lookup"]}));
    let p = denied_payload(&out);
    assert_eq!((&p["code"], &p["closest"]), (&json!("unknown_action"), &json!(["ticket.lookup"])));
    assert_eq!(p["reason"], x["reason"]);

    let out = f.refused("ticket.clos", json!({}));
    assert_eq!(details(&out)["closest"], json!(["ticket.close"]));
    let out = f.refused("ticket.look", json!({}));
    assert_eq!(details(&out)["closest"], json!(["ticket.lookup", "ticket.close"]), "nearest first");

    let out = f.refused("zebra.stripes", json!({}));
    assert_eq!(out["execution"]["reason"], "unknown action `zebra.stripes`", "no suggestion when nothing is near");
    assert_eq!(details(&out)["closest"], json!([]));
    assert_eq!(denied_payload(&out)["closest"], json!([]));
}

#[test]
fn an_unknown_action_is_found_on_the_carp_execute_path_too() {
    let mut f = fx();
    let req = json!({
        "carp_version": "1.0", "request_id": f.c.new_request_id(), "timestamp": stamp(f.c.now), "operation": "execute",
        "requester": {"agent_id": AGENT, "session_id": f.sid},
        "execution": {"resolution_id": f.rid, "action_id": "refund.isue", "parameters": {}},
    });
    let out = f.c.ok("carp.request", json!({ "request": req }));
    assert_eq!(details(&out), &json!({"code": "unknown_action", "action_id": "refund.isue", "closest": ["refund.issue"]}));
    assert_eq!(out["execution"]["reason"], "unknown action `refund.isue`; did you mean `refund.issue`?");
}

#[test]
fn a_known_action_outside_the_resolution_is_not_in_resolution() {
    let mut f = fx();
    let rid = f.c.resolve_with(&f.sid.clone(), AGENT, json!({}), json!({"atlas_ids": ["com.test.shop"]}))["resolution_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = f.request_on(&rid, "other.act", json!({}), json!([]));
    assert_eq!(out["execution"]["reason"], "the action is not part of this resolution");
    assert_eq!(details(&out), &json!({"code": "not_in_resolution", "action_id": "other.act"}));
    assert_eq!(denied_payload(&out)["code"], "not_in_resolution");
    assert!(denied_payload(&out).get("closest").is_none());
}

#[test]
fn actions_of_an_unloaded_atlas_are_unknown_unless_the_resolution_had_them() {
    let mut f = fx();
    f.c.ok("atlas.unload", json!({"atlas_id": "com.test.other"}));
    let out = f.refused("other.act", json!({}));
    assert_eq!(details(&out), &json!({"code": "atlas_unloaded"}), "the resolution had it: its atlas was unloaded");
    assert_eq!(out["execution"]["policy_id"], "unloaded");
    let rid = f.c.resolve(&f.sid.clone(), AGENT)["resolution_id"].as_str().unwrap().to_string();
    let out = f.request_on(&rid, "other.act", json!({}), json!([]));
    assert_eq!(details(&out)["code"], "unknown_action", "no loaded atlas declares it any more");
}

#[test]
fn an_expired_resolution_is_resolution_expired() {
    let mut f = fx();
    f.c.now = t0() + 3601 * SEC;
    let out = f.refused("ticket.lookup", json!({}));
    assert_eq!(details(&out), &json!({"code": "resolution_expired"}));
    assert_eq!(out["execution"]["policy_id"], "ttl");
    assert_eq!(denied_payload(&out)["code"], "resolution_expired");
}

#[test]
fn policy_denials_name_their_policy() {
    let mut f = fx();
    let out = f.refused("doc.delete", json!({}));
    assert_eq!(out["execution"]["reason"], "documents are kept");
    assert_eq!(details(&out), &json!({"code": "policy_denied", "policy_id": "deny-delete"}));
    let out = f.refused("order.cancel", json!({}));
    assert_eq!(details(&out), &json!({"code": "default_deny", "policy_id": "default"}));
    assert_eq!(denied_payload(&out)["code"], "default_deny");
}

#[test]
fn a_rate_limit_says_when_to_retry() {
    let mut f = fx();
    assert_eq!(f.refused("api.call", json!({}))["execution"]["details"], Value::Null, "approved: no details");
    f.c.now += 15 * SEC;
    let out = f.refused("api.call", json!({}));
    let x = &out["execution"];
    assert_eq!(x["reason"], "rate_limited");
    assert_eq!(x["retry_after_seconds"], 45, "kept top-level");
    assert_eq!(details(&out), &json!({"code": "rate_limited", "policy_id": "api-rate", "retry_after_seconds": 45}));
    let p = denied_payload(&out);
    assert_eq!((&p["code"], &p["retry_after_seconds"]), (&json!("rate_limited"), &json!(45)));
}

#[test]
fn budgets_are_exhausted_at_resolve_and_at_execute_time() {
    let mut f = fx();
    let out = f.refused("llm.call", json!({"tokens": 11, "model": "small"}));
    assert_eq!(details(&out), &json!({"code": "budget_exhausted", "policy_id": "spend"}), "over the budget at execute time");
    assert_eq!(out["execution"]["reason"], "budget_exhausted");
    assert_eq!(f.refused("llm.call", json!({"tokens": 10, "model": "small"}))["execution"]["status"], "approved");
    let out = f.refused("llm.call", json!({"tokens": 0, "model": "small"}));
    assert_eq!(details(&out), &json!({"code": "budget_exhausted", "policy_id": "spend"}), "spent: the policy denies");
}

#[test]
fn a_host_refusal_of_an_approval_is_approval_denied() {
    let mut f = fx();
    let out = f.refused("pay.send", json!({"amount": 3}));
    assert_eq!(out["execution"]["status"], "pending_approval");
    assert_eq!(details(&out), &Value::Null);
    let id = out["execution"]["execution_id"].clone();
    let out = f.c.ok("action.deny", json!({"session_id": f.sid, "execution_id": id, "approver": "lead@example.com", "reason": "not today"}));
    assert_eq!(out["execution"]["reason"], "not today");
    assert_eq!(details(&out), &json!({"code": "approval_denied", "policy_id": "approve-pay", "approver": "lead@example.com"}));
    assert_eq!(denied_payload(&out)["code"], "approval_denied");
    check_event(&out["events"][0]);
}

// ------------------------------------------------------------------------------------------------- violations

#[test]
fn every_schema_error_is_listed() {
    let mut f = fx();
    let errors = json!([
        {"path": "/ticket_id", "message": "String does not match pattern."},
        {"path": "", "message": "Instance does not have required property \"reason\"."},
    ]);
    let out = f.request("ticket.lookup", json!({"ticket_id": "nope"}), errors.clone());
    let x = &out["execution"];
    assert_eq!(x["status"], "violated");
    assert_eq!(x["policy_id"], "parameters_schema");
    assert_eq!(x["reason"], "invalid parameters: /ticket_id String does not match pattern. (+1 more)");
    assert_eq!(details(&out), &json!({"code": "invalid_parameters", "errors": errors}));
    assert_eq!(types(&out["events"]), strs(&["action.requested", "policy.violated"]));
    let p = &out["events"][1]["payload"];
    assert_eq!(p["violation_type"], "invalid_parameters");
    assert_eq!(p["details"]["errors"], errors);
}

#[test]
fn every_scope_problem_of_every_scope_policy_is_listed_with_its_value_on_the_answer_only() {
    let mut f = fx();
    let out = f.refused("refund.issue", json!({"amount": 900.25, "currency": "JPY", "items": "many", "a/b~c": 2}));
    let x = &out["execution"];
    assert_eq!(x["status"], "violated");
    assert_eq!(x["policy_id"], "limits", "the first violated policy");
    assert_eq!(x["reason"], "`currency` is not one of the allowed values (+3 more)");
    assert_eq!(
        details(&out),
        &json!({"code": "scope_violation", "violations": [
            {"policy_id": "limits", "parameter": "currency", "path": "/currency", "constraint": "allowed_values",
             "allowed": ["EUR", "USD"], "value": "JPY", "message": "`currency` is not one of the allowed values"},
            {"policy_id": "limits", "parameter": "amount", "path": "/amount", "constraint": "max",
             "limit": 500, "value": 900.25, "message": "`amount` exceeds the maximum 500"},
            {"policy_id": "counts", "parameter": "items", "path": "/items", "constraint": "number",
             "limit": 3, "value": "many", "message": "`items` must be a number"},
            {"policy_id": "counts", "parameter": "a/b~c", "path": "/a~1b~0c", "constraint": "max",
             "limit": 1.5, "value": 2, "message": "`a/b~c` exceeds the maximum 1.5"},
        ]})
    );
    // One policy.violated per violated policy, in order; strings only, no values.
    assert_eq!(types(&out["events"]), strs(&["action.requested", "policy.violated", "policy.violated"]));
    let (a, b) = (&out["events"][1]["payload"], &out["events"][2]["payload"]);
    assert_eq!((&a["policy_id"], &a["violation_type"]), (&json!("limits"), &json!("scope")));
    assert_eq!(
        a["details"]["violations"],
        json!([
            {"parameter": "currency", "constraint": "allowed_values", "message": "`currency` is not one of the allowed values"},
            {"parameter": "amount", "constraint": "max", "message": "`amount` exceeds the maximum 500"},
        ])
    );
    assert_eq!(a["details"]["message"], "`currency` is not one of the allowed values; `amount` exceeds the maximum 500");
    assert_eq!(b["policy_id"], "counts");
    assert_eq!(b["details"]["violations"].as_array().unwrap().len(), 2);
    let trace = serde_json::to_string(&out["events"]).unwrap();
    for secret in ["JPY", "900", "many", "EUR"] {
        assert!(!trace.contains(secret), "the trace holds no parameter value nor bound: {}", secret);
    }
}

#[test]
fn schema_errors_scope_problems_and_bad_costs_together_are_invalid_parameters() {
    let mut f = fx();
    let out = f.request("llm.call", json!({"tokens": "lots", "model": "huge"}), json!([{"path": "/tokens", "message": "must be a number"}]));
    let x = &out["execution"];
    assert_eq!(x["status"], "violated");
    assert_eq!(x["policy_id"], "parameters_schema");
    let d = details(&out);
    assert_eq!(d["code"], "invalid_parameters");
    assert_eq!(
        d["errors"],
        json!([
            {"path": "/tokens", "message": "must be a number"},
            {"path": "/tokens", "message": "the budget's cost parameter must be a non-negative number"},
        ])
    );
    assert_eq!(d["violations"][0]["parameter"], "model");
    assert_eq!(x["reason"], "invalid parameters: /tokens must be a number (+2 more)");
    let kinds: Vec<(Value, Value)> = out["events"].as_array().unwrap()[1..]
        .iter()
        .map(|e| (e["payload"]["policy_id"].clone(), e["payload"]["violation_type"].clone()))
        .collect();
    assert_eq!(kinds.len(), 3, "schema, the budget's cost parameter, the scope: {:?}", kinds);
    assert_eq!(kinds[0], (json!("parameters_schema"), json!("invalid_parameters")));
    assert!(kinds.contains(&(json!("spend"), json!("invalid_parameters"))));
    assert!(kinds.contains(&(json!("llm-models"), json!("scope"))));

    let out = f.refused("llm.call", json!({"tokens": -1, "model": "small"}));
    assert_eq!(
        details(&out),
        &json!({"code": "invalid_parameters", "errors": [{"path": "/tokens", "message": "the budget's cost parameter must be a non-negative number"}]}),
        "an invalid cost parameter alone"
    );
    assert_eq!(out["execution"]["policy_id"], "spend");
}

#[test]
fn other_statuses_have_no_details() {
    let mut f = fx();
    let out = f.refused("ticket.lookup", json!({}));
    assert_eq!(out["execution"]["status"], "approved");
    assert!(out["execution"].as_object().unwrap().contains_key("details"));
    assert_eq!(details(&out), &Value::Null);
    let id = out["execution"]["execution_id"].clone();
    let done = f.c.ok("action.fail", json!({"session_id": f.sid, "execution_id": id, "error_code": "E", "error_message": "m"}));
    assert_eq!(done["execution"]["details"], Value::Null);
}

// ------------------------------------------------------------------------------------------------- restore

/// The live answer without what the trace does not keep (`value`, `limit`, `allowed` of violations).
fn untraced_removed(x: &Value) -> Value {
    let mut x = x.clone();
    if let Some(list) = x.get_mut("details").and_then(|d| d.get_mut("violations")).and_then(Value::as_array_mut) {
        for v in list {
            let m = v.as_object_mut().unwrap();
            for k in ["value", "limit", "allowed"] {
                m.remove(k);
            }
        }
    }
    x
}

#[test]
fn restore_gives_the_same_details_and_reasons() {
    let mut f = fx();
    let mut live: Vec<(String, Value, Value)> = Vec::new();
    let mut record = |f: &mut Fx, action: &str, params: Value, errors: Value| {
        let out = f.request(action, params.clone(), errors);
        live.push((action.to_string(), params, out["execution"].clone()));
    };
    record(&mut f, "tickets.lookup", json!({}), json!([]));
    record(&mut f, "zebra.stripes", json!({}), json!([]));
    record(&mut f, "doc.delete", json!({}), json!([]));
    record(&mut f, "order.cancel", json!({}), json!([]));
    record(&mut f, "api.call", json!({}), json!([]));
    record(&mut f, "api.call", json!({"n": 2}), json!([]));
    record(&mut f, "llm.call", json!({"tokens": 11, "model": "small"}), json!([]));
    record(&mut f, "ticket.lookup", json!({"ticket_id": 1}), json!([{"path": "/ticket_id", "message": "must be a string"}, {"path": "", "message": "x"}]));
    record(&mut f, "refund.issue", json!({"amount": 900, "currency": "JPY", "items": "many"}), json!([]));
    record(&mut f, "llm.call", json!({"tokens": "lots", "model": "huge"}), json!([{"path": "/tokens", "message": "must be a number"}]));
    record(&mut f, "pay.send", json!({"amount": 3}), json!([]));
    let pending = live.last().unwrap().2["execution_id"].clone();
    let denied = f.c.ok("action.deny", json!({"session_id": f.sid, "execution_id": pending, "approver": "lead@example.com"}));
    live.last_mut().unwrap().2 = denied["execution"].clone();

    let events = f.c.session_events(&f.sid);
    check_chain(&events);
    let mut b = Core::with_prefix(0xb0000000);
    b.load(shop_atlas());
    b.load(other_atlas());
    let out = b.ok("session.restore", json!({ "events": events }));
    assert_eq!(out["stale_resolutions"], json!([]));
    for (i, (action, params, x)) in live.iter().enumerate() {
        let again = b.ok(
            "action.request",
            json!({"session_id": f.sid, "resolution_id": f.rid, "action_id": action, "parameters": params, "idempotency_key": format!("k-{}", i + 1)}),
        );
        assert_eq!(again["events"], json!([]), "the same execution, answered again");
        assert_eq!(again["execution"], untraced_removed(x), "restored execution {} ({})", i, action);
        if x["status"] != "approved" {
            assert!(x["reason"].is_string() && x["details"]["code"].is_string(), "every refusal has a reason and a code: {}", x);
        }
    }
}

#[test]
fn restore_reads_refusals_recorded_before_details_existed() {
    let mut f = fx();
    let violated = f.refused("refund.issue", json!({"amount": 900, "currency": "USD"}));
    let expired_at = t0() + 3601 * SEC;
    f.c.now = expired_at;
    let denied = f.refused("ticket.lookup", json!({}));
    let mut events = f.c.session_events(&f.sid);
    // Rewrite the two refusals as the previous runtime recorded them: one problem, no code.
    let n = events.len();
    for e in events.iter_mut() {
        if e["event_type"] == "policy.violated" {
            e["payload"]["details"] = json!({"parameter": "amount", "message": "`amount` exceeds the maximum 500.0"});
        }
        if e["event_type"] == "action.denied" {
            e["payload"].as_object_mut().unwrap().remove("code");
        }
    }
    rehash_from(&mut events, 0);
    assert_eq!(events.len(), n);
    let mut b = Core::with_prefix(0xb0000000);
    b.load(shop_atlas());
    b.load(other_atlas());
    b.ok("session.restore", json!({ "events": events }));
    b.now = expired_at;
    for (i, (action, params, live)) in
        [("refund.issue", json!({"amount": 900, "currency": "USD"}), &violated), ("ticket.lookup", json!({}), &denied)].iter().enumerate()
    {
        let again = b.ok(
            "action.request",
            json!({"session_id": f.sid, "resolution_id": f.rid, "action_id": action, "parameters": params, "idempotency_key": format!("k-{}", i + 1)}),
        );
        let x = &again["execution"];
        assert_eq!(x["status"], live["execution"]["status"]);
        if i == 0 {
            assert_eq!(x["reason"], "`amount` exceeds the maximum 500.0", "the recorded message");
            assert_eq!(
                x["details"],
                json!({"code": "scope_violation", "violations": [{"policy_id": "limits", "parameter": "amount", "path": "/amount",
                       "constraint": "max", "message": "`amount` exceeds the maximum 500.0"}]})
            );
        } else {
            assert_eq!(x["details"], json!({"code": "resolution_expired"}), "classified from policy `ttl`");
        }
    }
}

#[test]
fn a_stale_resolution_is_resolution_stale_for_requests_and_approvals() {
    let mut f = fx();
    let pending = f.refused("pay.send", json!({"amount": 3}))["execution"]["execution_id"].clone();
    let events = f.c.session_events(&f.sid);
    let mut b = Core::with_prefix(0xb0000000);
    let mut m = shop_atlas();
    m["version"] = json!("2.0.0");
    m["policies"] = json!([allow("only-lookups", &["ticket.lookup"])]);
    b.load(m);
    b.load(other_atlas());
    assert_eq!(b.ok("session.restore", json!({ "events": events }))["stale_resolutions"], json!([f.rid]));
    let out = b.execute(&f.sid, &f.rid, "ticket.lookup", json!({}));
    assert_eq!(out["execution"]["details"], json!({"code": "resolution_stale"}));
    assert_eq!(out["execution"]["policy_id"], "stale");
    let out = b.ok("action.approve", json!({"session_id": f.sid, "execution_id": pending}));
    assert_eq!(out["execution"]["status"], "denied", "nothing runs on a stale resolution, approved or not");
    assert_eq!(out["execution"]["details"], json!({"code": "resolution_stale"}));
    assert_eq!(out["events"][0]["payload"]["code"], "resolution_stale");
}
