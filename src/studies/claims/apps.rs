//! `keyrotor claims --apps`: each seed's real app (examples/seed-apps/, see
//! [`crate::drive::seed_apps`]) measured beside the engine preset that re-creates it, on the same
//! traffic (the same seeded arrivals), the same mock, limits and date, so a reader sees
//! whether the preset was faithful and what the real code does.
//!
//! An app is an external process, so these runs go in real time at the mock's own pace
//! (time scale 1: the apps' own timers, such as seed 002's 60 s cooldown, cannot be
//! scaled). Each run's traffic lasts [`AppOptions::span`] (one minute by default) and starts
//! from full budgets; the preset runs at the same time, in real time too, against its own
//! mock. Claims that need hours of traffic or a capacity search are listed as not measured,
//! with the reason.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::seeds::{ALL_ANSWERED, Era, FAILOVER, Limits, NO_429, UPTIME};
use super::{Conditions, Measured, Verdict, conditions, judge, pct};
use crate::drive::driver::NoProgress;
use crate::drive::seed_apps::{SEED_APPS, SeedApp};
use crate::measure::document::Block;
use crate::measure::document::Table;
use crate::measure::report::Report;
use crate::run::{RunOptions, run};
use crate::spec::metrics::Figure;
use crate::spec::metrics::{Metric, Threshold};
use crate::spec::scenario::{Layout, Scenario, TargetEvent, Tokens};

/// The shortest and longest traffic span of an app run.
pub const SPAN_RANGE: (Duration, Duration) = (Duration::from_secs(10), Duration::from_secs(600));

/// How long the driver waits for an app's answer: past the users' 5 s, so late answers are
/// seen (and counted out of goodput) rather than cut short.
const APP_TIMEOUT: Duration = Duration::from_secs(10);

/// How the app rows are run.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The seed-apps folder, with its Node packages installed (`npm ci`).
    pub dir: PathBuf,
    /// How long each run's traffic lasts, in real time (within [`SPAN_RANGE`]).
    pub span: Duration,
    /// Where each app's output is kept (`<check>-seed-<n>.log`); `None` discards it.
    pub logs: Option<PathBuf>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            dir: crate::drive::seed_apps::default_dir(),
            span: Duration::from_secs(60),
            logs: None,
        }
    }
}

/// The app rows of `claims.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppRows {
    /// Whether they were asked for (`claims --apps`).
    pub requested: bool,
    /// Apps (or runs) that were not measured, and why.
    pub skipped: Vec<String>,
    /// Claims without app rows, and why.
    pub not_measured: Vec<String>,
    /// One row per claim and app.
    pub rows: Vec<AppRow>,
}

/// What one side of a row (the app, or its preset) measured.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Side {
    /// The figure in words.
    pub measured: String,
    /// The figure as numbers.
    pub figure: Measured,
    /// The claim's verdict on this side's run.
    pub verdict: Verdict,
}

/// One claim checked on one seed's real app and on the preset that re-creates it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppRow {
    /// Stable id: the check's id and the seed, e.g. `zero-downtime-seed-002`.
    pub id: String,
    /// The check (one scenario) the row belongs to, e.g. `zero-downtime`.
    pub check: String,
    /// The claim as the seeds state it.
    pub claim: String,
    /// The seed whose app ran.
    pub seed: String,
    /// The app's file in examples/seed-apps/.
    pub app: String,
    /// The preset beside it.
    pub preset: String,
    /// What both runs were measured under.
    pub conditions: Conditions,
    /// The app's run.
    pub real_app: Side,
    /// The preset's run.
    pub re_creation: Side,
    /// How far the app is from its preset, in the figure's unit.
    pub difference: String,
}

/// What a check judges its runs by.
#[derive(Debug, Clone, Copy)]
enum Judge {
    /// At least 99.9 % answered within 5 s.
    Uptime,
    /// No 429 at all.
    NoRateLimits,
    /// Failover p99 under 200 ms over at least 10 failovers.
    Failover,
    /// Every request answered within 5 s.
    AllAnswered,
}

/// Whose numbers the apps' checks use under the seeds' own limits: the rated-load claims
/// ("99.9 %+ uptime", "Rate limit issues: none") are seed 000's.
const APPS_SEED: &str = "seed 000";

