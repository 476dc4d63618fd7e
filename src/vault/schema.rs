//! Which fields a write may carry, from the server's own OpenAPI description,
//! so that `plan` can refuse a typo (`token_tll`) before anything is written:
//! Vault drops unknown fields silently when a write answers 204.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::path_trie::PathTrie;
use super::schema_doc::{Body, Doc};
use super::{Method, Vault, VaultError};

/// Longer paths are not matched: bounds the search on any input.
const MAX_SEGMENTS: usize = 64;

struct Op {
    pattern: String,
    params: Vec<String>,
    body: Body,
}

/// The parsed API description: path patterns → accepted POST fields.
pub struct ApiSchema {
    root: PathTrie,
    ops: Vec<Op>,
    /// Why nothing can be checked (description unavailable).
    unavailable: Option<String>,
    /// Mount path → type, as given by [`ApiSchema::with_mounts`].
    mounts: BTreeMap<String, String>,
    /// Mount type → a mount of that type that the description covers.
    donors: HashMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldCheck {
    Known,
    Unknown(Vec<String>),
    /// Cannot tell; the reason is for a debug log.
    Unchecked(String),
}

impl ApiSchema {
    /// Where the server describes its API.
    pub const PATH: &'static str = "sys/internal/specs/openapi";

    /// Reads [`ApiSchema::PATH`] (once per run). A 403 or 404 gives a
    /// schema that answers `Unchecked` everywhere, with one warning logged.
    pub async fn fetch(vault: &Vault) -> Result<ApiSchema, VaultError> {
        let started = Instant::now();
        // Uncounted: infrastructure, not a read of a planned object.
        let read = vault
            .request_raw_uncounted(Method::Get, Self::PATH, None, ApiSchema::parse)
            .await;
        let schema = ApiSchema::settle(read)?;
        tracing::debug!(
            patterns = schema.ops.len(),
            ms = started.elapsed().as_millis() as u64,
            "API description read"
        );
        Ok(schema)
    }

    /// The outcome of reading the description (here or on another thread,
    /// see `schema_prefetch`), with its warnings logged.
    pub fn settle(read: Result<ApiSchema, VaultError>) -> Result<ApiSchema, VaultError> {
        let schema = match read {
            Ok(schema) => schema,
            Err(e) if matches!(e.code(), Some(403 | 404)) => {
                tracing::warn!(error = %e, "cannot read the server's API description: unknown plan fields will not be detected before writing");
                return Ok(ApiSchema::unavailable(format!(
                    "{} unavailable: {e}",
                    Self::PATH
                )));
            }
            Err(e) => return Err(e),
        };
        if schema.ops.is_empty() {
            // Answered 200 but filtered to nothing the token may see.
            // Or (never seen) a description of another shape than OpenAPI 3.
            tracing::warn!("the server's API description lists no paths this token may see (or none in a shape this tool reads): unknown plan fields will not be detected before writing");
        }
        Ok(schema)
    }

    /// A description that checks nothing, for `reason`.
    pub fn unavailable(reason: String) -> ApiSchema {
        let mut schema = ApiSchema::from_parts(Doc::default());
        schema.unavailable = Some(reason);
        schema
    }

    /// The description from the bytes of [`ApiSchema::PATH`]'s answer.
    pub fn parse(raw: Vec<u8>) -> Result<ApiSchema, VaultError> {
        ApiSchema::from_bytes(&raw).map_err(|e| VaultError::unreadable(Method::Get, Self::PATH, &e))
    }

    /// The description from the answer's bytes. Not JSON is an error, as for
    /// any answer; JSON of another shape describes nothing (checks nothing).
    pub fn from_bytes(raw: &[u8]) -> Result<ApiSchema, serde_json::Error> {
        if raw.is_empty() {
            return Ok(ApiSchema::from_parts(Doc::default()));
        }
        match serde_json::from_slice::<Doc>(raw) {
            Ok(doc) => Ok(ApiSchema::from_parts(doc)),
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                Ok(ApiSchema::from_parts(Doc::default()))
            }
            Err(e) => Err(e),
        }
    }

    /// The description from its JSON (JSON of another shape describes
    /// nothing): the tests write descriptions as JSON.
    #[cfg(test)]
    pub(crate) fn from_doc(doc: &serde_json::Value) -> ApiSchema {
        use serde::Deserialize;
        ApiSchema::from_parts(Doc::deserialize(doc).unwrap_or_default())
    }

    fn from_parts(doc: Doc) -> ApiSchema {
        let mut schema = ApiSchema {
            root: PathTrie::default(),
            ops: Vec::new(),
            unavailable: None,
            mounts: BTreeMap::new(),
            donors: HashMap::new(),
        };
        schema.add(doc, "");
        schema
    }

