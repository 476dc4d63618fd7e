//! The Kubernetes API stand-in itself, over real HTTP: Secret create and
//! replace with the API server's resourceVersion semantics and `Status`
//! failures, the write-only denials and the concurrent writer tests rely on.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::support::bao::http_request;
use crate::support::kube_api::{base64_encode, KubeApi};

const NS: &str = "apps";
const NAME: &str = "vault-token";
const READER: &str = "system:serviceaccount:default:vault-converge";

fn secret_path(name: &str) -> String {
    format!("/api/v1/namespaces/{NS}/secrets/{name}")
}

/// One request; `token` is sent as a bearer token. Returns the status and
/// the JSON body.
fn call(
    kube: &KubeApi,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let body = body.map(Value::to_string);
    let (code, bytes) = http_request(
        &kube.addr().to_string(),
        method,
        path,
        &headers,
        body.as_deref().map(str::as_bytes),
    )
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: {code} with a non-JSON body ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (code, json)
}

fn get(kube: &KubeApi, name: &str) -> (u16, Value) {
    call(
        kube,
        "GET",
        &secret_path(name),
        Some(&kube.reader_token),
        None,
    )
}

fn put(kube: &KubeApi, name: &str, body: &Value) -> (u16, Value) {
    call(
        kube,
        "PUT",
        &secret_path(name),
        Some(&kube.reader_token),
        Some(body),
    )
}

fn post(kube: &KubeApi, body: &Value) -> (u16, Value) {
    call(
        kube,
        "POST",
        &format!("/api/v1/namespaces/{NS}/secrets"),
        Some(&kube.reader_token),
        Some(body),
    )
}

/// A `v1` `Secret` body for `name` with this `stringData`, and
/// `metadata.resourceVersion` when `rv` is given.
fn secret_body(name: &str, rv: Option<&str>, string_data: Value) -> Value {
    let mut body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NS},
        "type": "Opaque",
        "stringData": string_data,
    });
    if let Some(rv) = rv {
        body["metadata"]["resourceVersion"] = json!(rv);
    }
    body
}

fn rv_of(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric resourceVersion in {obj}"))
}

/// The full `Status` object the API server answers, field for field.
fn assert_status(
    (code, body): &(u16, Value),
    want_code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) {
    let mut want = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": want_code,
    });
    if let Some(d) = details {
        want["details"] = d;
    }
    assert_eq!((*code, body), (want_code, &want));
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn put_with_the_current_resource_version_replaces_the_secret() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("old", "gone")]);
    let (code, before) = get(&kube, NAME);
    assert_eq!(code, 200, "{before}");
    let rv = before["metadata"]["resourceVersion"].as_str().unwrap();
    assert_eq!(kube.secret_resource_version(NS, NAME).as_deref(), Some(rv));

    let mut body = secret_body(NAME, Some(rv), json!({"token": "s.new"}));
    body["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "vault-converge"});
    body["metadata"]["annotations"] = json!({"note": "rotated"});
    body["data"] = json!({"extra": base64_encode(b"kept")});
    let (code, after) = put(&kube, NAME, &body);
    assert_eq!(code, 200, "{after}");
    assert_eq!(after["kind"], "Secret");
    assert_eq!(after["apiVersion"], "v1");
    assert!(rv_of(&after) > rv_of(&before), "{before} -> {after}");
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(
        after["metadata"]["creationTimestamp"],
        before["metadata"]["creationTimestamp"]
    );
    assert_eq!(
        after["metadata"]["labels"],
        json!({"app.kubernetes.io/managed-by": "vault-converge"})
    );
    assert_eq!(after["metadata"]["annotations"], json!({"note": "rotated"}));
    // PUT replaces `data`: the old key is gone, stringData was encoded.
    assert_eq!(
        after["data"],
        json!({"extra": base64_encode(b"kept"), "token": base64_encode(b"s.new")})
    );
    assert!(after.get("stringData").is_none(), "{after}");

    assert_eq!(
        kube.secret_data(NS, NAME),
        Some(map(&[("extra", "kept"), ("token", "s.new")]))
    );
    assert_eq!(
        kube.secret_labels(NS, NAME),
        Some(map(&[("app.kubernetes.io/managed-by", "vault-converge")]))
    );
    assert_eq!(
        kube.secret_resource_version(NS, NAME),
        Some(rv_of(&after).to_string())
    );
    assert_eq!(kube.secret_writes(NS, NAME), 1);
    let (code, read) = get(&kube, NAME);
    assert_eq!((code, &read), (200, &after));

    // The same content again is a no-op update: 200, nothing rewritten.
    let body = json!({
        "metadata": after["metadata"].clone(),
        "data": after["data"].clone(),
    });
    let (code, again) = put(&kube, NAME, &body);
    assert_eq!((code, &again), (200, &after));
    assert_eq!(kube.secret_writes(NS, NAME), 2);
}

