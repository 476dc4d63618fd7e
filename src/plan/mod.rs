//! The plan: YAML files → merged tree → typed model → semantic checks.

pub mod error;
pub mod load;
pub mod model;
pub mod node;
pub mod validate;

pub use error::PlanError;
pub use load::{load, load_with, LoadedPlan, LocalSources};
pub use model::*;
