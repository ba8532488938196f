//! [`RedisStore`]: shared key state on a Redis server, for replicas in several processes or
//! machines. Each call is one Lua script (`admit.lua`, `publish.lua` beside this file): one
//! round trip, atomic, on the server's clock (`TIME`). Keys are namespaced
//! `keyrotor:{POOL}:…` (the braces keep one pool in one cluster slot) and every one carries a
//! TTL: a rest lives as long as it lasts, a probe lease as long as the probe may take, an
//! error count as long as its policy's window, a pacing bucket (and the limits learned in it)
//! a day after its last write, the rotation's position a day after it last moved.

use std::fmt;
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};
use tokio::time::Instant;

use super::{
    Admission, Admit, MAX_CURSOR, Publish, Rest, RestKind, Shared, StateStore, StoreError,
    check_pool_id, rest_millis,
};

/// How long the rotation's position is kept after its last use, ms.
const CURSOR_TTL_MS: u64 = 86_400_000;

/// The largest limit or cost sent to the script (2^53: exact in Redis's Lua numbers).
const MAX_LIMIT: u64 = 1 << 53;

/// A paced admission's bucket (its organisation's first key's fingerprint), the limits as
/// the caller knows them (0: unknown) and the tokens the attempt reserves.
struct Paced<'a> {
    bucket: &'a str,
    rpm: u64,
    tpm: u64,
    tokens: u64,
}

/// Shared state on Redis. Connects lazily and reconnects by itself; every call is bounded by
/// the timeout given to [`RedisStore::open`].
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
    timeout: Duration,
    admit: Script,
    publish: Script,
    server: String,
}

impl fmt::Debug for RedisStore {
    /// The server's address and the pool, never a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.server)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for pool `pool_id` on the server at `url` (`redis://[:password@]host:port[/db]`,
    /// or a Unix socket: `redis+unix:///path[?db=N]`),
    /// each call bounded by `timeout` (1 ms to 10 s). Does not connect yet: an unreachable
    /// server shows as errors on the calls, which the rotor answers per [`super::OnStoreError`].
    /// Must be called inside a tokio runtime.
    pub fn open(url: &str, pool_id: &str, timeout: Duration) -> Result<Self, StoreError> {
        check_pool_id(pool_id)?;
        if timeout < Duration::from_millis(1) || timeout > Duration::from_secs(10) {
            return Err(StoreError::Invalid(format!(
                "store timeout {timeout:?}: from 1 ms to 10 s"
            )));
        }
        let client = Client::open(url)
            .map_err(|e| StoreError::Invalid(format!("redis URL: {}", e.category())))?;
        let server = client.get_connection_info().addr().to_string();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            conn,
            prefix: format!("keyrotor:{{{pool_id}}}:"),
            timeout,
            admit: Script::new(include_str!("admit.lua")),
            publish: Script::new(include_str!("publish.lua")),
            server,
        })
    }

    fn rest_key(&self, fingerprint: &str) -> String {
        format!("{}rest:{fingerprint}", self.prefix)
    }

    fn probe_key(&self, fingerprint: &str) -> String {
        format!("{}probe:{fingerprint}", self.prefix)
    }

    fn errors_key(&self, fingerprint: &str) -> String {
        format!("{}errors:{fingerprint}", self.prefix)
    }

    /// Runs the admit script (`key` 1-based, 0 to only read; `pace`: the bucket, the limits
    /// as known, 0 unknown, and the tokens reserved; `probe`: the lease of a probing attempt
    /// and who would hold it) and reads its answer.
    async fn run_admit(
        &self,
        keys: &[String],
        (key, pace, probe): (usize, Option<Paced<'_>>, (Option<Duration>, u64)),
        cursor: u64,
        now: Instant,
    ) -> Result<(i64, i64, Shared), StoreError> {
        let mut call = self.admit.prepare_invoke();
        for fingerprint in keys {
            call.key(self.rest_key(fingerprint));
        }
        let (bucket, rpm, tpm, tokens) = match pace {
            Some(p) => (
                p.bucket,
                i64::try_from(p.rpm.min(MAX_LIMIT)).unwrap_or(i64::MAX),
                p.tpm,
                p.tokens,
            ),
            None => ("-", -1, 0, 0),
        };
        let probed = key
            .checked_sub(1)
            .and_then(|k| keys.get(k))
            .map_or("-", String::as_str);
        let lease = probe
            .0
            .map_or(0, |p| p.min(super::MAX_PROBE).as_millis().max(1));
        call.key(format!("{}pace:{bucket}", self.prefix))
            .key(format!("{}cursor", self.prefix))
            .key(self.probe_key(probed))
            .key(self.errors_key(probed))
            .arg(key)
            .arg(rpm)
            .arg(cursor.min(MAX_CURSOR))
            .arg(CURSOR_TTL_MS)
            .arg(u64::try_from(lease).unwrap_or(u64::MAX))
            .arg(probe.1.to_string())
            .arg(tpm.min(MAX_LIMIT))
            .arg(tokens.min(MAX_LIMIT));
        let mut conn = self.conn.clone();
        let answer: Vec<i64> = self.bounded(call.invoke_async(&mut conn)).await?;
        read_answer(&answer, keys.len(), now)
    }

    async fn bounded<T>(
        &self,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(StoreError::Timeout(self.timeout)),
            Ok(Err(e)) if e.is_timeout() => Err(StoreError::Timeout(self.timeout)),
            Ok(Err(e)) => Err(StoreError::Unavailable(e.to_string())),
            Ok(Ok(value)) => Ok(value),
        }
    }
}

