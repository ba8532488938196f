//! `keyrotor claims`: the seeds' claims, or a file's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::args::AsOf;
use super::terminal::{default_dir, show, show_progress};
use super::{EXIT_INCONCLUSIVE, EXIT_THRESHOLDS};
use crate::output::live::Activity;

/// Options of `keyrotor claims`.
#[derive(Debug, clap::Args)]
pub struct ClaimsArgs {
    /// Your claims instead of the seeds': a TOML file of [[claim]] tables, each with id,
    /// claim, source, scenario_file (relative to the file) or an inline [claim.scenario],
    /// metric (a threshold name, e.g. goodput_rate), rule (e.g. ">= 0.999") and
    /// min_samples (a rule met on fewer samples is inconclusive; a rule broken fails). See
    /// scenarios/claims.toml.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["as_of", "apps", "providers"])]
    pub file: Option<PathBuf>,
    /// The folder a claims file's scenario_file entries must lie in (default: the claims
    /// file's own folder), so a claims file cannot point keyrotor at ../.env or /etc.
    #[arg(long, value_name = "DIR", requires = "file")]
    pub files_under: Option<PathBuf>,
    /// Output folder (default reports/claims-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON on stdout (what the .json file holds) instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// "Today" for the rows that check the seeds' configuration on today's catalog (the
    /// seeds' own rows use their date, 2025-12-24).
    #[command(flatten)]
    pub as_of: AsOf,
    /// Also run each seed's real app (examples/seed-apps/, Node and Python) beside the
    /// preset that re-creates it, in real time: about 6 × the span. Apps this machine
    /// cannot run are skipped, and the report says why.
    #[arg(long)]
    pub apps: bool,
    /// Also check "5 keys give 5× the capacity of one" on Gemini (keys in one project or
    /// several), OpenRouter (keys of one account) and Cerebras (one organisation or several),
    /// on the mock speaking each with its published free figures (Gemini publishes none
    /// keyrotor can cite: 10 RPM per project, stated as such in its rows): about 15 s more.
    #[arg(long)]
    pub providers: bool,
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

/// `keyrotor claims`: the seeds' claims (or the file's, with --file) and their reports.
pub(super) fn claims_command(args: ClaimsArgs) -> anyhow::Result<ExitCode> {
    let ClaimsArgs {
        file,
        files_under,
        out,
        json,
        as_of,
        apps,
        providers,
        apps_dir,
        apps_span,
    } = args;
    if let Some(file) = file {
        return claims_file_command((&file, files_under.as_deref()), (out, json));
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
    let today = as_of.as_of.unwrap_or_else(mock_groq::catalog::today);
    if let Some(warning) = mock_groq::catalog::current().staleness(today) {
        eprintln!("warning: {warning}");
    }
    let extras = crate::studies::claims::Extras {
        apps: apps.as_ref(),
        providers,
    };
    let claims = crate::studies::claims::check(today, extras, &mut progress);
    activity.finish();
    let claims = claims?;
    crate::output::artifacts::claims(&dir, &claims)?;
    show(json, &claims, &claims.summary(), &dir)?;
    Ok(ExitCode::SUCCESS)
}

/// `keyrotor claims --file`: the file's claims, each on its own run; the exit code says
/// whether every claim held (see [`ClaimsArgs`]).
fn claims_file_command(
    (file, files_under): (&Path, Option<&Path>),
    (out, json): (Option<PathBuf>, bool),
) -> anyhow::Result<ExitCode> {
    let claims_file = crate::studies::claims::ClaimsFile::read(file, files_under)?;
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
