//! `secretsync doctor`: without writing anything, whether the token works, whose it is and what
//! kind, and whether each target can be read.

use std::io::Write;

use crate::config::Config;
use crate::error::Error;
use crate::github::Pacing;

pub fn run(config: &Config, json: bool, pacing: Pacing, out: &mut dyn Write) -> Result<i32, Error> {
    let _ = (config, json, pacing, out);
    Err(Error::Usage("doctor is not built yet".into()))
}
