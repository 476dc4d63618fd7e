//! Ownership (DESIGN.md "Ownership and prune"): which kinds of objects the
//! tool records as its own and how each one is deleted again. A kind opts in
//! by returning an `Owned` from `Resource::ownership`; the record keeps the
//! delete path, so an object the plan no longer lists (and for which there is
//! no resource any more) can still be deleted.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Kind;

/// The kinds `prune.kinds` names. Order: children before parents, so
/// deleting in this order never removes a parent before its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PruneKind {
    Tokens,
    Kv,
    PkiRoles,
    DatabaseStaticRoles,
    DatabaseRoles,
    AuthRoles,
    AuthPaths,
    IdentityAliases,
    IdentityGroups,
    IdentityEntities,
    DatabaseConnections,
    Policies,
    PasswordPolicies,
    AuditDevices,
    AuthMethods,
    Mounts,
}

impl PruneKind {
    pub const ALL: [PruneKind; 16] = [
        PruneKind::Tokens,
        PruneKind::Kv,
        PruneKind::PkiRoles,
        PruneKind::DatabaseStaticRoles,
        PruneKind::DatabaseRoles,
        PruneKind::AuthRoles,
        PruneKind::AuthPaths,
        PruneKind::IdentityAliases,
        PruneKind::IdentityGroups,
        PruneKind::IdentityEntities,
        PruneKind::DatabaseConnections,
        PruneKind::Policies,
        PruneKind::PasswordPolicies,
        PruneKind::AuditDevices,
        PruneKind::AuthMethods,
        PruneKind::Mounts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PruneKind::Tokens => "tokens",
            PruneKind::Kv => "kv",
            PruneKind::PkiRoles => "pki_roles",
            PruneKind::DatabaseStaticRoles => "database_static_roles",
            PruneKind::DatabaseRoles => "database_roles",
            PruneKind::AuthRoles => "auth_roles",
            PruneKind::AuthPaths => "auth_paths",
            PruneKind::IdentityAliases => "identity_aliases",
            PruneKind::IdentityGroups => "identity_groups",
            PruneKind::IdentityEntities => "identity_entities",
            PruneKind::DatabaseConnections => "database_connections",
            PruneKind::Policies => "policies",
            PruneKind::PasswordPolicies => "password_policies",
            PruneKind::AuditDevices => "audit_devices",
            PruneKind::AuthMethods => "auth_methods",
            PruneKind::Mounts => "mounts",
        }
    }

    pub fn parse(name: &str) -> Option<PruneKind> {
        PruneKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The object kind shown on the report's `- delete` line.
    pub fn object_kind(self) -> Kind {
        match self {
            PruneKind::Tokens => Kind::Token,
            PruneKind::Kv => Kind::KvSecret,
            PruneKind::PkiRoles => Kind::PkiRole,
            PruneKind::DatabaseStaticRoles => Kind::DatabaseStaticRole,
            PruneKind::DatabaseRoles => Kind::DatabaseRole,
            PruneKind::AuthRoles => Kind::AuthRole,
            PruneKind::AuthPaths => Kind::AuthPath,
            PruneKind::IdentityAliases => Kind::IdentityAlias,
            PruneKind::IdentityGroups => Kind::IdentityGroup,
            PruneKind::IdentityEntities => Kind::IdentityEntity,
            PruneKind::DatabaseConnections => Kind::DatabaseConnection,
            PruneKind::Policies => Kind::Policy,
            PruneKind::PasswordPolicies => Kind::PasswordPolicy,
            PruneKind::AuditDevices => Kind::AuditDevice,
            PruneKind::AuthMethods => Kind::AuthMethod,
            PruneKind::Mounts => Kind::Mount,
        }
    }

    /// Deleting it destroys data (a mount's secrets, an auth method's
    /// roles) or the audit trail: only when named explicitly, never by `all`.
    pub fn only_when_named(self) -> bool {
        matches!(
            self,
            PruneKind::Mounts | PruneKind::AuthMethods | PruneKind::AuditDevices
        )
    }

    /// What `all` means: every kind but those pruned only when named.
    pub fn all_safe() -> BTreeSet<PruneKind> {
        PruneKind::ALL
            .into_iter()
            .filter(|k| !k.only_when_named())
            .collect()
    }
}

