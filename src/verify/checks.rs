//! The checks themselves: each asks Vault one question about the converged
//! server (kv keys present, database creds issued, login works, a policy's
//! capabilities) and cleans up what it created.

use serde_json::{json, Value as Json};

use super::{request_failed, CheckError};
use crate::paths;
use crate::plan::model::{CapabilitiesCheck, DatabaseCredsCheck, KvKeysCheck, LoginCheck};
use crate::resources::context::table_entry;
use crate::resources::mount::kv_version;
use crate::resources::Context;
use crate::secret;
use crate::sources::{source_of, Source};
use crate::vault::{Method, VaultError};

/// Vault's reason for a failed request, worded for a check's message.
fn vault_reason(e: &VaultError) -> String {
    match e {
        VaultError::Status { code, message, .. } => format!("Vault answered {code}: {message}"),
        other => other.to_string(),
    }
}

pub(super) async fn kv_keys(ctx: &Context, c: &KvKeysCheck) -> Result<(), CheckError> {
    let table = ctx.fresh_mount_table().await.map_err(|e| {
        request_failed(
            &e,
            true,
            format!("cannot read sys/mounts: {}", vault_reason(&e)),
        )
    })?;
    let v2 = table_entry(&table, &c.mount)
        .and_then(kv_version)
        .as_deref()
        == Some("2");
    let (path, pointer) = if v2 {
        (paths::kv::data(&c.mount, &c.path), "/data/data")
    } else {
        (format!("{}/{}", c.mount, c.path), "/data")
    };
    let data = ctx
        .vault
        .read(&path)
        .await
        .map_err(|e| {
            request_failed(
                &e,
                true,
                format!("cannot read {path}: {}", vault_reason(&e)),
            )
        })?
        .and_then(|body| body.pointer(pointer).cloned())
        .ok_or_else(|| format!("{path} does not exist (or its latest version is deleted)"))?;
    let missing: Vec<&str> = c
        .keys
        .iter()
        .filter(|k| match data.get(k.as_str()) {
            None | Some(Json::Null) => true,
            Some(Json::String(s)) => s.is_empty(),
            Some(_) => false,
        })
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{path} lacks required keys {} (missing or empty); add them to the fixture",
            missing.join(", ")
        )
        .into())
    }
}

pub(super) async fn database_creds(
    ctx: &Context,
    c: &DatabaseCredsCheck,
) -> Result<(), CheckError> {
    let path = format!("{}/creds/{}", c.mount, c.role);
    let body = match ctx.vault.read(&path).await {
        Ok(body) => body.ok_or_else(|| format!("{path}: role not found"))?,
        Err(e) => {
            let connection = connection_of(ctx, c).await;
            return Err(request_failed(&e, true, format!(
                "Vault cannot issue credentials from {connection}, so it cannot log in to the database with \
                 the password it holds ({}); if the password changed at its source, set `sync: always` on \
                 that connection",
                vault_reason(&e)
            )));
        }
    };
    if let Some(data) = body.get("data") {
        secret::register_json(data);
    }
    // Revoke at once: the check must not leave live database users behind.
    if let Some(lease_id) = body
        .get("lease_id")
        .and_then(Json::as_str)
        .filter(|l| !l.is_empty())
    {
        ctx.vault
            .write("sys/leases/revoke", &json!({ "lease_id": lease_id }))
            .await
            .map_err(|e| {
                let message = format!(
                    "creds were issued but revoking lease failed: {}",
                    vault_reason(&e)
                );
                request_failed(&e, true, message)
            })?;
    }
    Ok(())
}

/// `connection <mount>/config/<db_name>` of the role, for failure messages.
async fn connection_of(ctx: &Context, c: &DatabaseCredsCheck) -> String {
    let role = ctx
        .vault
        .read(&format!("{}/roles/{}", c.mount, c.role))
        .await
        .ok()
        .flatten();
    match role
        .as_ref()
        .and_then(|r| r.pointer("/data/db_name"))
        .and_then(Json::as_str)
    {
        Some(db) => format!("connection {}/config/{db}", c.mount),
        None => format!("the connection of role {}", c.role),
    }
}

