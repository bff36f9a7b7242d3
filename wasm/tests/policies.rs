//! Policy evaluation (SPEC §3) and the decision of a resolution (SPEC §2), on small atlases built here.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

/// A runtime with `m` loaded and one session of AGENT: (core, session id, session handle).
fn setup(m: Value) -> (Core, String, u32) {
    let mut c = Core::new();
    c.load(m);
    let (sid, h) = c.session(AGENT, "policy test");
    (c, sid, h)
}

fn evaluated(events: &Value) -> Vec<Value> {
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "policy.evaluated")
        .map(|e| e["payload"].clone())
        .collect()
}

fn evaluated_for(events: &Value, action_id: &str) -> Value {
    let list: Vec<Value> = evaluated(events).into_iter().filter(|p| p["action_id"] == action_id).collect();
    assert_eq!(list.len(), 1, "one policy.evaluated for {}: {:?}", action_id, list);
    list[0].clone()
}

// ------------------------------------------------------------------------------------------------- default deny

#[test]
fn default_deny_for_actions_no_policy_allows() {
    let (mut c, sid, h) = setup(manifest("com.test.policies", &["x.allowed", "x.unmatched"], json!([allow("a", &["x.allowed"])])));
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let res = &out["resolution"];
    assert_eq!(allowed_ids(res), strs(&["x.allowed"]));
    let d = denied_entry(res, "x.unmatched");
    assert_eq!(d["policy_id"], "default");
    assert!(d["reason"].as_str().map(|r| !r.is_empty()).unwrap_or(false), "a default denial has a reason");
    assert_eq!(res["decision"]["type"], "allow", "one action allowed, the other listed as denied");
    assert_eq!(c.check(h, "x.unmatched"), 0);
    assert_eq!(c.check(h, "x.allowed"), 1);
}

#[test]
fn an_empty_pattern_governs_no_action() {
    // `""` is the exact id `""`: an allow with it allows nothing, a deny denies nothing.
    let (mut c, sid, h) = setup(manifest("com.test.policies", &["x.one"], json!([allow("a", &[""])])));
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), Vec::<String>::new());
    assert_eq!(denied_entry(&res, "x.one")["policy_id"], "default");
    assert_eq!(c.check(h, "x.one"), 0);
    let deny = json!({"policy_id": "d", "type": "deny", "actions": [""]});
    let (mut c, sid, h) = setup(manifest("com.test.policies", &["x.one"], json!([allow("a", &["*"]), deny])));
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["x.one"]));
    assert_eq!(c.check(h, "x.one"), 1);
}

#[test]
fn default_deny_is_traced_as_policy_evaluated_default_deny() {
    let (mut c, sid, _h) = setup(manifest("com.test.policies", &["x.allowed", "x.unmatched"], json!([allow("a", &["x.allowed"])])));
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let p = evaluated_for(&out["events"], "x.unmatched");
    assert_eq!(p["policy_id"], "default");
    assert_eq!(p["result"], "default_deny");
    assert!(evaluated(&out["events"]).iter().all(|p| p["action_id"] != "x.allowed"), "plain allows are not listed");
    let done = out["events"].as_array().unwrap().last().unwrap()["payload"].clone();
    assert_eq!(done["allowed_count"], 1);
    assert_eq!(done["denied_count"], 1);
}

#[test]
fn atlas_without_policies_denies_everything() {
    let (mut c, sid, _h) = setup(manifest("com.test.policies", &["x.one", "x.two"], json!([])));
    let res = c.resolve(&sid, AGENT);
    assert_eq!(res["decision"]["type"], "deny");
    assert!(res["decision"]["reason"].is_string(), "a deny explains itself: {}", res["decision"]);
    assert!(allowed_ids(&res).is_empty());
    assert_eq!(denied_ids(&res), strs(&["x.one", "x.two"]));
    assert_eq!(res["decision"]["approval_id"], Value::Null);
}

#[test]
fn resolution_reason_is_null_for_allow() {
    let (mut c, sid, _h) = setup(manifest("com.test.policies", &["x.one"], json!([allow("a", &["*"])])));
    let res = c.resolve(&sid, AGENT);
    assert_eq!(res["decision"], json!({"type": "allow", "reason": null, "approval_id": null, "expires_at": null}));
    check_resolution(&res);
}

// ------------------------------------------------------------------------------------------------- deny and priority

#[test]
fn deny_beats_allow_whatever_the_priorities() {
    let m = manifest(
        "com.test.policies",
        &["x.one"],
        json!([
            {"policy_id": "allow-high", "type": "allow", "actions": ["x.one"], "priority": 1000},
            {"policy_id": "deny-low", "type": "deny", "actions": ["x.one"], "priority": -5, "reason": "never"},
        ]),
    );
    let (mut c, sid, h) = setup(m);
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let d = denied_entry(&out["resolution"], "x.one");
    assert_eq!(d, json!({"action_id": "x.one", "reason": "never", "policy_id": "deny-low"}));
    let p = evaluated_for(&out["events"], "x.one");
    assert_eq!((p["policy_id"].clone(), p["result"].clone()), (json!("deny-low"), json!("deny")));
    assert_eq!(c.check(h, "x.one"), 0);
}

#[test]
fn deny_beats_allow_whatever_the_declaration_order() {
    for policies in [
        json!([deny("d", &["x.one"], "no"), allow("a", &["x.one"])]),
        json!([allow("a", &["x.one"]), deny("d", &["x.one"], "no")]),
    ] {
        let (mut c, sid, _h) = setup(manifest("com.test.policies", &["x.one"], policies));
        let res = c.resolve(&sid, AGENT);
        assert_eq!(denied_entry(&res, "x.one")["policy_id"], "d");
    }
}

#[test]
fn higher_priority_deny_gives_the_reason() {
    let m = manifest(
        "com.test.policies",
        &["x.one"],
        json!([
            {"policy_id": "deny-low", "type": "deny", "actions": ["x.one"], "priority": 1, "reason": "low reason"},
            {"policy_id": "deny-high", "type": "deny", "actions": ["x.one"], "priority": 10, "reason": "high reason"},
            allow("a", &["x.one"]),
        ]),
    );
    let (mut c, sid, _h) = setup(m);
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    assert_eq!(denied_entry(&out["resolution"], "x.one"), json!({"action_id": "x.one", "reason": "high reason", "policy_id": "deny-high"}));
    assert_eq!(evaluated_for(&out["events"], "x.one")["policy_id"], "deny-high");
}

#[test]
fn equal_priority_denies_follow_declaration_order() {
    let m = manifest(
        "com.test.policies",
        &["x.one"],
        json!([
            {"policy_id": "deny-first", "type": "deny", "actions": ["x.one"], "priority": 5, "reason": "first"},
            {"policy_id": "deny-second", "type": "deny", "actions": ["x.one"], "priority": 5, "reason": "second"},
        ]),
    );
    let (mut c, sid, _h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "x.one")["policy_id"], "deny-first");
}

