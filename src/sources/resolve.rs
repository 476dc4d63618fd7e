//! Turns planned values that may hold sources into the values Vault receives.

use std::io::Read;
use std::path::Path;

use serde_json::Value as Json;

use super::kubernetes::{KubeError, KubeSecrets};
use super::{source_of, Source, DEFAULT_MAX_FILE_BYTES};
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("environment variable {0} is not set")]
    Env(String),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
    /// Checked at load too; the file may have changed since.
    #[error("file {path} {problem}")]
    Unusable { path: String, problem: String },
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error("`generate` is only allowed in kv fixture data")]
    GenerateOutsideKv,
    #[error("{0}")]
    Malformed(String),
}

/// A planned value with its sources resolved, and whether it must never be
/// shown (any part of it came from a source).
#[derive(Clone)]
pub struct Planned {
    pub value: Json,
    pub sensitive: bool,
}

pub struct Resolver {
    kube: KubeSecrets,
    max_file_bytes: u64,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::with_max_file_bytes(DEFAULT_MAX_FILE_BYTES)
    }
}

impl Resolver {
    /// `max_file_bytes`: the largest `file:` source (VAULT_CONVERGE_MAX_SOURCE_BYTES).
    pub fn with_max_file_bytes(max_file_bytes: u64) -> Resolver {
        Resolver {
            kube: KubeSecrets::default(),
            max_file_bytes,
        }
    }

    /// The Kubernetes client shared with `secretKeyRef` reads.
    pub fn kube(&self) -> &KubeSecrets {
        &self.kube
    }

    /// A `file:` source's text (a policy file too), within the size limit.
    pub fn read_file(&self, path: &str) -> Result<String, SourceError> {
        read_source_file(Path::new(path), self.max_file_bytes)
    }

    /// Resolves every source inside `value`; the result is sensitive when
    /// any part came from a source.
    pub async fn resolve(&self, value: &Json) -> Result<Planned, SourceError> {
        // Sources are maps: a value without one is taken as it is, without
        // the boxed walk (most fields of a large plan are plain strings and lists).
        if !holds_map(value) {
            return Ok(Planned {
                value: value.clone(),
                sensitive: false,
            });
        }
        let mut sensitive = false;
        let value = self.resolve_inner(value, &mut sensitive).await?;
        Ok(Planned { value, sensitive })
    }

    /// One value source → its secret value (`generate` is the caller's job).
    pub async fn fetch(&self, source: &Source) -> Result<Secret, SourceError> {
        match source {
            Source::Env(name) => std::env::var(name)
                .map(Secret::new)
                .map_err(|_| SourceError::Env(name.clone())),
            Source::File(path) => self.read_file(path).map(|mut text| {
                // Trimmed in place: a file source may be large.
                let kept = text.trim_end_matches(['\n', '\r']).len();
                text.truncate(kept);
                Secret::new(text)
            }),
            Source::SecretKeyRef(reference) => Ok(self.kube.get(reference).await?),
            Source::Generate(_) => Err(SourceError::GenerateOutsideKv),
        }
    }

    fn resolve_inner<'a>(
        &'a self,
        value: &'a Json,
        sensitive: &'a mut bool,
    ) -> futures::future::BoxFuture<'a, Result<Json, SourceError>> {
        Box::pin(async move {
            if let Some(source) = source_of(value).map_err(SourceError::Malformed)? {
                *sensitive = true;
                let secret = self.fetch(&source).await?;
                return Ok(Json::String(secret.into_exposed()));
            }
            Ok(match value {
                Json::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.resolve_inner(item, sensitive).await?);
                    }
                    Json::Array(out)
                }
                Json::Object(map) => {
                    let mut out = serde_json::Map::new();
                    for (k, v) in map {
                        out.insert(k.clone(), self.resolve_inner(v, sensitive).await?);
                    }
                    Json::Object(out)
                }
                other => other.clone(),
            })
        })
    }
}

/// Whether `value` is or holds a map (only a map can be a source).
fn holds_map(value: &Json) -> bool {
    match value {
        Json::Object(_) => true,
        Json::Array(items) => items.iter().any(holds_map),
        _ => false,
    }
}

/// Why a file cannot be a `file:` source, from its metadata: a directory, or
/// more than `max_bytes` (a source is a credential or a policy, never bulk data).
pub fn file_problem(meta: &std::fs::Metadata, max_bytes: u64) -> Option<String> {
    if meta.is_dir() {
        return Some("is a directory; `file:` needs a file".into());
    }
    (meta.len() > max_bytes).then(|| too_large(meta.len().to_string(), max_bytes))
}

fn too_large(size: String, max_bytes: u64) -> String {
    format!(
        "is {size} bytes, over the {max_bytes}-byte limit for file sources; \
         use a smaller file or raise VAULT_CONVERGE_MAX_SOURCE_BYTES"
    )
}

/// Reads at most `max_bytes + 1` bytes, so a file that grew since load (or
/// a device like /dev/zero) cannot exhaust memory.
pub fn read_source_file(path: &Path, max_bytes: u64) -> Result<String, SourceError> {
    let shown = || path.display().to_string();
    let io_error = |e: std::io::Error| SourceError::File {
        path: shown(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if let Some(problem) = file_problem(&meta, max_bytes) {
        return Err(SourceError::Unusable {
            path: shown(),
            problem,
        });
    }
    // Sized up front: growing by doubling would touch up to twice the file.
    let mut bytes = Vec::with_capacity(meta.len().min(max_bytes) as usize + 1);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(SourceError::Unusable {
            path: shown(),
            problem: too_large(format!("more than {max_bytes}"), max_bytes),
        });
    }
    String::from_utf8(bytes).map_err(|_| SourceError::File {
        path: shown(),
        reason: "it is not UTF-8 text".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_sources_are_bounded_and_never_directories() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, "pw\n").unwrap();
        assert_eq!(read_source_file(&small, 3).unwrap(), "pw\n");
        let err = read_source_file(&small, 2).unwrap_err().to_string();
        assert!(err.contains("is 3 bytes, over the 2-byte limit"), "{err}");
        let err = read_source_file(dir.path(), 10).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        // A device reports no size: the read itself stops at the limit.
        let err = read_source_file(Path::new("/dev/zero"), 16)
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 16 bytes"), "{err}");
    }

    #[tokio::test]
    async fn the_resolver_applies_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw").display().to_string();
        std::fs::write(&path, "0123456789\n").unwrap();
        let source = Source::File(path);
        let small = Resolver::with_max_file_bytes(4);
        assert!(matches!(
            small.fetch(&source).await,
            Err(SourceError::Unusable { .. })
        ));
        let secret = Resolver::default().fetch(&source).await.unwrap();
        assert_eq!(secret.expose(), "0123456789");
    }
}
