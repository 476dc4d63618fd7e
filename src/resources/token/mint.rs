//! Minting a managed token (DESIGN.md "Tokens"): create it with the job's
//! authority, record its accessor, check it with lookup-self, store it only
//! if the store is as it was read, then revoke the entry's earlier tokens
//! by accessor. Whatever fails after the mint revokes the new token again,
//! so a failed run leaves the stored token as it was and no stray token.

use futures::future::BoxFuture;
use serde_json::{json, Map, Value as Json};

use crate::plan::model::ManagedToken;
use crate::registry::Edit;
use crate::resources::{Context, ObjectError, Steps};
use crate::secret::{scrub, Secret};
use crate::token_store::{self, Loaded};
use crate::vault::VaultError;

pub(super) struct Mint {
    pub entry: String,
    pub spec: ManagedToken,
    /// The store as the diff read it: written only if it is still so.
    pub loaded: Loaded,
}

impl Steps for Mint {
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Result<Vec<String>, ObjectError>> {
        Box::pin(async move {
            let (token, accessor) = self.create(ctx).await?;
            if let Err(e) = self.keep(ctx, &token, &accessor).await {
                revoke_new(ctx, &self.entry, &accessor).await;
                return Err(e);
            }
            Ok(self.revoke_earlier(ctx, &accessor).await)
        })
    }
}

impl Mint {
    /// `auth/token/create-orphan` (or `create`, or `create/<role>`).
    fn create_path(&self) -> String {
        match (&self.spec.role, self.spec.orphan) {
            (Some(role), _) => format!("auth/token/create/{role}"),
            (None, true) => "auth/token/create-orphan".into(),
            (None, false) => "auth/token/create".into(),
        }
    }

    fn create_body(&self) -> Json {
        let mut body = Map::new();
        body.insert("policies".into(), json!(self.spec.policies));
        body.insert(
            "display_name".into(),
            json!(self.spec.display_name.as_deref().unwrap_or(&self.entry)),
        );
        // With a role, the role's token_period / token_ttl decide (sending
        // a period ourselves would need sudo); `check` compares the result.
        if self.spec.role.is_none() {
            if let Some(period) = &self.spec.period {
                body.insert("period".into(), json!(period));
            }
            if let Some(ttl) = &self.spec.ttl {
                body.insert("ttl".into(), json!(ttl));
            }
        }
        if let Some(renewable) = self.spec.renewable {
            body.insert("renewable".into(), json!(renewable));
        }
        if let Some(uses) = self.spec.num_uses {
            body.insert("num_uses".into(), json!(uses));
        }
        Json::Object(body)
    }

    async fn create(&self, ctx: &Context) -> Result<(Secret, String), ObjectError> {
        let path = self.create_path();
        let answer = ctx
            .vault
            .write(&path, &self.create_body())
            .await
            .map_err(|e| self.not_allowed(&path, e))?;
        let token = answer.pointer("/auth/client_token").and_then(Json::as_str);
        let accessor = answer.pointer("/auth/accessor").and_then(Json::as_str);
        match (token, accessor) {
            (Some(token), Some(accessor)) => Ok((Secret::new(token), accessor.to_owned())),
            _ => Err(ObjectError::Token(format!(
                "{path} answered without a token; nothing was stored"
            ))),
        }
    }

    /// The job's token may not mint this token: say which capability is missing.
    fn not_allowed(&self, path: &str, error: VaultError) -> ObjectError {
        let message = scrub(&error.to_string());
        match error.code() {
            Some(403) => ObjectError::Token(format!(
                "the job's token may not create tokens ({message}): grant `update` on {path} in its policy (`vault-converge policy` prints it)"
            )),
            _ if message.contains("sudo privileges") => ObjectError::Token(format!(
                "the job's token may not create periodic tokens ({message}): grant `sudo` (with `update`) on {path} in its policy (`vault-converge policy` prints it), or mint through a token role (`role:`) whose token_period sets the period"
            )),
            _ if message.contains("subset") => ObjectError::Token(format!(
                "the job's token may not create tokens with policies [{}] ({message}): a token can only mint tokens with policies it holds itself — give the job's token those policies, or use a token role (`role:`) that allows them",
                self.spec.policies.join(", ")
            )),
            _ => ObjectError::Vault(error),
        }
    }

