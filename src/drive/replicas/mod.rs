//! Replicas as a scenario dimension: the traffic spread over N engine instances (app
//! replicas, proxy replicas, serverless instances), each its own [`crate::engine::Rotor`], with their own
//! key state (`local`) or one shared store (`memory` in this process, `redis`), and
//! optionally losing their state now and then (a serverless cold start).
//!
//! [`Replicas`] is the driver's [`crate::drive::driver::Sender`] for such a run. It books what only replicas show:
//! per replica its requests, attempts and 429s, and the 429s a replica met on a key that
//! *another* replica had already met within the wait that 429 announced — calls wasted for
//! want of shared state — with how long after the first one they came (how long the news
//! took to reach the others; with shared state, at most an attempt in flight).
//!
//! - [`sender`]: the driver's [`Replicas`] sender and its books;
//! - what the report says of them is [`crate::measure::report::ReplicasSeen`];
//! - here: the store a scenario's engine asks for (its settings are the scenario's:
//!   [`crate::spec::scenario::replicas`]).

mod sender;

use std::sync::Arc;
use std::time::Duration;

use crate::spec::scenario::StateKind;

pub use sender::{Build, Ledger, Replicas};

/// A run's shared store, the server it runs on when keyrotor started one (stopped when this
/// is dropped), and the store in words for the report.
#[derive(Default)]
pub struct Opened {
    /// The store; `None` for local state.
    pub store: Option<Arc<dyn crate::engine::StateStore>>,
    /// The `redis-server` keyrotor started, if it did.
    pub server: Option<crate::drive::redis_server::RedisServer>,
    /// The store in words.
    pub text: Option<String>,
}

/// The shared store a scenario's engine asks for: none (local), one in memory, or one on
/// Redis (the URL given, or a `redis-server` started on loopback, kept alive by the returned
/// server until the run ends). With the store, its description for the report.
pub fn open_store(engine: &crate::spec::scenario::Engine, pool_id: &str) -> anyhow::Result<Opened> {
    use anyhow::Context;
    match engine.state {
        StateKind::Local => Ok(Opened::default()),
        StateKind::Memory => Ok(Opened {
            store: Some(Arc::new(crate::engine::MemoryStore::new())),
            server: None,
            text: Some("one store in this process's memory".to_owned()),
        }),
        StateKind::Redis => {
            let (server, url, text) = match &engine.redis_url {
                Some(given) => {
                    let url = crate::engine::store::redis_url(given, &|n| std::env::var(n).ok())
                        .context("engine.redis_url")?;
                    (None, url, "the Redis server named by redis_url".to_owned())
                }
                None => {
                    let server = crate::drive::redis_server::RedisServer::start()?;
                    let url = server.url.clone();
                    (
                        Some(server),
                        url,
                        "a redis-server keyrotor started on loopback".to_owned(),
                    )
                }
            };
            let store = crate::engine::RedisStore::open(&url, pool_id, STORE_TIMEOUT)?;
            Ok(Opened {
                store: Some(Arc::new(store)),
                server,
                text: Some(text),
            })
        }
    }
}

/// How long a replica waits for the store before it treats it as failed.
pub const STORE_TIMEOUT: Duration = Duration::from_millis(100);
