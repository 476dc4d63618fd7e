//! The typed plan, version 1 (DESIGN.md "Plan format"). Field values that
//! Vault receives verbatim stay JSON, because they may hold value sources
//! (`{env: ..}`, `{secretKeyRef: ..}`) that are resolved per object at run time.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{KvFields, VaultFields};

mod checks;
mod eso;
mod identity;
mod pki;
mod prune;
mod system;
mod tokens;

pub use checks::*;
pub use eso::*;
pub use identity::*;
pub use pki::*;
pub use prune::*;
pub use system::*;
pub use tokens::*;

pub type Fields = BTreeMap<String, serde_json::Value>;

/// A vault-converge plan, version 1. The files given with `-f` (a directory:
/// its `*.yaml` files) are merged in order, so one file may hold part of a
/// plan: maps merge key by key, a list replaces, `null` removes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The plan format's version: 1. Needed in one of the merged files.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// The run's guards and records: the expected token, the namespace, the registry.
    #[serde(default)]
    pub vault: VaultSection,
    /// Secret engines, keyed by path (`sys/mounts/<path>`).
    #[serde(default)]
    pub mounts: BTreeMap<String, Mount>,
    /// Auth methods, keyed by path (`sys/auth/<path>`), with their config and roles.
    #[serde(default)]
    pub auth: BTreeMap<String, AuthMethod>,
    /// ACL policies (`sys/policies/acl/<name>`): HCL inline or `{file: path}`.
    #[serde(default)]
    pub policies: BTreeMap<String, PolicySource>,
    /// Password policies (`sys/policies/password/<name>`), written in the policies stage.
    #[serde(default)]
    pub password_policies: BTreeMap<String, PasswordPolicy>,
    /// Database secret engines, keyed by mount: connections, roles, static roles.
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseMount>,
    /// KV fixtures, keyed by mount, then by secret path.
    #[serde(default)]
    pub kv: BTreeMap<String, BTreeMap<String, KvFixture>>,
    /// Writes to any path, for endpoints without a section of their own.
    #[serde(default)]
    pub writes: Vec<Write>,
    /// Checks run after apply (and by `verify`); any failure exits 3.
    #[serde(default)]
    pub verify: Vec<Check>,
    /// Plugin catalog entries (`sys/plugins/catalog/<type>/<name>`), keyed
    /// `<type>/<name>`; registered before mounts.
    #[serde(default)]
    pub plugins: BTreeMap<String, Plugin>,
    /// Created before everything else, relative to the token's namespace.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Audit devices, keyed by path (`sys/audit/<path>`).
    #[serde(default)]
    pub audit: BTreeMap<String, AuditDevice>,
    /// Request headers the audit log records, by name
    /// (`sys/config/auditing/request-headers/<name>`).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub audit_request_headers: BTreeMap<String, Fields>,
    /// Identity entities and groups, by name.
    #[serde(default)]
    pub identity: Identity,
    /// CAs, URLs, CRL settings and roles, keyed by a mount of type `pki`.
    #[serde(default)]
    pub pki: BTreeMap<String, PkiMount>,
    /// Delete what this instance created and the plan no longer lists.
    pub prune: Option<Prune>,
    /// Tokens the platform hands out, kept alive and re-minted when needed.
    #[serde(default)]
    pub tokens: BTreeMap<String, ManagedToken>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultSection {
    /// Refuse to write (exit 5) with any other token than this one.
    pub expect_token: Option<ExpectToken>,
    /// The namespace everything but `namespaces:` is converged in.
    pub namespace: Option<String>,
    /// Where the tool keeps its records (`Once` actions, ownership).
    #[serde(default)]
    pub registry: RegistrySettings,
}

/// DESIGN.md "Ownership": one KV v2 secret per instance under `mount`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrySettings {
    /// The KV v2 mount that holds the records (enabled on first use).
    #[serde(default = "default_registry_mount")]
    pub mount: String,
    /// This instance's name: its records are one secret, its own.
    #[serde(default = "default_registry_instance")]
    pub instance: String,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            mount: default_registry_mount(),
            instance: default_registry_instance(),
        }
    }
}

fn default_registry_mount() -> String {
    "vault-converge".to_owned()
}

