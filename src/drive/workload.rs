//! The workload: when requests are intended to be sent (open-loop arrival processes, or a
//! trace's rows) and how large they are (token distributions, or the trace's sizes), from a
//! seeded RNG so a scenario replays exactly.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::spec::scenario::{Shape, Tokens, Traffic};
use crate::spec::trace::{TraceError, TraceReader, TraceRow};

/// Offered rate in requests per minute at `t` into the run (a closed loop's: none).
pub fn rate_at(traffic: &Traffic, t: Duration) -> f64 {
    match &traffic.shape {
        Shape::Constant { rate } | Shape::Poisson { rate } => rate.0,
        Shape::Closed { .. } | Shape::Trace(_) => 0.0,
        Shape::Profile {
            rate,
            weights,
            step,
        } => {
            let mean = weights.iter().sum::<f64>() / weights.len().max(1) as f64;
            let at = step_index(*step, t) % weights.len().max(1);
            if mean > 0.0 {
                rate.0 * weights.get(at).copied().unwrap_or(0.0) / mean
            } else {
                0.0
            }
        }
        Shape::Ramp { rate, peak } => {
            let total = traffic.duration.map_or(1.0, |d| d.as_secs_f64().max(1e-9));
            rate.0 + (peak.0 - rate.0) * (t.as_secs_f64() / total).min(1.0)
        }
        Shape::Step {
            rate,
            peak,
            change_at,
        } => {
            if t >= *change_at {
                peak.0
            } else {
                rate.0
            }
        }
        Shape::Spike {
            rate,
            peak,
            change_at,
            spike_for,
        } => {
            let end = change_at.saturating_add(*spike_for);
            if t >= *change_at && t < end {
                peak.0
            } else {
                rate.0
            }
        }
    }
}

/// Which step of a profile with steps of `step` `t` falls in (counting from the start, not
/// wrapped).
fn step_index(step: Duration, t: Duration) -> usize {
    usize::try_from(t.as_nanos() / step.as_nanos().max(1)).unwrap_or(usize::MAX)
}

/// The start of the profile step after the one `t` falls in.
fn next_step(step: Duration, t: Duration) -> Duration {
    let step = step.max(Duration::from_secs(1));
    let index = u32::try_from(step_index(step, t).saturating_add(1)).unwrap_or(u32::MAX);
    step.saturating_mul(index)
}

/// Intended send times of an open-loop run, as offsets from its start, bounded by the
/// scenario's `duration` and `requests`.
pub struct Arrivals<'a> {
    traffic: &'a Traffic,
    rng: SmallRng,
    next: Duration,
    sent: usize,
    started: bool,
}

impl<'a> Arrivals<'a> {
    /// The arrival process of `traffic`, seeded.
    pub fn new(traffic: &'a Traffic, seed: u64) -> Self {
        Self {
            traffic,
            rng: SmallRng::seed_from_u64(seed ^ 0xa5a5_5a5a),
            next: Duration::ZERO,
            sent: 0,
            started: false,
        }
    }
}

impl Iterator for Arrivals<'_> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.traffic.requests.is_some_and(|n| self.sent >= n.0) {
            return None;
        }
        let at = self.next;
        if self.traffic.duration.is_some_and(|d| at >= d) {
            return None;
        }
        if let Shape::Profile { step, .. } = self.traffic.shape {
            return self.next_of_profile(at, step);
        }
        let per_second = rate_at(self.traffic, at) / 60.0;
        if per_second <= 0.0 {
            return None;
        }
        let gap = match self.traffic.shape {
            Shape::Poisson { .. } => -(1.0 - self.rng.random::<f64>()).ln() / per_second,
            _ => 1.0 / per_second,
        };
        self.next = at + Duration::from_secs_f64(gap);
        self.sent += 1;
        Some(at)
    }
}

