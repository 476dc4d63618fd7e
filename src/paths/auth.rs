//! Auth methods: where their objects live, by method type.

/// The builtin token method: mounted at `token`, never enabled by the tool.
pub const TOKEN_METHOD: &str = "token";

/// The collection a method type keeps its roles in: `role/<n>` for most,
/// `roles/<n>` for the token method, `users/<n>` for userpass and
/// `certs/<n>` for cert. `None` for methods without roles (ldap, okta,
/// github: their objects are `users`, `groups` or `paths`).
pub fn role_collection(method_type: &str) -> Option<&'static str> {
    match method_type {
        TOKEN_METHOD => Some("roles"),
        "userpass" => Some("users"),
        "cert" => Some("certs"),
        "ldap" | "okta" | "github" | "radius" => None,
        _ => Some("role"),
    }
}

/// The named collections of an auth method besides roles, by plan key
/// (each is also the Vault path segment).
pub const NAMED_COLLECTIONS: [&str; 3] = ["users", "groups", "certs"];

/// The answer Vault gives when a method or engine type is not in its plugin catalog.
pub fn is_missing_plugin(message: &str) -> bool {
    message.contains("plugin not found in the catalog")
}
