//! Talking to Vault/OpenBao: the client, the raw endpoint, readiness.

pub mod answer;
mod body;
pub mod client;
pub mod connection;
pub mod counts;
pub mod endpoint;
pub mod error;
pub mod health;
pub mod login;
pub mod outage;
mod path_trie;
mod proxy;
pub mod schema;
mod schema_doc;
pub mod schema_mounts;
pub mod schema_prefetch;
mod tls;
pub mod transport;

pub use body::json_bytes;
pub use client::Vault;
pub use connection::{Connection, RetryPolicy};
pub use counts::RequestCounts;
pub use endpoint::Method;
pub use error::VaultError;
