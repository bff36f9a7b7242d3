//! Context selection (SPEC §2): qualifying packs, one block per file, ordered by pack priority (descending) then
//! declaration order, each pack cut at its `max_tokens`, blocks added while the running total stays within the
//! request's budget. Deterministic: no hash-map order anywhere. The blocks themselves (cut text, estimates, JSON)
//! were prepared when the atlas was loaded (`atlas::prepare`); selection only picks them.

use std::rc::Rc;

use crate::atlas::{Atlas, Facts, PackBlock};
use crate::host::Host;

/// `capabilities_in_scope`: the request's required capabilities, or `None` for "all of them".
pub fn select(
    atlases: &[Rc<Atlas>],
    capabilities_in_scope: Option<&[String]>,
    facts: &Facts,
    host: &mut dyn Host,
    budget: u64,
) -> Vec<Rc<PackBlock>> {
    let mut packs = Vec::new();
    for atlas in atlases {
        for pack in &atlas.packs {
            let mut owners = atlas.capabilities.iter().filter(|c| c.context_packs.iter().any(|p| p == &pack.pack_id)).peekable();
            let capability_ok = owners.peek().is_none()
                || match capabilities_in_scope {
                    None => true,
                    Some(scope) => owners.any(|o| scope.iter().any(|s| s == &o.capability_id)),
                };
            let conditions_ok = pack.conditions.as_ref().map(|c| c.holds(facts, host, false)).unwrap_or(true);
            if capability_ok && conditions_ok {
                packs.push(pack);
            }
        }
    }
    // Stable: equal priorities keep declaration order (atlas load order, then manifest order).
    packs.sort_by(|a, b| b.priority.cmp(&a.priority));

    let mut blocks = Vec::new();
    let mut total: u64 = 0;
    'packs: for pack in packs {
        for block in &pack.blocks {
            if total.saturating_add(block.tokens) > budget {
                break 'packs;
            }
            total += block.tokens;
            blocks.push(block.clone());
        }
    }
    blocks
}
