//! What a report says in words: its headline (failures by reason, goodput against the
//! budget, failovers, thresholds), its facts, and the horizon its verdict holds for.

use super::{Report, ThresholdResult};
use crate::measure::document::Tone;
use crate::spec::metrics::Figure;
use crate::spec::scenario::plural;

impl Report {
    /// The run's headline, shown first: what failed and why, then goodput against the
    /// budget under the run's conditions (load, keys, organisations, policy, date), how
    /// failovers went, then the thresholds met or not. The tone is the thresholds' verdict:
    /// inconclusive when the scenario sets none (or the run failed inside keyrotor).
    pub fn verdict(&self) -> (Tone, String) {
        let mut lines = self.answer();
        let (tone, thresholds) = self.thresholds_verdict();
        lines.push(thresholds);
        (tone, lines.join(" "))
    }

    /// The answer in sentences: failures by reason, goodput, failovers.
    pub fn answer(&self) -> Vec<String> {
        let (s, st) = (&self.summary, &self.setup);
        if s.offered == 0 {
            return vec!["No request was offered: no data.".to_owned()];
        }
        let share = |n: u64| format!("{:.1} %", n as f64 * 100.0 / s.offered as f64);
        let mut lines = Vec::new();
        if s.failed + s.dropped > 0 {
            let mut reasons: Vec<(&String, &u64)> = self.failures.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let mut parts: Vec<String> = reasons
                .iter()
                .map(|(reason, n)| format!("{n} {reason}"))
                .collect();
            if s.dropped > 0 {
                parts.push(format!("{} dropped (not sent on time)", s.dropped));
            }
            lines.push(format!(
                "{} of {} not answered ({}): {}.",
                s.failed + s.dropped,
                plural(s.offered, "request", "requests"),
                share(s.failed + s.dropped),
                parts.join(", ")
            ));
        }
        let late = s.succeeded.saturating_sub(s.goodput);
        lines.push(format!(
            "Goodput {}: {} of {} answered within {} ms{}, offered {} to {} in {} (policy {}; {}).",
            share(s.goodput),
            s.goodput,
            s.offered,
            st.latency_budget_ms,
            if late > 0 {
                format!(" ({late} more answered late)")
            } else {
                String::new()
            },
            if st.load.is_empty() { "load" } else { &st.load },
            plural(st.keys as u64, "key", "keys"),
            plural(st.orgs as u64, st.scope_nouns().0, st.scope_nouns().1),
            st.policy,
            st.api_words()
        ));
        lines.extend(self.failover_ms.sentence());
        lines
    }

    /// The thresholds' verdict: each as the scenario names it, met or not, with what was
    /// measured (no data says over what sample there was none).
    fn thresholds_verdict(&self) -> (Tone, String) {
        let show = |t: &ThresholdResult| {
            let measured = match t.measured {
                Figure::NoData => format!("no data: {}", t.metric.sample().none()),
                m => m.show(4),
            };
            format!(
                "{} {} (measured {measured})",
                t.metric.name(),
                String::from(t.threshold)
            )
        };
        let missed: Vec<String> = self
            .thresholds
            .iter()
            .filter(|t| !t.pass)
            .map(show)
            .collect();
        if self.error.is_some() {
            (
                Tone::Inconclusive,
                "The run failed inside keyrotor: no verdict.".to_owned(),
            )
        } else if self.thresholds.is_empty() {
            (
                Tone::Inconclusive,
                "No thresholds in the scenario: nothing to judge.".to_owned(),
            )
        } else if missed.is_empty() {
            let met: Vec<String> = self.thresholds.iter().map(show).collect();
            let lead = match met.len() {
                1 => "The threshold was".to_owned(),
                n => format!("All {n} thresholds were"),
            };
            (Tone::Pass, format!("{lead} met: {}.", met.join("; ")))
        } else {
            let lead = match self.thresholds.len() {
                1 => "The threshold was".to_owned(),
                n => format!("{} of {n} thresholds", missed.len()),
            };
            (
                Tone::Fail,
                format!("{lead} not met: {}.", missed.join("; ")),
            )
        }
    }

