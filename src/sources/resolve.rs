//! Turns planned values that may hold sources into the values Vault receives.

use serde_json::Value as Json;

use super::kubernetes::{KubeError, KubeSecrets};
use super::{source_of, Source};
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("environment variable {0} is not set")]
    Env(String),
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
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

#[derive(Default)]
pub struct Resolver {
    kube: KubeSecrets,
}

impl Resolver {
    /// Resolves every source inside `value`; the result is sensitive when
    /// any part came from a source.
    pub async fn resolve(&self, value: &Json) -> Result<Planned, SourceError> {
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
            Source::File(path) => std::fs::read_to_string(path)
                .map(|text| Secret::new(text.trim_end_matches(['\n', '\r'])))
                .map_err(|e| SourceError::File {
                    path: path.clone(),
                    reason: e.to_string(),
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
                return Ok(Json::String(secret.expose().to_owned()));
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