#[test]
fn policy_reason_may_come_from_parameters_reason() {
    let m = manifest(
        "com.test.policies",
        &["x.one", "x.two"],
        json!([
            {"policy_id": "d1", "type": "deny", "actions": ["x.one"], "parameters": {"reason": "from parameters"}},
            {"policy_id": "d2", "type": "deny", "actions": ["x.two"], "reason": "from the policy"},
        ]),
    );
    let (mut c, sid, _h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "x.one")["reason"], "from parameters");
    assert_eq!(denied_entry(&res, "x.two")["reason"], "from the policy");
}

// ------------------------------------------------------------------------------------------------- patterns

fn pattern_setup(patterns: &[&str]) -> Value {
    let m = manifest(
        "com.test.patterns",
        &["files.read", "files.meta.read", "files.delete", "db.delete", "db.undelete", "filesx.read", "db.query"],
        json!([allow("p", patterns)]),
    );
    let (mut c, sid, _h) = setup(m);
    c.resolve(&sid, AGENT)
}

#[test]
fn pattern_exact_matches_only_that_id() {
    let res = pattern_setup(&["db.query"]);
    assert_eq!(allowed_ids(&res), strs(&["db.query"]));
}

#[test]
fn pattern_star_matches_everything() {
    let res = pattern_setup(&["*"]);
    assert_eq!(allowed_ids(&res).len(), 7);
    assert!(denied_ids(&res).is_empty());
}

#[test]
fn pattern_prefix_matches_at_any_depth_under_the_prefix() {
    let res = pattern_setup(&["files.*"]);
    assert_eq!(allowed_ids(&res), strs(&["files.read", "files.meta.read", "files.delete"]));
}

#[test]
fn pattern_suffix_matches_ids_ending_in_the_suffix() {
    let res = pattern_setup(&["*.delete"]);
    assert_eq!(allowed_ids(&res), strs(&["files.delete", "db.delete"]), "db.undelete does not end in `.delete`");
}

#[test]
fn pattern_other_wildcards_are_literal_and_match_nothing() {
    for p in ["db*query", "db.q*", "*query", "files*", "f*.read", "*.*.read"] {
        let res = pattern_setup(&[p]);
        assert!(allowed_ids(&res).is_empty(), "pattern `{}` matched {:?}", p, allowed_ids(&res));
    }
}

#[test]
fn deny_by_suffix_over_allow_by_prefix() {
    let m = manifest(
        "com.test.patterns",
        &["files.read", "files.delete", "db.delete"],
        json!([allow("a", &["files.*", "db.*"]), deny("d", &["*.delete"], "no deleting")]),
    );
    let (mut c, sid, _h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["files.read"]));
    assert_eq!(denied_ids(&res), strs(&["files.delete", "db.delete"]));
}

// ------------------------------------------------------------------------------------------------- conditions

#[test]
fn condition_risk_tiers_uses_the_request_tier() {
    let m = manifest(
        "com.test.cond",
        &["x.one"],
        json!([
            allow("a", &["*"]),
            {"policy_id": "d", "type": "deny", "actions": ["x.one"], "reason": "risky", "conditions": {"risk_tiers": ["high", "critical"]}},
        ]),
    );
    let (mut c, sid, _h) = setup(m);
    assert_eq!(allowed_ids(&c.resolve(&sid, AGENT)), strs(&["x.one"]), "no tier given: low");
    assert_eq!(allowed_ids(&c.resolve_with(&sid, AGENT, json!({"risk_tier": "medium"}), json!({}))), strs(&["x.one"]));
    let res = c.resolve_with(&sid, AGENT, json!({"risk_tier": "high"}), json!({}));
    assert_eq!(denied_entry(&res, "x.one")["policy_id"], "d");
    let res = c.resolve_with(&sid, AGENT, json!({"risk_tier": "critical"}), json!({}));
    assert_eq!(denied_entry(&res, "x.one")["policy_id"], "d");
}

#[test]
fn condition_agents_is_a_glob_on_the_agent_id() {
    let m = manifest(
        "com.test.cond",
        &["x.one"],
        json!([{"policy_id": "a", "type": "allow", "actions": ["*"], "conditions": {"agents": ["support-*", "ops-?"]}}]),
    );
    let mut c = Core::new();
    c.load(m);
    for (agent, allowed) in [("support-bot", true), ("support-", true), ("ops-1", true), ("ops-12", false), ("billing-bot", false), ("my-support-bot", false)] {
        let (sid, _) = c.session(agent, "g");
        let res = c.resolve(&sid, agent);
        assert_eq!(allowed_ids(&res).len() == 1, allowed, "agent {}", agent);
    }
}

#[test]
fn condition_capabilities_must_be_required_by_the_request() {
    let m = json!({
        "atlas_version": "1.0", "atlas_id": "com.test.cond", "version": "1.0.0", "name": "n", "description": "d",
        "capabilities": [{"capability_id": "admin", "name": "Admin", "actions": ["x.one", "x.two"]}],
        "actions": [action("x.one"), action("x.two")],
        "policies": [
            allow("a", &["x.two"]),
            {"policy_id": "a-admin", "type": "allow", "actions": ["x.one"], "conditions": {"capabilities": ["admin"]}},
        ],
    });
    let (mut c, sid, _h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "x.one")["policy_id"], "default", "without the capability the allow does not apply");
    let res = c.resolve_with(&sid, AGENT, json!({"required_capabilities": ["admin"]}), json!({}));
    assert_eq!(allowed_ids(&res), strs(&["x.one", "x.two"]));
    assert_eq!(res["decision"]["type"], "allow");
}

#[test]
fn condition_context_matches_uses_the_request_context() {
    let m = manifest(
        "com.test.cond",
        &["x.one"],
        json!([{"policy_id": "a", "type": "allow", "actions": ["*"], "conditions": {"context_matches": {"env": "staging", "team": "blue"}}}]),
    );
    let (mut c, sid, _h) = setup(m);
    let with = |c: &mut Core, ctx: Value| allowed_ids(&c.resolve_with(&sid, AGENT, json!({}), json!({"context": ctx}))).len();
    assert_eq!(with(&mut c, json!({"env": "staging", "team": "blue"})), 1);
    assert_eq!(with(&mut c, json!({"env": "staging", "team": "blue", "other": "x"})), 1, "extra context is fine");
    assert_eq!(with(&mut c, json!({"env": "staging"})), 0, "every key must match");
    assert_eq!(with(&mut c, json!({"env": "prod", "team": "blue"})), 0);
    assert_eq!(with(&mut c, json!({})), 0);
}