    /// Adds the patterns of `doc`, whose paths are relative to `mount`
    /// ("" for the whole server's description).
    pub(super) fn add(&mut self, doc: Doc, mount: &str) {
        let mount = mount.trim_matches('/');
        let schemas = &doc.components.schemas;
        for (key, item) in &doc.paths {
            let segs: Vec<&str> = (mount.split('/').chain(key.split('/')))
                .filter(|s| !s.is_empty())
                .collect();
            // KV v2 lists a regex key (`/secret/^.*$`): not a pattern.
            if segs.is_empty() || segs.iter().any(|s| s.contains(['^', '$', '*', '(', '?'])) {
                continue;
            }
            let params = self.root.insert(&segs, self.ops.len());
            let body = item.body(schemas);
            self.ops.push(Op {
                pattern: if mount.is_empty() {
                    key.clone()
                } else {
                    format!("/{mount}{key}")
                },
                params,
                body,
            });
        }
    }

    /// Whether the description was read (see [`ApiSchema::unavailable`]).
    pub fn is_available(&self) -> bool {
        self.unavailable.is_none()
    }

    /// Whether the description has patterns under `mount`.
    pub fn covers(&self, mount: &str) -> bool {
        self.is_available() && self.root.covers(mount.trim_matches('/'))
    }

    /// Mount path ("auth/kubernetes", "secret") → type, see
    /// [`mount_types`](super::schema_mounts::mount_types);
    /// needed by [`ApiSchema::check_like`].
    pub fn with_mounts(mut self, mount_types: HashMap<String, String>) -> ApiSchema {
        self.set_mounts(mount_types);
        self
    }

    /// As [`ApiSchema::with_mounts`], in place.
    pub fn set_mounts(&mut self, mount_types: HashMap<String, String>) {
        self.mounts = mount_types
            .into_iter()
            .map(|(m, t)| (m.trim_matches('/').to_owned(), t))
            .collect();
        self.donors.clear();
        for (mount, kind) in &self.mounts {
            // Only a mount whose patterns the token may see can lend them.
            if !self.donors.contains_key(kind) && self.root.covers(mount) {
                self.donors.insert(kind.clone(), mount.clone());
            }
        }
    }

    /// Whether `mount` ("auth/kubernetes", "app") was in the mount tables.
    pub fn has_mount(&self, mount: &str) -> bool {
        self.mounts.contains_key(mount.trim_matches('/'))
    }

    /// Which of `fields` the write at `path` (e.g. "auth/kubernetes/role/api") ignores.
    pub fn check(&self, path: &str, fields: &[&str]) -> FieldCheck {
        if let Some(reason) = &self.unavailable {
            return FieldCheck::Unchecked(reason.clone());
        }
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segs.is_empty() || segs.len() > MAX_SEGMENTS {
            return FieldCheck::Unchecked(format!("{path}: not a checkable path"));
        }
        let Some(op) = self.root.best_match(&segs).and_then(|id| self.ops.get(id)) else {
            return FieldCheck::Unchecked(format!("{path}: no pattern in the API description"));
        };
        let accepted = match &op.body {
            Body::Fields(accepted) => accepted,
            Body::Arbitrary(why) => return FieldCheck::Unchecked(format!("{}: {why}", op.pattern)),
            Body::NoWrite => {
                return FieldCheck::Unchecked(format!("{}: no write body described", op.pattern))
            }
        };
        let unknown: Vec<String> = fields
            .iter()
            .filter(|f| !accepted.contains(**f) && !op.params.iter().any(|p| p == *f))
            .map(|f| (*f).to_owned())
            .collect();
        if unknown.is_empty() {
            FieldCheck::Known
        } else {
            FieldCheck::Unknown(unknown)
        }
    }

    /// As [`ApiSchema::check`], for `path` under `mount` (of `mount_type`) that
    /// does not exist yet: checked against another mount of the same type.
    pub fn check_like(
        &self,
        path: &str,
        mount: &str,
        mount_type: &str,
        fields: &[&str],
    ) -> FieldCheck {
        if let Some(reason) = &self.unavailable {
            return FieldCheck::Unchecked(reason.clone());
        }
        let (path, mount) = (path.trim_matches('/'), mount.trim_matches('/'));
        let rest = match path.strip_prefix(mount) {
            Some(rest) if !mount.is_empty() && (rest.is_empty() || rest.starts_with('/')) => rest,
            _ => return FieldCheck::Unchecked(format!("{path} is not under mount {mount}")),
        };
        match self.donors.get(mount_type) {
            Some(donor) => self.check(&format!("{donor}{rest}"), fields),
            None => FieldCheck::Unchecked(format!(
                "no visible mount of type {mount_type} to check {path} against"
            )),
        }
    }
}

/// Parses Vault's warning "Endpoint ignored these unrecognized parameters: [a b]"
/// into `["a", "b"]`; `None` for any other warning.
pub fn ignored_parameters(warning: &str) -> Option<Vec<String>> {
    const PREFIX: &str = "Endpoint ignored these unrecognized parameters: [";
    let rest = &warning[warning.find(PREFIX)? + PREFIX.len()..];
    let list = &rest[..rest.rfind(']')?];
    let names: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
