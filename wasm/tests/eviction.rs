//! Eviction: a host may forget any session (`session.forget`) and restore it from its trace (`session.restore`)
//! whenever it likes — ended sessions at once, idle ones after a while — and nothing it is answered may change.
//! Windows of scope agent and global are shared by an owner's sessions and outlive a forgotten session; a restore
//! takes its own approvals out of them before charging them again, so that they count exactly once, whatever the
//! order of restores and however old the approvals are.
//!
//! The check: one scripted sequence of calls run twice, once straight and once forgetting and restoring every
//! session between every two calls; the answers and the events of both runs must be byte-identical.

mod common;

use std::collections::HashMap;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

/// Every kind of limit: rate limits of scope session (`api.read`), agent (`api.call`, behind approval) and
/// global (`api.send`), a calls budget (`api.write`) and a cost budget (`llm.call`, behind approval).
fn limits_atlas() -> Value {
    manifest(
        "com.test.evict",
        &["api.read", "api.call", "api.send", "api.write", "llm.call"],
        json!([
            allow("all", &["*"]),
            {"policy_id": "gate", "type": "require_approval", "actions": ["api.call", "llm.call"]},
            {"policy_id": "rl-session", "type": "rate_limit", "actions": ["api.read"],
             "parameters": {"max_calls": 2, "window_seconds": 60, "scope": "session"}},
            {"policy_id": "rl-agent", "type": "rate_limit", "actions": ["api.call"],
             "parameters": {"max_calls": 2, "window_seconds": 60, "scope": "agent"}},
            {"policy_id": "rl-global", "type": "rate_limit", "actions": ["api.send"],
             "parameters": {"max_calls": 2, "window_seconds": 60, "scope": "global"}},
            {"policy_id": "quota", "type": "budget", "actions": ["api.write"], "parameters": {"max_calls": 3}},
            {"policy_id": "spend", "type": "budget", "actions": ["llm.call"], "parameters": {"max_cost": 100, "cost_param": "tokens"}},
        ]),
    )
}

/// One run of the script: every answer as the core wrote it, and when `evict`, every session forgotten and
/// restored (from the events answered so far, with its owner) after every call.
struct Run {
    c: Core,
    evict: bool,
    /// (session id, owner) in creation order.
    sessions: Vec<(String, String)>,
    answers: Vec<String>,
    /// The current resolution of each session.
    resolutions: HashMap<String, String>,
}

impl Run {
    fn new(evict: bool) -> Run {
        let mut c = Core::new();
        c.load(limits_atlas());
        Run { c, evict, sessions: Vec::new(), answers: Vec::new(), resolutions: HashMap::new() }
    }

    /// One scripted call at `now`: its answer, kept byte for byte; then the evictions.
    fn call(&mut self, op: &str, input: Value, now: i64) -> Result<Value, Value> {
        self.c.now = now;
        let out = self.c.raw(op, &serde_json::to_vec(&input).unwrap(), now);
        // A session's handle is the host's name for it in this runtime, given anew by each restore: the one
        // part of an answer that eviction changes.
        self.answers.push(if op == "session.create" { without_handle(&out) } else { out.clone() });
        let r = envelope(&out);
        if let Ok(Value::Array(evs)) = r.as_ref().map(|ok| ok["events"].clone()) {
            for e in evs {
                self.c.events.entry(e["session_id"].as_str().unwrap().to_string()).or_default().push(e);
            }
        }
        if self.evict {
            for (sid, owner) in self.sessions.clone() {
                self.evict_one(&sid, &owner, now);
            }
        }
        r
    }

    fn evict_one(&mut self, sid: &str, owner: &str, now: i64) {
        self.c.ok_at("session.forget", json!({"session_id": sid}), now);
        let events = self.c.session_events(sid);
        let out = self.c.ok_at("session.restore", json!({"events": events, "owner": owner, "session_id": sid}), now);
        assert_eq!(out["stale_resolutions"], json!([]), "a restore reproduces every resolution");
    }

    fn create(&mut self, owner: &str, now: i64) -> String {
        let out = self.call("session.create", json!({"agent_id": AGENT, "goal": "use every limit", "owner": owner}), now).unwrap();
        let sid = out["session"]["session_id"].as_str().unwrap().to_string();
        self.sessions.push((sid.clone(), owner.to_string()));
        sid
    }

    fn resolve(&mut self, sid: &str, now: i64) {
        self.c.now = now;
        let req = self.c.request(sid, AGENT, "use every limit", json!({}), json!({}));
        let out = self.call("session.resolve", json!({"request": req}), now).unwrap();
        self.resolutions.insert(sid.to_string(), out["resolution"]["resolution_id"].as_str().unwrap().to_string());
    }

    /// `action.request`; answers the execution's id and status.
    fn request(&mut self, sid: &str, action_id: &str, params: Value, now: i64) -> (String, String) {
        let rid = self.resolutions[sid].clone();
        let input = json!({"session_id": sid, "resolution_id": rid, "action_id": action_id, "parameters": params});
        let x = self.call("action.request", input, now).unwrap()["execution"].clone();
        (x["execution_id"].as_str().unwrap().to_string(), x["status"].as_str().unwrap().to_string())
    }

    fn decide(&mut self, op: &str, sid: &str, execution_id: &str, now: i64) -> String {
        let out = self.call(op, json!({"session_id": sid, "execution_id": execution_id}), now).unwrap();
        out["execution"]["status"].as_str().unwrap().to_string()
    }

    fn complete(&mut self, sid: &str, execution_id: &str, now: i64) {
        self.call("action.complete", json!({"session_id": sid, "execution_id": execution_id, "result": {"ok": true}}), now).unwrap();
    }

