//! One small endpoint type for any Vault path, executed through vaultrs'
//! client so it shares its connection pool, token and namespace headers.
//! Used where vaultrs has no typed endpoint (mount tune, sys/health on
//! OpenBao, Redis connections) and for the generic read → compare → write
//! that every resource needs.

use rustify::enums::{RequestMethod, RequestType, ResponseType};
use rustify::errors::ClientError;
use rustify::Endpoint;

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
}

pub struct RawEndpoint {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    /// Serialized JSON body; never logged (it may hold secrets).
    pub body: Option<Vec<u8>>,
}

impl Endpoint for RawEndpoint {
    type Response = serde_json::Value;
    const REQUEST_BODY_TYPE: RequestType = RequestType::JSON;
    const RESPONSE_BODY_TYPE: ResponseType = ResponseType::JSON;

    fn path(&self) -> String {
        self.path.clone()
    }

    fn method(&self) -> RequestMethod {
        match self.method {
            Method::Get => RequestMethod::GET,
            Method::List => RequestMethod::LIST,
            Method::Post => RequestMethod::POST,
            Method::Delete => RequestMethod::DELETE,
        }
    }

    fn query(&self) -> Result<Option<String>, ClientError> {
        Ok(self.query.clone())
    }

    fn body(&self) -> Result<Option<Vec<u8>>, ClientError> {
        Ok(self.body.clone())
    }
}