/// One short real-time scenario and the claims judged on it.
struct Check {
    id: &'static str,
    what: &'static str,
    limits: Limits,
    today: bool,
    rate: f64,
    span: Duration,
    /// The mock's events, at a third of the span.
    events: Vec<TargetEvent>,
    traffic: String,
    judges: Vec<(Judge, &'static str)>,
}

/// The checks, for traffic lasting `span`.
fn checks(span: Duration) -> Vec<Check> {
    let third = span.as_secs() / 3;
    let at = Duration::from_secs(third);
    let exhaust = |orgs: &[usize]| {
        orgs.iter()
            .map(|&o| TargetEvent::ExhaustDaily { at, org: Some(o) })
            .collect::<Vec<_>>()
    };
    let secs = span.as_secs();
    let traffic = |rate: u32, what: &str| {
        format!("Poisson {rate} req/min for {secs} s in real time from full budgets{what}")
    };
    vec![
        Check {
            id: "rated-load",
            what: "150 req/min with 5 keys, the seeds' limits",
            limits: Limits::Seeds,
            today: false,
            rate: 150.0,
            span,
            events: Vec::new(),
            traffic: traffic(150, ""),
            judges: vec![
                (Judge::Uptime, "99.9 %+ uptime with 5 keys"),
                (
                    Judge::NoRateLimits,
                    "Rate limit issues: none (\"Eliminated\")",
                ),
            ],
        },
        Check {
            id: "failover-200ms",
            what: "failover < 200 ms",
            limits: Limits::Groq,
            today: false,
            rate: 200.0,
            span,
            events: Vec::new(),
            traffic: traffic(200, " (above the 5 keys' 150 req/min)"),
            judges: vec![(Judge::Failover, "Failover between keys takes < 200 ms")],
        },
        Check {
            id: "never-see-errors-some-out",
            what: "users never see API errors, 3 of 5 keys out",
            limits: Limits::Groq,
            today: false,
            rate: 40.0,
            span,
            events: exhaust(&[0, 1, 2]),
            traffic: traffic(
                40,
                &format!("; 3 of 5 keys run out of their day {third} s in"),
            ),
            judges: vec![(Judge::AllAnswered, "Users never see API errors")],
        },
        Check {
            id: "never-see-errors-all-out",
            what: "users never see API errors, every key out",
            limits: Limits::Groq,
            today: false,
            rate: 40.0,
            span,
            events: exhaust(&[0, 1, 2, 3, 4]),
            traffic: traffic(40, &format!("; every key runs out of its day {third} s in")),
            judges: vec![(Judge::AllAnswered, "Users never see API errors")],
        },
        Check {
            id: "zero-downtime",
            what: "zero downtime during key rotation",
            limits: Limits::Groq,
            today: false,
            rate: 60.0,
            span,
            events: vec![TargetEvent::RevokeKey { at, key: 0 }],
            traffic: traffic(60, &format!("; key 0 revoked {third} s in")),
            judges: vec![(Judge::AllAnswered, "Zero downtime during key rotation")],
        },
        Check {
            id: "seed-configuration-today",
            what: "the seeds' code as written, run today",
            limits: Limits::Groq,
            today: true,
            rate: 150.0,
            span,
            events: Vec::new(),
            traffic: traffic(150, ""),
            judges: vec![(
                Judge::Uptime,
                "99.9 %+ uptime with 5 keys, the seeds' code as written, run today",
            )],
        },
    ]
}

/// The claims no app row measures, and why.
fn not_measured(span: Duration) -> Vec<String> {
    let secs = span.as_secs();
    vec![
        format!("5× capacity and 150 req/min sustained (capacity-5x-*, 150-rpm-5-keys*): a capacity is found by bisection over many runs of 30 minutes to a day; app runs go in real time and last {secs} s"),
        "1,000 users need 2–3 keys (sizing-*): a day of traffic, which cannot run in real time here".to_owned(),
        "the rows on today's catalog (*-today): the seed apps name llama-3.3-70b-versatile, so today they are the seed-configuration-today rows".to_owned(),
    ]
}

/// Runs every check on every seed app this machine can run, beside its preset; `today` is
/// the catalog day of the seed-configuration-today rows, `progress` is told each check.
pub fn check(
    options: &AppOptions,
    today: jiff::civil::Date,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<AppRows> {
    let (low, high) = SPAN_RANGE;
    anyhow::ensure!(
        (low..=high).contains(&options.span),
        "--apps-span must be from {} s to {} s",
        low.as_secs(),
        high.as_secs()
    );
    let mut rows = AppRows {
        requested: true,
        not_measured: not_measured(options.span),
        ..AppRows::default()
    };
    let mut ready = Vec::new();
    for app in SEED_APPS {
        match app.available(&options.dir) {
            Ok(()) => ready.push(app),
            Err(why) => rows
                .skipped
                .push(format!("seed {} ({}): {why}", app.seed, app.file)),
        }
    }
    for check in checks(options.span) {
        if ready.is_empty() {
            break;
        }
        progress(&format!(
            "seed apps beside their presets: {} ({} s)",
            check.what,
            options.span.as_secs()
        ));
        let era = if check.today {
            Era::seeds(today).on(today)
        } else {
            Era::seeds(today)
        };
        // Rows by claim, then by app: each claim's rows together.
        let mut by_claim = vec![Vec::new(); check.judges.len()];
        for (app, outcome) in side_by_side(&check, &era, &ready, options) {
            match outcome {
                Ok((scenario, real, preset)) => {
                    let judged = app_rows(&check, app, &scenario, &real, &preset);
                    for (claim, row) in by_claim.iter_mut().zip(judged) {
                        claim.push(row);
                    }
                }
                Err(e) => rows.skipped.push(format!(
                    "seed {} ({}), {}: the run failed: {e:#}",
                    app.seed, app.file, check.id
                )),
            }
        }
        rows.rows.extend(by_claim.into_iter().flatten());
    }
    Ok(rows)
}

/// The reports of one app and its preset on the same scenario.
type Pair = anyhow::Result<(Scenario, Report, Report)>;

/// Runs `check` for every app in `apps` and its preset, all at once (each against its own
/// mock; the load is light).
fn side_by_side(
    check: &Check,
    era: &Era,
    apps: &[SeedApp],
    options: &AppOptions,
) -> Vec<(SeedApp, Pair)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = apps
            .iter()
            .map(|app| {
                let preset = scope.spawn(move || preset_run(check, era, app));
                let real = scope.spawn(move || app_run(check, era, app, options));
                (app, preset, real)
            })
            .collect();
        handles
            .into_iter()
            .map(|(app, preset, real)| {
                let pair = joined(real).and_then(|(s, real)| Ok((s, real, joined(preset)?)));
                (*app, pair)
            })
            .collect()
    })
}

