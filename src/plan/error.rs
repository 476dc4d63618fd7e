use std::path::PathBuf;

use super::node::Loc;

/// Everything that makes a plan unusable before any request is sent.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read plan file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Yaml {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{loc}: {path}: {message}")]
    Field {
        loc: Loc,
        path: String,
        message: String,
    },
    #[error("{loc}: environment variable {name} is not set (used by `${{{name}}}`); export it or remove the reference")]
    MissingVariable { loc: Loc, name: String },
    #[error("{loc}: {path}: environment variable {name} is not set; export it before running")]
    MissingEnv {
        loc: Loc,
        path: String,
        name: String,
    },
    #[error("{loc}: {path}: cannot read file {file}: {reason}")]
    MissingFile {
        loc: Loc,
        path: String,
        file: String,
        reason: String,
    },
    #[error("no plan file given: pass at least one -f PLAN")]
    NoFiles,
    /// The plan parses but asks for something that would break a later run
    /// (DESIGN.md: unsafe option combination); refused, not merely invalid.
    #[error("{loc}: {path}: {message}")]
    Unsafe {
        loc: Loc,
        path: String,
        message: String,
    },
}
