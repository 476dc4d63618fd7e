//! Routing one request: log it, answer `/version` without authentication,
//! authenticate the bearer token (401 otherwise), and hand the request to the
//! endpoint its path and method name (404/405 `Status` otherwise).

use std::sync::Mutex;

use serde_json::{json, Value};

use super::external_secrets::list_external_secrets;
use super::http::{Request, Response};
use super::jwt::{token_review, valid_jwt};
use super::secrets::{create_secret, get_secret, list_secrets, replace_secret};
use super::state::{lock, State};
use super::status::{method_not_allowed, not_found_path, unauthorized};

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let mut st = lock(state);
    st.requests.push(format!("{} {}", req.method, req.path));
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();

    if segs == ["version"] {
        return if req.method == "GET" {
            Response {
                code: 200,
                body: version_info(),
            }
        } else {
            method_not_allowed()
        };
    }

    // Everything else needs an authenticated bearer token.
    let user = match req.bearer().map(|t| valid_jwt(&st, t)) {
        Some(Ok(j)) => j.clone(),
        _ => return unauthorized(),
    };
    let is_reader = req.bearer() == Some(st.reader_token.as_str());

    match segs.as_slice() {
        ["api", "v1", "namespaces", ns, "secrets", name] => match req.method.as_str() {
            "GET" => get_secret(&mut st, ns, name, is_reader, &user),
            "PUT" => replace_secret(&mut st, ns, name, req, is_reader, &user),
            _ => method_not_allowed(),
        },
        ["api", "v1", "namespaces", ns, "secrets"] if req.method == "POST" => {
            create_secret(&mut st, ns, req, is_reader, &user)
        }
        ["api", "v1", "namespaces", ns, "secrets"] => {
            if req.method != "GET" {
                return method_not_allowed();
            }
            list_secrets(&st, ns, is_reader, &user)
        }
        ["apis", "external-secrets.io", version, "externalsecrets"] => {
            list_external_secrets(&st, version, None, req, is_reader, &user)
        }
        ["apis", "external-secrets.io", version, "namespaces", ns, "externalsecrets"] => {
            list_external_secrets(&st, version, Some(ns), req, is_reader, &user)
        }
        ["apis", "authentication.k8s.io", "v1", "tokenreviews"] => {
            if req.method != "POST" {
                return method_not_allowed();
            }
            token_review(&st, req, &user)
        }
        _ => not_found_path(),
    }
}

fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.1",
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}
