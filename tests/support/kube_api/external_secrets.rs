//! The External Secrets Operator's `ExternalSecret` custom resources:
//! `GET /apis/external-secrets.io/{version}/externalsecrets` (all
//! namespaces) and `.../namespaces/{ns}/externalsecrets`, answered with an
//! `ExternalSecretList` like the API server's (`apiVersion`, `kind`,
//! `metadata.resourceVersion`, `items` with their own `apiVersion`/`kind`),
//! paged by `limit` and `continue`. A version the stand-in does not serve
//! is a 404 like an unknown group version (v1 is served, v1beta1 only when
//! a test asks, see `KubeApi::serve_external_secrets`). Only the reader may
//! list; others get the RBAC 403.

use serde_json::{json, Value};

use super::encoding::{now_secs, rfc3339, uuid_v4};
use super::http::{Request, Response};
use super::jwt::IssuedJwt;
use super::state::State;
use super::status::{fail, not_found_path};

const GROUP: &str = "external-secrets.io";

/// One stored ExternalSecret.
#[derive(Clone)]
pub(super) struct StoredExternalSecret {
    pub uid: String,
    pub resource_version: u64,
    pub creation_timestamp: String,
    pub spec: Value,
}

impl StoredExternalSecret {
    pub fn new(resource_version: u64, spec: Value) -> StoredExternalSecret {
        StoredExternalSecret {
            uid: uuid_v4(),
            resource_version,
            creation_timestamp: rfc3339(now_secs()),
            spec,
        }
    }
}

fn forbidden(ns: Option<&str>, user: &IssuedJwt) -> Response {
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    fail(
        403,
        "Forbidden",
        &format!(
            "externalsecrets.{GROUP} is forbidden: User \"{}\" cannot list resource \"externalsecrets\" in API group \"{GROUP}\" {scope}",
            user.username()
        ),
        Some(json!({"group": GROUP, "kind": "externalsecrets"})),
    )
}

/// `GET .../{version}[/namespaces/{ns}]/externalsecrets`.
pub(super) fn list_external_secrets(
    st: &State,
    version: &str,
    ns: Option<&str>,
    req: &Request,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    if !st.external_secret_versions.iter().any(|v| v == version) {
        return not_found_path();
    }
    if req.method != "GET" {
        return super::status::method_not_allowed();
    }
    if !is_reader {
        return forbidden(ns, user);
    }
    let api_version = format!("{GROUP}/{version}");
    let all: Vec<Value> = st
        .external_secrets
        .iter()
        .filter(|((n, _), _)| ns.is_none_or(|ns| n == ns))
        .map(|((n, name), es)| {
            json!({
                "apiVersion": api_version,
                "kind": "ExternalSecret",
                "metadata": {
                    "name": name,
                    "namespace": n,
                    "uid": es.uid,
                    "resourceVersion": es.resource_version.to_string(),
                    "generation": 1,
                    "creationTimestamp": es.creation_timestamp,
                },
                "spec": es.spec,
            })
        })
        .collect();
    // `continue` is an opaque token to clients; here it is the next offset.
    let start: usize = req
        .query_param("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = req
        .query_param("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(all.len());
    let items = all.get(start.min(end)..end).unwrap_or_default().to_vec();
    let mut metadata = json!({"resourceVersion": st.resource_version.to_string()});
    if end < all.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(all.len() - end);
    }
    Response {
        code: 200,
        body: json!({
            "apiVersion": api_version,
            "kind": "ExternalSecretList",
            "metadata": metadata,
            "items": items,
        }),
    }
}
