//! Atlas/1.0 validation (SPEC §1; ABI.md atlas.validate / atlas.load): exact error codes and JSON pointers (into
//! the manifest), warnings, dependencies, load/replace/unload.

mod common;

use common::*;
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "atlas_version": "1.0",
        "atlas_id": "com.example.support",
        "version": "1.2.0",
        "name": "Support",
        "description": "Customer support tools",
        "capabilities": [{"capability_id": "tickets", "name": "Tickets", "actions": ["ticket.lookup", "ticket.close"], "context_packs": ["guide"]}],
        "context_packs": [{"pack_id": "guide", "name": "Guide", "files": ["context/guide.md"], "priority": 200}],
        "policies": [
            {"policy_id": "allow-tickets", "type": "allow", "actions": ["ticket.*"]},
            {"policy_id": "limit-close", "type": "rate_limit", "actions": ["ticket.close"], "parameters": {"max_calls": 5, "window_seconds": 60}},
        ],
        "actions": [action("ticket.lookup"), action("ticket.close")],
    })
}

/// Loads `m` expecting a refusal; returns the error and checks that nothing was loaded.
fn load_err(m: Value) -> Value {
    let mut c = Core::new();
    let e = c.err("atlas.load", json!({ "manifest": m }));
    assert_eq!(c.ok("atlas.list", json!({}))["atlases"], json!([]), "a refused atlas is not loaded");
    e
}

fn assert_load_err(m: Value, expected_code: &str, expected_path: &str) {
    let e = load_err(m);
    assert_eq!((code(&e), path(&e)), (expected_code, Some(expected_path)), "error: {}", e);
}

/// The errors atlas.validate reports for `m`.
fn validate(m: Value) -> Value {
    let mut c = Core::new();
    c.ok("atlas.validate", json!({ "manifest": m }))
}

fn error_paths(v: &Value) -> Vec<String> {
    v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap_or("").to_string()).collect()
}

fn warning_paths(v: &Value) -> Vec<String> {
    v["warnings"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap_or("").to_string()).collect()
}

#[test]
fn the_base_manifest_is_valid() {
    let v = validate(base());
    assert_eq!(v["valid"], true, "{}", v);
    assert_eq!(v["errors"], json!([]));
    let mut c = Core::new();
    let out = c.ok("atlas.load", json!({"manifest": base(), "files": {"context/guide.md": "# Guide"}}));
    assert_eq!(out["atlas_id"], "com.example.support");
    assert_eq!(out["version"], "1.2.0");
    assert_eq!(out["action_count"], 2);
    assert_eq!(out["warnings"], json!([]));
}

#[test]
fn bad_atlas_id() {
    for bad in ["Com.Example.Support", "support", "com..example", "com.example.", "1com.example", "com.example.Support"] {
        let mut m = base();
        m["atlas_id"] = json!(bad);
        assert_load_err(m, "atlas_invalid", "/atlas_id");
    }
    let mut m = base();
    m["atlas_id"] = json!("com.example.support-team");
    assert_eq!(validate(m)["valid"], true, "dashes are allowed after the first segment");
}

#[test]
fn unsupported_atlas_version() {
    let mut m = base();
    m["atlas_version"] = json!("2.0");
    assert_load_err(m, "atlas_invalid", "/atlas_version");
    let mut m = base();
    m.as_object_mut().unwrap().remove("atlas_version");
    assert_load_err(m, "atlas_invalid", "/atlas_version");
}

#[test]
fn bad_semver() {
    for bad in ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "1.0.0-", "latest"] {
        let mut m = base();
        m["version"] = json!(bad);
        assert_load_err(m, "atlas_invalid", "/version");
    }
    for good in ["0.0.1", "1.2.3-beta.1", "1.2.3+build.5", "10.20.30-rc.1+sha.abc"] {
        let mut m = base();
        m["version"] = json!(good);
        assert_eq!(validate(m)["valid"], true, "{} is semver", good);
    }
}

#[test]
fn missing_name() {
    let mut m = base();
    m.as_object_mut().unwrap().remove("name");
    assert_load_err(m, "atlas_invalid", "/name");
}

#[test]
fn missing_description() {
    let mut m = base();
    m.as_object_mut().unwrap().remove("description");
    assert_load_err(m, "atlas_invalid", "/description");
}

#[test]
fn duplicate_action_id_points_at_the_second() {
    let mut m = base();
    m["actions"].as_array_mut().unwrap().push(action("ticket.lookup"));
    assert_load_err(m, "atlas_invalid", "/actions/2/action_id");
}

