//! `token: {name}`: the token stored for a `tokens:` entry logs in (its own
//! lookup-self answers) and holds the planned policies.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::{request_failed, CheckError};
use crate::plan::model::{Plan, TokenCheck};
use crate::resources::Context;
use crate::token_store;

pub(super) async fn token(ctx: &Context, plan: &Plan, c: &TokenCheck) -> Result<(), CheckError> {
    let Some(spec) = plan.tokens.get(&c.name) else {
        return Err(format!("no `tokens.{}` entry in the plan", c.name).into());
    };
    let place = token_store::place(&spec.store);
    let loaded = token_store::load(ctx.resolver.kube(), &spec.store)
        .await
        .map_err(|e| CheckError {
            message: format!("cannot read {place}: {e}"),
            could_not_run: true,
        })?;
    let Some(stored) = loaded.value else {
        return Err(format!("{place} holds no token").into());
    };
    let own = ctx.vault.with_token(stored).map_err(|e| e.to_string())?;
    let answer = match own.read("auth/token/lookup-self").await {
        Ok(answer) => answer,
        Err(e) if e.code() == Some(403) => {
            return Err(format!("the token in {place} cannot log in (expired or revoked)").into())
        }
        Err(e) => {
            return Err(request_failed(
                &e,
                false,
                format!("cannot look up the token in {place}: {e}"),
            ))
        }
    };
    let held: BTreeSet<String> = answer
        .as_ref()
        .and_then(|a| a.pointer("/data/policies"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_owned)
        .collect();
    let missing: Vec<String> = spec.policy_set().difference(&held).cloned().collect();
    if !missing.is_empty() {
        return Err(format!(
            "the token in {place} lacks the policies [{}]",
            missing.join(", ")
        )
        .into());
    }
    Ok(())
}
