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

/// Dependency keys, one place for their spelling. Built with `concat`, not
/// `format!`: a few per planned object, and formatting costs several times more.
pub mod deps {
    pub fn mount(path: &str) -> String {
        ["mount:", path.trim_matches('/')].concat()
    }
    pub fn auth(path: &str) -> String {
        ["auth:", path.trim_matches('/')].concat()
    }
    pub fn connection(mount: &str, name: &str) -> String {
        ["connection:", mount.trim_matches('/'), "/", name].concat()
    }
    pub fn password_policy(name: &str) -> String {
        ["password_policy:", name].concat()
    }
    pub fn policy(name: &str) -> String {
        ["policy:", &name.to_lowercase()].concat()
    }
    pub fn plugin(kind_and_name: &str) -> String {
        ["plugin:", kind_and_name.trim_matches('/')].concat()
    }
    pub fn namespace(name: &str) -> String {
        ["namespace:", name.trim_matches('/')].concat()
    }
    pub fn entity(name: &str) -> String {
        ["entity:", name].concat()
    }
    pub fn group(name: &str) -> String {
        ["group:", name].concat()
    }
    pub fn pki_ca(mount: &str) -> String {
        ["pki_ca:", mount.trim_matches('/')].concat()
    }
    pub fn object(path: &str) -> String {
        ["object:", path].concat()
    }
}
