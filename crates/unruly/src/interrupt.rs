//! Ctrl-C becomes a cancelled token, so a run stops cleanly and still reports.

use unruly_engine::CancellationToken;

/// A token cancelled on the first Ctrl-C (SIGINT) or SIGTERM.
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
                return;
            };
            runtime.block_on(async {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{signal, SignalKind};
                    if let Ok(mut term) = signal(SignalKind::terminate()) {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                        cancel.cancel();
                        return;
                    }
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.cancel();
                }
            });
        });
    if spawned.is_err() {
        eprintln!("warning: cannot watch for Ctrl-C; an interrupted run will not write its report");
    }
    token
}
