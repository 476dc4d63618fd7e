//! What kinds of objects there are, and the dependency keys objects name
//! each other by.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Mount,
    AuthMethod,
    AuthConfig,
    AuthRole,
    Policy,
    PasswordPolicy,
    DatabaseConnection,
    DatabaseRole,
    DatabaseStaticRole,
    KvSecret,
    Write,
    AuthPath,
    Plugin,
    Namespace,
    AuditDevice,
    AuditHeader,
    IdentityEntity,
    IdentityGroup,
    IdentityAlias,
    PkiCa,
    PkiConfig,
    PkiRole,
    Token,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Mount => "mount",
            Kind::AuthMethod => "auth method",
            Kind::AuthConfig => "auth config",
            Kind::AuthRole => "auth role",
            Kind::Policy => "policy",
            Kind::PasswordPolicy => "password policy",
            Kind::DatabaseConnection => "database connection",
            Kind::DatabaseRole => "database role",
            Kind::DatabaseStaticRole => "database static role",
            Kind::KvSecret => "kv secret",
            Kind::Write => "write",
            Kind::AuthPath => "auth path",
            Kind::Plugin => "plugin",
            Kind::Namespace => "namespace",
            Kind::AuditDevice => "audit device",
            Kind::AuditHeader => "audit request header",
            Kind::IdentityEntity => "identity entity",
            Kind::IdentityGroup => "identity group",
            Kind::IdentityAlias => "identity alias",
            Kind::PkiCa => "pki ca",
            Kind::PkiConfig => "pki config",
            Kind::PkiRole => "pki role",
            Kind::Token => "token",
        }
    }
}

/// Dependency keys, one place for their spelling.
pub mod deps {
    pub fn mount(path: &str) -> String {
        format!("mount:{}", path.trim_matches('/'))
    }
    pub fn auth(path: &str) -> String {
        format!("auth:{}", path.trim_matches('/'))
    }
    pub fn connection(mount: &str, name: &str) -> String {
        format!("connection:{}/{name}", mount.trim_matches('/'))
    }
    pub fn password_policy(name: &str) -> String {
        format!("password_policy:{name}")
    }
    pub fn policy(name: &str) -> String {
        format!("policy:{}", name.to_lowercase())
    }
    pub fn plugin(kind_and_name: &str) -> String {
        format!("plugin:{}", kind_and_name.trim_matches('/'))
    }
    pub fn namespace(name: &str) -> String {
        format!("namespace:{}", name.trim_matches('/'))
    }
    pub fn entity(name: &str) -> String {
        format!("entity:{name}")
    }
    pub fn group(name: &str) -> String {
        format!("group:{name}")
    }
    pub fn pki_ca(mount: &str) -> String {
        format!("pki_ca:{}", mount.trim_matches('/'))
    }
    pub fn object(path: &str) -> String {
        format!("object:{path}")
    }
}
