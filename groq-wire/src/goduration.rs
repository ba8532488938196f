//! Go's `time.Duration.String()` format, which Groq uses in reset headers and
//! "Please try again in …" messages: `6s`, `185ms`, `1m26.4s`, `2h0m0s`. The mock writes it
//! ([`format`]); the engine reads it ([`parse`]).

use std::fmt::Write as _;
use std::time::Duration;

/// Formats a duration the way Go's `Duration.String()` does (nanosecond precision; beyond
/// Go's own range of about 292 years it saturates).
pub fn format(d: Duration) -> String {
    const SECOND: u64 = 1_000_000_000;
    let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    let mut out = String::with_capacity(16);
    if ns == 0 {
        out.push_str("0s");
        return out;
    }
    if ns < SECOND {
        let (unit, div) = if ns < 1_000 {
            ("ns", 1)
        } else if ns < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        decimal(&mut out, ns, div);
        out.push_str(unit);
        return out;
    }
    let hours = ns / (3600 * SECOND);
    let minutes = ns / (60 * SECOND) % 60;
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    decimal(&mut out, ns % (60 * SECOND), SECOND);
    out.push('s');
    out
}

/// [`format`] at millisecond precision, rounded up: a client that waits the printed time
/// finds the budget refilled. Groq's own values show 2–9 decimals.
pub fn format_millis(d: Duration) -> String {
    format(Duration::from_millis(
        (d.as_secs_f64() * 1000.0).ceil() as u64
    ))
}

/// Appends `value / div` as a decimal with trailing zeros trimmed (div is a power of ten).
fn decimal(out: &mut String, value: u64, div: u64) {
    let (whole, mut frac) = (value / div, value % div);
    let _ = write!(out, "{whole}");
    if frac == 0 {
        return;
    }
    let mut width = div.ilog10() as usize;
    while frac % 10 == 0 {
        frac /= 10;
        width -= 1;
    }
    let _ = write!(out, ".{frac:0width$}");
}

/// The longest Go duration: Go counts durations in int64 nanoseconds (about 292 years).
const GO_MAX_SECS: f64 = i64::MAX as f64 / 1e9;

/// Parses a Go duration string (`1m26.4s`, `185ms`, `2h0m0s`, `1.5µs`); `None` for
/// anything else, or beyond Go's range.
pub fn parse(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0.0f64;
    let mut any = false;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let value: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * seconds;
        any = true;
    }
    // Beyond Go's range is no Go duration (and could overflow Duration).
    (any && total <= GO_MAX_SECS).then(|| Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_examples() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(6), "6s"),
            (Duration::from_millis(185), "185ms"),
            (Duration::from_millis(86_400), "1m26.4s"),
            (Duration::from_nanos(1_559_999_999), "1.559999999s"),
            (Duration::from_millis(179_560), "2m59.56s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_micros(1500), "1.5ms"),
            (Duration::from_nanos(2500), "2.5µs"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::from_millis(578_016), "9m38.016s"),
        ];
        for (d, want) in cases {
            assert_eq!(format(d), want, "{d:?}");
        }
    }

    #[test]
    fn go_durations_parse() {
        for (text, secs) in [
            ("6s", 6.0),
            ("185ms", 0.185),
            ("1m26.4s", 86.4),
            ("2h0m0s", 7200.0),
            ("1.5µs", 1.5e-6),
            ("0", 0.0),
        ] {
            let d = parse(text).unwrap_or_else(|| panic!("{text} did not parse"));
            assert!((d.as_secs_f64() - secs).abs() < 1e-9, "{text}");
        }
        let overflowing = format!("{}h", "9".repeat(400));
        for bad in ["", "s", "5", "5x", "abc", "2562048h", &overflowing] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
