//! `secretsync demo`: the founding story against an in-process sandbox (the work is in
//! `crate::demo`).

use super::{Context, ExitStatus};
use crate::error::Error;

pub fn run(cx: &mut Context) -> Result<ExitStatus, Error> {
    // The demo prints text only, so its colour follows the terminal alone.
    let style = cx.ui.style(false);
    crate::demo::run(cx.out, style)
}