fn window_atlas(window: Value) -> Value {
    manifest(
        "com.test.time",
        &["x.one"],
        json!([{"policy_id": "office-hours", "type": "allow", "actions": ["x.one"], "conditions": {"time_window": window}}]),
    )
}

fn allowed_at(c: &mut Core, sid: &str, at: &str) -> bool {
    c.now = us(at);
    let res = c.resolve(sid, AGENT);
    !allowed_ids(&res).is_empty()
}

#[test]
fn time_window_in_utc() {
    let (mut c, sid, _h) = setup(window_atlas(json!({"start": "09:00", "end": "17:00", "timezone": "UTC"})));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T09:00:00Z"), "start is inclusive");
    assert!(allowed_at(&mut c, &sid, "2024-12-28T16:59:59Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T17:30:00Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T08:59:00Z"));
}

#[test]
fn a_window_that_ends_at_00_00_runs_to_midnight() {
    // `24:00` is not a time of day; a window ending at `00:00` after its start wraps, so it runs to midnight.
    let (mut c, sid, _h) = setup(window_atlas(json!({"start": "22:00", "end": "00:00", "timezone": "UTC"})));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T22:00:00Z"));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T23:59:59Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-29T00:00:00Z"), "the end is exclusive");
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T21:59:00Z"));
}

#[test]
fn time_window_in_a_fixed_offset_zone() {
    let (mut c, sid, _h) = setup(window_atlas(json!({"start": "09:00", "end": "17:00", "timezone": "+05:00"})));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T04:30:00Z"), "09:30 at +05:00");
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T12:30:00Z"), "17:30 at +05:00");
}

#[test]
fn time_window_bounds_may_carry_an_offset() {
    // JSON Schema's `time` format: `09:00:00Z`, `17:00:00+00:00`; a bound's own offset wins over the window's zone.
    let (mut c, sid, _h) = setup(window_atlas(json!({"start": "09:00:00Z", "end": "17:00:00+00:00"})));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T17:30:00Z"));
    let (mut c, sid, _h) = setup(window_atlas(json!({"start": "09:00+02:00", "end": "17:00+02:00", "timezone": "UTC"})));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T07:30:00Z"), "09:30 at +02:00");
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T15:30:00Z"), "17:30 at +02:00");
}

#[test]
fn a_time_window_grant_is_answered_as_a_time_window_constraint() {
    let window = json!({"start": "09:00", "end": "17:00", "timezone": "UTC", "days": ["mon", "tue"]});
    let (mut c, sid, _h) = setup(window_atlas(window.clone()));
    c.now = us("2024-12-30T10:00:00Z"); // a Monday
    let res = c.resolve(&sid, AGENT);
    check_resolution(&res);
    let k = res["constraints"].as_array().unwrap().iter().find(|k| k["type"] == "time_window").cloned().expect("a time_window constraint");
    assert_eq!(k["constraint_id"], "office-hours");
    assert_eq!(k["parameters"]["start"], "09:00");
    assert_eq!(k["parameters"]["days"], window["days"]);
    assert_eq!(k["parameters"]["actions"], json!(["x.one"]));
}

#[test]
fn unknown_time_window_members_are_ignored_with_a_warning() {
    let mut c = Core::new();
    let out = c.load(window_atlas(json!({"start": "09:00", "end": "17:00", "note": "office"})));
    let warnings = out["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["path"] == "/policies/0/conditions/time_window/note"), "{}", out["warnings"]);
}

#[test]
fn time_window_in_a_named_zone_asks_the_host() {
    let mut c = Core::new();
    c.host.zones.push(("Europe/Berlin".to_string(), 60));
    c.load(window_atlas(json!({"start": "09:00", "end": "17:00", "timezone": "Europe/Berlin"})));
    let (sid, _) = c.session(AGENT, "g");
    assert!(allowed_at(&mut c, &sid, "2024-12-28T15:30:00Z"), "16:30 in Berlin");
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T16:30:00Z"), "17:30 in Berlin (16:30 UTC would be inside in UTC)");
    assert!(allowed_at(&mut c, &sid, "2024-12-28T08:30:00Z"), "09:30 in Berlin");
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T07:30:00Z"), "08:30 in Berlin");
}

#[test]
fn time_window_days_filter() {
    // 2024-12-28 is a Saturday.
    let (mut c, sid, _h) = setup(window_atlas(json!({"days": ["mon", "tue", "wed", "thu", "fri"]})));
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"), "Saturday");
    assert!(!allowed_at(&mut c, &sid, "2024-12-29T12:00:00Z"), "Sunday");
    assert!(allowed_at(&mut c, &sid, "2024-12-30T12:00:00Z"), "Monday");
    let (mut c, sid, _h) = setup(window_atlas(json!({"days": ["sat"], "start": "10:00", "end": "14:00"})));
    assert!(allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T15:00:00Z"), "the hours still apply");
    assert!(!allowed_at(&mut c, &sid, "2024-12-21T15:00:00Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-27T12:00:00Z"), "Friday");
}

#[test]
fn time_window_days_are_local_to_the_zone() {
    // At 2024-12-28T12:00Z (Saturday) it is already Sunday 02:00 at UTC+14.
    let mut c = Core::new();
    c.host.zones.push(("Pacific/Kiritimati".to_string(), 14 * 60));
    c.load(window_atlas(json!({"days": ["sun"], "timezone": "Pacific/Kiritimati"})));
    let (sid, _) = c.session(AGENT, "g");
    assert!(allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"));
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T09:00:00Z"), "still Saturday 23:00 there");
}

#[test]
fn allow_in_a_zone_the_host_no_longer_knows_fails_closed() {
    let mut c = Core::new();
    c.host.zones.push(("Europe/Berlin".to_string(), 60));
    c.load(window_atlas(json!({"start": "00:00", "end": "23:59", "timezone": "Europe/Berlin"})));
    let (sid, _) = c.session(AGENT, "g");
    assert!(allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"));
    c.host.zones.clear();
    assert!(!allowed_at(&mut c, &sid, "2024-12-28T12:00:00Z"), "a grant whose condition cannot be evaluated does not apply");
}

#[test]
fn time_window_is_evaluated_again_at_execute_time() {
    let (mut c, sid, h) = setup(window_atlas(json!({"start": "09:00", "end": "17:00"})));
    c.now = us("2024-12-28T16:50:00Z");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["x.one"]));
    assert_eq!(c.check_at(h, "x.one", us("2024-12-28T16:55:00Z")), 1);
    assert_eq!(c.check_at(h, "x.one", us("2024-12-28T17:10:00Z")), 0, "outside the window the allow no longer holds");
    c.now = us("2024-12-28T17:10:00Z");
    let out = c.execute(&sid, res["resolution_id"].as_str().unwrap(), "x.one", json!({}));
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.denied"]));
}

#[test]
fn deny_time_window_applies_at_execute_time() {
    let m = manifest(
        "com.test.time",
        &["x.one"],
        json!([
            allow("a", &["*"]),
            {"policy_id": "maintenance", "type": "deny", "actions": ["x.one"], "reason": "maintenance",
             "conditions": {"time_window": {"start": "17:00", "end": "18:00"}}},
        ]),
    );
    let (mut c, sid, h) = setup(m);
    c.now = us("2024-12-28T16:50:00Z");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["x.one"]));
    assert_eq!(c.check_at(h, "x.one", us("2024-12-28T17:10:00Z")), 0, "the maintenance deny holds now");
    c.now = us("2024-12-28T17:10:00Z");
    let out = c.execute(&sid, res["resolution_id"].as_str().unwrap(), "x.one", json!({}));
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(out["events"][1]["payload"]["policy_id"], "maintenance");
    c.now = us("2024-12-28T17:20:00Z");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "x.one")["reason"], "maintenance");
}

