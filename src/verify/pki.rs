//! The `pki_issue` check: a short-lived certificate is issued and its chain
//! is checked, signature by signature, up to the planned root (the CA of the
//! mount at the top of the plan's `signed_by` chain, read from Vault).
//!
//! The certificate is left to expire rather than revoked: revoking would
//! add an entry to the mount's CRL on every run, and its private key is
//! registered as a secret and dropped, so nothing can use it meanwhile.

use serde_json::{json, Value as Json};

use super::{request_failed, CheckError};
use crate::plan::model::{planned_root, PkiIssueCheck, Plan};
use crate::resources::pki::{cert, paths};
use crate::resources::Context;
use crate::secret;
use crate::vault::VaultError;

/// Long enough for a slow server, short enough not to matter.
const TTL: &str = "2m";

fn reason(e: &VaultError) -> String {
    match e {
        VaultError::Status { code, message, .. } => format!("Vault answered {code}: {message}"),
        other => other.to_string(),
    }
}

pub(super) async fn pki_issue(
    ctx: &Context,
    plan: &Plan,
    c: &PkiIssueCheck,
) -> Result<(), CheckError> {
    let mount = c.mount.trim_matches('/');
    let path = paths::issue(mount, &c.role);
    let body = json!({ "common_name": c.common_name, "ttl": TTL });
    let answer = ctx.vault.write(&path, &body).await.map_err(|e| {
        let message = format!(
            "{path} did not issue a certificate for `{}`: {}",
            c.common_name,
            reason(&e)
        );
        request_failed(&e, true, message)
    })?;
    let data = answer.get("data").cloned().unwrap_or(Json::Null);
    if let Some(key) = data.get("private_key") {
        secret::register_json(key);
    }
    let text = |field: &str| data.get(field).and_then(Json::as_str).unwrap_or_default();
    let leaf = cert::one_der(text("certificate"))
        .map_err(|e| format!("{path} answered without a usable certificate: {e}"))?;
    let mut chain = Vec::new();
    let listed = data.get("ca_chain").and_then(Json::as_array);
    for pem in listed.into_iter().flatten().filter_map(Json::as_str) {
        chain.extend(cert::ders(pem).map_err(|e| format!("{path}: ca_chain: {e}"))?);
    }
    chain.extend(cert::ders(text("issuing_ca")).unwrap_or_default());
    let root = planned_root(&plan.pki, mount).map(|m| m.trim_matches('/').to_owned());
    let anchor = match &root {
        Some(root) => Some(root_certificate(ctx, root).await?),
        None => None,
    };
    let subjects = cert::verify_chain(&leaf, &chain, anchor.as_deref()).map_err(|e| {
        let against = root
            .as_ref()
            .map(|r| format!(" (planned root: the CA of {r})"))
            .unwrap_or_default();
        format!(
            "the certificate {path} issued for `{}` does not verify{against}: {e}",
            c.common_name
        )
    })?;
    let issued = cert::parse(&leaf).map_err(|e| format!("{path}: {e}"))?;
    let names: Vec<&str> = issued
        .subject()
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .collect();
    if !names.contains(&c.common_name.as_str()) {
        return Err(format!(
            "{path} issued a certificate for `{}`, not for the requested `{}`",
            subjects.first().map(String::as_str).unwrap_or_default(),
            c.common_name
        )
        .into());
    }
    tracing::debug!(path = %path, chain = ?subjects, "certificate chain verified");
    Ok(())
}

/// The root CA certificate of the planned root mount.
async fn root_certificate(ctx: &Context, mount: &str) -> Result<Vec<u8>, CheckError> {
    let path = paths::cert_ca(mount);
    let body = ctx.vault.read(&path).await.map_err(|e| {
        let message = format!("cannot read the planned root CA at {path}: {}", reason(&e));
        request_failed(&e, true, message)
    })?;
    let pem = body
        .as_ref()
        .and_then(|b| b.pointer("/data/certificate"))
        .and_then(Json::as_str)
        .unwrap_or_default();
    cert::one_der(pem).map_err(|e| format!("{path} holds no usable root certificate: {e}").into())
}
