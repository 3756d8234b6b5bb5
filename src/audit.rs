//! `secretsync audit`: which secrets the workflows use, compared with those declared and present.

use std::io::Write;
use std::path::PathBuf;

use crate::config::Config;
use crate::error::Error;
use crate::github::Pacing;

/// `secretsync audit`'s options, free of clap.
#[derive(Debug, Clone)]
pub struct Options {
    pub checkout: PathBuf,
    pub json: bool,
    pub detailed_exitcode: bool,
    pub offline: bool,
}

pub fn run(
    config: &Config,
    options: &Options,
    pacing: Pacing,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    let _ = (config, options, pacing, out);
    Err(Error::Usage("audit is not built yet".into()))
}
