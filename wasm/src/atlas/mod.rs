//! Atlas/1.0: manifests parsed, validated and compiled into indexed tables at load time.

pub mod conditions;
pub mod deps;
pub mod model;
pub mod pattern;
pub mod policies;
pub mod prepare;
pub mod validate;

pub use conditions::{Conditions, Facts, RiskTier};
pub use model::{Action, Atlas, BudgetParams, LimitScope, PackBlock, Policy, PolicyKind};
pub use pattern::Pattern;
pub use validate::{compile, Validation, Warning};