#[test]
fn bad_action_id() {
    let mut m = base();
    m["actions"].as_array_mut().unwrap().push(action("Ticket-Lookup"));
    assert_load_err(m, "atlas_invalid", "/actions/2/action_id");
}

#[test]
fn duplicate_policy_pack_and_capability_ids() {
    let mut m = base();
    m["policies"].as_array_mut().unwrap().push(json!({"policy_id": "allow-tickets", "type": "allow", "actions": ["*"]}));
    assert_load_err(m, "atlas_invalid", "/policies/2/policy_id");
    let mut m = base();
    m["context_packs"].as_array_mut().unwrap().push(json!({"pack_id": "guide", "name": "Again", "files": ["b.md"]}));
    assert_load_err(m, "atlas_invalid", "/context_packs/1/pack_id");
    let mut m = base();
    m["capabilities"].as_array_mut().unwrap().push(json!({"capability_id": "tickets", "name": "Again", "actions": ["ticket.lookup"]}));
    assert_load_err(m, "atlas_invalid", "/capabilities/1/capability_id");
}

#[test]
fn unknown_field() {
    let mut m = base();
    m["colour"] = json!("blue");
    assert_load_err(m, "atlas_invalid", "/colour");
    let mut m = base();
    m["actions"][1]["colour"] = json!("blue");
    assert_load_err(m, "atlas_invalid", "/actions/1/colour");
    let mut m = base();
    m["policies"][0]["conditions"] = json!({"weather": "sunny"});
    assert_load_err(m, "atlas_invalid", "/policies/0/conditions/weather");
}

#[test]
fn bad_risk_tier() {
    let mut m = base();
    m["actions"][1]["risk_tier"] = json!("extreme");
    assert_load_err(m, "atlas_invalid", "/actions/1/risk_tier");
    let mut m = base();
    m["policies"][0]["conditions"] = json!({"risk_tiers": ["low", "severe"]});
    assert_load_err(m, "atlas_invalid", "/policies/0/conditions/risk_tiers/1");
}

#[test]
fn unknown_policy_type() {
    let mut m = base();
    m["policies"][0]["type"] = json!("maybe");
    assert_load_err(m, "atlas_invalid", "/policies/0/type");
}

#[test]
fn rate_limit_policy_without_max_calls() {
    let mut m = base();
    m["policies"][1]["parameters"] = json!({"window_seconds": 60});
    assert_load_err(m, "atlas_invalid", "/policies/1/parameters/max_calls");
    let mut m = base();
    m["policies"][1]["parameters"] = json!({"max_calls": 5});
    assert_load_err(m, "atlas_invalid", "/policies/1/parameters/window_seconds");
    let mut m = base();
    m["policies"][1]["parameters"] = json!({"max_calls": 0, "window_seconds": 60});
    assert_load_err(m, "atlas_invalid", "/policies/1/parameters/max_calls");
}

#[test]
fn budget_policy_without_a_limit() {
    let mut m = base();
    m["policies"].as_array_mut().unwrap().push(json!({"policy_id": "b", "type": "budget", "actions": ["*"], "parameters": {}}));
    let e = load_err(m);
    assert_eq!(code(&e), "atlas_invalid");
    assert!(path(&e).map(|p| p.starts_with("/policies/2")).unwrap_or(false), "{}", e);
}

#[test]
fn capability_referencing_an_unknown_context_pack_is_a_warning() {
    let mut m = base();
    m["capabilities"][0]["context_packs"] = json!(["guide", "missing"]);
    let v = validate(m.clone());
    assert_eq!(v["valid"], true, "{}", v);
    let w = v["warnings"].as_array().unwrap().iter().find(|w| w["path"] == "/capabilities/0/context_packs/1").cloned();
    let w = w.unwrap_or_else(|| panic!("a warning at the unknown pack: {}", v["warnings"]));
    assert_eq!(w["code"], "atlas_warning");
    assert_eq!(w["message"], "`missing` is not a context pack of this atlas; it is ignored");
    let mut c = Core::new();
    c.load_with_files(m, json!({"context/guide.md": "# Guide"}));
}

#[test]
fn context_pack_file_paths_stay_inside_the_atlas() {
    for bad in ["../secret.md", "context/../../etc/passwd", "/etc/passwd", "context\\guide.md"] {
        let mut m = base();
        m["context_packs"][0]["files"] = json!(["context/guide.md", bad]);
        assert_load_err(m, "atlas_invalid", "/context_packs/0/files/1");
    }
}

#[test]
fn context_pack_priority_range() {
    let mut m = base();
    m["context_packs"][0]["priority"] = json!(1001);
    assert_load_err(m, "atlas_invalid", "/context_packs/0/priority");
}

