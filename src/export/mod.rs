//! `export` (DESIGN.md "Export"): reads what the token may read and writes
//! a plan that `validate` accepts and that `plan` finds unchanged against
//! the same server. Secret and write-only values are never read into it:
//! they become `{ env: NAME }` placeholders, listed at the top. Defaults
//! the server filled in are left out, so the export stays short.

mod auth;
mod clean;
mod data;
mod identity;
mod pki;
mod render;
mod sys;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json};

use crate::vault::{Vault, VaultError};

pub use render::{render_dir, render_single};

/// What to export.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Only objects under these Vault paths (all when empty).
    pub prefixes: Vec<String>,
    /// The registry mount: the tool's own records are never exported.
    pub registry_mount: String,
}

/// An environment variable the export reads a secret from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub env: String,
    /// What it stands for (a path and field, never a value).
    pub what: String,
    /// The plan section it appears in.
    pub section: &'static str,
}

/// The exported plan, section by section (plan keys, in plan order).
#[derive(Debug, Default)]
pub struct Export {
    pub sections: Vec<(&'static str, Json)>,
    pub placeholders: Vec<Placeholder>,
    /// What could not be read (the token may not), as comments.
    pub skipped: Vec<String>,
    /// The server's address, for the header.
    pub addr: String,
}

/// State shared by the section readers.
pub(crate) struct Exporter<'a> {
    vault: &'a Vault,
    options: &'a Options,
    placeholders: Vec<Placeholder>,
    env_names: BTreeSet<String>,
    skipped: Vec<String>,
    /// Mount path (no slash) → its sys/mounts entry.
    mounts: BTreeMap<String, Json>,
    /// Auth method path (no slash) → its sys/auth entry.
    auth: BTreeMap<String, Json>,
}

pub async fn export(vault: &Vault, options: &Options) -> Result<Export, VaultError> {
    let mut ex = Exporter {
        vault,
        options,
        placeholders: Vec::new(),
        env_names: BTreeSet::new(),
        skipped: Vec::new(),
        mounts: BTreeMap::new(),
        auth: BTreeMap::new(),
    };
    let mut sections = Vec::new();
    let mut push = |key: &'static str, value: Map<String, Json>| {
        if !value.is_empty() {
            sections.push((key, Json::Object(value)));
        }
    };
    push("mounts", sys::mounts(&mut ex).await?);
    push("auth", auth::methods(&mut ex).await?);
    push("audit", sys::audit(&mut ex).await?);
    push(
        "audit_request_headers",
        sys::audit_request_headers(&mut ex).await?,
    );
    push("policies", sys::policies(&mut ex).await?);
    push("password_policies", sys::password_policies(&mut ex).await?);
    push("databases", data::databases(&mut ex).await?);
    push("pki", pki::mounts(&mut ex).await?);
    push("identity", identity::entities_and_groups(&mut ex).await?);
    push("kv", data::kv(&mut ex).await?);
    Ok(Export {
        sections,
        placeholders: ex.placeholders,
        skipped: ex.skipped,
        addr: vault.addr().to_owned(),
    })
}

impl Exporter<'_> {
    /// Whether an object at `path` is wanted (`--path` prefixes).
    fn wants(&self, path: &str) -> bool {
        self.options.prefixes.is_empty()
            || self
                .options
                .prefixes
                .iter()
                .any(|p| path.starts_with(p.trim_start_matches('/')))
    }

    /// Whether anything under the container `path` (a mount) may be wanted.
    fn wants_under(&self, path: &str) -> bool {
        let path = format!("{}/", path.trim_end_matches('/'));
        self.options.prefixes.is_empty()
            || self.options.prefixes.iter().any(|p| {
                let p = p.trim_start_matches('/');
                p.starts_with(&path) || path.starts_with(p)
            })
    }

    /// Reads `path`; `None` when absent or not readable with this token
    /// (noted, so the export says what it left out).
    async fn read(&mut self, path: &str) -> Result<Option<Json>, VaultError> {
        match self.vault.read(path).await {
            Ok(body) => Ok(body.and_then(|b| b.get("data").cloned())),
            Err(e) if matches!(e.code(), Some(403)) => {
                self.skipped
                    .push(format!("{path}: not readable with this token"));
                Ok(None)
            }
            Err(e) if matches!(e.code(), Some(400 | 405)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn list(&mut self, path: &str) -> Result<Vec<String>, VaultError> {
        match self.vault.list(path).await {
            Ok(keys) => Ok(keys),
            Err(e) if matches!(e.code(), Some(403)) => {
                self.skipped
                    .push(format!("{path}: not listable with this token"));
                Ok(Vec::new())
            }
            Err(e) if matches!(e.code(), Some(400 | 405)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// A `{ env: NAME }` placeholder for the secret `what` (a unique name
    /// made of `parts`).
    fn placeholder(&mut self, section: &'static str, parts: &[&str], what: String) -> Json {
        let base: String = parts
            .join("_")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let base = base.trim_matches('_').to_owned();
        let mut env = base.clone();
        let mut n = 2;
        while !self.env_names.insert(env.clone()) {
            env = format!("{base}_{n}");
            n += 1;
        }
        self.placeholders.push(Placeholder {
            env: env.clone(),
            what,
            section,
        });
        serde_json::json!({ "env": env })
    }

    /// The auth path of a mount accessor (identity aliases name methods by path).
    fn auth_path_of(&self, accessor: &str) -> Option<String> {
        self.auth
            .iter()
            .find(|(_, entry)| entry.get("accessor").and_then(Json::as_str) == Some(accessor))
            .map(|(path, _)| path.clone())
    }

    fn mounts_of_type(&self, kind: &str) -> Vec<String> {
        self.mounts
            .iter()
            .filter(|(_, e)| e.get("type").and_then(Json::as_str) == Some(kind))
            .map(|(p, _)| p.clone())
            .collect()
    }
}
