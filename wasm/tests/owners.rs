//! Owners: a session created for an owner (a host's tenant) spends only its owner's rate limits. Windows of scope
//! agent belong to one (owner, agent id), of scope global to one owner, so that a tenant naming another tenant's
//! agent id spends nothing of the other's. Sessions without an owner share the owner "" as before. The owner is host
//! data: answered with the session, handed back by the host to restore (which keeps its counters), never recorded
//! in the trace.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

/// `api.call` allowed, with a rate limit of one call in ten minutes of `scope`.
fn limited(scope: &str) -> Value {
    manifest(
        "com.test.owners",
        &["api.call", "api.other"],
        json!([
            allow("all", &["*"]),
            {"policy_id": "rl", "type": "rate_limit", "actions": ["api.call"],
             "parameters": {"max_calls": 1, "window_seconds": 600, "scope": scope}},
        ]),
    )
}

/// Creates a session of AGENT for `owner` (none when `None`) and resolves it: (session id, handle).
fn session_for(c: &mut Core, owner: Option<&str>) -> (String, u32) {
    let mut input = json!({"agent_id": AGENT, "goal": "serve a tenant"});
    if let Some(o) = owner {
        input["owner"] = json!(o);
    }
    let out = c.ok("session.create", input);
    let sid = out["session"]["session_id"].as_str().unwrap().to_string();
    c.resolve(&sid, AGENT);
    (sid, out["handle"].as_u64().unwrap() as u32)
}

/// Runs `api.call` once in session `sid`; answers the execution's status.
fn call(c: &mut Core, sid: &str) -> String {
    let res = c.resolve(sid, AGENT);
    let out = c.execute(sid, res["resolution_id"].as_str().unwrap(), "api.call", json!({}));
    out["execution"]["status"].as_str().unwrap().to_string()
}

const ALLOW: i32 = 1;
const RATE_LIMITED: i32 = 3;

#[test]
fn an_agent_window_is_not_shared_across_owners() {
    let mut c = Core::new();
    c.load(limited("agent"));
    let (a1, ha1) = session_for(&mut c, Some("tenant-a"));
    let (_a2, ha2) = session_for(&mut c, Some("tenant-a"));
    let (b1, hb1) = session_for(&mut c, Some("tenant-b"));
    let (_n, hn) = session_for(&mut c, None);
    assert_eq!(call(&mut c, &a1), "approved");
    assert_eq!(c.check(ha1, "api.call"), RATE_LIMITED);
    assert_eq!(c.check(ha2, "api.call"), RATE_LIMITED, "the same owner's sessions of the agent share its window");
    assert_eq!(c.check(hb1, "api.call"), ALLOW, "another owner naming the same agent id spends nothing of it");
    assert_eq!(c.check(hn, "api.call"), ALLOW, "nor do sessions without an owner");
    assert_eq!(call(&mut c, &b1), "approved");
    assert_eq!(c.check(hb1, "api.call"), RATE_LIMITED);
}

#[test]
fn a_global_window_is_global_within_one_owner() {
    let mut c = Core::new();
    c.load(limited("global"));
    let (a1, _) = session_for(&mut c, Some("tenant-a"));
    let out = c.ok("session.create", json!({"agent_id": "agent-2", "goal": "g", "owner": "tenant-a"}));
    let (a2, ha2) = (out["session"]["session_id"].as_str().unwrap().to_string(), out["handle"].as_u64().unwrap() as u32);
    c.resolve(&a2, "agent-2");
    let (_b1, hb1) = session_for(&mut c, Some("tenant-b"));
    assert_eq!(call(&mut c, &a1), "approved");
    assert_eq!(c.check(ha2, "api.call"), RATE_LIMITED, "every agent of the owner shares a global window");
    assert_eq!(c.check(hb1, "api.call"), ALLOW, "another owner has its own");
}

#[test]
fn sessions_without_an_owner_share_the_owner_nobody_named() {
    for scope in ["agent", "global"] {
        let mut c = Core::new();
        c.load(limited(scope));
        let (n1, _) = session_for(&mut c, None);
        let (_n2, hn2) = session_for(&mut c, None);
        let (_a, ha) = session_for(&mut c, Some("tenant-a"));
        assert_eq!(call(&mut c, &n1), "approved");
        assert_eq!(c.check(hn2, "api.call"), RATE_LIMITED, "scope {}: as before owners existed", scope);
        assert_eq!(c.check(ha, "api.call"), ALLOW, "scope {}: an owned session is apart", scope);
    }
}

#[test]
fn the_owner_is_answered_with_the_session_and_never_recorded_in_the_trace() {
    let mut c = Core::new();
    c.load(limited("agent"));
    let out = c.ok("session.create", json!({"agent_id": AGENT, "goal": "g", "owner": "tenant-a"}));
    let sid = out["session"]["session_id"].as_str().unwrap().to_string();
    assert_eq!(out["session"]["owner"], "tenant-a");
    // Host data, not protocol data: session.started is the one SPEC describes, whoever the host serves.
    assert_eq!(out["events"][0]["payload"], json!({"agent_id": AGENT, "goal": "g"}));
    assert_eq!(c.get_session(&sid)["owner"], "tenant-a");
    let listed = c.ok("session.list", json!({}))["sessions"].clone();
    assert_eq!(listed[0]["owner"], "tenant-a");
}

