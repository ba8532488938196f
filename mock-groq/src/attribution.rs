//! Which upstream calls belong to which driver request, for an app under test that keyrotor
//! drives black-box: the driver puts a marker (`[kr:<id>]`) in each user message, apps
//! forward the user's text, and the mock, with `attribution = true` in its config, records
//! every chat call (key, time, answer) under the marker it finds in the request body. Calls
//! with no marker are counted, not kept.
//!
//! Bounded: at most [`MAX_CALLS`] calls are kept; further ones are counted as `dropped`.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

/// The start of a marker; the id and `]` follow.
pub const MARKER: &str = "[kr:";

/// Most calls kept.
pub const MAX_CALLS: usize = 1_000_000;

/// The marker for driver request `id`.
pub fn marker(id: u64) -> String {
    format!("{MARKER}{id}]")
}

/// The id of the first well-formed marker in `body`, if any.
pub fn find(body: &[u8]) -> Option<u64> {
    let needle = MARKER.as_bytes();
    let mut from = 0;
    while let Some(at) = body[from..].windows(needle.len()).position(|w| w == needle) {
        let digits_at = from + at + needle.len();
        let digits: &[u8] = &body[digits_at..];
        let len = digits
            .iter()
            .take(20)
            .take_while(|b| b.is_ascii_digit())
            .count();
        let id = std::str::from_utf8(&digits[..len])
            .ok()
            .and_then(|d| d.parse().ok());
        if let Some(id) = id
            && digits.get(len) == Some(&b']')
        {
            return Some(id);
        }
        from = digits_at;
    }
    None
}

/// One upstream call, as the mock answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Call {
    /// Index of the key presented (config order); `None` for a key the mock does not know.
    pub key: Option<usize>,
    /// When it arrived, in real time since the mock started.
    #[serde(with = "humantime_serde")]
    pub arrived: Duration,
    /// When its answer was decided (for a stream, when it started), same clock.
    #[serde(with = "humantime_serde")]
    pub answered: Duration,
    /// The status sent; 0 when the connection was dropped or stalled.
    pub status: u16,
    /// The `retry-after` sent with a 429, in seconds.
    pub retry_after: Option<u64>,
}

/// Every attributed call, and the counts of the rest.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Attribution {
    /// Calls by driver request id, in arrival order.
    pub calls: HashMap<u64, Vec<Call>>,
    /// Chat calls whose body had no marker.
    pub unattributed: u64,
    /// Calls not kept because [`MAX_CALLS`] were.
    pub dropped: u64,
    kept: usize,
}

impl Attribution {
    /// Records a call under `marker`, or counts it.
    pub fn record(&mut self, marker: Option<u64>, call: Call) {
        let Some(id) = marker else {
            self.unattributed += 1;
            return;
        };
        if self.kept >= MAX_CALLS {
            self.dropped += 1;
            return;
        }
        self.kept += 1;
        self.calls.entry(id).or_default().push(call);
    }

    /// The calls of request `id`, taken out of the log (which makes room for others).
    pub fn take(&mut self, id: u64) -> Vec<Call> {
        let calls = self.calls.remove(&id).unwrap_or_default();
        self.kept = self.kept.saturating_sub(calls.len());
        calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_well_formed_marker() {
        assert_eq!(find(marker(42).as_bytes()), Some(42));
        assert_eq!(
            find(br#"{"content":"hi [kr:] [kr:x] [kr:7] [kr:8]"}"#),
            Some(7)
        );
        assert_eq!(find(b"[kr:99999999999999999999999]"), None, "no overflow");
        assert_eq!(find(b"[kr:12"), None);
        assert_eq!(find(b""), None);
    }

    #[test]
    fn keeps_calls_by_marker_and_counts_the_rest() {
        let call = Call {
            key: Some(1),
            arrived: Duration::ZERO,
            answered: Duration::from_millis(5),
            status: 429,
            retry_after: Some(2),
        };
        let mut a = Attribution::default();
        a.record(Some(3), call);
        a.record(
            Some(3),
            Call {
                status: 200,
                ..call
            },
        );
        a.record(None, call);
        assert_eq!(a.calls[&3].len(), 2);
        assert_eq!(a.calls[&3][1].status, 200);
        assert_eq!(a.unattributed, 1);
        assert_eq!(a.take(3).len(), 2);
        assert!(a.take(3).is_empty(), "taken once");
        assert_eq!(a.kept, 0);
    }
}
