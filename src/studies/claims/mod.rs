//! `keyrotor claims`: the seed documents' claims, each checked by simulated runs against the
//! embedded mock, with a verdict (holds / fails / inconclusive), the measured figure, the
//! conditions it was measured under and why.
//!
//! The claims are checked twice: on the seeds' own date (2025-12, `llama-3.3-70b-versatile`,
//! the catalog of that day) and today, with Groq's recommended replacement model (ids end in
//! `-today`). Between the two sits a finding: the seeds' configuration as written, run on
//! today's catalog, where Groq answers every request naming the retired model 404.
//!
//! Every row states its own conditions: the catalog's day and the model, the limits (Groq's
//! published free tier from the dated catalog, or the numbers of the seed that states the
//! claim — seed 000's and seed 002's 30 requests/min per key, seed 004's 6,000 requests/day per
//! key), keys and organisations, policy, traffic, and
//! what one request costs in tokens (reserved at admission, settled on average as measured).
//! Claims of a steady rate are judged on the *sustained* capacity (budgets in steady state,
//! [`crate::studies::sweep`]), with the burst from full budgets shown beside it.

mod answers;
mod apps;
mod eta;
mod providers;
mod searches;
mod seeds;
mod spec;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::measure::document::{Block, Tone};
use crate::measure::report::Report;
use crate::run::Finished;
use crate::spec::metrics::Figure;
use crate::spec::scenario::{Scenario, Shape, TargetEvent, human as span};

pub use answers::Grouped;
pub use apps::{AppOptions, AppRow, AppRows, SPAN_RANGE, Side, check as check_apps};
pub use seeds::break_even_rtt;
pub use spec::{ClaimSpec, ClaimsFile, FileError, MAX_CLAIMS, judge};

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The measurement supports the claim.
    Holds,
    /// The measurement contradicts it.
    Fails,
    /// The measurement cannot decide.
    Inconclusive,
}

/// What a row was measured under.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conditions {
    /// The day whose Groq catalog applied (which models exist, their limits).
    pub as_of: String,
    /// Limits per organisation and where they come from.
    pub limits: String,
    /// Model requested.
    pub model: String,
    /// Keys and their organisations.
    pub keys: String,
    /// Rotation policy.
    pub policy: String,
    /// Arrivals, rate and span.
    pub traffic: String,
    /// What one request costs in tokens.
    pub request: String,
    /// The client's network: the round trip every attempt pays.
    pub network: String,
}

impl Conditions {
    /// One line for tables.
    pub fn line(&self) -> String {
        format!(
            "catalog of {}; {}; {}; {}; policy {}; {}; {}; {}",
            self.as_of,
            self.limits,
            self.model,
            self.keys,
            self.policy,
            self.traffic,
            self.request,
            self.network
        )
    }
}

/// The measured figure as numbers.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Measured {
    /// The value the verdict rests on (`null`: no data; `"unbounded"`: never answered).
    pub value: Figure,
    /// Its unit.
    pub unit: String,
    /// How many samples it rests on (requests, failovers or simulated runs, as `unit` says).
    pub samples: u64,
}

impl Measured {
    /// The goodput rate of a run's requests: answered within the 5 s users wait.
    fn goodput(s: &crate::measure::report::Summary) -> Self {
        Self {
            value: Figure::of(s.goodput_rate),
            unit: "goodput rate (answered within 5 s); samples = requests".to_owned(),
            samples: s.offered,
        }
    }
}

/// One checked claim.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Claim {
    /// Stable id.
    pub id: String,
    /// The claim as a seed states it.
    pub claim: String,
    /// Which seed says it.
    pub source: String,
    /// What it was measured under.
    pub conditions: Conditions,
    /// The measured figure, in words.
    pub measured: String,
    /// The measured figure, as numbers.
    pub figure: Measured,
    /// The verdict.
    pub verdict: Verdict,
    /// The rule the figure was judged by (`goodput_rate >= 0.999 over ≥ 1000 requests`);
    /// absent for rows judged by a search over many runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// How it was measured and why the verdict.
    pub detail: String,
    /// Where the run this row rests on is written, relative to claims.json: its
    /// `scenario.toml` (`keyrotor run` on it replays the run exactly) and its reports. Rows
    /// found by a search over many runs (capacities) have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// That run, to be written there ([`crate::output::artifacts::claims`]).
    #[serde(skip)]
    #[schemars(skip)]
    pub evidence: Option<Box<Evidence>>,
}

