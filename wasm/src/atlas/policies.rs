//! Atlas/1.0 policies (SPEC §1, §3): each policy of a manifest read and checked — type, priority, conditions,
//! action patterns and the parameters of its type (rate limits, budgets, scopes) — and, once the atlas is whole,
//! indexed per action in evaluation order, with the implicit policies of the actions' own `requires_confirmation`
//! and `rate_limit`.
//!
//! Kept apart from `validate.rs` (the manifest's other parts) because this is where the protocol's authority
//! lives: what a policy of each type must say, and the order in which `carp::policy::evaluate` will read them.
//! Errors are collected by the same [`Validator`], with JSON pointers into the manifest.

use serde_json::{Map, Value};

use crate::input::{type_name, Obj};
use crate::json::pointer_push;

use super::model::{Atlas, BudgetParams, LimitScope, Policy, PolicyKind, RateParams, ScopeParams};
use super::pattern::{Pattern, SortedIds};
use super::validate::{Validator, CODE};

// `reason` is not in the schema but SPEC §9 accepts it beside `parameters.reason`.
const POLICY_FIELDS: &[&str] =
    &["policy_id", "name", "description", "type", "priority", "conditions", "actions", "parameters", "reason"];

impl<'h> Validator<'h> {
    #[inline(never)]
    pub(super) fn policy(&mut self, o: Obj, action_ids: &SortedIds) -> Option<Policy> {
        let r = o.deny_unknown(POLICY_FIELDS, CODE);
        self.take(r);
        let r = o.req_text("policy_id", 1, usize::MAX, CODE);
        let id = self.take(r);
        let kind = match o.req_str("type", CODE) {
            Ok(s) => match PolicyKind::parse(s) {
                Some(k) => Some(k),
                None => {
                    self.error(
                        o.field_path("type"),
                        format!("`{}` is not a policy type (allow, deny, rate_limit, require_approval, budget, scope)", s),
                    );
                    None
                }
            },
            Err(e) => {
                self.errors.push(e);
                None
            }
        };
        for key in ["name", "description"] {
            let r = o.opt_str(key, CODE);
            self.take(r);
        }
        let r = o.opt_int("priority", i64::MIN / 2, i64::MAX / 2, CODE);
        let priority = self.take(r);
        let conditions = self.conditions(o);
        let patterns = if o.present("actions").is_none() {
            self.warn(o.field_path("actions"), "the policy lists no actions and governs nothing");
            Some(Vec::new())
        } else {
            let patterns = self.patterns(o, "actions", action_ids);
            if patterns.as_ref().map_or(false, Vec::is_empty) {
                self.warn(o.field_path("actions"), "the policy lists no actions and governs nothing");
            }
            patterns
        };
        let r = o.opt_object("parameters", CODE);
        let params = self.take(r);
        let ppath = o.field_path("parameters");
        let empty = Map::new();
        let p = o.child(params.flatten().unwrap_or(&empty), &ppath);
        let r = o.opt_str("reason", CODE);
        let top_reason = self.take(r);
        let r = p.opt_str("reason", CODE);
        let param_reason = self.take(r);
        let reason = top_reason.flatten().or_else(|| param_reason.flatten()).map(str::to_string);

        let (mut rate, mut budget, mut scope) = (None, None, None);
        match kind {
            Some(PolicyKind::RateLimit) => rate = self.rate_params(p),
            Some(PolicyKind::Budget) => budget = self.budget_params(p),
            Some(PolicyKind::Scope) => scope = self.scope_params(p),
            _ => {}
        }
        let kind = kind?;
        let ok_params = match kind {
            PolicyKind::RateLimit => rate.is_some(),
            PolicyKind::Budget => budget.is_some(),
            PolicyKind::Scope => scope.is_some(),
            _ => true,
        };
        if !ok_params {
            return None;
        }
        Some(Policy {
            policy_id: id?.to_string(),
            kind,
            priority: priority?.unwrap_or(0),
            conditions: conditions?,
            patterns: patterns?,
            reason,
            rate,
            budget,
            scope,
            implicit: false,
        })
    }