#[test]
fn put_with_a_stale_resource_version_is_a_conflict() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("token", "first")]);
    let stale = kube.secret_resource_version(NS, NAME).unwrap();
    kube.set_secret(NS, NAME, &[("token", "second")]);
    let current = kube.secret_resource_version(NS, NAME).unwrap();
    assert_ne!(stale, current);

    let answer = put(
        &kube,
        NAME,
        &secret_body(NAME, Some(&stale), json!({"token": "mine"})),
    );
    assert_status(
        &answer,
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on secrets \"{NAME}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
        Some(json!({"name": NAME, "kind": "secrets"})),
    );
    assert_eq!(
        kube.secret_data(NS, NAME),
        Some(map(&[("token", "second")]))
    );
    assert_eq!(kube.secret_resource_version(NS, NAME), Some(current));
    assert_eq!(kube.secret_writes(NS, NAME), 0);
}

#[test]
fn put_without_a_resource_version_is_unconditional() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("token", "first")]);
    kube.set_secret(NS, NAME, &[("token", "second")]);
    let rv = kube.secret_resource_version(NS, NAME).unwrap();

    let (code, after) = put(
        &kube,
        NAME,
        &secret_body(NAME, None, json!({"token": "mine"})),
    );
    assert_eq!(code, 200, "{after}");
    assert!(rv_of(&after) > rv.parse().unwrap());
    assert_eq!(kube.secret_data(NS, NAME), Some(map(&[("token", "mine")])));
    assert_eq!(kube.secret_writes(NS, NAME), 1);
}

#[test]
fn put_of_a_missing_secret_is_not_found() {
    let kube = KubeApi::start();
    let answer = put(
        &kube,
        "absent",
        &secret_body("absent", None, json!({"token": "x"})),
    );
    assert_status(
        &answer,
        404,
        "NotFound",
        "secrets \"absent\" not found",
        Some(json!({"name": "absent", "kind": "secrets"})),
    );
    // A resourceVersion does not change that, and nothing is created.
    let answer = put(
        &kube,
        "absent",
        &secret_body("absent", Some("1"), json!({"token": "x"})),
    );
    assert_eq!(answer.0, 404, "{}", answer.1);
    assert_eq!(kube.secret_data(NS, "absent"), None);
    assert_eq!(kube.secret_writes(NS, "absent"), 0);
}

#[test]
fn put_naming_another_object_than_the_url_is_a_bad_request() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("token", "first")]);
    let answer = put(
        &kube,
        NAME,
        &secret_body("other", None, json!({"token": "x"})),
    );
    assert_status(
        &answer,
        400,
        "BadRequest",
        &format!("the name of the object (other) does not match the name on the URL ({NAME})"),
        None,
    );
    let mut body = secret_body(NAME, None, json!({"token": "x"}));
    body["metadata"]["namespace"] = json!("elsewhere");
    let answer = put(&kube, NAME, &body);
    assert_status(
        &answer,
        400,
        "BadRequest",
        &format!(
            "the namespace of the object (elsewhere) does not match the namespace on the request ({NS})"
        ),
        None,
    );
    assert_eq!(kube.secret_data(NS, NAME), Some(map(&[("token", "first")])));
}

#[test]
fn forbid_writes_denies_create_and_update_but_not_get() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("token", "first")]);
    kube.forbid_writes(NS, NAME);

    let (code, read) = get(&kube, NAME);
    assert_eq!(code, 200, "{read}");
    let answer = put(&kube, NAME, &secret_body(NAME, None, json!({"token": "x"})));
    assert_status(
        &answer,
        403,
        "Forbidden",
        &format!(
            "secrets \"{NAME}\" is forbidden: User \"{READER}\" cannot update resource \"secrets\" in API group \"\" in the namespace \"{NS}\""
        ),
        Some(json!({"name": NAME, "kind": "secrets"})),
    );
    // A create names no object in the URL, so the API server's message
    // names none either.
    kube.remove_secret(NS, NAME);
    let answer = post(&kube, &secret_body(NAME, None, json!({"token": "x"})));
    assert_status(
        &answer,
        403,
        "Forbidden",
        &format!(
            "secrets is forbidden: User \"{READER}\" cannot create resource \"secrets\" in API group \"\" in the namespace \"{NS}\""
        ),
        Some(json!({"kind": "secrets"})),
    );
    assert_eq!(kube.secret_data(NS, NAME), None);
    assert_eq!(kube.secret_writes(NS, NAME), 0);

    // Other secrets stay writable.
    let (code, created) = post(&kube, &secret_body("free", None, json!({"k": "v"})));
    assert_eq!(code, 201, "{created}");
}

