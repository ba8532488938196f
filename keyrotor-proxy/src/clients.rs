//! The proxy's clients: who may spend the pool, each by its own token, each with optional
//! requests-per-minute and tokens-per-minute limits (GCRA, the governor crate), so one app
//! cannot take the whole pool; and what each has used, for `/metrics` and `/status`.
//!
//! A client over its own limit gets its own 429 — Groq's body, naming the client's limit,
//! with a `retry-after` of when its own budget allows the request — before any key is spent.
//! Tokens are compared in constant time and never shown: a client is named by its `name`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};

/// A GCRA limiter of one client's requests or tokens per minute.
type Limiter = RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    DefaultClock,
    governor::middleware::NoOpMiddleware,
>;

/// One client as configured: a name, its token, its optional limits per minute.
#[derive(Clone)]
pub struct ClientSpec {
    /// How logs, `/status` and `/metrics` name it.
    pub name: String,
    /// The token it presents (`Authorization: Bearer …`).
    pub token: String,
    /// Requests per minute, if limited.
    pub rpm: Option<NonZeroU32>,
    /// Tokens per minute (prompt estimate + `max_tokens`, as Groq reserves), if limited.
    pub tpm: Option<NonZeroU32>,
}

/// What a client has used since the proxy started.
#[derive(Debug, Default)]
pub struct Usage {
    /// Chat requests it sent for a model the pool serves (admitted, or refused by its own
    /// limits).
    pub requests: AtomicU64,
    /// Tokens its admitted requests reserved (prompt estimate + `max_tokens`).
    pub tokens_reserved: AtomicU64,
    /// Completion tokens its whole answers reported (`usage.completion_tokens`; streamed
    /// answers are not counted).
    pub tokens_out: AtomicU64,
    /// Requests refused by its own limits.
    pub limited: AtomicU64,
}

/// One client of the proxy.
pub struct Client {
    /// How it is named.
    pub name: String,
    token: String,
    rpm: Option<(NonZeroU32, Arc<Limiter>)>,
    tpm: Option<(NonZeroU32, Arc<Limiter>)>,
    /// What it used (shared with the client of the same name after a reload).
    pub usage: Arc<Usage>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .field("rpm", &self.rpm.as_ref().map(|l| l.0))
            .field("tpm", &self.tpm.as_ref().map(|l| l.0))
            .finish_non_exhaustive()
    }
}

/// Why a client's request was refused by its own limits.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverLimit {
    /// Its requests per minute are used up until `retry_after`.
    #[error("client `{client}` is over its limit of {limit} requests per minute")]
    Requests {
        /// The client.
        client: String,
        /// Its RPM.
        limit: u32,
        /// When a request fits again.
        retry_after: Duration,
    },
    /// Its tokens per minute are used up until `retry_after`.
    #[error("client `{client}` is over its limit of {limit} tokens per minute")]
    Tokens {
        /// The client.
        client: String,
        /// Its TPM.
        limit: u32,
        /// When the request's tokens fit again.
        retry_after: Duration,
    },
    /// One request reserves more tokens than its whole minute's budget.
    #[error(
        "a request of {tokens} tokens is larger than client `{client}`'s limit of {limit} tokens per minute"
    )]
    TooLarge {
        /// The client.
        client: String,
        /// Its TPM.
        limit: u32,
        /// What the request reserves.
        tokens: u64,
    },
}

impl OverLimit {
    /// When to retry, for `retry-after`; `None` when waiting cannot help.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            OverLimit::Requests { retry_after, .. } | OverLimit::Tokens { retry_after, .. } => {
                Some(*retry_after)
            }
            OverLimit::TooLarge { .. } => None,
        }
    }
}

impl Client {
    /// A client from its spec; `previous`, the client of the same name before a reload,
    /// hands over its usage and each limit's budget that did not change.
    pub fn new(spec: ClientSpec, previous: Option<&Client>) -> Self {
        let limiter = |n: NonZeroU32, old: Option<&(NonZeroU32, Arc<Limiter>)>| match old {
            Some((limit, kept)) if *limit == n => (n, Arc::clone(kept)),
            _ => (n, Arc::new(RateLimiter::direct(Quota::per_minute(n)))),
        };
        Self {
            name: spec.name,
            token: spec.token,
            rpm: spec
                .rpm
                .map(|n| limiter(n, previous.and_then(|p| p.rpm.as_ref()))),
            tpm: spec
                .tpm
                .map(|n| limiter(n, previous.and_then(|p| p.tpm.as_ref()))),
            usage: previous.map_or_else(Arc::default, |p| Arc::clone(&p.usage)),
        }
    }

