//! Generating a CA: requests that each need the answer of the one before,
//! so they run as `Steps` after the diff said "create".
//!
//! Root: `<mount>/root/generate/<kind>`. Intermediate: a CSR from
//! `<mount>/intermediate/generate/<kind>`, signed by the signer's default
//! issuer (`<signer>/root/sign-intermediate`, as a PEM bundle so the mount
//! also knows the chain above it), imported with `<mount>/intermediate/set-signed`,
//! then named. With `export_key_to`, the private key from the answer is
//! registered as a secret at once and kept in KV with check-and-set 0.
//! Generation and keeping the key are one step: when a later request fails,
//! every issuer and key of the mount (which held none before) is deleted
//! again, so the next run starts afresh instead of keeping a CA whose
//! exported key was lost.

use futures::future::BoxFuture;
use serde_json::{json, Map, Value as Json};

use super::paths;
use crate::resources::{Context, ObjectError, Steps};
use crate::vault::{Method, VaultError};

/// Where an exported private key is written.
pub struct KeyTarget {
    /// The KV write path (`<mount>/data/<path>` on v2).
    pub path: String,
    pub v2: bool,
}

pub struct Signing {
    pub signer: String,
    /// The fields for `sign-intermediate` (subject, TTL, constraints).
    pub body: Map<String, Json>,
}

pub struct Generation {
    pub mount: String,
    /// The fields for the generate request.
    pub body: Map<String, Json>,
    /// `None` for a root.
    pub signing: Option<Signing>,
    /// An intermediate's issuer name, set once it is imported.
    pub issuer_name: Option<String>,
    pub export: Option<KeyTarget>,
    /// The plan configures `urls` for this mount in the same stage, so
    /// Vault's warning that none are configured yet is stale.
    pub urls_planned: bool,
}

/// Vault's advice when a mount has no AIA URLs yet.
const NO_AIA_WARNING: &str = "This mount hasn't configured any authority information access";

impl Steps for Generation {
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Result<Vec<String>, ObjectError>> {
        Box::pin(async move {
            let mut warnings = Vec::new();
            let kind = paths::kind(self.export.is_some());
            let first = match &self.signing {
                None => paths::root_generate(&self.mount, kind),
                Some(_) => paths::intermediate_generate(&self.mount, kind),
            };
            let generated = post(ctx, &first, &Json::Object(self.body.clone()), &mut warnings)
                .await
                .map_err(ObjectError::Vault)?;
            let data = generated.get("data").cloned().unwrap_or(Json::Null);
            // Before anything else can print it.
            if let Some(key) = data.get("private_key") {
                crate::secret::register_json(key);
            }
            let rest = match &self.signing {
                None => self.keep_key(ctx, &data, &data).await,
                Some(signing) => {
                    self.sign_and_import(ctx, signing, &data, &mut warnings)
                        .await
                }
            };
            match rest {
                Ok(()) => Ok(warnings
                    .into_iter()
                    .filter(|w| !(self.urls_planned && w.starts_with(NO_AIA_WARNING)))
                    .collect()),
                Err(error) => Err(self.roll_back(ctx, error).await),
            }
        })
    }
}

impl Generation {
    async fn sign_and_import(
        &self,
        ctx: &Context,
        signing: &Signing,
        generated: &Json,
        warnings: &mut Vec<String>,
    ) -> Result<(), VaultError> {
        let csr = generated
            .get("csr")
            .cloned()
            .ok_or_else(|| missing(&self.mount, "intermediate/generate", "csr"))?;
        let mut body = signing.body.clone();
        body.insert("csr".into(), csr);
        body.insert("format".into(), json!("pem_bundle"));
        let signed = post(
            ctx,
            &paths::sign_intermediate(&signing.signer),
            &Json::Object(body),
            warnings,
        )
        .await?;
        let certificate = signed
            .pointer("/data/certificate")
            .cloned()
            .ok_or_else(|| missing(&signing.signer, "root/sign-intermediate", "certificate"))?;
        let imported = post(
            ctx,
            &paths::set_signed(&self.mount),
            &json!({ "certificate": certificate }),
            warnings,
        )
        .await?;
        // The imported issuer that has a key is the intermediate; the others
        // are the chain above it.
        let issuer_id = imported
            .pointer("/data/mapping")
            .and_then(Json::as_object)
            .and_then(|m| {
                m.iter()
                    .find(|(_, key)| key.as_str().is_some_and(|k| !k.is_empty()))
            })
            .map(|(id, _)| id.clone())
            .ok_or_else(|| missing(&self.mount, "intermediate/set-signed", "mapping"))?;
        if let Some(name) = &self.issuer_name {
            // A fresh issuer has Vault's default settings: nothing to keep.
            let path = paths::issuer(&self.mount, &issuer_id);
            post(ctx, &path, &json!({ "issuer_name": name }), warnings).await?;
        }
        let mut kept = generated.clone();
        kept["certificate"] = certificate;
        kept["issuer_id"] = json!(issuer_id);
        self.keep_key(ctx, generated, &kept).await
    }

    /// Writes the exported private key (with the certificate) to KV.
    async fn keep_key(
        &self,
        ctx: &Context,
        generated: &Json,
        kept: &Json,
    ) -> Result<(), VaultError> {
        let Some(target) = &self.export else {
            return Ok(());
        };
        let key = generated
            .get("private_key")
            .filter(|k| k.as_str().is_some_and(|k| !k.is_empty()))
            .ok_or_else(|| missing(&self.mount, "generate/exported", "private_key"))?;
        let mut data = Map::new();
        data.insert("private_key".into(), key.clone());
        for field in [
            "private_key_type",
            "certificate",
            "issuer_id",
            "serial_number",
        ] {
            if let Some(value) = kept.get(field).filter(|v| !v.is_null()) {
                data.insert(field.into(), value.clone());
            }
        }
        let body = if target.v2 {
            // Never over a secret that appeared since the diff looked.
            json!({ "options": { "cas": 0 }, "data": data })
        } else {
            Json::Object(data)
        };
        ctx.vault.write(&target.path, &body).await.map(drop)
    }

    /// Deletes what was generated; the error says what happened and what is left.
    async fn roll_back(&self, ctx: &Context, error: VaultError) -> ObjectError {
        let root = paths::root(&self.mount);
        let note = match ctx.vault.request(Method::Delete, &root, None).await {
            Ok(_) => format!(
                "the CA generated in {} was deleted again ({root}), so the next run generates it afresh",
                self.mount
            ),
            Err(e) => format!(
                "deleting the half-made CA again failed too ({e}): delete {root} by hand before the next run"
            ),
        };
        ObjectError::Incomplete { error, note }
    }
}

async fn post(
    ctx: &Context,
    path: &str,
    body: &Json,
    warnings: &mut Vec<String>,
) -> Result<Json, VaultError> {
    let answer = ctx.vault.request(Method::Post, path, Some(body)).await?;
    let said = answer.body.get("warnings").and_then(Json::as_array);
    warnings.extend(
        said.into_iter()
            .flatten()
            .filter_map(|w| w.as_str().map(str::to_owned)),
    );
    Ok(answer.body)
}

/// An answer without the field the next step needs.
fn missing(mount: &str, endpoint: &str, field: &str) -> VaultError {
    VaultError::Status {
        method: "POST",
        path: format!("{mount}/{endpoint}"),
        code: 502,
        message: format!("the answer carries no `{field}`"),
    }
}
