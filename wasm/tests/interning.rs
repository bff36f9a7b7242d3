//! Action handles are interned for the actions of loaded atlases only. Asking about an id no atlas declares
//! (`action.handle`, `session.check`, the check route of a server) looks it up and keeps nothing, so that no caller
//! can grow the core's memory one made-up id at a time.

mod common;

use common::*;
use serde_json::json;

const AGENT: &str = "agent-1";
const UNKNOWN_ACTION: i32 = 8;

fn handles(c: &mut Core) -> u64 {
    c.ok("runtime.stats", json!({}))["action_handles"].as_u64().expect("runtime.stats answers action_handles")
}

#[test]
fn checking_unknown_ids_interns_nothing() {
    let mut c = Core::new();
    c.load(manifest("com.test.known", &["known.read", "known.write"], json!([allow("all", &["*"])])));
    let (sid, h) = c.session(AGENT, "probe");
    c.resolve(&sid, AGENT);
    let before = handles(&mut c);
    assert_eq!(before, 2, "the loaded atlas's actions");
    for i in 0..10_000 {
        let id = format!("probe.id{}", i);
        let handle = c.action_handle(&id);
        assert_eq!(handle, 0, "no handle for an id no atlas declares");
        assert_eq!(c.rt.check(h, handle, c.now as f64, &mut c.host), UNKNOWN_ACTION);
        let answer = c.ok("session.check", json!({"session_id": sid, "action_id": id}));
        assert_eq!(answer["result"], "unknown_action");
    }
    assert_eq!(handles(&mut c), before, "10 000 unknown ids later, nothing was interned");
    assert_eq!(c.check(h, "known.read"), 1, "known actions keep their handles");
}

#[test]
fn an_id_gets_its_handle_when_an_atlas_declaring_it_loads() {
    let mut c = Core::new();
    c.load(manifest("com.test.known", &["known.read"], json!([allow("all", &["*"])])));
    assert_eq!(c.action_handle("later.act"), 0);
    c.load(manifest("com.test.later", &["later.act"], json!([allow("all", &["*"])])));
    let handle = c.action_handle("later.act");
    assert_ne!(handle, 0);
    assert_eq!(c.action_handle("later.act"), handle, "a handle is stable");
    let (sid, h) = c.session(AGENT, "g");
    c.resolve(&sid, AGENT);
    assert_eq!(c.check(h, "later.act"), 1);
    c.ok("atlas.unload", json!({"atlas_id": "com.test.later"}));
    assert_eq!(c.action_handle("later.act"), handle, "never reused, even once its atlas is unloaded");
}

#[test]
fn session_check_answers_an_unknown_id_as_action_request_refuses_it() {
    let mut c = Core::new();
    c.load(manifest("com.test.mail", &["email.send", "email.read"], json!([allow("all", &["*"])])));
    let (sid, h) = c.session(AGENT, "mail");
    assert_eq!(c.check(h, "email.sned"), -1, "as action.request: no resolution first");
    let rid = c.resolve(&sid, AGENT)["resolution_id"].as_str().unwrap().to_string();
    let answer = c.ok("session.check", json!({"session_id": sid, "action_id": "email.sned"}));
    assert_eq!(answer, json!({"result": "unknown_action", "code": UNKNOWN_ACTION, "action_id": "email.sned", "closest": ["email.send", "email.read"]}));
    assert_eq!(c.check(h, "email.sned"), UNKNOWN_ACTION, "cra_check agrees");
    let refused = c.execute(&sid, &rid, "email.sned", json!({}));
    let details = &refused["execution"]["details"];
    assert_eq!((&details["code"], &details["closest"]), (&answer["result"], &answer["closest"]), "the same reason and the same ids");
    assert_eq!(c.ok("session.check", json!({"session_id": sid, "action_id": "email.send"})), json!({"result": "allow", "code": 1}));
}

#[test]
fn an_action_of_an_unloaded_atlas_is_unknown_once_the_resolution_does_not_have_it() {
    let mut c = Core::new();
    c.load(manifest("com.test.known", &["known.read"], json!([allow("all", &["*"])])));
    c.load(manifest("com.test.later", &["later.act"], json!([allow("all", &["*"])])));
    let handle = c.action_handle("later.act");
    let (sid, h) = c.session(AGENT, "g");
    c.resolve(&sid, AGENT);
    assert_eq!(c.check(h, "later.act"), 1);
    c.ok("atlas.unload", json!({"atlas_id": "com.test.later"}));
    assert_eq!(c.check(h, "later.act"), 0, "the resolution has it: nothing runs on a stale resolution");
    let rid = c.resolve(&sid, AGENT)["resolution_id"].as_str().unwrap().to_string();
    assert_eq!(c.action_handle("later.act"), handle, "the handle is kept");
    assert_eq!(c.rt.check(h, handle, c.now as f64, &mut c.host), UNKNOWN_ACTION, "no loaded atlas declares it any more");
    let answer = c.ok("session.check", json!({"session_id": sid, "action_id": "later.act"}));
    assert_eq!(answer["result"], "unknown_action");
    let refused = c.execute(&sid, &rid, "later.act", json!({}));
    assert_eq!(refused["execution"]["details"]["code"], "unknown_action", "as action.request refuses it");
    assert_eq!(c.check(h, "known.read"), 1);
}
