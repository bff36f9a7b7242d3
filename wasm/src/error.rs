//! One error type for every failure: a stable code, a message for humans and the JSON pointer of the input field
//! to blame. Errors are data: they cross the ABI as `{"error": {...}}`, never as a trap.
//!
//! The codes are a closed set ([`ErrorCode`]): a host maps each to an HTTP status and a typed error, so a code
//! the contract (`wasm/abi.json`, `error_codes` of origin `core`) does not list must not be able to appear. The
//! compiler keeps the core to the enum; `tests/abi_contract.rs` keeps the enum equal to the contract.

use crate::obj;
use serde_json::Value;

/// Declares [`ErrorCode`] from one list, so that `ALL` and `as_str` cannot miss a variant.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The codes the core answers errors with, in the order of `wasm/abi.json`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in a stable order (the contract's).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it crosses the ABI.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    /// The input is not JSON, has duplicate keys or is nested too deep.
    InvalidJson => "invalid_json",
    /// A field is missing, of the wrong type or format.
    InvalidRequest => "invalid_request",
    /// An atlas manifest fails validation.
    AtlasInvalid => "atlas_invalid",
    AtlasExists => "atlas_exists",
    AtlasNotFound => "atlas_not_found",
    SessionNotFound => "session_not_found",
    SessionExists => "session_exists",
    SessionEnded => "session_ended",
    AgentMismatch => "agent_mismatch",
    DuplicateRequest => "duplicate_request",
    ClockSkew => "clock_skew",
    ResolutionNotFound => "resolution_not_found",
    ExecutionNotFound => "execution_not_found",
    /// An execution is not in the state the operation needs.
    InvalidState => "invalid_state",
    ApprovalMismatch => "approval_mismatch",
    IdempotencyConflict => "idempotency_conflict",
    /// A trace that does not verify, belongs to another session or lacks its synced head.
    TraceInvalid => "trace_invalid",
    /// A checkpoint that does not read as one, or is not of the trace it is given with.
    CheckpointInvalid => "checkpoint_invalid",
    /// A synced trace or checkpoint that does not extend the log held for its session.
    HistoryRewritten => "history_rewritten",
    UnknownOperation => "unknown_operation",
    /// The host supplied an id that is not a lowercase UUID.
    HostIdInvalid => "host_id_invalid",
    /// A broken invariant of the core: a bug, reported as data.
    Internal => "internal",
}

impl ErrorCode {
    /// The code named `s`, if it is one.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
    /// JSON pointer into the operation's input; `None` when no single field is to blame.
    pub path: Option<String>,
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CoreError { code, message: message.into(), path: None }
    }

    pub fn at(code: ErrorCode, path: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError { code, message: message.into(), path: Some(path.into()) }
    }

    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::at(ErrorCode::InvalidRequest, path, message)
    }

    /// A broken invariant of the core itself (answered as data, never a trap).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    /// Re-roots the error's path under `prefix` (e.g. a request nested at `/request`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.path = Some(format!("{}{}", prefix, self.path.unwrap_or_default()));
        self
    }

    pub fn to_json(&self) -> Value {
        obj!( "code": self.code.as_str(), "message": &self.message, "path": &self.path )
    }
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{} at {}: {}", self.code, if p.is_empty() { "/" } else { p }, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_parse_back() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
            assert!(ErrorCode::ALL.iter().skip(i + 1).all(|d| d.as_str() != c.as_str()), "{} twice", c);
        }
        assert_eq!(ErrorCode::parse("atlas_warning"), None, "warnings are not errors");
    }

    #[test]
    fn wire_form_is_the_string() {
        let e = CoreError::at(ErrorCode::AtlasInvalid, "/x", "m");
        assert_eq!(e.to_json().to_string(), r#"{"code":"atlas_invalid","message":"m","path":"/x"}"#);
        assert_eq!(e.to_string(), "atlas_invalid at /x: m");
    }
}