async fn value(ctx: &Context, field: &str, value: &Option<Json>) -> Result<String, String> {
    let value = value
        .as_ref()
        .ok_or_else(|| format!("the check needs `{field}`"))?;
    let resolved = match source_of(value).map_err(|m| format!("{field}: {m}"))? {
        Some(Source::Generate(_)) => return Err(format!("{field}: generate is not allowed here")),
        Some(source) => ctx
            .resolver
            .fetch(&source)
            .await
            .map_err(|e| format!("{field}: {e}"))?
            .expose()
            .to_owned(),
        None => value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string()),
    };
    secret::register(&resolved);
    Ok(resolved)
}

pub(super) async fn login(ctx: &Context, c: &LoginCheck) -> Result<(), CheckError> {
    let (path, body) = if c.jwt.is_some() {
        let role = c
            .role
            .clone()
            .ok_or("a jwt/kubernetes login check needs `role`")?;
        let jwt = value(ctx, "jwt", &c.jwt).await?;
        (
            format!("auth/{}/login", c.auth),
            json!({ "role": role, "jwt": jwt }),
        )
    } else if c.role_id.is_some() {
        let role_id = value(ctx, "role_id", &c.role_id).await?;
        let secret_id = value(ctx, "secret_id", &c.secret_id).await?;
        (
            format!("auth/{}/login", c.auth),
            json!({ "role_id": role_id, "secret_id": secret_id }),
        )
    } else if let Some(username) = &c.username {
        let password = value(ctx, "password", &c.password).await?;
        (
            format!("auth/{}/login/{username}", c.auth),
            json!({ "password": password }),
        )
    } else {
        return Err("a login check needs `jwt` (kubernetes/jwt), `role_id` + `secret_id` (approle) or `username` + `password` (userpass)".into());
    };
    let answer = ctx
        .vault
        .request(Method::Post, &path, Some(&body))
        .await
        // A refused login is the answer the check asks for, not an outage.
        .map_err(|e| {
            request_failed(
                &e,
                false,
                format!("login at {path} failed: {}", vault_reason(&e)),
            )
        })?;
    revoke_login(ctx, &answer.body).await
}

/// The check's own token must not outlive it.
async fn revoke_login(ctx: &Context, body: &Json) -> Result<(), CheckError> {
    if let Some(token) = body.pointer("/auth/client_token").and_then(Json::as_str) {
        secret::register(token);
    }
    match body.pointer("/auth/accessor").and_then(Json::as_str) {
        Some(accessor) => ctx
            .vault
            .write(
                "auth/token/revoke-accessor",
                &json!({ "accessor": accessor }),
            )
            .await
            .map(|_| ())
            .map_err(|e| {
                let message = format!(
                    "login worked but revoking its token failed: {}",
                    vault_reason(&e)
                );
                request_failed(&e, true, message)
            }),
        None => Err("login answered without a token".into()),
    }
}

pub(super) async fn capabilities(ctx: &Context, c: &CapabilitiesCheck) -> Result<(), CheckError> {
    let created = ctx
        .vault
        .write(
            "auth/token/create",
            &json!({
                "policies": [c.policy],
                "no_default_policy": true,
                "ttl": "60s",
                "renewable": false,
                "display_name": "vault-converge-verify",
            }),
        )
        .await
        .map_err(|e| {
            let message = format!(
                "cannot create a token with policy {}: {}",
                c.policy,
                vault_reason(&e)
            );
            request_failed(&e, true, message)
        })?;
    let token = created
        .pointer("/auth/client_token")
        .and_then(Json::as_str)
        .ok_or("token creation answered without a token")?
        .to_owned();
    secret::register(&token);
    let answer = ctx
        .vault
        .write(
            "sys/capabilities",
            &json!({ "token": token, "paths": [c.path] }),
        )
        .await;
    let revoked = revoke_login(ctx, &created).await;
    let answer = answer.map_err(|e| {
        request_failed(
            &e,
            true,
            format!("sys/capabilities failed: {}", vault_reason(&e)),
        )
    })?;
    revoked?;
    let caps: Vec<String> = answer
        .pointer("/data/capabilities")
        .or_else(|| answer.get("capabilities"))
        .or_else(|| answer.get(c.path.as_str()))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    if caps.iter().any(|c| c == "root") {
        return Ok(());
    }
    let missing: Vec<&str> = c
        .expect
        .iter()
        .filter(|e| !caps.contains(e))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "policy {} grants [{}] on {}, missing [{}]; fix the policy",
            c.policy,
            caps.join(", "),
            c.path,
            missing.join(", ")
        )
        .into())
    }
}
