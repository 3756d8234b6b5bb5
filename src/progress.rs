//! A one-line progress display on the terminal for runs that take more than a moment: targets
//! planned and writes done. Nothing at all when stderr is not a terminal or output is JSON.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs shorter than this show no progress at all.
const QUIET_START: Duration = Duration::from_millis(500);
const REDRAW: Duration = Duration::from_millis(200);

#[derive(Default)]
pub struct Progress {
    pub targets: AtomicUsize,
    pub planned: AtomicUsize,
    pub writes: AtomicUsize,
    pub written: AtomicUsize,
    done: AtomicBool,
    drawn: AtomicBool,
}

impl Progress {
    fn line(&self) -> String {
        let planned = self.planned.load(Ordering::Relaxed);
        let targets = self.targets.load(Ordering::Relaxed);
        let writes = self.writes.load(Ordering::Relaxed);
        if writes == 0 {
            format!("secretsync: planned {planned}/{targets} targets")
        } else {
            let written = self.written.load(Ordering::Relaxed);
            format!("secretsync: planned {planned}/{targets} targets, written {written}/{writes}")
        }
    }

    pub fn tick(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Start drawing on stderr (when `enabled`); returns the handle to update and to finish.
    pub fn start(enabled: bool) -> Arc<Progress> {
        let progress = Arc::new(Progress::default());
        if enabled {
            let shown = Arc::clone(&progress);
            tokio::spawn(async move {
                tokio::time::sleep(QUIET_START).await;
                while !shown.done.load(Ordering::SeqCst) {
                    shown.draw(&format!("\r\x1b[2K{}", shown.line()));
                    shown.drawn.store(true, Ordering::SeqCst);
                    tokio::time::sleep(REDRAW).await;
                }
            });
        }
        progress
    }

    fn draw(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    /// Stop drawing and clear the line, before the report is printed.
    pub fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
        if self.drawn.load(Ordering::SeqCst) {
            self.draw("\r\x1b[2K");
        }
    }
}
