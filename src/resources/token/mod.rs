//! Managed tokens (DESIGN.md "Tokens"): the stored token is looked up by
//! its value. Valid, with the planned display name and policies and more
//! than a third of its period (or TTL) left → renewed when periodic, else
//! left alone. Otherwise (missing, expired, revoked, someone else's, other
//! policies) a new one is minted with the job's authority (see `mint`).

mod lookup;
mod mint;

use serde_json::json;

use super::{Action, Change, Context, Diff, FieldChange, ObjectId, Request, Resource};
use crate::plan::model::ManagedToken;
use crate::token_store;
use lookup::{Found, Health};

const PATH_PREFIX: &str = "tokens/";

/// The id path of a managed token entry: its name, not a Vault path (a
/// token has none until it is minted).
pub fn path_of(entry: &str) -> String {
    format!("{PATH_PREFIX}{entry}")
}

/// The entry an id path names, for paths made by `path_of`.
pub fn entry_of(path: &str) -> Option<&str> {
    path.strip_prefix(PATH_PREFIX)
}

pub struct TokenResource {
    pub id: ObjectId,
    /// The entry's name under `tokens:`.
    pub name: String,
    pub spec: ManagedToken,
}

impl Resource for TokenResource {
    fn id(&self) -> &ObjectId {
        &self.id
    }

    fn diff<'a>(&'a self, ctx: &'a Context) -> Diff<'a> {
        Box::pin(async move {
            let loaded = token_store::load(ctx.resolver.kube(), &self.spec.store).await?;
            let found = lookup::look_up(ctx, loaded.value.as_ref()).await?;
            let health = lookup::health(&found, &self.spec, &self.name);
            let place = token_store::place(&self.spec.store);
            match health {
                Health::Good => match (&found, self.spec.period_secs()) {
                    (Found::Valid { .. }, Some(_)) => {
                        let Some(token) = loaded.value.as_ref() else {
                            return Ok(Change::unchanged());
                        };
                        let body = json!({ "token": token.expose() });
                        Ok(Change::new(
                            Action::Renewed,
                            Vec::new(),
                            vec![Request::post("auth/token/renew", body)],
                        ))
                    }
                    _ => Ok(Change::unchanged()),
                },
                Health::Replace(reason) => {
                    let action = match found {
                        Found::Missing => Action::Create,
                        _ => Action::Update,
                    };
                    let field = FieldChange {
                        field: format!("token in {place}"),
                        old: Some(reason),
                        new: Some(format!("newly minted ({})", self.describe())),
                    };
                    let mut change = Change::new(action, vec![field], Vec::new());
                    change.steps = Some(Box::new(mint::Mint {
                        entry: self.name.clone(),
                        spec: self.spec.clone(),
                        loaded,
                    }));
                    Ok(change)
                }
            }
        })
    }
}

impl TokenResource {
    /// What the planned token looks like, for the report (no secrets).
    fn describe(&self) -> String {
        let mut policies: Vec<String> = self.spec.policy_set().into_iter().collect();
        if policies.is_empty() {
            policies.push("default".into());
        }
        let lifetime = match (&self.spec.period, &self.spec.ttl) {
            (Some(period), _) => format!("period {period}"),
            (None, Some(ttl)) => format!("ttl {ttl}"),
            (None, None) => "the role's lifetime".into(),
        };
        format!(
            "{}, policies [{}], {lifetime}",
            self.spec.display_name_of(&self.name),
            policies.join(", ")
        )
    }
}
