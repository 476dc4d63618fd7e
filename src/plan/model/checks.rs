//! `verify:` — the checks that prove the converged server works.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{ExternalSecretsCheck, PkiIssueCheck, TokenCheck};
use crate::plan::schema::FieldValue;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The KV secret holds these keys, each non-empty.
    KvKeys(KvKeysCheck),
    /// The role issues credentials (Vault can log in to the database); the lease is revoked.
    DatabaseCreds(DatabaseCredsCheck),
    /// A login succeeds (jwt/kubernetes, approle or userpass); the token is revoked.
    Login(LoginCheck),
    /// A token with just this policy has the expected capabilities on the path.
    Capabilities(CapabilitiesCheck),
    /// The pki role issues a certificate for this common name.
    PkiIssue(PkiIssueCheck),
    /// The stored token of a `tokens:` entry logs in and holds its policies.
    Token(TokenCheck),
    /// Every key the ExternalSecrets of a Vault store expect exists in Vault.
    ExternalSecrets(ExternalSecretsCheck),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KvKeysCheck {
    /// The KV mount.
    pub mount: String,
    /// The secret's path in the mount.
    pub path: String,
    pub keys: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseCredsCheck {
    /// The database mount.
    pub mount: String,
    /// A dynamic role (`<mount>/creds/<role>`).
    pub role: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginCheck {
    /// The auth method's path.
    pub auth: String,
    /// The role to log in with (jwt, kubernetes).
    pub role: Option<String>,
    /// The JWT (jwt, kubernetes), usually a value source.
    #[schemars(with = "Option<FieldValue>")]
    pub jwt: Option<serde_json::Value>,
    /// AppRole's role ID.
    #[schemars(with = "Option<FieldValue>")]
    pub role_id: Option<serde_json::Value>,
    /// AppRole's secret ID, usually a value source.
    #[schemars(with = "Option<FieldValue>")]
    pub secret_id: Option<serde_json::Value>,
    /// The user (userpass).
    pub username: Option<String>,
    /// The user's password, usually a value source.
    #[schemars(with = "Option<FieldValue>")]
    pub password: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilitiesCheck {
    /// The policy under test.
    pub policy: String,
    /// The path asked about (`sys/capabilities`).
    pub path: String,
    /// The capabilities the policy must grant there.
    pub expect: Vec<String>,
}
