//! `keyrotor run`: one scenario, from a file, from flags, or flags over a file; its reports
//! and the exit code its verdict gives.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::args::AsOf;
use super::terminal::{default_dir, interrupt_watch, show, show_progress};
use super::{EXIT_INCOMPLETE, EXIT_THRESHOLDS};
use crate::run::{RunOptions, quota_statement, run};
use crate::spec::scenario::{Mode, PolicySpec, Scenario};

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
    /// Also write every request offered as a trace (trace.csv: offset_s, prompt_tokens,
    /// max_tokens, model), which `--trace` replays: a real run in simulation, or a simulated
    /// one against a real endpoint.
    #[arg(long)]
    pub write_trace: bool,
    /// Force simulated time (in-process mock, paused clock).
    #[arg(long, conflicts_with = "real")]
    pub sim: bool,
    /// Force real time (the mock over loopback HTTP, or the scenario's URL).
    #[arg(long)]
    pub real: bool,
    /// Override the policy, e.g. `cooldown:cooldown=30s` (see `keyrotor policies`).
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<PolicySpec>,
    /// The catalog's day.
    #[command(flatten)]
    pub as_of: AsOf,
}

/// Flags that override a scenario file.
#[derive(Default)]
pub(super) struct Overrides {
    pub(super) sim: bool,
    pub(super) real: bool,
    pub(super) policy: Option<PolicySpec>,
    pub(super) as_of: Option<jiff::civil::Date>,
    pub(super) scenario: crate::spec::flags::ScenarioFlags,
}

/// Reads a scenario file (or starts from the flags-only base without one), applies the flags
/// that override it and then checks the result, so a flag can make a file valid (`--real`
/// over `state = "redis"`). A run from a file changed by flags is renamed for them
/// (`keys-1+keys=3`), its description says so. Warns when Groq no longer serves (or does not
/// yet serve) its model on the catalog's day.
pub(super) fn load_scenario(path: Option<&Path>, flags: Overrides) -> anyhow::Result<Scenario> {
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
    given.extend(
        flags
            .policy
            .as_ref()
            .map(|p| format!("policy={}", p.text())),
    );
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
        b = b.policy(policy);
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
    let groq = scenario.target.provider == crate::engine::provider::ProviderName::Groq;
    if groq && status != "served" {
        eprintln!(
            "warning: model {} is {status} as of {}: Groq answers every request naming it 404 model_not_found, and so does the mock. Running anyway, as an app still naming it would.",
            scenario.target.model,
            scenario.target.as_of()
        );
    }
    Ok(scenario)
}

/// `keyrotor run`: one scenario, its reports, and the exit code its verdict gives.
pub(super) fn run_command(args: RunArgs) -> anyhow::Result<ExitCode> {
    let RunArgs {
        scenario: path,
        flags,
        out,
        json,
        metrics_listen,
        requests_csv,
        write_trace,
        sim,
        real,
        policy,
        as_of,
    } = args;
    let flags = Overrides {
        sim,
        real,
        policy,
        as_of: as_of.as_of,
        scenario: flags,
    };
    let scenario = load_scenario(path.as_deref(), flags)?;
    // Checked before anything is sent: a finished real run must not be lost to it.
    let dir = out.unwrap_or_else(|| default_dir(&scenario.name));
    crate::output::artifacts::prepare(&dir)?;
    if scenario.target.url().is_some() {
        eprintln!("{}", quota_statement(&scenario)?);
    }
    let options = RunOptions {
        requests_csv: requests_csv.then(|| dir.join("requests.csv")),
        write_trace: write_trace.then(|| dir.join("trace.csv")),
        interrupt: Some(interrupt_watch()),
        give_up_after: None,
        without_quota: false,
        app_log: scenario.target.app().map(|_| dir.join("app.log")),
    };
    let mut progress = crate::output::live::LiveView::new(
        scenario.traffic.duration,
        show_progress(),
        scenario.mode == Mode::Sim,
    );
    if let Some(addr) = metrics_listen {
        let latest = crate::output::live::prometheus::Latest::default();
        let bound = crate::output::live::prometheus::serve(addr, latest.clone())?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
            policy: Some("adaptive".parse().unwrap_or_else(|e| panic!("{e}"))),
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
}