/// The run a claim rests on.
#[derive(Clone)]
pub struct Evidence {
    /// What ran.
    pub scenario: Scenario,
    /// What it measured (shared by the claims that rest on the same run).
    pub finished: Arc<Finished>,
}

impl std::fmt::Debug for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evidence")
            .field("scenario", &self.scenario.name)
            .finish_non_exhaustive()
    }
}

impl Claim {
    /// The claim resting on this run ([`check`] names its folder once the id is final).
    fn with_run(mut self, scenario: &Scenario, finished: Arc<Finished>) -> Self {
        self.evidence = Some(Box::new(Evidence {
            scenario: scenario.clone(),
            finished,
        }));
        self
    }
}

/// `claims.json`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Claims {
    /// Schema version.
    pub schema: u32,
    /// What the page is titled.
    pub title: String,
    /// What every row shares.
    pub numbers: String,
    /// Wall seconds it took.
    pub wall_s: f64,
    /// The claims.
    pub claims: Vec<Claim>,
    /// The seeds' real apps beside their presets (`claims --apps`); absent for a claims
    /// file's claims, which have no seed apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<AppRows>,
}

/// Runs claims' scenarios, each distinct scenario once: rows judged on the same run share it.
#[derive(Default)]
struct Runs {
    done: HashMap<String, Arc<Finished>>,
}

impl Runs {
    /// The run of `scenario` (simulated runs are deterministic: one run serves every row).
    fn of(&mut self, scenario: &Scenario) -> anyhow::Result<Arc<Finished>> {
        let key = format!("{}/{:?}", scenario.hash(), scenario.mode);
        if let Some(done) = self.done.get(&key) {
            return Ok(done.clone());
        }
        let finished = Arc::new(crate::run::run(
            scenario,
            crate::run::RunOptions::default(),
            &crate::drive::driver::NoProgress,
        )?);
        self.done.insert(key, finished.clone());
        Ok(finished)
    }

    /// Each spec checked on its run, `progress` told each claim as it starts.
    fn check(
        &mut self,
        specs: &[ClaimSpec],
        progress: &mut dyn FnMut(&str),
    ) -> anyhow::Result<Vec<Claim>> {
        let mut claims = Vec::with_capacity(specs.len());
        for spec in specs {
            progress(&spec.claim);
            claims.push(spec.judge(self.of(&spec.scenario)?));
        }
        Ok(claims)
    }
}

/// What `keyrotor claims` checks beside the seeds' claims.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// Run each seed's real app beside its preset (see [`AppOptions`]).
    pub apps: Option<&'a AppOptions>,
    /// Check "5 keys give 5×" on Gemini, OpenRouter and Cerebras too, on the mock speaking
    /// each (rows `capacity-5x-{separate,shared}-<provider>`).
    pub providers: bool,
}

