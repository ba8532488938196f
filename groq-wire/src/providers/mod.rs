//! Provider profiles: for each API people rotate free keys across (Groq, Gemini, OpenRouter,
//! Cerebras, OpenAI), what a limit belongs to — so whether more keys mean more capacity — how
//! each window refills or resets (a continuously refilling bucket, or a fixed window coming
//! back whole at a wall-clock time in a time zone), where its OpenAI-compatible surface is,
//! and how it says a limit was reached. Data, dated and sourced, in
//! `groq-wire/catalog/providers.toml`, compiled in.
//!
//! ```
//! use groq_wire::providers::{Profiles, Scope};
//! let profiles = Profiles::builtin();
//! let gemini = profiles.find("gemini").expect("a built-in profile");
//! assert_eq!(gemini.scope, Scope::Project);
//! // Five keys in one project serve what one key does.
//! assert_eq!(gemini.budgets(5, 1), 1);
//! ```

mod load;
#[cfg(test)]
mod tests;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;

use crate::catalog::Source;

/// The compiled-in profiles file.
pub const BUILTIN: &str = include_str!("../../catalog/providers.toml");

/// What a provider's limits belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Each key has its own.
    Key,
    /// The organization the key belongs to (Groq, Cerebras, OpenAI).
    Organization,
    /// The cloud project the key belongs to (Gemini).
    Project,
    /// The account, all its keys together (OpenRouter).
    Account,
}

impl Scope {
    /// What one of it is called in a sentence, and several: `organization(s)`,
    /// `project(s)`, `account(s)`, `key(s)`.
    pub fn nouns(self) -> (&'static str, &'static str) {
        match self {
            Scope::Key => ("key", "keys"),
            Scope::Organization => ("organisation", "organisations"),
            Scope::Project => ("project", "projects"),
            Scope::Account => ("account", "accounts"),
        }
    }
}

/// What a window counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// Requests.
    Requests,
    /// Tokens.
    Tokens,
}

/// How long a window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Span {
    /// A minute.
    Minute,
    /// An hour.
    Hour,
    /// A day.
    Day,
}

/// How a window's budget comes back.
#[derive(Debug, Clone, PartialEq)]
pub enum Refill {
    /// A bucket refilling continuously (a token bucket, GCRA).
    Refilling,
    /// All of it at once, at a wall-clock time in a time zone (Gemini's daily quota: at
    /// midnight Pacific time, daylight saving included).
    Fixed {
        /// The time of day it resets.
        at: Time,
        /// Where that time of day is read.
        zone: TimeZone,
        /// The zone's IANA name.
        zone_name: String,
    },
}

/// One limit of a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// What it counts.
    pub dimension: Dimension,
    /// Over how long.
    pub span: Span,
    /// How it comes back.
    pub refill: Refill,
    /// The free tier's figure, where the sources give one for every model.
    pub free: Option<u64>,
}

impl Window {
    /// When a fixed window next resets after `now` (`None` for a refilling one): the next
    /// wall-clock reset in its zone, so a day across a daylight-saving change is 23 or 25
    /// hours long.
    pub fn next_reset(&self, now: Timestamp) -> Option<Timestamp> {
        let Refill::Fixed { at, zone, .. } = &self.refill else {
            return None;
        };
        let here = now.to_zoned(zone.clone());
        let today = here.date().to_datetime(*at).to_zoned(zone.clone()).ok()?;
        if today.timestamp() > now {
            return Some(today.timestamp());
        }
        let tomorrow = here.date().checked_add(1.day()).ok()?;
        let next = tomorrow.to_datetime(*at).to_zoned(zone.clone()).ok()?;
        Some(next.timestamp())
    }
}

/// On which answers a provider puts its rate-limit headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadersOn {
    /// Every answer.
    Every,
    /// Error answers only.
    Errors,
    /// None.
    None,
}

/// How a reset header writes its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetFormat {
    /// Seconds from now, maybe with a fraction (`11.38`).
    Seconds,
    /// A Go duration from now (`2m59.56s`).
    GoDuration,
    /// A Unix time in seconds.
    EpochSeconds,
}

/// A provider's rate-limit headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    /// On which answers.
    pub on: Option<HeadersOn>,
    /// The request limit, remaining and reset headers.
    pub requests: [Option<String>; 3],
    /// The token limit, remaining and reset headers.
    pub tokens: [Option<String>; 3],
    /// Which window the request headers describe (Groq's and Cerebras's: the day; OpenAI's:
    /// the minute).
    pub requests_span: Option<Span>,
    /// Which window the token headers describe.
    pub tokens_span: Option<Span>,
    /// How the resets are written.
    pub reset_format: Option<ResetFormat>,
}

