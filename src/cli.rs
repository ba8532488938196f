//! The `keyrotor` command line: parses arguments and calls the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::engine::PolicyConfig;
use crate::output::live::Activity;
use crate::run::{RunOptions, quota_statement, run};
use crate::spec::scenario::{Mode, Scenario};

/// Exit code when a run's thresholds are not met or `compare` finds a regression (distinct
/// from 1, an error, and 2, a usage error).
pub const EXIT_THRESHOLDS: u8 = 3;
/// Exit code of a run stopped before its end by SIGINT, SIGTERM or SIGHUP: its reports are
/// written and marked incomplete, and no verdict is given.
pub const EXIT_INCOMPLETE: u8 = 4;
/// Exit code of `claims --file` when no claim fails but some are inconclusive (too few
/// samples, or no data): not a pass.
pub const EXIT_INCONCLUSIVE: u8 = 5;

/// keyrotor — settles by measurement how well multi-key API rotation works.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the seed documents' claims against the embedded mock (simulated time), or your
    /// own claims with --file, and write claims.json, claims.md and claims.html, and under
    /// runs/ the run each row rests on (its scenario.toml replays it with `keyrotor run`).
    /// With --file, exit codes are for CI: 0 every claim holds, 3 one fails, 5 none fails
    /// but one is inconclusive (a rule met on too few samples, or no data), 1 an error.
    Claims(ClaimsArgs),
    /// Run one scenario and write its reports: from a file, from flags alone (`keyrotor run
    /// --keys 5 --rate 150/min -z 10m`), or a file with flags over it. Exit codes: 0 passed,
    /// 1 error (reports marked failed after a panic), 3 a threshold failed, 4 interrupted by
    /// SIGINT/SIGTERM/SIGHUP.
    Run(RunArgs),
    /// Find the capacity (highest offered rate meeting the goodput objective) per key count.
    Sweep(SweepArgs),
    /// Compare two reports (report.json or sweep.json, or their folders) under thresholds;
    /// exit code 3 on a regression, 1 on an error.
    Compare {
        /// The baseline report.
        baseline: PathBuf,
        /// The current report.
        current: PathBuf,
        /// A rule: `METRIC -5%` (may fall at most 5 %), `METRIC +10%` (may rise at most 10 %)
        /// or `METRIC >= 0.999`, with the metric names scenario thresholds use
        /// (success_rate, goodput_rate, throughput_rps, latency_p50_ms … latency_max_ms,
        /// failover_p50_ms, failover_p99_ms, failover_max_ms, upstream_429, offered).
        /// Repeatable. Default: success_rate -0.1%, throughput_rps -5%, latency_p99_ms +10%,
        /// failover_p99_ms +10%. Sweeps: capacity_<keys> (capacity_<keys>_r<N> for N replicas).
        #[arg(long = "threshold", value_name = "RULE")]
        thresholds: Vec<String>,
        /// Compare even when the two differ in schema, scenario, settings or mode, or one is
        /// of an interrupted or failed run (refused otherwise, exit code 1).
        #[arg(long)]
        allow_mismatch: bool,
        /// Print the comparison as JSON on stdout (`{"pass": …, "rows": [{metric, baseline,
        /// current, rule, pass}]}`) instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Size the keys for an event: analytical bound per limit, simulated minimum per policy.
    Plan(Box<PlanArgs>),
    /// List the rotation policies: which seed each reproduces, what it does, its parameters.
    Policies {
        /// Print the presets and their default parameters as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the Groq mock on a socket (prints its URL, serves until SIGINT, SIGTERM or SIGHUP, then finishes requests in flight).
    Mock(mock_groq::MockArgs),
    /// Put the rotation engine in front of any app: serves Groq's OpenAI-compatible chat
    /// API on a socket (prints its URL) and sends each request through the keys of the
    /// environment or --keys-file, failing over per --policy. The app changes only its base
    /// URL (`http://IP:PORT`, or `…/openai/v1` for OpenAI SDKs). Also /health, /status,
    /// /metrics. Drains requests in flight on SIGINT, SIGTERM or SIGHUP.
    Proxy(keyrotor_proxy::ProxyArgs),
    /// Print a shell completion script, e.g. `keyrotor completions bash >
    /// ~/.local/share/bash-completion/completions/keyrotor`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print keyrotor's man page (roff), e.g. `keyrotor man > keyrotor.1 && man ./keyrotor.1`.
    Man,
    /// Print the JSON Schema of report.json (or sweep, plan, claims), generated from the
    /// types; `--write DIR` writes all four (`schemas/` holds the committed ones).
    Schema {
        /// Which document's schema to print.
        #[arg(value_parser = ["report", "sweep", "plan", "claims"], default_value = "report")]
        document: String,
        /// Write every schema into this folder as `<document>.schema.json` instead.
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
}

/// Options of `keyrotor claims`.
#[derive(Debug, clap::Args)]
pub struct ClaimsArgs {
    /// Your claims instead of the seeds': a TOML file of [[claim]] tables, each with id,
    /// claim, source, scenario_file (relative to the file) or an inline [claim.scenario],
    /// metric (a threshold name, e.g. goodput_rate), rule (e.g. ">= 0.999") and
    /// min_samples (a rule met on fewer samples is inconclusive; a rule broken fails). See
    /// scenarios/claims/example.toml.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["as_of", "apps"])]
    pub file: Option<PathBuf>,
    /// Output folder (default reports/claims-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON on stdout (what the .json file holds) instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// "Today" for the rows that check the seeds' configuration on today's catalog
    /// (YYYY-MM-DD; default today). The seeds' own rows use their date, 2025-12-24.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
    /// Also run each seed's real app (examples/seed-apps/, Node and Python) beside the
    /// preset that re-creates it, in real time: about 6 × the span. Apps this machine
    /// cannot run are skipped, and the report says why.
    #[arg(long)]
    pub apps: bool,
    /// The seed-apps folder (seed 001 needs `npm ci` run in it).
    #[arg(
        long,
        value_name = "DIR",
        default_value_os_t = crate::drive::seed_apps::default_dir(),
        requires = "apps"
    )]
    pub apps_dir: PathBuf,
    /// How long each app run's traffic lasts, in real time (10s to 10m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime_serde::re::humantime::parse_duration, requires = "apps")]
    pub apps_span: std::time::Duration,
}

