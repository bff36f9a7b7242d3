//! Context selection (SPEC §2): qualifying packs, one block per file, ordering, per-pack cut, the request budget,
//! content types, token estimates, and the context.injected events.

mod common;

use common::*;
use serde_json::{json, Value};

const AGENT: &str = "agent-1";

fn atlas_with_packs(packs: Value, capabilities: Value) -> Value {
    json!({
        "atlas_version": "1.0", "atlas_id": "com.test.ctx", "version": "1.0.0", "name": "Ctx", "description": "d",
        "capabilities": capabilities,
        "context_packs": packs,
        "actions": [action("doc.read"), action("doc.write")],
        "policies": [allow("all", &["*"])],
    })
}

fn setup(packs: Value, capabilities: Value, files: Value) -> (Core, String) {
    let mut c = Core::new();
    c.load_with_files(atlas_with_packs(packs, capabilities), files);
    let (sid, _) = c.session(AGENT, "context");
    (c, sid)
}

fn block_ids(res: &Value) -> Vec<String> {
    res["context_blocks"].as_array().unwrap().iter().map(|b| b["block_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn one_block_per_file_with_id_source_and_content_type() {
    let (mut c, sid) = setup(
        json!([{"pack_id": "docs", "name": "Docs", "files": ["a/guide.md", "data/schema.json", "notes.txt", "README", "UP.MD", "long.markdown"]}]),
        json!([]),
        json!({"a/guide.md": "# Guide", "data/schema.json": "{\"a\": 1}", "notes.txt": "plain notes", "README": "readme", "UP.MD": "up", "long.markdown": "long"}),
    );
    let res = c.resolve(&sid, AGENT);
    check_resolution(&res);
    let blocks = res["context_blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 6);
    // SPEC §2: `.md` → text/markdown, `.json` → application/json, anything else text/plain.
    let expect = [
        ("com.test.ctx/docs/a/guide.md", "text/markdown", "# Guide"),
        ("com.test.ctx/docs/data/schema.json", "application/json", "{\"a\": 1}"),
        ("com.test.ctx/docs/notes.txt", "text/plain", "plain notes"),
        ("com.test.ctx/docs/README", "text/plain", "readme"),
        ("com.test.ctx/docs/UP.MD", "text/markdown", "up"),
        ("com.test.ctx/docs/long.markdown", "text/plain", "long"),
    ];
    for (b, (id, ct, content)) in blocks.iter().zip(expect.iter()) {
        assert_eq!(b["block_id"], *id);
        assert_eq!(b["content_type"], *ct, "{}", id);
        assert_eq!(b["content"], *content);
        assert_eq!(b["source"], "com.test.ctx");
        assert_eq!(b["priority"], 100, "pack priority defaults to 100");
    }
}

#[test]
fn token_estimate_is_ceil_of_characters_over_four() {
    let texts = ["", "a", "abcd", "abcde", "ééééé", "日本語のテキスト", "\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}"];
    let files: Vec<String> = (0..texts.len()).map(|i| format!("f{}.md", i)).collect();
    let mut fmap = serde_json::Map::new();
    for (f, t) in files.iter().zip(texts.iter()) {
        fmap.insert(f.clone(), json!(t));
    }
    let (mut c, sid) = setup(json!([{"pack_id": "p", "name": "P", "files": files}]), json!([]), Value::Object(fmap));
    let res = c.resolve(&sid, AGENT);
    let blocks = res["context_blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), texts.len());
    for (b, t) in blocks.iter().zip(texts.iter()) {
        let chars = t.chars().count() as u64;
        assert_eq!(b["token_estimate"].as_u64(), Some((chars + 3) / 4), "estimate of {:?} (characters, not bytes)", t);
    }
}

#[test]
fn blocks_are_ordered_by_priority_then_declaration() {
    let (mut c, sid) = setup(
        json!([
            {"pack_id": "low", "name": "Low", "files": ["low.md"], "priority": 10},
            {"pack_id": "mid1", "name": "Mid 1", "files": ["m1a.md", "m1b.md"]},
            {"pack_id": "high", "name": "High", "files": ["high.md"], "priority": 900},
            {"pack_id": "mid2", "name": "Mid 2", "files": ["m2.md"], "priority": 100},
        ]),
        json!([]),
        json!({"low.md": "l", "m1a.md": "a", "m1b.md": "b", "high.md": "h", "m2.md": "m"}),
    );
    let out = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let res = &out["resolution"];
    assert_eq!(
        block_ids(res),
        strs(&["com.test.ctx/high/high.md", "com.test.ctx/mid1/m1a.md", "com.test.ctx/mid1/m1b.md", "com.test.ctx/mid2/m2.md", "com.test.ctx/low/low.md"])
    );
    // One context.injected per block, in the same order, between request.received and the policy/completion events.
    let injected: Vec<Value> = out["events"].as_array().unwrap().iter().filter(|e| e["event_type"] == "context.injected").cloned().collect();
    assert_eq!(injected.len(), 5);
    for (e, b) in injected.iter().zip(res["context_blocks"].as_array().unwrap()) {
        let p = &e["payload"];
        assert_eq!(p["block_id"], b["block_id"]);
        assert_eq!(p["source"], b["source"]);
        assert_eq!(p["content_type"], b["content_type"]);
        assert_eq!(p["token_count"], b["token_estimate"]);
        assert_eq!(p["priority"], b["priority"]);
        assert!(p.get("content").is_none(), "context text is not copied into the trace");
    }
    let kinds = types(&out["events"]);
    assert_eq!(kinds[0], "carp.request.received");
    assert!(kinds[1..6].iter().all(|k| k == "context.injected"), "{:?}", kinds);
    assert_eq!(out["events"].as_array().unwrap().last().unwrap()["payload"]["context_block_count"], 5);
}

#[test]
fn pack_max_tokens_cuts_its_text() {
    let (mut c, sid) = setup(
        json!([{"pack_id": "p", "name": "P", "files": ["a.md", "b.md"], "max_tokens": 3}]),
        json!([]),
        json!({"a.md": "abcdefgh", "b.md": "ijklmnopqrstuvwxyz"}),
    );
    let res = c.resolve(&sid, AGENT);
    let blocks = res["context_blocks"].as_array().unwrap();
    let total: u64 = blocks.iter().map(|b| b["token_estimate"].as_u64().unwrap()).sum();
    assert!(total <= 3, "the pack's blocks stay within its max_tokens: {}", total);
    assert_eq!(blocks.len(), 2, "each file of the pack is one block");
    assert_eq!(blocks[0]["content"], "abcdefgh", "the first file fits (2 tokens)");
    assert_eq!(blocks[1]["content"], "ijkl", "the second is cut to the one token left");
}

#[test]
fn a_spent_pack_budget_gives_empty_blocks() {
    // Each file of a qualifying pack becomes one block; the pack's text is cut at its max_tokens, here to nothing.
    let (mut c, sid) = setup(
        json!([{"pack_id": "p", "name": "P", "files": ["a.md", "b.md"], "max_tokens": 0}]),
        json!([]),
        json!({"a.md": "abcdefgh", "b.md": "ijkl"}),
    );
    let full = c.resolve_full(&sid, AGENT, json!({}), json!({}));
    let blocks = full["resolution"]["context_blocks"].as_array().unwrap();
    assert_eq!(block_ids(&full["resolution"]), strs(&["com.test.ctx/p/a.md", "com.test.ctx/p/b.md"]));
    for b in blocks {
        assert_eq!(b["content"], "");
        assert_eq!(b["token_estimate"], 0);
    }
    assert_eq!(types(&full["events"]).iter().filter(|t| *t == "context.injected").count(), 2);
}

#[test]
fn a_single_long_file_is_cut_at_max_tokens() {
    let text = "x".repeat(100);
    let (mut c, sid) = setup(json!([{"pack_id": "p", "name": "P", "files": ["a.md"], "max_tokens": 5}]), json!([]), json!({ "a.md": text }));
    let res = c.resolve(&sid, AGENT);
    let b = &res["context_blocks"][0];
    assert_eq!(b["content"], json!("x".repeat(20)));
    assert_eq!(b["token_estimate"], 5);
}

#[test]
fn request_budget_limits_the_blocks() {
    let ten = "y".repeat(40);
    let (mut c, sid) = setup(
        json!([
            {"pack_id": "a", "name": "A", "files": ["a.md"], "priority": 300},
            {"pack_id": "b", "name": "B", "files": ["b.md"], "priority": 200},
            {"pack_id": "c", "name": "C", "files": ["c.md"], "priority": 100},
        ]),
        json!([]),
        json!({"a.md": ten, "b.md": ten, "c.md": "z"}),
    );
    let res = c.resolve_with(&sid, AGENT, json!({}), json!({"context": {"max_context_tokens": 15}}));
    assert_eq!(block_ids(&res), strs(&["com.test.ctx/a/a.md"]), "blocks are added while the total stays within 15");
    let res = c.resolve_with(&sid, AGENT, json!({}), json!({"context": {"max_context_tokens": 21}}));
    assert_eq!(block_ids(&res), strs(&["com.test.ctx/a/a.md", "com.test.ctx/b/b.md", "com.test.ctx/c/c.md"]));
    let res = c.resolve_with(&sid, AGENT, json!({}), json!({"context": {"max_context_tokens": 0}}));
    assert!(block_ids(&res).is_empty());
}

#[test]
fn runtime_max_context_tokens_is_the_default_budget() {
    let ten = "y".repeat(40);
    let (mut c, sid) = setup(
        json!([
            {"pack_id": "a", "name": "A", "files": ["a.md"], "priority": 300},
            {"pack_id": "b", "name": "B", "files": ["b.md"], "priority": 200},
        ]),
        json!([]),
        json!({"a.md": ten, "b.md": ten}),
    );
    assert_eq!(block_ids(&c.resolve(&sid, AGENT)).len(), 2, "8 000 tokens by default");
    c.ok("runtime.configure", json!({"max_context_tokens": 12}));
    assert_eq!(block_ids(&c.resolve(&sid, AGENT)), strs(&["com.test.ctx/a/a.md"]));
}

#[test]
fn pack_conditions_select_packs() {
    let (mut c, sid) = setup(
        json!([
            {"pack_id": "always", "name": "Always", "files": ["always.md"]},
            {"pack_id": "risky", "name": "Risky", "files": ["risky.md"], "conditions": {"risk_tiers": ["high"]}},
            {"pack_id": "staging", "name": "Staging", "files": ["staging.md"], "conditions": {"context_matches": {"env": "staging"}}},
        ]),
        json!([]),
        json!({"always.md": "a", "risky.md": "r", "staging.md": "s"}),
    );
    assert_eq!(block_ids(&c.resolve(&sid, AGENT)), strs(&["com.test.ctx/always/always.md"]));
    let res = c.resolve_with(&sid, AGENT, json!({"risk_tier": "high"}), json!({"context": {"env": "staging"}}));
    assert_eq!(
        block_ids(&res),
        strs(&["com.test.ctx/always/always.md", "com.test.ctx/risky/risky.md", "com.test.ctx/staging/staging.md"])
    );
}

/// Two packs, `general` (no capability) and `writing`, and the capabilities `read` and `write`, the latter listing
/// `write_packs`.
fn two_capabilities(write_packs: Value) -> (Core, String) {
    setup(
        json!([
            {"pack_id": "general", "name": "General", "files": ["general.md"]},
            {"pack_id": "writing", "name": "Writing", "files": ["writing.md"]},
        ]),
        json!([
            {"capability_id": "read", "name": "Read", "actions": ["doc.read"]},
            {"capability_id": "write", "name": "Write", "actions": ["doc.write"], "context_packs": write_packs},
        ]),
        json!({"general.md": "g", "writing.md": "w"}),
    )
}

#[test]
fn capability_packs_qualify_when_their_capability_is_in_scope() {
    let (mut c, sid) = two_capabilities(json!(["writing"]));
    let res = c.resolve_with(&sid, AGENT, json!({"required_capabilities": ["read"]}), json!({}));
    assert_eq!(block_ids(&res), strs(&["com.test.ctx/general/general.md"]), "write is not in scope");
    let res = c.resolve_with(&sid, AGENT, json!({"required_capabilities": ["write"]}), json!({}));
    assert_eq!(block_ids(&res), strs(&["com.test.ctx/general/general.md", "com.test.ctx/writing/writing.md"]));
}

#[test]
fn an_unknown_pack_of_a_capability_is_dropped_and_the_known_one_still_qualifies() {
    let (mut c, sid) = two_capabilities(json!(["missing", "writing"]));
    let res = c.resolve_with(&sid, AGENT, json!({"required_capabilities": ["read"]}), json!({}));
    assert_eq!(block_ids(&res), strs(&["com.test.ctx/general/general.md"]), "write is not in scope");
    let res = c.resolve_with(&sid, AGENT, json!({"required_capabilities": ["write"]}), json!({}));
    check_resolution(&res);
    assert_eq!(block_ids(&res), strs(&["com.test.ctx/general/general.md", "com.test.ctx/writing/writing.md"]));
}

#[test]
fn context_selection_is_deterministic() {
    let build = || {
        let (mut c, sid) = setup(
            json!([
                {"pack_id": "a", "name": "A", "files": ["1.md", "2.md", "3.md"], "priority": 5},
                {"pack_id": "b", "name": "B", "files": ["4.md"], "priority": 5},
                {"pack_id": "c", "name": "C", "files": ["5.md"], "priority": 5},
            ]),
            json!([]),
            json!({"1.md": "1", "2.md": "2", "3.md": "3", "4.md": "4", "5.md": "5"}),
        );
        c.resolve(&sid, AGENT)["context_blocks"].clone()
    };
    let first = build();
    for _ in 0..5 {
        assert_eq!(build(), first);
    }
    assert_eq!(
        first.as_array().unwrap().iter().map(|b| b["block_id"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["com.test.ctx/a/1.md", "com.test.ctx/a/2.md", "com.test.ctx/a/3.md", "com.test.ctx/b/4.md", "com.test.ctx/c/5.md"]
    );
}