/// The scenario both sides share: 5 keys in 5 organisations, `app`'s preset, Poisson
/// arrivals over the span, requests carrying the `max_tokens` the app sends, no added round
/// trip.
fn scenario(check: &Check, era: &Era, app: &SeedApp) -> anyhow::Result<Scenario> {
    let mut b = era
        .base(
            check.id,
            (5, Layout::Separate),
            app.preset,
            (check.rate, check.span),
            check.limits.set(APPS_SEED),
        )?
        .mode(crate::spec::scenario::Mode::Real)
        .rtt(Duration::ZERO)
        .tokens(
            Tokens::Fixed(super::seeds::PROMPT),
            Tokens::Fixed(app.max_tokens),
        );
    for event in &check.events {
        b = b.event(event.clone());
    }
    Ok(b.build()?)
}

/// A thread's result, a panic turned into an error.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, anyhow::Result<T>>) -> anyhow::Result<T> {
    handle
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the run panicked")))
}

fn preset_run(check: &Check, era: &Era, app: &SeedApp) -> anyhow::Result<Report> {
    Ok(run(
        &scenario(check, era, app)?,
        RunOptions::default(),
        &NoProgress,
    )?
    .report)
}

fn app_run(
    check: &Check,
    era: &Era,
    app: &SeedApp,
    options: &AppOptions,
) -> anyhow::Result<(Scenario, Report)> {
    let shared = scenario(check, era, app)?;
    let s = app
        .scenario(&shared, &options.dir, APP_TIMEOUT)
        .map_err(|e| anyhow::anyhow!("seed {} app scenario: {e}", app.seed))?;
    let run_options = RunOptions {
        app_log: options
            .logs
            .as_deref()
            .map(|dir| log_path(dir, check.id, app)),
        ..RunOptions::default()
    };
    Ok((shared, run(&s, run_options, &NoProgress)?.report))
}

fn log_path(dir: &Path, check: &str, app: &SeedApp) -> PathBuf {
    dir.join(format!("{check}-seed-{}.log", app.seed))
}