/// Options of `keyrotor run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (see scenarios/); without it, the flags describe the run
    /// (default: 1 key, Poisson 60 req/min for 1 minute, simulated).
    pub scenario: Option<PathBuf>,
    /// What to run, over the file's settings.
    #[command(flatten)]
    pub flags: crate::spec::flags::ScenarioFlags,
    /// Output folder (default reports/<scenario>-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON on stdout (what the .json file holds) instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Serve the run's live figures for Prometheus at http://ADDR/metrics while it runs
    /// (e.g. 127.0.0.1:9464; port 0 picks one, printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Also write one CSV row per request (requests.csv).
    #[arg(long)]
    pub requests_csv: bool,
    /// Force simulated time (in-process mock, paused clock).
    #[arg(long, conflicts_with = "real")]
    pub sim: bool,
    /// Force real time (the mock over loopback HTTP, or the scenario's URL).
    #[arg(long)]
    pub real: bool,
    /// Override the policy, e.g. `cooldown:cooldown=30s` (see `keyrotor policies`).
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
    /// The day whose Groq catalog applies (YYYY-MM-DD): which models exist, their
    /// limits. Overrides the scenario's `as_of`; default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

/// Options of `keyrotor sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Key counts to sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,3,5,10")]
    pub keys: Vec<usize>,
    /// Replica counts to sweep, each at every key count (default: the scenario's own),
    /// e.g. 1,2,4,8; the scenario's `[engine]` state and cold starts apply to each.
    #[arg(long, value_delimiter = ',', value_name = "N,…")]
    pub replicas: Vec<u32>,
    /// Goodput objective: the share of requests answered within the scenario's
    /// `latency_budget`.
    #[arg(long, default_value_t = 0.99)]
    pub objective: f64,
    /// Output folder (default reports/<scenario>-sweep-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON on stdout (what the .json file holds) instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Force simulated time (the scenario's `mode` otherwise).
    #[arg(long)]
    pub sim: bool,
    /// The day whose Groq catalog applies (YYYY-MM-DD); overrides the scenario's
    /// `as_of`; default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