#[test]
fn a_write_between_get_and_put_makes_the_put_conflict() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("token", "first")]);
    kube.change_after_next_get(NS, NAME, "token", "theirs");

    let (code, read) = get(&kube, NAME);
    assert_eq!(code, 200, "{read}");
    // The answer is the object before the other writer's change.
    assert_eq!(read["data"], json!({"token": base64_encode(b"first")}));
    let read_rv = read["metadata"]["resourceVersion"].as_str().unwrap();
    assert_ne!(
        kube.secret_resource_version(NS, NAME).as_deref(),
        Some(read_rv)
    );

    let (code, status) = put(
        &kube,
        NAME,
        &secret_body(NAME, Some(read_rv), json!({"token": "mine"})),
    );
    assert_eq!(
        (code, &status["reason"]),
        (409, &json!("Conflict")),
        "{status}"
    );
    assert_eq!(
        kube.secret_data(NS, NAME),
        Some(map(&[("token", "theirs")]))
    );
    assert_eq!(kube.secret_writes(NS, NAME), 0);

    // Read again, write again: the change was a one-off.
    let (_, read) = get(&kube, NAME);
    assert_eq!(read["data"], json!({"token": base64_encode(b"theirs")}));
    let rv = read["metadata"]["resourceVersion"].as_str().unwrap();
    let (code, after) = put(
        &kube,
        NAME,
        &secret_body(NAME, Some(rv), json!({"token": "mine"})),
    );
    assert_eq!(code, 200, "{after}");
    assert_eq!(kube.secret_data(NS, NAME), Some(map(&[("token", "mine")])));
    assert_eq!(kube.secret_writes(NS, NAME), 1);
}

#[test]
fn create_keeps_labels_and_every_read_returns_them() {
    let kube = KubeApi::start();
    let mut body = secret_body(NAME, None, json!({"token": "s.abc"}));
    body["metadata"]["labels"] = json!({"team": "platform"});
    body["metadata"]["annotations"] = json!({"owner": "vault-converge"});
    let (code, created) = post(&kube, &body);
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["labels"], json!({"team": "platform"}));
    assert_eq!(
        created["metadata"]["annotations"],
        json!({"owner": "vault-converge"})
    );
    assert_eq!(
        kube.secret_labels(NS, NAME),
        Some(map(&[("team", "platform")]))
    );
    assert_eq!(kube.secret_writes(NS, NAME), 1);

    let (code, read) = get(&kube, NAME);
    assert_eq!((code, &read), (200, &created));
    let (code, list) = call(
        &kube,
        "GET",
        &format!("/api/v1/namespaces/{NS}/secrets"),
        Some(&kube.reader_token),
        None,
    );
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["items"][0]["metadata"], created["metadata"]);

    let answer = post(&kube, &body);
    assert_eq!(answer.0, 409, "{}", answer.1);
    assert_eq!(kube.secret_writes(NS, NAME), 1);

    for method in ["PATCH", "DELETE"] {
        let answer = call(
            &kube,
            method,
            &secret_path(NAME),
            Some(&kube.reader_token),
            Some(&json!({})),
        );
        assert_status(
            &answer,
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(json!({})),
        );
    }
}

#[test]
fn writes_need_the_reader_token() {
    let kube = KubeApi::start();
    kube.set_secret(NS, NAME, &[("token", "first")]);
    let body = secret_body(NAME, None, json!({"token": "x"}));
    let collection = format!("/api/v1/namespaces/{NS}/secrets");
    for (method, path) in [
        ("GET", secret_path(NAME)),
        ("PUT", secret_path(NAME)),
        ("POST", collection.clone()),
    ] {
        for token in [None, Some("not-a-jwt")] {
            let answer = call(
                &kube,
                method,
                &path,
                token,
                (method != "GET").then_some(&body),
            );
            assert_status(&answer, 401, "Unauthorized", "Unauthorized", None);
        }
    }
    // A known identity without the grant: RBAC's 403.
    let answer = call(
        &kube,
        "PUT",
        &secret_path(NAME),
        Some(&kube.reviewer_token),
        Some(&body),
    );
    assert_eq!(
        (answer.0, &answer.1["reason"]),
        (403, &json!("Forbidden")),
        "{}",
        answer.1
    );
    assert_eq!(kube.secret_data(NS, NAME), Some(map(&[("token", "first")])));
    assert_eq!(kube.secret_writes(NS, NAME), 0);
}
