//! Refusals a model can act on. A denied or violated execution answers `details`: a stable `code` and its
//! specifics (the closest known action ids, the policy, every schema error and every scope problem with the
//! offending value), so that an agent can correct its call instead of guessing from one sentence.
//!
//! The trace records less than the answer: raw parameters are never stored (only their hash), so the offending
//! `value` — and `limit` / `allowed`, any JSON and so outside SPEC §4.1's safe payload subset — are on the answer
//! only. Restore rebuilds details from the events as far as they go. The reason text of the codes whose text is
//! made from their details is derived by one function, [`Details::reason`], on both paths, so that a live answer
//! and a restored one say the same.

use serde_json::{Map, Value};

use crate::json::{pointer_push, IntoJson};
use crate::obj;

use super::policy::PolicyResult;

pub const UNKNOWN_ACTION: &str = "unknown_action";
pub const NOT_IN_RESOLUTION: &str = "not_in_resolution";
pub const RESOLUTION_EXPIRED: &str = "resolution_expired";
pub const RESOLUTION_STALE: &str = "resolution_stale";
pub const ATLAS_UNLOADED: &str = "atlas_unloaded";
pub const POLICY_DENIED: &str = "policy_denied";
pub const DEFAULT_DENY: &str = "default_deny";
pub const RATE_LIMITED: &str = "rate_limited";
pub const BUDGET_EXHAUSTED: &str = "budget_exhausted";
pub const APPROVAL_DENIED: &str = "approval_denied";
pub const INVALID_PARAMETERS: &str = "invalid_parameters";
pub const SCOPE_VIOLATION: &str = "scope_violation";

/// Every refusal code, in the order of `wasm/abi.json` (`refusal_codes`).
pub const CODES: &[&str] = &[
    UNKNOWN_ACTION,
    NOT_IN_RESOLUTION,
    RESOLUTION_EXPIRED,
    RESOLUTION_STALE,
    ATLAS_UNLOADED,
    POLICY_DENIED,
    DEFAULT_DENY,
    RATE_LIMITED,
    BUDGET_EXHAUSTED,
    APPROVAL_DENIED,
    INVALID_PARAMETERS,
    SCOPE_VIOLATION,
];

/// Codes whose details name the policy that refused (`policy_id`).
const POLICY_CODES: &[&str] = &[POLICY_DENIED, DEFAULT_DENY, RATE_LIMITED, BUDGET_EXHAUSTED, APPROVAL_DENIED];

/// At most this many suggestions for an unknown action id.
const MAX_CLOSEST: usize = 3;

/// One parameter outside a scope policy's bounds.
#[derive(Debug, Clone)]
pub struct Violation {
    pub policy_id: String,
    pub parameter: String,
    /// `max`, `allowed_values` or `number` (a bounded parameter that is not a number).
    pub constraint: String,
    /// The maximum (`max`, `number`); answer only.
    pub limit: Option<Value>,
    /// The allowed values (`allowed_values`); answer only.
    pub allowed: Option<Vec<Value>>,
    /// The offending value; answer only (the trace holds the parameters' hash, never the parameters).
    pub value: Option<Value>,
    pub message: String,
}

impl Violation {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("policy_id".into(), Value::String(self.policy_id.clone()));
        m.insert("parameter".into(), Value::String(self.parameter.clone()));
        m.insert("path".into(), Value::String(pointer_push("", &self.parameter)));
        m.insert("constraint".into(), Value::String(self.constraint.clone()));
        if let Some(l) = &self.limit {
            m.insert("limit".into(), l.clone());
        }
        if let Some(a) = &self.allowed {
            m.insert("allowed".into(), Value::Array(a.clone()));
        }
        if let Some(v) = &self.value {
            m.insert("value".into(), v.clone());
        }
        m.insert("message".into(), Value::String(self.message.clone()));
        Value::Object(m)
    }

    /// What the trace keeps of it: strings only, whatever the parameters were.
    fn trace_json(&self) -> Value {
        obj!("parameter": &self.parameter, "constraint": &self.constraint, "message": &self.message)
    }
}

/// `Execution.details` of a denied or violated execution.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub code: String,
    /// For `unknown_action` and `not_in_resolution`.
    pub action_id: Option<String>,
    /// For `unknown_action`: known action ids, nearest first.
    pub closest: Option<Vec<String>>,
    pub policy_id: Option<String>,
    pub retry_after_seconds: Option<u64>,
    pub approver: Option<String>,
    /// Schema errors (and invalid cost parameters) as `(path, message)`.
    pub errors: Vec<(String, String)>,
    pub violations: Vec<Violation>,
}

