//! plan → ordered change set → concurrent apply → report.

pub mod build;
pub mod fields_gate;
pub mod needs;
pub mod progress;
pub mod prune;
mod records;
pub mod report;
pub mod run;
mod sections;
mod write;

pub use build::{stages, Stage};
pub use report::{CheckReport, ObjectReport, Report, Summary};
pub use run::{converge, Mode};
