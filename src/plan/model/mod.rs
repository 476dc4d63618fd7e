//! The typed plan, version 1 (DESIGN.md "Plan format"). Field values that
//! Vault receives verbatim stay JSON, because they may hold value sources
//! (`{env: ..}`, `{secretKeyRef: ..}`) that are resolved per object at run time.

use std::collections::BTreeMap;

use serde::Deserialize;

mod eso;
mod identity;
mod pki;
mod prune;
mod system;
mod tokens;

pub use eso::*;
pub use identity::*;
pub use pki::*;
pub use prune::*;
pub use system::*;
pub use tokens::*;

pub type Fields = BTreeMap<String, serde_json::Value>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub version: u32,
    #[serde(default)]
    pub vault: VaultSection,
    #[serde(default)]
    pub mounts: BTreeMap<String, Mount>,
    #[serde(default)]
    pub auth: BTreeMap<String, AuthMethod>,
    #[serde(default)]
    pub policies: BTreeMap<String, PolicySource>,
    /// `sys/policies/password/<name>`, written in the policies stage.
    #[serde(default)]
    pub password_policies: BTreeMap<String, PasswordPolicy>,
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseMount>,
    #[serde(default)]
    pub kv: BTreeMap<String, BTreeMap<String, KvFixture>>,
    #[serde(default)]
    pub writes: Vec<Write>,
    #[serde(default)]
    pub verify: Vec<Check>,
    /// `sys/plugins/catalog/<type>/<name>`, keyed `<type>/<name>`; before mounts.
    #[serde(default)]
    pub plugins: BTreeMap<String, Plugin>,
    /// Created before everything else, relative to the token's namespace.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// `sys/audit/<path>`.
    #[serde(default)]
    pub audit: BTreeMap<String, AuditDevice>,
    /// `sys/config/auditing/request-headers/<name>`.
    #[serde(default)]
    pub audit_request_headers: BTreeMap<String, Fields>,
    #[serde(default)]
    pub identity: Identity,
    /// Keyed by a mount of type `pki`.
    #[serde(default)]
    pub pki: BTreeMap<String, PkiMount>,
    /// Delete what this instance created and the plan no longer lists.
    pub prune: Option<Prune>,
    /// Tokens the platform hands out, kept alive and re-minted when needed.
    #[serde(default)]
    pub tokens: BTreeMap<String, ManagedToken>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSection {
    pub expect_token: Option<ExpectToken>,
    /// The namespace everything but `namespaces:` is converged in.
    pub namespace: Option<String>,
    /// Where the tool keeps its records (`Once` actions, ownership).
    #[serde(default)]
    pub registry: RegistrySettings,
}

/// DESIGN.md "Ownership": one KV v2 secret per instance under `mount`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySettings {
    #[serde(default = "default_registry_mount")]
    pub mount: String,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectToken {
    pub display_name: Option<String>,
    #[serde(default)]
    pub policies: Vec<String>,
}

/// A secret engine, enabled at `sys/mounts/<path>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    #[serde(default)]
    pub options: Fields,
    /// Tunable settings (`default_lease_ttl`, `max_lease_ttl`, ...).
    #[serde(default)]
    pub config: Fields,
    /// Allows the one-way KV v1 → v2 upgrade of an existing mount.
    #[serde(default)]
    pub upgrade: bool,
}

/// An auth method, enabled at `sys/auth/<path>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthMethod {
    /// Absent only for the builtin `token` method, which is never enabled.
    #[serde(rename = "type", default)]
    pub kind: String,
    pub description: Option<String>,
    /// Written to `auth/<path>/config`.
    pub config: Option<Fields>,
    /// Written to `auth/<path>/role/<name>` (`users/<name>` for userpass).
    /// Each may carry `sync: always | if-missing` for its write-only fields.
    #[serde(default)]
    pub roles: BTreeMap<String, Fields>,
    /// Written to `auth/<path>/users/<name>` (userpass, ldap).
    #[serde(default)]
    pub users: BTreeMap<String, Fields>,
    /// Written to `auth/<path>/groups/<name>` (ldap, okta).
    #[serde(default)]
    pub groups: BTreeMap<String, Fields>,
    /// Written to `auth/<path>/certs/<name>` (cert).
    #[serde(default)]
    pub certs: BTreeMap<String, Fields>,
    /// Any other sub-path of the method (`map/teams/<n>` for github).
    #[serde(default)]
    pub paths: BTreeMap<String, Fields>,
    /// `sys/auth/<path>/tune`, compared like a mount's config.
    #[serde(default)]
    pub tune: Fields,
}

/// A password policy: its HCL rules inline or from a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub policy: PolicySource,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PolicySource {
    Inline(String),
    File {
        /// Absolute after loading: relative paths are resolved against the declaring plan file.
        file: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseMount {
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
    #[serde(default)]
    pub roles: BTreeMap<String, Fields>,
    #[serde(default)]
    pub static_roles: BTreeMap<String, Fields>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncPolicy {
    /// Written on every run: the source (a Helm chart, an operator) may have rotated the password.
    Always,
    /// Created only when absent; afterwards only non-secret fields are compared.
    #[default]
    IfMissing,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub plugin_name: String,
    #[serde(default)]
    pub sync: SyncPolicy,
    #[serde(default = "default_true")]
    pub verify_connection: bool,
    #[serde(default)]
    pub allowed_roles: Vec<String>,
    #[serde(default)]
    pub rotate_root: bool,
    #[serde(default)]
    pub config: Fields,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvFixture {
    #[serde(default)]
    pub mode: KvMode,
    pub data: Fields,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Write {
    pub path: String,
    #[serde(default)]
    pub data: Fields,
    #[serde(default)]
    pub mode: WriteMode,
    /// `always`: written every run (write-only fields that cannot be compared).
    pub sync: Option<SyncPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    KvKeys(KvKeysCheck),
    DatabaseCreds(DatabaseCredsCheck),
    Login(LoginCheck),
    Capabilities(CapabilitiesCheck),
    PkiIssue(PkiIssueCheck),
    /// The stored token of a `tokens:` entry logs in and holds its policies.
    Token(TokenCheck),
    /// Every key the ExternalSecrets of a Vault store expect exists in Vault.
    ExternalSecrets(ExternalSecretsCheck),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KvKeysCheck {
    pub mount: String,
    pub path: String,
    pub keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseCredsCheck {
    pub mount: String,
    pub role: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginCheck {
    pub auth: String,
    pub role: Option<String>,
    pub jwt: Option<serde_json::Value>,
    pub role_id: Option<serde_json::Value>,
    pub secret_id: Option<serde_json::Value>,
    pub username: Option<String>,
    pub password: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesCheck {
    pub policy: String,
    pub path: String,
    pub expect: Vec<String>,
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

/// Splits our `sync` setting off a field map; the rest goes to Vault.
pub fn split_sync(fields: &Fields) -> Result<(SyncPolicy, Fields), String> {
    let mut rest = fields.clone();
    let sync = match rest.remove(SYNC_FIELD) {
        None => SyncPolicy::default(),
        Some(serde_json::Value::String(s)) if s == "always" => SyncPolicy::Always,
        Some(serde_json::Value::String(s)) if s == "if-missing" => SyncPolicy::IfMissing,
        Some(other) => {
            return Err(format!(
                "sync must be `always` or `if-missing`, not {other}"
            ))
        }
    };
    Ok((sync, rest))
}
