//! Failure classification: status + headers + body → one [`Failure`] kind.
//!
//! The decisive point is telling a per-minute 429 (wait seconds) from a per-day one (wait
//! hours): Groq names the window only inside the message (`(RPM)`, `(TPM)`, `(RPD)`, `(TPD)`),
//! so the classifier reads it there, and takes the wait as the longest of `retry-after`, the
//! message's "try again in <go duration>" and, for a day window, the reset header.
//!
//! [`naive_is_rate_limit`] is the string matching of the SmartLLM seed ('rate', 'limit' or
//! 'quota' anywhere in the SDK's error text), kept so the harness can show where it goes wrong
//! (a 413 says `rate_limit_exceeded`; a 503 says neither).

use groq_wire::header;
use std::time::Duration;

use ::http::HeaderMap;
use serde::Serialize;

/// How long a rate-limit window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// RPM or TPM: waits of seconds.
    Minute,
    /// RPD or TPD: waits of minutes to hours.
    Day,
}

/// Which dimension ran out, when the message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// Requests.
    Requests,
    /// Tokens.
    Tokens,
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Failure {
    /// 429.
    RateLimited {
        /// Per minute or per day.
        scope: Scope,
        /// Requests or tokens, when known.
        dimension: Option<Dimension>,
        /// The limit the message states, when it does.
        limit: Option<u64>,
        /// The organisation the message names, when it does.
        #[serde(skip)]
        org: Option<String>,
        /// Until the budget fits again, when known.
        #[serde(with = "opt_millis")]
        wait: Option<Duration>,
    },
    /// 413: one request larger than the per-minute token limit. Rotating cannot help.
    TooLarge,
    /// 401 or 403: the key is invalid or revoked.
    Unauthorized,
    /// 503 or 498: Groq is over capacity.
    OverCapacity {
        /// 503 or 498.
        status: u16,
    },
    /// Another 5xx.
    ServerError {
        /// The status.
        status: u16,
    },
    /// No answer in time.
    Timeout,
    /// The connection failed or closed early.
    Connection,
    /// 400, 404, 422 or another 4xx: the request itself is wrong.
    BadRequest {
        /// The status.
        status: u16,
    },
    /// A 200 stream that broke off with an error event: the answer is incomplete.
    StreamError,
    /// A 2xx whose body is no answer: not a chat completion (JSON with a non-empty
    /// `choices`), or a stream that is not well-formed SSE ending in `data: [DONE]` (HTML
    /// from a captive portal, an empty body, truncated JSON). Treated as a 5xx.
    MalformedAnswer,
}

impl Failure {
    /// A short stable name for reports and counters.
    pub fn reason(&self) -> &'static str {
        Self::REASONS[self.index()]
    }

    /// Whether this is a 429.
    pub fn is_rate_limit(&self) -> bool {
        matches!(self, Failure::RateLimited { .. })
    }

    /// The wait a 429 asks for.
    pub fn wait(&self) -> Option<Duration> {
        match self {
            Failure::RateLimited { wait, .. } => *wait,
            _ => None,
        }
    }

    /// Every reason, in [`Failure::index`] order.
    pub const REASONS: [&'static str; 11] = [
        "rate_limited_minute",
        "rate_limited_day",
        "too_large",
        "unauthorized",
        "over_capacity",
        "server_error",
        "timeout",
        "connection",
        "bad_request",
        "stream_error",
        "malformed_answer",
    ];

    /// Position of this failure's reason in [`Failure::REASONS`].
    pub fn index(&self) -> usize {
        match self {
            Failure::RateLimited {
                scope: Scope::Minute,
                ..
            } => 0,
            Failure::RateLimited {
                scope: Scope::Day, ..
            } => 1,
            Failure::TooLarge => 2,
            Failure::Unauthorized => 3,
            Failure::OverCapacity { .. } => 4,
            Failure::ServerError { .. } => 5,
            Failure::Timeout => 6,
            Failure::Connection => 7,
            Failure::BadRequest { .. } => 8,
            Failure::StreamError => 9,
            Failure::MalformedAnswer => 10,
        }
    }

    /// Failures worth retrying on another key or later: 429, 5xx, timeouts, connections.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Failure::RateLimited { .. }
                | Failure::OverCapacity { .. }
                | Failure::ServerError { .. }
                | Failure::StreamError
                | Failure::MalformedAnswer
                | Failure::Timeout
                | Failure::Connection
        )
    }
}

/// Classifies the first chunk of a 2xx event stream, all that is read before it is passed on:
/// an error event is a [`Failure::StreamError`], anything but SSE lines a
/// [`Failure::MalformedAnswer`]; `None` when it starts as a stream should.
pub fn classify_stream_start(first: &[u8]) -> Option<Failure> {
    if stream_error(first).is_some() {
        return Some(Failure::StreamError);
    }
    let first = first.trim_ascii_start();
    let sse = [&b"data:"[..], b":", b"event:", b"id:", b"retry:"]
        .iter()
        .any(|field| first.starts_with(field));
    (!sse).then_some(Failure::MalformedAnswer)
}

