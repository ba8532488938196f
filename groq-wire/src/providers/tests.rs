//! The built-in profiles against their cited sources, a fixed window's reset across
//! daylight-saving changes, and a bad file's errors with their lines.

use jiff::Timestamp;

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// One profile as its sources state it (see each [[source]]'s note for the words).
struct Stated {
    id: &'static str,
    scope: Scope,
    chat_path: &'static str,
    rate_limited: u16,
    retry_after: RetryAfter,
    headers_on: HeadersOn,
    /// (dimension, span, fixed reset zone if fixed, free figure) of every window.
    windows: &'static [(Dimension, Span, Option<&'static str>, Option<u64>)],
    /// The request limit header, if any.
    limit_requests: Option<&'static str>,
    /// Which windows the request and token headers describe.
    spans: (Option<Span>, Option<Span>),
    /// The day its free tier closed to new accounts.
    free_closed: Option<&'static str>,
}

use Dimension::{Requests, Tokens};
use Span::{Day, Hour, Minute};

const STATED: [Stated; 5] = [
    // console.groq.com/docs/rate-limits, seen 2026-12-07.
    Stated {
        id: "groq",
        scope: Scope::Organization,
        chat_path: "/openai/v1/chat/completions",
        rate_limited: 429,
        retry_after: RetryAfter::Header,
        headers_on: HeadersOn::Every,
        windows: &[
            (Requests, Minute, None, None),
            (Requests, Day, None, None),
            (Tokens, Minute, None, None),
            (Tokens, Day, None, None),
        ],
        limit_requests: Some("x-ratelimit-limit-requests"),
        spans: (Some(Day), Some(Minute)),
        free_closed: None,
    },
    // ai.google.dev/gemini-api/docs/rate-limits, seen 2026-12-07: per project, RPD resets
    // at midnight Pacific; no rate-limit headers, the wait in the body.
    Stated {
        id: "gemini",
        scope: Scope::Project,
        chat_path: "/v1beta/openai/chat/completions",
        rate_limited: 429,
        retry_after: RetryAfter::Body,
        headers_on: HeadersOn::None,
        windows: &[
            (Requests, Minute, None, None),
            (Tokens, Minute, None, None),
            (Requests, Day, Some("America/Los_Angeles"), None),
        ],
        limit_requests: None,
        spans: (None, None),
        free_closed: None,
    },
    // openrouter.ai/docs/api-reference/limits, seen 2026-12-07: the account's; ':free'
    // models 20 RPM and 50 a day (UTC) without credits bought.
    Stated {
        id: "openrouter",
        scope: Scope::Account,
        chat_path: "/api/v1/chat/completions",
        rate_limited: 429,
        retry_after: RetryAfter::Header,
        headers_on: HeadersOn::Errors,
        windows: &[
            (Requests, Minute, None, Some(20)),
            (Requests, Day, Some("UTC"), Some(50)),
        ],
        limit_requests: Some("x-ratelimit-limit"),
        spans: (Some(Day), None),
        free_closed: None,
    },
    // inference-docs.cerebras.ai/support/rate-limits as copied on 2026-07-18 (seen 2026-12-07):
    // Free Trial, gpt-oss-120b, no hourly or daily request figure; closed to new accounts on
    // 2026-08-17.
    Stated {
        id: "cerebras",
        scope: Scope::Organization,
        chat_path: "/v1/chat/completions",
        rate_limited: 429,
        retry_after: RetryAfter::Header,
        headers_on: HeadersOn::Every,
        windows: &[
            (Requests, Minute, None, Some(5)),
            (Requests, Hour, None, None),
            (Requests, Day, None, None),
            (Tokens, Minute, None, Some(30_000)),
            (Tokens, Hour, None, Some(1_000_000)),
            (Tokens, Day, None, Some(1_000_000)),
        ],
        limit_requests: Some("x-ratelimit-limit-requests-day"),
        spans: (Some(Day), Some(Minute)),
        free_closed: Some("2026-08-17"),
    },
    // developers.openai.com/api/docs/guides/rate-limits, seen 2026-12-07.
    Stated {
        id: "openai",
        scope: Scope::Organization,
        chat_path: "/v1/chat/completions",
        rate_limited: 429,
        retry_after: RetryAfter::Header,
        headers_on: HeadersOn::Every,
        windows: &[(Requests, Minute, None, None), (Tokens, Minute, None, None)],
        limit_requests: Some("x-ratelimit-limit-requests"),
        spans: (Some(Minute), Some(Minute)),
        free_closed: None,
    },
];

