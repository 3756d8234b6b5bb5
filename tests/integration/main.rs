//! Integration tests: the real `secretsync` binary against the in-process sandbox.
//! One module per feature; `support` holds the small test builder they share.

mod apply;
mod confirm;
mod errors;
mod exit_codes;
mod json;
mod leak;
mod sandbox_cli;
mod support;