/// The rows of one app's run beside its preset's.
fn app_rows(
    check: &Check,
    app: SeedApp,
    scenario: &Scenario,
    real: &Report,
    preset: &Report,
) -> Vec<AppRow> {
    // The app's answers carry no usage the driver could count; the preset's run, on the same
    // requests against the same mock, measures what a request settles at.
    // The scenario carries the app's max_tokens; the preset's run measures what a request
    // settles at (the app's answers carry no usage the driver could count).
    let mut conditions = conditions(scenario, preset, Some(check.traffic.clone()));
    conditions.limits = check.limits.label(scenario, APPS_SEED);
    conditions.request = format!(
        "{}; max_tokens {}; settled tokens from the preset's run",
        conditions.request,
        if app.max_tokens == 1024 {
            "none sent by the app, so Groq's default 1,024 is reserved"
        } else {
            "as the app sends it"
        }
    );
    conditions.policy = format!(
        "seed {}'s app ({}) beside the preset {}",
        app.seed, app.file, app.preset
    );
    conditions.network =
        "loopback (no round trip added: the app calls the mock directly)".to_owned();
    check
        .judges
        .iter()
        .enumerate()
        .map(|(i, (judge, claim))| {
            let (a, p) = (side(*judge, real), side(*judge, preset));
            let id = if i == 0 {
                format!("{}-seed-{}", check.id, app.seed)
            } else {
                format!("{}-{}-seed-{}", check.id, judge.name(), app.seed)
            };
            AppRow {
                id,
                check: check.id.to_owned(),
                claim: (*claim).to_owned(),
                seed: app.seed.to_owned(),
                app: app.file.to_owned(),
                preset: app.preset.to_owned(),
                conditions: conditions.clone(),
                difference: difference(*judge, &a.figure, &p.figure),
                real_app: a,
                re_creation: p,
            }
        })
        .collect()
}

impl Judge {
    /// The metric, rule and samples it judges by: the seeds' table's ([`super::seeds`]).
    fn verdict(self, r: &Report) -> Verdict {
        let (metric, rule, min_samples) = match self {
            Judge::Uptime => UPTIME,
            Judge::NoRateLimits => NO_429,
            Judge::Failover => FAILOVER,
            Judge::AllAnswered => ALL_ANSWERED,
        };
        match Threshold::try_from(rule.to_owned()) {
            Ok(rule) => judge(r.metric(metric), r.samples(metric), rule, min_samples),
            Err(_) => Verdict::Inconclusive,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Judge::Uptime => "uptime",
            Judge::NoRateLimits => "no-429",
            Judge::Failover => "failover",
            Judge::AllAnswered => "all-answered",
        }
    }
}

/// One run judged by `judge`.
fn side(judge: Judge, r: &Report) -> Side {
    let s = &r.summary;
    let unattributed = attribution_note(r);
    match judge {
        Judge::Uptime => Side {
            measured: format!(
                "{} of {} answered within 5 s ({} eventually, {} degraded: fallback answers){unattributed}",
                pct(s.goodput_rate),
                s.offered,
                pct(s.success_rate),
                s.degraded
            ),
            figure: Measured::goodput(s),
            verdict: judge.verdict(r),
        },
        Judge::NoRateLimits => Side {
            measured: format!(
                "{} upstream 429s over {} requests{unattributed}",
                s.upstream_429, s.offered
            ),
            figure: Measured {
                value: Figure::Value(s.upstream_429 as f64),
                unit: "upstream 429 answers; samples = requests".to_owned(),
                samples: s.offered,
            },
            verdict: judge.verdict(r),
        },
        Judge::Failover => {
            let f = &r.failover_ms;
            let samples = f.count + f.unanswered;
            Side {
                measured: format!(
                    "p99 {} over {} ({} answered, {} never){unattributed}",
                    Metric::FailoverP99Ms.show(f.p99),
                    count(samples as f64, "failover"),
                    f.count,
                    f.unanswered
                ),
                figure: Measured {
                    value: f.p99,
                    unit: "ms, p99 failover; samples = requests whose first attempt failed"
                        .to_owned(),
                    samples,
                },
                verdict: judge.verdict(r),
            }
        }
        Judge::AllAnswered => Side {
            measured: format!(
                "{} of {} not answered within 5 s ({} degraded: fallback answers){unattributed}",
                s.offered.saturating_sub(s.goodput),
                s.offered,
                s.degraded
            ),
            figure: Measured {
                value: Figure::Value(s.offered.saturating_sub(s.goodput) as f64),
                unit: "requests not answered within 5 s; samples = requests".to_owned(),
                samples: s.offered,
            },
            verdict: judge.verdict(r),
        },
    }
}