impl Details {
    pub fn new(code: &str) -> Self {
        Details { code: code.to_string(), ..Default::default() }
    }

    /// A denial by `policy_id` (codes of [`POLICY_CODES`] carry it).
    pub fn by_policy(code: &str, policy_id: &str) -> Self {
        let mut d = Details::new(code);
        if POLICY_CODES.contains(&code) {
            d.policy_id = Some(policy_id.to_string());
        }
        d
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("code".into(), Value::String(self.code.clone()));
        if let Some(a) = &self.action_id {
            m.insert("action_id".into(), Value::String(a.clone()));
        }
        if let Some(c) = &self.closest {
            m.insert("closest".into(), c.as_slice().into_json());
        }
        if let Some(p) = &self.policy_id {
            m.insert("policy_id".into(), Value::String(p.clone()));
        }
        if let Some(r) = self.retry_after_seconds {
            m.insert("retry_after_seconds".into(), Value::from(r));
        }
        if let Some(a) = &self.approver {
            m.insert("approver".into(), Value::String(a.clone()));
        }
        if !self.errors.is_empty() {
            m.insert("errors".into(), errors_json(&self.errors));
        }
        if !self.violations.is_empty() {
            let mut list = Vec::with_capacity(self.violations.len());
            for v in &self.violations {
                list.push(v.to_json());
            }
            m.insert("violations".into(), Value::Array(list));
        }
        Value::Object(m)
    }

    /// The reason text of the codes whose text is made from their details (unknown actions and parameter
    /// problems: the first problem, concretely, and how many more); `None` for the others, whose reason is the
    /// policy's. The live answer and restore both call this, so they agree.
    pub fn reason(&self) -> Option<String> {
        match self.code.as_str() {
            UNKNOWN_ACTION => {
                let mut s = format!("unknown action `{}`", self.action_id.as_deref().unwrap_or(""));
                if let Some(c) = self.closest.as_ref().filter(|c| !c.is_empty()) {
                    s.push_str("; did you mean ");
                    s.push_str(&one_of(c));
                    s.push('?');
                }
                Some(s)
            }
            INVALID_PARAMETERS | SCOPE_VIOLATION => {
                let first = match (self.errors.first(), self.violations.first()) {
                    (Some((p, m)), _) if p.is_empty() => format!("invalid parameters: {}", m),
                    (Some((p, m)), _) => format!("invalid parameters: {} {}", p, m),
                    (None, Some(v)) => v.message.clone(),
                    (None, None) if self.code == INVALID_PARAMETERS => "invalid parameters".to_string(),
                    (None, None) => "parameters outside the policy's scope".to_string(),
                };
                let n = self.errors.len() + self.violations.len();
                Some(if n > 1 { format!("{} (+{} more)", first, n - 1) } else { first })
            }
            _ => None,
        }
    }
}

/// "`a`", "`a` or `b`", "`a`, `b` or `c`".
fn one_of(ids: &[String]) -> String {
    let mut out = String::new();
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == ids.len() { " or " } else { ", " });
        }
        out.push('`');
        out.push_str(id);
        out.push('`');
    }
    out
}

/// `[{path, message}]`.
fn errors_json(errors: &[(String, String)]) -> Value {
    let mut list = Vec::with_capacity(errors.len());
    for (p, m) in errors {
        list.push(obj!("path": p, "message": m));
    }
    Value::Array(list)
}

/// The refusal code of a policy verdict's result (see `policy::Verdict::Denied`).
pub fn code_of_result(result: PolicyResult) -> &'static str {
    match result {
        PolicyResult::DefaultDeny => DEFAULT_DENY,
        PolicyResult::RateLimited => RATE_LIMITED,
        PolicyResult::BudgetExhausted => BUDGET_EXHAUSTED,
        PolicyResult::Unloaded => ATLAS_UNLOADED,
        // A gate never denies; were it ever asked, a policy refused.
        PolicyResult::Deny | PolicyResult::RequireApproval => POLICY_DENIED,
    }
}

// ------------------------------------------------------------------------------------------------- trace payloads