impl Arrivals<'_> {
    /// `at` is this arrival; the next one comes after a unit exponential amount of the
    /// profile's integrated rate, walked step by step: exact for a rate that is constant
    /// within each step, so a short spike is never jumped over by a gap drawn at a quiet
    /// step's rate.
    fn next_of_profile(&mut self, at: Duration, step: Duration) -> Option<Duration> {
        let end = self.traffic.duration.unwrap_or(Duration::MAX);
        let at = if self.started {
            at
        } else {
            // The first arrival opens the first step that has any traffic.
            self.started = true;
            let mut t = at;
            while rate_at(self.traffic, t) <= 0.0 {
                t = next_step(step, t);
                if t >= end {
                    return None;
                }
            }
            t
        };
        self.next = self.after(at, end, step).unwrap_or(end);
        self.sent += 1;
        Some(at)
    }

    /// The time one unit exponential of integrated rate after `from` (profile steps of
    /// `step`), or `None` past `end`.
    fn after(&mut self, from: Duration, end: Duration, step: Duration) -> Option<Duration> {
        let mut need = -(1.0 - self.rng.random::<f64>()).ln();
        let mut t = from;
        while t < end {
            let per_second = rate_at(self.traffic, t) / 60.0;
            let boundary = next_step(step, t).min(end);
            let span = boundary.saturating_sub(t).as_secs_f64();
            if per_second > 0.0 && need <= per_second * span {
                return Some(t + Duration::from_secs_f64(need / per_second));
            }
            need -= per_second * span;
            t = boundary;
        }
        None
    }
}

/// One open-loop request to send: when, and, from a trace, its own sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// When it is intended to be sent, from the start of the run.
    pub at: Duration,
    /// Its sizes, from a trace; drawn from the scenario's distributions otherwise.
    pub sized: Option<Sized>,
}

/// A request's sizes as a trace gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Sized {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// `max_tokens`.
    pub max_tokens: u64,
    /// The model it names, when not the scenario's.
    pub model: Option<String>,
}

impl Sized {
    /// Sizes drawn from the traffic's distributions (prompt first, then `max_tokens`), for
    /// the run's model.
    pub fn drawn(traffic: &Traffic, rng: &mut SmallRng) -> Self {
        Self {
            prompt_tokens: sample_tokens(&traffic.prompt_tokens, rng),
            max_tokens: sample_tokens(&traffic.completion_tokens, rng),
            model: None,
        }
    }
}

/// The open-loop requests of a run: from the arrival formula, or from the trace's rows read
/// one at a time, bounded by the scenario's `duration` and `requests` alike.
pub enum Schedule<'a> {
    /// Arrivals from a formula.
    Formula(Arrivals<'a>),
    /// A trace's rows, each copied `scale` times.
    Trace(Box<Replay<'a>>),
}

impl<'a> Schedule<'a> {
    /// The schedule of `traffic`: its trace opened, or its arrivals seeded.
    pub fn new(traffic: &'a Traffic, seed: u64) -> Result<Self, TraceError> {
        Ok(match traffic.trace() {
            Some(trace) => Schedule::Trace(Box::new(Replay {
                rows: trace.rows()?,
                traffic,
                scale: trace.scale,
                rng: SmallRng::seed_from_u64(seed ^ 0x7ace_5ca1),
                ahead: None,
                copies: std::collections::VecDeque::new(),
                failed: None,
                sent: 0,
            })),
            None => Schedule::Formula(Arrivals::new(traffic, seed)),
        })
    }
}

impl Iterator for Schedule<'_> {
    type Item = Result<Planned, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Schedule::Formula(arrivals) => {
                arrivals.next().map(|at| Ok(Planned { at, sized: None }))
            }
            Schedule::Trace(replay) => replay.next(),
        }
    }
}

/// A trace replayed: each row `scale` times in expectation (`⌊scale⌋` copies, and one more
/// by a seeded draw for the fraction); the first copy at the row's offset, the others spread
/// uniformly over the time until the next row, so the rows stay in time order and the trace's
/// shape holds at the resolution of its own gaps.
pub struct Replay<'a> {
    rows: TraceReader,
    traffic: &'a Traffic,
    scale: f64,
    rng: SmallRng,
    /// The row after the current one, read to know the gap.
    ahead: Option<TraceRow>,
    /// The current row's copies not yet sent, in time order.
    copies: std::collections::VecDeque<Planned>,
    /// An error met while reading ahead, given after the copies before it.
    failed: Option<TraceError>,
    sent: usize,
}