// ------------------------------------------------------------------------------------------------- require_approval

fn approval_atlas(extra_allow: bool) -> Value {
    let mut policies = vec![json!({"policy_id": "needs-ok", "type": "require_approval", "actions": ["pay.send"], "reason": "payments need a human"})];
    if extra_allow {
        policies.push(allow("view", &["pay.view"]));
    }
    manifest("com.test.approval", &["pay.send", "pay.view"], json!(policies))
}

#[test]
fn require_approval_lists_the_action_as_allowed_with_confirmation() {
    let (mut c, sid, h) = setup(approval_atlas(true));
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let res = &out["resolution"];
    check_resolution(res);
    assert_eq!(allowed_ids(res), strs(&["pay.send", "pay.view"]), "gated actions are allowed_actions, not denied (SPEC §9)");
    assert_eq!(allowed_entry(res, "pay.send")["requires_confirmation"], true);
    assert_eq!(allowed_entry(res, "pay.view")["requires_confirmation"], false);
    let constraint = res["constraints"].as_array().unwrap().iter().find(|k| k["type"] == "require_approval").cloned();
    assert!(constraint.is_some(), "a require_approval constraint: {}", res["constraints"]);
    assert_eq!(res["decision"]["type"], "allow", "pay.view is allowed outright");
    assert_eq!(res["decision"]["approval_id"], Value::Null);
    let p = evaluated_for(&out["events"], "pay.send");
    assert_eq!((p["policy_id"].clone(), p["result"].clone()), (json!("needs-ok"), json!("require_approval")));
    assert_eq!(c.check(h, "pay.send"), 2);
    assert_eq!(c.check(h, "pay.view"), 1);
}

#[test]
fn require_approval_decision_when_only_gated_actions_remain() {
    let (mut c, sid, _h) = setup(approval_atlas(false));
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let res = &out["resolution"];
    check_resolution(res);
    assert_eq!(res["decision"]["type"], "requires_approval");
    let approval = res["decision"]["approval_id"].as_str().expect("approval_id is set while approval is pending");
    assert!(is_lower_uuid(approval));
    let expires = res["decision"]["expires_at"].as_str().expect("expires_at is set while approval is pending");
    assert_eq!(us(expires), us(res["timestamp"].as_str().unwrap()) + 3600 * SEC, "expires at timestamp + ttl");
    assert_eq!(denied_ids(res), strs(&["pay.view"]));
    let done = out["events"].as_array().unwrap().last().unwrap()["payload"].clone();
    assert_eq!(done["decision_type"], "requires_approval");
}

#[test]
fn require_approval_applies_even_when_an_allow_matches() {
    let m = manifest(
        "com.test.approval",
        &["pay.send"],
        json!([allow("all", &["*"]), {"policy_id": "gate", "type": "require_approval", "actions": ["pay.*"]}]),
    );
    let (mut c, sid, h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_entry(&res, "pay.send")["requires_confirmation"], true);
    assert_eq!(res["decision"]["type"], "requires_approval");
    assert_eq!(c.check(h, "pay.send"), 2);
}

#[test]
fn deny_beats_require_approval() {
    let m = manifest(
        "com.test.approval",
        &["pay.send"],
        json!([{"policy_id": "gate", "type": "require_approval", "actions": ["pay.*"], "priority": 100}, deny("d", &["pay.send"], "frozen")]),
    );
    let (mut c, sid, _h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "pay.send")["policy_id"], "d");
    assert_eq!(res["decision"]["type"], "deny");
}

#[test]
fn requires_approval_spelling_is_accepted() {
    let m = manifest("com.test.approval", &["pay.send"], json!([{"policy_id": "gate", "type": "requires_approval", "actions": ["pay.send"]}]));
    let (mut c, sid, h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_entry(&res, "pay.send")["requires_confirmation"], true);
    assert_eq!(c.check(h, "pay.send"), 2);
}

// ------------------------------------------------------------------------------------------------- rate_limit

fn rate_atlas(max_calls: u64, window: u64, scope: Option<&str>) -> Value {
    let mut params = json!({"max_calls": max_calls, "window_seconds": window});
    if let Some(s) = scope {
        params["scope"] = json!(s);
    }
    manifest(
        "com.test.rate",
        &["api.call", "api.other"],
        json!([allow("all", &["*"]), {"policy_id": "rl", "type": "rate_limit", "actions": ["api.call"], "parameters": params}]),
    )
}

/// Executes api.call at `at` against a fresh resolution and completes it; returns the execution status.
fn run_call(c: &mut Core, sid: &str, agent: &str, at: i64) -> String {
    c.now = at;
    let res = c.resolve(sid, agent);
    let out = c.execute(sid, res["resolution_id"].as_str().unwrap(), "api.call", json!({}));
    let status = out["execution"]["status"].as_str().unwrap().to_string();
    if status == "approved" {
        c.complete(sid, out["execution"]["execution_id"].as_str().unwrap(), json!({"ok": true}));
    }
    status
}

#[test]
fn rate_limited_action_is_allowed_with_its_limit_and_a_constraint() {
    let (mut c, sid, _h) = setup(rate_atlas(2, 60, None));
    let res = c.resolve(&sid, AGENT);
    check_resolution(&res);
    let a = allowed_entry(&res, "api.call");
    assert_eq!(a["rate_limit"], json!({"max_calls": 2, "window_seconds": 60}));
    assert!(allowed_entry(&res, "api.other").get("rate_limit").is_none(), "no limit on api.other");
    assert!(res["constraints"].as_array().unwrap().iter().any(|k| k["type"] == "rate_limit"), "a rate_limit constraint: {}", res["constraints"]);
}

