//! Where objects live in Vault, by kind: the one place that knows Vault's
//! path layout, below both the plan checks and the resources.

pub mod auth;
pub mod kv;
