//! Replicas sharing key state through a store: in memory (on tokio's paused clock) and on a
//! real `redis-server` that each test starts on a free loopback port and stops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use keyrotor_engine::store::{Admission, Admit, Publish, RestKind};
use keyrotor_engine::transport::{Reply, Transport, TransportError};
use keyrotor_engine::{
    ApiKey, ChatRequest, MemoryStore, OnStoreError, RedisStore, Rotor, RotorOptions, StateStore,
};
use tokio::time::Instant;

const OK: &str = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"total_tokens":9}}"#;
const RPM_429: &str = r#"{"error":{"message":"Rate limit reached for model `m` in organization `org_a` service tier `on_demand` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in 30s.","type":"requests","code":"rate_limit_exceeded"}}"#;

/// Answers 429 (30 s) for the keys listed, 200 otherwise; counts attempts per key. Clones
/// share one record: every replica sends to the same upstream.
#[derive(Debug, Clone)]
struct Upstream {
    limited: Arc<Vec<String>>,
    attempts: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    fn new(limited: Vec<&'static str>) -> Self {
        Self {
            limited: Arc::new(
                limited
                    .iter()
                    .map(|k| ApiKey::new(*k).fingerprint())
                    .collect(),
            ),
            attempts: Arc::default(),
        }
    }

    fn attempts_on(&self, key: &ApiKey) -> usize {
        let fp = key.fingerprint();
        self.attempts
            .lock()
            .map_or(0, |a| a.iter().filter(|k| **k == fp).count())
    }
}

impl Transport for Upstream {
    async fn send(&self, key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
        let fp = key.fingerprint();
        let limited = self.limited.contains(&fp);
        if let Ok(mut a) = self.attempts.lock() {
            a.push(fp);
        }
        let mut headers = HeaderMap::new();
        if limited {
            headers.insert("retry-after", HeaderValue::from_static("30"));
        }
        Ok(Reply {
            status: if limited { 429 } else { 200 },
            headers,
            body: Bytes::from_static(if limited { RPM_429 } else { OK }.as_bytes()),
        })
    }
}

const KEYS: [&str; 4] = ["gsk_k0", "gsk_k1", "gsk_k2", "gsk_k3"];

fn keys() -> Vec<ApiKey> {
    KEYS.iter().map(|k| ApiKey::new(*k)).collect()
}

fn replica(
    policy: &str,
    upstream: &Upstream,
    store: Option<Arc<dyn StateStore>>,
    on_error: OnStoreError,
) -> Rotor<Upstream> {
    let rotor = Rotor::new(
        keys(),
        policy.parse().unwrap_or_else(|e| panic!("{e}")),
        upstream.clone(),
        RotorOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    match store {
        Some(store) => rotor
            .with_store(store, on_error)
            .unwrap_or_else(|e| panic!("{e}")),
        None => rotor,
    }
}

fn request() -> ChatRequest {
    ChatRequest::synthetic("m", 20, 10, false)
}

/// A replica that saw key 0 limited publishes its rest: another replica never tries key 0,
/// where a replica with its own state tries it once and wastes a call.
#[tokio::test(start_paused = true)]
async fn a_rest_one_replica_learned_keeps_the_others_off_the_key() {
    for shared in [true, false] {
        let upstream = Upstream::new(vec!["gsk_k0"]);
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let store = shared.then_some(store);
        let a = replica("cooldown", &upstream, store.clone(), OnStoreError::FailOpen);
        let b = replica("cooldown", &upstream, store, OnStoreError::FailOpen);
        let first = a.send(&request()).await;
        assert!(first.outcome.is_ok());
        assert_eq!(upstream.attempts_on(&keys()[0]), 1, "replica A met the 429");
        for _ in 0..4 {
            assert!(b.send(&request()).await.outcome.is_ok());
        }
        let wasted = upstream.attempts_on(&keys()[0]) - 1;
        if shared {
            assert_eq!(wasted, 0, "shared state: replica B skips key 0");
            let status = b.status();
            let store = status
                .store
                .unwrap_or_else(|| panic!("status has the store"));
            assert!(store.rests_learned >= 1 && store.reachable, "{store:?}");
        } else {
            assert_eq!(wasted, 1, "local state: replica B meets the 429 itself");
        }
    }
}

/// How long [`Recovering`] takes to answer.
const PROBE_LATENCY: Duration = Duration::from_millis(20);

/// Answers 429 (retry after 1 s) until `until`, then 200, each after [`PROBE_LATENCY`];
/// records when each attempt came.
#[derive(Debug, Clone)]
struct Recovering {
    until: Instant,
    calls: Arc<Mutex<Vec<(Instant, u16)>>>,
}

impl Transport for Recovering {
    async fn send(&self, _key: &ApiKey, _body: Bytes) -> Result<Reply, TransportError> {
        let now = Instant::now();
        let status = if now < self.until { 429 } else { 200 };
        if let Ok(mut calls) = self.calls.lock() {
            calls.push((now, status));
        }
        tokio::time::sleep(PROBE_LATENCY).await;
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("1"));
        Ok(Reply {
            status,
            headers,
            body: Bytes::from(if status == 429 {
                RPM_429.replace("30s", "1s")
            } else {
                OK.to_owned()
            }),
        })
    }
}

