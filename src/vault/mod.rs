//! Talking to Vault/OpenBao: the client, the raw endpoint, readiness.

pub mod client;
pub mod endpoint;
pub mod error;
pub mod health;
pub mod login;
pub mod outage;
pub mod schema;
pub mod transport;

pub use client::{Connection, RequestCounts, RetryPolicy, Vault};
pub use endpoint::Method;
pub use error::VaultError;
