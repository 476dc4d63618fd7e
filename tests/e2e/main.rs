//! End-to-end tests: the real binary against real servers (OpenBao dev
//! servers, Redis, PostgreSQL) started on ephemeral loopback ports, and the
//! Kubernetes API stand-in from tests/support.

#[path = "../support/mod.rs"]
mod support;

mod auth_sections;
mod common;
mod data_path;
mod database;
mod engine;
mod exit_codes;
mod export;
mod external_secrets;
mod fail_right;
mod ha;
mod hook;
mod identity;
mod kube_stand_in;
mod kv_values;
mod minimal_policy;
mod once_and_order;
mod pki;
mod plan_files;
mod platform_example;
mod proxies;
mod prune;
mod redaction;
mod schema;
mod system_sections;
mod terminal;
mod tokens;
mod trust;
mod unknown_fields;
