//! Leaving out what the server filled in: empty values, zero durations,
//! `false` flags (except those whose default is `true`), a few known
//! defaults, read-only fields, and the deprecated twins of token fields.

use serde_json::{Map, Value as Json};

/// Flags whose default is `true`: an explicit `false` must stay.
const TRUE_BY_DEFAULT: &[&str] = &[
    "bind_secret_id",
    "verify_connection",
    "disable_iss_validation",
    "allow_bare_domains_default",
    "enforce_hostnames",
    "allow_ip_sans",
    "allow_localhost",
    "server_flag",
    "client_flag",
    "use_csr_common_name",
    "use_csr_sans",
    "generate_lease",
    "require_cn",
    "allow_wildcard_certificates",
];

/// Values the server fills in by default.
const DEFAULTS: &[(&str, &str)] = &[
    ("token_type", "default"),
    ("token_type", "default-service"),
    ("alias_name_source", "serviceaccount_uid"),
    ("listing_visibility", "hidden"),
    ("key_type", "rsa"),
    ("signature_bits", "0"),
    ("user_claim_json_pointer", "false"),
];

/// Fields a read returns that are not settings.
const READ_ONLY: &[&str] = &[
    "last_vault_rotation",
    "last_updated_time",
    "creation_time",
    "last_update_time",
    "secret_id_num_uses_remaining",
    "id",
    "accessor",
    "uuid",
    "plugin_version",
    "running_plugin_version",
    "running_sha256",
    "deprecation_status",
    "external_entropy_access",
    // pki roles: returned, but not a field of the role endpoint any more.
    "allow_token_displayname",
];

/// Deprecated names Vault returns next to the `token_*` fields.
const TWINS: &[(&str, &str)] = &[
    ("policies", "token_policies"),
    ("period", "token_period"),
    ("ttl", "token_ttl"),
    ("max_ttl", "token_max_ttl"),
    ("bound_cidrs", "token_bound_cidrs"),
    ("num_uses", "token_num_uses"),
];

/// `fields` without defaults, empties, read-only fields and deprecated twins.
pub fn clean(fields: &Map<String, Json>) -> Map<String, Json> {
    fields
        .iter()
        .filter(|(k, v)| !is_default(k, v))
        .filter(|(k, _)| !READ_ONLY.contains(&k.as_str()))
        .filter(|(k, _)| {
            !TWINS
                .iter()
                .any(|(old, new)| k.as_str() == *old && fields.contains_key(*new))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn is_default(key: &str, value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::Bool(false) => !TRUE_BY_DEFAULT.contains(&key),
        Json::Bool(true) => false,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty() || DEFAULTS.iter().any(|(k, d)| *k == key && d == s),
        Json::Array(items) => items.is_empty(),
        Json::Object(map) => map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_empties_and_twins_are_left_out() {
        let read = json!({
            "token_policies": ["api"], "policies": ["api"], "token_ttl": 3600, "ttl": 3600,
            "token_max_ttl": 0, "token_bound_cidrs": [], "token_type": "default",
            "bind_secret_id": false, "local_secret_ids": false, "audience": "",
            "alias_name_source": "serviceaccount_uid", "bound_service_account_names": ["api"],
            "last_vault_rotation": "2026-01-01T00:00:00Z"
        });
        let cleaned = clean(read.as_object().unwrap());
        assert_eq!(
            Json::Object(cleaned),
            json!({
                "token_policies": ["api"], "token_ttl": 3600,
                "bind_secret_id": false, "bound_service_account_names": ["api"]
            })
        );
    }
}
