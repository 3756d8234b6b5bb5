//! A one-line progress display on the terminal for runs that take more than a moment: targets
//! planned and writes done. Nothing at all when stderr is not a terminal or output is JSON.

use std::io::Write;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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
    /// The drawer and `finish` take turns on it, so that no line is drawn after the last clear.
    screen: Mutex<Screen>,
}

#[derive(Default)]
struct Screen {
    done: bool,
    drawn: bool,
}

/// The handle a run updates; the line is cleared when it is dropped, on every way out of the
/// run (an error included), if `finish` did not clear it before.
pub struct ProgressLine(Arc<Progress>);

impl Deref for ProgressLine {
    type Target = Progress;

    fn deref(&self) -> &Progress {
        &self.0
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.0.finish();
    }
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
    pub fn start(enabled: bool) -> ProgressLine {
        let progress = Arc::new(Progress::default());
        if enabled {
            let shown = Arc::clone(&progress);
            tokio::spawn(async move {
                tokio::time::sleep(QUIET_START).await;
                while shown.redraw() {
                    tokio::time::sleep(REDRAW).await;
                }
            });
        }
        ProgressLine(progress)
    }

    fn screen(&self) -> std::sync::MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Draw the line again, unless the run finished with it (`false` then).
    fn redraw(&self) -> bool {
        let mut screen = self.screen();
        if screen.done {
            return false;
        }
        draw(&format!("\r\x1b[2K{}", self.line()));
        screen.drawn = true;
        true
    }

    /// Stop drawing and clear the line, before the report is printed.
    pub fn finish(&self) {
        let mut screen = self.screen();
        if screen.drawn && !screen.done {
            draw("\r\x1b[2K");
        }
        screen.done = true;
    }
}

fn draw(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}
