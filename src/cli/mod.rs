//! The binary's parts: arguments, logging, exit codes, the panic hook,
//! print-only commands.

pub mod args;
pub mod exit;
pub mod export;
pub mod failure;
pub mod logging;
pub mod print;
