//! What a compiled atlas pre-serialises at load time, so that a resolve splices text instead of building it:
//! each action's descriptor (its part of an allowed action), and each context pack's blocks — content already
//! cut at the pack's `max_tokens`, token estimates, the block's JSON and its `context.injected` payload. All of
//! it depends on the manifest alone.

use std::rc::Rc;

use crate::json::{JsonOut, Payload};

use super::model::{Action, Atlas, ContextPack, PackBlock};
use super::pattern::{Pattern, SortedIds};
use super::sort_indices;

/// `ceil(characters / 4)`: SPEC's estimate when no tokenizer is configured.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64 + 3) / 4
}

/// SPEC §2: `.md` → `text/markdown`, `.json` → `application/json`, else `text/plain` (extensions in any case).
pub fn content_type(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".md") {
        "text/markdown"
    } else if lower.ends_with(".json") {
        "application/json"
    } else {
        "text/plain"
    }
}

/// The longest prefix of `text` whose estimate is within `max_tokens`.
fn cut(text: &str, max_tokens: u64) -> &str {
    let max_chars = max_tokens.saturating_mul(4);
    match text.char_indices().nth(max_chars.min(usize::MAX as u64) as usize) {
        Some((i, _)) => text.get(..i).unwrap_or(text),
        None => text,
    }
}

pub fn prepare(atlas: &mut Atlas) {
    for action in &mut atlas.actions {
        action.descriptor = descriptor(action);
    }
    let atlas_id = atlas.atlas_id.clone();
    for pack in &mut atlas.packs {
        pack.blocks = blocks(&atlas_id, pack);
    }
    let members: Vec<Vec<usize>> = {
        let ids: Vec<&str> = atlas.actions.iter().map(|a| a.action_id.as_str()).collect();
        let by_id = SortedIds::new(&ids);
        atlas.capabilities.iter().map(|c| members(&by_id, &c.patterns)).collect()
    };
    for (c, m) in atlas.capabilities.iter_mut().zip(members) {
        c.members = m;
    }
    atlas.capability_index = atlas.capabilities.iter().enumerate().map(|(i, c)| (c.capability_id.clone(), i)).collect();
}

/// Ascending indices of the actions `patterns` match: what a resolution narrowed to the capability visits.
fn members(by_id: &SortedIds, patterns: &[Pattern]) -> Vec<usize> {
    let mut out = Vec::new();
    for p in patterns {
        by_id.matching(p, &mut |i| {
            out.push(i);
            true
        });
    }
    sort_indices(&mut out, &|a, b| a.cmp(&b));
    out
}

/// The members of an allowed action that come from the manifest (SPEC §2: the action's fields), without braces:
/// a resolution appends `requires_confirmation` and `rate_limit`.
fn descriptor(a: &Action) -> String {
    let mut out = JsonOut::with_capacity(512);
    out.begin_object();
    out.key("action_id").str(&a.action_id);
    out.key("name").str(&a.name);
    out.key("description").str(&a.description);
    if let Some(s) = &a.parameters_schema {
        out.key("parameters_schema").value(s);
    }
    if let Some(s) = &a.returns_schema {
        out.key("returns_schema").value(s);
    }
    out.key("risk_tier").str(a.risk_tier.as_str());
    out.key("idempotent").bool(a.idempotent);
    out.end_object();
    let text = out.into_string();
    text.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or_default().to_string()
}

/// The blocks a pack yields when it qualifies: one per file (SPEC §2), in file order, each file's text cut to what
/// is left of the pack's `max_tokens` (empty once that is spent).
fn blocks(atlas_id: &str, pack: &ContextPack) -> Vec<Rc<PackBlock>> {
    let mut out = Vec::new();
    let mut pack_left = pack.max_tokens;
    for file in &pack.files {
        let content = match pack_left {
            Some(left) => cut(&file.text, left),
            None => file.text.as_str(),
        };
        let tokens = estimate_tokens(content);
        if let Some(left) = pack_left.as_mut() {
            *left = left.saturating_sub(tokens);
        }
        let block_id = format!("{}/{}/{}", atlas_id, pack.pack_id, file.path);
        let content_type = content_type(&file.path);
        let mut json = JsonOut::with_capacity(content.len() + 192);
        json.begin_object();
        json.key("block_id").str(&block_id);
        json.key("source").str(atlas_id);
        json.key("content_type").str(content_type);
        json.key("content").str(content);
        json.key("priority").i64(pack.priority);
        json.key("token_estimate").u64(tokens);
        json.end_object();
        let injected = Payload::new()
            .str("block_id", &block_id)
            .str("source", atlas_id)
            .str("content_type", content_type)
            .u64("token_count", tokens)
            .i64("priority", pack.priority)
            .finish();
        out.push(Rc::new(PackBlock { tokens, json: json.into_string(), injected }));
    }
    out
}
