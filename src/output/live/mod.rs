//! The live view of a run: on a terminal, a bar of elapsed / total time with the figures so
//! far (done, offered rate, goodput, success, failures and their main reason, 429s,
//! p50/p99) and a line per key (attempts, 429s),
//! redrawn at every update (each second in real time); elsewhere (pipes, CI), a plain line
//! every few seconds of a real-time run. [`prometheus`] puts the same figures on a Prometheus
//! endpoint.

pub mod prometheus;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::drive::driver::{Progress, Snapshot};

/// Keys shown one line each; the rest are summed on one line.
const KEY_LINES: usize = 10;

/// How often a plain line is written when not on a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Where the view goes.
enum Output {
    /// A terminal: the bar and the key lines.
    Bars {
        multi: MultiProgress,
        bar: ProgressBar,
        keys: Mutex<Vec<ProgressBar>>,
    },
    /// Plain lines every [`PLAIN_EVERY`], with the time of the last.
    Plain(Mutex<Option<Instant>>),
    /// Nothing.
    Silent,
}

/// The live view of one run.
pub struct LiveView {
    output: Output,
    simulated: bool,
    /// How long the run's traffic lasts, when bounded by time.
    total: Option<Duration>,
    /// Where the endpoint of `--metrics-listen` reads the latest figures.
    metrics: Option<prometheus::Latest>,
}

impl LiveView {
    /// The view for a run of `total` (`None`: bounded by count, not time); `terminal` says
    /// whether to draw bars, `simulated` that times are simulated (no plain lines then:
    /// a simulated run is over in seconds).
    pub fn new(total: Option<Duration>, terminal: bool, simulated: bool) -> Self {
        let output = if terminal {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let bar = multi.add(match total {
                Some(t) => ProgressBar::new(t.as_secs().max(1)),
                None => ProgressBar::new_spinner(),
            });
            let style = ProgressStyle::with_template("  {bar:30.cyan/blue} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Output::Bars {
                multi,
                bar,
                keys: Mutex::new(Vec::new()),
            }
        } else if simulated {
            Output::Silent
        } else {
            Output::Plain(Mutex::new(None))
        };
        LiveView {
            output,
            simulated,
            total,
            metrics: None,
        }
    }

    /// Also keeps the latest figures in `latest`, for [`prometheus::serve`].
    pub fn with_metrics(mut self, latest: prometheus::Latest) -> Self {
        self.metrics = Some(latest);
        self
    }

    /// Removes the view from the terminal.
    pub fn clear(&self) {
        if let Output::Bars { multi, bar, keys } = &self.output {
            if let Ok(keys) = keys.lock() {
                keys.iter().for_each(ProgressBar::finish_and_clear);
            }
            bar.finish_and_clear();
            let _ = multi.clear();
        }
    }

    /// The figures line: time so far of the total, requests done, goodput and success,
    /// failures with their main reason, 429s, latency.
    fn line(&self, s: &Snapshot) -> String {
        let secs = s.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            s.finished as f64 / secs
        } else {
            0.0
        };
        let share = |n: u64| {
            if s.finished == 0 {
                "no data".to_owned()
            } else {
                format!("{:.2} %", n as f64 * 100.0 / s.finished as f64)
            }
        };
        let of_total = self
            .total
            .map_or(String::new(), |t| format!(" / {}", t.as_secs()));
        let failed = match &s.top_failure {
            Some((reason, n)) if *n < s.failed => {
                format!("{} failed ({n} {reason}, …)", s.failed)
            }
            Some((reason, _)) => format!("{} failed ({reason})", s.failed),
            None => "0 failed".to_owned(),
        };
        let ms = |v: Option<f64>| v.map_or("no data".to_owned(), |v| format!("{v:.0} ms"));
        format!(
            "{secs:.0}{of_total} s{} · {} done ({rate:.1}/s) · goodput {} · {} ok · {failed} · {} 429s · p50 {} · p99 {}",
            if self.simulated { " simulated" } else { "" },
            s.finished,
            share(s.goodput),
            share(s.succeeded),
            s.upstream_429,
            ms(s.p50_ms),
            ms(s.p99_ms)
        )
    }
}

/// What a long command (`plan`, `sweep`, `claims`) is doing: on a terminal, a spinner with
/// the time so far and the current step, kept moving between steps; elsewhere, a plain line
/// per step when `plain` (else nothing).
pub struct Activity {
    bar: Option<ProgressBar>,
    plain: bool,
}