#[test]
fn rate_limit_counts_executions_not_resolutions() {
    let (mut c, sid, h) = setup(rate_atlas(2, 60, None));
    for i in 0..5 {
        let res = c.resolve(&sid, AGENT);
        assert!(allowed_ids(&res).contains(&"api.call".to_string()), "resolve {} does not consume the limit (SPEC §9)", i);
    }
    assert_eq!(c.check(h, "api.call"), 1);
    assert_eq!(run_call(&mut c, &sid, AGENT, t0() + SEC), "approved");
    assert_eq!(c.check_at(h, "api.call", t0() + SEC), 1, "one of two used");
    assert_eq!(run_call(&mut c, &sid, AGENT, t0() + 10 * SEC), "approved");
    assert_eq!(c.check_at(h, "api.call", t0() + 11 * SEC), 3, "an execution now would exceed the limit");
    assert_eq!(c.check_at(h, "api.other", t0() + 11 * SEC), 1, "other actions are not limited");
}

#[test]
fn exhausted_rate_limit_denies_with_rate_limited_and_retry_after() {
    let (mut c, sid, h) = setup(rate_atlas(2, 60, None));
    run_call(&mut c, &sid, AGENT, t0());
    run_call(&mut c, &sid, AGENT, t0() + 10 * SEC);
    c.now = t0() + 20 * SEC;
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let d = denied_entry(&out["resolution"], "api.call");
    assert_eq!(d["reason"], "rate_limited");
    assert_eq!(d["policy_id"], "rl");
    let p = evaluated_for(&out["events"], "api.call");
    assert_eq!(p["result"], "rate_limited");
    assert_eq!(p["policy_id"], "rl");
    assert_eq!(p["retry_after_seconds"], 40, "the oldest call leaves the 60 s window 40 s from now");
    assert_eq!(c.check(h, "api.call"), 3);
}

#[test]
fn a_rate_limited_execution_says_when_to_retry() {
    let (mut c, sid, _h) = setup(rate_atlas(2, 60, None));
    // A resolution made before the limit was reached still lists the action: the refusal comes at execute time.
    c.now = t0();
    let old = c.resolve(&sid, AGENT);
    run_call(&mut c, &sid, AGENT, t0());
    run_call(&mut c, &sid, AGENT, t0() + 10 * SEC);
    c.now = t0() + 20 * SEC;
    let out = c.execute(&sid, old["resolution_id"].as_str().unwrap(), "api.call", json!({}));
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(out["execution"]["reason"], "rate_limited");
    assert_eq!(out["execution"]["retry_after_seconds"], 40);
    let denied = out["events"].as_array().unwrap().iter().find(|e| e["event_type"] == "action.denied").unwrap().clone();
    assert_eq!(denied["payload"]["retry_after_seconds"], 40);
    let allowed = c.execute(&sid, old["resolution_id"].as_str().unwrap(), "api.other", json!({}));
    assert!(allowed["execution"].get("retry_after_seconds").is_none(), "only a rate-limited denial carries it");
}

#[test]
fn execution_beyond_the_rate_limit_is_denied_even_on_an_older_resolution() {
    let (mut c, sid, _h) = setup(rate_atlas(2, 60, None));
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        let out = c.execute(&sid, &rid, "api.call", json!({}));
        assert_eq!(out["execution"]["status"], "approved");
    }
    let out = c.execute(&sid, &rid, "api.call", json!({}));
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.denied"]));
    let p = &out["events"][1]["payload"];
    assert_eq!(p["reason"], "rate_limited");
    assert_eq!(p["policy_id"], "rl");
}

#[test]
fn rate_limit_frees_up_after_the_window() {
    let (mut c, sid, h) = setup(rate_atlas(2, 60, None));
    run_call(&mut c, &sid, AGENT, t0());
    run_call(&mut c, &sid, AGENT, t0() + 10 * SEC);
    c.now = t0() + 71 * SEC;
    let res = c.resolve(&sid, AGENT);
    assert!(allowed_ids(&res).contains(&"api.call".to_string()), "both calls are out of the window");
    assert_eq!(c.check(h, "api.call"), 1);
    assert_eq!(run_call(&mut c, &sid, AGENT, t0() + 72 * SEC), "approved");
}

#[test]
fn rate_limit_window_is_sliding_not_fixed() {
    // Calls at :50 and :55; at 12:01:05 a fixed per-minute window would have reset, a sliding one has not.
    let (mut c, sid, h) = setup(rate_atlas(2, 60, None));
    run_call(&mut c, &sid, AGENT, t0() + 50 * SEC);
    run_call(&mut c, &sid, AGENT, t0() + 55 * SEC);
    assert_eq!(c.check_at(h, "api.call", t0() + 65 * SEC), 3);
    c.now = t0() + 65 * SEC;
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "api.call")["reason"], "rate_limited");
    c.now = t0() + 111 * SEC;
    let res = c.resolve(&sid, AGENT);
    assert!(allowed_ids(&res).contains(&"api.call".to_string()), "the first call left the window at 12:01:50");
    assert_eq!(c.check(h, "api.call"), 1);
}

#[test]
fn rate_limit_scope_session_is_per_session() {
    let mut c = Core::new();
    c.load(rate_atlas(1, 60, None));
    let (s1, h1) = c.session(AGENT, "g");
    let (s2, h2) = c.session(AGENT, "g");
    run_call(&mut c, &s1, AGENT, t0());
    c.resolve(&s2, AGENT);
    assert_eq!(c.check(h1, "api.call"), 3);
    assert_eq!(c.check(h2, "api.call"), 1, "another session of the same agent has its own window (SPEC §9)");
}

#[test]
fn rate_limit_scope_agent_is_shared_by_the_agent_sessions() {
    let mut c = Core::new();
    c.load(rate_atlas(1, 60, Some("agent")));
    let (s1, _) = c.session(AGENT, "g");
    let (s2, h2) = c.session(AGENT, "g");
    let (s3, h3) = c.session("agent-2", "g");
    run_call(&mut c, &s1, AGENT, t0());
    c.resolve(&s2, AGENT);
    c.resolve(&s3, "agent-2");
    assert_eq!(c.check(h2, "api.call"), 3);
    assert_eq!(c.check(h3, "api.call"), 1, "another agent is not limited");
}

#[test]
fn rate_limit_scope_global_is_shared_by_everyone() {
    let mut c = Core::new();
    c.load(rate_atlas(1, 60, Some("global")));
    let (s1, _) = c.session(AGENT, "g");
    let (s3, h3) = c.session("agent-2", "g");
    run_call(&mut c, &s1, AGENT, t0());
    c.resolve(&s3, "agent-2");
    assert_eq!(c.check(h3, "api.call"), 3);
}

