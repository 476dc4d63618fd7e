//! Tests of settings: addresses, credentials, flexible values, redaction.

use super::*;
use serde_json::json;

#[test]
fn vault_addresses_need_a_scheme_and_a_host() {
    for good in [
        "http://127.0.0.1:8200",
        "https://vault.example",
        "http://[::1]:8200/",
    ] {
        assert!(validate_addr(good).is_ok(), "{good}");
    }
    for (bad, problem) in [
        ("127.0.0.1:8200", "has no scheme"),
        ("vault:8200", "has no scheme"),
        ("8200", "has no scheme"),
        ("", "is empty"),
        ("  ", "is empty"),
        ("http://", "is not a URL"),
        ("file:///etc/passwd", "has scheme `file`"),
        ("garbage", "has no scheme"),
    ] {
        let err = validate_addr(bad).unwrap_err().to_string();
        assert!(err.contains(problem), "{bad}: {err}");
        assert!(err.contains("like http://127.0.0.1:8200"), "{err}");
    }
}

#[test]
fn booleans_are_read_like_the_vault_cli_reads_them() {
    let read = |v: serde_json::Value| flexible_bool(v).unwrap();
    for yes in [
        json!(true),
        json!(1),
        json!("1"),
        json!("TRUE"),
        json!("t"),
        json!(2),
    ] {
        assert!(read(yes.clone()), "{yes}");
    }
    for no in [
        json!(false),
        json!(0),
        json!("0"),
        json!("false"),
        json!(""),
    ] {
        assert!(!read(no.clone()), "{no}");
    }
}

#[test]
fn approle_needs_both_credentials_before_any_request() {
    let approle = Settings {
        auth_method: "approle".into(),
        role_id: Some(Secret::new("settings-test-role-id")),
        ..Settings::default()
    };
    let err = approle.validate().unwrap_err().to_string();
    assert!(
        err.contains("set VAULT_CONVERGE_SECRET_ID or VAULT_CONVERGE_SECRET_ID_FILE"),
        "{err}"
    );
    let with_file = Settings {
        secret_id_file: Some(PathBuf::from("/run/secrets/secret-id")),
        ..approle
    };
    assert!(with_file.validate().is_ok());
}

#[test]
fn debug_and_serialized_settings_never_show_credentials() {
    let settings = Settings {
        token: Some(Secret::new("hvs.settings-test-token")),
        secret_id: Some(Secret::new("settings-test-secret-id")),
        ..Settings::default()
    };
    let debug = format!("{settings:?}");
    let json = serde_json::to_string(&settings).unwrap();
    for text in [debug, json] {
        assert!(!text.contains("settings-test"), "{text}");
    }
}