/// The longest wait a 429 is believed to ask for: Groq's longest window is a day, and a
/// larger figure (a bug or a hostile server) must not push a key's rest past what an
/// `Instant` can hold.
pub const MAX_WAIT: Duration = Duration::from_secs(2 * 86_400);

/// Classifies an HTTP answer as Groq writes it; `None` for a success (2xx). A rotor reads
/// answers through its [`crate::provider::Provider`], which may read a 429 otherwise.
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Option<Failure> {
    Some(match status {
        200..=299 if stream_error(body).is_some() => Failure::StreamError,
        200..=299 if !is_answer(body) => Failure::MalformedAnswer,
        200..=299 => return None,
        429 => rate_limited(headers, body),
        413 => Failure::TooLarge,
        401 | 403 => Failure::Unauthorized,
        498 | 503 => Failure::OverCapacity { status },
        500..=599 => Failure::ServerError { status },
        _ => Failure::BadRequest { status },
    })
}

/// What a 429 says, read the way Groq writes it: the window named in the message (`(RPM)`,
/// `(TPD)` …), the wait (`retry-after`, "try again in …", the daily reset), the limit and the
/// organisation in backticks. [`crate::provider`] adapts it for other providers.
pub fn rate_limited(headers: &HeaderMap, body: &[u8]) -> Failure {
    let message = error_message(body).unwrap_or_default();
    let window = ["(RPM)", "(TPM)", "(RPD)", "(TPD)"]
        .into_iter()
        .find(|w| message.contains(w));
    let dimension = match window {
        Some("(RPM)" | "(RPD)") => Some(Dimension::Requests),
        Some(_) => Some(Dimension::Tokens),
        None => None,
    };
    let retry_after = header_u64(headers, header::RETRY_AFTER).map(Duration::from_secs);
    let in_message = message
        .split_once("try again in ")
        .and_then(|(_, rest)| rest.split([' ', ',']).next())
        .and_then(|d| groq_wire::goduration::parse(d.trim_end_matches('.')));
    let scope = match window {
        Some("(RPD)" | "(TPD)") => Scope::Day,
        Some(_) => Scope::Minute,
        // No window named: a wait beyond a minute can only be a daily budget.
        None if retry_after
            .or(in_message)
            .is_some_and(|w| w > Duration::from_secs(60)) =>
        {
            Scope::Day
        }
        None => Scope::Minute,
    };
    let reset = match (scope, dimension) {
        (Scope::Day, Some(Dimension::Requests)) => header_duration(headers, header::RESET_REQUESTS),
        _ => None,
    };
    let wait = [retry_after, in_message, reset]
        .into_iter()
        .flatten()
        .max()
        .map(|w| w.min(MAX_WAIT));
    Failure::RateLimited {
        scope,
        dimension,
        // A limit of 0 says nothing usable (and would divide pacing by zero).
        limit: number_after(&message, "Limit ").filter(|&l| l > 0),
        org: message
            .split_once("organization `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(org, _)| org.to_owned()),
        wait,
    }
}

/// The error event of a stream (`data: {"error": …}`), if it has one; only bodies that are
/// streams are searched.
fn stream_error(body: &[u8]) -> Option<serde_json::Value> {
    const MARK: &[u8] = b"\"error\"";
    if !body.starts_with(b"data:") || !body.windows(MARK.len()).any(|w| w == MARK) {
        return None;
    }
    body.split(|&b| b == b'\n').find_map(|line| {
        let data = line.strip_prefix(b"data:")?.trim_ascii();
        let event: serde_json::Value = serde_json::from_slice(data).ok()?;
        event.get("error").is_some().then_some(event)
    })
}

/// Whether a 2xx body is an answer: a chat completion, or a complete SSE stream.
fn is_answer(body: &[u8]) -> bool {
    let body = body.trim_ascii_start();
    if body.starts_with(b"{") {
        serde_json::from_slice::<CompletionShape>(body).is_ok_and(|c| !c.choices.is_empty())
    } else {
        is_complete_stream(body)
    }
}

/// What a chat completion must have; the rest is not read.
#[derive(serde::Deserialize)]
struct CompletionShape {
    choices: Vec<serde::de::IgnoredAny>,
}

/// Every `data:` event is JSON until the last, which is `[DONE]`; comments (`:`) and other
/// SSE fields (`event:`, `id:`, `retry:`) may come between.
fn is_complete_stream(body: &[u8]) -> bool {
    let mut done = false;
    for line in body.split(|&b| b == b'\n') {
        let Some(data) = line.trim_ascii().strip_prefix(b"data:") else {
            continue;
        };
        let data = data.trim_ascii();
        if done {
            return false;
        }
        if data == b"[DONE]" {
            done = true;
        } else if serde_json::from_slice::<serde::de::IgnoredAny>(data).is_err() {
            return false;
        }
    }
    done
}

/// The `error.message` of an error body.
pub fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("error")?
        .get("message")?
        .as_str()
        .map(str::to_owned)
}