    fn rate_params(&mut self, p: Obj) -> Option<RateParams> {
        let max = self.required_int(p, "max_calls", 1);
        let window = self.required_int(p, "window_seconds", 1);
        let scope = match p.opt_str("scope", CODE) {
            Ok(None) | Ok(Some("session")) => Some(LimitScope::Session),
            Ok(Some("agent")) => Some(LimitScope::Agent),
            Ok(Some("global")) => Some(LimitScope::Global),
            Ok(Some(other)) => {
                self.error(p.field_path("scope"), format!("`{}` is not a rate-limit scope (session, agent, global)", other));
                None
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        };
        Some(RateParams { max_calls: max? as u64, window_seconds: window? as u64, scope: scope? })
    }

    fn budget_params(&mut self, p: Obj) -> Option<BudgetParams> {
        if p.present("max_cost").is_some() || p.present("cost_param").is_some() {
            let max_cost = match p.present("max_cost").and_then(|v| v.as_f64()) {
                Some(c) if c >= 0.0 && c.is_finite() => Some(c),
                _ => {
                    self.error(p.field_path("max_cost"), "`max_cost` must be a non-negative number");
                    None
                }
            };
            let r = p.req_text("cost_param", 1, 200, CODE);
            let param = self.take(r);
            Some(BudgetParams::Cost { max_cost: max_cost?, cost_param: param?.to_string() })
        } else {
            let r = p.opt_int("max_calls", 0, i64::MAX, CODE);
            match self.take(r)? {
                Some(n) => Some(BudgetParams::Calls(n as u64)),
                None => {
                    self.error(p.path.to_string(), "a budget policy needs `max_calls`, or `max_cost` with `cost_param`");
                    None
                }
            }
        }
    }

    fn scope_params(&mut self, p: Obj) -> Option<ScopeParams> {
        let mut out = ScopeParams::default();
        let mut ok = true;
        match p.opt_object("allowed_values", CODE) {
            Ok(Some(m)) => {
                let base = p.field_path("allowed_values");
                for (param, vals) in m {
                    match vals {
                        Value::Array(a) => out.allowed_values.push((param.clone(), a.clone())),
                        other => {
                            ok = false;
                            self.error(pointer_push(&base, param), format!("expected an array of values, found {}", type_name(other)));
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                ok = false;
                self.errors.push(e);
            }
        }
        match p.opt_object("max", CODE) {
            Ok(Some(m)) => {
                let base = p.field_path("max");
                for (param, n) in m {
                    match n.as_f64() {
                        Some(f) if f.is_finite() => out.max.push((param.clone(), f)),
                        _ => {
                            ok = false;
                            self.error(pointer_push(&base, param), "expected a number");
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                ok = false;
                self.errors.push(e);
            }
        }
        if ok && out.allowed_values.is_empty() && out.max.is_empty() {
            self.error(p.path.to_string(), "a scope policy needs `allowed_values` or `max`");
            ok = false;
        }
        if ok {
            Some(out)
        } else {
            None
        }
    }
}

/// Builds each action's policy list (matching patterns, sorted by type order, priority descending, declaration
/// order) and adds the implicit policies of the action's own `requires_confirmation` and `rate_limit`.
pub(super) fn index_policies(atlas: &mut Atlas) {
    let implicit_policies: Vec<Policy> = atlas
        .actions
        .iter()
        .flat_map(|a| {
            let confirm = a
                .requires_confirmation
                .then(|| implicit(&a.action_id, "requires_confirmation", PolicyKind::RequireApproval, None));
            let rate = a.rate_limit.map(|(max_calls, window_seconds)| {
                let r = RateParams { max_calls, window_seconds, scope: LimitScope::Session };
                implicit(&a.action_id, "rate_limit", PolicyKind::RateLimit, Some(r))
            });
            confirm.into_iter().chain(rate)
        })
        .collect();
    atlas.policies.extend(implicit_policies);
    let policies = &atlas.policies;
    for a in atlas.actions.iter_mut() {
        let mut list: Vec<(usize, &Policy)> =
            policies.iter().enumerate().filter(|(_, p)| p.patterns.iter().any(|pat| pat.matches(&a.action_id))).collect();
        // Stable sort: equal type and priority keep declaration order.
        list.sort_by(|(_, x), (_, y)| x.kind.cmp(&y.kind).then(y.priority.cmp(&x.priority)));
        a.dynamic = list.iter().any(|(_, p)| p.is_dynamic());
        a.policies = list.into_iter().map(|(i, _)| i).collect();
    }
}

fn implicit(action_id: &str, what: &str, kind: PolicyKind, rate: Option<RateParams>) -> Policy {
    Policy {
        policy_id: format!("{}#{}", action_id, what),
        kind,
        priority: i64::MIN,
        conditions: None,
        patterns: vec![Pattern::Exact(action_id.to_string())],
        reason: None,
        rate,
        budget: None,
        scope: None,
        implicit: true,
    }
}
