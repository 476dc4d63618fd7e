//! vault-converge: make a Vault or OpenBao server match a YAML plan, then verify it works.

pub mod plan;
pub mod secret;
pub mod sources;