#[test]
fn unknown_named_time_zone() {
    let mut m = base();
    m["policies"][0]["conditions"] = json!({"time_window": {"start": "09:00", "end": "17:00", "timezone": "Mars/Olympus"}});
    assert_load_err(m, "atlas_invalid", "/policies/0/conditions/time_window/timezone");
    let mut m = base();
    m["policies"][0]["conditions"] = json!({"time_window": {"start": "9am"}});
    assert_load_err(m, "atlas_invalid", "/policies/0/conditions/time_window/start");
    let mut m = base();
    m["policies"][0]["conditions"] = json!({"time_window": {"days": ["mon", "funday"]}});
    assert_load_err(m, "atlas_invalid", "/policies/0/conditions/time_window/days/1");
}

#[test]
fn manifest_must_be_an_object() {
    let mut c = Core::new();
    let e = c.err("atlas.load", json!({"manifest": []}));
    assert_eq!(code(&e), "atlas_invalid");
    assert_eq!(path(&e), Some(""));
    let e = c.err("atlas.load", json!({}));
    assert_eq!(code(&e), "invalid_request");
    assert_eq!(path(&e), Some("/manifest"));
}

// ------------------------------------------------------------------------------------------------- dependencies

#[test]
fn missing_dependency_is_atlas_not_found() {
    let mut m = base();
    m["dependencies"] = json!({"com.example.base": "^1.0.0"});
    assert_load_err(m, "atlas_not_found", "/dependencies/com.example.base");
}

#[test]
fn satisfied_and_unsatisfied_dependencies() {
    let mut c = Core::new();
    let mut dep = manifest("com.example.base", &["base.act"], json!([]));
    dep["version"] = json!("1.4.2");
    c.load(dep);
    let mut m = base();
    m["dependencies"] = json!({"com.example.base": "^1.2.0"});
    c.load(m);
    let mut m2 = manifest("com.example.other", &["other.act"], json!([]));
    m2["dependencies"] = json!({"com.example.base": "^2.0.0"});
    let e = c.err("atlas.load", json!({ "manifest": m2 }));
    assert_eq!(code(&e), "atlas_invalid");
    assert_eq!(path(&e), Some("/dependencies/com.example.base"));
    let e = c.err("atlas.unload", json!({"atlas_id": "com.example.base"}));
    assert!(["invalid_state", "atlas_invalid"].contains(&code(&e)), "a dependency of a loaded atlas cannot be unloaded: {}", e);
    assert_eq!(c.ok("atlas.list", json!({}))["atlases"].as_array().unwrap().len(), 2);
}

// ------------------------------------------------------------------------------------------------- load, replace, unload

#[test]
fn loading_the_same_id_twice_is_atlas_exists() {
    let mut c = Core::new();
    c.load(base());
    let e = c.err("atlas.load", json!({ "manifest": base() }));
    assert_eq!(code(&e), "atlas_exists");
    let mut v2 = base();
    v2["version"] = json!("1.3.0");
    v2["name"] = json!("Support v2");
    let out = c.ok("atlas.load", json!({"manifest": v2, "replace": true}));
    assert_eq!(out["version"], "1.3.0");
    let list = c.ok("atlas.list", json!({}))["atlases"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["version"], "1.3.0");
    assert_eq!(list[0]["name"], "Support v2");
    assert_eq!(list[0]["action_count"], 2);
    assert_eq!(c.ok("atlas.get", json!({"atlas_id": "com.example.support"}))["manifest"], v2);
}

#[test]
fn replace_keeps_existing_resolutions_of_sessions() {
    let mut c = Core::new();
    c.load(manifest("com.test.one", &["x.one"], json!([allow("a", &["*"])])));
    let (sid, h) = c.session("agent", "g");
    let res = c.resolve(&sid, "agent");
    c.ok("atlas.load", json!({"manifest": manifest("com.test.one", &["x.one"], json!([deny("d", &["*"], "closed")])), "replace": true}));
    assert_eq!(c.check(h, "x.one"), 1, "sessions keep the resolution they had");
    let out = c.execute(&sid, res["resolution_id"].as_str().unwrap(), "x.one", json!({}));
    assert_eq!(out["execution"]["status"], "approved");
    let res = c.resolve(&sid, "agent");
    assert_eq!(denied_entry(&res, "x.one")["policy_id"], "d", "new resolutions see the new version");
    assert_eq!(c.check(h, "x.one"), 0);
}

