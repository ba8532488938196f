//! Each preset reproduces its seed's behaviour step by step, with a scripted transport on a
//! paused clock: which key is tried, when it waits, when it gives up.

#[path = "support/scripted.rs"]
mod support;

use std::time::Duration;

use keyrotor_engine::policy::GiveUp;
use keyrotor_engine::{ChatRequest, PolicyConfig, Rotor, RotorOptions, Sent};
use support::{Scripted, day_429, keys, minute_429, ok, ok_with_budget, status};

fn rotor(policy: &str, transport: Scripted, n: usize) -> Rotor<Scripted> {
    let policy: PolicyConfig = policy.parse().unwrap_or_else(|e| panic!("{e}"));
    Rotor::new(keys(n), policy, transport, RotorOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn request() -> ChatRequest {
    ChatRequest::synthetic("openai/gpt-oss-120b", 100, 100, false)
}

fn keys_tried(sent: &Sent) -> Vec<usize> {
    sent.trace.attempts.iter().map(|a| a.key).collect()
}

fn give_up(sent: &Sent) -> Option<GiveUp> {
    sent.outcome.as_ref().err().map(|f| f.give_up)
}

#[tokio::test(start_paused = true)]
async fn round_robin_rotates_per_request_and_tries_each_key_once() {
    // Key 0 is rate limited, key 2 answers 500.
    let t = Scripted::new(&keys(3), |k, _| match k {
        0 => minute_429("o0", 5),
        2 => status(500),
        _ => ok(),
    });
    let r = rotor("round-robin", t.clone(), 3);
    let first = r.send(&request()).await;
    assert_eq!(keys_tried(&first), [0, 1], "429 on key 0 → next key");
    assert!(first.outcome.is_ok());
    assert_eq!(first.trace.waited, Duration::ZERO, "no wait between keys");
    let second = r.send(&request()).await;
    assert_eq!(keys_tried(&second), [1], "the index advanced per request");
    let third = r.send(&request()).await;
    assert_eq!(
        keys_tried(&third),
        [2, 0, 1],
        "seed 000's loop falls through to the next key on a 500 as on a 429"
    );
    assert!(third.outcome.is_ok());
    let fourth = r.send(&request()).await;
    assert_eq!(
        keys_tried(&fourth),
        [0, 1],
        "key 0 is tried again: no memory of its 429"
    );
    let revoked = Scripted::new(&keys(3), |k, _| if k == 0 { status(401) } else { ok() });
    let r = rotor("round-robin", revoked, 3);
    assert_eq!(
        keys_tried(&r.send(&request()).await),
        [0, 1],
        "a 401 falls through to the next key too"
    );

    let all_limited = Scripted::new(&keys(3), |_, _| minute_429("o", 5));
    let r = rotor("round-robin", all_limited, 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1, 2]);
    assert_eq!(give_up(&sent), Some(GiveUp::AllKeysFailed));
}

#[tokio::test(start_paused = true)]
async fn sticky_failover_lets_the_sdk_retry_then_rotates_on_limit_words() {
    // Key 0 always 429 with retry-after 3 s: the SDK waits 3 s twice before the seed rotates.
    let t = Scripted::new(
        &keys(3),
        |k, _| if k == 0 { minute_429("o0", 3) } else { ok() },
    );
    let r = rotor("sticky-failover", t.clone(), 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 0, 0, 1]);
    assert_eq!(sent.trace.waited, Duration::from_secs(6));
    assert!(sent.outcome.is_ok());
    let failover = sent.trace.failover().unwrap_or_default();
    assert!(
        failover >= Duration::from_secs(6),
        "failover took {failover:?}: far from <200ms"
    );
    assert_eq!(
        keys_tried(&r.send(&request()).await),
        [1],
        "stays on the new key"
    );

    // 503: the SDK retries (backoff 0.5 s, 1 s less jitter), the text has no limit word: fallback.
    let busy = Scripted::new(&keys(3), |_, _| status(503));
    let r = rotor("sticky-failover", busy, 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 0, 0]);
    let failed = sent
        .outcome
        .as_ref()
        .err()
        .cloned()
        .unwrap_or_else(|| panic!("503 succeeded"));
    assert!(
        failed.degraded,
        "the seed answers with a fallback, not an error"
    );
    assert!(
        sent.trace.waited >= Duration::from_millis(1125)
            && sent.trace.waited <= Duration::from_millis(1500)
    );

    // 413 says rate_limit_exceeded: the naive match rotates through every key uselessly.
    let too_large = Scripted::new(&keys(3), |_, _| status(413));
    let r = rotor("sticky-failover", too_large, 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1, 2]);
    assert!(sent.outcome.as_ref().is_err_and(|f| f.degraded));
}

