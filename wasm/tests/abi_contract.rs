//! The ABI contract, Rust side. `wasm/abi.json` is the one machine-readable statement of the ABI (the TypeScript
//! side and ABI.md's tables are generated from it); this test fails, naming every disagreement, when the core
//! says otherwise: its version, its operations (names and order), its error codes of origin `core`, its check
//! codes, its refusal codes, its event types and the host events with their required payload members, and the
//! exports and imports of `src/abi/mod.rs` (read as source text: that module only builds for wasm32).
//!
//! The second test plants disagreements in a copy of the contract and checks that each one is reported, so that
//! the first cannot pass by checking nothing.

use serde_json::{json, Value};

use cra_core::carp::refusal;
use cra_core::runtime::{CHECK_CODES, HOST_EVENTS, OPERATIONS};
use cra_core::trace::EVENT_TYPES;
use cra_core::json::MAX_DEPTH;
use cra_core::{ErrorCode, ABI_VERSION};

const CONTRACT: &str = include_str!("../abi.json");
const ABI_SOURCE: &str = include_str!("../src/abi/mod.rs");

fn contract() -> Value {
    serde_json::from_str(CONTRACT).expect("wasm/abi.json is JSON")
}

/// The entries of array `key`, or a disagreement.
fn list<'a>(c: &'a Value, key: &str, out: &mut Vec<String>) -> &'a [Value] {
    match c.get(key).and_then(Value::as_array) {
        Some(a) => a.as_slice(),
        None => {
            out.push(format!("abi.json: `{}` is not an array", key));
            &[]
        }
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Two ordered lists of names: what is missing on either side, else how the order differs.
fn compare(what: &str, contract: &[String], rust: &[String], rust_name: &str, out: &mut Vec<String>) {
    let before = out.len();
    for x in contract {
        if !rust.contains(x) {
            out.push(format!("{}: `{}` is in abi.json but not in {}", what, x, rust_name));
        }
    }
    for x in rust {
        if !contract.contains(x) {
            out.push(format!("{}: `{}` is in {} but not in abi.json", what, x, rust_name));
        }
    }
    if out.len() == before && contract != rust {
        out.push(format!("{}: the order differs\n  abi.json: {}\n  {}: {}", what, contract.join(", "), rust_name, rust.join(", ")));
    }
    for (i, x) in rust.iter().enumerate() {
        if rust.iter().skip(i + 1).any(|y| y == x) {
            out.push(format!("{}: `{}` is listed twice in {}", what, x, rust_name));
        }
    }
}

/// Names of the functions the module exports: every `extern "C" fn <name>(` of the ABI source.
fn exported_fns(source: &str) -> Vec<String> {
    source
        .split("extern \"C\" fn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .map(|name| name.trim().to_string())
        .collect()
}

/// Names of the host functions the module imports: the `fn <name>(` of its `extern "C" { … }` block.
fn imported_fns(source: &str) -> Vec<String> {
    let block = source.split("extern \"C\" {").nth(1).and_then(|b| b.split('}').next()).unwrap_or("");
    block.split("fn ").skip(1).filter_map(|rest| rest.split('(').next()).map(|n| n.trim().to_string()).collect()
}

/// Every disagreement between `c` (the contract) and the Rust side, whose ABI module is `abi_source`.
fn disagreements(c: &Value, abi_source: &str) -> Vec<String> {
    let mut out = Vec::new();

    // The version.
    match c.get("abi_version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(ABI_VERSION) => {}
        other => out.push(format!("abi_version: abi.json says {:?}, ABI_VERSION is {}", other, ABI_VERSION)),
    }

    // The nesting limit of the JSON parser, which hosts apply before a value reaches the core.
    match c.get("max_json_depth").and_then(Value::as_u64) {
        Some(v) if v == MAX_DEPTH as u64 => {}
        other => out.push(format!("max_json_depth: abi.json says {:?}, json::MAX_DEPTH is {}", other, MAX_DEPTH)),
    }

    // Operations, in order.
    let ops: Vec<String> = list(c, "operations", &mut out).iter().map(|o| str_of(o, "name").to_string()).collect();
    let rust: Vec<String> = OPERATIONS.iter().map(|s| s.to_string()).collect();
    compare("operations", &ops, &rust, "runtime::OPERATIONS", &mut out);

    // Error codes of origin `core`, in order; every entry with an origin and an HTTP status.
    let errors = list(c, "error_codes", &mut out);
    for e in errors {
        let origin = str_of(e, "origin");
        if !["core", "sdk", "http"].contains(&origin) {
            out.push(format!("error_codes: `{}` has origin {:?} (core, sdk or http)", str_of(e, "code"), origin));
        }
        if !matches!(e.get("http").and_then(Value::as_u64), Some(400..=599)) {
            out.push(format!("error_codes: `{}` has no HTTP error status", str_of(e, "code")));
        }
    }
    let core: Vec<String> = errors.iter().filter(|e| str_of(e, "origin") == "core").map(|e| str_of(e, "code").to_string()).collect();
    let rust: Vec<String> = ErrorCode::ALL.iter().map(|e| e.as_str().to_string()).collect();
    compare("error codes (origin core)", &core, &rust, "ErrorCode::ALL", &mut out);
    for e in errors.iter().filter(|e| str_of(e, "origin") != "core") {
        if ErrorCode::parse(str_of(e, "code")).is_some() {
            out.push(format!("error_codes: `{}` is a code of the core but has origin {}", str_of(e, "code"), str_of(e, "origin")));
        }
    }

    // Check codes: number and name, in order.
    let checks: Vec<String> = list(c, "check_codes", &mut out)
        .iter()
        .map(|k| format!("{} {}", k.get("code").and_then(Value::as_i64).map_or("?".to_string(), |n| n.to_string()), str_of(k, "name")))
        .collect();
    let rust: Vec<String> = CHECK_CODES.iter().map(|(n, name)| format!("{} {}", n, name)).collect();
    compare("check codes", &checks, &rust, "runtime::CHECK_CODES", &mut out);

    // Refusal codes, in order.
    let refusals: Vec<String> = list(c, "refusal_codes", &mut out).iter().map(|r| str_of(r, "code").to_string()).collect();
    let rust: Vec<String> = refusal::CODES.iter().map(|s| s.to_string()).collect();
    compare("refusal codes", &refusals, &rust, "carp::refusal::CODES", &mut out);

    // Event types, in order; the host's, with their required payload members.
    let events = list(c, "event_types", &mut out);
    let types: Vec<String> = events.iter().map(|e| str_of(e, "type").to_string()).collect();
    let rust: Vec<String> = EVENT_TYPES.iter().map(|s| s.to_string()).collect();
    compare("event types", &types, &rust, "trace::EVENT_TYPES", &mut out);
    let describe = |t: &str, required: &[String]| format!("{} [{}]", t, required.join(", "));
    let mut host: Vec<String> = Vec::new();
    for e in events {
        let t = str_of(e, "type");
        let members = e.get("required").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let required: Vec<String> = members.iter().map(|m| m.as_str().unwrap_or("?").to_string()).collect();
        match str_of(e, "emitted_by") {
            "host" => host.push(describe(t, &required)),
            "core" if required.is_empty() => {}
            "core" => out.push(format!("event types: `{}` is emitted by the core but lists required members", t)),
            other => out.push(format!("event types: `{}` is emitted by {:?} (core or host)", t, other)),
        }
    }
    let mut rust: Vec<String> =
        HOST_EVENTS.iter().map(|(t, required)| describe(t, &required.iter().map(|m| m.to_string()).collect::<Vec<_>>())).collect();
    host.sort();
    rust.sort();
    compare("host events (emitted_by host, with their required members)", &host, &rust, "runtime::HOST_EVENTS", &mut out);

    // Exports and imports of the module.
    let exports: Vec<String> = list(c, "exports", &mut out)
        .iter()
        .map(|e| str_of(e, "name").to_string())
        .filter(|n| n != "memory")
        .collect();
    let fns = exported_fns(abi_source);
    for name in &exports {
        if !fns.contains(name) {
            out.push(format!("exports: `{}` is in abi.json but src/abi/mod.rs has no `extern \"C\" fn {}`", name, name));
        }
    }
    for name in &fns {
        if !exports.contains(name) {
            out.push(format!("exports: src/abi/mod.rs exports `{}`, which abi.json does not list", name));
        }
    }
    let imports: Vec<String> = list(c, "imports", &mut out).iter().map(|e| str_of(e, "name").to_string()).collect();
    compare("imports", &imports, &imported_fns(abi_source), "src/abi/mod.rs", &mut out);
    out
}

#[test]
fn the_rust_side_agrees_with_abi_json() {
    let d = disagreements(&contract(), ABI_SOURCE);
    assert!(d.is_empty(), "wasm/abi.json and the core disagree ({}):\n{}", d.len(), d.join("\n"));
}

#[test]
fn planted_disagreements_are_each_reported() {
    // Each case: an edit of the contract (or of the ABI source) and a text its report must contain.
    type Edit = fn(&mut Value, &mut String);
    let cases: &[(Edit, &str)] = &[
        (|c, _| c["abi_version"] = json!(ABI_VERSION + 1), "abi_version: abi.json says Some("),
        (|c, _| c["max_json_depth"] = json!(64), "max_json_depth: abi.json says Some(64)"),
        (
            |c, _| c["operations"].as_array_mut().unwrap().retain(|o| o["name"] != "action.get"),
            "`action.get` is in runtime::OPERATIONS but not in abi.json",
        ),
        (|c, _| c["operations"].as_array_mut().unwrap().swap(0, 1), "operations: the order differs"),
        (|c, _| c["operations"].as_array_mut().unwrap().push(json!({"name": "session.fork"})), "`session.fork` is in abi.json but not in runtime::OPERATIONS"),
        (|c, _| c["error_codes"][0]["code"] = json!("bad_json"), "`bad_json` is in abi.json but not in ErrorCode::ALL"),
        (|c, _| c["error_codes"][3]["origin"] = json!("sdk"), "`atlas_exists` is in ErrorCode::ALL but not in abi.json"),
        (|c, _| c["error_codes"].as_array_mut().unwrap().swap(0, 1), "error codes (origin core): the order differs"),
        (|c, _| c["check_codes"][2]["code"] = json!(9), "`9 deny` is in abi.json but not in runtime::CHECK_CODES"),
        (|c, _| c["check_codes"][0]["name"] = json!("allowed"), "`1 allowed` is in abi.json"),
        (|c, _| c["refusal_codes"].as_array_mut().unwrap().pop().map(drop).unwrap_or(()), "`scope_violation` is in carp::refusal::CODES but not in abi.json"),
        (|c, _| c["event_types"][0]["type"] = json!("session.begun"), "`session.begun` is in abi.json but not in trace::EVENT_TYPES"),
        (|c, _| c["event_types"][14]["required"] = json!(["code"]), "`error.occurred [code]` is in abi.json"),
        (|c, _| c["event_types"][6]["emitted_by"] = json!("core"), "`context.redacted` is emitted by the core but lists required members"),
        (|c, _| c["event_types"][1]["emitted_by"] = json!("host"), "`session.ended []` is in abi.json"),
        (|c, _| c["exports"].as_array_mut().unwrap().push(json!({"name": "cra_reset"})), "`cra_reset` is in abi.json but src/abi/mod.rs has no `extern \"C\" fn cra_reset`"),
        (|_, s| *s = s.replace("fn cra_abi_version", "fn cra_version"), "`cra_abi_version` is in abi.json but src/abi/mod.rs has no"),
        (|_, s| *s = s.replace("fn cra_host_tz_offset", "fn cra_host_tz"), "`cra_host_tz_offset` is in abi.json but not in src/abi/mod.rs"),
    ];
    assert!(disagreements(&contract(), ABI_SOURCE).is_empty(), "the unedited contract agrees");
    for (i, (edit, expected)) in cases.iter().enumerate() {
        let mut c = contract();
        let mut source = ABI_SOURCE.to_string();
        edit(&mut c, &mut source);
        let d = disagreements(&c, &source);
        assert!(d.iter().any(|x| x.contains(expected)), "planted disagreement {} not reported as {:?}; reported:\n{}", i, expected, d.join("\n"));
    }
}
