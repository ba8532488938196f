//! Replicas as a scenario dimension: several engine instances over one set of keys, with
//! their own state or one shared store, and serverless cold starts. Simulated runs compare
//! local and shared state on the same arrivals; a real-time run shares state on a
//! `redis-server` keyrotor starts itself on loopback (and stops).

use keyrotor::drive::driver::NoProgress;
use keyrotor::measure::report::Report;
use keyrotor::run::{RunOptions, run};
use keyrotor::spec::scenario::Scenario;

/// 4 replicas of the cooldown seed over 5 keys, each replica a fresh serverless instance
/// per request, at 200 req/min for 5 simulated minutes.
fn serverless(state: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"name = "serverless"
seed = 4
{extra}
[keys]
count = 5
[engine]
policy = "cooldown"
replicas = 4
state = "{state}"
cold_start = "1 request"
[traffic]
arrival = "poisson"
rate = 200
duration = "5m"
"#
    );
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn report_of(s: &Scenario) -> Report {
    run(s, RunOptions::default(), &NoProgress)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .report
}

fn accounted(r: &Report) {
    let s = &r.summary;
    assert_eq!(s.offered, s.succeeded + s.failed + s.dropped, "{s:?}");
}

#[test]
fn shared_state_stops_cold_replicas_from_rediscovering_every_limit() {
    let local = report_of(&serverless("local", ""));
    let shared = report_of(&serverless("memory", ""));
    for r in [&local, &shared] {
        accounted(r);
        let seen = r
            .replicas
            .as_ref()
            .unwrap_or_else(|| panic!("replica figures"));
        assert_eq!(seen.replicas, 4);
        assert_eq!(seen.per_replica.len(), 4);
        let sent: u64 = seen.per_replica.iter().map(|p| p.requests).sum();
        assert_eq!(
            sent,
            r.summary.offered - r.summary.dropped,
            "every request went to a replica"
        );
        let attempts: u64 = seen.per_replica.iter().map(|p| p.attempts).sum();
        assert_eq!(
            attempts, r.summary.attempts,
            "replica attempts add up to the run's"
        );
        assert!(
            seen.cold_starts + 4 >= sent,
            "a cold start per request: {}",
            seen.cold_starts
        );
        assert_eq!(
            seen.over_limit_by_mock,
            Some(r.summary.upstream_429),
            "the mock's ledger counts the 429s the replicas met"
        );
        // …and says which limit refused each: the windows add up to the whole.
        let by_window: u64 = seen.over_limit_by_window.values().sum();
        assert_eq!(Some(by_window), seen.over_limit_by_mock, "{seen:?}");
        assert_eq!(seen.over_limit_by_window.len(), 4, "{seen:?}");
    }
    let (l, s) = (
        local.replicas.as_ref().unwrap_or_else(|| panic!("local")),
        shared.replicas.as_ref().unwrap_or_else(|| panic!("shared")),
    );
    // Cold instances at key 0 run into a key's per-minute limits.
    let minute = |w: &str| l.over_limit_by_window.get(w).copied().unwrap_or(0);
    assert!(
        minute("rpm") + minute("tpm") > 0,
        "{:?}",
        l.over_limit_by_window
    );
    // Each cold instance starts at key 0 and meets its limit again; with shared state it
    // starts where the rotation stands and skips keys another instance saw limited.
    assert!(l.repeat_429 > 100, "local: {}", l.repeat_429);
    assert!(l.reach_ms.is_some(), "repeats are timed");
    // With shared state only attempts already in flight when the first 429 came can repeat
    // it: the news reaches the others within one attempt's time.
    assert!(
        s.repeat_429 * 50 < l.repeat_429,
        "shared {} vs local {}",
        s.repeat_429,
        l.repeat_429
    );
    if let Some(reach) = s.reach_ms {
        let attempt = shared.latency_ms.max.number().unwrap_or(0.0);
        assert!(
            reach.max <= attempt,
            "reach {reach:?} > an attempt's {attempt} ms"
        );
    }
    assert!(
        shared.summary.upstream_429 * 10 < local.summary.upstream_429,
        "429s: shared {} vs local {}",
        shared.summary.upstream_429,
        local.summary.upstream_429
    );
    assert!(shared.summary.succeeded > local.summary.succeeded);
    let figures = s.store_figures.unwrap_or_else(|| panic!("store figures"));
    assert!(
        figures.calls > 0 && figures.errors == 0 && figures.rests_learned > 0,
        "{figures:?}"
    );
    assert!(l.store_figures.is_none(), "local state has no store");
    let md = shared.markdown();
    assert!(md.contains("replicas: 4, key state shared (memory"), "{md}");
    assert!(
        md.contains("| replica | requests | attempts | upstream 429s |"),
        "{md}"
    );
    // Deterministic, like every simulation.
    let again = report_of(&serverless("memory", ""));
    assert_eq!(again.replicas, shared.replicas);
    assert_eq!(again.summary.succeeded, shared.summary.succeeded);
}

