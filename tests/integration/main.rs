//! Integration tests: the real `secretsync` binary against the in-process sandbox.
//! One module per feature; `support` holds the small test builder they share.
//! `real_keyring`, `interop_libsodium` and `prompt_pty` also drive real components (a Secret
//! Service, libsodium, a pty); see `.ci/install-real-components`.

mod adopt;
mod apply;
mod audit;
mod bad_input;
mod cli_help;
mod concurrency;
mod conditional;
mod confirm;
mod contract;
mod doctor;
mod dotenv;
mod edges;
mod errors;
mod exit_codes;
mod fanout;
mod faults;
mod init_from;
mod interop_libsodium;
mod interrupt;
mod json;
mod leak;
mod limits;
mod lost_records;
mod memory;
mod onboarding;
mod output;
mod pacing;
mod progress;
mod prompt_pty;
mod real_keyring;
mod registry;
mod registry_support;
mod round_trips;
mod sandbox_cli;
mod scopes;
mod shared_state;
mod sources;
mod support;
mod variables;