    /// What the run was, as plain lines: its time, its target and setup, the limits in force.
    pub fn facts(&self) -> Vec<String> {
        let time = if self.simulated {
            format!(
                "simulated: {:.1} s of virtual time in {:.2} s of wall time",
                self.span_s, self.wall_s
            )
        } else {
            format!("real time: {:.1} s", self.span_s)
        };
        let s = &self.setup;
        let (scope, scopes) = s.scope_nouns();
        let model = match s.provider.as_str() {
            "groq" => format!("{} ({} as of {})", s.model, s.model_status, s.as_of),
            _ => s.model.clone(),
        };
        let mut facts = vec![
            time,
            format!(
                "target: {}; model {model}; {} in {}; policy {}; goodput counts answers within {} ms of their intended send",
                s.target,
                plural(s.keys as u64, "key", "keys"),
                plural(s.orgs as u64, scope, scopes),
                s.policy,
                s.latency_budget_ms
            ),
            format!(
                "limits per {scope}: {} ({})",
                s.limits.limits, s.limits.source
            ),
        ];
        facts.extend(self.horizon().map(|h| format!("Horizon: {h}")));
        if let Some(replicas) = &self.replicas {
            facts.extend(replicas.facts());
        }
        facts
    }
}

/// Minutes a daily budget `budget` lasts from full when spent at `per_minute` while it
/// refills continuously over a day (Groq's buckets); `None` when the refill keeps up.
fn lasts_minutes(budget: u64, per_minute: f64) -> Option<f64> {
    let refill = budget as f64 / 1440.0;
    (per_minute > refill).then(|| budget as f64 / (per_minute - refill))
}

impl Report {
    /// The horizon of a run begun with full daily budgets, in words: how long the organisations'
    /// daily limits last at the rate and tokens per request it measured, spread evenly over them
    /// and when one organisation takes the whole load (as a sticky policy does), and whether that
    /// falls within the run or after it. `None` for a run begun in steady state (every daily
    /// budget spent at its start), or when no daily limit runs out at that rate.
    pub fn horizon(&self) -> Option<String> {
        let (s, limits) = (&self.summary, &self.setup.limits.limits);
        if !self.setup.from_full_budgets || s.succeeded == 0 || self.span_s <= 0.0 {
            return None;
        }
        let rate = s.offered as f64 * 60.0 / self.span_s;
        let tokens = s.tokens as f64 / s.succeeded as f64;
        let orgs = self.setup.orgs.max(1) as f64;
        // The first daily limit to run out, at `share` of the load on one organisation.
        let first_out = |share: f64| {
            [
                ("RPD", limits.rpd, rate),
                ("TPD", limits.tpd, rate * tokens),
            ]
            .into_iter()
            .filter_map(|(name, budget, per_minute)| {
                Some((name, lasts_minutes(budget?, per_minute * share)?))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
        };
        let one = first_out(1.0)?;
        let span = self.span_s / 60.0;
        // When the limit runs out against the run's span: the verdict covers what came before.
        let when = |(name, minutes): (&str, f64)| {
            let after = if minutes < span {
                "within this run".to_owned()
            } else {
                format!("after this run: past {minutes:.0} min the verdict may change")
            };
            format!("its {name} lasts {minutes:.0} min ({after})")
        };
        let mut text = format!(
            "from full daily budgets, for {span:.0} min — at {rate:.0} req/min and {tokens:.0} tokens a request, for one organisation taking the whole load {}",
            when(one)
        );
        if orgs > 1.0 {
            text.push_str(&format!(", for the {orgs:.0} sharing it evenly "));
            match first_out(1.0 / orgs) {
                Some(out) => text.push_str(&when(out)),
                None => text.push_str("the daily refill keeps up (no daily limit runs out)"),
            }
        }
        Some(text)
    }
}