#[test]
fn replica_settings_are_checked_with_their_field() {
    let bad = |engine: &str, mode: &str| {
        let text = format!(
            "name = \"x\"\n{mode}\n[keys]\ncount = 2\n[engine]\n{engine}\n[traffic]\narrival = \"poisson\"\nrate = 60\nduration = \"1m\"\n"
        );
        Scenario::from_toml(&text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {engine}"))
    };
    assert!(bad("replicas = 0", "").contains("engine.replicas"));
    assert!(bad("replicas = 65", "").contains("engine.replicas"));
    assert!(bad("state = \"redis\"", "").contains("real time"));
    assert!(bad("state = \"shared\"", "").contains("memory"));
    assert!(bad("redis_url = \"redis://127.0.0.1:6379/\"", "").contains("engine.redis_url"));
    assert!(bad("cold_start = \"0 requests\"", "").contains("cold_start"));
    let url = "state = \"redis\"\nredis_url = \"redis://:secret@127.0.0.1:1/\"";
    let text = format!(
        "name = \"x\"\nmode = \"real\"\n[keys]\ncount = 2\n[engine]\n{url}\n[traffic]\narrival = \"poisson\"\nrate = 60\nduration = \"1s\"\n"
    );
    let scenario = Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let error = run(&scenario, RunOptions::default(), &NoProgress)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_else(|| panic!("a password in a file was accepted"));
    assert!(
        error.contains("env:NAME") && !error.contains("secret"),
        "{error}"
    );
}

#[test]
fn a_real_time_run_shares_state_on_a_redis_server_it_starts_itself() {
    let text = r#"name = "redis-replicas"
seed = 2
mode = "real"
[keys]
count = 3
layout = "shared"
[engine]
policy = "adaptive"
replicas = 3
state = "redis"
[traffic]
arrival = "constant"
rate = 240
duration = "6s"
"#;
    let scenario = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    let report = report_of(&scenario);
    accounted(&report);
    let seen = report
        .replicas
        .as_ref()
        .unwrap_or_else(|| panic!("replica figures"));
    assert_eq!(seen.state, "redis");
    assert_eq!(
        seen.store.as_deref(),
        Some("a redis-server keyrotor started on loopback")
    );
    let figures = seen
        .store_figures
        .unwrap_or_else(|| panic!("store figures"));
    assert!(
        figures.calls >= report.summary.attempts,
        "one admit per attempt: {figures:?}"
    );
    assert_eq!(figures.errors, 0, "{figures:?}");
    assert!(report.summary.succeeded > 0);
}

#[test]
fn a_sweep_over_replicas_gives_a_capacity_per_replica_count() {
    let base = serverless("local", "");
    let mut quiet = |_: usize, _: f64, _: Option<f64>| {};
    let sweep = keyrotor::studies::sweep::sweep(&base, &[2], &[1, 4], 0.9, &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let replicas: Vec<u32> = sweep.points.iter().map(|p| p.replicas).collect();
    assert_eq!(replicas, vec![1, 4]);
    assert!(
        sweep
            .points
            .iter()
            .all(|p| p.capacity_rpm > 0.0 && p.repeat_429.is_some())
    );
    assert!(sweep.markdown().contains("| keys | replicas |"));
}