/// Where a provider says how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryAfter {
    /// A `retry-after` header.
    Header,
    /// The error body (Gemini's `RetryInfo.retryDelay`).
    Body,
    /// Nowhere.
    None,
}

/// The shape of a provider's error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyShape {
    /// `{"error": {"message", "type", "code"}}`.
    Openai,
    /// `{"error": {"code", "message", "status", "details": [QuotaFailure, RetryInfo]}}`.
    Google,
}

/// How a provider answers a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errors {
    /// The status of a rate-limited request.
    pub rate_limited: u16,
    /// The status of a request larger than a whole window, if it has its own.
    pub too_large: Option<u16>,
    /// The status of a spent balance, if any.
    pub payment: Option<u16>,
    /// The status of a retired API, if any.
    pub gone: Option<u16>,
    /// Where the wait is said.
    pub retry_after: RetryAfter,
    /// The error body's shape.
    pub body: BodyShape,
}

/// One provider's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// How configs name it (`groq`, `gemini`…).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its public base URL.
    pub base_url: String,
    /// Its OpenAI-compatible chat path.
    pub chat_path: String,
    /// Its model list's path.
    pub models_path: String,
    /// What its limits belong to.
    pub scope: Scope,
    /// Whether each model has its own budget in the scope.
    pub per_model: bool,
    /// The day its free tier closed to new accounts (scopes that had it keep it), if it did.
    pub free_closed: Option<jiff::civil::Date>,
    /// Its limits.
    pub windows: Vec<Window>,
    /// Its rate-limit headers.
    pub headers: Headers,
    /// How it answers a limit.
    pub errors: Errors,
    /// The pages it rests on.
    pub sources: Vec<Source>,
    /// What the profile means for rotation.
    pub note: String,
}

impl Profile {
    /// How many independent budgets `keys` keys give when they belong to `scopes` distinct
    /// scopes (organizations, projects, accounts): the keys themselves when each key has its
    /// own limits, else the scopes (never more than the keys).
    pub fn budgets(&self, keys: usize, scopes: usize) -> usize {
        match self.scope {
            Scope::Key => keys,
            Scope::Organization | Scope::Project | Scope::Account => scopes.min(keys),
        }
    }

    /// The sentence a plan, a claim or a listing says of a free tier closed to new accounts
    /// (`None` while it is open).
    ///
    /// ```
    /// let profiles = groq_wire::providers::Profiles::builtin();
    /// let cerebras = profiles.find("cerebras").and_then(|p| p.free_closed_note());
    /// assert!(cerebras.is_some_and(|n| n.contains("on 2026-08-17")));
    /// ```
    pub fn free_closed_note(&self) -> Option<String> {
        let day = self.free_closed?;
        let (one, several) = self.scope.nouns();
        Some(format!(
            "{} closed its free tier to new accounts on {day}: its free figures hold only for {several} that had it before then; a new {one} pays",
            self.name
        ))
    }

    /// Its window of `dimension` over `span`.
    pub fn window(&self, dimension: Dimension, span: Span) -> Option<&Window> {
        self.windows
            .iter()
            .find(|w| w.dimension == dimension && w.span == span)
    }
}

/// Every profile, as loaded.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// Where they came from.
    pub origin: String,
    /// The day the file was last reviewed against its sources.
    pub reviewed: jiff::civil::Date,
    list: Vec<Profile>,
}

impl Profiles {
    /// The compiled-in profiles ([`BUILTIN`]), read once; their own tests keep them valid.
    pub fn builtin() -> &'static Profiles {
        static BUILTIN_PROFILES: std::sync::OnceLock<Profiles> = std::sync::OnceLock::new();
        BUILTIN_PROFILES.get_or_init(|| {
            Profiles::from_toml(BUILTIN, "built-in providers.toml")
                .unwrap_or_else(|e| panic!("the built-in provider profiles do not load: {e}"))
        })
    }

    /// The profile of `id`.
    pub fn find(&self, id: &str) -> Option<&Profile> {
        self.list.iter().find(|p| p.id == id)
    }

    /// What one scope of `id`'s limits is called, and several (`organisation(s)` on Groq,
    /// `project(s)` on Gemini, `account(s)` on OpenRouter; `organisation(s)` for an id
    /// with no profile).
    ///
    /// ```
    /// let profiles = groq_wire::providers::Profiles::builtin();
    /// assert_eq!(profiles.scope_nouns("gemini"), ("project", "projects"));
    /// ```
    pub fn scope_nouns(&self, id: &str) -> (&'static str, &'static str) {
        self.find(id)
            .map_or(("organisation", "organisations"), |p| p.scope.nouns())
    }

    /// Every profile, in the file's order.
    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.list.iter()
    }
}
