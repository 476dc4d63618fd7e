//! The `v1` `Secret` endpoints: get, list, create (POST) and replace (PUT,
//! with optimistic concurrency on `metadata.resourceVersion`). RBAC is
//! modelled as "only the reader token may touch secrets", plus the
//! per-secret denials tests set up; the checks run in the API server's
//! order: 401, 403, 400, then 404/409.

use serde_json::{json, Value};

use super::http::{Request, Response};
use super::jwt::IssuedJwt;
use super::secret_object::{secret_json, secret_object, SentSecret};
use super::state::{secret_key, State, StoredSecret};
use super::status::fail;

/// The RBAC answer: `secrets "NAME" is forbidden: User ... cannot VERB ...`.
/// `name` is what the authorizer saw in the URL: none for list and create.
fn forbidden(verb: &str, ns: &str, name: Option<&str>, user: &IssuedJwt) -> Response {
    let reason = format!(
        "User \"{}\" cannot {verb} resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
        user.username()
    );
    match name {
        Some(name) => fail(
            403,
            "Forbidden",
            &format!("secrets \"{name}\" is forbidden: {reason}"),
            Some(json!({"name": name, "kind": "secrets"})),
        ),
        None => fail(
            403,
            "Forbidden",
            &format!("secrets is forbidden: {reason}"),
            Some(json!({"kind": "secrets"})),
        ),
    }
}

fn not_found(name: &str) -> Response {
    fail(
        404,
        "NotFound",
        &format!("secrets \"{name}\" not found"),
        Some(json!({"name": name, "kind": "secrets"})),
    )
}

fn bad_request(message: &str) -> Response {
    fail(400, "BadRequest", message, None)
}

/// `GET /api/v1/namespaces/{ns}/secrets/{name}`: 200 with the object, 404
/// NotFound, or 403 for identities other than the reader and forbidden
/// secrets. A change queued by `change_after_next_get` lands right after a
/// 200 is decided, so the answer carries the old object.
pub(super) fn get_secret(
    st: &mut State,
    ns: &str,
    name: &str,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    let key = secret_key(ns, name);
    if !is_reader || st.forbidden.contains(&key) {
        return forbidden("get", ns, Some(name), user);
    }
    let Some(s) = st.secrets.get(&key) else {
        return not_found(name);
    };
    let body = secret_object(ns, name, s);
    st.after_get(&key);
    Response { code: 200, body }
}

/// `GET /api/v1/namespaces/{ns}/secrets`: a `SecretList`, or 403 for
/// identities other than the reader.
pub(super) fn list_secrets(st: &State, ns: &str, is_reader: bool, user: &IssuedJwt) -> Response {
    if !is_reader {
        return forbidden("list", ns, None, user);
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
/// AlreadyExists, 403 for identities other than the reader and for
/// forbidden secrets, 400 for a bad body, 422 without a name.
pub(super) fn create_secret(
    st: &mut State,
    ns: &str,
    req: &Request,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    let sent = match SentSecret::parse(&req.body) {
        Ok(s) => s,
        Err(e) => return bad_request(&format!("invalid Secret: {e}")),
    };
    let Some(name) = sent.name else {
        return fail(
            422,
            "Invalid",
            "Secret \"\" is invalid: metadata.name: Required value",
            None,
        );
    };
    // The name is known only from the body here; the real authorizer sees
    // none for a create, hence the name-less message.
    let key = secret_key(ns, &name);
    if !is_reader || st.forbidden.contains(&key) || st.write_forbidden.contains(&key) {
        return forbidden("create", ns, None, user);
    }
    if st.secrets.contains_key(&key) {
        return fail(
            409,
            "AlreadyExists",
            &format!("secrets \"{name}\" already exists"),
            Some(json!({"name": name, "kind": "secrets"})),
        );
    }
    let mut secret = StoredSecret::new(st.next_resource_version());
    secret.data = sent.data;
    secret.labels = sent.labels;
    secret.annotations = sent.annotations;
    let body = secret_object(ns, &name, &secret);
    st.secrets.insert(key.clone(), secret);
    st.count_write(&key);
    Response { code: 201, body }
}

/// `PUT /api/v1/namespaces/{ns}/secrets/{name}`: replace `data`, labels and
/// annotations; 200 with the stored object. 403 as for create (verb
/// `update`), 400 for a bad body or a name/namespace differing from the URL,
/// 404 when the secret does not exist (secrets are not created on update),
/// 409 Conflict when `metadata.resourceVersion` is set and stale; without
/// one the update is unconditional. uid and creationTimestamp are kept; the
/// resourceVersion is bumped unless nothing changed (a no-op update, which
/// the API server does not write).
pub(super) fn replace_secret(
    st: &mut State,
    ns: &str,
    name: &str,
    req: &Request,
    is_reader: bool,
    user: &IssuedJwt,
) -> Response {
    let key = secret_key(ns, name);
    if !is_reader || st.forbidden.contains(&key) || st.write_forbidden.contains(&key) {
        return forbidden("update", ns, Some(name), user);
    }
    let sent = match SentSecret::parse(&req.body) {
        Ok(s) => s,
        Err(e) => return bad_request(&format!("invalid Secret: {e}")),
    };
    match sent.name.as_deref() {
        None => {
            return bad_request(&format!(
                "the name of the object ({name} based on URL) was undeterminable: name must be provided"
            ))
        }
        Some(sent_name) if sent_name != name => {
            return bad_request(&format!(
                "the name of the object ({sent_name}) does not match the name on the URL ({name})"
            ))
        }
        Some(_) => {}
    }
    if let Some(sent_ns) = sent.namespace.as_deref().filter(|n| *n != ns) {
        return bad_request(&format!(
            "the namespace of the object ({sent_ns}) does not match the namespace on the request ({ns})"
        ));
    }
    let Some(stored) = st.secrets.get(&key) else {
        return not_found(name);
    };
    if let Some(rv) = &sent.resource_version {
        if *rv != stored.resource_version.to_string() {
            return fail(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on secrets \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                ),
                Some(json!({"name": name, "kind": "secrets"})),
            );
        }
    }
    let mut updated = stored.clone();
    updated.data = sent.data;
    updated.labels = sent.labels;
    updated.annotations = sent.annotations;
    if updated != *stored {
        updated.resource_version = st.next_resource_version();
    }
    let body = secret_object(ns, name, &updated);
    st.secrets.insert(key.clone(), updated);
    st.count_write(&key);
    Response { code: 200, body }
}