fn number_after(text: &str, marker: &str) -> Option<u64> {
    let rest = text.split_once(marker)?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn header_duration(headers: &HeaderMap, name: &str) -> Option<Duration> {
    groq_wire::goduration::parse(headers.get(name)?.to_str().ok()?.trim())
}

/// The SmartLLM seed's test: is 'rate', 'limit' or 'quota' in the lowercased error text?
pub fn naive_is_rate_limit(error_text: &str) -> bool {
    let lower = error_text.to_lowercase();
    ["rate", "limit", "quota"].iter().any(|t| lower.contains(t))
}

/// The text `str(e)` gives for a Groq Python SDK exception, which the SmartLLM seed matches on.
pub fn sdk_error_text(failure: &Failure, status: Option<u16>, body: &[u8]) -> String {
    match (failure, status) {
        (Failure::Timeout, _) => "Request timed out.".to_owned(),
        (Failure::Connection, _) => "Connection error.".to_owned(),
        // The SDK raises APIError with the event's message once the stream is under way.
        (Failure::StreamError, _) => stream_error(body)
            .and_then(|e| e["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "An error occurred during streaming".to_owned()),
        (Failure::MalformedAnswer, _) => "Invalid response object from API".to_owned(),
        (_, Some(status)) => format!("Error code: {status} - {}", String::from_utf8_lossy(body)),
        (_, None) => "Connection error.".to_owned(),
    }
}

mod opt_millis {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => s.serialize_some(&(d.as_secs_f64() * 1000.0)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    fn body(message: &str, kind: &str) -> Vec<u8> {
        serde_json::json!({"error": {"message": message, "type": kind, "code": "rate_limit_exceeded"}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn tpm_429_is_per_minute_with_the_longest_wait() {
        let b = body(
            "Rate limit reached for model `m` in organization `org_x` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11000, Requested 2000. Please try again in 5.5s. Need more tokens?",
            "tokens",
        );
        let failure = classify(429, &headers(&[("retry-after", "6")]), &b);
        assert_eq!(
            failure,
            Some(Failure::RateLimited {
                scope: Scope::Minute,
                dimension: Some(Dimension::Tokens),
                limit: Some(12000),
                org: Some("org_x".to_owned()),
                wait: Some(Duration::from_secs(6)),
            })
        );
    }

    #[test]
    fn a_stream_broken_by_an_error_event_is_a_failure_and_a_whole_one_is_not() {
        let whole =
            b"data: {\"choices\":[{\"delta\":{\"content\":\"an error\"}}]}\n\ndata: [DONE]\n\n";
        assert_eq!(classify(200, &HeaderMap::new(), whole), None);
        let broken = b"data: {\"choices\":[]}\n\ndata: {\"error\":{\"message\":\"Internal Server Error\",\"type\":\"internal_server_error\"}}\n\n";
        let failure = classify(200, &HeaderMap::new(), broken);
        assert_eq!(failure, Some(Failure::StreamError));
        assert_eq!(failure.as_ref().map(Failure::reason), Some("stream_error"));
        let text = sdk_error_text(&Failure::StreamError, Some(200), broken);
        assert_eq!(text, "Internal Server Error");
        assert_eq!(
            classify(
                200,
                &HeaderMap::new(),
                br#"{"error_rate":1,"choices":[{}]}"#
            ),
            None
        );
    }

    #[test]
    fn a_2xx_that_is_no_answer_is_malformed() {
        let h = HeaderMap::new();
        let completion = br#"{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{}}"#;
        assert_eq!(classify(200, &h, completion), None);
        for body in [
            &b"<html><body>Sign in to the Wi-Fi</body></html>"[..],
            b"",
            b"   ",
            br#"{"id":"x","choices":[{"message":{"content":"h"#,
            br#"{"choices":[]}"#,
            br#"{"object":"chat.completion"}"#,
            b"data: {\"choices\":[]}\n\n",
            b"data: {\"choices\":[]}\n\ndata: {\"cho\n\ndata: [DONE]\n\n",
            b"data: [DONE]\n\ndata: {\"choices\":[]}\n\n",
        ] {
            let failure = classify(200, &h, body);
            assert_eq!(
                failure,
                Some(Failure::MalformedAnswer),
                "{}",
                String::from_utf8_lossy(body)
            );
            assert!(failure.is_some_and(|f| f.is_transient()));
        }
        let with_comments = b": keep-alive\n\ndata: {\"choices\":[]}\n\nevent: x\ndata: [DONE]\n\n";
        assert_eq!(classify(200, &h, with_comments), None);
        assert_eq!(Failure::MalformedAnswer.reason(), "malformed_answer");
    }

    #[test]
    fn absurd_429s_give_a_bounded_wait_and_no_zero_limit() {
        let b = body(
            "Rate limit reached for model `m` in organization `o` on requests per minute (RPM): Limit 0, Used 1, Requested 1. Please try again in 99999999999h.",
            "requests",
        );
        let failure = classify(
            429,
            &headers(&[("retry-after", "18446744073709551615")]),
            &b,
        );
        let Some(Failure::RateLimited { limit, wait, .. }) = failure else {
            panic!("{failure:?}")
        };
        assert_eq!((limit, wait), (None, Some(MAX_WAIT)));
    }

    #[test]
    fn tpd_and_rpd_429_are_per_day() {
        let b = body(
            "Rate limit reached ... on tokens per day (TPD): Limit 100000, Used 97050, Requested 3619. Please try again in 9m38.016s. Need",
            "tokens",
        );
        let Some(Failure::RateLimited { scope, wait, .. }) =
            classify(429, &headers(&[("retry-after", "579")]), &b)
        else {
            panic!("not a rate limit")
        };
        assert_eq!(scope, Scope::Day);
        assert_eq!(wait, Some(Duration::from_secs(579)));
        let b = body(
            "... on requests per day (RPD): Limit 1000, Used 1000, Requested 1. Please try again in 1m26.4s.",
            "requests",
        );
        let h = headers(&[
            ("retry-after", "87"),
            ("x-ratelimit-reset-requests", "23h59m"),
        ]);
        let Some(Failure::RateLimited {
            scope,
            wait,
            dimension,
            ..
        }) = classify(429, &h, &b)
        else {
            panic!("not a rate limit")
        };
        assert_eq!((scope, dimension), (Scope::Day, Some(Dimension::Requests)));
        assert_eq!(wait, Some(Duration::from_secs(23 * 3600 + 59 * 60)));
    }

    #[test]
    fn unnamed_window_uses_the_wait_to_tell_day_from_minute() {
        let Some(Failure::RateLimited { scope, .. }) =
            classify(429, &headers(&[("retry-after", "3600")]), b"{}")
        else {
            panic!("not a rate limit")
        };
        assert_eq!(scope, Scope::Day);
        let Some(Failure::RateLimited { scope, wait, .. }) =
            classify(429, &HeaderMap::new(), b"oops")
        else {
            panic!("not a rate limit")
        };
        assert_eq!((scope, wait), (Scope::Minute, None));
    }

    #[test]
    fn statuses_map_to_kinds() {
        let h = HeaderMap::new();
        assert_eq!(classify(200, &h, b""), Some(Failure::MalformedAnswer));
        assert_eq!(classify(413, &h, b""), Some(Failure::TooLarge));
        assert_eq!(classify(401, &h, b""), Some(Failure::Unauthorized));
        assert_eq!(classify(403, &h, b""), Some(Failure::Unauthorized));
        assert_eq!(
            classify(503, &h, b""),
            Some(Failure::OverCapacity { status: 503 })
        );
        assert_eq!(
            classify(498, &h, b""),
            Some(Failure::OverCapacity { status: 498 })
        );
        assert_eq!(
            classify(502, &h, b""),
            Some(Failure::ServerError { status: 502 })
        );
        assert_eq!(
            classify(404, &h, b""),
            Some(Failure::BadRequest { status: 404 })
        );
        assert_eq!(
            classify(422, &h, b""),
            Some(Failure::BadRequest { status: 422 })
        );
    }

    #[test]
    fn naive_matching_goes_wrong_where_the_seed_would() {
        let too_large = sdk_error_text(
            &Failure::TooLarge,
            Some(413),
            &body("Request too large ...", "tokens"),
        );
        assert!(
            naive_is_rate_limit(&too_large),
            "413 carries rate_limit_exceeded: rotated uselessly"
        );
        let busy = sdk_error_text(&Failure::OverCapacity { status: 503 }, Some(503), br#"{"error":{"message":"m is currently over capacity.","type":"internal_server_error"}}"#);
        assert!(!naive_is_rate_limit(&busy), "503 is not seen as rotatable");
        assert!(!naive_is_rate_limit(&sdk_error_text(
            &Failure::Timeout,
            None,
            b""
        )));
        assert!(naive_is_rate_limit(
            "Error code: 429 - {'error': {'message': 'Rate limit reached'}}"
        ));
    }
}