#[tokio::test(start_paused = true)]
async fn daily_exhaust_switches_only_on_daily_limits() {
    let t = Scripted::new(&keys(3), |k, n| match (k, n) {
        (0, _) => day_429("o0", 7200),
        (1, 2..=4) => minute_429("o1", 1),
        _ => ok(),
    });
    let r = rotor("daily-exhaust", t.clone(), 3);
    // Call 1: key 0 daily-limited → exhausted, switch to key 1; calls 2–4 are 429 per minute
    // on key 1: backoff 1 s, 2 s, 4 s on the same key, then call 5 succeeds.
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1, 1, 1, 1]);
    assert_eq!(sent.trace.waited, Duration::from_secs(7));
    assert!(sent.outcome.is_ok());
    let snapshot = r.status();
    assert_eq!(snapshot.keys[0].state, "exhausted");
    assert!(
        snapshot.keys[0]
            .ready_in_ms
            .is_some_and(|ms| ms > 7_000_000)
    );
    assert_eq!(
        keys_tried(&r.send(&request()).await),
        [1],
        "the exhausted primary is skipped"
    );

    // A daily *request* limit is no "daily token limit" to the seed: it backs off on the
    // same key like any other 429.
    let rpd = Scripted::new(&keys(2), |k, n| match (k, n) {
        (0, 1) => {
            let body = r#"{"error":{"message":"Rate limit reached for model `m` in organization `o0` service tier `on_demand` on requests per day (RPD): Limit 1000, Used 1000, Requested 1. Please try again in 1s.","type":"requests","code":"rate_limit_exceeded"}}"#;
            support::reply(429, &[("retry-after", "1".to_owned())], body)
        }
        _ => ok(),
    });
    let r = rotor("daily-exhaust", rpd, 2);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 0], "RPD backs off on the same key");
    assert!(sent.outcome.is_ok());

    let revoked = Scripted::new(&keys(3), |_, _| status(401));
    let r = rotor("daily-exhaust", revoked, 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0], "401 fails at once");
    assert_eq!(give_up(&sent), Some(GiveUp::NotRetryable));

    let limited = Scripted::new(&keys(2), |_, _| minute_429("o", 1));
    let r = rotor(
        "daily-exhaust:max_backoff_retries=2,backoff_base=500ms",
        limited,
        2,
    );
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 0, 0]);
    assert_eq!(sent.trace.waited, Duration::from_millis(1500));
    assert_eq!(give_up(&sent), Some(GiveUp::RetriesExhausted));
}

/// A request error is the request's: under every preset it cools or disables no key (the
/// keys stay ready for the next request).
#[tokio::test(start_paused = true)]
async fn a_bad_request_marks_no_key_under_any_preset() {
    for preset in PolicyConfig::presets() {
        // The first call is the bad request's; every later one is answered.
        let t = Scripted::new(&keys(2), |_, n| if n == 1 { status(400) } else { ok() });
        let r = rotor(preset.name, t.clone(), 2);
        let _ = r.send(&request()).await;
        let states: Vec<&str> = r.status().keys.iter().map(|k| k.state).collect();
        assert_eq!(states, ["ready", "ready"], "{}: no key marked", preset.name);
    }
}

#[tokio::test(start_paused = true)]
async fn cooldown_rests_failed_keys_and_fails_at_once_when_all_rest() {
    let t = Scripted::new(
        &keys(3),
        |k, _| if k == 0 { minute_429("o0", 5) } else { ok() },
    );
    let r = rotor("cooldown", t.clone(), 3);
    assert_eq!(keys_tried(&r.send(&request()).await), [0, 1]);
    assert_eq!(keys_tried(&r.send(&request()).await), [2]);
    assert_eq!(
        keys_tried(&r.send(&request()).await),
        [1],
        "key 0 skipped while cooling"
    );
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert_eq!(keys_tried(&r.send(&request()).await), [2]);
    assert_eq!(
        keys_tried(&r.send(&request()).await),
        [0, 1],
        "key 0 back after 60 s (and limited again)"
    );

    let down = Scripted::new(&keys(4), |_, _| status(500));
    let r = rotor("cooldown", down, 4);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1, 2], "at most 3 attempts");
    assert_eq!(give_up(&sent), Some(GiveUp::AllKeysFailed));
    assert_eq!(keys_tried(&r.send(&request()).await), [3]);
    let none = r.send(&request()).await;
    assert!(keys_tried(&none).is_empty());
    assert_eq!(give_up(&none), Some(GiveUp::NoKeyAvailable));
    assert_eq!(none.trace.total, Duration::ZERO, "instant hard failure");
}

#[tokio::test(start_paused = true)]
async fn error_threshold_hammers_the_primary_until_it_is_disabled() {
    let t = Scripted::new(&keys(3), |k, _| if k == 0 { status(503) } else { ok() });
    let r = rotor("error-threshold", t.clone(), 3);
    for _ in 0..3 {
        assert_eq!(
            keys_tried(&r.send(&request()).await),
            [0, 1],
            "primary first, every time"
        );
    }
    let snapshot = r.status();
    assert_eq!(snapshot.keys[0].state, "disabled");
    assert!(
        snapshot.keys[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("threshold 3"))
    );
    assert_eq!(keys_tried(&r.send(&request()).await), [1]);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(
        keys_tried(&r.send(&request()).await),
        [0, 1],
        "re-enabled after the reset interval"
    );
}

