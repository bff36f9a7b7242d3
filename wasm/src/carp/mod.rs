//! CARP/1.0: requests, policy evaluation, resolutions with their context, sessions and the action lifecycle.

pub mod context;
pub mod execute;
pub mod handles;
pub mod ledger;
pub mod policy;
pub mod refusal;
pub mod request;
pub mod resolve;
pub mod session;

pub use request::{parse_request, Operation, Request};
pub use resolve::Resolution;
pub use session::{ExecStatus, Execution, Session};