fn default_registry_instance() -> String {
    "default".to_owned()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectToken {
    /// The display name the token must have.
    pub display_name: Option<String>,
    /// Policies the token must hold.
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A secret engine, enabled at `sys/mounts/<path>`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// The engine's type (`kv`, `pki`, `database`, `transit`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    /// The engine's options (`version: "2"` for KV v2).
    #[serde(default)]
    #[schemars(with = "VaultFields")]
    pub options: Fields,
    /// Tunable settings (`default_lease_ttl`, `max_lease_ttl`, ...).
    #[serde(default)]
    #[schemars(with = "VaultFields")]
    pub config: Fields,
    /// Allows the one-way KV v1 → v2 upgrade of an existing mount.
    #[serde(default)]
    pub upgrade: bool,
}

/// An auth method, enabled at `sys/auth/<path>`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthMethod {
    /// Absent only for the builtin `token` method, which is never enabled.
    #[serde(rename = "type", default)]
    pub kind: String,
    pub description: Option<String>,
    /// Written to `auth/<path>/config`.
    #[schemars(with = "Option<VaultFields>")]
    pub config: Option<Fields>,
    /// Written to `auth/<path>/role/<name>` (`users/<name>` for userpass).
    /// Each may carry `sync: always | if-missing` for its write-only fields.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub roles: BTreeMap<String, Fields>,
    /// Written to `auth/<path>/users/<name>` (userpass, ldap).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub users: BTreeMap<String, Fields>,
    /// Written to `auth/<path>/groups/<name>` (ldap, okta).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub groups: BTreeMap<String, Fields>,
    /// Written to `auth/<path>/certs/<name>` (cert).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub certs: BTreeMap<String, Fields>,
    /// Any other sub-path of the method (`map/teams/<n>` for github).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub paths: BTreeMap<String, Fields>,
    /// `sys/auth/<path>/tune`, compared like a mount's config.
    #[serde(default)]
    #[schemars(with = "VaultFields")]
    pub tune: Fields,
}

/// A password policy: its HCL rules inline or from a file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// The policy's HCL, inline or `{file: path}`.
    pub policy: PolicySource,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PolicySource {
    /// HCL text.
    Inline(String),
    /// HCL read from a file.
    File {
        /// Relative to the plan file that declares it (made absolute when loading).
        file: String,
    },
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseMount {
    /// `<mount>/config/<name>`.
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
    /// `<mount>/roles/<name>`: dynamic credentials.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub roles: BTreeMap<String, Fields>,
    /// `<mount>/static-roles/<name>`: passwords of existing users, rotated by Vault.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, VaultFields>")]
    pub static_roles: BTreeMap<String, Fields>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SyncPolicy {
    /// Written on every run: the source (a Helm chart, an operator) may have rotated the password.
    Always,
    /// Created only when absent; afterwards only non-secret fields are compared.
    #[default]
    IfMissing,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The database plugin (`postgresql-database-plugin`, `redis-database-plugin`, ...).
    pub plugin_name: String,
    /// When the connection (with its password) is written.
    #[serde(default)]
    pub sync: SyncPolicy,
    /// Vault checks that it can connect before accepting the connection.
    #[serde(default = "default_true")]
    pub verify_connection: bool,
    /// The roles that may use this connection.
    #[serde(default)]
    pub allowed_roles: Vec<String>,
    /// Rotate the root password once, right after creation.
    #[serde(default)]
    pub rotate_root: bool,
    /// The plugin's fields (`connection_url`, `username`, `password`, ...).
    #[serde(default)]
    #[schemars(with = "VaultFields")]
    pub config: Fields,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KvMode {
    /// Written only when the secret is absent.
    Create,
    /// The listed keys are added or replaced; other keys are kept.
    #[default]
    Merge,
    /// The secret holds exactly the listed keys.
    Overwrite,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KvFixture {
    /// How the listed keys meet what the secret holds.
    #[serde(default)]
    pub mode: KvMode,
    /// The secret's keys and values.
    #[schemars(with = "KvFields")]
    pub data: Fields,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Skipped when the path reads back.
    #[default]
    Create,
    /// Written whenever a planned field differs from what reads back, and
    /// on every run when the path cannot be read back (write-only endpoints).
    Overwrite,
    /// Written once, then recorded in the registry and never again.
    Once,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Write {
    /// The Vault path written to.
    pub path: String,
    /// The request body.
    #[serde(default)]
    #[schemars(with = "VaultFields")]
    pub data: Fields,
    /// When the path is written.
    #[serde(default)]
    pub mode: WriteMode,
    /// `always`: written every run (write-only fields that cannot be compared).
    pub sync: Option<SyncPolicy>,
}

impl Plan {
    /// Defaults serde cannot express: the builtin `token` method needs no type.
    pub(in crate::plan) fn fill_defaults(&mut self) {
        for (path, method) in &mut self.auth {
            if method.kind.is_empty() && path.trim_matches('/') == "token" {
                method.kind = "token".to_owned();
            }
        }
    }
}

/// The key of a field map that is ours, not Vault's: `sync` on objects with
/// write-only fields (auth config, roles, users).
pub const SYNC_FIELD: &str = "sync";

/// Our `sync` setting in `fields` (the default when absent).
pub fn sync_setting(fields: &Fields) -> Result<SyncPolicy, String> {
    match fields.get(SYNC_FIELD) {
        None => Ok(SyncPolicy::default()),
        Some(serde_json::Value::String(s)) if s == "always" => Ok(SyncPolicy::Always),
        Some(serde_json::Value::String(s)) if s == "if-missing" => Ok(SyncPolicy::IfMissing),
        Some(other) => Err(format!(
            "sync must be `always` or `if-missing`, not {other}"
        )),
    }
}