/// Options of `keyrotor plan` (or a TOML file with the same names, `--file`).
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Read the event from a TOML file (fields as the flags, with underscores). The event's
    /// flags cannot be given with it (refused, not ignored); --json and -o can.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "users", "queries", "duration", "peak_factor", "profile", "profile_step",
        "prompt_tokens", "completion_tokens", "model", "as_of", "tier", "rpm", "rpd", "tpm",
        "tpd", "layout", "objective", "latency_budget", "max_p99_ms", "max_wait_ms", "policy",
        "max_keys", "analytical_only", "steady", "confidence", "seeds",
    ])]
    pub file: Option<PathBuf>,
    /// Users.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Queries per user over the event.
    #[arg(long, default_value_t = 10.0)]
    pub queries: f64,
    /// Event length, e.g. 8h, 1d.
    #[arg(long, default_value = "24h")]
    pub duration: humantime_serde::re::humantime::Duration,
    /// The busiest hour carries this many times the average (1 = flat).
    #[arg(long, default_value_t = 1.0)]
    pub peak_factor: f64,
    /// Relative load per step, e.g. 1,1,2,4,2,1 (overrides --peak-factor; repeats after
    /// the last).
    #[arg(long, value_delimiter = ',')]
    pub profile: Vec<f64>,
    /// How long each --profile weight lasts: a divisor of an hour (10m for a keynote's
    /// spike, 1m for waves of users) or whole hours dividing a day.
    #[arg(long, default_value = "1h")]
    pub profile_step: humantime_serde::re::humantime::Duration,
    /// Prompt tokens per query.
    #[arg(long, default_value_t = 200)]
    pub prompt_tokens: u64,
    /// Completion tokens per query.
    #[arg(long, default_value_t = 200)]
    pub completion_tokens: u64,
    /// Model from the catalog (Groq's recommended one by default).
    #[arg(long, default_value = mock_groq::catalog::RECOMMENDED)]
    pub model: String,
    /// The day whose Groq catalog applies (YYYY-MM-DD): which models exist and their
    /// limits; default today.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
    /// free or developer.
    #[arg(long, default_value = "free")]
    pub tier: String,
    /// Explicit requests per minute per organisation (0 = unlimited).
    #[arg(long)]
    pub rpm: Option<u64>,
    /// Explicit requests per day.
    #[arg(long)]
    pub rpd: Option<u64>,
    /// Explicit tokens per minute.
    #[arg(long)]
    pub tpm: Option<u64>,
    /// Explicit tokens per day.
    #[arg(long)]
    pub tpd: Option<u64>,
    /// separate (a key per organisation) or shared (all keys in one).
    #[arg(long, default_value = "separate")]
    pub layout: String,
    /// Goodput objective: the share of requests answered within --latency-budget.
    #[arg(long, default_value_t = 0.99)]
    pub objective: f64,
    /// How long a user waits for an answer, e.g. 5s, 2s.
    #[arg(long, default_value = "5s")]
    pub latency_budget: humantime_serde::re::humantime::Duration,
    /// Objective on the p99 latency of answered requests, ms.
    #[arg(long, value_name = "MS")]
    pub max_p99_ms: Option<f64>,
    /// Objective on the longest any answered user waited, ms.
    #[arg(long, value_name = "MS")]
    pub max_wait_ms: Option<f64>,
    /// Policy to size for.
    #[arg(long, default_value = "adaptive")]
    pub policy: String,
    /// Largest key count to simulate.
    #[arg(long, default_value_t = 128)]
    pub max_keys: usize,
    /// Only the analytical bound (no simulation).
    #[arg(long)]
    pub analytical_only: bool,
    /// The traffic goes on day after day ("N users every hour"): keys start in steady state,
    /// not with full budgets.
    #[arg(long)]
    pub steady: bool,
    /// Recommend the smallest key count whose simulated event meets the objective under at
    /// least this share of seeds, in (0, 1].
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Seeds simulated per key count around the answer, 0 to 1000 (0: one seed, no
    /// confidence figure).
    #[arg(long, default_value_t = 20)]
    pub seeds: usize,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Output folder for plan.json, plan.md and report.html (default reports/plan-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl PlanArgs {
    fn input(&self) -> anyhow::Result<crate::studies::plan::PlanInput> {
        if let Some(file) = &self.file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            return toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("invalid plan file {}: {e}", file.display()));
        }
        let tier = match self.tier.as_str() {
            "free" => mock_groq::catalog::Tier::Free,
            "developer" => mock_groq::catalog::Tier::Developer,
            other => anyhow::bail!("--tier is free or developer, not `{other}`"),
        };
        let layout = match self.layout.as_str() {
            "separate" => crate::spec::scenario::Layout::Separate,
            "shared" => crate::spec::scenario::Layout::Shared,
            other => anyhow::bail!("--layout is separate or shared, not `{other}`"),
        };
        let explicit = [self.rpm, self.rpd, self.tpm, self.tpd]
            .iter()
            .any(Option::is_some);
        Ok(crate::studies::plan::PlanInput {
            users: self.users,
            queries_per_user: self.queries,
            duration: self.duration.into(),
            peak_factor: self.peak_factor,
            profile: self.profile.clone(),
            profile_step: self.profile_step.into(),
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            model: self.model.clone(),
            as_of: self.as_of,
            tier,
            limits: explicit.then_some(mock_groq::config::LimitsOverride {
                rpm: self.rpm,
                rpd: self.rpd,
                tpm: self.tpm,
                tpd: self.tpd,
            }),
            layout,
            objective: self.objective,
            latency_budget: self.latency_budget.into(),
            max_p99_ms: self.max_p99_ms,
            max_wait_ms: self.max_wait_ms,
            policy: self.policy.parse()?,
            seed: 0,
            max_keys: self.max_keys,
            analytical_only: self.analytical_only,
            steady: self.steady,
            confidence: self.confidence,
            seeds: self.seeds,
        })
    }
}

