//! secretsync makes GitHub Actions secrets match where their values really live.
//!
//! The binary is a thin shell over [`run`]. The plan is a pure function (`plan`); everything that
//! touches the world (sources, GitHub, the state file, the terminal) sits at the edges.
#![forbid(unsafe_code)]
// Errors carry the repository, operation and GitHub's message so each can be reported in one
// line; they travel only on failure paths, where their size costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod adopt;
pub mod apply;
pub mod audit;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod dotenv;
pub mod error;
pub mod exit;
pub mod github;
pub mod init;
pub mod man;
pub mod new_value;
pub mod perms;
pub mod plan;
pub mod precedence;
pub mod progress;
pub mod registry;
pub mod render;
pub mod rotation;
pub mod run;
pub mod scope;
pub mod seal;
pub mod shared_state;
pub mod source;
pub mod state;
pub mod sync;

pub use run::run;
