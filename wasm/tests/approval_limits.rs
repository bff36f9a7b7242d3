//! Limits at approval: an execution that waits for approval is checked again, when approved, against every limit
//! as it stands then — a cost budget against what is left of it, rate limits and call budgets against the calls
//! approved meanwhile — in the call that charges it. Several pending executions approved one after the other
//! never spend more than a limit allows, and a restored or replayed trace gives the same state: an execution
//! waiting for approval records its cost (the trace keeps no parameters), which its approval after a restore checks
//! and charges.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

/// `llm.call` behind an approval gate, with a cost budget of 100 on its `tokens` parameter.
fn cost_atlas() -> Value {
    manifest(
        "com.test.spend",
        &["llm.call"],
        json!([
            {"policy_id": "gate", "type": "require_approval", "actions": ["llm.call"]},
            {"policy_id": "spend", "type": "budget", "actions": ["llm.call"], "parameters": {"max_cost": 100, "cost_param": "tokens"}},
        ]),
    )
}

/// `api.call` behind an approval gate with `limit` (a policy) as its only other restriction.
fn gated_atlas(limit: Value) -> Value {
    manifest("com.test.gated", &["api.call"], json!([{"policy_id": "gate", "type": "require_approval", "actions": ["api.call"]}, limit]))
}

/// `api.call` allowed, asking for confirmation itself, with its own rate limit of one call in ten minutes.
fn own_rate_atlas() -> Value {
    let mut a = action("api.call");
    a["requires_confirmation"] = json!(true);
    a["rate_limit"] = json!({"max_calls": 1, "window_seconds": 600});
    manifest_with("com.test.own", json!([a]), json!([allow("all", &["*"])]))
}

struct Fx {
    c: Core,
    sid: String,
    rid: String,
}

impl Fx {
    fn new(m: Value) -> Fx {
        let mut c = Core::new();
        c.load(m);
        let (sid, _) = c.session(AGENT, "spend carefully");
        let res = c.resolve(&sid, AGENT);
        let rid = res["resolution_id"].as_str().unwrap().to_string();
        Fx { c, sid, rid }
    }

    /// Requests `action_id` with `params`; answers the execution.
    fn request(&mut self, action_id: &str, params: Value) -> Value {
        let (sid, rid) = (self.sid.clone(), self.rid.clone());
        self.c.execute(&sid, &rid, action_id, params)["execution"].clone()
    }

    /// Requests `action_id` and expects it to wait for approval; answers its execution id.
    fn pending(&mut self, action_id: &str, params: Value) -> String {
        let x = self.request(action_id, params);
        assert_eq!(x["status"], "pending_approval", "{}", x);
        x["execution_id"].as_str().unwrap().to_string()
    }

    /// `action.approve`; answers `{execution, events}`.
    fn approve(&mut self, execution_id: &str) -> Value {
        let sid = self.sid.clone();
        self.c.ok("action.approve", json!({"session_id": sid, "execution_id": execution_id}))
    }
}

/// The answer of an approval refused by `policy_id` with `code`, and its trace.
fn assert_refused(out: &Value, code: &str, policy_id: &str) {
    let x = &out["execution"];
    assert_eq!(x["status"], "denied", "{}", x);
    assert_eq!(x["details"]["code"], code, "{}", x);
    assert_eq!(x["policy_id"], policy_id);
    assert_eq!(x["reason"], code, "a limit's refusal reads as its code");
    assert_eq!(types(&out["events"]), strs(&["action.denied"]));
    let p = &out["events"][0]["payload"];
    assert_eq!((p["code"].clone(), p["policy_id"].clone()), (json!(code), json!(policy_id)));
}

