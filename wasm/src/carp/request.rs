//! CARP requests (SPEC §2): the protocol's nested form, and the reference runtime's flat form accepted for
//! compatibility (SPEC §9). Both read into one [`Request`]; every error points into the input.

use serde_json::{Map, Value};

use crate::atlas::RiskTier;
use crate::error::{CoreResult, ErrorCode};
use crate::host::{fresh_id, Host};
use crate::ids::{is_action_id, is_atlas_id};
use crate::input::{as_document, Obj};
use crate::time::{parse_rfc3339, rfc3339_problem, Micros};

const CODE: ErrorCode = ErrorCode::InvalidRequest;
const NESTED_FIELDS: &[&str] =
    &["carp_version", "request_id", "timestamp", "operation", "requester", "task", "execution", "atlas_ids", "context"];
const FLAT_FIELDS: &[&str] = &[
    "carp_version", "request_id", "timestamp", "operation", "session_id", "agent_id", "parent_session_id", "goal",
    "risk_tier", "context_hints", "required_capabilities", "atlas_ids", "context", "execution",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Resolve,
    Execute,
    Validate,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Resolve => "resolve",
            Operation::Execute => "execute",
            Operation::Validate => "validate",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExecutionBlock {
    pub resolution_id: String,
    pub action_id: String,
    pub parameters: Map<String, Value>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub request_id: String,
    pub timestamp: Option<Micros>,
    pub operation: Operation,
    pub agent_id: String,
    pub session_id: String,
    pub parent_session_id: Option<String>,
    pub goal: String,
    /// `None` when the request did not say (the default, low, applies).
    pub risk_tier: Option<RiskTier>,
    pub context_hints: Vec<String>,
    pub required_capabilities: Option<Vec<String>>,
    pub atlas_ids: Option<Vec<String>>,
    pub context: Map<String, Value>,
    pub execution: Option<ExecutionBlock>,
    /// Where the requester fields sit in the input: `/requester/` (nested form) or `/` (flat form).
    pub requester_path: &'static str,
}

impl Request {
    pub fn tier(&self) -> RiskTier {
        self.risk_tier.unwrap_or(RiskTier::Low)
    }

    /// The token budget a request asks for in `context.max_context_tokens`.
    pub fn max_context_tokens(&self) -> Option<u64> {
        self.context.get("max_context_tokens").and_then(Value::as_u64)
    }
}

/// Reads a request at `path` (e.g. `/request`). A flat request may omit `request_id` (one is taken from the
/// host) and `timestamp` (no skew check then).
pub fn parse_request(v: &Value, path: &str, host: &mut dyn Host) -> CoreResult<Request> {
    let o = as_document(v, path, CODE)?;
    let nested = o.get("requester").is_some() || o.get("task").is_some();
    match o.opt_str("carp_version", CODE)? {
        Some("1.0") => {}
        Some(other) => return Err(o.err(CODE, "carp_version", format!("unsupported carp_version `{}`; this runtime speaks 1.0", other))),
        None if nested => return Err(o.err(CODE, "carp_version", "`carp_version` is required")),
        None => {}
    }
    let operation = match o.opt_str("operation", CODE)? {
        Some("resolve") => Operation::Resolve,
        Some("execute") => Operation::Execute,
        Some("validate") => Operation::Validate,
        Some(other) => return Err(o.err(CODE, "operation", format!("`{}` is not an operation (resolve, execute, validate)", other))),
        None if nested => return Err(o.err(CODE, "operation", "`operation` is required")),
        None => Operation::Resolve,
    };
    let request_id = match o.opt_uuid("request_id", CODE)? {
        Some(id) => id,
        None if nested => return Err(o.err(CODE, "request_id", "`request_id` is required")),
        None => fresh_id(host)?,
    };
    let timestamp = match o.opt_str("timestamp", CODE)? {
        Some(s) => Some(parse_rfc3339(s).ok_or_else(|| o.err(CODE, "timestamp", format!("`timestamp` must be an RFC 3339 date-time: {}", rfc3339_problem(s))))?),
        None if nested => return Err(o.err(CODE, "timestamp", "`timestamp` is required")),
        None => None,
    };
    let atlas_ids = o.opt_str_list("atlas_ids", CODE, |s| if is_atlas_id(s) { None } else { Some(format!("`{}` is not an atlas id", s)) })?;
    let context = match o.opt_object("context", CODE)? {
        Some(m) => {
            // Free-form, except the one member the runtime reads: the context budget.
            let path = o.field_path("context");
            Obj::new(m, &path).opt_int("max_context_tokens", 0, i64::MAX, CODE)?;
            m.clone()
        }
        None => Map::new(),
    };
    let execution = match o.opt_object("execution", CODE)? {
        Some(m) => {
            let p = o.field_path("execution");
            Some(parse_execution(o.child(m, &p))?)
        }
        None => None,
    };
    if operation == Operation::Execute && execution.is_none() {
        return Err(o.err(CODE, "execution", "an execute request needs an `execution` block"));
    }

    let (agent_id, session_id, parent_session_id, task_path);
    let task: Option<Obj>;
    let task_holder;
    if nested {
        o.deny_unknown(NESTED_FIELDS, CODE)?;
        let rp = o.field_path("requester");
        let r = match o.present("requester") {
            Some(v) => o.object(v, &rp, CODE)?,
            None => return Err(o.err(CODE, "requester", "`requester` is required")),
        };
        r.deny_unknown(&["agent_id", "session_id", "parent_session_id"], CODE)?;
        agent_id = r.req_text("agent_id", 1, 255, CODE)?.to_string();
        session_id = r.req_uuid("session_id", CODE)?;
        // The schema allows `null` here: "no parent".
        parent_session_id = r.lax().opt_uuid("parent_session_id", CODE)?;
        task_path = o.field_path("task");
        task_holder = o.present("task");
        task = match task_holder {
            Some(v) => Some(o.object(v, &task_path, CODE)?),
            None if operation == Operation::Execute => None,
            None => return Err(o.err(CODE, "task", "`task` is required")),
        };
        if let Some(t) = task {
            t.deny_unknown(&["goal", "risk_tier", "context_hints", "required_capabilities"], CODE)?;
        }
    } else {
        o.deny_unknown(FLAT_FIELDS, CODE)?;
        agent_id = o.req_text("agent_id", 1, 255, CODE)?.to_string();
        session_id = o.req_uuid("session_id", CODE)?;
        parent_session_id = o.lax().opt_uuid("parent_session_id", CODE)?;
        task = Some(o);
    }
    let (goal, risk_tier, context_hints, required_capabilities) = match task {
        Some(t) => {
            let goal = if operation == Operation::Execute {
                t.opt_text("goal", 1, 10_000, CODE)?.unwrap_or("").to_string()
            } else {
                t.req_text("goal", 1, 10_000, CODE)?.to_string()
            };
            let risk = match t.opt_str("risk_tier", CODE)? {
                Some(s) => Some(RiskTier::parse(s).ok_or_else(|| t.err(CODE, "risk_tier", format!("`{}` is not a risk tier (low, medium, high, critical)", s)))?),
                None => None,
            };
            let hints = t.opt_str_list("context_hints", CODE, |_| None)?.unwrap_or_default();
            let caps = t.opt_str_list("required_capabilities", CODE, |_| None)?;
            (goal, risk, hints, caps)
        }
        None => (String::new(), None, Vec::new(), None),
    };
    Ok(Request {
        request_id,
        timestamp,
        operation,
        agent_id,
        session_id,
        parent_session_id,
        goal,
        risk_tier,
        context_hints,
        required_capabilities,
        atlas_ids,
        context,
        execution,
        requester_path: if nested { "/requester/" } else { "/" },
    })
}

pub fn parse_execution(e: Obj) -> CoreResult<ExecutionBlock> {
    e.deny_unknown(&["resolution_id", "action_id", "parameters", "idempotency_key"], CODE)?;
    read_execution(e)
}

/// The members of an execution block, in an object whose unknown members the caller has refused already.
pub fn read_execution(e: Obj) -> CoreResult<ExecutionBlock> {
    let resolution_id = e.req_uuid("resolution_id", CODE)?;
    let action_id = e.req_str("action_id", CODE)?;
    if !is_action_id(action_id) {
        return Err(e.err(CODE, "action_id", format!("`{}` is not an action id", action_id)));
    }
    let parameters = match e.get("parameters") {
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(e.err(CODE, "parameters", "`parameters` must be an object")),
        None => return Err(e.err(CODE, "parameters", "`parameters` is required")),
    };
    // The schema allows `null` here: "no key".
    let idempotency_key = e.lax().opt_text("idempotency_key", 1, 255, CODE)?.map(str::to_string);
    Ok(ExecutionBlock { resolution_id, action_id: action_id.to_string(), parameters, idempotency_key })
}