#[test]
fn unload_and_get_unknown_atlas() {
    let mut c = Core::new();
    c.load(base());
    assert_eq!(c.ok("atlas.unload", json!({"atlas_id": "com.example.support"}))["atlas_id"], "com.example.support");
    assert_eq!(code(&c.err("atlas.unload", json!({"atlas_id": "com.example.support"}))), "atlas_not_found");
    assert_eq!(code(&c.err("atlas.get", json!({"atlas_id": "com.example.support"}))), "atlas_not_found");
    assert_eq!(c.ok("atlas.list", json!({}))["atlases"], json!([]));
    c.load(base());
}

#[test]
fn atlas_get_returns_the_manifest() {
    let mut c = Core::new();
    c.load(base());
    assert_eq!(c.ok("atlas.get", json!({"atlas_id": "com.example.support"}))["manifest"], base());
    let list = c.ok("atlas.list", json!({}))["atlases"].clone();
    assert_eq!(
        list,
        json!([{"atlas_id": "com.example.support", "version": "1.2.0", "name": "Support", "description": "Customer support tools", "action_count": 2}])
    );
    assert_eq!(c.ok("runtime.stats", json!({}))["atlases"], 1);
}

// ------------------------------------------------------------------------------------------------- validate

#[test]
fn validate_reports_every_error() {
    let mut m = base();
    m["atlas_id"] = json!("BAD");
    m["version"] = json!("1.0");
    m["actions"].as_array_mut().unwrap().push(action("ticket.lookup"));
    m["policies"][0]["type"] = json!("maybe");
    m["colour"] = json!("blue");
    let v = validate(m);
    assert_eq!(v["valid"], false);
    let paths = error_paths(&v);
    for p in ["/atlas_id", "/version", "/actions/2/action_id", "/policies/0/type", "/colour"] {
        assert!(paths.contains(&p.to_string()), "{} among the errors {:?}", p, paths);
    }
    for e in v["errors"].as_array().unwrap() {
        check_error_shape(e);
        assert!(e["message"].as_str().map(|m| !m.is_empty()).unwrap_or(false));
    }
}

#[test]
fn validate_does_not_load() {
    let mut c = Core::new();
    let v = c.ok("atlas.validate", json!({ "manifest": base() }));
    assert_eq!(v["valid"], true);
    assert_eq!(c.ok("atlas.list", json!({}))["atlases"], json!([]));
}

#[test]
fn pattern_matching_no_action_is_a_warning() {
    let mut m = base();
    m["policies"].as_array_mut().unwrap().push(json!({"policy_id": "nothing", "type": "deny", "actions": ["billing.*"], "reason": "r"}));
    let v = validate(m.clone());
    assert_eq!(v["valid"], true, "a warning does not invalidate: {}", v);
    assert_eq!(v["errors"], json!([]));
    assert!(warning_paths(&v).contains(&"/policies/2/actions/0".to_string()), "{:?}", v["warnings"]);
    let mut c = Core::new();
    let out = c.ok("atlas.load", json!({ "manifest": m }));
    assert!(
        out["warnings"].as_array().unwrap().iter().any(|w| w["path"] == "/policies/2/actions/0"),
        "load reports the warning: {}",
        out["warnings"]
    );
}

#[test]
fn capability_action_matching_nothing_is_a_warning() {
    let mut m = base();
    m["capabilities"][0]["actions"] = json!(["ticket.lookup", "ticket.reopen"]);
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v);
    assert!(warning_paths(&v).contains(&"/capabilities/0/actions/1".to_string()), "{:?}", v["warnings"]);
}

#[test]
fn requires_approval_spelling_is_accepted() {
    let mut m = base();
    m["policies"][0] = json!({"policy_id": "gate", "type": "requires_approval", "actions": ["ticket.close"]});
    let v = validate(m.clone());
    assert_eq!(v["valid"], true, "{}", v);
    let mut c = Core::new();
    c.load(m);
    let (sid, _) = c.session("agent", "g");
    let res = c.resolve(&sid, "agent");
    assert_eq!(allowed_entry(&res, "ticket.close")["requires_confirmation"], true);
}

#[test]
fn policy_reason_may_be_in_parameters() {
    let mut m = base();
    m["policies"].as_array_mut().unwrap().push(json!({"policy_id": "no-close", "type": "deny", "actions": ["ticket.close"], "parameters": {"reason": "closing is manual"}}));
    let mut c = Core::new();
    c.load(m);
    let (sid, _) = c.session("agent", "g");
    let res = c.resolve(&sid, "agent");
    assert_eq!(denied_entry(&res, "ticket.close"), json!({"action_id": "ticket.close", "reason": "closing is manual", "policy_id": "no-close"}));
}

#[test]
fn conformance_atlas_is_valid() {
    let v = validate(fixture_json("conformance/simple-resolve/atlas.json"));
    assert_eq!(v["valid"], true, "{}", v);
}

