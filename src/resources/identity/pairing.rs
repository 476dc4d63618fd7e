//! Which existing alias a planned entity alias is: the same one, one it
//! takes over (renamed or moved to another auth method), or none (a new
//! alias). See the `alias` module for the rules.

use serde_json::{Map, Value as Json};

/// `custom_metadata` key and value on the entity aliases this tool creates.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "vault-converge");

/// An alias Vault holds for an entity.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub id: String,
    pub name: String,
    pub accessor: String,
    /// The auth path (`userpass`), for the report.
    pub auth: String,
    pub custom_metadata: Map<String, Json>,
}

impl Existing {
    pub fn parse(alias: &Json) -> Option<Existing> {
        let text = |field: &str| alias.get(field).and_then(Json::as_str).map(str::to_owned);
        Some(Existing {
            id: text("id").filter(|id| !id.is_empty())?,
            name: text("name").unwrap_or_default(),
            accessor: text("mount_accessor").unwrap_or_default(),
            auth: text("mount_path")
                .map(|p| {
                    let p = p.trim_matches('/');
                    p.strip_prefix("auth/").unwrap_or(p).to_owned()
                })
                .unwrap_or_default(),
            custom_metadata: alias
                .get("custom_metadata")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    fn managed(&self) -> bool {
        self.custom_metadata
            .get(MANAGED_BY.0)
            .and_then(Json::as_str)
            == Some(MANAGED_BY.1)
    }
}

/// What a planned alias is in Vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// This existing alias, as planned.
    Same(usize),
    /// This existing alias, with another name or auth method.
    Replaces(usize),
    New,
}

/// How a planned alias may take over an existing one, strongest first.
#[derive(Clone, Copy)]
enum Claim {
    /// Same accessor and name.
    AsPlanned,
    /// Same accessor (Vault allows one alias per method and entity).
    SameMethod,
    /// Created by this tool and wanted by no other planned alias.
    Managed,
}

impl Claim {
    fn holds(self, (accessor, name): (Option<&str>, &str), alias: &Existing) -> bool {
        let same_method = accessor == Some(alias.accessor.as_str());
        match self {
            Claim::AsPlanned => same_method && name == alias.name,
            Claim::SameMethod => same_method,
            Claim::Managed => alias.managed(),
        }
    }
}

/// Pairs each planned alias (accessor, `None` for a method `plan` would
/// enable; name) with at most one existing alias; see the module comment.
pub fn pair(planned: &[(Option<&str>, &str)], existing: &[Existing]) -> Vec<Pairing> {
    let mut result = vec![Pairing::New; planned.len()];
    let mut taken = vec![false; existing.len()];
    for claim in [Claim::AsPlanned, Claim::SameMethod, Claim::Managed] {
        for (p, want) in planned.iter().enumerate() {
            if result[p] != Pairing::New {
                continue;
            }
            let found =
                (0..existing.len()).find(|&e| !taken[e] && claim.holds(*want, &existing[e]));
            if let Some(e) = found {
                taken[e] = true;
                result[p] = match claim {
                    Claim::AsPlanned => Pairing::Same(e),
                    _ => Pairing::Replaces(e),
                };
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(accessor: &str, name: &str, managed: bool) -> Existing {
        let mut custom_metadata = Map::new();
        if managed {
            custom_metadata.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
        }
        Existing {
            id: format!("{accessor}-{name}"),
            name: name.into(),
            accessor: accessor.into(),
            auth: accessor.into(),
            custom_metadata,
        }
    }

    #[test]
    fn an_alias_as_planned_is_the_same_one() {
        let have = [existing("a", "x", false), existing("b", "y", true)];
        let pairs = pair(&[(Some("b"), "y"), (Some("a"), "x")], &have);
        assert_eq!(pairs, [Pairing::Same(1), Pairing::Same(0)]);
    }

    #[test]
    fn a_new_name_on_the_same_method_renames_the_alias() {
        let have = [existing("a", "x", false)];
        assert_eq!(pair(&[(Some("a"), "z")], &have), [Pairing::Replaces(0)]);
    }

    #[test]
    fn a_new_auth_method_moves_only_an_alias_this_tool_created() {
        let have = [existing("ldap", "x", false), existing("a", "x", true)];
        assert_eq!(pair(&[(Some("b"), "x")], &have), [Pairing::Replaces(1)]);
        let foreign = [existing("ldap", "x", false)];
        assert_eq!(pair(&[(Some("b"), "x")], &foreign), [Pairing::New]);
    }

    #[test]
    fn an_alias_that_still_matches_is_never_taken_over() {
        // `a` stays as planned; the new alias on `c` is created, not moved from `a`.
        let have = [existing("a", "x", true)];
        let pairs = pair(&[(Some("c"), "y"), (Some("a"), "x")], &have);
        assert_eq!(pairs, [Pairing::New, Pairing::Same(0)]);
    }

    #[test]
    fn a_method_plan_would_enable_takes_over_a_managed_alias_only() {
        let have = [existing("a", "x", true)];
        assert_eq!(pair(&[(None, "x")], &have), [Pairing::Replaces(0)]);
    }
}
