//! Auth methods: where their roles live.

/// The collection roles live in: userpass calls them users.
pub fn role_collection(method_type: &str) -> &'static str {
    match method_type {
        "userpass" => "users",
        _ => "role",
    }
}