/// Four replicas that all learned a key's rest wait for it; when it ends, one probes it at a
/// time (each holds the key's lease until its answer), instead of all four at once.
#[tokio::test(start_paused = true)]
async fn replicas_probe_a_key_back_from_a_rest_one_at_a_time() {
    let upstream = Recovering {
        until: Instant::now() + Duration::from_millis(500),
        calls: Arc::default(),
    };
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let replicas: Vec<_> = (0..4)
        .map(|_| {
            Rotor::new(
                vec![ApiKey::new("gsk_only")],
                "adaptive".parse().unwrap_or_else(|e| panic!("{e}")),
                upstream.clone(),
                RotorOptions::default(),
            )
            .and_then(|r| r.with_store(store.clone(), OnStoreError::FailOpen))
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let first = replicas[0].clone();
    let leader = tokio::spawn(async move { first.send(&request()).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut followers = Vec::new();
    for replica in replicas.into_iter().skip(1) {
        followers.push(tokio::spawn(async move { replica.send(&request()).await }));
    }
    let mut sent = vec![leader.await.unwrap_or_else(|e| panic!("{e}"))];
    for follower in followers {
        sent.push(follower.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let outcomes: Vec<String> = sent.iter().map(|s| format!("{:?}", s.outcome)).collect();
    assert!(
        sent.iter().all(|s| s.outcome.is_ok()),
        "every request answered: {outcomes:?}"
    );
    let calls = upstream.calls.lock().map(|c| c.clone()).unwrap_or_default();
    let limited = calls.iter().filter(|(_, status)| *status == 429).count();
    assert_eq!(
        limited, 1,
        "only the first replica met the limit: {calls:?}"
    );
    let probes: Vec<Instant> = calls.iter().skip(1).map(|(at, _)| *at).collect();
    assert_eq!(probes.len(), 4, "{calls:?}");
    for pair in probes.windows(2) {
        assert!(
            pair[1].duration_since(pair[0]) >= PROBE_LATENCY,
            "two probes of the key in flight at once: {calls:?}"
        );
    }
}

/// error-threshold (3 errors disable a key for the hour) on 4 replicas against a key that
/// always fails: with shared state the key's errors add up across replicas, so it is
/// disabled after 3 errors in all, where each replica with its own state spends 2 of its own
/// and never reaches 3 (8 wasted calls). An hour later the key is back.
#[tokio::test(start_paused = true)]
async fn replicas_reach_an_error_threshold_together() {
    for shared in [true, false] {
        let upstream = Upstream::new(vec!["gsk_k0"]);
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let replicas: Vec<_> = (0..4)
            .map(|_| {
                let store = shared.then(|| store.clone());
                replica("error-threshold", &upstream, store, OnStoreError::FailOpen)
            })
            .collect();
        for _ in 0..2 {
            for replica in &replicas {
                assert!(replica.send(&request()).await.outcome.is_ok());
            }
        }
        let wasted = upstream.attempts_on(&keys()[0]);
        if shared {
            assert_eq!(wasted, 3, "the threshold counts every replica's errors");
            let status = replicas[0].status();
            assert_eq!(status.keys[0].state, "disabled", "{:?}", status.keys[0]);
            assert!(
                status.keys[0].ready_in_ms.is_some(),
                "disabled until the reset, not for good"
            );
        } else {
            assert_eq!(
                wasted, 8,
                "local state: 2 errors per replica, none disables"
            );
        }
        tokio::time::advance(Duration::from_secs(3601)).await;
        for replica in &replicas {
            assert!(replica.send(&request()).await.outcome.is_ok());
        }
        // Back after the reset, the key fails again: shared, its errors add up to the
        // threshold again (3 calls); local, each replica spends one.
        let after = upstream.attempts_on(&keys()[0]) - wasted;
        let expected = if shared { 3 } else { 4 };
        assert_eq!(
            after, expected,
            "shared={shared}: key 0 back after the reset"
        );
    }
}

/// A cold-started replica goes on where the rotation stands, not at the first key.
#[tokio::test(start_paused = true)]
async fn a_cold_start_goes_on_with_the_shared_rotation() {
    let upstream = Upstream::new(vec![]);
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let warm = replica(
        "round-robin",
        &upstream,
        Some(store.clone()),
        OnStoreError::FailOpen,
    );
    for _ in 0..3 {
        assert!(warm.send(&request()).await.outcome.is_ok());
    }
    let cold = replica(
        "round-robin",
        &upstream,
        Some(store),
        OnStoreError::FailOpen,
    );
    let sent = cold.send(&request()).await;
    assert_eq!(
        sent.trace.attempts[0].key, 3,
        "keys 0-2 were used; the cold replica takes 3"
    );
    let alone = replica("round-robin", &upstream, None, OnStoreError::FailOpen);
    assert_eq!(alone.send(&request()).await.trace.attempts[0].key, 0);
}

// ---------------------------------------------------------------------------------------
// Redis

#[path = "support/redis.rs"]
mod redis_support;
use redis_support::Server;

impl Server {
    fn store(&self, pool: &str) -> Arc<RedisStore> {
        Arc::new(
            RedisStore::open(&self.url(), pool, Duration::from_millis(250))
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    /// A plain connection to look at what the store wrote.
    async fn inspect(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap_or_else(|e| panic!("{e}"))
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

fn names() -> Vec<String> {
    keys().iter().map(ApiKey::fingerprint).collect()
}

/// An admission of `key` (its own group) by replica 0 with nothing else asked: no pacing,
/// no limits known, no tokens, no probe lease. Tests change the fields they are about.
fn asking(names: &[String], key: usize) -> Admit<'_> {
    Admit {
        keys: names,
        key,
        group: key,
        paced: false,
        rpm: None,
        tpm: None,
        tokens: 0,
        cursor: 0,
        probe: None,
        replica: 0,
    }
}

/// 4 replicas × 8 tasks race for one organisation's 50 requests a minute: the store admits
/// the limit and not one more (plus what the elapsed time refilled).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admission_is_atomic_across_replicas_and_tasks() {
    let server = Server::start();
    let names = Arc::new(names());
    let admitted = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _replica in 0..4 {
        let store = server.store("atomic");
        for _task in 0..8 {
            let (store, names, admitted) = (store.clone(), names.clone(), admitted.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..20 {
                    let admit = Admit {
                        paced: true,
                        rpm: Some(50),
                        replica: 1,
                        ..asking(&names, 1)
                    };
                    match store.admit(admit, Instant::now()).await {
                        Ok((Admission::Admitted, _)) => {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((Admission::Paced { .. }, _)) => {}
                        other => panic!("unexpected answer {other:?}"),
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap_or_else(|e| panic!("{e}"));
    }
    let refill = (started.elapsed().as_secs_f64() * 50.0 / 60.0).ceil() as usize;
    let admitted = admitted.load(Ordering::Relaxed);
    assert!(admitted >= 50, "the burst is the whole limit: {admitted}");
    assert!(
        admitted <= 50 + refill,
        "{admitted} admitted > 50 + {refill} refilled"
    );
}

/// A key back from a rest takes one probe at a time across replicas: the attempt that goes
/// holds the key's lease, the others are told until when, and after the lease anyone may
/// probe; attempts that do not probe never wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_probes_a_key_back_from_a_rest() {
    let server = Server::start();
    let memory: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let redis: Arc<dyn StateStore> = server.store("probe");
    for store in [memory, redis] {
        let names = names();
        let admit = |probe: Option<Duration>| Admit {
            probe,
            replica: 1,
            ..asking(&names, 2)
        };
        let lease = Some(Duration::from_millis(300));
        let ask = |a| {
            let store = store.clone();
            async move {
                store
                    .admit(a, Instant::now())
                    .await
                    .map(|(admission, _)| admission)
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        assert_eq!(ask(admit(lease)).await, Admission::Admitted, "{store:?}");
        let second = ask(admit(lease)).await;
        let Admission::Probing { until } = second else {
            panic!("{store:?}: a second probe while the first holds the lease: {second:?}");
        };
        let left = until.saturating_duration_since(Instant::now());
        assert!(
            left <= Duration::from_millis(300) && !left.is_zero(),
            "{left:?}"
        );
        // Not a probe (a key this replica never saw limited): no lease to wait for.
        assert_eq!(ask(admit(None)).await, Admission::Admitted);
        // Another key is free to probe meanwhile.
        let other = Admit {
            key: 3,
            group: 3,
            ..admit(lease)
        };
        assert_eq!(ask(other).await, Admission::Admitted);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(
            ask(admit(lease)).await,
            Admission::Admitted,
            "the lease ended"
        );
        // The probe is answered: only its holder (replica 1) ends the lease early.
        let release = |replica| {
            let store = store.clone();
            let names = names.clone();
            async move {
                let publish = Publish {
                    keys: &names,
                    rests: &[],
                    cursor: 0,
                    replica,
                    released: Some(2),
                    errors: &[],
                };
                store
                    .publish(publish)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        release(9).await;
        let held = ask(Admit {
            replica: 2,
            ..admit(lease)
        })
        .await;
        assert!(
            matches!(held, Admission::Probing { .. }),
            "{store:?}: another replica's release ended replica 1's lease: {held:?}"
        );
        release(1).await;
        assert_eq!(
            ask(Admit {
                replica: 2,
                ..admit(lease)
            })
            .await,
            Admission::Admitted,
            "{store:?}: the holder's release ends the lease at once"
        );
    }
}

/// Tokens in flight on other replicas count: 4 replicas × 4 tasks spend one organisation's
/// 1,000 tokens a minute, 150 per attempt, and the store admits 6 (900 tokens) plus what the
/// elapsed time refilled; a replica that never saw the token limit is paced by the one
/// another replica brought, and an attempt larger than the whole limit is not held back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_together_stay_within_the_minute_s_tokens() {
    let server = Server::start();
    let memory: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    for store in [memory, server.store("tokens") as Arc<dyn StateStore>] {
        let names = Arc::new(names());
        let admitted = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        // The first admission brings the limit; from then on the store knows it.
        let first = Admit {
            paced: true,
            tpm: Some(1_000),
            tokens: 150,
            ..asking(&names, 2)
        };
        let (first, _) = store
            .admit(first, Instant::now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first, Admission::Admitted);
        admitted.fetch_add(1, Ordering::Relaxed);
        for replica in 0..16u64 {
            let (store, names, admitted) = (store.clone(), names.clone(), admitted.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    let admit = Admit {
                        paced: true,
                        // Half the replicas have read the limit in a header; the others not.
                        tpm: (replica % 2 == 0).then_some(1_000),
                        tokens: 150,
                        replica: replica / 4,
                        ..asking(&names, 2)
                    };
                    match store.admit(admit, Instant::now()).await {
                        Ok((Admission::Admitted, _)) => {
                            admitted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((Admission::Paced { until }, _)) => {
                            let wait = until.saturating_duration_since(Instant::now());
                            assert!(wait <= Duration::from_secs(9), "{wait:?}");
                        }
                        other => panic!("unexpected answer {other:?}"),
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap_or_else(|e| panic!("{e}"));
        }
        let refill = (started.elapsed().as_secs_f64() * 1_000.0 / 60.0 / 150.0).ceil() as usize;
        let admitted = admitted.load(Ordering::Relaxed);
        assert!(
            admitted >= 6,
            "{store:?}: the burst is the minute: {admitted}"
        );
        assert!(
            admitted <= 6 + refill,
            "{store:?}: {admitted} admitted > 6 + {refill} refilled"
        );
        let unknown = Admit {
            paced: true,
            tokens: 150,
            replica: 9,
            ..asking(&names, 2)
        };
        let (paced, _) = store
            .admit(unknown, Instant::now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(paced, Admission::Paced { .. }),
            "{store:?}: the stored limit paces a replica that never saw it: {paced:?}"
        );
        let huge = Admit {
            tokens: 5_000,
            ..unknown
        };
        let (admission, _) = store
            .admit(huge, Instant::now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(admission, Admission::Admitted, "{store:?}");
    }
}

/// Errors published by two replicas add up in the store's count for that key, which the
/// next admission of the key reads, and the count ends with its window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_counts_add_up_across_replicas_and_expire() {
    let server = Server::start();
    let memory: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    for store in [memory, server.store("errors") as Arc<dyn StateStore>] {
        let names = names();
        let window = Duration::from_millis(300);
        for replica in [1, 2] {
            let publish = Publish {
                keys: &names,
                rests: &[],
                cursor: 0,
                replica,
                released: None,
                errors: &[(1, window)],
            };
            store
                .publish(publish)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let errors_of = |key| {
            let (store, names) = (store.clone(), names.clone());
            async move {
                let admit = Admit {
                    replica: 3,
                    ..asking(&names, key)
                };
                store
                    .admit(admit, Instant::now())
                    .await
                    .map(|(_, shared)| shared.errors)
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        assert_eq!(errors_of(1).await, 2, "{store:?}: both replicas' errors");
        assert_eq!(errors_of(0).await, 0, "{store:?}: another key has none");
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(errors_of(1).await, 0, "{store:?}: the window ended");
    }
}

/// A limit one replica learned paces the others, which have not met it: the bucket keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learned_limit_paces_every_replica() {
    let server = Server::start();
    let memory: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let redis: Arc<dyn StateStore> = server.store("learned");
    for store in [memory, redis] {
        let names = names();
        let admit = |rpm| Admit {
            paced: true,
            rpm,
            replica: 1,
            ..asking(&names, 0)
        };
        let (first, shared) = store
            .admit(admit(Some(3)), Instant::now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((first, shared.rpm), (Admission::Admitted, Some(3)));
        let mut admitted = 1;
        for _ in 0..5 {
            let (admission, shared) = store
                .admit(admit(None), Instant::now())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                shared.rpm,
                Some(3),
                "{}: the learned limit comes back",
                store.name()
            );
            admitted += usize::from(admission == Admission::Admitted);
        }
        assert_eq!(
            admitted,
            3,
            "{}: paced at the learned 3 a minute",
            store.name()
        );
        let unpaced = Admit {
            paced: false,
            ..admit(None)
        };
        let (admission, shared) = store
            .admit(unpaced, Instant::now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (admission, shared.rpm),
            (Admission::Admitted, None),
            "a policy that does not pace is not paced"
        );
    }
}

/// Rests, pacing buckets and the rotation position all carry TTLs; a rest is gone when it
/// ends, and a longer rest is never shortened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_the_store_writes_expires() {
    let server = Server::start();
    let store = server.store("ttl");
    let names = names();
    let rests = [
        (0, RestKind::Cooling, Duration::from_millis(300)),
        (2, RestKind::Exhausted, Duration::from_secs(600)),
    ];
    store
        .publish(Publish {
            keys: &names,
            rests: &rests,
            cursor: 7,
            replica: 1,
            released: None,
            errors: &[],
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let shorter = [(2, RestKind::Cooling, Duration::from_secs(1))];
    store
        .publish(Publish {
            keys: &names,
            rests: &shorter,
            cursor: 3,
            replica: 1,
            released: None,
            errors: &[],
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admit = Admit {
        paced: true,
        rpm: Some(30),
        replica: 1,
        ..asking(&names, 1)
    };
    let (admission, shared) = store
        .admit(admit, Instant::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(admission, Admission::Admitted);
    assert_eq!(shared.cursor, 7, "the position only grows");
    assert_eq!(
        shared.rests[2].map(|r| r.kind),
        Some(RestKind::Exhausted),
        "the longer rest stays"
    );
    assert!(shared.rests[0].is_some() && shared.rests[1].is_none());
    let mut conn = server.inspect().await;
    let all: Vec<String> = redis::cmd("KEYS")
        .arg("keyrotor:{ttl}:*")
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        all.len(),
        4,
        "two rests, a pacing bucket and the position: {all:?}"
    );
    for key in &all {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ttl > 0, "{key} has no TTL ({ttl})");
    }
    tokio::time::sleep(Duration::from_millis(450)).await;
    let shared = store
        .pull(&names, Instant::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(shared.rests[0].is_none(), "the 300 ms rest ended");
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("keyrotor:{{ttl}}:rest:{}", names[0]))
        .query_async(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(exists, 0, "and its key is gone from Redis");
}

/// Only durations cross the wire, timed by the server: a replica whose clock is an hour
/// ahead reads a 2 s rest as 2 s from its own now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_skewed_clocks_agree_on_a_rest() {
    let server = Server::start();
    let (a, b) = (server.store("skew"), server.store("skew"));
    let names = names();
    let rests = [(3, RestKind::Cooling, Duration::from_secs(2))];
    a.publish(Publish {
        keys: &names,
        rests: &rests,
        cursor: 0,
        replica: 1,
        released: None,
        errors: &[],
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let ahead = Instant::now() + Duration::from_secs(3600);
    let shared = b
        .pull(&names, ahead)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rest = shared.rests[3].unwrap_or_else(|| panic!("the rest reached replica B"));
    let left = rest.until.saturating_duration_since(ahead);
    assert!(
        left > Duration::from_millis(1_800) && left <= Duration::from_secs(2),
        "{left:?}"
    );
    let behind = Instant::now();
    let admit = Admit {
        replica: 1,
        ..asking(&names, 3)
    };
    let (admission, _) = a
        .admit(admit, behind)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(admission, Admission::Resting);
}

/// Redis killed in the middle of a run and restarted: every request ends once (offered =
/// succeeded + failed), fail-open serves from local state and says so, the store is
/// reachable again after, and the rests learned meanwhile are published on return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_run_loses_no_request() {
    for on_error in [OnStoreError::FailOpen, OnStoreError::FailClosed] {
        let mut server = Server::start();
        let upstream = Upstream::new(vec!["gsk_k0"]);
        let store: Arc<dyn StateStore> = server.store("outage");
        let replicas: Vec<_> = (0..4)
            .map(|_| replica("cooldown", &upstream, Some(store.clone()), on_error))
            .collect();
        let done = Arc::new(Mutex::new((0usize, 0usize, 0usize)));
        let mut tasks = Vec::new();
        for (i, r) in replicas.iter().enumerate() {
            let (r, done) = (r.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..30 {
                    let sent = r.send(&request()).await;
                    {
                        let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
                        match sent.outcome {
                            Ok(_) => d.0 += 1,
                            Err(f) if f.reason() == "state_unavailable" => d.2 += 1,
                            Err(_) => d.1 += 1,
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20 + i as u64)).await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        server.stop();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let port = server.port;
        let _restarted = Server::on(port);
        for task in tasks {
            task.await.unwrap_or_else(|e| panic!("{e}"));
        }
        let (ok, failed, refused) = *done.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(
            ok + failed + refused,
            4 * 30,
            "every request ended once ({on_error:?})"
        );
        let status = replicas[0].status();
        let s = status.store.unwrap_or_else(|| panic!("store status"));
        assert!(s.errors > 0, "the outage was seen: {s:?}");
        assert!(s.reachable, "and the store is back at the end: {s:?}");
        match on_error {
            OnStoreError::FailOpen => {
                assert_eq!(refused, 0);
                assert!(s.served_locally > 0, "{s:?}");
                // Key 0's rest, learned again meanwhile, is back on the restarted server.
                let shared = store
                    .pull(&names(), Instant::now())
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(shared.rests[0].is_some(), "resynchronised: {shared:?}");
            }
            OnStoreError::FailClosed => {
                assert!(refused > 0, "fail-closed refused during the outage");
                assert!(s.refused > 0, "{s:?}");
            }
        }
    }
}

/// The same sharing as in memory, across replicas on Redis, in real time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_redis_skip_a_key_another_saw_limited() {
    let server = Server::start();
    let upstream = Upstream::new(vec!["gsk_k2"]);
    let store: Arc<dyn StateStore> = server.store("share");
    let a = replica(
        "cooldown",
        &upstream,
        Some(store.clone()),
        OnStoreError::FailOpen,
    );
    let b = replica("cooldown", &upstream, Some(store), OnStoreError::FailOpen);
    for _ in 0..3 {
        assert!(a.send(&request()).await.outcome.is_ok());
    }
    assert_eq!(upstream.attempts_on(&keys()[2]), 1);
    for _ in 0..8 {
        assert!(b.send(&request()).await.outcome.is_ok());
    }
    assert_eq!(
        upstream.attempts_on(&keys()[2]),
        1,
        "replica B never tried key 2"
    );
    assert!(format!("{:?}", b.status()).contains("redis"));
}
