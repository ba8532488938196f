//! What the mock and the proxy share as servers, so both behave alike in front of a client
//! and an operator:
//!
//! - [`serve_router`]: the serve loop: HTTP/1.1 with keep-alive, a deadline for a request's
//!   head (slowloris is shed), a bounded drain on stop;
//! - [`exposition`]: Prometheus text (version 0.0.4) from prometheus-client registries, with
//!   the content type scrapers expect;
//! - [`signals`]: the one stop-signal policy (SIGINT, SIGTERM, SIGHUP) of every long-running
//!   command;
//! - [`local`]: the guard of a service on loopback against web pages (DNS rebinding, a
//!   foreign `Origin`), which [`serve_router`] puts in front of every router it serves on a
//!   loopback address;
//! - [`process`]: how a binary starts and fails: arguments, logs and its last error, each
//!   through the redaction rule.

pub mod exposition;
pub mod local;
pub mod process;
pub mod signals;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Serves any router on `listener` until `shutdown` completes, then stops accepting and
/// waits up to `drain` for requests in flight (the mock and the proxy share it). On a
/// loopback address every request passes [`local::refuse_foreign`] first.
///
/// HTTP/1.1 with keep-alive. A client that has not sent a whole request head within
/// `header_timeout` is disconnected, so connections that trickle their headers (slowloris)
/// are shed while other clients are served.
pub async fn serve_router(
    app: Router,
    listener: TcpListener,
    header_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // On loopback the only clients meant are this machine's programs: a request naming
    // another host, or sent from a web page of another origin, is refused.
    let app = match listener.local_addr() {
        Ok(addr) if addr.ip().is_loopback() => {
            app.layer(axum::middleware::from_fn(local::refuse_foreign))
        }
        _ => app,
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: wait a
                    // moment rather than spin, then go on serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(drain) => {}
    }
    Ok(())
}