impl fmt::Display for PruneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the registry records for an object this instance created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub kind: PruneKind,
    /// The path a DELETE removes the object at (KV v2: its metadata path,
    /// so every version goes).
    pub delete: String,
}

impl Owned {
    pub fn new(kind: PruneKind, delete: impl Into<String>) -> Owned {
        Owned {
            kind,
            delete: delete.into(),
        }
    }
}

/// Whether and how this run records and prunes ownership.
#[derive(Debug, Clone, Default)]
pub struct Ownership {
    /// Record what the run creates (prune is configured, or `--adopt`).
    pub track: bool,
    /// The kinds to prune; empty: no prune.
    pub prune: BTreeSet<PruneKind>,
    /// Record planned objects that exist already (`--adopt`).
    pub adopt: bool,
    pub max_deletes: Option<MaxDeletes>,
}

/// `max_deletes: N` or `"N%"` (of the objects this instance owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxDeletes {
    Count(usize),
    Percent(u32),
}

impl MaxDeletes {
    pub fn parse(text: &str) -> Option<MaxDeletes> {
        let text = text.trim();
        match text.strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse()
                .ok()
                .filter(|p| *p <= 100)
                .map(MaxDeletes::Percent),
            None => text.parse().ok().map(MaxDeletes::Count),
        }
    }
}

/// Default: at most 10, and at most 25 % of the owned objects once 20 or
/// more are owned.
pub const DEFAULT_MAX_DELETES: usize = 10;
const DEFAULT_PERCENT: usize = 25;
const PERCENT_FROM: usize = 20;

/// How many deletions a run may make when this instance owns `owned` objects.
pub fn delete_limit(max: Option<MaxDeletes>, owned: usize) -> usize {
    match max {
        Some(MaxDeletes::Count(n)) => n,
        Some(MaxDeletes::Percent(p)) => owned * p as usize / 100,
        None if owned >= PERCENT_FROM => DEFAULT_MAX_DELETES.min(owned * DEFAULT_PERCENT / 100),
        None => DEFAULT_MAX_DELETES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_defaults_and_the_plan() {
        assert_eq!(delete_limit(None, 5), 10);
        assert_eq!(delete_limit(None, 20), 5);
        assert_eq!(delete_limit(None, 39), 9);
        assert_eq!(delete_limit(None, 1000), 10);
        assert_eq!(delete_limit(Some(MaxDeletes::Count(3)), 1000), 3);
        assert_eq!(delete_limit(Some(MaxDeletes::Percent(100)), 600), 600);
        assert_eq!(delete_limit(Some(MaxDeletes::Percent(50)), 7), 3);
    }

    #[test]
    fn max_deletes_parses_counts_and_percentages() {
        assert_eq!(MaxDeletes::parse("12"), Some(MaxDeletes::Count(12)));
        assert_eq!(MaxDeletes::parse("50%"), Some(MaxDeletes::Percent(50)));
        assert_eq!(MaxDeletes::parse("150%"), None);
        assert_eq!(MaxDeletes::parse("ten"), None);
    }

    #[test]
    fn all_never_means_mounts_or_auth_methods() {
        let all = PruneKind::all_safe();
        assert!(!all.contains(&PruneKind::Mounts));
        assert!(!all.contains(&PruneKind::AuthMethods));
        assert!(!all.contains(&PruneKind::AuditDevices));
        assert!(all.contains(&PruneKind::Policies));
        for kind in PruneKind::ALL {
            assert_eq!(PruneKind::parse(kind.name()), Some(kind));
        }
    }
}