    /// Records the accessor, checks the token, and stores it.
    async fn keep(&self, ctx: &Context, token: &Secret, accessor: &str) -> Result<(), ObjectError> {
        let minted = Edit::TokenMinted(self.entry.clone(), accessor.to_owned());
        ctx.registry
            .save(&ctx.vault, vec![minted])
            .await
            .map_err(|e| {
                ObjectError::Token(format!(
                    "cannot record the new token's accessor in {} ({}); it was revoked again so no unrecorded token is left behind",
                    ctx.registry.location(),
                    scrub(&e.to_string())
                ))
            })?;
        self.check(ctx, token).await?;
        token_store::save(ctx.resolver.kube(), &self.spec.store, &self.loaded, token).await?;
        Ok(())
    }

    /// lookup-self with the new token: the planned display name and policies.
    async fn check(&self, ctx: &Context, token: &Secret) -> Result<(), ObjectError> {
        let own = ctx.vault.with_token(token.clone())?;
        let answer = own.read("auth/token/lookup-self").await?;
        let data = answer.as_ref().and_then(|a| a.get("data"));
        let name = data
            .and_then(|d| d.get("display_name"))
            .and_then(Json::as_str)
            .unwrap_or_default();
        let policies = data.map(super::lookup::policies_of).unwrap_or_default();
        let planned = self.spec.policy_set();
        let expected_name = self.spec.display_name_of(&self.entry);
        let number = |field: &str| {
            data.and_then(|d| d.get(field))
                .and_then(Json::as_u64)
                .unwrap_or(0)
        };
        // A token role's token_period shows as the creation TTL only.
        let period = match (number("period"), &self.spec.role) {
            (0, Some(_)) => number("creation_ttl"),
            (period, _) => period,
        };
        if let Some(planned_period) = self.spec.period_secs().filter(|p| *p != period) {
            return Err(ObjectError::Invalid(format!(
                "the new token's period is {period}s, the plan says {planned_period}s{}; it was revoked again",
                match &self.spec.role {
                    Some(role) => format!(" (token role `{role}` decides it: set its token_period to match)"),
                    None => String::new(),
                }
            )));
        }
        if name != expected_name || policies != planned {
            return Err(ObjectError::Token(format!(
                "the new token is not what was asked for (display name {name}, policies [{}]; planned {expected_name}, [{}]); it was revoked again",
                policies.into_iter().collect::<Vec<_>>().join(", "),
                planned.into_iter().collect::<Vec<_>>().join(", "),
            )));
        }
        Ok(())
    }

    /// Revokes the entry's earlier tokens (only accessors the registry says
    /// this tool minted for this entry; never the new one). Failures are
    /// warnings: the next run tries again.
    async fn revoke_earlier(&self, ctx: &Context, new: &str) -> Vec<String> {
        let mut warnings = Vec::new();
        let earlier = match ctx.registry.tokens(&ctx.vault).await {
            Ok(mut tokens) => tokens.remove(&self.entry).unwrap_or_default(),
            Err(e) => {
                warnings.push(format!(
                    "earlier tokens of this entry were not revoked: the registry is unreadable ({})",
                    scrub(&e.to_string())
                ));
                return warnings;
            }
        };
        let mut gone = Vec::new();
        for accessor in earlier.iter().filter(|a| a.as_str() != new) {
            match revoke(ctx, accessor).await {
                Ok(()) => gone.push(Edit::TokenGone(self.entry.clone(), accessor.clone())),
                Err(e) => warnings.push(format!(
                    "an earlier token of this entry could not be revoked ({}); the next run tries again",
                    scrub(&e.to_string())
                )),
            }
        }
        if let Err(e) = ctx.registry.save(&ctx.vault, gone).await {
            warnings.push(format!(
                "revoked earlier tokens stay recorded ({}); the next run forgets them",
                scrub(&e.to_string())
            ));
        }
        warnings
    }
}

/// Revokes by accessor; one already gone counts as revoked.
async fn revoke(ctx: &Context, accessor: &str) -> Result<(), VaultError> {
    match ctx
        .vault
        .write(
            "auth/token/revoke-accessor",
            &json!({ "accessor": accessor }),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("invalid accessor") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Undoes a mint whose token could not be kept.
async fn revoke_new(ctx: &Context, entry: &str, accessor: &str) {
    match revoke(ctx, accessor).await {
        Ok(()) => {
            let gone = Edit::TokenGone(entry.to_owned(), accessor.to_owned());
            if let Err(e) = ctx.registry.save(&ctx.vault, vec![gone]).await {
                tracing::debug!(error = %scrub(&e.to_string()), "the revoked token stays recorded");
            }
        }
        Err(e) => tracing::warn!(
            token = entry,
            error = %scrub(&e.to_string()),
            "the token just minted could not be revoked again; the next successful run revokes it"
        ),
    }
}
