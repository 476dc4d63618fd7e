//! An external group maps the groups claim of a real JWT login (a key made
//! with the `openssl` CLI) to its policy.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::{data, id, sorted};
use crate::common::*;
use crate::support::bao::Bao;
use crate::support::kube_api::base64url_encode;

/// An RSA key pair made with the `openssl` CLI: (private key file, public PEM).
fn rsa_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("jwt-key.pem");
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&["genrsa", "-out", key.to_str().unwrap(), "2048"]);
    let public = run(&["rsa", "-in", key.to_str().unwrap(), "-pubout"]);
    (key, String::from_utf8(public).unwrap())
}

/// An RS256 JWT with `claims`, signed with `key` by `openssl dgst`.
fn signed_jwt(dir: &Path, key: &Path, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let input = format!(
        "{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(claims.to_string().as_bytes())
    );
    let file = dir.join("jwt-input");
    std::fs::write(&file, &input).unwrap();
    let out = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-sign",
            key.to_str().unwrap(),
            file.to_str().unwrap(),
        ])
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{input}.{}", base64url_encode(&out.stdout))
}

#[test]
fn an_external_group_maps_a_jwt_logins_groups_claim_to_its_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = rsa_key(dir.path());
    let pem: String = public.lines().map(|l| format!("          {l}\n")).collect();
    let yaml = format!(
        r#"version: 1
auth:
  jwt:
    type: jwt
    config:
      jwt_validation_pubkeys:
        - |
{pem}    roles:
      login: {{ role_type: jwt, bound_audiences: [vault], user_claim: sub, groups_claim: groups, token_policies: [default] }}
policies:
  jwt-admin: 'path "secret/*" {{ capabilities = ["read"] }}'
identity:
  groups:
    platform-admins: {{ type: external, policies: [jwt-admin], alias: {{ auth: jwt, name: admins }} }}
"#
    );
    let bao = Bao::start_dev();
    let plan = plan_file(dir.path(), "plan.yaml", &yaml);
    let (out, _) = apply_json(&bao, &plan, &[]);
    out.assert_success();
    assert_stable(&bao, &plan, &[]);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": "carol", "aud": "vault", "groups": ["admins", "others"],
                        "iat": now, "nbf": now, "exp": now + 300});
    let jwt = signed_jwt(dir.path(), &key, &claims);
    let (code, login) = bao.api(
        "POST",
        "auth/jwt/login",
        Some(&json!({"role": "login", "jwt": jwt})),
    );
    assert_eq!(code, 200, "{login:#}");
    let token = login["auth"]["client_token"].as_str().unwrap();
    let (code, me) = bao.api_with_token(token, "GET", "auth/token/lookup-self", None);
    assert_eq!(code, 200, "{me:#}");
    assert_eq!(
        sorted(&me["data"]["identity_policies"]),
        ["jwt-admin"],
        "{me:#}"
    );
    let group = id(&bao, "identity/group/name/platform-admins");
    let entity = data(
        &bao,
        &format!(
            "identity/entity/id/{}",
            me["data"]["entity_id"].as_str().unwrap()
        ),
    );
    assert!(sorted(&entity["group_ids"]).contains(&group), "{entity:#}");
}