/// The `details` of one `policy.violated` event: what the trace may keep of one policy's problems (strings only),
/// with `message` summing them up for readers of the event alone.
pub fn violation_payload(errors: &[(String, String)], violations: &[Violation]) -> Map<String, Value> {
    let mut message = String::new();
    for (p, m) in errors {
        separate(&mut message);
        if !p.is_empty() {
            message.push_str(p);
            message.push(' ');
        }
        message.push_str(m);
    }
    for v in violations {
        separate(&mut message);
        message.push_str(&v.message);
    }
    let mut d = Map::new();
    if !errors.is_empty() {
        d.insert("errors".into(), errors_json(errors));
    }
    if !violations.is_empty() {
        let mut list = Vec::with_capacity(violations.len());
        for v in violations {
            list.push(v.trace_json());
        }
        d.insert("violations".into(), Value::Array(list));
    }
    d.insert("message".into(), Value::String(message));
    d
}

fn separate(message: &mut String) {
    if !message.is_empty() {
        message.push_str("; ");
    }
}

// ------------------------------------------------------------------------------------------------- restore

fn text_of(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Details of a recorded `action.denied`. Traces written before denials carried a `code` are classified from
/// what they hold (the pseudo-policies `ttl`, `stale`, `unloaded`, `default`, the limit reasons, an approver).
pub fn from_denied(payload: &Map<String, Value>, action_id: &str) -> Details {
    let policy_id = text_of(payload, "policy_id").unwrap_or_default();
    let reason = text_of(payload, "reason").unwrap_or_default();
    let code = match text_of(payload, "code") {
        Some(c) => c,
        None => match (policy_id.as_str(), reason.as_str()) {
            ("ttl", _) => RESOLUTION_EXPIRED.into(),
            ("stale", _) => RESOLUTION_STALE.into(),
            ("unloaded", _) => ATLAS_UNLOADED.into(),
            ("default", "the action is not part of this resolution") => NOT_IN_RESOLUTION.into(),
            ("default", _) => DEFAULT_DENY.into(),
            (_, "rate_limited") => RATE_LIMITED.into(),
            (_, "budget_exhausted") => BUDGET_EXHAUSTED.into(),
            _ if payload.contains_key("approver") => APPROVAL_DENIED.into(),
            _ => POLICY_DENIED.into(),
        },
    };
    let mut d = Details::by_policy(&code, &policy_id);
    match code.as_str() {
        UNKNOWN_ACTION => {
            d.action_id = Some(action_id.to_string());
            let mut closest = Vec::new();
            for v in payload.get("closest").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
                if let Some(id) = v.as_str() {
                    closest.push(id.to_string());
                }
            }
            d.closest = Some(closest);
        }
        NOT_IN_RESOLUTION => d.action_id = Some(action_id.to_string()),
        RATE_LIMITED => d.retry_after_seconds = payload.get("retry_after_seconds").and_then(Value::as_u64),
        APPROVAL_DENIED => d.approver = text_of(payload, "approver"),
        _ => {}
    }
    d
}

/// Folds one recorded `policy.violated` into an execution's details (an execution may have several: one per
/// violated policy). Older traces recorded one problem as `{parameter, message}`; those are read too.
pub fn fold_violated(d: &mut Details, payload: &Map<String, Value>) {
    let policy_id = text_of(payload, "policy_id").unwrap_or_default();
    let kind = text_of(payload, "violation_type").unwrap_or_default();
    let empty = Map::new();
    let details = payload.get("details").and_then(Value::as_object).unwrap_or(&empty);
    if let Some(list) = details.get("errors").and_then(Value::as_array) {
        for e in list.iter().filter_map(Value::as_object) {
            d.errors.push((text_of(e, "path").unwrap_or_default(), text_of(e, "message").unwrap_or_default()));
        }
    }
    if let Some(list) = details.get("violations").and_then(Value::as_array) {
        for v in list.iter().filter_map(Value::as_object) {
            d.violations.push(Violation {
                policy_id: policy_id.clone(),
                parameter: text_of(v, "parameter").unwrap_or_default(),
                constraint: text_of(v, "constraint").unwrap_or_default(),
                limit: None,
                allowed: None,
                value: None,
                message: text_of(v, "message").unwrap_or_default(),
            });
        }
    }
    if let (Some(parameter), Some(message)) = (text_of(details, "parameter"), text_of(details, "message")) {
        if kind == "scope" {
            let constraint = if message.ends_with("allowed values") {
                "allowed_values"
            } else if message.ends_with("must be a number") {
                "number"
            } else {
                "max"
            };
            d.violations.push(Violation {
                policy_id,
                parameter,
                constraint: constraint.into(),
                limit: None,
                allowed: None,
                value: None,
                message,
            });
        } else {
            d.errors.push((pointer_push("", &parameter), message));
        }
    }
    if kind == "invalid_parameters" || !d.errors.is_empty() {
        d.code = INVALID_PARAMETERS.into();
    }
}

