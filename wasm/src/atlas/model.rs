//! A validated, compiled atlas: the manifest's parts as typed values, plus the indexes the hot path needs
//! (action id → action by hash lookup, and per action its applicable policies pre-sorted in evaluation order).

use std::collections::HashMap;
use std::cell::Cell;
use std::rc::Rc;

use serde_json::Value;

use super::conditions::{Conditions, RiskTier};
use super::pattern::Pattern;

/// Policy types, declared in SPEC §3's evaluation order (the derived `Ord` is that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyKind {
    Deny,
    RequireApproval,
    RateLimit,
    Budget,
    Allow,
    Scope,
}

impl PolicyKind {
    pub fn parse(s: &str) -> Option<PolicyKind> {
        match s {
            "deny" => Some(PolicyKind::Deny),
            // `requires_approval` is the reference runtime's spelling (SPEC §9).
            "require_approval" | "requires_approval" => Some(PolicyKind::RequireApproval),
            "rate_limit" => Some(PolicyKind::RateLimit),
            "budget" => Some(PolicyKind::Budget),
            "allow" => Some(PolicyKind::Allow),
            "scope" => Some(PolicyKind::Scope),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Deny => "deny",
            PolicyKind::RequireApproval => "require_approval",
            PolicyKind::RateLimit => "rate_limit",
            PolicyKind::Budget => "budget",
            PolicyKind::Allow => "allow",
            PolicyKind::Scope => "scope",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    Session,
    Agent,
    Global,
}

impl LimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Session => "session",
            LimitScope::Agent => "agent",
            LimitScope::Global => "global",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RateParams {
    pub max_calls: u64,
    pub window_seconds: u64,
    pub scope: LimitScope,
}

#[derive(Debug, Clone)]
pub enum BudgetParams {
    Calls(u64),
    Cost { max_cost: f64, cost_param: String },
}

#[derive(Debug, Clone, Default)]
pub struct ScopeParams {
    pub allowed_values: Vec<(String, Vec<Value>)>,
    pub max: Vec<(String, f64)>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub policy_id: String,
    pub kind: PolicyKind,
    pub priority: i64,
    pub conditions: Option<Conditions>,
    pub patterns: Vec<Pattern>,
    pub reason: Option<String>,
    pub rate: Option<RateParams>,
    pub budget: Option<BudgetParams>,
    pub scope: Option<ScopeParams>,
    /// Derived from an action's own `requires_confirmation` / `rate_limit`: it restricts, it never grants.
    pub implicit: bool,
}

impl Policy {
    /// Whether evaluating this policy can give a different answer later in the same resolution (windows, limits).
    pub fn is_dynamic(&self) -> bool {
        self.rate.is_some()
            || self.budget.is_some()
            || self.conditions.as_ref().map(|c| c.is_time_dependent()).unwrap_or(false)
    }
}

#[derive(Debug, Clone)]
pub struct Action {
    pub action_id: String,
    pub name: String,
    pub description: String,
    pub parameters_schema: Option<Value>,
    pub returns_schema: Option<Value>,
    pub risk_tier: RiskTier,
    pub idempotent: bool,
    pub requires_confirmation: bool,
    pub rate_limit: Option<(u64, u64)>,
    /// Indexes into [`Atlas::policies`] of the policies whose patterns match this action, in evaluation order.
    pub policies: Vec<usize>,
    /// Some applicable policy depends on time or counters, so a stored outcome must be re-checked.
    pub dynamic: bool,
    /// The action's members of an allowed action, pre-serialised (see `prepare`).
    pub descriptor: String,
}

#[derive(Debug, Clone)]
pub struct Capability {
    pub capability_id: String,
    pub name: String,
    pub patterns: Vec<Pattern>,
    pub context_packs: Vec<String>,
    /// Indices (into the atlas's actions, ascending) of the actions its patterns match: a resolution narrowed to
    /// the capability visits these, not every action of the atlas. Set by `prepare`.
    pub members: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct ContextFile {
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct ContextPack {
    pub pack_id: String,
    pub name: String,
    pub files: Vec<ContextFile>,
    pub priority: i64,
    pub conditions: Option<Conditions>,
    pub max_tokens: Option<u64>,
    /// What the pack contributes when it qualifies (see `prepare`).
    pub blocks: Vec<Rc<PackBlock>>,
}

/// One context block of a pack, prepared at load: its token estimate, its JSON in a resolution and the canonical
/// payload of its `context.injected` event.
#[derive(Debug, Clone)]
pub struct PackBlock {
    pub tokens: u64,
    pub json: String,
    pub injected: String,
}

#[derive(Debug, Clone)]
pub struct Atlas {
    pub atlas_id: String,
    pub version: String,
    pub name: String,
    pub description: String,
    /// The manifest as given, for `atlas.get`.
    pub manifest: Value,
    pub dependencies: Vec<(String, String)>,
    pub actions: Vec<Action>,
    pub action_index: HashMap<String, usize>,
    pub capabilities: Vec<Capability>,
    /// Capability id → index into `capabilities` (set by `prepare`).
    pub capability_index: HashMap<String, usize>,
    pub packs: Vec<ContextPack>,
    pub policies: Vec<Policy>,
    /// Set when the atlas is unloaded: resolutions made with it then allow none of its actions (SPEC §9: the
    /// reference left an unloaded atlas's policies in force). A replaced atlas is not unloaded: sessions keep the
    /// resolutions they had.
    pub unloaded: Cell<bool>,
}

impl Atlas {
    pub fn action(&self, action_id: &str) -> Option<&Action> {
        self.action_index.get(action_id).and_then(|i| self.actions.get(*i))
    }

    pub fn capability(&self, capability_id: &str) -> Option<&Capability> {
        self.capability_index.get(capability_id).and_then(|i| self.capabilities.get(*i))
    }
}
