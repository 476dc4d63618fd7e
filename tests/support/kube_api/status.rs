//! `v1` `Status` failure objects, shaped like the API server's
//! (`kind`, `apiVersion`, `metadata`, `status`, `message`, `reason`,
//! `details`, `code`), and the responses that carry them.

use serde_json::{json, Value};

use super::http::Response;

pub(super) fn status_failure(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    v
}

pub(super) fn fail(code: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    Response {
        code,
        body: status_failure(code, reason, message, details),
    }
}

pub(super) fn unauthorized() -> Response {
    fail(401, "Unauthorized", "Unauthorized", None)
}

pub(super) fn not_found_path() -> Response {
    fail(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

pub(super) fn method_not_allowed() -> Response {
    fail(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        Some(json!({})),
    )
}