impl Replay<'_> {
    fn next(&mut self) -> Option<Result<Planned, TraceError>> {
        if self.traffic.requests.is_some_and(|n| self.sent >= n.0) {
            return None;
        }
        while self.copies.is_empty() {
            if let Some(e) = self.failed.take() {
                return Some(Err(e));
            }
            let row = match self.ahead.take() {
                Some(row) => row,
                None => match self.rows.next()? {
                    Ok(row) => row,
                    Err(e) => return Some(Err(e)),
                },
            };
            self.copy(row);
        }
        let planned = self.copies.pop_front()?;
        if self.traffic.duration.is_some_and(|d| planned.at >= d) {
            return None;
        }
        self.sent += 1;
        Some(Ok(planned))
    }

    /// Queues the copies of `row`, reading the next row for the gap when there are several.
    fn copy(&mut self, row: TraceRow) {
        let whole = self.scale.floor();
        let extra = self.rng.random::<f64>() < self.scale - whole;
        let n = whole as usize + usize::from(extra);
        let sized = Sized {
            prompt_tokens: row.prompt_tokens,
            max_tokens: row.max_tokens,
            model: row.model,
        };
        let gap = if n > 1 {
            match self.rows.next() {
                Some(Ok(next)) => {
                    let gap = next.at.saturating_sub(row.at);
                    self.ahead = Some(next);
                    gap
                }
                Some(Err(e)) => {
                    self.failed = Some(e);
                    Duration::ZERO
                }
                None => Duration::ZERO,
            }
        } else {
            Duration::ZERO
        };
        let mut later: Vec<Duration> = (1..n).map(|_| gap.mul_f64(self.rng.random())).collect();
        later.sort();
        let first = (n > 0).then_some(Duration::ZERO);
        for offset in first.into_iter().chain(later) {
            self.copies.push_back(Planned {
                at: row.at + offset,
                sized: Some(sized.clone()),
            });
        }
    }
}

