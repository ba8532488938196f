//! Property tests of the policies, driven directly through `Policy::next`/`observe` on a pool:
//! - no policy chooses a cooling, exhausted or disabled key while a ready one exists;
//! - adaptive never sends more than a key's known remaining budget, with requests in flight.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use keyrotor_engine::Provider as _;
use keyrotor_engine::failure::{Failure, classify};
use keyrotor_engine::policy::{Answer, Attempts, PolicyConfig, Step};
use keyrotor_engine::pool::Pool;
use proptest::prelude::*;
use tokio::time::Instant;

fn failure_of(code: u8) -> Option<(u16, &'static str)> {
    Some(match code % 8 {
        0 | 1 => return None,
        2 => (
            429,
            r#"{"error":{"message":"on tokens per minute (TPM): Limit 100, Used 100, Requested 5. Please try again in 3s."}}"#,
        ),
        3 => (
            429,
            r#"{"error":{"message":"on requests per day (RPD): Limit 100, Used 100, Requested 1. Please try again in 2h."}}"#,
        ),
        4 => (401, "{}"),
        5 => (503, "{}"),
        6 => (500, "{}"),
        _ => (413, "{}"),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_policy_picks_a_resting_key_while_a_ready_one_exists(
        policy_index in 0usize..6,
        n in 1usize..6,
        events in prop::collection::vec((any::<u8>(), 0u64..5000), 1..200),
    ) {
        let config = PolicyConfig::presets()[policy_index].default.clone();
        let policy = config.build();
        let start = Instant::now();
        let mut pool = Pool::new(n, 1, start);
        let mut now = start;
        let mut request = Attempts::new(100, now, now + Duration::from_secs(120));
        for (code, advance_ms) in events {
            now += Duration::from_millis(advance_ms);
            pool.refresh(now);
            if request.stop.is_some() || request.count >= 8 {
                request = Attempts::new(100, now, now + Duration::from_secs(120));
            }
            request.wait_next = None;
            match policy.next(&mut pool, &mut request, now) {
                Step::Try(k) => {
                    let any_ready = (0..n).any(|i| pool.is_ready(i));
                    prop_assert!(pool.is_ready(k) || !any_ready, "{} chose resting key {k}", config.name());
                    request.count += 1;
                    request.mark_tried(k);
                    pool.on_send(k, 100, now);
                    let answer = failure_of(code);
                    let failure: Option<Failure> = answer.and_then(|(status, body)| classify(status, &HeaderMap::new(), body.as_bytes()));
                    pool.on_answer(k, 100, failure.as_ref(), None, now);
                    let body = answer.map(|(_, b)| b.as_bytes()).unwrap_or(&[]);
                    policy.observe(&mut pool, &mut request, k, Answer { failure: failure.as_ref(), status: answer.map(|(s, _)| s), body }, now);
                    if failure.is_none() {
                        request = Attempts::new(100, now, now + Duration::from_secs(120));
                    }
                }
                Step::Wait(_) | Step::Fail(_) => {
                    request = Attempts::new(100, now, now + Duration::from_secs(120));
                }
            }
        }
    }

    #[test]
    fn adaptive_never_exceeds_a_keys_known_budget(
        orgs in prop::collection::vec(0usize..3, 1..6),
        limit in 3u64..20,
        ops in prop::collection::vec((any::<bool>(), any::<u16>()), 1..300),
        max_in_flight in 1usize..6,
    ) {
        let n = orgs.len();
        let policy = PolicyConfig::presets()[5].default.build();
        let now = Instant::now();
        let mut pool = Pool::new(n, 7, now);
        // An honest server: per organisation a daily request budget with no refill in the test.
        let mut remaining = [limit; 3];
        let mut in_flight: Vec<usize> = Vec::new();
        let mut known: Vec<Option<u64>> = vec![None; n];
        let mut flying = vec![0u64; n];
        for (send, pick) in ops {
            if send && in_flight.len() < max_in_flight {
                let mut request = Attempts::new(10, now, now + Duration::from_secs(1));
                if let Step::Try(k) = policy.next(&mut pool, &mut request, now) {
                    if let Some(budget) = known[k] {
                        prop_assert!(flying[k] < budget, "key {k}: {} in flight, {budget} known left", flying[k]);
                    }
                    pool.on_send(k, 10, now);
                    flying[k] += 1;
                    in_flight.push(k);
                }
            } else if !in_flight.is_empty() {
                let k = in_flight.remove(pick as usize % in_flight.len());
                flying[k] -= 1;
                let org = orgs[k];
                let mut headers = HeaderMap::new();
                headers.insert("x-ratelimit-limit-requests", HeaderValue::from(limit));
                let (status, body) = if remaining[org] > 0 {
                    remaining[org] -= 1;
                    (200, r#"{"choices":[{"message":{"content":"hi"}}]}"#.to_owned())
                } else {
                    (429, r#"{"error":{"message":"on requests per day (RPD): Limit 5, Used 5, Requested 1. Please try again in 1h."}}"#.to_owned())
                };
                headers.insert("x-ratelimit-remaining-requests", HeaderValue::from(remaining[org]));
                known[k] = Some(remaining[org]);
                let failure = classify(status, &headers, body.as_bytes());
                let mut request = Attempts::new(10, now, now + Duration::from_secs(1));
                pool.on_answer(k, 10, failure.as_ref(), keyrotor_engine::Groq.observe(&headers, now), now);
                policy.observe(&mut pool, &mut request, k, Answer { failure: failure.as_ref(), status: Some(status), body: body.as_bytes() }, now);
            }
        }
    }
}
