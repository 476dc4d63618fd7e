//! The plan's `vault.namespace`: every request of the run goes there, except
//! those for objects of the token's own namespace (`namespaces:`, plugins,
//! audit devices and headers). It is relative to the token's namespace
//! (`VAULT_NAMESPACE`), as Vault resolves child namespaces: with
//! `VAULT_NAMESPACE=platform` and `vault.namespace: team-a` the run
//! converges `platform/team-a`.

use super::RunError;
use crate::plan::{LoadedPlan, PlanError};
use crate::resources::namespace::LIST_PATH;
use crate::resources::{deps, Context};

/// `home` (the token's namespace) joined with the plan's `namespace`.
pub fn joined(home: Option<&str>, namespace: &str) -> String {
    let namespace = namespace.trim_matches('/');
    match home.map(|h| h.trim_matches('/')).filter(|h| !h.is_empty()) {
        Some(home) => format!("{home}/{namespace}"),
        None => namespace.to_owned(),
    }
}

/// Points the run at the plan's namespace. When that does not exist, the
/// plan must create it (`namespaces:`): then nothing in it is read or
/// checked before the namespaces stage; otherwise the plan is wrong (exit 2).
pub async fn enter(ctx: &mut Context, loaded: &LoadedPlan) -> Result<(), RunError> {
    let Some(namespace) = loaded.plan.vault.namespace.as_deref() else {
        return Ok(());
    };
    let target = joined(ctx.vault.namespace(), namespace);
    let inside = ctx.vault.in_namespace(Some(target));
    ctx.home.client = Some(std::mem::replace(&mut ctx.vault, inside));
    // Only the first level can be listed from here; deeper ones are created by hand.
    let first = namespace
        .trim_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let existing = match ctx.home_list(LIST_PATH).await {
        Ok(keys) => keys,
        // Not allowed to list: requests in it will tell.
        Err(e) if matches!(e.code(), Some(400..=499)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if existing.iter().any(|k| k.trim_end_matches('/') == first) {
        return Ok(());
    }
    let planned = loaded
        .plan
        .namespaces
        .iter()
        .any(|n| n.trim_matches('/') == first);
    if planned {
        ctx.home.pending = Some(deps::namespace(first));
        return Ok(());
    }
    let loc = loaded.loc(&["vault", "namespace"]);
    Err(RunError::Plan(PlanError::Field {
        loc: loc.unwrap_or_else(|| loaded.root_loc()),
        path: "vault.namespace".into(),
        message: format!(
            "namespace `{first}` does not exist under the token's namespace; list it under \
             `namespaces:` so the run creates it, or fix the name"
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_namespace_is_relative_to_the_token_namespace() {
        assert_eq!(joined(None, "team-a"), "team-a");
        assert_eq!(joined(Some(""), "/team-a/"), "team-a");
        assert_eq!(joined(Some("platform/"), "team-a"), "platform/team-a");
    }
}