#[test]
fn approvals_never_overspend_a_cost_budget() {
    let mut f = Fx::new(cost_atlas());
    // Both fit what is left when requested (100 each time): both wait for approval.
    let a = f.pending("llm.call", json!({"tokens": 90}));
    let b = f.pending("llm.call", json!({"tokens": 90}));
    let first = f.approve(&a);
    assert_eq!(first["execution"]["status"], "approved");
    assert_eq!(first["events"][0]["payload"]["cost"], 90);
    // 10 is left: the second 90 would overspend the budget.
    let second = f.approve(&b);
    assert_refused(&second, "budget_exhausted", "spend");
    // Only the first was charged: 10 is still there to spend, and no more.
    f.pending("llm.call", json!({"tokens": 10}));
    let over = f.request("llm.call", json!({"tokens": 11}));
    assert_eq!((over["status"].clone(), over["details"]["code"].clone()), (json!("denied"), json!("budget_exhausted")));
}

#[test]
fn approvals_that_fit_what_is_left_are_charged_in_turn() {
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 60}));
    let b = f.pending("llm.call", json!({"tokens": 40}));
    let c = f.pending("llm.call", json!({"tokens": 1}));
    assert_eq!(f.approve(&a)["execution"]["status"], "approved");
    assert_eq!(f.approve(&b)["execution"]["status"], "approved", "40 fits the 40 left exactly");
    assert_refused(&f.approve(&c), "budget_exhausted", "spend");
}

#[test]
fn a_cost_budget_is_checked_with_one_rule_at_request_and_at_approval() {
    // The refusal of a request over what is left and of an approval over what is left by then are the same.
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 70}));
    let b = f.pending("llm.call", json!({"tokens": 31}));
    f.approve(&a);
    let at_request = f.request("llm.call", json!({"tokens": 31}));
    let at_approval = f.approve(&b)["execution"].clone();
    for k in ["status", "policy_id", "reason", "details"] {
        assert_eq!(at_request[k], at_approval[k], "`{}` of the two refusals", k);
    }
}

#[test]
fn a_rate_limit_policy_is_checked_again_at_approval() {
    let rl = json!({"policy_id": "rl", "type": "rate_limit", "actions": ["api.call"], "parameters": {"max_calls": 1, "window_seconds": 600}});
    let mut f = Fx::new(gated_atlas(rl));
    let a = f.pending("api.call", json!({"n": 1}));
    let b = f.pending("api.call", json!({"n": 2}));
    assert_eq!(f.approve(&a)["execution"]["status"], "approved");
    let out = f.approve(&b);
    assert_refused(&out, "rate_limited", "rl");
    assert_eq!(out["execution"]["retry_after_seconds"], 600);
}

#[test]
fn an_action_own_rate_limit_is_checked_again_at_approval() {
    let mut f = Fx::new(own_rate_atlas());
    let a = f.pending("api.call", json!({"n": 1}));
    let b = f.pending("api.call", json!({"n": 2}));
    assert_eq!(f.approve(&a)["execution"]["status"], "approved");
    let out = f.approve(&b);
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(out["execution"]["details"]["code"], "rate_limited");
    assert_eq!(types(&out["events"]), strs(&["action.denied"]));
}

#[test]
fn a_call_budget_is_checked_again_at_approval() {
    let budget = json!({"policy_id": "once", "type": "budget", "actions": ["api.call"], "parameters": {"max_calls": 1}});
    let mut f = Fx::new(gated_atlas(budget));
    let a = f.pending("api.call", json!({"n": 1}));
    let b = f.pending("api.call", json!({"n": 2}));
    assert_eq!(f.approve(&a)["execution"]["status"], "approved");
    assert_refused(&f.approve(&b), "budget_exhausted", "once");
}