/// Checks every claim on the seeds' date, then the seeds' configuration on `today`'s
/// catalog, then the claims again on `today` with Groq's recommended model (ids ending in
/// `-today`); then what `extras` asks for: "5×" on the other providers, the seeds' real
/// apps. `progress` is told each claim as it starts.
///
/// ```no_run
/// use keyrotor::studies::claims::{Extras, check};
/// let today = mock_groq::catalog::current().reviewed;
/// let extras = Extras { providers: true, ..Extras::default() };
/// let claims = check(today, extras, &mut |step: &str| eprintln!("{step}"))?;
/// println!("{}", claims.markdown());
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn check(
    today: jiff::civil::Date,
    extras: Extras<'_>,
    progress: &mut (dyn FnMut(&str) + Send),
) -> anyhow::Result<Claims> {
    let wall = std::time::Instant::now();
    let eras = [seeds::Era::seeds(today), seeds::Era::today(today)];
    let jobs = Job::all(&eras, extras.providers);
    // Each step says how far along the check is and, once each kind of step has been
    // timed, how long the rest will take: "12 of 64: … (about 2 min left)".
    let mut steps = [0; 3];
    for job in &jobs {
        let (kind, n) = job.steps()?;
        steps[kind.index()] += n;
    }
    let total: usize = steps.iter().sum();
    let mut eta = eta::Eta::new(steps[0], steps[1], steps[2]);
    let then = if extras.apps.is_some() {
        ", then the apps"
    } else {
        ""
    };
    let mut done = 0;
    let step = std::sync::Mutex::new(|kind: eta::Kind, what: &str| {
        done += 1;
        let left = eta
            .start(kind, std::time::Instant::now())
            .map(|left| format!(" ({}{then})", eta::said(left)))
            .unwrap_or_default();
        progress(&format!("{} of {total}: {what}{left}", done.min(total)));
    });
    // The jobs side by side, one per core, the longest first so that none is left alone at
    // the end; the rows in the jobs' order, whatever the threads.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|a, b| jobs[*b].weight().total_cmp(&jobs[*a].weight()));
    let found = crate::studies::parallel::parallel(&order, |i| {
        let job = &jobs[*i];
        job.run(&mut |what: &str| {
            if let Ok(mut step) = step.lock() {
                step(job.kind(), what);
            }
        })
    })?;
    let mut rows: Vec<Vec<Claim>> = jobs.iter().map(|_| Vec::new()).collect();
    for (i, found) in order.into_iter().zip(found) {
        rows[i] = found;
    }
    let claims = rows.into_iter().flatten().collect();
    let apps = match extras.apps {
        Some(options) => apps::check(options, today, progress)?,
        None => AppRows::default(),
    };
    Ok(Claims::of(
        "The seeds' claims, measured",
        "simulated time against the embedded mock (its latency model: 30 ms edge, 20 ms mean queue, Groq's published output speeds); Poisson arrivals; users wait 5 s for an answer (goodput counts answers within it, from the intended send); each row names its catalog day, model, limits, keys, policy, traffic and request cost",
        wall,
        claims,
        Some(apps),
    ))
}