/// Draws a token count (at least 1).
pub fn sample_tokens(tokens: &Tokens, rng: &mut SmallRng) -> u64 {
    match *tokens {
        Tokens::Fixed(v) => v.max(1),
        Tokens::Uniform { min, max } => rng.random_range(min..=max.max(min)).max(1),
        Tokens::Normal { mean, sd } => {
            // Box–Muller.
            let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            (mean + sd * z).round().max(1.0) as u64
        }
        // Read before the run (`Traffic::load_sizes`, which `run` calls first).
        Tokens::Trace(ref sample) => sample.draw(rng).unwrap_or(1).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::scenario::Scenario;

    fn traffic(extra: &str) -> Traffic {
        let text = format!("name = \"t\"\n[keys]\ncount = 1\n[traffic]\n{extra}\n");
        Scenario::from_toml(&text)
            .unwrap_or_else(|e| panic!("{e}"))
            .traffic
    }

    #[test]
    fn constant_rate_is_evenly_spaced_and_bounded() {
        let t = traffic("arrival = \"constant\"\nrate = 120\nduration = \"10s\"");
        let times: Vec<Duration> = Arrivals::new(&t, 1).collect();
        assert_eq!(times.len(), 20);
        assert_eq!(times[1] - times[0], Duration::from_millis(500));
        let t = traffic("arrival = \"constant\"\nrate = 120\nrequests = 7");
        assert_eq!(Arrivals::new(&t, 1).count(), 7);
    }

    #[test]
    fn poisson_has_the_mean_rate_and_replays_from_the_seed() {
        let t = traffic("arrival = \"poisson\"\nrate = 600\nduration = \"1000s\"");
        let n = Arrivals::new(&t, 3).count();
        assert!((9_500..10_500).contains(&n), "{n}");
        let a: Vec<Duration> = Arrivals::new(&t, 3).take(50).collect();
        let b: Vec<Duration> = Arrivals::new(&t, 3).take(50).collect();
        assert_eq!(a, b);
        assert_ne!(a, Arrivals::new(&t, 4).take(50).collect::<Vec<_>>());
    }

    #[test]
    fn ramp_step_and_spike_change_the_rate() {
        let ramp = traffic("arrival = \"ramp\"\nrate = 60\npeak = 180\nduration = \"100s\"");
        assert_eq!(rate_at(&ramp, Duration::from_secs(50)), 120.0);
        let step = traffic(
            "arrival = \"step\"\nrate = 60\npeak = 600\nchange_at = \"30s\"\nduration = \"60s\"",
        );
        let times: Vec<Duration> = Arrivals::new(&step, 1).collect();
        assert_eq!(times.len(), 30 + 300);
        let spike = traffic(
            "arrival = \"spike\"\nrate = 60\npeak = 600\nchange_at = \"10s\"\nspike_for = \"5s\"\nduration = \"30s\"",
        );
        assert_eq!(rate_at(&spike, Duration::from_secs(12)), 600.0);
        assert_eq!(rate_at(&spike, Duration::from_secs(15)), 60.0);
    }

    #[test]
    fn token_distributions_stay_in_range() {
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..1000 {
            let v = sample_tokens(&Tokens::Uniform { min: 10, max: 20 }, &mut rng);
            assert!((10..=20).contains(&v));
            assert!(
                sample_tokens(
                    &Tokens::Normal {
                        mean: 5.0,
                        sd: 10.0
                    },
                    &mut rng
                ) >= 1
            );
        }
        let mean = (0..20_000)
            .map(|_| {
                sample_tokens(
                    &Tokens::Normal {
                        mean: 300.0,
                        sd: 50.0,
                    },
                    &mut rng,
                ) as f64
            })
            .sum::<f64>()
            / 20_000.0;
        assert!((mean - 300.0).abs() < 3.0, "{mean}");
    }

    fn trace_traffic(rows: &str, extra: &str) -> Traffic {
        let dir = std::env::temp_dir().join(format!("keyrotor-replay-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("t{}.csv", rows.len() + extra.len()));
        std::fs::write(
            &path,
            format!("offset_s,prompt_tokens,completion_tokens\n{rows}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        traffic(&format!(
            "arrival = \"trace\"\ntrace = {:?}\n{extra}",
            path.display().to_string()
        ))
    }

    fn replayed(t: &Traffic) -> Vec<Duration> {
        Schedule::new(t, 9)
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|p| p.unwrap_or_else(|e| panic!("{e}")).at)
            .collect()
    }

    /// Scale 3: each row three times, the copies between it and the next row (the last
    /// row's all at its own time), in time order; duration and requests cut the copies.
    #[test]
    fn a_scaled_trace_spreads_each_rows_copies_until_the_next_row() {
        let t = trace_traffic("0,10,5\n10,10,5\n20,10,5\n", "scale = 3");
        let at = replayed(&t);
        assert_eq!(at.len(), 9);
        assert!(at.windows(2).all(|w| w[0] <= w[1]), "{at:?}");
        let within = |from: u64, to: u64| {
            at.iter()
                .filter(|a| (Duration::from_secs(from)..Duration::from_secs(to)).contains(a))
                .count()
        };
        assert_eq!((within(0, 10), within(10, 20)), (3, 3));
        assert_eq!(at[0], Duration::ZERO);
        assert_eq!(
            at[3],
            Duration::from_secs(10),
            "each row's first copy keeps its time"
        );
        assert_eq!(&at[6..], &[Duration::from_secs(20); 3]);
        let cut = trace_traffic("0,10,5\n10,10,5\n20,10,5\n", "scale = 3\nrequests = 4");
        assert_eq!(replayed(&cut).len(), 4);
        let rows: String = (0..2000).map(|i| format!("{i},10,5\n")).collect();
        let half = replayed(&trace_traffic(&rows, "scale = 0.5"));
        assert!((900..1100).contains(&half.len()), "{}", half.len());
    }

    /// A ten-minute spike after near-silent steps gets its share of arrivals: the gap is
    /// walked through the steps' integrated rate, not drawn at a quiet step's rate (which
    /// would jump hours past the spike).
    #[test]
    fn a_short_spike_after_silence_gets_its_arrivals() {
        let t = traffic(
            "arrival = \"profile\"\nrate = 60\nduration = \"1h\"\nprofile_step = \"10m\"\nprofile = [0.0001, 0.0001, 10.0, 0.0001, 0.0001, 0.0001]",
        );
        let arrivals: Vec<Duration> = Arrivals::new(&t, 7).collect();
        let in_spike = arrivals
            .iter()
            .filter(|a| (Duration::from_secs(1200)..Duration::from_secs(1800)).contains(a))
            .count();
        // 60/min × 10 ÷ the mean weight (10.0005 / 6) over 10 minutes: 3,599.8 expected.
        assert!((3_400..3_800).contains(&in_spike), "{in_spike}");
        assert!(arrivals.len() - in_spike < 5, "{}", arrivals.len());
        assert!(arrivals.windows(2).all(|w| w[0] <= w[1]));
    }
}
