//! A resolution narrowed to required capabilities considers exactly the actions their patterns match (SPEC §1:
//! exact ids, `*`, `prefix.*` at any depth, `*.suffix`), in atlas order, whatever the atlas's size: the atlas
//! indexes each capability's actions when it is loaded.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";
const ACTIONS: &[&str] = &["a.x", "ab.c", "a.y.z", "b.a", "c.suffix", "a.b.c.d", "x.suffix", "a.suffix", "b.b"];

fn atlas() -> Value {
    let mut m = manifest("com.test.caps", ACTIONS, json!([allow("all", &["*"]), deny("no-bb", &["b.b"], "never")]));
    m["capabilities"] = json!([
        {"capability_id": "exact", "name": "Exact", "actions": ["a.b.c.d", "b.a"]},
        {"capability_id": "prefix", "name": "Prefix", "actions": ["a.*"]},
        {"capability_id": "suffix", "name": "Suffix", "actions": ["*.suffix"]},
        {"capability_id": "any", "name": "Any", "actions": ["*"]},
        {"capability_id": "mixed", "name": "Mixed", "actions": ["b.b", "a.*", "*.suffix"]},
    ]);
    m
}

fn considered(c: &mut Core, sid: &str, caps: &[&str]) -> (Vec<String>, Vec<String>) {
    let res = c.resolve_with(sid, AGENT, json!({"required_capabilities": caps}), json!({}));
    let ids = |key: &str| res[key].as_array().unwrap().iter().map(|a| a["action_id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    (ids("allowed_actions"), ids("denied_actions"))
}

#[test]
fn a_narrowed_resolution_considers_the_actions_its_capabilities_match_in_atlas_order() {
    let mut c = Core::new();
    c.load(atlas());
    let (sid, _) = c.session(AGENT, "narrowed");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(considered(&mut c, &sid, &["exact"]), (s(&["b.a", "a.b.c.d"]), s(&[])), "atlas order, not pattern order");
    assert_eq!(considered(&mut c, &sid, &["prefix"]), (s(&["a.x", "a.y.z", "a.b.c.d", "a.suffix"]), s(&[])), "`a.*`: any depth, not `ab.c`");
    assert_eq!(considered(&mut c, &sid, &["suffix"]), (s(&["c.suffix", "x.suffix", "a.suffix"]), s(&[])));
    assert_eq!(considered(&mut c, &sid, &["any"]), (s(&["a.x", "ab.c", "a.y.z", "b.a", "c.suffix", "a.b.c.d", "x.suffix", "a.suffix"]), s(&["b.b"])));
    assert_eq!(considered(&mut c, &sid, &["mixed"]), (s(&["a.x", "a.y.z", "c.suffix", "a.b.c.d", "x.suffix", "a.suffix"]), s(&["b.b"])));
    assert_eq!(
        considered(&mut c, &sid, &["suffix", "exact", "prefix"]),
        (s(&["a.x", "a.y.z", "b.a", "c.suffix", "a.b.c.d", "x.suffix", "a.suffix"]), s(&[])),
        "a union, each action once, in atlas order"
    );
    let res = c.resolve_with(&sid, AGENT, json!({"required_capabilities": ["exact", "nope"]}), json!({}));
    assert_eq!(res["decision"]["type"], "partial", "{}", res);
}
