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
        assert_eq!(answer["result"], "deny");
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
