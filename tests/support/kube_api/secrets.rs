//! The `v1` `Secret` endpoints: read one, list a namespace, create. RBAC is
//! modelled as "only the reader token may touch secrets", plus the per-secret
//! denials tests set up.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::encoding::{base64_encode, now_secs, rfc3339, uuid_v4};
use super::http::{Request, Response};
use super::jwt::IssuedJwt;
use super::state::{State, StoredSecret};
use super::status::fail;

/// `GET /api/v1/namespaces/{ns}/secrets/{name}`: 200 with the object, 404
/// NotFound, or 403 for identities other than the reader and forbidden
/// secrets.
pub(super) fn get_secret(
    st: &State,
    ns: &str,
    name: &str,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    let (ns, name) = (ns.to_string(), name.to_string());
    if !is_reader || st.forbidden.contains(&(ns.clone(), name.clone())) {
        return fail(
            403,
            "Forbidden",
            &format!(
                "secrets \"{name}\" is forbidden: User \"{}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
                user.username()
            ),
            Some(json!({"name": name, "kind": "secrets"})),
        );
    }
    match st.secrets.get(&(ns.clone(), name.clone())) {
        Some(s) => {
            let mut obj = secret_json(&ns, &name, s);
            obj["apiVersion"] = json!("v1");
            obj["kind"] = json!("Secret");
            Response {
                code: 200,
                body: obj,
            }
        }
        None => fail(
            404,
            "NotFound",
            &format!("secrets \"{name}\" not found"),
            Some(json!({"name": name, "kind": "secrets"})),
        ),
    }
}

/// `GET /api/v1/namespaces/{ns}/secrets`: a `SecretList`, or 403 for
/// identities other than the reader.
pub(super) fn list_secrets(st: &State, ns: &str, is_reader: bool, user: &IssuedJwt) -> Response {
    if !is_reader {
        return fail(
            403,
            "Forbidden",
            &format!(
                "secrets is forbidden: User \"{}\" cannot list resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
                user.username()
            ),
            Some(json!({"kind": "secrets"})),
        );
    }
    let items: Vec<Value> = st
        .secrets
        .iter()
        .filter(|((n, _), _)| n == ns)
        .map(|((n, name), s)| secret_json(n, name, s))
        .collect();
    Response {
        code: 200,
        body: json!({
            "kind": "SecretList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": st.resource_version.to_string()},
            "items": items,
        }),
    }
}

/// `POST /api/v1/namespaces/{ns}/secrets`: 201 with the stored object, 409
/// AlreadyExists, 403 for identities other than the reader, 400 for a bad body.
pub(super) fn create_secret(
    st: &mut State,
    ns: &str,
    req: &Request,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return fail(400, "BadRequest", &format!("invalid Secret: {e}"), None),
    };
    let Some(name) = body.pointer("/metadata/name").and_then(Value::as_str) else {
        return fail(
            422,
            "Invalid",
            "Secret \"\" is invalid: metadata.name: Required value",
            None,
        );
    };
    let key = (ns.to_string(), name.to_string());
    if !is_reader || st.forbidden.contains(&key) {
        return fail(
            403,
            "Forbidden",
            &format!(
                "secrets is forbidden: User \"{}\" cannot create resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
                user.username()
            ),
            Some(json!({"kind": "secrets"})),
        );
    }
    if st.secrets.contains_key(&key) {
        return fail(
            409,
            "AlreadyExists",
            &format!("secrets \"{name}\" already exists"),
            Some(json!({"name": name, "kind": "secrets"})),
        );
    }
    let mut data: BTreeMap<String, String> = body
        .get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(plain) = body.get("stringData").and_then(Value::as_object) {
        for (k, v) in plain {
            if let Some(v) = v.as_str() {
                data.insert(k.clone(), base64_encode(v.as_bytes()));
            }
        }
    }
    st.resource_version += 1;
    let secret = StoredSecret {
        uid: uuid_v4(),
        resource_version: st.resource_version,
        creation_timestamp: rfc3339(now_secs()),
        data,
    };
    let mut obj = secret_json(ns, name, &secret);
    obj["apiVersion"] = json!("v1");
    obj["kind"] = json!("Secret");
    st.secrets.insert(key, secret);
    Response {
        code: 201,
        body: obj,
    }
}

fn secret_json(ns: &str, name: &str, s: &StoredSecret) -> Value {
    let mut v = json!({
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": s.uid,
            "resourceVersion": s.resource_version.to_string(),
            "creationTimestamp": s.creation_timestamp,
        },
        "type": "Opaque",
    });
    // The API server leaves `data` out when it is empty.
    if !s.data.is_empty() {
        v["data"] = json!(s.data);
    }
    v
}
