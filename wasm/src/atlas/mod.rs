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

/// Sorts indices by `order`, then drops repeats next to each other. Every index sort of the atlas goes through this
/// one function (one copy of the sort in the module, not one per caller's closure).
pub fn sort_indices(v: &mut Vec<usize>, order: &dyn Fn(usize, usize) -> std::cmp::Ordering) {
    v.sort_by(|a, b| order(*a, *b));
    v.dedup();
}