#[tokio::test(start_paused = true)]
async fn adaptive_cools_exactly_waits_when_all_rest_and_fails_fast_on_413() {
    // Both keys 429 once (5 s and 8 s), then succeed.
    let t = Scripted::new(&keys(2), |k, n| match (k, n) {
        (0, 1) => minute_429("o0", 5),
        (1, 2) => minute_429("o1", 8),
        _ => ok(),
    });
    let r = rotor("adaptive", t.clone(), 2);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1, 0]);
    assert!(sent.outcome.is_ok());
    // It waited for key 0's reset (5 s after its 429), not a fixed cooldown.
    let waited = sent.trace.waited;
    assert!(
        waited > Duration::from_millis(4900) && waited < Duration::from_millis(5100),
        "{waited:?}"
    );
    let snapshot = r.status();
    assert_eq!(snapshot.keys[1].state, "cooling");

    let too_large = Scripted::new(&keys(3), |_, _| status(413));
    let r = rotor("adaptive", too_large, 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0], "413 fails fast without rotating");
    assert_eq!(give_up(&sent), Some(GiveUp::NotRetryable));

    // Beyond max_wait it fails at once, saying no key is available.
    let day = Scripted::new(&keys(2), |_, _| day_429("o", 7200));
    let r = rotor("adaptive:max_wait=10s", day, 2);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1]);
    assert_eq!(give_up(&sent), Some(GiveUp::NoKeyAvailable));
    assert_eq!(r.status().totals.exhausted, 2);
}

#[tokio::test(start_paused = true)]
async fn adaptive_disables_401_keys_retries_5xx_elsewhere_and_respects_budgets() {
    let t = Scripted::new(&keys(3), |k, _| match k {
        0 => status(401),
        1 => status(503),
        _ => ok(),
    });
    let r = rotor("adaptive", t.clone(), 3);
    let sent = r.send(&request()).await;
    assert_eq!(keys_tried(&sent), [0, 1, 2]);
    assert!(sent.outcome.is_ok());
    assert!(
        sent.trace.waited <= Duration::from_millis(200),
        "one jittered backoff ≤ 2×100 ms"
    );
    let snapshot = r.status();
    assert_eq!(snapshot.keys[0].state, "disabled");
    assert!(
        snapshot.keys[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("401"))
    );

    // Key 0 reports no daily requests left: it is not chosen again until refill.
    let t = Scripted::new(&keys(2), |k, _| {
        if k == 0 {
            ok_with_budget(0, 1000)
        } else {
            ok_with_budget(500, 1000)
        }
    });
    let r = rotor("adaptive", t.clone(), 2);
    for _ in 0..6 {
        assert!(r.send(&request()).await.outcome.is_ok());
    }
    let calls = t.calls();
    assert_eq!(calls.iter().filter(|k| **k == 0).count(), 1, "{calls:?}");
}

/// Adaptive waits for a resting key only when the key can still answer within the user's
/// budget (its return plus a typical attempt); otherwise it fails at once, saying when a key
/// is back. Checked over many rests and budgets on the paused clock.
#[tokio::test(start_paused = true)]
async fn adaptive_never_waits_past_the_budget() {
    for budget_ms in [500u64, 1_000, 2_000, 5_000] {
        for rest_s in [1u64, 2, 3, 4, 6, 10] {
            // Call 1 succeeds (teaching the typical attempt: 10 ms), call 2 rests both keys'
            // organisation for `rest_s`, later calls succeed.
            let t = Scripted::new(&keys(2), move |_, n| match n {
                2 | 3 => minute_429("o", rest_s),
                _ => ok(),
            });
            let policy: PolicyConfig = "adaptive".parse().unwrap_or_else(|e| panic!("{e}"));
            let budget = Duration::from_millis(budget_ms);
            let options = RotorOptions {
                budget: Some(budget),
                ..RotorOptions::default()
            };
            let r = Rotor::new(keys(2), policy, t, options).unwrap_or_else(|e| panic!("{e}"));
            assert!(r.send(&request()).await.outcome.is_ok());
            let started = tokio::time::Instant::now();
            let sent = r.send(&request()).await;
            let fits = Duration::from_secs(rest_s) < budget;
            assert!(
                sent.trace.waited <= budget,
                "budget {budget:?}, rest {rest_s} s: waited {:?}",
                sent.trace.waited
            );
            match &sent.outcome {
                Ok(_) => assert!(
                    fits,
                    "budget {budget:?}, rest {rest_s} s: waited for a late key"
                ),
                Err(failed) => {
                    assert!(
                        !fits,
                        "budget {budget:?}, rest {rest_s} s: gave up on a key in time"
                    );
                    assert_eq!(failed.give_up, GiveUp::NoKeyAvailable);
                    assert_eq!(sent.trace.waited, Duration::ZERO, "failed fast");
                    let back = failed.retry_after.unwrap_or_default();
                    assert!(
                        back > Duration::from_secs(rest_s) - Duration::from_millis(100)
                            && back <= Duration::from_secs(rest_s),
                        "retry-after {back:?} for a rest of {rest_s} s"
                    );
                    assert!(started.elapsed() < Duration::from_millis(100));
                }
            }
        }
    }
}