fn plan_command(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let input = args.input()?;
    let dir = args.out.clone().unwrap_or_else(|| default_dir("plan"));
    crate::output::artifacts::prepare(&dir)?;
    let activity = Activity::new(show_progress() && !args.json, false);
    activity.say("planning: the analytical bounds, then simulated events per policy");
    let mut progress = |policy: &str, keys: usize, success: f64| {
        activity.say(&format!(
            "planning: {policy}, {keys} keys → {:.2} % of requests met the objective",
            success * 100.0
        ));
    };
    let plan = crate::studies::plan::plan(input, &mut progress);
    activity.finish();
    let plan = plan?;
    crate::output::artifacts::plan(&dir, &plan)?;
    show(args.json, &plan, &plan.markdown(), &dir)?;
    Ok(ExitCode::SUCCESS)
}

/// What a command prints when done: with `json`, `value` as JSON on stdout (what it wrote
/// to its `.json` file); else `text` (its answer), and where the reports are.
fn show(json: bool, value: &impl serde::Serialize, text: &str, dir: &Path) -> anyhow::Result<()> {
    if json {
        print_out(serde_json::to_string_pretty(value)? + "\n")
    } else {
        print_out(format!("{text}\nReports in {}\n", dir.display()))
    }
}

/// Writes `text` on standard output. A reader that has gone (a closed pipe: `| head -2`)
/// ends the printing quietly, not the command: what it wrote to files stands, and its exit
/// code is still its verdict's.
pub fn print_out(text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_ref()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Runs a parsed command line.
pub fn run_cli(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Mock(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(mock_groq::run(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Proxy(args) => {
            keyrotor_proxy::main(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "keyrotor", &mut script);
            print_out(script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            print_out(page)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { document, write } => {
            schema_command(&document, write.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policies { json } => {
            print_out(policies(json)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => run_command(args),
        Command::Sweep(args) => sweep_command(args),
        Command::Claims(args) => claims_command(args),
        Command::Plan(args) => plan_command(&args),
        Command::Compare {
            baseline,
            current,
            thresholds,
            allow_mismatch,
            json,
        } => compare_command(&baseline, &current, &thresholds, allow_mismatch, json),
    }
}

/// `keyrotor schema`: writes every schema into `write`, or prints the one named `document`.
fn schema_command(document: &str, write: Option<&Path>) -> anyhow::Result<()> {
    match write {
        Some(dir) => {
            for path in crate::output::schema::write(dir)? {
                eprintln!("wrote {path}");
            }
        }
        None => {
            let schemas = crate::output::schema::all();
            let (_, schema) = schemas
                .iter()
                .find(|(name, _)| *name == document)
                .ok_or_else(|| anyhow::anyhow!("no schema named {document}"))?;
            print_out(crate::output::schema::text(schema)?)?;
        }
    }
    Ok(())
}

/// `keyrotor compare`: the current report against the baseline under the thresholds (the
/// defaults when there are none); exits [`EXIT_THRESHOLDS`] when one fails.
fn compare_command(
    baseline: &Path,
    current: &Path,
    thresholds: &[String],
    allow_mismatch: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let rules = if thresholds.is_empty() {
        crate::studies::compare::default_rules()
    } else {
        thresholds
            .iter()
            .map(|t| {
                t.parse()
                    .map_err(|e: String| anyhow::anyhow!("bad --threshold {e}"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let (baseline, current) = (
        crate::studies::compare::load(baseline)?,
        crate::studies::compare::load(current)?,
    );
    let why = crate::studies::compare::mismatches(&baseline, &current);
    if !why.is_empty() {
        let why = why.join("\n  ");
        if !allow_mismatch {
            anyhow::bail!(
                "these two are not comparable:\n  {why}\n(--allow-mismatch compares them anyway)"
            );
        }
        eprintln!("warning: comparing anyway (--allow-mismatch):\n  {why}");
    }
    let rows = crate::studies::compare::compare(&baseline, &current, &rules)?;
    let pass = rows.iter().all(|r| r.pass);
    if json {
        let summary = serde_json::json!({ "pass": pass, "rows": rows });
        print_out(serde_json::to_string_pretty(&summary)? + "\n")?;
    } else {
        print_out(crate::studies::compare::table(&rows))?;
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_THRESHOLDS)
    })
}

/// Flags that override a scenario file.
#[derive(Default)]
struct Overrides {
    sim: bool,
    real: bool,
    policy: Option<String>,
    as_of: Option<jiff::civil::Date>,
    scenario: crate::spec::flags::ScenarioFlags,
}

/// Reads a scenario file (or starts from the flags-only base without one), applies the flags
/// that override it and then checks the result, so a flag can make a file valid (`--real`
/// over `state = "redis"`). A run from a file changed by flags is renamed for them
/// (`keys-1+keys=3`), its description says so. Warns when Groq no longer serves (or does not
/// yet serve) its model on the catalog's day.
fn load_scenario(path: Option<&Path>, flags: Overrides) -> anyhow::Result<Scenario> {
    let (base, text) = match path {
        Some(path) => {
            let (scenario, text) = Scenario::read_unchecked(path)?;
            (scenario.to_builder(), Some(text))
        }
        None => (crate::spec::flags::ScenarioFlags::base(), None),
    };
    let source = path.map_or_else(
        || "given by the flags".to_owned(),
        |p| p.display().to_string(),
    );
    let mut given = flags.scenario.given();
    given.extend(flags.policy.as_ref().map(|p| format!("policy={p}")));
    given.extend(flags.as_of.map(|d| format!("as-of={d}")));
    let mut b = flags
        .scenario
        .apply(base)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if flags.sim {
        b = b.mode(Mode::Sim);
    }
    if flags.real {
        b = b.mode(Mode::Real);
    }
    if let Some(policy) = flags.policy {
        b = b.policy(policy.parse()?);
    }
    if let Some(day) = flags.as_of {
        b = b.as_of(day);
    }
    if path.is_some() && !given.is_empty() {
        let (name, description) = (&b.scenario().name, &b.scenario().description);
        let renamed = format!("{name}+{}", given.join("+"));
        let said = format!(
            "{description} (changed by flags: --{})",
            given.join(", --").replace('=', " ")
        );
        b = b.name(&renamed).description(said.trim_start());
    }
    let scenario = b.build().map_err(|e| match &text {
        Some(text) => anyhow::anyhow!(
            "invalid scenario {source}: {}",
            crate::spec::scenario::at_line(text, &e)
        ),
        None => anyhow::anyhow!("invalid scenario {source}: {e}"),
    })?;
    let status = scenario.target.model_status();
    if status != "served" {
        eprintln!(
            "warning: model {} is {status} as of {}: Groq answers every request naming it 404 model_not_found, and so does the mock. Running anyway, as an app still naming it would.",
            scenario.target.model,
            scenario.target.as_of()
        );
    }
    Ok(scenario)
}

/// `keyrotor run`: one scenario, its reports, and the exit code its verdict gives.
fn run_command(args: RunArgs) -> anyhow::Result<ExitCode> {
    let RunArgs {
        scenario: path,
        flags,
        out,
        json,
        metrics_listen,
        requests_csv,
        sim,
        real,
        policy,
        as_of,
    } = args;
    let flags = Overrides {
        sim,
        real,
        policy,
        as_of,
        scenario: flags,
    };
    let scenario = load_scenario(path.as_deref(), flags)?;
    // Checked before anything is sent: a finished real run must not be lost to it.
    let dir = out.unwrap_or_else(|| default_dir(&scenario.name));
    crate::output::artifacts::prepare(&dir)?;
    if scenario.target.url().is_some() {
        eprintln!("{}", quota_statement(&scenario));
    }
    let options = RunOptions {
        requests_csv: requests_csv.then(|| dir.join("requests.csv")),
        interrupt: Some(interrupt_watch()),
        give_up_after: None,
        app_log: scenario.target.app().map(|_| dir.join("app.log")),
    };
    let mut progress = crate::output::live::LiveView::new(
        scenario.traffic.duration,
        show_progress(),
        scenario.mode == Mode::Sim,
    );
    if let Some(addr) = metrics_listen {
        let latest = crate::output::live::metrics::Latest::default();
        let bound = crate::output::live::metrics::serve(addr, latest.clone())?;
        eprintln!("metrics: http://{bound}/metrics");
        progress = progress.with_metrics(latest);
    }
    let finished = run(&scenario, options, &progress)?;
    progress.clear();
    crate::output::artifacts::run(&dir, &scenario, &finished)?;
    show(json, &finished.report, &finished.report.markdown(), &dir)?;
    Ok(run_exit_code(&finished.report))
}

/// A run's exit code: 1 when it failed inside keyrotor, [`EXIT_INCOMPLETE`] when
/// interrupted, [`EXIT_THRESHOLDS`] when a threshold failed, else 0.
fn run_exit_code(report: &crate::measure::report::Report) -> ExitCode {
    if let Some(error) = &report.error {
        eprintln!("error: {error}; the reports are marked failed");
        ExitCode::FAILURE
    } else if report.incomplete {
        eprintln!("incomplete: the run was interrupted; no verdict");
        ExitCode::from(EXIT_INCOMPLETE)
    } else if report.passed() {
        ExitCode::SUCCESS
    } else {
        eprintln!("thresholds not met");
        ExitCode::from(EXIT_THRESHOLDS)
    }
}

/// `keyrotor sweep`: the capacity at each key (and replica) count, and its reports.
fn sweep_command(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let SweepArgs {
        scenario: path,
        keys,
        replicas,
        objective,
        out,
        json,
        sim,
        as_of,
    } = args;
    let flags = Overrides {
        sim,
        as_of,
        ..Overrides::default()
    };
    let (keys, replicas) = (keys.as_slice(), replicas.as_slice());
    let scenario = load_scenario(Some(&path), flags)?;
    anyhow::ensure!(
        !keys.is_empty() && keys.iter().all(|k| *k >= 1),
        "--keys needs key counts ≥ 1, e.g. 1,3,5,10"
    );
    anyhow::ensure!(
        replicas
            .iter()
            .all(|r| (1..=crate::spec::scenario::MAX_REPLICAS).contains(r)),
        "--replicas needs counts from 1 to {}, e.g. 1,2,4,8",
        crate::spec::scenario::MAX_REPLICAS
    );
    anyhow::ensure!(
        objective > 0.0 && objective <= 1.0,
        "--objective is a success rate in (0, 1], e.g. 0.99"
    );
    // A sweep searches rates by running the scenario again and again, doubling the rate:
    // its spend has no bound a scenario states, so it never goes to a real endpoint.
    anyhow::ensure!(
        scenario.target.url().is_none(),
        "sweep runs only against the embedded mock: its search sends the scenario many times at rising rates, which a real endpoint's quota would pay for without a stated bound; use `keyrotor run` at the rates you choose instead"
    );
    if scenario.mode == Mode::Real {
        eprintln!(
            "note: a real-time sweep runs the scenario many times; use mode = \"sim\" for minutes-long windows"
        );
    }
    let dir = out.unwrap_or_else(|| default_dir(&format!("{}-sweep", scenario.name)));
    crate::output::artifacts::prepare(&dir)?;
    let activity = Activity::new(show_progress(), false);
    activity.say("sweeping: the first run");
    let mut progress = |k: usize, rate: f64, success: f64| {
        activity.say(&format!(
            "sweeping: {k} keys at {rate:.1} req/min → {:.2} % goodput",
            success * 100.0
        ));
    };
    let sweep = crate::studies::sweep::sweep(&scenario, keys, replicas, objective, &mut progress);
    activity.finish();
    let sweep = sweep?;
    crate::output::artifacts::sweep(&dir, &sweep)?;
    show(json, &sweep, &sweep.markdown(), &dir)?;
    Ok(ExitCode::SUCCESS)
}

/// `keyrotor claims`: the seeds' claims (or the file's, with --file) and their reports.
fn claims_command(args: ClaimsArgs) -> anyhow::Result<ExitCode> {
    let ClaimsArgs {
        file,
        out,
        json,
        as_of,
        apps,
        apps_dir,
        apps_span,
    } = args;
    if let Some(file) = file {
        return claims_file_command(&file, (out, json));
    }
    let mut apps = apps.then_some(crate::studies::claims::AppOptions {
        dir: apps_dir,
        span: apps_span,
        logs: None,
    });
    let dir = out.unwrap_or_else(|| default_dir("claims"));
    crate::output::artifacts::prepare(&dir)?;
    if let Some(apps) = &mut apps {
        let logs = dir.join("app-logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        apps.logs = Some(logs);
    }
    let activity = Activity::new(show_progress(), true);
    let mut progress = |what: &str| activity.say(&format!("checking: {what}"));
    let today = as_of.unwrap_or_else(mock_groq::catalog::today);
    let claims = crate::studies::claims::check(today, apps.as_ref(), &mut progress);
    activity.finish();
    let claims = claims?;
    crate::output::artifacts::claims(&dir, &claims)?;
    show(json, &claims, &claims.summary(), &dir)?;
    Ok(ExitCode::SUCCESS)
}

/// `keyrotor claims --file`: the file's claims, each on its own run; the exit code says
/// whether every claim held (see [`ClaimsArgs`]).
fn claims_file_command(
    file: &Path,
    (out, json): (Option<PathBuf>, bool),
) -> anyhow::Result<ExitCode> {
    let claims_file = crate::studies::claims::ClaimsFile::read(file)?;
    let dir = out.unwrap_or_else(|| default_dir("claims"));
    crate::output::artifacts::prepare(&dir)?;
    let total = claims_file.claims.len();
    let activity = Activity::with_steps(show_progress(), true, total as u64);
    let mut done = 0;
    let mut progress = |what: &str| {
        done += 1;
        activity.step(&format!("checking {done}/{total}: {what}"));
    };
    let claims = crate::studies::claims::check_file(&claims_file, &mut progress);
    activity.finish();
    let claims = claims?;
    crate::output::artifacts::claims(&dir, &claims)?;
    show(json, &claims, &claims.summary(), &dir)?;
    use crate::studies::claims::Verdict;
    Ok(if claims.count(Verdict::Fails) > 0 {
        eprintln!("claims failed: {}", claims.count(Verdict::Fails));
        ExitCode::from(EXIT_THRESHOLDS)
    } else if claims.count(Verdict::Inconclusive) > 0 {
        eprintln!(
            "claims inconclusive: {}",
            claims.count(Verdict::Inconclusive)
        );
        ExitCode::from(EXIT_INCONCLUSIVE)
    } else {
        ExitCode::SUCCESS
    })
}

/// The text of `keyrotor policies`.
pub fn policies(json: bool) -> anyhow::Result<String> {
    let presets = PolicyConfig::presets();
    if json {
        let list: Vec<_> = presets
            .iter()
            .map(|p| serde_json::json!({"name": p.name, "seed": p.seed, "behaviour": p.behaviour, "modelling_choices": p.choices, "default": p.default}))
            .collect();
        return Ok(serde_json::to_string_pretty(&list)? + "\n");
    }
    let mut out = String::new();
    for preset in presets {
        let params = toml::to_string(&preset.default)?;
        let params: Vec<&str> = params
            .lines()
            .filter(|l| !l.starts_with("name ="))
            .collect();
        out.push_str(&format!(
            "{:<16} (seed: {})\n    {}\n",
            preset.name, preset.seed, preset.behaviour
        ));
        for choice in preset.choices {
            out.push_str(&format!("    - {choice}\n"));
        }
        if params.is_empty() {
            out.push_str("    parameters: none\n");
        } else {
            out.push_str(&format!("    parameters: {}\n", params.join(", ")));
        }
    }
    out.push_str("\nChoose one with NAME or NAME:param=value,param=value (e.g. cooldown:cooldown=30s,max_attempts=2).\n");
    Ok(out)
}

/// `reports/<name>-<UTC yyyymmdd-hhmmss>`.
fn default_dir(name: &str) -> PathBuf {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
    PathBuf::from("reports").join(format!("{name}-{stamp}"))
}

fn show_progress() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A watch flag set by SIGINT (Ctrl-C), SIGTERM (`timeout`, `docker stop`, CI cancelling)
/// or SIGHUP (the terminal closing), on its own thread so any runtime can wait on it. The
/// handlers are in place when this returns.
fn interrupt_watch() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            let _ = ready_tx.send(());
            return;
        };
        runtime.block_on(async {
            let signal = keyrotor_serve::signals::stop_signal();
            let _ = ready_tx.send(());
            if let Some(name) = signal.await {
                eprintln!("\n{name}: stopping, waiting briefly for requests in flight, writing reports marked incomplete");
                let _ = tx.send(true);
            }
        });
    });
    let _ = ready_rx.recv_timeout(Duration::from_secs(5));
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_lists_every_preset_with_its_parameters() {
        let text = policies(false).unwrap_or_else(|e| panic!("{e}"));
        for preset in PolicyConfig::presets() {
            assert!(text.contains(preset.name), "{text}");
        }
        assert!(
            text.contains("cooldown = \"1m\"") || text.contains("cooldown = \"60s\""),
            "{text}"
        );
        assert!(text.contains("max_wait"), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&policies(true).unwrap_or_default()).unwrap_or_default();
        assert_eq!(json.as_array().map(Vec::len), Some(6));
        assert_eq!(json[3]["default"]["name"], "cooldown");
    }

    /// A scenario file in a fresh folder.
    fn scenario_file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keyrotor-cli-{name}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("scenario.toml");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn real_applies_before_the_file_is_checked() {
        let path = scenario_file(
            "real-first",
            "name = \"shared\"\n[keys]\ncount = 2\n[engine]\nreplicas = 2\nstate = \"redis\"\n[traffic]\narrival = \"poisson\"\nrate = \"30/min\"\nduration = \"1m\"\n",
        );
        let refused = load_scenario(Some(&path), Overrides::default())
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(
            refused.contains("--real") && refused.contains("line 6"),
            "{refused}"
        );
        let real = Overrides {
            real: true,
            ..Overrides::default()
        };
        let scenario = load_scenario(Some(&path), real).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(scenario.mode, Mode::Real);
        assert_eq!(
            scenario.name, "shared",
            "--real alone does not rename the run"
        );
        assert_eq!(
            scenario.traffic.shape.rate(),
            Some(30.0),
            "a rate with its unit"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
    }

    #[test]
    fn flags_over_a_file_rename_the_run_and_say_so() {
        let path = scenario_file(
            "renamed",
            "name = \"keys-1\"\ndescription = \"1 key\"\n[keys]\ncount = 1\n[traffic]\narrival = \"poisson\"\nrate = 60\nduration = \"1m\"\n",
        );
        let flags = Overrides {
            policy: Some("adaptive".to_owned()),
            scenario: crate::spec::flags::ScenarioFlags {
                keys: Some(3),
                rate: Some(150.0),
                ..Default::default()
            },
            ..Overrides::default()
        };
        let s = load_scenario(Some(&path), flags).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(s.name, "keys-1+keys=3+rate=150/min+policy=adaptive");
        assert_eq!(
            s.description,
            "1 key (changed by flags: --keys 3, --rate 150/min, --policy adaptive)"
        );
        assert_eq!(s.keys.count.0, 3);
        let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
    }

    #[test]
    fn a_plan_file_with_event_flags_is_refused_not_ignored() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        let refused = parse(&["keyrotor", "plan", "--file", "event.toml", "--users", "5"]);
        assert!(
            refused.is_err_and(|e| e.to_string().contains("cannot be used with")),
            "--users with --file"
        );
        assert!(
            parse(&[
                "keyrotor",
                "plan",
                "--file",
                "event.toml",
                "--json",
                "-o",
                "x"
            ])
            .is_ok()
        );
    }

    #[test]
    fn default_dir_has_a_readable_utc_stamp() {
        let dir = default_dir("my scenario");
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(name.starts_with("my_scenario-20"), "{name}");
        assert_eq!(name.len(), "my_scenario-".len() + 15, "{name}");
    }
}
