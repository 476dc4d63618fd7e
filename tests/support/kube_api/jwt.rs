//! Service account JWTs: issuing them (syntactically valid `RS256` JWS with
//! the legacy and the projected service account claims, random signature),
//! checking a bearer against the issued and revoked ones, and answering
//! `TokenReview`s the way the API server's authenticator does.

use serde_json::{json, Value};

use super::encoding::{base64_decode, base64url_encode, now_secs, random_bytes, uuid_v4};
use super::http::{Request, Response};
use super::state::State;
use super::status::fail;
use super::{
    DEFAULT_AUDIENCE, ISSUER, JWT_LIFETIME_SECS, KUBECONFIG_NAMESPACE, READER_SERVICE_ACCOUNT,
    REVIEWER_NAMESPACE, REVIEWER_SERVICE_ACCOUNT,
};

/// What an issued JWT authenticates as, and until when.
#[derive(Clone)]
pub(super) struct IssuedJwt {
    namespace: String,
    service_account: String,
    uid: String,
    jti: String,
    audiences: Vec<String>,
    exp: u64,
}

impl IssuedJwt {
    pub fn username(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }
}

pub(super) fn issue_jwt(
    st: &mut State,
    namespace: &str,
    service_account: &str,
    audiences: &[&str],
) -> String {
    let uid = st
        .sa_uids
        .entry((namespace.to_string(), service_account.to_string()))
        .or_insert_with(uuid_v4)
        .clone();
    let now = now_secs();
    let jti = uuid_v4();
    let aud: Vec<String> = audiences.iter().map(|a| a.to_string()).collect();
    let header = json!({
        "alg": "RS256",
        "kid": base64url_encode(&random_bytes(32)),
        "typ": "JWT",
    });
    let claims = json!({
        "iss": ISSUER,
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
        "aud": aud,
        "iat": now,
        "nbf": now,
        "exp": now + JWT_LIFETIME_SECS,
        "jti": jti,
        // legacy (secret-based) service account token claims
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/service-account.name": service_account,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        // projected (bound) service account token claims
        "kubernetes.io": {
            "namespace": namespace,
            "serviceaccount": { "name": service_account, "uid": uid },
        },
    });
    let jwt = format!(
        "{}.{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(claims.to_string().as_bytes()),
        base64url_encode(&random_bytes(256)),
    );
    st.jwts.insert(
        jwt.clone(),
        IssuedJwt {
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            uid,
            jti,
            audiences: aud,
            exp: now + JWT_LIFETIME_SECS,
        },
    );
    jwt
}

/// Issue the reader's and the reviewer's JWTs and remember which is which:
/// (reader token, reviewer token).
pub(super) fn issue_stand_in_tokens(st: &mut State) -> (String, String) {
    let reader = issue_jwt(
        st,
        KUBECONFIG_NAMESPACE,
        READER_SERVICE_ACCOUNT,
        &[DEFAULT_AUDIENCE],
    );
    let reviewer = issue_jwt(
        st,
        REVIEWER_NAMESPACE,
        REVIEWER_SERVICE_ACCOUNT,
        &[DEFAULT_AUDIENCE],
    );
    st.reader_token = reader.clone();
    st.reviewer_token = reviewer.clone();
    (reader, reviewer)
}

/// The claims of a JWT (its middle segment, base64url JSON), unverified.
pub fn decode_jwt_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&base64_decode(payload)?).ok()
}

/// An issued, unrevoked, unexpired JWT.
pub(super) fn valid_jwt<'a>(st: &'a State, token: &str) -> Result<&'a IssuedJwt, &'static str> {
    match st.jwts.get(token) {
        None => Err("invalid bearer token, square/go-jose: error in cryptographic primitive"),
        Some(_) if st.revoked.contains(token) => {
            Err("invalid bearer token, service account token has been invalidated")
        }
        Some(j) if now_secs() > j.exp => {
            Err("invalid bearer token, service account token has expired")
        }
        Some(j) => Ok(j),
    }
}
pub(super) fn token_review(st: &State, req: &Request, caller: &IssuedJwt) -> Response {
    let mut review: Value = match serde_json::from_slice(&req.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return fail(
                400,
                "BadRequest",
                "the object provided is unrecognized (must be of type TokenReview)",
                None,
            )
        }
    };
    if let Some(kind) = review.get("kind").and_then(Value::as_str) {
        if kind != "TokenReview" {
            return fail(
                400,
                "BadRequest",
                &format!(
                    "the object provided is unrecognized (must be of type TokenReview): {kind}"
                ),
                None,
            );
        }
    }
    let token = review["spec"]["token"].as_str().unwrap_or("").to_string();
    if token.is_empty() {
        return fail(
            400,
            "BadRequest",
            "token is required for TokenReview in authentication",
            None,
        );
    }
    // Who may create tokenreviews: the reviewer, or a token reviewing itself.
    let bearer = req.bearer().unwrap_or("");
    if bearer != st.reviewer_token && bearer != token {
        return fail(
            403,
            "Forbidden",
            &format!(
                "tokenreviews.authentication.k8s.io is forbidden: User \"{}\" cannot create resource \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope",
                caller.username()
            ),
            Some(json!({"group": "authentication.k8s.io", "kind": "tokenreviews"})),
        );
    }
    let wanted: Vec<String> = review["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let status = match valid_jwt(st, &token) {
        Err(e) => json!({"user": {}, "authenticated": false, "error": e}),
        Ok(j) => {
            let audiences: Vec<String> = if wanted.is_empty() {
                vec![DEFAULT_AUDIENCE.to_string()]
            } else {
                wanted
                    .iter()
                    .filter(|a| j.audiences.contains(a))
                    .cloned()
                    .collect()
            };
            if !wanted.is_empty() && audiences.is_empty() {
                json!({
                    "user": {},
                    "authenticated": false,
                    "error": format!(
                        "[invalid bearer token, token audiences {:?} is invalid for the target audiences {:?}]",
                        j.audiences, wanted
                    ),
                })
            } else {
                json!({
                    "authenticated": true,
                    "user": {
                        "username": j.username(),
                        "uid": j.uid,
                        "groups": [
                            "system:serviceaccounts",
                            format!("system:serviceaccounts:{}", j.namespace),
                            "system:authenticated",
                        ],
                        "extra": {
                            "authentication.kubernetes.io/credential-id": [format!("JTI={}", j.jti)],
                        },
                    },
                    "audiences": audiences,
                })
            }
        }
    };
    review["kind"] = json!("TokenReview");
    review["apiVersion"] = json!("authentication.k8s.io/v1");
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = status;
    Response {
        code: 201,
        body: review,
    }
}
