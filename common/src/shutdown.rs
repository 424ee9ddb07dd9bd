//! One cancellation token per process, tripped by SIGTERM or ctrl-c, so every task can
//! finish its current piece of work and stop within a bounded grace period.

use tokio_util::sync::CancellationToken;

/// Returns a token that is cancelled on the first SIGINT or SIGTERM.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trip = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        trip.cancel();
    });
    token
}

/// Like `on_signal`, and also cancelled when standard input closes: a supervisor (or a
/// test harness) that dies closes the pipe, and the process then stops cleanly instead of
/// living on as an orphan.
pub fn on_signal_or_stdin_close() -> CancellationToken {
    let token = on_signal();
    let trip = token.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 256];
        while let Ok(n) = stdin.read(&mut buffer).await {
            if n == 0 {
                break;
            }
        }
        tracing::info!("standard input closed; shutting down");
        trip.cancel();
    });
    token
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
