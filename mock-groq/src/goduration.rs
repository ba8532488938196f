//! Go's `time.Duration.String()` format, which Groq uses in reset headers and
//! "Please try again in …" messages: `6s`, `185ms`, `1m26.4s`, `2h0m0s`.

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
}
