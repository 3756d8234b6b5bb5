//! Ctrl-C during the writes: stop sending, finish and record what is in flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::task::JoinHandle;

use crate::error::Error;

/// On Ctrl-C (SIGINT), SIGTERM or SIGHUP, stop sending writes: those in flight finish, the rest
/// are reported as not sent, and what was written is still listed and recorded. A second signal
/// ends the process at once. The handlers are installed before this returns, so no signal in
/// between falls to the default (which would end the process with writes unrecorded).
pub(super) fn interrupt_on_signals(stop: Arc<AtomicBool>) -> Result<JoinHandle<()>, Error> {
    let mut streams = Vec::new();
    for kind in [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ] {
        streams.push(
            signal(kind)
                .map_err(|e| Error::Internal(format!("cannot install a signal handler: {e}")))?,
        );
    }
    Ok(tokio::spawn(async move {
        if next_signal(&mut streams).await.is_none() {
            return;
        }
        stop.store(true, Ordering::SeqCst);
        eprintln!(
            "interrupted: finishing the writes in flight and recording them (Ctrl-C again to quit now)"
        );
        if next_signal(&mut streams).await.is_some() {
            std::process::exit(crate::exit::ExitStatus::Interrupted.code());
        }
    }))
}

async fn next_signal(streams: &mut [Signal]) -> Option<()> {
    futures::future::select_all(streams.iter_mut().map(|s| Box::pin(s.recv())))
        .await
        .0
}