// ------------------------------------------------------------------------------------------------- suggestions

/// Known action ids near `wanted` by edit distance (Levenshtein, on characters): within max(2, len/3), nearest
/// first, ties in the order given (load order, then manifest order), at most three.
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let w: Vec<char> = wanted.chars().collect();
    let limit = std::cmp::max(2, w.len() / 3);
    // The best few by insertion: candidates arrive in order, so a tie never displaces an earlier one.
    let mut best: Vec<(usize, &str)> = Vec::with_capacity(MAX_CLOSEST + 1);
    for id in known {
        if let Some(d) = distance_within(&w, id, limit) {
            let at = best.iter().position(|(bd, _)| *bd > d).unwrap_or(best.len());
            if at < MAX_CLOSEST {
                best.insert(at, (d, id));
                best.truncate(MAX_CLOSEST);
            }
        }
    }
    best.into_iter().map(|(_, id)| id.to_string()).collect()
}

/// Levenshtein distance of `a` and `b` when it is at most `limit` (two rows; gives up once a row is over).
fn distance_within(a: &[char], b: &str, limit: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // `prev` is the row of `a[..i]`, `cur` the row of `a[..=i]`: distances to each prefix of `b`.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        let mut left = i + 1;
        cur.push(left);
        let mut row_min = left;
        // (diagonal, up) = (prev[j], prev[j + 1]) for b's character j.
        for (cb, (diagonal, up)) in b.iter().zip(prev.iter().zip(prev.iter().skip(1))) {
            let cost = usize::from(ca != cb);
            left = (diagonal + cost).min(up + 1).min(left + 1);
            cur.push(left);
            row_min = row_min.min(left);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().filter(|d| *d <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(a: &str, b: &str) -> Option<usize> {
        distance_within(&a.chars().collect::<Vec<_>>(), b, 100)
    }

    #[test]
    fn levenshtein_distances() {
        assert_eq!(dist("kitten", "sitting"), Some(3));
        assert_eq!(dist("", "abc"), Some(3));
        assert_eq!(dist("abc", ""), Some(3));
        assert_eq!(dist("tickets.lookup", "ticket.lookup"), Some(1));
        assert_eq!(dist("é€x", "e€x"), Some(1), "on characters, not bytes");
        assert_eq!(distance_within(&"abcdef".chars().collect::<Vec<_>>(), "uvwxyz", 2), None);
    }

    #[test]
    fn closest_is_nearest_first_then_in_the_given_order() {
        let known = ["ticket.close", "ticket.lookup", "ticket.lookups", "refund.issue"];
        assert_eq!(closest("tickets.lookup", known), vec!["ticket.lookup", "ticket.lookups"]);
        assert_eq!(closest("ticket.clos", known), vec!["ticket.close"]);
        assert_eq!(closest("zzz.yyy", known), Vec::<String>::new());
        assert_eq!(closest("a.b", ["a.c", "a.d", "b.b", "a.e"]), vec!["a.c", "a.d", "b.b"], "ties keep the given order; three at most");
    }

    #[test]
    fn reasons_name_the_first_problem_and_count_the_rest() {
        let mut d = Details::new(UNKNOWN_ACTION);
        d.action_id = Some("tickets.lookup".into());
        d.closest = Some(vec![]);
        assert_eq!(d.reason().unwrap(), "unknown action `tickets.lookup`");
        d.closest = Some(vec!["ticket.lookup".into()]);
        assert_eq!(d.reason().unwrap(), "unknown action `tickets.lookup`; did you mean `ticket.lookup`?");
        d.closest = Some(vec!["a.a".into(), "a.b".into(), "a.c".into()]);
        assert_eq!(d.reason().unwrap(), "unknown action `tickets.lookup`; did you mean `a.a`, `a.b` or `a.c`?");
        let mut d = Details::new(INVALID_PARAMETERS);
        d.errors.push(("/ticket_id".into(), "String does not match pattern.".into()));
        assert_eq!(d.reason().unwrap(), "invalid parameters: /ticket_id String does not match pattern.");
        d.errors.push(("".into(), "Instance does not have required property \"x\".".into()));
        assert_eq!(d.reason().unwrap(), "invalid parameters: /ticket_id String does not match pattern. (+1 more)");
        assert_eq!(Details::new(POLICY_DENIED).reason(), None);
    }
}
