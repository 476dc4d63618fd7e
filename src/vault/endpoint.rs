//! The HTTP methods Vault's API uses, LIST included.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    List,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::List => "LIST",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }

    pub fn http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            // Vault's own verb; `from_bytes` cannot fail for plain letters.
            Method::List => http::Method::from_bytes(b"LIST").unwrap_or(http::Method::GET),
            Method::Post => http::Method::POST,
            Method::Delete => http::Method::DELETE,
        }
    }
}
