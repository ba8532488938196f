//! The one stop-signal policy of every long-running command (the mock, a run, `serve`):
//! SIGINT (Ctrl-C), SIGTERM (`docker stop`, `timeout`, CI cancelling) and SIGHUP (the
//! terminal closing) all mean "stop: finish what is in flight, then exit".
//!
//! One exception, as for nginx and HAProxy: the proxy is a service, and SIGHUP asks it to
//! read its configuration again ([`hangups`]); it stops on SIGINT and SIGTERM
//! ([`service_stop`]).

use std::future::Future;

/// Registers the stop signals at once (so none arriving after this call is missed) and
/// returns a future naming the first that arrives: `"interrupted (SIGINT)"`, `"terminated
/// (SIGTERM)"` or `"hung up (SIGHUP)"`; `None` when they cannot be registered. Call it inside a
/// tokio runtime.
pub fn stop_signal() -> impl Future<Output = Option<&'static str>> {
    stop_on(true)
}

/// A service's stop signals: SIGINT and SIGTERM, as [`stop_signal`]; SIGHUP is left to
/// [`hangups`].
pub fn service_stop() -> impl Future<Output = Option<&'static str>> {
    stop_on(false)
}

/// SIGHUP, each time it arrives (a service's "read your configuration again"); `None` when
/// it cannot be registered (or off Unix). Call it inside a tokio runtime.
#[cfg(unix)]
pub fn hangups() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::hangup()).ok()
}

/// SIGHUP, each time it arrives; never off Unix.
#[cfg(not(unix))]
pub fn hangups() -> Option<NoHangups> {
    None
}

/// Off Unix there is no SIGHUP.
#[cfg(not(unix))]
pub struct NoHangups;

#[cfg(not(unix))]
impl NoHangups {
    /// Never arrives.
    pub async fn recv(&mut self) -> Option<()> {
        None
    }
}

fn stop_on(hangup: bool) -> impl Future<Output = Option<&'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let hup = hangup.then(|| signal(SignalKind::hangup()));
        let int = signal(SignalKind::interrupt());
        async move {
            let (Ok(mut term), Ok(mut int)) = (term, int) else {
                return None;
            };
            let mut hup = match hup {
                Some(Ok(hup)) => Some(hup),
                Some(Err(_)) => return None,
                None => None,
            };
            let hung_up = async {
                match &mut hup {
                    Some(hup) => hup.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = int.recv() => Some("interrupted (SIGINT)"),
                _ = term.recv() => Some("terminated (SIGTERM)"),
                _ = hung_up => Some("hung up (SIGHUP)"),
            }
        }
    }
    #[cfg(not(unix))]
    async move {
        let _ = hangup;
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| "interrupted (Ctrl-C)")
    }
}
