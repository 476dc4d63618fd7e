//! Why one object failed, and which exit code that calls for.

use crate::sources::resolve::SourceError;
use crate::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Source(#[from] SourceError),
    /// Vault holds something the tool will not change without being asked
    /// (a mount of another type): never silently destructive.
    #[error("{0}")]
    Conflict(String),
    /// The plan asks for something the server cannot do as written (an
    /// unknown field, a KV v2 → v1 change): fix the plan.
    #[error("{0}")]
    Invalid(String),
    /// Another writer kept changing the object while this run wrote it.
    #[error("{0}; another writer kept changing it while this run wrote it")]
    Concurrent(String),
    /// Where a managed token is kept could not be read or written.
    #[error("{0}")]
    Store(#[from] crate::token_store::StoreError),
    /// A managed token could not be minted or checked; the stored one is
    /// left as it was.
    #[error("{0}")]
    Token(String),
    /// A later step of a change failed after an earlier one was sent.
    #[error("{error}; {note}")]
    Incomplete { error: VaultError, note: String },
}

/// Which exit code an object's failure calls for (DESIGN.md "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Exit 1: a retry can fix it.
    Runtime,
    /// Exit 2: the plan or the settings are wrong.
    Invalid,
    /// Exit 5: refused by a safety guard.
    Refused,
}

impl ObjectError {
    pub fn hint(&self) -> &'static str {
        match self {
            ObjectError::Vault(e) => e.hint(),
            ObjectError::Source(_) => {
                "nothing was written for this object; fix the source and rerun"
            }
            ObjectError::Conflict(_) => "change the plan or fix the object in Vault by hand",
            ObjectError::Invalid(_) => "fix the plan and rerun",
            ObjectError::Incomplete { error, .. } => error.hint(),
            ObjectError::Concurrent(_) => "rerun: the next run compares against what is there then",
            ObjectError::Store(_) | ObjectError::Token(_) => {
                "the stored token was left as it was; fix the cause above and rerun"
            }
        }
    }

    pub fn class(&self) -> FailureClass {
        match self {
            // A rejected value, or a path with no handler (no such mount):
            // the plan must change, a retry cannot help.
            ObjectError::Vault(e) if matches!(e.code(), Some(400 | 404 | 405)) => {
                FailureClass::Invalid
            }
            ObjectError::Vault(_) => FailureClass::Runtime,
            ObjectError::Source(SourceError::Kube(_)) => FailureClass::Runtime,
            ObjectError::Source(_) => FailureClass::Invalid,
            ObjectError::Conflict(_) => FailureClass::Refused,
            ObjectError::Concurrent(_) => FailureClass::Runtime,
            // A Kubernetes write race, RBAC, or the job's authority to mint:
            // a rerun (or a grant) fixes it; the plan is fine.
            ObjectError::Store(_) | ObjectError::Token(_) => FailureClass::Runtime,
            ObjectError::Invalid(_) => FailureClass::Invalid,
            ObjectError::Incomplete { error, .. }
                if matches!(error.code(), Some(400 | 404 | 405)) =>
            {
                FailureClass::Invalid
            }
            ObjectError::Incomplete { .. } => FailureClass::Runtime,
        }
    }
}
