//! What the stored token is: looked up by value with the job's token
//! (`auth/token/lookup`), and judged against the plan.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use crate::plan::model::ManagedToken;
use crate::resources::{Context, ObjectError};
use crate::secret::Secret;
use crate::vault::VaultError;

pub(super) enum Found {
    /// Nothing stored.
    Missing,
    /// Stored, but Vault does not know it (expired or revoked).
    Unknown,
    Valid {
        display_name: String,
        policies: BTreeSet<String>,
        /// Seconds left.
        ttl: u64,
        /// Seconds: the period of a periodic token.
        period: u64,
        /// Seconds: the lifetime it was created with.
        creation_ttl: u64,
    },
}

pub(super) enum Health {
    Good,
    /// Why a new token is needed (no secret in it).
    Replace(String),
}

pub(super) async fn look_up(ctx: &Context, stored: Option<&Secret>) -> Result<Found, ObjectError> {
    let Some(token) = stored else {
        return Ok(Found::Missing);
    };
    let answer = match ctx
        .vault
        .post_read("auth/token/lookup", &json!({ "token": token.expose() }))
        .await
    {
        Ok(answer) => answer,
        Err(e) if is_bad_token(&e) => return Ok(Found::Unknown),
        Err(e) => return Err(e.into()),
    };
    let data = answer.get("data").cloned().unwrap_or(Json::Null);
    let number = |field: &str| data.get(field).and_then(Json::as_u64).unwrap_or(0);
    Ok(Found::Valid {
        display_name: data
            .get("display_name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        policies: policies_of(&data),
        ttl: number("ttl"),
        period: number("period"),
        creation_ttl: number("creation_ttl"),
    })
}

/// The policies of a token lookup's `data`, without `default` (Vault adds it).
pub(super) fn policies_of(data: &Json) -> BTreeSet<String> {
    data.get("policies")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter(|p| *p != "default")
        .map(str::to_owned)
        .collect()
}

/// "bad token": Vault does not know the token looked up (403 on OpenBao).
fn is_bad_token(error: &VaultError) -> bool {
    matches!(error, VaultError::Status { message, .. } if message.contains("bad token"))
}

pub(super) fn health(found: &Found, spec: &ManagedToken, entry: &str) -> Health {
    let (display_name, policies, ttl, period, creation_ttl) = match found {
        Found::Missing => return Health::Replace("none stored".into()),
        Found::Unknown => return Health::Replace("not valid any more (expired or revoked)".into()),
        Found::Valid {
            display_name,
            policies,
            ttl,
            period,
            creation_ttl,
        } => (display_name, policies, *ttl, *period, *creation_ttl),
    };
    // A token role's token_period makes a renewable token whose lookup
    // shows no period: its lifetime is the period then.
    let period = if period == 0 && spec.role.is_some() {
        creation_ttl
    } else {
        period
    };
    let expected_name = spec.display_name_of(entry);
    let planned = spec.policy_set();
    if display_name != &expected_name || policies != &planned {
        return Health::Replace(format!(
            "someone else's or outdated (display name {display_name}, policies [{}]; left valid)",
            policies.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(planned_period) = spec.period_secs() {
        if period != planned_period {
            return Health::Replace(format!("period {period}s, the plan says {planned_period}s"));
        }
    }
    if let Some(planned_ttl) = spec.ttl_secs() {
        // Longer than planned, or periodic: minted for another plan. (A
        // shorter one may be the server's max TTL at work: kept.)
        if period > 0 || creation_ttl > planned_ttl {
            return Health::Replace(format!(
                "made for {}s{}, the plan says a fixed ttl of {planned_ttl}s",
                period.max(creation_ttl),
                if period > 0 { " (periodic)" } else { "" }
            ));
        }
    }
    // TTL 0 with no period: a token that never expires (root-like); keep it.
    let lifetime = if period > 0 { period } else { creation_ttl };
    if lifetime > 0 && ttl.saturating_mul(3) <= lifetime {
        return Health::Replace(format!("{ttl}s left, less than a third of its {lifetime}s"));
    }
    Health::Good
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ManagedToken {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn valid(name: &str, policies: &[&str], ttl: u64, period: u64) -> Found {
        Found::Valid {
            display_name: name.into(),
            policies: policies.iter().map(|p| p.to_string()).collect(),
            ttl,
            period,
            creation_ttl: period.max(3600),
        }
    }

    #[test]
    fn a_healthy_periodic_token_is_kept_and_anything_else_replaced() {
        let planned = spec("policies: [ci, default]\nperiod: 1h\nstore: {path: /t}\n");
        let good = valid("token-ci-deployer", &["ci"], 3000, 3600);
        assert!(matches!(
            health(&good, &planned, "ci-deployer"),
            Health::Good
        ));
        for (found, why) in [
            (Found::Missing, "none stored"),
            (Found::Unknown, "expired or revoked"),
            (
                valid("token-stray", &["ci"], 3000, 3600),
                "display name token-stray",
            ),
            (
                valid("token-ci-deployer", &["read-only"], 3000, 3600),
                "policies [read-only]",
            ),
            (
                valid("token-ci-deployer", &["ci"], 3000, 7200),
                "period 7200s",
            ),
            (
                valid("token-ci-deployer", &["ci"], 1000, 3600),
                "less than a third",
            ),
        ] {
            match health(&found, &planned, "ci-deployer") {
                Health::Replace(reason) => assert!(reason.contains(why), "{reason}"),
                Health::Good => panic!("{why}: kept"),
            }
        }
    }
}

#[cfg(test)]
mod ttl_tests {
    use super::*;

    #[test]
    fn a_fixed_ttl_plan_replaces_periodic_or_longer_tokens_only() {
        let planned: ManagedToken =
            serde_saphyr::from_str("policies: [ci]\nttl: 2h\nstore: {path: /t}\n").unwrap();
        let found = |ttl, period, creation_ttl| Found::Valid {
            display_name: "token-ci".into(),
            policies: ["ci".to_owned()].into(),
            ttl,
            period,
            creation_ttl,
        };
        assert!(matches!(
            health(&found(7000, 0, 7200), &planned, "ci"),
            Health::Good
        ));
        // Capped by the server's max TTL: kept.
        assert!(matches!(
            health(&found(3000, 0, 3600), &planned, "ci"),
            Health::Good
        ));
        assert!(matches!(
            health(&found(3000, 3600, 3600), &planned, "ci"),
            Health::Replace(_)
        ));
        assert!(matches!(
            health(&found(9000, 0, 9000), &planned, "ci"),
            Health::Replace(_)
        ));
        assert!(matches!(
            health(&found(2000, 0, 7200), &planned, "ci"),
            Health::Replace(_)
        ));
    }
}
