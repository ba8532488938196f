//! Mock throughput with the ledger on vs. a plain axum handler returning the same body,
//! latency simulation off, over loopback; and the ledger's own time per request.
//!
//! Run: `cargo bench -p mock-groq --bench throughput`
//! (env: BENCH_REQUESTS per round, default 20000; BENCH_CONCURRENCY, default 32;
//! BENCH_ROUNDS, default 5). Rounds alternate plain/mock so both see the same machine noise;
//! the report gives medians and their ratio.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::routing::post;
use hdrhistogram::Histogram;
use mock_groq::Config;
use mock_groq::catalog::Limits;
use mock_groq::ledger::Ledger;
use tokio::net::TcpListener;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const CONFIG: &str = r#"
seed = 1
[latency]
enabled = false
[completion]
min_fraction = 1.0
max_fraction = 1.0
[[orgs]]
id = "bench"
keys = ["gsk_bench"]
limits = { rpm = 1000000000000, rpd = 1000000000000, tpm = 1000000000000, tpd = 1000000000000 }
"#;

fn body() -> String {
    serde_json::json!({
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "Say hello in Portuguese."}],
        "max_tokens": 16,
    })
    .to_string()
}

async fn serve(app: Router) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("bind loopback")?;
    let url = format!(
        "http://{}/openai/v1/chat/completions",
        listener.local_addr()?
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// Fires `total` requests over `concurrency` keep-alive connections; returns requests/s.
async fn load(url: &str, total: u64, concurrency: u64) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()?;
    let left = Arc::new(AtomicU64::new(total));
    let body = body();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, left, url, body) = (
            client.clone(),
            Arc::clone(&left),
            url.to_owned(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while left.fetch_sub(1, Ordering::Relaxed) as i64 > 0 {
                let response = client
                    .post(&url)
                    .bearer_auth("gsk_bench")
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                ensure!(response.status() == 200, "status {}", response.status());
                response.bytes().await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ledger_time_per_request() -> anyhow::Result<Histogram<u64>> {
    let limits = Limits {
        rpm: Some(30),
        rpd: Some(14_400),
        tpm: Some(6_000),
        tpd: Some(500_000),
    };
    let mut ledger = Ledger::new(limits);
    let mut hist = Histogram::<u64>::new(3)?;
    let mut now = Duration::ZERO;
    for i in 0..1_000_000u64 {
        now += Duration::from_millis(3);
        let start = Instant::now();
        // What the handler does with the ledger per request: admit, snapshot, settle.
        let admitted = ledger.admit(now, 400 + i % 200).is_ok();
        let snap = ledger.snapshot(now);
        if admitted {
            ledger.settle(now, 400 + i % 200, 300);
        }
        let ns = start.elapsed().as_nanos() as u64;
        std::hint::black_box(snap);
        hist.record(ns.max(1))?;
    }
    Ok(hist)
}

fn main() -> anyhow::Result<()> {
    let total = env("BENCH_REQUESTS", 20_000);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let rounds = env("BENCH_ROUNDS", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let config = Config::from_toml(CONFIG)?;
        let mock_url = serve(mock_groq::router(config)?).await?;

        // The plain handler returns a body and headers captured from the mock.
        let sample = reqwest::Client::new()
            .post(&mock_url)
            .bearer_auth("gsk_bench")
            .header("content-type", "application/json")
            .body(body())
            .send()
            .await?;
        let mut headers = HeaderMap::new();
        for (name, value) in sample.headers() {
            if name.as_str().starts_with("x-") || name == header::CONTENT_TYPE {
                headers.insert(HeaderName::from(name), HeaderValue::from(value));
            }
        }
        let fixed = sample.bytes().await?;
        let plain = Router::new().route(
            "/openai/v1/chat/completions",
            post(move || {
                let (headers, fixed) = (headers.clone(), fixed.clone());
                async move { (headers, fixed) }
            }),
        );
        let plain_url = serve(plain).await?;

        load(&mock_url, total / 10, concurrency).await?; // warm-up
        load(&plain_url, total / 10, concurrency).await?;
        let (mut plain_rps, mut mock_rps) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let p = load(&plain_url, total, concurrency).await?;
            let m = load(&mock_url, total, concurrency).await?;
            println!("round {round}: plain {p:>9.0} req/s   mock {m:>9.0} req/s   ratio {:.3}", m / p);
            plain_rps.push(p);
            mock_rps.push(m);
        }
        let ratios: Vec<f64> = mock_rps.iter().zip(&plain_rps).map(|(m, p)| m / p).collect();
        println!(
            "median over {rounds} rounds of {total} requests, {concurrency} connections: plain {:.0} req/s, mock {:.0} req/s, ratio of medians {:.3}, median of ratios {:.3} (target ≥ 0.8)",
            median(plain_rps.clone()),
            median(mock_rps.clone()),
            median(mock_rps) / median(plain_rps),
            median(ratios)
        );
        anyhow::Ok(())
    })?;
    let hist = ledger_time_per_request()?;
    println!(
        "ledger time per request (admit + snapshot + settle, 1M requests): p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns (target p99 < 5000 ns)",
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.99),
        hist.value_at_quantile(0.999),
        hist.max()
    );
    Ok(())
}
