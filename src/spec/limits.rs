//! The documented ranges of the numbers users write: a scenario's, a trace's, a plan's
//! (docs/scenarios.md, "What keyrotor guarantees").

use std::time::Duration;

/// Keys per scenario: as many as a rotor takes ([`crate::engine::MAX_KEYS`]).
pub const KEYS: usize = crate::engine::MAX_KEYS;
/// Closed-loop users.
pub const USERS: usize = 100_000;
/// Requests per run.
pub const REQUESTS: usize = 1_000_000_000;
/// Requests per minute, smallest and largest (`rate`, `peak`).
pub const RATE: (f64, f64) = (0.001, 10_000_000.0);
/// Longest run, and longest time on the run's clock (`change_at`, events, faults).
pub const DURATION: Duration = Duration::from_secs(30 * 86_400);
/// Tokens per request (prompt or completion): a model's context is far smaller.
pub const TOKENS: u64 = 1_000_000;
/// Hours in a profile, and the largest weight of one.
pub const PROFILE: (usize, f64) = (10_000, 1e6);
/// Longest attempt timeout and request deadline.
pub const TIMEOUT: Duration = Duration::from_secs(3_600);
/// Time-series buckets per run (`duration ÷ interval`).
pub const BUCKETS: u128 = 100_000;
/// Time-series buckets × keys (each bucket counts attempts per key): 80 MB at most.
pub const SERIES_CELLS: u128 = 10_000_000;
