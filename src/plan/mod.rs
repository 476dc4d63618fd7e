//! The plan: YAML files → merged tree → typed model → semantic checks.

pub mod error;
mod fast_parse;
mod full_parse;
mod halves;
mod index;
pub mod interpolate;
pub mod load;
mod local;
mod merge;
pub mod model;
pub mod node;
mod node_de;
mod numbers;
mod parallel;
mod policies;
pub mod policy_hcl;
mod policy_simple;
pub mod schema;
mod typed;
pub mod validate;
mod warnings;

pub use error::{MissingVariable, PlanError};
pub use index::PathKey;
pub use load::{load, load_with, LoadOptions, LoadedPlan, LocalSources};
pub use model::*;