#[test]
fn without_an_owner_nothing_changes() {
    let mut c = Core::new();
    let out = c.ok("session.create", json!({"agent_id": AGENT, "goal": "g"}));
    assert_eq!(out["events"][0]["payload"], json!({"agent_id": AGENT, "goal": "g"}), "the same session.started as ever");
    assert!(out["session"].get("owner").is_none(), "{}", out["session"]);
    let sid = out["session"]["session_id"].as_str().unwrap().to_string();
    assert!(c.get_session(&sid).get("owner").is_none());
}

#[test]
fn an_owner_is_a_non_empty_string_of_at_most_200_characters() {
    let mut c = Core::new();
    let longest = "é".repeat(200);
    let out = c.ok("session.create", json!({"agent_id": AGENT, "goal": "g", "owner": longest}));
    assert_eq!(out["session"]["owner"], json!(longest), "200 characters, whatever their bytes");
    for bad in [json!(""), json!("x".repeat(201)), json!(42), json!(["tenant-a"]), json!({"id": "tenant-a"})] {
        let before = c.ok("session.list", json!({}))["sessions"].as_array().unwrap().len();
        let e = c.err("session.create", json!({"agent_id": AGENT, "goal": "g", "owner": bad}));
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/owner")), "{}", bad);
        assert_eq!(c.ok("session.list", json!({}))["sessions"].as_array().unwrap().len(), before, "nothing was created");
    }
}

#[test]
fn restore_keeps_the_owner_and_its_counters() {
    let mut a = Core::new();
    a.load(limited("agent"));
    let (sid, _) = session_for(&mut a, Some("tenant-a"));
    assert_eq!(call(&mut a, &sid), "approved");
    let events = a.session_events(&sid);

    // Restored next to a live session of each owner, and before another one of tenant-a is created.
    let mut b = Core::with_prefix(0xb0000000);
    b.load(limited("agent"));
    let (_a2, ha2) = session_for(&mut b, Some("tenant-a"));
    let (_b1, hb1) = session_for(&mut b, Some("tenant-b"));
    assert_eq!(b.check(ha2, "api.call"), ALLOW);
    let out = b.ok("session.restore", json!({ "events": events, "owner": "tenant-a" }));
    assert_eq!(out["session"]["owner"], "tenant-a");
    let restored = out["handle"].as_u64().unwrap() as u32;
    assert_eq!(b.get_session(&sid)["owner"], "tenant-a");
    assert_eq!(b.check(restored, "api.call"), RATE_LIMITED, "the restored call still counts");
    assert_eq!(b.check(ha2, "api.call"), RATE_LIMITED, "for every session of its owner and agent");
    assert_eq!(b.check(hb1, "api.call"), ALLOW, "and for no other owner's");
    let (_a3, ha3) = session_for(&mut b, Some("tenant-a"));
    let (_n, hn) = session_for(&mut b, None);
    assert_eq!(b.check(ha3, "api.call"), RATE_LIMITED);
    assert_eq!(b.check(hn, "api.call"), ALLOW);
}

#[test]
fn replay_of_an_owned_session_is_identical() {
    let mut c = Core::new();
    c.load(limited("global"));
    let (sid, _) = session_for(&mut c, Some("tenant-a"));
    call(&mut c, &sid);
    assert_eq!(call(&mut c, &sid), "denied");
    c.ok("session.end", json!({"session_id": sid}));
    let events = c.session_events(&sid);
    let out = c.ok("trace.replay", json!({ "events": events }));
    assert_eq!(out["identical"], true, "divergences: {}", out["divergences"]);
}

#[test]
fn forgetting_a_session_keeps_its_owner_windows() {
    let mut c = Core::new();
    c.load(limited("agent"));
    let (a1, _) = session_for(&mut c, Some("tenant-a"));
    call(&mut c, &a1);
    c.ok("session.forget", json!({"session_id": a1}));
    let (_a2, ha2) = session_for(&mut c, Some("tenant-a"));
    assert_eq!(c.check(ha2, "api.call"), RATE_LIMITED, "the owner's window outlives the session that spent it");
}

#[test]
fn restore_takes_the_owner_from_the_host_and_checks_it_as_create_does() {
    let mut a = Core::new();
    a.load(limited("agent"));
    let (sid, _) = session_for(&mut a, Some("tenant-a"));
    let events = a.session_events(&sid);
    let mut b = Core::with_prefix(0xb0000000);
    b.load(limited("agent"));
    for bad in [json!(""), json!("x".repeat(201)), json!(7)] {
        let e = b.err("session.restore", json!({ "events": events, "owner": bad }));
        assert_eq!((code(&e), path(&e)), ("invalid_request", Some("/owner")), "{}", bad);
    }
    // Without one, the restored session has none (the owner "" of embedded use).
    let out = b.ok("session.restore", json!({ "events": events }));
    assert!(out["session"].get("owner").is_none(), "{}", out["session"]);
}
