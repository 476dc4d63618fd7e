//! The drift guard (`vault.expect_token`): refuse to write with a token that
//! is not the one the plan expects.

use serde_json::Value as Json;

use super::RunError;
use crate::plan;
use crate::vault::{Method, Vault, VaultError};

/// The drift guard: the token must be the one the plan names, before any
/// write. `lookup` is the token's `lookup-self` answer, read once per run.
pub async fn check_token(
    vault: &Vault,
    lookup: Option<&Json>,
    expected: &plan::ExpectToken,
) -> Result<(), RunError> {
    let body = match lookup {
        Some(body) => body.clone(),
        // The token may not look itself up: this read says so (a 403).
        None => vault
            .read("auth/token/lookup-self")
            .await?
            .unwrap_or(Json::Null),
    };
    let data = body.get("data").cloned().unwrap_or(Json::Null);
    let mut problems = Vec::new();
    if let Some(want) = &expected.display_name {
        let have = data
            .get("display_name")
            .and_then(Json::as_str)
            .unwrap_or("");
        if have != want {
            problems.push(format!("display name is `{have}`, expected `{want}`"));
        }
    }
    if !expected.policies.is_empty() {
        let mut have: Vec<String> = data
            .get("policies")
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .unwrap_or_default();
        have.retain(|p| p != "default");
        have.sort();
        let mut want = expected.policies.clone();
        want.retain(|p| p != "default");
        want.sort();
        if have != want {
            problems.push(format!(
                "policies are [{}], expected [{}]",
                have.join(", "),
                want.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RunError::TokenDrift(problems.join("; ")))
    }
}

/// Before anything else: a token the server does not know is a settings
/// error (exit 2), not a missing capability on every object. OpenBao answers
/// a bare "permission denied" for an unknown token, and wraps it ("1 error
/// occurred") for a known token without the capability; only the first is
/// conclusive.
/// Returns the lookup, or `None` when the token may not look itself up.
pub async fn check_token_known(vault: &Vault) -> Result<Option<Json>, RunError> {
    match vault
        .request_uncounted(Method::Get, "auth/token/lookup-self", None)
        .await
    {
        Ok(answer) => Ok(Some(answer.body)),
        Err(VaultError::Status {
            code: 403, message, ..
        }) if message == "permission denied" => Err(RunError::InvalidToken),
        Err(VaultError::Status { code: 403, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