    /// Runs `action_id` to its end: completes it when it runs, approves (or denies) it when it waits.
    fn run(&mut self, sid: &str, action_id: &str, params: Value, approve: bool, now: &mut i64) -> String {
        *now += 2 * SEC;
        let (x, mut status) = self.request(sid, action_id, params, *now);
        if status == "pending_approval" {
            *now += SEC;
            status = self.decide(if approve { "action.approve" } else { "action.deny" }, sid, &x, *now);
        }
        if status == "approved" {
            *now += SEC;
            self.complete(sid, &x, *now);
            return "executed".into();
        }
        status
    }

    /// The whole script; answers how often each outcome was seen (so that the script is known to hit every limit).
    fn script(&mut self) -> HashMap<String, usize> {
        let mut now = t0();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let a1 = self.create("tenant-a", now);
        let a2 = self.create("tenant-a", now + SEC);
        let b1 = self.create("tenant-b", now + 2 * SEC);
        now += 3 * SEC;
        for round in 0..6 {
            let active = if round > 3 { vec![a1.clone(), b1.clone()] } else { vec![a1.clone(), a2.clone(), b1.clone()] };
            for (i, sid) in active.iter().enumerate() {
                now += SEC;
                self.resolve(sid, now);
                let approve = (round + i) % 3 != 2;
                for (action, params) in [
                    ("api.read", json!({})),
                    ("api.read", json!({"again": true})),
                    ("api.call", json!({"n": round})),
                    ("api.send", json!({})),
                    ("api.write", json!({})),
                    ("llm.call", json!({"tokens": 30})),
                ] {
                    let outcome = self.run(sid, action, params, approve, &mut now);
                    *seen.entry(format!("{} {}", action, outcome)).or_default() += 1;
                }
            }
            // Every other round, the windows pass (the budgets stay spent).
            if round % 2 == 1 {
                now += 61 * SEC;
            }
            if round == 3 {
                now += SEC;
                self.call("session.end", json!({"session_id": a2}), now).unwrap();
            }
        }
        // Checks of every session and action at the end, and once more after the windows pass.
        for later in [0, 30 * SEC, 61 * SEC] {
            for (sid, _) in self.sessions.clone() {
                for action in ["api.read", "api.call", "api.send", "api.write", "llm.call"] {
                    self.call("session.check", json!({"session_id": sid, "action_id": action}), now + later).unwrap();
                }
            }
        }
        seen
    }
}

/// An answer with its `"handle":N` masked.
fn without_handle(out: &str) -> String {
    match out.find("\"handle\":") {
        Some(i) => {
            let digits = out[i + 9..].find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
            format!("{}\"handle\":_{}", &out[..i], &out[i + 9 + digits..])
        }
        None => out.to_string(),
    }
}

#[test]
fn forgetting_and_restoring_every_session_after_every_call_changes_no_answer_and_no_event() {
    let mut straight = Run::new(false);
    let seen = straight.script();
    // The script reaches every limit, and also gets past each of them.
    for outcome in [
        "api.read denied",
        "api.read executed",
        "api.call denied",
        "api.call executed",
        "api.send denied",
        "api.send executed",
        "api.write denied",
        "api.write executed",
        "llm.call denied",
        "llm.call executed",
    ] {
        assert!(seen.contains_key(outcome), "the script never saw {}: {:?}", outcome, seen);
    }
    let mut evicted = Run::new(true);
    assert_eq!(evicted.script(), seen);
    assert_eq!(straight.answers.len(), evicted.answers.len());
    for (i, (a, b)) in straight.answers.iter().zip(&evicted.answers).enumerate() {
        assert_eq!(a, b, "answer {} differs", i);
    }
    for (sid, _) in &straight.sessions {
        let (a, b) = (straight.c.session_events(sid), evicted.c.session_events(sid));
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap(), "the events of {}", sid);
    }
}

/// Every check of every session and action, as `session.check` answers them at `now`.
fn checks(r: &mut Run, now: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (sid, _) in r.sessions.clone() {
        for action in ["api.read", "api.call", "api.send", "api.write", "llm.call"] {
            out.push(r.c.raw("session.check", &serde_json::to_vec(&json!({"session_id": sid, "action_id": action})).unwrap(), now));
        }
    }
    out
}

#[test]
fn restoring_the_same_session_again_and_again_charges_its_approvals_once() {
    let mut r = Run::new(false);
    let mut now = t0();
    let a1 = r.create("tenant-a", now);
    let a2 = r.create("tenant-a", now);
    r.resolve(&a1, now);
    r.resolve(&a2, now);
    // One approval of the agent's window (two allowed) and one of the session's (two allowed).
    assert_eq!(r.run(&a1, "api.call", json!({}), true, &mut now), "executed");
    assert_eq!(r.run(&a1, "api.read", json!({}), true, &mut now), "executed");
    assert_eq!(r.run(&a1, "api.write", json!({}), true, &mut now), "executed");
    let before = checks(&mut r, now);
    for _ in 0..5 {
        r.evict_one(&a1, "tenant-a", now);
        assert_eq!(checks(&mut r, now), before);
    }
    // One call of the agent's window is still free, for either session; then none is.
    assert_eq!(r.run(&a2, "api.call", json!({}), true, &mut now), "executed");
    assert_eq!(r.run(&a1, "api.call", json!({}), true, &mut now), "denied");
    for _ in 0..5 {
        r.evict_one(&a1, "tenant-a", now);
        r.evict_one(&a2, "tenant-a", now);
    }
    // The window frees a minute after the first approval (at 3 s), not later: no approval was charged twice.
    now = t0() + 64 * SEC;
    r.resolve(&a1, now);
    let out = r.run(&a1, "api.call", json!({}), true, &mut now);
    assert_eq!(out, "executed", "{}", r.answers[r.answers.len() - 2]);
}
