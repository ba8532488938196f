//! The one stop-signal policy of every long-running command (the mock, the proxy, a run):
//! SIGINT (Ctrl-C), SIGTERM (`docker stop`, `timeout`, CI cancelling) and SIGHUP (the
//! terminal closing) all mean "stop: finish what is in flight, then exit".

use std::future::Future;

/// Registers the stop signals at once (so none arriving after this call is missed) and
/// returns a future naming the first that arrives: `"interrupted (SIGINT)"`, `"terminated
/// (SIGTERM)"` or `"hung up (SIGHUP)"`; `None` when they cannot be registered. Call it inside a
/// tokio runtime.
pub fn stop_signal() -> impl Future<Output = Option<&'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let hup = signal(SignalKind::hangup());
        let int = signal(SignalKind::interrupt());
        async move {
            let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (term, hup, int) else {
                return None;
            };
            tokio::select! {
                _ = int.recv() => Some("interrupted (SIGINT)"),
                _ = term.recv() => Some("terminated (SIGTERM)"),
                _ = hup.recv() => Some("hung up (SIGHUP)"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| "interrupted (Ctrl-C)")
    }
}