// ------------------------------------------------------------------------------------------------- adapter tool names

fn with_adapters(adapters: Value) -> Value {
    let mut m = base();
    m["adapters"] = adapters;
    m
}

fn errors_of(v: &Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap_or("").to_string(), e["message"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn tool_names_of_known_platforms_are_accepted() {
    for platform in ["openai", "anthropic", "mcp", "ai_sdk"] {
        let m = with_adapters(json!({platform: {"enabled": true, "settings": {
            "tool_names": {"ticket.lookup": "lookup_ticket", "ticket.close": "Close-Ticket_2"},
            "other": {"free": "form"},
        }}}));
        let v = validate(m.clone());
        assert_eq!(v["valid"], true, "{}: {}", platform, v);
        Core::new().load(m);
    }
    let longest = "a".repeat(64);
    let v = validate(with_adapters(json!({"openai": {"settings": {"tool_names": {"ticket.lookup": longest}}}})));
    assert_eq!(v["valid"], true, "64 characters: {}", v);
}

#[test]
fn tool_names_must_be_an_object() {
    for bad in [json!(["lookup"]), json!("lookup"), json!(3)] {
        let m = with_adapters(json!({"anthropic": {"settings": {"tool_names": bad}}}));
        assert_load_err(m, "atlas_invalid", "/adapters/anthropic/settings/tool_names");
    }
}

#[test]
fn tool_names_keys_must_be_actions_of_this_atlas() {
    let m = with_adapters(json!({"openai": {"settings": {"tool_names": {"ticket.lookup": "lookup", "ticket.reopen": "reopen", "a/b": "x"}}}}));
    let v = validate(m.clone());
    let errors = errors_of(&v);
    assert_eq!(
        errors.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        vec!["/adapters/openai/settings/tool_names/ticket.reopen", "/adapters/openai/settings/tool_names/a~1b"],
        "{:?}",
        errors
    );
    assert!(errors[0].1.contains("`ticket.reopen` is not an action of this atlas"), "{:?}", errors);
    let e = load_err(m);
    assert_eq!(code(&e), "atlas_invalid");
    assert_eq!(path(&e), Some("/adapters/openai/settings/tool_names/ticket.reopen"));
}

#[test]
fn tool_names_must_match_the_tool_name_pattern() {
    for bad in [json!("has space"), json!("dotted.name"), json!(""), json!("a".repeat(65)), json!("naïve"), json!(7), json!(null)] {
        let m = with_adapters(json!({"mcp": {"settings": {"tool_names": {"ticket.close": bad.clone()}}}}));
        let v = validate(m);
        let errors = errors_of(&v);
        assert_eq!(errors.len(), 1, "{}: {:?}", bad, errors);
        assert_eq!(errors[0].0, "/adapters/mcp/settings/tool_names/ticket.close");
        assert!(errors[0].1.contains("^[a-zA-Z0-9_-]{1,64}$"), "the message says what a tool name is: {}", errors[0].1);
    }
}

#[test]
fn two_actions_cannot_share_a_tool_name_on_one_platform() {
    let m = with_adapters(json!({
        "ai_sdk": {"settings": {"tool_names": {"ticket.lookup": "ticket", "ticket.close": "ticket"}}},
        "openai": {"settings": {"tool_names": {"ticket.lookup": "ticket"}}},
    }));
    let errors = errors_of(&validate(m));
    assert_eq!(errors.len(), 1, "only within a platform: {:?}", errors);
    assert_eq!(errors[0].0, "/adapters/ai_sdk/settings/tool_names/ticket.close", "the second one is to blame");
    assert!(errors[0].1.contains("`ticket`") && errors[0].1.contains("`ticket.lookup`"), "{}", errors[0].1);
}

#[test]
fn other_platforms_and_settings_stay_free_form() {
    let m = with_adapters(json!({
        "langchain": {"settings": {"tool_names": {"nope": "has space", "x": 1}}},
        "openai": {"settings": {"model": "gpt", "names": ["x"]}},
        "mcp": {"enabled": false},
    }));
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v);
}

#[test]
fn a_tool_name_cannot_take_the_default_name_of_an_unnamed_action() {
    // `ticket_lookup` is what ticket.lookup is called when it has no name of its own on the platform.
    let m = with_adapters(json!({"openai": {"settings": {"tool_names": {"ticket.close": "ticket_lookup"}}}}));
    let errors = errors_of(&validate(m));
    assert_eq!(errors.len(), 1, "{:?}", errors);
    assert_eq!(errors[0].0, "/adapters/openai/settings/tool_names/ticket.close");
    assert!(errors[0].1.contains("default tool name of `ticket.lookup`"), "{}", errors[0].1);
    // Named too, the other action no longer has its default name: the swap is fine, and so is another platform.
    let swap = with_adapters(json!({
        "openai": {"settings": {"tool_names": {"ticket.close": "ticket_lookup", "ticket.lookup": "ticket_close"}}},
        "mcp": {"settings": {"tool_names": {"ticket.close": "close"}}},
    }));
    assert_eq!(validate(swap)["valid"], true);
}

// ------------------------------------------------------------------------------------------------- null is a value

/// Sets the member at `pointer` (its parent must exist) to `null`.
fn with_null(pointer: &str) -> Value {
    let mut m = base();
    m["actions"][0]["rate_limit"] = json!({"max_calls": 1, "window_seconds": 60});
    m["actions"][0]["examples"] = json!([{"name": "e", "parameters": {}, "expected_result": {}}]);
    m["context_packs"][0]["conditions"] = json!({"risk_tiers": ["low"], "time_window": {"start": "09:00", "end": "17:00"}});
    let policies = m["policies"].as_array_mut().unwrap();
    policies.push(json!({"policy_id": "cost", "type": "budget", "actions": ["ticket.close"], "parameters": {"max_cost": 10, "cost_param": "amount", "reason": "r"}}));
    policies.push(json!({"policy_id": "scope", "type": "scope", "actions": ["ticket.close"], "parameters": {"allowed_values": {"x": [1]}, "max": {"y": 2}}}));
    policies.push(json!({"policy_id": "rl", "type": "rate_limit", "actions": ["ticket.close"], "parameters": {"max_calls": 1, "window_seconds": 9, "scope": "agent"}}));
    m["adapters"] = json!({"openai": {"enabled": true, "settings": {}}});
    m["dependencies"] = json!({});
    m["metadata"] = json!({});
    m["homepage"] = json!("https://example.com");
    assert_eq!(validate(m.clone())["valid"], true, "the manifest is valid before {} is set to null", pointer);
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() { &mut m } else { m.pointer_mut(parent).unwrap() };
    target.as_object_mut().unwrap().insert(key.to_string(), Value::Null);
    m
}

#[test]
fn a_null_member_of_a_manifest_is_refused_like_any_wrong_type() {
    let cases = [
        ("/atlas_version", "expected a string, found null"),
        ("/name", "expected a string, found null"),
        ("/license", "expected a string, found null"),
        ("/homepage", "expected a string, found null"),
        ("/authors", "expected an array, found null"),
        ("/actions", "expected an array, found null"),
        ("/capabilities", "expected an array, found null"),
        ("/context_packs", "expected an array, found null"),
        ("/policies", "expected an array, found null"),
        ("/adapters", "expected an object, found null"),
        ("/dependencies", "expected an object, found null"),
        ("/metadata", "expected an object, found null"),
        ("/actions/0/risk_tier", "expected a string, found null"),
        ("/actions/0/idempotent", "expected a boolean, found null"),
        ("/actions/0/parameters_schema", "expected an object, found null"),
        ("/actions/0/timeout_seconds", "`timeout_seconds` must be an integer, found null"),
        ("/actions/0/rate_limit", "expected an object, found null"),
        ("/actions/0/rate_limit/max_calls", "`max_calls` must be an integer, found null"),
        ("/actions/0/examples", "expected an array, found null"),
        ("/actions/0/examples/0/name", "expected a string, found null"),
        ("/actions/0/examples/0/parameters", "expected an object, found null"),
        ("/capabilities/0/actions", "expected an array, found null"),
        ("/capabilities/0/context_packs", "expected an array, found null"),
        ("/capabilities/0/description", "expected a string, found null"),
        ("/context_packs/0/priority", "`priority` must be an integer, found null"),
        ("/context_packs/0/conditions", "expected an object, found null"),
        ("/context_packs/0/conditions/risk_tiers", "expected an array, found null"),
        ("/context_packs/0/conditions/time_window", "expected an object, found null"),
        ("/context_packs/0/conditions/time_window/end", "expected a string, found null"),
        ("/policies/0/actions", "expected an array, found null"),
        ("/policies/0/priority", "`priority` must be an integer, found null"),
        ("/policies/0/parameters", "expected an object, found null"),
        ("/policies/2/parameters/cost_param", "expected a string, found null"),
        ("/policies/2/parameters/reason", "expected a string, found null"),
        ("/policies/4/parameters/window_seconds", "`window_seconds` must be an integer, found null"),
        ("/policies/4/parameters/scope", "expected a string, found null"),
        ("/policies/3/parameters/allowed_values", "expected an object, found null"),
        ("/policies/3/parameters/max", "expected an object, found null"),
        ("/adapters/openai/enabled", "expected a boolean, found null"),
        ("/adapters/openai/settings", "expected an object, found null"),
        ("/dependencies/com.example.base", "expected a version range string, found null"),
    ];
    for (pointer, message) in cases {
        let v = validate(with_null(pointer));
        assert_eq!(v["valid"], false, "{} = null", pointer);
        let e = v["errors"].as_array().unwrap().iter().find(|e| e["path"] == pointer).cloned();
        let e = e.unwrap_or_else(|| panic!("no error at {}: {}", pointer, v["errors"]));
        assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("atlas_invalid"), Some(message)), "{}", pointer);
    }
    // A budget's max_cost is read as a number too.
    let v = validate(with_null("/policies/2/parameters/max_cost"));
    assert_eq!(error_paths(&v), vec!["/policies/2/parameters/max_cost".to_string()], "{}", v);
}