/// `{verdict, wait ms, position, rpm, errors, kind_1, left_1, …}` → (verdict, wait, what it
/// says).
fn read_answer(answer: &[i64], n: usize, now: Instant) -> Result<(i64, i64, Shared), StoreError> {
    let [verdict, wait, cursor, rpm, errors, rests @ ..] = answer else {
        return Err(StoreError::Malformed(format!("{} fields", answer.len())));
    };
    if rests.len() != 2 * n {
        return Err(StoreError::Malformed(format!(
            "{} rest fields for {n} keys",
            rests.len()
        )));
    }
    let rests = rests
        .chunks_exact(2)
        .map(|pair| {
            let left = Duration::from_millis(u64::try_from(pair[1]).unwrap_or(0));
            RestKind::from_code(pair[0])
                .filter(|_| !left.is_zero())
                .map(|kind| Rest {
                    kind,
                    until: now + left.min(super::MAX_REST),
                })
        })
        .collect();
    let cursor = u64::try_from(*cursor).unwrap_or(0).min(MAX_CURSOR);
    let rpm = u64::try_from(*rpm).ok().filter(|&r| r > 0);
    let errors = u32::try_from(*errors).unwrap_or(if *errors < 0 { 0 } else { u32::MAX });
    Ok((
        *verdict,
        *wait,
        Shared {
            rests,
            cursor,
            rpm,
            errors,
        },
    ))
}

impl StateStore for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn pull<'a>(
        &'a self,
        keys: &'a [String],
        now: Instant,
    ) -> BoxFuture<'a, Result<Shared, StoreError>> {
        async move { Ok(self.run_admit(keys, (0, None, (None, 0)), 0, now).await?.2) }.boxed()
    }

    fn admit<'a>(
        &'a self,
        admit: Admit<'a>,
        now: Instant,
    ) -> BoxFuture<'a, Result<(Admission, Shared), StoreError>> {
        async move {
            if admit.key >= admit.keys.len() || admit.group >= admit.keys.len() {
                return Err(StoreError::Invalid(format!(
                    "key {} or group {} out of {} keys",
                    admit.key,
                    admit.group,
                    admit.keys.len()
                )));
            }
            let pace = admit.paced.then(|| Paced {
                bucket: admit.keys[admit.group].as_str(),
                rpm: admit.rpm.unwrap_or(0),
                tpm: admit.tpm.unwrap_or(0),
                tokens: admit.tokens,
            });
            let (verdict, wait, shared) = self
                .run_admit(
                    admit.keys,
                    (admit.key + 1, pace, (admit.probe, admit.replica)),
                    admit.cursor,
                    now,
                )
                .await?;
            let admission = match verdict {
                1 => Admission::Admitted,
                2 => Admission::Resting,
                3 | 4 => {
                    let until = now
                        + Duration::from_millis(u64::try_from(wait).unwrap_or(0))
                            .min(super::MAX_REST);
                    if verdict == 3 {
                        Admission::Paced { until }
                    } else {
                        Admission::Probing { until }
                    }
                }
                other => return Err(StoreError::Malformed(format!("verdict {other}"))),
            };
            Ok((admission, shared))
        }
        .boxed()
    }

    fn publish<'a>(&'a self, publish: Publish<'a>) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let mut call = self.publish.prepare_invoke();
            let rests: Vec<_> = publish
                .rests
                .iter()
                .filter_map(|&(k, kind, rest)| publish.keys.get(k).map(|name| (name, kind, rest)))
                .collect();
            call.arg(rests.len());
            for (name, kind, rest) in rests {
                call.key(self.rest_key(name))
                    .arg(kind.code())
                    .arg(rest_millis(rest));
            }
            let released = publish.released.and_then(|k| publish.keys.get(k));
            call.key(format!("{}cursor", self.prefix))
                .key(self.probe_key(released.map_or("-", String::as_str)))
                .arg(publish.cursor.min(MAX_CURSOR))
                .arg(CURSOR_TTL_MS)
                .arg(released.map_or(String::new(), |_| publish.replica.to_string()));
            for &(k, window) in publish.errors {
                if let Some(fingerprint) = publish.keys.get(k) {
                    call.key(self.errors_key(fingerprint))
                        .arg(rest_millis(window));
                }
            }
            let mut conn = self.conn.clone();
            let _: i64 = self.bounded(call.invoke_async(&mut conn)).await?;
            Ok(())
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_the_wrong_shape_are_errors_not_panics() {
        let now = Instant::now();
        assert!(read_answer(&[], 1, now).is_err());
        assert!(read_answer(&[1, 0, 5, 0, 1], 1, now).is_err());
        let (verdict, _, shared) =
            read_answer(&[1, 0, -3, -1, -4, 9, 100, 2, -5], 2, now).expect("read");
        assert_eq!(shared.errors, 0, "a negative count reads as none");
        assert_eq!(shared.rpm, None, "a negative limit reads as unknown");
        assert_eq!(verdict, 1);
        assert_eq!(shared.cursor, 0, "a negative position reads as none");
        assert_eq!(
            shared.rests,
            vec![None, None],
            "unknown kinds and negative times are no rest"
        );
    }

    #[test]
    fn debug_shows_the_server_not_the_password() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        let store = RedisStore::open(
            "redis://:hunter2secret@127.0.0.1:1/0",
            "p",
            Duration::from_millis(50),
        )
        .expect("open is lazy");
        let shown = format!("{store:?}");
        assert!(shown.contains("127.0.0.1"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
