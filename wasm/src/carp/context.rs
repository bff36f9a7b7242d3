//! Context selection (SPEC §2): qualifying packs, one block per file, ordered by pack priority (descending) then
//! declaration order, each pack cut at its `max_tokens`, blocks added while the running total stays within the
//! request's budget. Deterministic: no hash-map order anywhere.

use crate::obj;
use std::rc::Rc;

use serde_json::Value;

use crate::atlas::{Atlas, Facts};
use crate::host::Host;

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub block_id: String,
    pub source: String,
    pub content_type: &'static str,
    pub content: String,
    pub priority: i64,
    pub token_estimate: u64,
}

impl Block {
    /// As [`Block::to_json`], moving the content out.
    pub fn take_json(&mut self) -> Value {
        let content = std::mem::take(&mut self.content);
        let mut v = self.to_json();
        v["content"] = Value::String(content);
        v
    }

    pub fn to_json(&self) -> Value {
        obj!(
            "block_id": &self.block_id,
            "source": &self.source,
            "content_type": &self.content_type,
            "content": &self.content,
            "priority": &self.priority,
            "token_estimate": &self.token_estimate,
        )
    }
}

/// `ceil(characters / 4)`: SPEC's estimate when no tokenizer is configured.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64 + 3) / 4
}

pub fn content_type(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        "text/markdown"
    } else if lower.ends_with(".json") {
        "application/json"
    } else {
        "text/plain"
    }
}

/// `capabilities_in_scope`: the request's required capabilities, or `None` for "all of them".
pub fn select(
    atlases: &[Rc<Atlas>],
    capabilities_in_scope: Option<&[String]>,
    facts: &Facts,
    host: &mut dyn Host,
    budget: u64,
) -> Vec<Block> {
    let mut packs = Vec::new();
    for atlas in atlases {
        for pack in &atlas.packs {
            let owners: Vec<&str> = atlas
                .capabilities
                .iter()
                .filter(|c| c.context_packs.iter().any(|p| p == &pack.pack_id))
                .map(|c| c.capability_id.as_str())
                .collect();
            let capability_ok = owners.is_empty()
                || match capabilities_in_scope {
                    None => true,
                    Some(scope) => owners.iter().any(|o| scope.iter().any(|s| s == o)),
                };
            let conditions_ok = pack.conditions.as_ref().map(|c| c.holds(facts, host, false)).unwrap_or(true);
            if capability_ok && conditions_ok {
                packs.push((atlas, pack));
            }
        }
    }
    // Stable: equal priorities keep declaration order (atlas load order, then manifest order).
    packs.sort_by(|a, b| b.1.priority.cmp(&a.1.priority));

    let mut blocks = Vec::new();
    let mut total: u64 = 0;
    'packs: for (atlas, pack) in packs {
        let mut pack_left = pack.max_tokens;
        for file in &pack.files {
            let content = match pack_left {
                Some(0) => break,
                Some(left) => cut(&file.text, left),
                None => file.text.clone(),
            };
            let tokens = estimate_tokens(&content);
            if total + tokens > budget {
                break 'packs;
            }
            total += tokens;
            if let Some(left) = pack_left.as_mut() {
                *left = left.saturating_sub(tokens);
            }
            blocks.push(Block {
                block_id: format!("{}/{}/{}", atlas.atlas_id, pack.pack_id, file.path),
                source: atlas.atlas_id.clone(),
                content_type: content_type(&file.path),
                content,
                priority: pack.priority,
                token_estimate: tokens,
            });
        }
    }
    blocks
}

/// The longest prefix of `text` whose estimate is within `max_tokens`.
fn cut(text: &str, max_tokens: u64) -> String {
    let max_chars = max_tokens.saturating_mul(4);
    match text.char_indices().nth(max_chars.min(usize::MAX as u64) as usize) {
        Some((i, _)) => text[..i].to_string(),
        None => text.to_string(),
    }
}