impl Activity {
    /// Starts the spinner on a `terminal`; `plain` lines otherwise.
    pub fn new(terminal: bool, plain: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {elapsed:>4} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Activity { bar, plain }
    }

    /// As [`Activity::new`], with a bar over `total` steps ([`Activity::step`] moves it).
    pub fn with_steps(terminal: bool, plain: bool, total: u64) -> Self {
        let activity = Self::new(terminal, plain);
        if let Some(bar) = &activity.bar {
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "  {spinner} {elapsed:>4} [{bar:24}] {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        activity
    }

    /// Starts the next of the steps (the first call starts step 1) and says what it is.
    pub fn step(&self, what: &str) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(what.to_owned());
            }
            None if self.plain => eprintln!("{what}"),
            None => {}
        }
    }

    /// Says what is being done now.
    pub fn say(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(what.to_owned()),
            None if self.plain => eprintln!("{what}"),
            None => {}
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The key lines: one per key up to [`KEY_LINES`] (its state first, when the engine tells
/// it), then the rest summed.
fn key_lines(per_key: &[(u64, u64)], states: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = per_key
        .iter()
        .take(KEY_LINES)
        .enumerate()
        .map(|(k, (attempts, limited))| match states.get(k) {
            Some(state) => format!("    key {k}: {state} · {attempts} attempts, {limited} 429s"),
            None => format!("    key {k}: {attempts} attempts, {limited} 429s"),
        })
        .collect();
    if per_key.len() > KEY_LINES {
        let rest = &per_key[KEY_LINES..];
        let (a, l) = rest.iter().fold((0u64, 0u64), |(a, l), (x, y)| {
            (a.saturating_add(*x), l.saturating_add(*y))
        });
        lines.push(format!(
            "    {} more keys: {a} attempts, {l} 429s",
            rest.len()
        ));
    }
    lines
}

impl Progress for LiveView {
    fn shown(&self) -> bool {
        self.metrics.is_some() || !matches!(self.output, Output::Silent)
    }

    fn update(&self, s: &Snapshot) {
        if let Some(latest) = &self.metrics
            && let Ok(mut latest) = latest.lock()
        {
            latest.clone_from(s);
        }
        match &self.output {
            Output::Bars { multi, bar, keys } => {
                bar.set_position(s.elapsed.as_secs());
                bar.set_message(self.line(s));
                let Ok(mut keys) = keys.lock() else { return };
                let lines = key_lines(&s.per_key, &s.key_states);
                while keys.len() < lines.len() {
                    let line = multi.add(ProgressBar::new_spinner());
                    line.set_style(
                        ProgressStyle::with_template("{msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    keys.push(line);
                }
                for (line, text) in keys.iter().zip(lines) {
                    line.set_message(text);
                }
            }
            Output::Plain(last) => {
                let Ok(mut last) = last.lock() else { return };
                if last.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                    *last = Some(Instant::now());
                    eprintln!("progress: {}", self.line(s));
                }
            }
            Output::Silent => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_line_says_no_data_before_the_first_answer() {
        let view = LiveView::new(Some(Duration::from_secs(20)), false, true);
        let line = view.line(&Snapshot::default());
        assert!(
            line.contains("goodput no data · no data ok · 0 failed")
                && line.contains("p99 no data"),
            "{line}"
        );
        let s = Snapshot {
            elapsed: Duration::from_secs(2),
            finished: 10,
            succeeded: 9,
            goodput: 8,
            failed: 1,
            top_failure: Some(("no_key_available".to_owned(), 1)),
            upstream_429: 3,
            p50_ms: Some(120.4),
            p99_ms: Some(900.0),
            per_key: vec![(5, 1); 12],
            key_states: vec![
                "ready".to_owned(),
                crate::drive::driver::key_state_text("cooling", Some(11_200)),
            ],
        };
        let line = view.line(&s);
        assert!(
            line.starts_with("2 / 20 s simulated · 10 done (5.0/s) · goodput 80.00 % · 90.00 % ok · 1 failed (no_key_available) · 3 429s · p50 120 ms · p99 900 ms"),
            "{line}"
        );
        let keys = key_lines(&s.per_key, &s.key_states);
        assert_eq!(keys.len(), KEY_LINES + 1);
        assert_eq!(keys[1], "    key 1: cooling 12s · 5 attempts, 1 429s");
        assert_eq!(
            keys[2], "    key 2: 5 attempts, 1 429s",
            "no state known: none shown"
        );
        assert_eq!(keys[KEY_LINES], "    2 more keys: 10 attempts, 2 429s");
    }
}