#[test]
fn null_inside_free_form_members_of_a_manifest_is_left_alone() {
    let mut m = base();
    m["metadata"] = json!({"owner": null});
    m["adapters"] = json!({"openai": {"settings": {"x": null, "tool_names": null}, "other": null}, "custom": {"anything": null}});
    m["actions"][0]["parameters_schema"] = json!({"type": "object", "default": null});
    m["actions"][0]["examples"] = json!([{"name": "e", "note": null}]);
    m["policies"][0]["parameters"] = json!({"comment": null});
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v);
}

// ------------------------------------------------------------------------------------------------- other members

#[test]
fn homepage_and_repository_are_rfc_3986_uris() {
    for good in ["https://example.com/a?b#c", "mailto:a@b.c", "urn:isbn:0451450523", "http://[::1]:8080/x?y#z", "http://[v1.x]", "file:///tmp/x"] {
        for key in ["homepage", "repository"] {
            let mut m = base();
            m[key] = json!(good);
            assert_eq!(validate(m)["valid"], true, "{} = {}", key, good);
        }
    }
    for bad in ["https://ex ample.com/é", "https://example.com/a%2", "//example.com", "example.com", "http://exa mple.com", "http://[::1", "http://[1:2:3:4:5:6:7:8:9]"] {
        for key in ["homepage", "repository"] {
            let mut m = base();
            m[key] = json!(bad);
            let v = validate(m);
            assert_eq!(error_paths(&v), vec![format!("/{}", key)], "{} = {:?}: {}", key, bad, v);
        }
    }
}