#[test]
fn gated_execution_does_not_count_until_approved() {
    let m = manifest(
        "com.test.rate",
        &["api.call"],
        json!([
            {"policy_id": "gate", "type": "require_approval", "actions": ["api.call"]},
            {"policy_id": "rl", "type": "rate_limit", "actions": ["api.call"], "parameters": {"max_calls": 1, "window_seconds": 600}},
        ]),
    );
    let (mut c, sid, h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    let a = c.execute(&sid, &rid, "api.call", json!({"n": 1}));
    let b = c.execute(&sid, &rid, "api.call", json!({"n": 2}));
    assert_eq!(a["execution"]["status"], "pending_approval");
    assert_eq!(b["execution"]["status"], "pending_approval");
    assert_eq!(c.check(h, "api.call"), 2, "pending requests are not executions");
    let out = c.ok("action.approve", json!({"session_id": sid, "execution_id": a["execution"]["execution_id"]}));
    assert_eq!(out["execution"]["status"], "approved");
    let out = c.ok("action.approve", json!({"session_id": sid, "execution_id": b["execution"]["execution_id"]}));
    assert_eq!(out["execution"]["status"], "denied", "the second approval would exceed the limit");
    assert_eq!(c.check(h, "api.call"), 3);
}

// ------------------------------------------------------------------------------------------------- budget

fn budget_atlas(max_calls: u64) -> Value {
    manifest(
        "com.test.budget",
        &["llm.call", "llm.free"],
        json!([allow("all", &["*"]), {"policy_id": "budget", "type": "budget", "actions": ["llm.call"], "parameters": {"max_calls": max_calls}}]),
    )
}

fn run_action(c: &mut Core, sid: &str, action_id: &str) -> String {
    let res = c.resolve(sid, AGENT);
    let out = c.execute(sid, res["resolution_id"].as_str().unwrap(), action_id, json!({}));
    let status = out["execution"]["status"].as_str().unwrap().to_string();
    if status == "approved" {
        c.complete(sid, out["execution"]["execution_id"].as_str().unwrap(), json!(null));
    }
    status
}

#[test]
fn budget_max_calls_is_exhausted_by_executions() {
    let (mut c, sid, h) = setup(budget_atlas(2));
    for _ in 0..4 {
        c.resolve(&sid, AGENT);
    }
    assert_eq!(c.check(h, "llm.call"), 1, "resolutions do not spend the budget");
    assert_eq!(run_action(&mut c, &sid, "llm.call"), "approved");
    assert_eq!(run_action(&mut c, &sid, "llm.call"), "approved");
    assert_eq!(c.check(h, "llm.call"), 4, "budget exhausted");
    assert_eq!(c.check(h, "llm.free"), 1);
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    assert_eq!(denied_entry(&out["resolution"], "llm.call")["policy_id"], "budget");
    let p = evaluated_for(&out["events"], "llm.call");
    assert_eq!((p["policy_id"].clone(), p["result"].clone()), (json!("budget"), json!("budget_exhausted")));
    assert_eq!(run_action(&mut c, &sid, "llm.call"), "denied");
}

#[test]
fn budget_max_cost_charges_the_cost_parameter() {
    let m = manifest(
        "com.test.budget",
        &["llm.call"],
        json!([allow("all", &["*"]), {"policy_id": "spend", "type": "budget", "actions": ["llm.call"], "parameters": {"max_cost": 10, "cost_param": "tokens"}}]),
    );
    let (mut c, sid, h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    assert_eq!(c.execute(&sid, &rid, "llm.call", json!({"tokens": 6}))["execution"]["status"], "approved");
    assert_eq!(c.execute(&sid, &rid, "llm.call", json!({"tokens": 5}))["execution"]["status"], "denied", "6 + 5 > 10");
    assert_eq!(c.execute(&sid, &rid, "llm.call", json!({"tokens": 4}))["execution"]["status"], "approved", "6 + 4 = 10");
    assert_eq!(c.check(h, "llm.call"), 4, "nothing left");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "llm.call")["policy_id"], "spend");
}

#[test]
fn budget_has_no_window() {
    let (mut c, sid, h) = setup(budget_atlas(1));
    run_action(&mut c, &sid, "llm.call");
    c.now = t0() + 30 * 86_400 * SEC;
    c.resolve(&sid, AGENT);
    assert_eq!(c.check(h, "llm.call"), 4, "a month later the budget is still spent");
}

#[test]
fn budget_is_per_session() {
    let mut c = Core::new();
    c.load(budget_atlas(1));
    let (s1, h1) = c.session(AGENT, "g");
    let (s2, h2) = c.session(AGENT, "g");
    run_action(&mut c, &s1, "llm.call");
    c.resolve(&s2, AGENT);
    assert_eq!(c.check(h1, "llm.call"), 4);
    assert_eq!(c.check(h2, "llm.call"), 1);
}

// ------------------------------------------------------------------------------------------------- scope

fn scope_atlas() -> Value {
    manifest(
        "com.test.scope",
        &["money.transfer"],
        json!([
            allow("all", &["*"]),
            {"policy_id": "limits", "type": "scope", "actions": ["money.transfer"],
             "parameters": {"allowed_values": {"currency": ["EUR", "USD"]}, "max": {"amount": 100}}},
        ]),
    )
}

fn transfer(c: &mut Core, sid: &str, params: Value) -> Value {
    let res = c.resolve(sid, AGENT);
    c.execute(sid, res["resolution_id"].as_str().unwrap(), "money.transfer", params)
}

#[test]
fn scope_allowed_values_violation_is_refused_and_traced() {
    let (mut c, sid, _h) = setup(scope_atlas());
    let out = transfer(&mut c, &sid, json!({"currency": "GBP", "amount": 5}));
    assert_eq!(out["execution"]["status"], "violated");
    assert_eq!(types(&out["events"]), strs(&["action.requested", "policy.violated"]));
    let p = &out["events"][1]["payload"];
    assert_eq!(p["policy_id"], "limits");
    assert!(p["violation_type"].is_string() && p.get("details").is_some(), "{}", p);
    for e in out["events"].as_array().unwrap() {
        check_event(e);
    }
}

#[test]
fn scope_max_violation_is_refused() {
    let (mut c, sid, _h) = setup(scope_atlas());
    let out = transfer(&mut c, &sid, json!({"currency": "EUR", "amount": 101}));
    assert_eq!(out["execution"]["status"], "violated");
    assert_eq!(out["events"][1]["event_type"], "policy.violated");
    assert_eq!(out["events"][1]["payload"]["policy_id"], "limits");
}

#[test]
fn scope_within_bounds_is_approved() {
    let (mut c, sid, _h) = setup(scope_atlas());
    for params in [json!({"currency": "EUR", "amount": 100}), json!({"currency": "USD", "amount": 0.5})] {
        let out = transfer(&mut c, &sid, params.clone());
        assert_eq!(out["execution"]["status"], "approved", "{}", params);
        assert_eq!(types(&out["events"]), strs(&["action.requested", "action.approved"]));
    }
}

