//! Each organisation's remaining quota over a run, read from the embedded mock's ledger
//! (`/admin/state`) once per interval while the run goes: how close each window (RPM, RPD,
//! TPM, TPD) of the model the traffic asks for came to empty, and when. Only the embedded
//! mock keeps such a ledger; a real endpoint has none to read.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// Most samples kept (a day at one per 10 s is 8,640): later ones are not taken.
pub const MAX_SAMPLES: usize = 10_000;

/// The windows, as the mock names them, and in words.
pub const WINDOWS: [(&str, &str); 4] = [
    ("rpm", "requests per minute"),
    ("rpd", "requests per day"),
    ("tpm", "tokens per minute"),
    ("tpd", "tokens per day"),
];

/// One reading: seconds into the run, and per organisation the share left of each window
/// (in [`WINDOWS`] order; `None` where the window has no limit).
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    at_s: f64,
    orgs: Vec<[Option<f64>; 4]>,
}

/// The readings of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quota {
    model: String,
    samples: Vec<Sample>,
}

/// Reads the mock's `/admin/state`, however the run reaches it.
pub type Read = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Option<Value>> + Send>> + Send + Sync>;

impl Quota {
    /// Readings of `model`'s windows.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_owned(),
            samples: Vec::new(),
        }
    }

    /// Takes one reading of an `/admin/state` document, `at_s` seconds into the run.
    pub fn record(&mut self, at_s: f64, state: &Value) {
        if self.samples.len() >= MAX_SAMPLES {
            return;
        }
        let orgs = state["orgs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|org| {
                let model = org["models"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|m| m["model"].as_str() == Some(self.model.as_str()));
                WINDOWS.map(|(name, _)| {
                    let window = model?["windows"]
                        .as_array()?
                        .iter()
                        .find(|w| w["window"].as_str() == Some(name))?;
                    let limit = window["limit"].as_f64().filter(|l| *l > 0.0)?;
                    Some((window["remaining"].as_f64()? / limit).clamp(0.0, 1.0))
                })
            })
            .collect();
        self.samples.push(Sample { at_s, orgs });
    }

    /// The model whose windows were read.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// When each reading was taken, in seconds into the run.
    pub fn times(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.at_s).collect()
    }

    /// How many organisations the readings saw.
    pub fn orgs(&self) -> usize {
        self.samples.iter().map(|s| s.orgs.len()).max().unwrap_or(0)
    }

    /// Whether window `w` (an index into [`WINDOWS`]) fell below 99 % left in some
    /// organisation.
    pub fn ran_low(&self, w: usize) -> bool {
        self.samples
            .iter()
            .flat_map(|s| s.orgs.iter().filter_map(|o| o.get(w).copied().flatten()))
            .any(|left| left < 0.99)
    }

    /// Organisation `org`'s share left (0 to 1) of window `w` at each reading; `None` where
    /// the window has no limit or the organisation was not in the reading.
    pub fn share_left(&self, org: usize, w: usize) -> Vec<Option<f64>> {
        self.samples
            .iter()
            .map(|s| s.orgs.get(org).and_then(|o| o.get(w).copied().flatten()))
            .collect()
    }
}

/// Runs `drive` (of `scenario`) while reading the ledger with `read` every interval of the
/// scenario's time series, on a task of its own (so the drive is never held up by a reading);
/// the readings stop when the drive ends.
pub async fn sampled<T>(
    drive: impl Future<Output = T>,
    read: Read,
    scenario: &crate::spec::scenario::Scenario,
) -> (T, Quota) {
    let interval = scenario.traffic.interval;
    let quota = Arc::new(Mutex::new(Quota::new(&scenario.target.model)));
    let start = tokio::time::Instant::now();
    let sampler = {
        let quota = Arc::clone(&quota);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval.max(Duration::from_millis(100)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let at_s = start.elapsed().as_secs_f64();
                if let Some(state) = read().await
                    && let Ok(mut quota) = quota.lock()
                {
                    quota.record(at_s, &state);
                }
            }
        })
    };
    let out = drive.await;
    sampler.abort();
    let _ = sampler.await;
    let quota = quota.lock().map(|q| q.clone()).unwrap_or_default();
    (out, quota)
}

/// An `/admin/state` document for tests: organisation 0 with model `m`'s RPM and TPD
/// windows (limits 30 and 1,000) at the given amounts left; organisation 1 serving another
/// model only.
#[cfg(test)]
pub(crate) fn test_state(rpm_left: f64, tpd_left: f64) -> Value {
    serde_json::json!({"orgs": [
        {"models": [{"model": "m", "windows": [
            {"window": "rpm", "limit": 30, "remaining": rpm_left},
            {"window": "tpd", "limit": 1000, "remaining": tpd_left}
        ]}]},
        {"models": [{"model": "other", "windows": [{"window": "rpm", "limit": 30, "remaining": 0}]}]}
    ]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_stop_at_the_cap() {
        let mut q = Quota::new("m");
        for i in 0..MAX_SAMPLES + 5 {
            q.record(i as f64, &test_state(1.0, 1.0));
        }
        assert_eq!(q.samples.len(), MAX_SAMPLES);
    }
}