#[test]
fn examples_are_type_checked() {
    let mut m = base();
    m["actions"][0]["examples"] = json!([
        {"name": "ok", "parameters": {"a": 1}, "expected_result": {"b": 2}, "comment": "other members are allowed"},
        {"name": 7, "parameters": true, "expected_result": []},
        "not an example",
    ]);
    let v = validate(m);
    assert_eq!(
        errors_of(&v),
        vec![
            ("/actions/0/examples/1/name".to_string(), "expected a string, found a number".to_string()),
            ("/actions/0/examples/1/parameters".to_string(), "expected an object, found a boolean".to_string()),
            ("/actions/0/examples/1/expected_result".to_string(), "expected an object, found an array".to_string()),
            ("/actions/0/examples/2".to_string(), "expected an object, found a string".to_string()),
        ]
    );
}

#[test]
fn time_window_hours_run_to_23() {
    for (bound, hint) in [("24:00", true), ("24:00:00", true), ("24:00Z", true), ("24:00+01:00", true), ("24:30", false), ("25:00", false), ("99:00", false)] {
        let mut m = base();
        m["policies"][0]["conditions"] = json!({"time_window": {"start": "22:00", "end": bound}});
        let v = validate(m);
        let errors = errors_of(&v);
        assert_eq!(errors.len(), 1, "{}: {}", bound, v);
        assert_eq!(errors[0].0, "/policies/0/conditions/time_window/end");
        let rest = errors[0].1.strip_prefix(&format!("`{}`", bound)).unwrap();
        assert!(!rest.contains("24"), "24:00 is not suggested: {}", errors[0].1);
        assert_eq!(rest.contains("write `00:00`"), hint, "{}: {}", bound, errors[0].1);
    }
    for good in ["00:00", "23:59", "23:59:59", "23:59:59.999Z", "00:00+05:30"] {
        let mut m = base();
        m["policies"][0]["conditions"] = json!({"time_window": {"start": "22:00", "end": good}});
        assert_eq!(validate(m)["valid"], true, "{}", good);
    }
}

