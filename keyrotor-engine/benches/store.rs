//! What shared key state costs per request: a whole `Rotor::send` (adaptive, 10 keys, a
//! transport that answers at once) with no store, with a `MemoryStore`, and with a
//! `RedisStore` on a `redis-server` this bench starts on a free loopback port, over TCP and
//! over its Unix socket — side by side, interleaved in rounds so the machine's noise falls
//! on all four alike.
//!
//! Run: `cargo bench -p keyrotor-engine --features redis --bench store` (redis-server on
//! PATH). Prints p50/p99 per variant and what the store adds at each; one task sends at a
//! time, so each figure is one request's own latency.
//! Then the server's own time per script call (`INFO commandstats`): the rest of what the
//! store adds is the round trip and the client.
//!
//! All of it twice: with the machine's cores idle between requests, then with every core
//! but one kept busy by a spinning thread. On a VM an idle core sleeps, and waking it for
//! each answer costs more than the round trip itself (on this project's 2-core VM a loopback
//! PING takes ~90 µs idle and ~20 µs awake); a server under load, where a proxy matters,
//! seldom sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use keyrotor_engine::store::StoreStatus;
use keyrotor_engine::{
    ApiKey, ChatRequest, MemoryStore, OnStoreError, RedisStore, Rotor, RotorOptions, StateStore,
};

#[path = "../tests/support/redis.rs"]
mod redis_support;
mod support;

use support::{Instant200, reply};

const KEYS: usize = 10;
const ROUNDS: usize = 20;
const PER_ROUND: usize = 1_000;

fn rotor(
    store: Option<Arc<dyn StateStore>>,
) -> Result<Rotor<Instant200>, Box<dyn std::error::Error>> {
    let keys = (0..KEYS)
        .map(|i| ApiKey::new(format!("gsk_bench_{i}")))
        .collect();
    let rotor = Rotor::new(
        keys,
        "adaptive".parse()?,
        Instant200(reply()),
        RotorOptions::default(),
    )?;
    Ok(match store {
        Some(store) => rotor.with_store(store, OnStoreError::FailOpen)?,
        None => rotor,
    })
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

type Error = Box<dyn std::error::Error>;

/// Sends through each variant in interleaved rounds, then times bare PINGs; returns the
/// times (no store, memory, redis, PING), the store's counters and the server's
/// commandstats for this condition alone.
async fn measure(
    server: &redis_support::Server,
    pool: &str,
) -> Result<(Vec<Vec<Duration>>, Option<StoreStatus>, String), Error> {
    let url = server.url();
    let mut conn = redis::Client::open(url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut conn)
        .await?;
    let redis: Arc<dyn StateStore> =
        Arc::new(RedisStore::open(&url, pool, Duration::from_secs(1))?);
    let unix_pool = format!("{pool}-unix");
    let unix: Arc<dyn StateStore> = Arc::new(RedisStore::open(
        &server.unix_url(),
        &unix_pool,
        Duration::from_secs(1),
    )?);
    let variants = [
        ("no store", rotor(None)?),
        ("memory", rotor(Some(Arc::new(MemoryStore::new())))?),
        ("redis", rotor(Some(redis))?),
        ("redis unix", rotor(Some(unix))?),
    ];
    let request = ChatRequest::synthetic("openai/gpt-oss-120b", 20, 10, false);
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
    for _ in 0..ROUNDS {
        for (i, (name, rotor)) in variants.iter().enumerate() {
            for _ in 0..PER_ROUND {
                let start = Instant::now();
                let sent = rotor.send(&request).await;
                times[i].push(start.elapsed());
                if sent.outcome.is_err() {
                    return Err(format!("{name} failed a request").into());
                }
            }
        }
    }
    // The floor: a bare PING round trip on the same loopback.
    let mut pings = Vec::with_capacity(ROUNDS * PER_ROUND);
    for _ in 0..ROUNDS * PER_ROUND {
        let start = Instant::now();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        pings.push(start.elapsed());
    }
    times.push(pings);
    let counters = variants[2].1.status().store;
    // What the server itself spent per script call (its own clock, no network).
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await?;
    Ok((times, counters, stats))
}

/// What each row of the bench is: no store, memory, Redis over loopback TCP, the same
/// Redis over its Unix socket.
const VARIANTS: [&str; 4] = ["no store", "memory", "redis", "redis unix"];

fn report(label: &str, mut times: Vec<Vec<Duration>>, counters: Option<StoreStatus>, stats: &str) {
    let base = {
        times[0].sort_unstable();
        (quantile(&times[0], 0.5), quantile(&times[0], 0.99))
    };
    println!(
        "{label}: Rotor::send, adaptive, {KEYS} keys, one at a time, {} requests per variant",
        ROUNDS * PER_ROUND
    );
    for (i, name) in VARIANTS.iter().enumerate() {
        times[i].sort_unstable();
        let (p50, p99) = (quantile(&times[i], 0.5), quantile(&times[i], 0.99));
        println!(
            "{name:>10}: p50 {:>8.1} µs  p99 {:>8.1} µs  added p50 {:>8.1} µs  added p99 {:>8.1} µs",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            (p50.as_secs_f64() - base.0.as_secs_f64()) * 1e6,
            (p99.as_secs_f64() - base.1.as_secs_f64()) * 1e6,
        );
    }
    let pings = &mut times[VARIANTS.len()];
    pings.sort_unstable();
    println!(
        "redis PING round trip over TCP (the floor): p50 {:.1} µs  p99 {:.1} µs",
        quantile(pings, 0.5).as_secs_f64() * 1e6,
        quantile(pings, 0.99).as_secs_f64() * 1e6
    );
    for line in stats.lines().filter(|l| l.starts_with("cmdstat_eval")) {
        println!("redis server time, {}", line.trim_start_matches("cmdstat_"));
    }
    if let Some(s) = counters {
        println!(
            "redis store (TCP): {} calls, {} failed (one admit per attempt)",
            s.calls, s.errors
        );
    }
}

/// Keeps every core but one busy until dropped, so no core sleeps between requests.
struct Awake(Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>);

impl Awake {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let others = std::thread::available_parallelism().map_or(1, |n| n.get()) - 1;
        let spinners = (0..others.max(1))
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Self(stop, spinners)
    }
}

impl Drop for Awake {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for spinner in self.1.drain(..) {
            let _ = spinner.join();
        }
    }
}

fn main() -> Result<(), Error> {
    let server = redis_support::Server::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (times, counters, stats) = runtime.block_on(measure(&server, "bench-idle"))?;
    report("cores idle between requests", times, counters, &stats);
    let awake = Awake::start();
    let (times, counters, stats) = runtime.block_on(measure(&server, "bench-awake"))?;
    drop(awake);
    println!();
    report(
        "the other cores kept busy (none sleeps between requests)",
        times,
        counters,
        &stats,
    );
    drop(server);
    Ok(())
}
