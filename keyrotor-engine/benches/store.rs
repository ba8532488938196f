//! What shared key state costs per request: a whole `Rotor::send` (adaptive, 10 keys, a
//! transport that answers at once) with no store, with a `MemoryStore`, and with a
//! `RedisStore` on a `redis-server` this bench starts on a free loopback port — side by
//! side, interleaved in rounds so the machine's noise falls on all three alike.
//!
//! Run: `cargo bench -p keyrotor-engine --features redis --bench store` (redis-server on
//! PATH). Prints p50/p99 per variant and what the store adds at each; one task sends at a
//! time, so each figure is one request's own latency.
//! Then the server's own time per script call (`INFO commandstats`): the rest of what the
//! store adds is the round trip and the client.

use std::sync::Arc;
use std::time::{Duration, Instant};

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = redis_support::Server::start();
    let port = server.port;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let redis: Arc<dyn StateStore> = Arc::new(RedisStore::open(
            &format!("redis://127.0.0.1:{port}/"),
            "bench",
            Duration::from_secs(1),
        )?);
        let variants = [
            ("no store", rotor(None)?),
            ("memory", rotor(Some(Arc::new(MemoryStore::new())))?),
            ("redis", rotor(Some(redis))?),
        ];
        let request = ChatRequest::synthetic("openai/gpt-oss-120b", 20, 10, false);
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); variants.len()];
        for _ in 0..ROUNDS {
            for (i, (_, rotor)) in variants.iter().enumerate() {
                for _ in 0..PER_ROUND {
                    let start = Instant::now();
                    let sent = rotor.send(&request).await;
                    times[i].push(start.elapsed());
                    if sent.outcome.is_err() {
                        return Err(format!("{} failed a request", variants[i].0).into());
                    }
                }
            }
        }
        // The floor: a bare PING round trip on the same loopback.
        let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?
            .get_multiplexed_async_connection()
            .await?;
        let mut pings = Vec::with_capacity(ROUNDS * PER_ROUND);
        for _ in 0..ROUNDS * PER_ROUND {
            let start = Instant::now();
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
            pings.push(start.elapsed());
        }
        times.push(pings);
        let status = variants[2].1.status().store;
        // What the server itself spent per script call (its own clock, no network).
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut conn)
            .await?;
        Ok::<_, Box<dyn std::error::Error>>((times, status, stats))
    });
    drop(server);
    let (mut times, status, stats) = result?;
    let base = {
        times[0].sort_unstable();
        (quantile(&times[0], 0.5), quantile(&times[0], 0.99))
    };
    println!(
        "Rotor::send, adaptive, {KEYS} keys, one at a time, {} requests per variant",
        ROUNDS * PER_ROUND
    );
    for (i, name) in ["no store", "memory", "redis"].iter().enumerate() {
        times[i].sort_unstable();
        let (p50, p99) = (quantile(&times[i], 0.5), quantile(&times[i], 0.99));
        println!(
            "{name:>9}: p50 {:>8.1} µs  p99 {:>8.1} µs  added p50 {:>8.1} µs  added p99 {:>8.1} µs",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            (p50.as_secs_f64() - base.0.as_secs_f64()) * 1e6,
            (p99.as_secs_f64() - base.1.as_secs_f64()) * 1e6,
        );
    }
    times[3].sort_unstable();
    println!(
        "redis PING round trip (the floor): p50 {:.1} µs  p99 {:.1} µs",
        quantile(&times[3], 0.5).as_secs_f64() * 1e6,
        quantile(&times[3], 0.99).as_secs_f64() * 1e6
    );
    for line in stats.lines().filter(|l| l.starts_with("cmdstat_eval")) {
        println!("redis server time, {}", line.trim_start_matches("cmdstat_"));
    }
    if let Some(s) = status {
        println!(
            "redis store: {} calls, {} failed (one admit per attempt)",
            s.calls, s.errors
        );
    }
    Ok(())
}