#[test]
fn scope_alone_does_not_grant() {
    let m = manifest(
        "com.test.scope",
        &["money.transfer"],
        json!([{"policy_id": "limits", "type": "scope", "actions": ["*"], "parameters": {"max": {"amount": 100}}}]),
    );
    let (mut c, sid, _h) = setup(m);
    let res = c.resolve(&sid, AGENT);
    assert_eq!(denied_entry(&res, "money.transfer")["policy_id"], "default");
}

// ------------------------------------------------------------------------------------------------- configuration

#[test]
fn configure_default_decision_allow() {
    let (mut c, sid, h) = setup(manifest("com.test.cfg", &["x.free", "x.blocked"], json!([deny("d", &["x.blocked"], "no")])));
    let res = c.resolve(&sid, AGENT);
    assert!(allowed_ids(&res).is_empty(), "default deny by default");
    let cfg = c.ok("runtime.configure", json!({"default_decision": "allow"}));
    assert_eq!(cfg["default_decision"], "allow");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["x.free"]));
    assert_eq!(denied_entry(&res, "x.blocked")["policy_id"], "d", "explicit denies still apply");
    assert_eq!(c.check(h, "x.free"), 1);
    let cfg = c.ok("runtime.configure", json!({"default_decision": "deny"}));
    assert_eq!(cfg["default_decision"], "deny");
    let res = c.resolve(&sid, AGENT);
    assert!(allowed_ids(&res).is_empty());
}

#[test]
fn configure_returns_the_effective_config_and_validates() {
    let mut c = Core::new();
    let cfg = c.ok("runtime.configure", json!({}));
    assert_eq!(cfg["default_decision"], "deny", "the protocol's default");
    assert_eq!(cfg["max_context_tokens"], 8000);
    assert_eq!(cfg["clock_skew_seconds"], 300);
    assert_eq!(cfg["default_ttl_seconds"], 3600);
    let e = c.err("runtime.configure", json!({"default_decision": "maybe"}));
    assert_eq!(code(&e), "invalid_request");
    assert_eq!(path(&e), Some("/default_decision"));
    assert_eq!(c.ok("runtime.configure", json!({}))["default_decision"], "deny", "a refused configure changes nothing");
}

#[test]
fn configure_default_ttl_applies_to_new_resolutions() {
    let (mut c, sid, _h) = setup(manifest("com.test.cfg", &["x.one"], json!([allow("a", &["*"])])));
    c.ok("runtime.configure", json!({"default_ttl_seconds": 60}));
    let res = c.resolve(&sid, AGENT);
    assert_eq!(res["ttl_seconds"], 60);
}

// ------------------------------------------------------------------------------------------------- decision types

fn caps_atlas() -> Value {
    json!({
        "atlas_version": "1.0", "atlas_id": "com.test.caps", "version": "1.0.0", "name": "Caps", "description": "d",
        "capabilities": [
            {"capability_id": "read", "name": "Read", "actions": ["r.get", "r.list"]},
            {"capability_id": "admin", "name": "Admin", "actions": ["a.drop"]},
            {"capability_id": "mixed", "name": "Mixed", "actions": ["r.get", "a.drop"]},
            {"capability_id": "gated", "name": "Gated", "actions": ["g.pay"]},
        ],
        "actions": [action("r.get"), action("r.list"), action("a.drop"), action("g.pay")],
        "policies": [
            allow("allow-r", &["r.*"]),
            deny("deny-a", &["a.*"], "admin is off"),
            {"policy_id": "gate-g", "type": "require_approval", "actions": ["g.*"]},
        ],
    })
}

fn decide(caps: Option<Value>) -> Value {
    let (mut c, sid, _h) = setup(caps_atlas());
    let task = match caps {
        Some(v) => json!({ "required_capabilities": v }),
        None => json!({}),
    };
    let res = c.resolve_with(&sid, AGENT, task, json!({}));
    check_resolution(&res);
    res
}

#[test]
fn decision_allow_when_all_capability_actions_are_allowed() {
    let res = decide(Some(json!(["read"])));
    assert_eq!(res["decision"]["type"], "allow");
    assert_eq!(allowed_ids(&res), strs(&["r.get", "r.list"]), "narrowed to the capability's actions");
    assert!(denied_ids(&res).is_empty(), "other actions are not considered");
    assert_eq!(res["decision"]["reason"], Value::Null);
}

#[test]
fn decision_deny_when_no_capability_action_is_allowed() {
    let res = decide(Some(json!(["admin"])));
    assert_eq!(res["decision"]["type"], "deny");
    assert!(res["decision"]["reason"].is_string());
    assert_eq!(denied_ids(&res), strs(&["a.drop"]));
}

#[test]
fn decision_partial_when_some_capability_actions_are_denied() {
    let res = decide(Some(json!(["mixed"])));
    assert_eq!(res["decision"]["type"], "partial");
    assert!(res["decision"]["reason"].is_string(), "partial explains itself");
    assert_eq!(allowed_ids(&res), strs(&["r.get"]));
    assert_eq!(denied_ids(&res), strs(&["a.drop"]));
    assert_eq!(res["decision"]["approval_id"], Value::Null);
}

#[test]
fn decision_requires_approval_when_capability_actions_are_only_gated() {
    let res = decide(Some(json!(["gated"])));
    assert_eq!(res["decision"]["type"], "requires_approval");
    assert!(res["decision"]["approval_id"].is_string());
    assert!(res["decision"]["expires_at"].is_string());
    assert_eq!(allowed_entry(&res, "g.pay")["requires_confirmation"], true);
}

#[test]
fn decision_without_capabilities_is_allow_when_anything_is_allowed() {
    let res = decide(None);
    assert_eq!(res["decision"]["type"], "allow");
    assert_eq!(allowed_ids(&res), strs(&["r.get", "r.list", "g.pay"]));
    assert_eq!(denied_ids(&res), strs(&["a.drop"]), "denied ones are still listed");
}

