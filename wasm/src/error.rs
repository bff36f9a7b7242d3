//! One error type for every failure: a stable code, a message for humans and the JSON pointer of the input field
//! to blame. Errors are data: they cross the ABI as `{"error": {...}}`, never as a trap.

use crate::obj;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreError {
    pub code: &'static str,
    pub message: String,
    /// JSON pointer into the operation's input; `None` when no single field is to blame.
    pub path: Option<String>,
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CoreError { code, message: message.into(), path: None }
    }

    pub fn at(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError { code, message: message.into(), path: Some(path.into()) }
    }

    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::at("invalid_request", path, message)
    }

    /// Re-roots the error's path under `prefix` (e.g. a request nested at `/request`).
    pub fn under(mut self, prefix: &str) -> Self {
        self.path = Some(format!("{}{}", prefix, self.path.unwrap_or_default()));
        self
    }

    pub fn to_json(&self) -> Value {
        obj!( "code": &self.code, "message": &self.message, "path": &self.path )
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
