use std::fmt;
use std::path::PathBuf;

use super::node::Loc;

/// Everything that makes a plan unusable before any request is sent.
/// All variants but `Unsafe` mean "the plan is wrong" (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read plan file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "plan directory {path} has no *.yaml or *.yml file; add one or pass the files with -f"
    )]
    EmptyDir { path: PathBuf },
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
    /// Every `${NAME}` without a value, so one run shows them all.
    #[error("{}", missing_message(.missing))]
    MissingVariables { missing: Vec<MissingVariable> },
    #[error("{loc}: {path}: environment variable {name} is not set; export it before running")]
    MissingEnv {
        loc: Loc,
        path: String,
        name: String,
    },
    /// A `file:` source that exists but cannot be one: a directory, too large.
    #[error("{loc}: {path}: file {file} {problem}")]
    SourceFile {
        loc: Loc,
        path: String,
        file: String,
        problem: String,
    },
    /// Policy HCL Vault would reject; `at` is the line inside the policy
    /// text (inline) or `file:line:column` of the policy file.
    #[error("{loc}: {path}: invalid policy HCL at {at}: {message}; fix the policy and run validate again")]
    PolicyHcl {
        loc: Loc,
        path: String,
        at: String,
        message: String,
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

/// One `${NAME}` that has no value and no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingVariable {
    pub loc: Loc,
    pub name: String,
}

impl fmt::Display for MissingVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.loc)
    }
}

fn missing_message(missing: &[MissingVariable]) -> String {
    let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
    let (noun, them) = if missing.len() == 1 {
        ("variable is", "it")
    } else {
        ("variables are", "them")
    };
    let first = missing
        .first()
        .map(|m| format!("{}: ", m.loc))
        .unwrap_or_default();
    format!(
        "{first}environment {noun} not set: {}; export {them}, give a default with `${{NAME:-default}}`, \
         or write `$${{` for a literal `${{`",
        list.join(", ")
    )
}