#[test]
fn a_refused_approval_is_restored_and_replayed_as_it_was() {
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 90}));
    let b = f.pending("llm.call", json!({"tokens": 90}));
    f.approve(&a);
    f.approve(&b);
    let sid = f.sid.clone();
    let events = f.c.session_events(&sid);

    let replay = f.c.ok("trace.replay", json!({ "events": events }));
    assert_eq!(replay["identical"], true, "divergences: {}", replay["divergences"]);

    let mut g = Core::with_prefix(0xb0000000);
    g.load(cost_atlas());
    g.ok("session.restore", json!({ "events": events }));
    for id in [&a, &b] {
        let live = f.c.ok("action.get", json!({"session_id": sid, "execution_id": id}))["execution"].clone();
        let back = g.ok("action.get", json!({"session_id": sid, "execution_id": id}))["execution"].clone();
        for k in ["status", "policy_id", "reason", "details"] {
            assert_eq!(live[k], back[k], "`{}` of execution {} after restore", k, id);
        }
    }
    // The restored budget has what the live one has left: 10.
    let rid = f.rid.clone();
    for c in [&mut f.c, &mut g] {
        let over = c.execute(&sid, &rid, "llm.call", json!({"tokens": 11}))["execution"].clone();
        assert_eq!(over["details"]["code"], "budget_exhausted");
        let fits = c.execute(&sid, &rid, "llm.call", json!({"tokens": 10}))["execution"].clone();
        assert_eq!(fits["status"], "pending_approval");
    }
}

/// The `action.requested` events of `events`, by execution id.
fn requested(events: &[Value], execution_id: &str) -> Value {
    let e = events.iter().find(|e| e["event_type"] == "action.requested" && e["payload"]["execution_id"] == execution_id);
    e.unwrap_or_else(|| panic!("no action.requested for {}", execution_id))["payload"].clone()
}

/// A fresh core with `m` loaded and the session of `events` restored from them.
fn restored(m: Value, events: &[Value]) -> Core {
    let mut g = Core::with_prefix(0xb0000000);
    g.load(m);
    g.ok("session.restore", json!({ "events": events }));
    g
}

#[test]
fn approvals_after_a_restore_never_overspend_a_cost_budget() {
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 90}));
    let b = f.pending("llm.call", json!({"tokens": 90}));
    let sid = f.sid.clone();
    // A restart between the requests and their approvals: the pending executions keep their cost.
    let mut g = restored(cost_atlas(), &f.c.session_events(&sid));
    let approve = |g: &mut Core, id: &str| g.ok("action.approve", json!({"session_id": sid, "execution_id": id}));
    let first = approve(&mut g, &a);
    assert_eq!(first["execution"]["status"], "approved");
    assert_eq!(first["events"][0]["payload"]["cost"], 90, "the approval charges the recorded cost");
    assert_refused(&approve(&mut g, &b), "budget_exhausted", "spend");
    // 10 is left, and no more.
    let rid = f.rid.clone();
    let over = g.execute(&sid, &rid, "llm.call", json!({"tokens": 11}))["execution"].clone();
    assert_eq!(over["details"]["code"], "budget_exhausted");
    assert_eq!(g.execute(&sid, &rid, "llm.call", json!({"tokens": 10}))["execution"]["status"], "pending_approval");
}

#[test]
fn a_fractional_pending_cost_survives_a_restore() {
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 60.5}));
    let b = f.pending("llm.call", json!({"tokens": 40}));
    let sid = f.sid.clone();
    let events = f.c.session_events(&sid);
    // Payload numbers are integers: a fractional cost is its decimal string, as in `action.approved`.
    assert_eq!(requested(&events, &a)["cost"], "60.5");
    assert_eq!(requested(&events, &b)["cost"], 40);
    let mut g = restored(cost_atlas(), &events);
    let first = g.ok("action.approve", json!({"session_id": sid, "execution_id": a}));
    assert_eq!(first["events"][0]["payload"]["cost"], "60.5");
    // 39.5 is left: 40 no longer fits.
    assert_refused(&g.ok("action.approve", json!({"session_id": sid, "execution_id": b})), "budget_exhausted", "spend");
}