#[test]
fn unknown_rate_limit_members_are_ignored_with_a_warning() {
    let mut m = base();
    m["actions"][1]["rate_limit"] = json!({"max_calls": 2, "window_seconds": 60, "burst": 5});
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v);
    let w = v["warnings"].as_array().unwrap().iter().find(|w| w["path"] == "/actions/1/rate_limit/burst").cloned();
    assert_eq!(w.unwrap_or_else(|| panic!("{}", v["warnings"]))["message"], "unknown rate_limit field `burst` is ignored");
    // Both numbers stay required.
    for (given, missing) in [(json!({"max_calls": 2, "burst": 5}), "window_seconds"), (json!({"window_seconds": 60}), "max_calls")] {
        let mut m = base();
        m["actions"][1]["rate_limit"] = given;
        let v = validate(m);
        assert_eq!(errors_of(&v), vec![(format!("/actions/1/rate_limit/{}", missing), format!("`{}` is required", missing))]);
    }
}

#[test]
fn an_empty_action_pattern_is_a_warning() {
    let mut m = base();
    m["capabilities"][0]["actions"] = json!(["ticket.lookup", ""]);
    m["policies"][0]["actions"] = json!([""]);
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v);
    let warnings: Vec<(String, String)> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["path"].as_str().unwrap().to_string(), w["message"].as_str().unwrap().to_string()))
        .collect();
    for at in ["/capabilities/0/actions/1", "/policies/0/actions/0"] {
        assert!(warnings.contains(&(at.to_string(), "`` matches no action of this atlas".to_string())), "{}: {:?}", at, warnings);
    }
}

#[test]
fn policy_and_pack_ids_have_no_maximum_length() {
    let long = "p".repeat(5000);
    let mut m = base();
    m["policies"][0]["policy_id"] = json!(long);
    m["context_packs"][0]["pack_id"] = json!(long);
    m["capabilities"][0]["context_packs"] = json!([long]);
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v["errors"]);
    for (at, key) in [("/policies/0/policy_id", "policies"), ("/context_packs/0/pack_id", "context_packs")] {
        let mut m = base();
        m[key][0][at.rsplit('/').next().unwrap()] = json!("");
        let v = validate(m);
        assert!(errors_of(&v).contains(&(at.to_string(), "must not be empty".to_string())), "{}: {}", at, v);
    }
}

#[test]
fn integers_are_read_within_the_range_every_json_reader_holds_exactly() {
    let with_priority = |p: Value| {
        let mut m = base();
        m["policies"][0]["priority"] = p;
        validate(m)
    };
    for ok in [json!(9_007_199_254_740_991i64), json!(-9_007_199_254_740_991i64), json!(1e15), json!(3.0)] {
        assert_eq!(with_priority(ok.clone())["valid"], true, "{}", ok);
    }
    for big in [json!(9_007_199_254_740_992i64), json!(10_000_000_000_000_000i64), json!(1e21), json!(-1e16), json!(u64::MAX), json!(i64::MIN)] {
        let v = with_priority(big.clone());
        assert_eq!(error_paths(&v), vec!["/policies/0/priority"], "{}", big);
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("9007199254740991") && message.contains("not exact"), "{}: {}", big, message);
    }
    let v = with_priority(json!(1.5));
    assert_eq!(v["errors"][0]["message"], "`priority` must be an integer, found 1.5", "{}", v);
    // A stated range never names a bound the reader would refuse.
    let mut m = base();
    m["policies"][1]["parameters"]["max_calls"] = json!(0);
    let v = validate(m);
    assert_eq!(v["errors"][0]["message"], "`max_calls` must be between 1 and 9007199254740991", "{}", v);
}

#[test]
fn an_action_refused_for_another_member_still_names_its_id_for_patterns() {
    let mut m = base();
    m["actions"][1]["risk_tier"] = json!("extreme");
    m["actions"][0]["rate_limit"] = json!({"max_calls": 1});
    let v = validate(m);
    assert_eq!(error_paths(&v), vec!["/actions/0/rate_limit/window_seconds", "/actions/1/risk_tier"], "{}", v);
    let patterns: Vec<String> = warning_paths(&v).into_iter().filter(|p| !p.starts_with("/context_packs")).collect();
    assert_eq!(patterns, Vec::<String>::new(), "no pattern is said to match nothing: {}", v);
}

#[test]
fn a_policy_with_an_empty_action_list_governs_nothing_and_says_so() {
    let mut m = base();
    m["policies"][0]["actions"] = json!([]);
    let v = validate(m);
    assert_eq!(v["valid"], true, "{}", v);
    assert!(warning_paths(&v).contains(&"/policies/0/actions".to_string()), "{}", v);
}