    /// Whether `presented` is its token (in constant time).
    fn holds(&self, presented: &str) -> bool {
        constant_time_eq(presented.as_bytes(), self.token.as_bytes())
    }

    /// Counts a request reserving `tokens` against the client's limits: admitted, or the
    /// limit it is over. Tokens are checked first, so a request refused for its tokens does
    /// not also spend a request of the minute.
    pub fn admit(&self, tokens: u64) -> Result<(), OverLimit> {
        self.usage.requests.fetch_add(1, Ordering::Relaxed);
        let refused = self.check(tokens);
        match &refused {
            Ok(()) => {
                self.usage
                    .tokens_reserved
                    .fetch_add(tokens, Ordering::Relaxed);
            }
            Err(_) => {
                self.usage.limited.fetch_add(1, Ordering::Relaxed);
            }
        }
        refused
    }

    /// Counts the completion tokens a whole answer's `usage` reports.
    pub fn answered(&self, body: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Answer {
            usage: Option<Used>,
        }
        #[derive(serde::Deserialize)]
        struct Used {
            completion_tokens: Option<u64>,
        }
        let used = serde_json::from_slice::<Answer>(body)
            .ok()
            .and_then(|a| a.usage)
            .and_then(|u| u.completion_tokens);
        if let Some(n) = used {
            self.usage.tokens_out.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn check(&self, tokens: u64) -> Result<(), OverLimit> {
        let now = DefaultClock::default().now();
        if let Some((limit, limiter)) = &self.tpm {
            let n = u32::try_from(tokens.max(1))
                .ok()
                .and_then(NonZeroU32::new)
                .unwrap_or(NonZeroU32::MAX);
            match limiter.check_n(n) {
                Err(_) => {
                    return Err(OverLimit::TooLarge {
                        client: self.name.clone(),
                        limit: limit.get(),
                        tokens,
                    });
                }
                Ok(Err(not_until)) => {
                    return Err(OverLimit::Tokens {
                        client: self.name.clone(),
                        limit: limit.get(),
                        retry_after: not_until.wait_time_from(now),
                    });
                }
                Ok(Ok(())) => {}
            }
        }
        if let Some((limit, limiter)) = &self.rpm
            && let Err(not_until) = limiter.check()
        {
            return Err(OverLimit::Requests {
                client: self.name.clone(),
                limit: limit.get(),
                retry_after: not_until.wait_time_from(now),
            });
        }
        Ok(())
    }
}

/// Byte strings compared in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Every client of the proxy; none means the proxy asks for no token.
#[derive(Debug, Default)]
pub struct Clients {
    list: Vec<Client>,
}

impl Clients {
    /// The clients of these specs; tokens must differ. A client named as one of `previous`
    /// (the clients before a reload) keeps its usage and the budgets of its unchanged limits.
    pub fn new(specs: Vec<ClientSpec>, previous: Option<&Clients>) -> Result<Self, String> {
        for (i, a) in specs.iter().enumerate() {
            if let Some(b) = specs[..i].iter().find(|b| b.token == a.token) {
                return Err(format!(
                    "clients `{}` and `{}` have the same token: each client needs its own",
                    b.name, a.name
                ));
            }
            if let Some(b) = specs[..i].iter().find(|b| b.name == a.name) {
                return Err(format!("two clients are named `{}`", b.name));
            }
        }
        let before = |name: &str| previous.and_then(|p| p.list.iter().find(|c| c.name == name));
        Ok(Self {
            list: specs
                .into_iter()
                .map(|spec| {
                    let old = before(&spec.name);
                    Client::new(spec, old)
                })
                .collect(),
        })
    }

    /// Whether the proxy asks for a token at all.
    pub fn open(&self) -> bool {
        self.list.is_empty()
    }

    /// The client whose token `presented` is (`None` when none is; every client is tried,
    /// so the time does not say which came close).
    pub fn identify(&self, presented: Option<&str>) -> Option<&Client> {
        let presented = presented?;
        self.list.iter().fold(
            None,
            |found, c| if c.holds(presented) { Some(c) } else { found },
        )
    }

    /// Every client, in configured order.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.list.iter()
    }

    /// What each client used, by name (for `/status`; never a token).
    pub fn usage(&self) -> serde_json::Value {
        self.list
            .iter()
            .map(|c| {
                let u = &c.usage;
                let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
                serde_json::json!({
                    "name": c.name,
                    "rpm": c.rpm.as_ref().map(|l| l.0.get()),
                    "tpm": c.tpm.as_ref().map(|l| l.0.get()),
                    "requests": n(&u.requests),
                    "tokens_reserved": n(&u.tokens_reserved),
                    "tokens_out": n(&u.tokens_out),
                    "limited": n(&u.limited),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, token: &str, rpm: Option<u32>, tpm: Option<u32>) -> ClientSpec {
        ClientSpec {
            name: name.into(),
            token: token.into(),
            rpm: rpm.and_then(NonZeroU32::new),
            tpm: tpm.and_then(NonZeroU32::new),
        }
    }

    #[test]
    fn a_client_over_its_rpm_is_refused_with_when_to_retry_and_another_is_not() {
        let clients = Clients::new(
            vec![
                spec("web", "tok-web", Some(2), None),
                spec("batch", "tok-batch", None, Some(1000)),
            ],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let web = clients.identify(Some("tok-web")).map(|c| c.name.as_str());
        assert_eq!(web, Some("web"));
        assert!(clients.identify(Some("tok-we")).is_none());
        assert!(clients.identify(None).is_none());
        let Some(web) = clients.identify(Some("tok-web")) else {
            panic!("no web client");
        };
        assert_eq!(web.admit(10), Ok(()));
        assert_eq!(web.admit(10), Ok(()));
        let third = web.admit(10);
        assert!(
            matches!(&third, Err(OverLimit::Requests { limit: 2, retry_after, .. }) if *retry_after > Duration::from_secs(20) && *retry_after <= Duration::from_secs(30)),
            "{third:?}"
        );
        assert_eq!(web.usage.limited.load(Ordering::Relaxed), 1);
        assert_eq!(web.usage.tokens_reserved.load(Ordering::Relaxed), 20);
        let Some(batch) = clients.identify(Some("tok-batch")) else {
            panic!("no batch client");
        };
        assert_eq!(batch.admit(900), Ok(()));
        assert!(matches!(
            batch.admit(200),
            Err(OverLimit::Tokens { limit: 1000, .. })
        ));
        assert!(matches!(
            batch.admit(5000),
            Err(OverLimit::TooLarge { tokens: 5000, .. })
        ));
        assert!(format!("{clients:?}").contains("web") && !format!("{clients:?}").contains("tok-"));

        // A reload keeps web's spent minute and its usage; batch's new TPM starts afresh.
        let reloaded = Clients::new(
            vec![
                spec("web", "tok-web-2", Some(2), None),
                spec("batch", "tok-batch", None, Some(2000)),
            ],
            Some(&clients),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let Some(web) = reloaded.identify(Some("tok-web-2")) else {
            panic!("no web client after the reload");
        };
        assert!(matches!(web.admit(10), Err(OverLimit::Requests { .. })));
        assert_eq!(web.usage.limited.load(Ordering::Relaxed), 2);
        assert!(
            reloaded.identify(Some("tok-web")).is_none(),
            "the old token is gone"
        );
        let Some(batch) = reloaded.identify(Some("tok-batch")) else {
            panic!("no batch client after the reload");
        };
        assert_eq!(batch.admit(1500), Ok(()));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn two_clients_with_one_token_or_one_name_are_refused() {
        assert!(
            Clients::new(
                vec![spec("a", "t", None, None), spec("b", "t", None, None)],
                None
            )
            .is_err()
        );
        assert!(
            Clients::new(
                vec![spec("a", "t", None, None), spec("a", "u", None, None)],
                None
            )
            .is_err()
        );
    }
}
