//! The mock's clock: tokio time since start, multiplied by `time_scale` so that rate-limit
//! windows can pass faster than real time. Reading tokio's clock means a paused test or
//! simulation runtime drives it too.

use std::time::Duration;

use tokio::time::Instant;

/// Scaled time since the mock started.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    scale: f64,
}

impl Clock {
    /// Starts a clock now; windows pass `scale` times faster than real time.
    pub fn start(scale: f64) -> Self {
        Self {
            start: Instant::now(),
            scale,
        }
    }

    /// Scaled time since start: what the ledger calls `now` (saturating, never a panic,
    /// whatever the scale).
    pub fn now(&self) -> Duration {
        saturating_secs(self.start.elapsed().as_secs_f64() * self.scale)
    }

    /// The real time a scaled span takes (saturating).
    pub fn to_real(&self, scaled: Duration) -> Duration {
        saturating_secs(scaled.as_secs_f64() / self.scale)
    }

    /// The scale factor.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

/// Seconds as a `Duration`, `Duration::MAX` past its range and zero for NaN or negatives.
fn saturating_secs(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(if secs > 0.0 {
        Duration::MAX
    } else {
        Duration::ZERO
    })
}