/// For an app's run, the upstream calls the mock could not attribute, when there were any.
fn attribution_note(r: &Report) -> String {
    match r.setup.unattributed_calls {
        Some(n) if n > 0 => format!("; {n} upstream calls not attributed to a request"),
        _ => String::new(),
    }
}

/// How far the app's figure is from the preset's, in the figure's unit.
fn difference(judge: Judge, app: &Measured, preset: &Measured) -> String {
    let (Figure::Value(a), Figure::Value(p)) = (app.value, preset.value) else {
        return if app.value == preset.value {
            format!("the same ({})", app.value.show(0))
        } else {
            format!(
                "app {}, preset {}: no number to subtract",
                show(judge, app.value),
                show(judge, preset.value)
            )
        };
    };
    let gap = a - p;
    if gap.abs() < 1e-9 {
        return "the same".to_owned();
    }
    let more = |up: &str, down: &str| if gap > 0.0 { up } else { down }.to_owned();
    match judge {
        Judge::Uptime => format!(
            "the app {:.2} points {}",
            gap.abs() * 100.0,
            more("higher", "lower")
        ),
        Judge::NoRateLimits => format!(
            "the app {} {}",
            count(gap.abs(), "429"),
            more("more", "fewer")
        ),
        Judge::Failover => format!("the app {:.0} ms {}", gap.abs(), more("slower", "faster")),
        Judge::AllAnswered => format!(
            "the app {} {} unanswered",
            count(gap.abs(), "request"),
            more("more", "fewer")
        ),
    }
}

/// `n` things, in the plural unless one.
fn count(n: f64, thing: &str) -> String {
    if n == 1.0 {
        format!("1 {thing}")
    } else {
        format!("{n:.0} {thing}s")
    }
}

/// A figure in its judge's unit.
fn show(judge: Judge, figure: Figure) -> String {
    match (judge, figure) {
        (Judge::Uptime, Figure::Value(v)) => format!("{:.2} %", v * 100.0),
        (Judge::Failover, f) => Metric::FailoverP99Ms.show(f),
        (_, f) => f.show(0),
    }
}

impl AppRows {
    /// The section as document blocks (rendered to claims.md and claims.html alike).
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = vec![Block::Heading(2, "The seeds' real code".to_owned())];
        if !self.requested {
            blocks.push(Block::Paragraph("Not run: `keyrotor claims --apps` runs each seed's app (examples/seed-apps/) beside its preset.".to_owned()));
            return blocks;
        }
        if !self.rows.is_empty() {
            blocks.push(Block::Paragraph("Each seed's app, as its seed shows it, beside the preset that re-creates it: the same seeded arrivals, mock, limits and date, both in real time.".to_owned()));
        }
        let mut last = None;
        for r in &self.rows {
            let group = (&r.check, &r.claim);
            if last != Some(group) {
                last = Some(group);
                let c = &r.conditions;
                blocks.push(Block::Heading(3, format!("{} (`{}`)", r.claim, r.check)));
                blocks.push(Block::Paragraph(format!(
                    "Catalog of {}; {}; {}; {}; {}; {}.",
                    c.as_of, c.limits, c.model, c.keys, c.traffic, c.network
                )));
                blocks.push(Block::Table(Table {
                    head: Table::heads(&[
                        "app",
                        "preset",
                        "a request",
                        "app measured",
                        "preset measured",
                        "difference",
                        "app",
                        "preset",
                    ]),
                    rows: Vec::new(),
                }));
            }
            if let Some(Block::Table(table)) = blocks.last_mut() {
                table.rows.push(vec![
                    format!("seed {} ({})", r.seed, r.app),
                    r.preset.clone(),
                    r.conditions
                        .request
                        .trim_start_matches("a request: ")
                        .to_owned(),
                    r.real_app.measured.clone(),
                    r.re_creation.measured.clone(),
                    r.difference.clone(),
                    format!("**{:?}**", r.real_app.verdict),
                    format!("{:?}", r.re_creation.verdict),
                ]);
            }
        }
        for (title, lines) in [
            ("Skipped", &self.skipped),
            ("Not measured on the apps", &self.not_measured),
        ] {
            if !lines.is_empty() {
                blocks.push(Block::Paragraph(format!("{title}:")));
                blocks.push(Block::List(lines.clone()));
            }
        }
        blocks
    }

    /// The markdown section of `claims.md`.
    pub fn markdown(&self) -> String {
        crate::measure::document::markdown(&self.blocks())
    }
}
