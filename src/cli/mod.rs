//! The binary's parts: arguments, logging, exit codes.

pub mod args;
pub mod exit;
pub mod logging;
