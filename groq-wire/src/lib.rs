//! groq-wire: Groq's wire facts, shared by the mock (which writes them) and the rotation
//! engine (which reads them), so the two cannot drift apart; and the two input/output rules
//! every keyrotor crate keeps (secrets redacted, files read within a cap).
//!
//! - [`header`]: the response headers and what each one counts.
//! - [`goduration`]: Go's duration strings, formatted and parsed (`1m26.4s`, `185ms`).
//! - [`key`]: an API key that never shows itself, with its fingerprint.
//! - [`secret`]: the one redaction rule for errors and logs (key shapes, URL user-info,
//!   remembered secrets).
//! - [`file`]: files read whole within a cap (no `/dev/zero`, no gigabytes).
//! - [`tokens`]: the token estimate of a chat request.
//! - [`error`]: the JSON body of an error answer.
//! - [`catalog`]: the dated model catalog: limits per tier with their sources, prices, and
//!   the days models came and went.
//! - [`providers`]: the provider profiles: what each API's limits belong to, how they refill
//!   or reset, its paths, headers and error answers, dated and sourced.

#![warn(missing_docs)]

pub mod catalog;
pub mod error;
pub mod file;
pub mod goduration;
pub mod key;
pub mod providers;
pub mod secret;
pub mod tokens;

pub use key::{ApiKey, fingerprint};

/// The headers Groq puts on answers, and what each one counts (GROQ.md §2).
pub mod header {
    /// The daily request limit (RPD), on every answer.
    pub const LIMIT_REQUESTS: &str = "x-ratelimit-limit-requests";
    /// Requests left of the daily limit.
    pub const REMAINING_REQUESTS: &str = "x-ratelimit-remaining-requests";
    /// Time until the daily request budget is full again, as a Go duration.
    pub const RESET_REQUESTS: &str = "x-ratelimit-reset-requests";
    /// The per-minute token limit (TPM), on every answer.
    pub const LIMIT_TOKENS: &str = "x-ratelimit-limit-tokens";
    /// Tokens left of the minute's limit.
    pub const REMAINING_TOKENS: &str = "x-ratelimit-remaining-tokens";
    /// Time until the minute's token budget is full again, as a Go duration.
    pub const RESET_TOKENS: &str = "x-ratelimit-reset-tokens";
    /// Whole seconds to wait, on 429 answers only.
    pub const RETRY_AFTER: &str = "retry-after";
    /// The request's id (`req_…`).
    pub const REQUEST_ID: &str = "x-request-id";
}
