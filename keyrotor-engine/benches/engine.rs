//! Engine overhead, excluding the transport.
//!
//! - `select/<policy>`: key selection alone (`Policy::next` on a fresh 10-key pool).
//! - `select-warm/adaptive`: the same on a pool in service: every key has answered with
//!   budget headers (each a different share left) and has one attempt in flight.
//! - `send/<policy>`: a whole `Rotor::send` with 10 keys and 8 concurrent tasks on a 2-worker
//!   runtime, against a transport that answers at once with a prebuilt 200; time per request.
//!
//! Run: `cargo bench -p keyrotor-engine --bench engine` (criterion; medians in target/criterion).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use keyrotor_engine::policy::{Attempts, PolicyConfig, Step};
use keyrotor_engine::pool::Pool;
use keyrotor_engine::{ApiKey, ChatRequest, Groq, Provider, Rotor, RotorOptions};

mod support;

use support::{Instant200, reply};

const KEYS: usize = 10;
const TASKS: u64 = 8;

fn select(c: &mut Criterion) {
    let mut group = c.benchmark_group("select");
    for preset in PolicyConfig::presets() {
        let policy = preset.default.build();
        let now = tokio::time::Instant::now();
        let mut pool = Pool::new(KEYS, 1, now);
        group.bench_function(preset.name, |b| {
            b.iter(|| {
                let mut attempts = Attempts::new(100, now, now + Duration::from_secs(60));
                let step = policy.next(&mut pool, &mut attempts, now);
                black_box(matches!(step, Step::Try(_)))
            })
        });
    }
    group.finish();
}

/// A pool in service: each key answered with its budget headers and has an attempt out.
fn warm_pool(now: tokio::time::Instant) -> Pool {
    let mut pool = Pool::new(KEYS, 1, now);
    for k in 0..KEYS {
        let mut headers = http::HeaderMap::new();
        let left = 900 - 10 * k as u64;
        for (name, value) in [
            ("x-ratelimit-limit-requests", 1_000),
            ("x-ratelimit-remaining-requests", left),
            ("x-ratelimit-limit-tokens", 6_000),
            ("x-ratelimit-remaining-tokens", 5 * left),
        ] {
            headers.insert(name, http::HeaderValue::from(value));
        }
        pool.on_send(k, 100, now);
        pool.on_answer(k, 100, None, Groq.observe(&headers, now), now);
        pool.on_send(k, 100, now);
    }
    pool
}

fn select_warm(c: &mut Criterion) {
    let mut group = c.benchmark_group("select-warm");
    let policy = PolicyConfig::Adaptive(Default::default()).build();
    let now = tokio::time::Instant::now();
    let mut pool = warm_pool(now);
    let mut attempts = Attempts::new(100, now, now + Duration::from_secs(60));
    let step = policy.next(&mut pool, &mut attempts, now);
    assert!(
        matches!(step, Step::Try(0)),
        "the key with the most left: {step:?}"
    );
    group.bench_function("adaptive", |b| {
        b.iter(|| {
            let mut attempts = Attempts::new(100, now, now + Duration::from_secs(60));
            let step = policy.next(&mut pool, &mut attempts, now);
            black_box(matches!(step, Step::Try(0)))
        })
    });
    group.finish();
}

fn send(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let keys: Vec<ApiKey> = (0..KEYS)
        .map(|i| ApiKey::new(format!("gsk_bench_{i}")))
        .collect();
    let request = ChatRequest::synthetic("openai/gpt-oss-120b", 100, 100, false);
    let mut group = c.benchmark_group("send");
    for preset in PolicyConfig::presets() {
        let rotor = Rotor::new(
            keys.clone(),
            preset.default.clone(),
            Instant200(reply()),
            RotorOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(preset.name, |b| {
            b.iter_custom(|iters| {
                let per_task = iters.div_ceil(TASKS);
                runtime.block_on(async {
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let (rotor, request) = (rotor.clone(), request.clone());
                            tokio::spawn(async move {
                                for _ in 0..per_task {
                                    black_box(rotor.send(&request).await.outcome.is_ok());
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        let _ = task.await;
                    }
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (per_task * TASKS) as f64)
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, select, select_warm, send);
criterion_main!(benches);