#[test]
fn every_built_in_profile_says_what_its_sources_state() {
    let profiles = Profiles::builtin();
    let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, STATED.map(|s| s.id));
    for stated in &STATED {
        let Some(p) = profiles.find(stated.id) else {
            panic!("no profile {}", stated.id);
        };
        let id = stated.id;
        assert_eq!(p.scope, stated.scope, "{id}");
        assert_eq!(p.chat_path, stated.chat_path, "{id}");
        assert_eq!(p.errors.rate_limited, stated.rate_limited, "{id}");
        assert_eq!(p.errors.retry_after, stated.retry_after, "{id}");
        assert_eq!(p.headers.on, Some(stated.headers_on), "{id}");
        assert_eq!(
            p.headers.requests[0].as_deref(),
            stated.limit_requests,
            "{id}"
        );
        let spans = (p.headers.requests_span, p.headers.tokens_span);
        assert_eq!(spans, stated.spans, "{id}");
        let closed = p.free_closed.map(|d| d.to_string());
        assert_eq!(closed.as_deref(), stated.free_closed, "{id}");
        let windows: Vec<_> = p
            .windows
            .iter()
            .map(|w| {
                let zone = match &w.refill {
                    Refill::Refilling => None,
                    Refill::Fixed { zone_name, .. } => Some(zone_name.as_str()),
                };
                (w.dimension, w.span, zone, w.free)
            })
            .collect();
        assert_eq!(windows, stated.windows, "{id}");
        assert!(!p.sources.is_empty(), "{id} cites no source");
        for source in &p.sources {
            assert!(source.url.starts_with("https://"), "{id}: {source}");
            assert!(source.seen <= profiles.reviewed, "{id}: {source}");
        }
    }
}

#[test]
fn more_keys_add_budgets_only_across_scopes() {
    let profiles = Profiles::builtin();
    let budgets = |id: &str, keys, scopes| profiles.find(id).map(|p| p.budgets(keys, scopes));
    assert_eq!(
        budgets("groq", 5, 1),
        Some(1),
        "five keys, one organization"
    );
    assert_eq!(budgets("groq", 5, 5), Some(5), "five organizations");
    assert_eq!(budgets("gemini", 5, 1), Some(1), "five keys, one project");
    assert_eq!(
        budgets("openrouter", 5, 1),
        Some(1),
        "one account, whatever the keys"
    );
    assert_eq!(
        budgets("cerebras", 2, 5),
        Some(2),
        "never more budgets than keys"
    );
}

/// Gemini's daily quota resets at midnight Pacific time: 08:00 UTC in winter (PST), 07:00 UTC
/// in summer (PDT); the day of the spring change is 23 hours long, of the autumn change 25.
#[test]
fn a_fixed_window_resets_at_local_midnight_across_daylight_saving() {
    let profiles = Profiles::builtin();
    let Some(day) = profiles
        .find("gemini")
        .and_then(|p| p.window(Requests, Day))
    else {
        panic!("gemini has no daily window");
    };
    let next = |now: &str| day.next_reset(at(now));
    assert_eq!(
        next("2026-01-15T12:00:00Z"),
        Some(at("2026-01-16T08:00:00Z"))
    );
    assert_eq!(
        next("2026-07-15T12:00:00Z"),
        Some(at("2026-07-16T07:00:00Z"))
    );
    // 2026-03-08: clocks spring forward at 02:00 PST. Just before that day's midnight, and
    // just after it (23 hours to the next).
    assert_eq!(
        next("2026-03-08T07:59:00Z"),
        Some(at("2026-03-08T08:00:00Z"))
    );
    assert_eq!(
        next("2026-03-08T08:00:00Z"),
        Some(at("2026-03-09T07:00:00Z"))
    );
    // 2026-11-01: clocks fall back at 02:00 PDT: 25 hours from that midnight to the next.
    assert_eq!(
        next("2026-11-01T07:00:00Z"),
        Some(at("2026-11-02T08:00:00Z"))
    );
    let minute = profiles
        .find("gemini")
        .and_then(|p| p.window(Requests, Minute));
    assert_eq!(
        minute.map(|w| w.next_reset(at("2026-01-15T12:00:00Z"))),
        Some(None)
    );
}

#[test]
fn a_bad_profiles_file_is_refused_with_its_line_and_field() {
    let base = BUILTIN;
    let cases = [
        (
            base.replace(
                "sources = [\"cerebras-rate-limits\", \"cerebras-rate-limits-copy\"",
                "sources = [\"nowhere\", \"cerebras-rate-limits-copy\"",
            ),
            "sources: no [[source]] has this id",
        ),
        (
            base.replace(
                "time_zone = \"America/Los_Angeles\"",
                "time_zone = \"Pacific/Nowhere\"",
            ),
            "time_zone: not an IANA time zone name",
        ),
        (
            base.replace(
                "rate_limited = 429\nretry_after = \"body\"",
                "rate_limited = 200\nretry_after = \"body\"",
            ),
            "expected an HTTP error status from 400 to 599, got 200",
        ),
        (
            base.replace(
                "resets_at = \"00:00\"\ntime_zone = \"UTC\"",
                "time_zone = \"UTC\"",
            ),
            "a fixed window needs resets_at and time_zone",
        ),
        (
            base.replace(
                "requests_span = \"minute\"\ntokens_span = \"minute\"",
                "requests_span = \"hour\"\ntokens_span = \"minute\"",
            ),
            "headers: requests_span names no window of this provider",
        ),
        (
            base.replace(
                "free_closed = \"2026-08-17\"",
                "free_closed = \"17 August\"",
            ),
            "expected a day as \"YYYY-MM-DD\"",
        ),
    ];
    for (text, expected) in cases {
        assert_ne!(text, base, "the case must change the file: {expected}");
        let error = Profiles::from_toml(&text, "providers.toml").map(|_| ());
        let said = error.map_err(|e| e.to_string());
        assert!(
            said.as_ref().is_err_and(|e| e.contains("providers.toml")
                && e.contains(expected)
                && e.contains("line")),
            "{expected}: {said:?}"
        );
    }
}