#[test]
fn only_a_pending_execution_with_a_cost_records_it_when_requested() {
    let mut f = Fx::new(cost_atlas());
    let costly = f.pending("llm.call", json!({"tokens": 90}));
    let free = f.pending("llm.call", json!({"tokens": 0}));
    let over = f.request("llm.call", json!({"tokens": 101}));
    assert_eq!(over["status"], "denied");
    let events = f.c.session_events(&f.sid.clone());
    assert_eq!(requested(&events, &costly)["cost"], 90);
    let no_cost = |e: Value| assert!(e.get("cost").is_none(), "{}", e);
    no_cost(requested(&events, &free));
    no_cost(requested(&events, over["execution_id"].as_str().unwrap()));

    // An execution approved at once records its cost in `action.approved` only.
    let ungated = manifest(
        "com.test.spend",
        &["llm.call"],
        json!([{"policy_id": "spend", "type": "budget", "actions": ["llm.call"], "parameters": {"max_cost": 100, "cost_param": "tokens"}}]),
    );
    let mut u = Fx::new(ungated);
    let x = u.request("llm.call", json!({"tokens": 90}));
    assert_eq!(x["status"], "approved");
    let events = u.c.session_events(&u.sid.clone());
    no_cost(requested(&events, x["execution_id"].as_str().unwrap()));
    let approved = events.iter().find(|e| e["event_type"] == "action.approved").unwrap();
    assert_eq!(approved["payload"]["cost"], 90);

    // A gated action without a cost budget records none either.
    let budget = json!({"policy_id": "once", "type": "budget", "actions": ["api.call"], "parameters": {"max_calls": 1}});
    let mut c = Fx::new(gated_atlas(budget));
    let id = c.pending("api.call", json!({"n": 1}));
    no_cost(requested(&c.c.session_events(&c.sid.clone()), &id));
}

#[test]
fn pending_costs_are_restored_and_replayed_as_they_were() {
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 90}));
    let b = f.pending("llm.call", json!({"tokens": 90}));
    let sid = f.sid.clone();
    let before = f.c.session_events(&sid);
    let mut g = restored(cost_atlas(), &before);
    // The live session and the restored one approve alike.
    for id in [&a, &b] {
        let input = json!({"session_id": sid, "execution_id": id});
        let (live, back) = (f.c.ok("action.approve", input.clone()), g.ok("action.approve", input));
        for k in ["status", "policy_id", "reason", "details"] {
            assert_eq!(live["execution"][k], back["execution"][k], "`{}` of the approval of {}", k, id);
        }
        assert_eq!(live["events"][0]["payload"], back["events"][0]["payload"]);
    }
    // The trace written after the restore replays identically, and restores to the same budget.
    let events: Vec<Value> = before.into_iter().chain(g.session_events(&sid)).collect();
    assert_eq!(types_of(&events).iter().filter(|t| *t == "action.requested").count(), 2);
    let replay = g.ok("trace.replay", json!({ "events": events }));
    assert_eq!(replay["identical"], true, "divergences: {}", replay["divergences"]);
    let mut h = Core::with_prefix(0xc0000000);
    h.load(cost_atlas());
    h.ok("session.restore", json!({ "events": events }));
    let rid = f.rid.clone();
    for c in [&mut f.c, &mut g, &mut h] {
        let over = c.execute(&sid, &rid, "llm.call", json!({"tokens": 11}))["execution"].clone();
        assert_eq!(over["details"]["code"], "budget_exhausted");
    }
}

#[test]
fn a_recorded_cost_the_core_cannot_have_written_fits_no_budget() {
    let mut f = Fx::new(cost_atlas());
    let a = f.pending("llm.call", json!({"tokens": 10}));
    let sid = f.sid.clone();
    let events = f.c.session_events(&sid);
    let at = events.iter().position(|e| e["event_type"] == "action.requested").unwrap();
    for forged in [json!(-90), json!("-90"), json!("NaN"), json!("inf"), json!(true)] {
        let mut edited = events.clone();
        edited[at]["payload"]["cost"] = forged.clone();
        rehash_from(&mut edited, at);
        let mut g = restored(cost_atlas(), &edited);
        let out = g.ok("action.approve", json!({"session_id": sid, "execution_id": a}));
        assert_refused(&out, "budget_exhausted", "spend");
        assert_eq!(out["execution"]["status"], "denied", "cost {}", forged);
    }
}
