//! vault-converge: make a Vault or OpenBao server match a YAML plan, then verify it works.

#![forbid(unsafe_code)]

pub mod access;
pub mod app;
pub mod bootstrap;
pub mod duration;
pub mod engine;
pub mod export;
pub mod free;
pub mod paths;
pub mod plan;
pub mod registry;
pub mod resources;
pub mod secret;
pub mod settings;
pub mod sources;
pub mod token_store;
pub mod vault;
pub mod verify;