/// A part of the seeds' claims checked on its own: its rows depend on no other part's.
enum Job<'a> {
    /// The capacity searches of an era under one set of limits.
    Capacity(&'a seeds::Era, seeds::Limits),
    /// The seeds' single-run claims of an era (rows judged on the same run share it).
    Seeds(&'a seeds::Era),
    /// One sizing row of an era under one set of limits (by index): each a simulated day,
    /// some of hundreds of thousands of requests, so each its own part.
    Sized(&'a seeds::Era, seeds::Limits, usize),
    /// "5×" on the other providers.
    Providers(&'a seeds::Era),
}

impl<'a> Job<'a> {
    /// Every part, in the order the rows are listed: per era its capacities, its seeds'
    /// rows, its sizings; then the providers' rows (with `providers`).
    fn all(eras: &'a [seeds::Era; 2], providers: bool) -> Vec<Job<'a>> {
        let mut jobs = Vec::new();
        for era in eras {
            jobs.extend(era.limit_sets().iter().map(|l| Job::Capacity(era, *l)));
            jobs.push(Job::Seeds(era));
            for limits in era.limit_sets() {
                jobs.extend((0..searches::sizing_rows()).map(|i| Job::Sized(era, *limits, i)));
            }
        }
        if providers {
            jobs.push(Job::Providers(&eras[1]));
        }
        jobs
    }

    /// The kind of its steps, for the estimate of time left.
    fn kind(&self) -> eta::Kind {
        match self {
            Job::Capacity(..) | Job::Providers(_) => eta::Kind::Capacity,
            Job::Seeds(_) => eta::Kind::Seed,
            Job::Sized(..) => eta::Kind::Sizing,
        }
    }

    /// Which part goes first: a sizing row by the requests of its day (the longest parts),
    /// every other part after them, in row order (a stable sort keeps it).
    fn weight(&self) -> f64 {
        match self {
            Job::Sized(_, _, i) => searches::sizing_requests(*i),
            _ => 0.0,
        }
    }

    /// Its kind and how many rows (steps) it checks.
    fn steps(&self) -> anyhow::Result<(eta::Kind, usize)> {
        let n = match self {
            Job::Capacity(_, limits) => searches::capacity_rows(*limits),
            Job::Seeds(era) => seeds::table(era)?.len(),
            Job::Sized(..) => 1,
            Job::Providers(_) => providers::rows(),
        };
        Ok((self.kind(), n))
    }

    /// Its rows; `step` is told each as it starts.
    fn run(&self, step: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Claim>> {
        match self {
            Job::Capacity(era, limits) => searches::capacity(era, *limits, step),
            Job::Seeds(era) => Runs::default()
                .check(&seeds::table(era)?, step)?
                .into_iter()
                .map(seeds::explain)
                .collect(),
            Job::Sized(era, limits, i) => Ok(vec![searches::sized_row(era, *limits, *i, step)?]),
            Job::Providers(era) => providers::capacity(era, step),
        }
    }
}

/// Checks the claims of a claims file ([`ClaimsFile`]), in file order; `progress` is told
/// each claim as it starts.
pub fn check_file(file: &ClaimsFile, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Claims> {
    let wall = std::time::Instant::now();
    let claims = Runs::default().check(&file.claims, progress)?;
    Ok(Claims::of(
        &file.title,
        "each row's run is its own scenario, named in the claims file; goodput counts answers within the scenario's latency budget, from the intended send; each row names its catalog day, model, limits, keys, policy, traffic and request cost",
        wall,
        claims,
        None,
    ))
}

impl Claims {
    /// The claims, each row that rests on one run given its folder (`runs/<id>`).
    fn of(
        title: &str,
        numbers: &str,
        wall: std::time::Instant,
        mut claims: Vec<Claim>,
        apps: Option<AppRows>,
    ) -> Self {
        for claim in &mut claims {
            claim.run = claim
                .evidence
                .as_ref()
                .map(|_| format!("runs/{}", claim.id));
        }
        Claims {
            schema: crate::measure::report::SCHEMA,
            title: title.to_owned(),
            numbers: numbers.to_owned(),
            wall_s: wall.elapsed().as_secs_f64(),
            claims,
            apps,
        }
    }

    /// How many claims have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.claims.iter().filter(|c| c.verdict == verdict).count()
    }
}

/// `text` cut to at most `max` characters, with `…` where it was cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "no data".to_owned(), |x| format!("{:.2} %", x * 100.0))
}

/// The catalog's day of a scenario, in words.
fn day(scenario: &Scenario) -> String {
    let as_of = scenario.target.as_of();
    if as_of == mock_groq::catalog::SEEDS_DATE {
        format!("{as_of} (the seeds' date)")
    } else {
        as_of.to_string()
    }
}

/// What one request of `scenario` costs: reserved at admission, and settled on average when
/// measured.
fn request_cost(scenario: &Scenario, settled: Option<f64>) -> String {
    let t = &scenario.traffic;
    let (prompt, max_tokens) = (
        t.prompt_tokens.mean().round() as u64,
        t.completion_tokens.mean().round() as u64,
    );
    let reserved = prompt.saturating_add(max_tokens);
    match settled {
        Some(t) => format!(
            "a request: {prompt} prompt + max_tokens {max_tokens} = {reserved} tokens reserved, {t:.0} settled on average (measured)"
        ),
        None => format!(
            "a request: {prompt} prompt + max_tokens {max_tokens} = {reserved} tokens reserved, about {} settled (completions use 25–100 % of max_tokens)",
            prompt.saturating_add(max_tokens * 5 / 8)
        ),
    }
}

/// The network condition, in words.
fn network(rtt: std::time::Duration) -> String {
    format!("{} ms round trip per attempt", rtt.as_millis())
}

/// The traffic of `scenario` in words: arrivals and rate, span, mode, events, replicas.
fn traffic_words(scenario: &Scenario) -> String {
    let t = &scenario.traffic;
    let mut words = match &t.shape {
        Shape::Poisson { rate } => format!("Poisson {} req/min", rate.0),
        Shape::Constant { rate } => format!("constant {} req/min", rate.0),
        Shape::Ramp { rate, peak } => format!("a ramp from {} to {} req/min", rate.0, peak.0),
        Shape::Step {
            rate,
            peak,
            change_at,
        } => format!(
            "{} req/min, then {} from {}",
            rate.0,
            peak.0,
            span(*change_at)
        ),
        Shape::Spike {
            rate,
            peak,
            change_at,
            spike_for,
        } => format!(
            "{} req/min with a spike to {} from {} for {}",
            rate.0,
            peak.0,
            span(*change_at),
            span(*spike_for)
        ),
        Shape::Profile { rate, .. } => {
            format!("Poisson averaging {} req/min, shaped by a profile", rate.0)
        }
        Shape::Trace(_) => t.describe(),
        Shape::Closed { users, think } => {
            format!(
                "a closed loop of {} users thinking {}",
                users.0,
                span(*think)
            )
        }
    };
    match (t.duration, t.requests) {
        (Some(d), Some(n)) => words.push_str(&format!(" for {} or {} requests", span(d), n.0)),
        (Some(d), None) => words.push_str(&format!(" for {}", span(d))),
        (None, Some(n)) => words.push_str(&format!(" for {} requests", n.0)),
        (None, None) => {}
    }
    words.push_str(match scenario.mode {
        crate::spec::scenario::Mode::Sim => " (simulated time)",
        crate::spec::scenario::Mode::Real => " (real time)",
    });
    for event in scenario.target.events() {
        words.push_str(&match event {
            TargetEvent::RevokeKey { at, key } => format!("; key {key} revoked at {}", span(*at)),
            TargetEvent::ExhaustDaily { at, org: None } => {
                format!("; every daily quota spent at {}", span(*at))
            }
            TargetEvent::ExhaustDaily { at, org: Some(o) } => {
                format!("; organisation {o}'s daily quota spent at {}", span(*at))
            }
        });
    }
    let e = &scenario.engine;
    if e.replicas > 1 || e.cold_start.is_some() {
        words.push_str(&format!("; over {} replicas", e.replicas));
    }
    words
}

/// The conditions of a run of `scenario` that produced `report`; `traffic` in words where
/// the scenario alone does not say enough.
fn conditions(scenario: &Scenario, report: &Report, traffic: Option<String>) -> Conditions {
    let s = &report.summary;
    let settled = (s.succeeded > 0).then(|| s.tokens as f64 / s.succeeded as f64);
    let limits = &report.setup.limits;
    Conditions {
        as_of: day(scenario),
        limits: format!("{}: {}", limits.source, limits.limits),
        model: scenario.target.model.clone(),
        keys: format!(
            "{} keys in {} organisations",
            report.setup.keys, report.setup.orgs
        ),
        policy: report.setup.policy.clone(),
        traffic: traffic.unwrap_or_else(|| traffic_words(scenario)),
        request: request_cost(scenario, settled),
        network: network(scenario.target.rtt()),
    }
}

impl Claims {
    /// claims.md: the answers, the matrices, the evidence, the seeds' real code.
    pub fn markdown(&self) -> String {
        crate::measure::document::markdown(&self.blocks())
    }

    /// The claims as document blocks (claims.md and claims.html): the tally first, coloured
    /// by the worst verdict, then each distinct claim's answer (the condition deciding it,
    /// with the measured figures), its rows over the conditions that vary, the evidence
    /// folded, and the seeds' real code.
    pub fn blocks(&self) -> Vec<Block> {
        let (holds, fails, open) = (
            self.count(Verdict::Holds),
            self.count(Verdict::Fails),
            self.count(Verdict::Inconclusive),
        );
        let tone = match (fails, open) {
            (0, 0) if holds > 0 => Tone::Pass,
            (0, _) => Tone::Inconclusive,
            _ => Tone::Fail,
        };
        let mut blocks = vec![
            Block::Heading(1, self.title.clone()),
            Block::Verdict(tone, self.tally()),
            Block::Paragraph(format!("All rows: {}.", self.numbers)),
        ];
        blocks.extend(self.answer_blocks());
        if let Some(apps) = &self.apps {
            blocks.extend(apps.blocks());
        }
        blocks
    }
}
