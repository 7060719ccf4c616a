//! Ctrl-C becomes a cancelled token, so a run stops cleanly and still reports.

use unruly_engine::CancellationToken;

/// A token cancelled on the first Ctrl-C (SIGINT) or SIGTERM; a second one ends
/// the process at once (exit 130), should finishing the report hang, killing the targets
/// it spawned first.
pub(crate) fn on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    let spawned = std::thread::Builder::new()
        .name("unruly-signals".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                eprintln!("warning: cannot watch for Ctrl-C; an interrupted run will not write its report");
                return;
            };
            runtime.block_on(async {
                for signals in 0.. {
                    if !next_signal().await {
                        return;
                    }
                    if signals > 0 {
                        // No destructor runs past exit: stop the targets unruly started.
                        unruly_watch::spawn::kill_spawned();
                        std::process::exit(130);
                    }
                    cancel.cancel();
                }
            });
        });
    if spawned.is_err() {
        eprintln!("warning: cannot watch for Ctrl-C; an interrupted run will not write its report");
    }
    token
}

/// Waits for the next SIGINT or SIGTERM; false when signals cannot be watched.
async fn next_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                result = tokio::signal::ctrl_c() => result.is_ok(),
                _ = term.recv() => true,
            };
        }
    }
    tokio::signal::ctrl_c().await.is_ok()
}