#[test]
fn policy_evaluated_once_per_restricted_action_in_atlas_order() {
    let (mut c, sid, _h) = setup(caps_atlas());
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let ev = evaluated(&out["events"]);
    let got: Vec<(String, String)> = ev
        .iter()
        .map(|p| (p["action_id"].as_str().unwrap().to_string(), p["result"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(got, vec![("a.drop".to_string(), "deny".to_string()), ("g.pay".to_string(), "require_approval".to_string())]);
    let kinds = types(&out["events"]);
    assert_eq!(kinds.first().map(String::as_str), Some("carp.request.received"));
    assert_eq!(kinds.last().map(String::as_str), Some("carp.resolution.completed"));
}

// ------------------------------------------------------------------------------------------------- atlases in scope

#[test]
fn unloading_an_atlas_removes_its_actions_and_policies() {
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["one.act"], json!([allow("a1", &["*"])])));
    c.load(manifest("com.test.two", &["two.act"], json!([allow("a2", &["*"])])));
    let (sid, h) = c.session(AGENT, "g");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["one.act", "two.act"]));
    c.ok("atlas.unload", json!({"atlas_id": "com.test.two"}));
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["one.act"]));
    assert!(denied_ids(&res).is_empty(), "an unloaded atlas's actions are not considered at all");
    assert_eq!(c.check(h, "two.act"), 8, "unknown_action: no loaded atlas declares it any more, as action.request says");
    let req = c.request(&sid, AGENT, "g", json!({}), json!({"atlas_ids": ["com.test.two"]}));
    let e = c.err("session.resolve", json!({ "request": req }));
    assert_eq!(code(&e), "atlas_not_found");
    assert_eq!(path(&e), Some("/request/atlas_ids/0"));
}

#[test]
fn unloading_an_atlas_removes_its_deny_policies() {
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["one.act"], json!([allow("a1", &["*"]), deny("d1", &["one.act"], "blocked")])));
    c.ok("atlas.unload", json!({"atlas_id": "com.test.one"}));
    c.load(manifest("com.test.one", &["one.act"], json!([allow("a1", &["*"])])));
    let (sid, _) = c.session(AGENT, "g");
    let res = c.resolve(&sid, AGENT);
    assert_eq!(allowed_ids(&res), strs(&["one.act"]), "the old deny policy is gone");
}

#[test]
fn resolutions_made_with_an_unloaded_atlas_allow_none_of_its_actions() {
    // SPEC §9: unloading left the reference's policies in force; here the earlier resolution stops allowing.
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["one.act"], json!([allow("a1", &["*"])])));
    c.load(manifest("com.test.two", &["two.act"], json!([allow("a2", &["*"])])));
    let (sid, h) = c.session(AGENT, "g");
    let res = c.resolve(&sid, AGENT);
    let rid = res["resolution_id"].as_str().unwrap().to_string();
    assert_eq!(c.check(h, "two.act"), 1);
    c.ok("atlas.unload", json!({"atlas_id": "com.test.two"}));
    assert_eq!(c.check(h, "two.act"), 0);
    assert_eq!(c.check(h, "one.act"), 1, "the other atlas's actions stay allowed");
    let out = c.execute(&sid, &rid, "two.act", json!({}));
    assert_eq!(out["execution"]["status"], "denied");
    assert_eq!(out["execution"]["policy_id"], "unloaded");
    assert_eq!(types(&out["events"]), strs(&["action.requested", "action.denied"]));
}

#[test]
fn resolutions_made_before_a_replace_keep_working() {
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["one.act"], json!([allow("a1", &["*"])])));
    let (sid, h) = c.session(AGENT, "g");
    let res = c.resolve(&sid, AGENT);
    let mut next = manifest("com.test.one", &["one.act"], json!([deny("d", &["one.act"], "no longer")]));
    next["version"] = json!("2.0.0");
    c.ok("atlas.load", json!({"manifest": next, "replace": true}));
    assert_eq!(c.check(h, "one.act"), 1, "the session keeps the resolution it had");
    let out = c.execute(&sid, res["resolution_id"].as_str().unwrap(), "one.act", json!({}));
    assert_eq!(out["execution"]["status"], "approved");
    let again = c.resolve(&sid, AGENT);
    assert_eq!(denied_ids(&again), strs(&["one.act"]), "a new resolution uses the new version");
}

#[test]
fn two_atlases_are_ordered_by_load_order() {
    for order in [["com.zeta.one", "com.alpha.two"], ["com.alpha.two", "com.zeta.one"]] {
        let mut c = Core::new();
        for id in order {
            let prefix = if id == "com.zeta.one" { "zeta" } else { "alpha" };
            let m = json!({
                "atlas_version": "1.0", "atlas_id": id, "version": "1.0.0", "name": id, "description": "d",
                "context_packs": [{"pack_id": "p", "name": "P", "files": ["a.md"]}],
                "actions": [action(&format!("{}.b", prefix)), action(&format!("{}.a", prefix)), action(&format!("{}.gone", prefix))],
                "policies": [allow("all", &[&format!("{}.a", prefix), &format!("{}.b", prefix)])],
            });
            c.load_with_files(m, json!({"a.md": format!("context of {}", id)}));
        }
        let (sid, _) = c.session(AGENT, "g");
        let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
        let res = &out["resolution"];
        let p = |id: &str| if id == "com.zeta.one" { "zeta" } else { "alpha" };
        let expected: Vec<String> = order.iter().flat_map(|id| vec![format!("{}.b", p(id)), format!("{}.a", p(id))]).collect();
        assert_eq!(allowed_ids(res), expected, "atlas load order, then manifest order");
        let sources: Vec<Value> = res["context_blocks"].as_array().unwrap().iter().map(|b| b["source"].clone()).collect();
        assert_eq!(sources, vec![json!(order[0]), json!(order[1])], "equal-priority blocks in load order");
        let listed: Vec<Value> = c.ok("atlas.list", json!({}))["atlases"].as_array().unwrap().iter().map(|a| a["atlas_id"].clone()).collect();
        assert_eq!(listed, vec![json!(order[0]), json!(order[1])]);
        let ev: Vec<Value> = evaluated(&out["events"]).iter().map(|p| p["action_id"].clone()).collect();
        assert_eq!(ev, vec![json!(format!("{}.gone", p(order[0]))), json!(format!("{}.gone", p(order[1])))]);
        let atlas_ids = out["events"][0]["payload"]["atlas_ids"].clone();
        assert_eq!(atlas_ids, json!(order), "carp.request.received lists the atlases in load order");
    }
}

#[test]
fn duplicate_action_ids_across_atlases_are_refused() {
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["shared.act", "one.only"], json!([])));
    let e = c.err("atlas.load", json!({"manifest": manifest("com.test.two", &["two.only", "shared.act"], json!([]))}));
    assert_eq!(code(&e), "atlas_invalid");
    assert_eq!(path(&e), Some("/actions/1/action_id"));
    let listed = c.ok("atlas.list", json!({}))["atlases"].as_array().unwrap().len();
    assert_eq!(listed, 1, "the refused atlas is not loaded");
}

#[test]
fn atlas_ids_in_the_request_narrow_the_scope() {
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["one.act"], json!([allow("a1", &["*"])])));
    c.load(manifest("com.test.two", &["two.act"], json!([allow("a2", &["*"])])));
    let (sid, _) = c.session(AGENT, "g");
    let res = c.resolve_with(&sid, AGENT, json!({}), json!({"atlas_ids": ["com.test.two"]}));
    assert_eq!(allowed_ids(&res), strs(&["two.act"]));
}
