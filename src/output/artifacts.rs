//! The one place that writes what a command leaves behind, each kind in one step: a run's
//! folder (the scenario that replays it, report.json/md/html, timeseries.csv, latency.hgrm,
//! the plots), a sweep's, a plan's and the claims' (with a run folder per claim that rests on
//! one run). Renderers ([`crate::measure::report`], [`crate::output::html`], [`crate::output::plots`]) make the
//! contents; only this module decides the file names.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use crate::run::Finished;
use crate::spec::scenario::Scenario;
use crate::studies::claims::Claims;
use crate::studies::plan::Plan;
use crate::studies::sweep::Sweep;

/// The file that marks a folder as keyrotor's output: a folder holding it is cleared before
/// new output is written there.
pub const MARKER: &str = ".keyrotor-output";

/// Makes `dir` ready for a command's output, before any work: creates it, clears what an
/// earlier keyrotor command wrote there (so no stale requests.csv or plot stands beside a new
/// report), and checks that a file can be written. A folder that is not empty and was not
/// written by keyrotor is refused, so nothing of the user's is ever deleted.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    let ours = entries.iter().any(|e| e.file_name() == MARKER);
    if !ours && !entries.is_empty() {
        anyhow::bail!(
            "{} is not empty and holds no earlier keyrotor output: give a new or empty folder (-o), so that nothing there is overwritten or mixed with this run's files",
            dir.display()
        );
    }
    for entry in entries.iter().filter(|e| e.file_name() != MARKER) {
        let path = entry.path();
        let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot clear the earlier output {}", path.display()))?;
    }
    write(
        dir,
        MARKER,
        "keyrotor wrote this folder; a new keyrotor command writing here clears it first.\n",
    )
    .with_context(|| format!("cannot write into {}", dir.display()))
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))
}

fn json(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// Writes a run into `dir`: `scenario.toml` (`keyrotor run` on it replays the run exactly),
/// `report.json`, `report.md`, `timeseries.csv`, `latency.hgrm`, the plots as .svg and .png,
/// and `report.html`. The figures go first, so that a failure drawing loses no number.
pub fn run(dir: &Path, scenario: &Scenario, finished: &Finished) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (report, recorder) = (&finished.report, &finished.recorder);
    write(dir, "report.json", json(report)?)?;
    write(dir, "report.md", report.markdown())?;
    write(
        dir,
        "timeseries.csv",
        crate::measure::report::timeseries_csv(recorder),
    )?;
    write(
        dir,
        "latency.hgrm",
        crate::measure::report::hgrm(&recorder.latency),
    )?;
    let toml = toml::to_string(scenario).context("cannot write the scenario as TOML")?;
    write(
        dir,
        "scenario.toml",
        format!(
            "# The scenario this run measured: `keyrotor run` on this file replays it.\n{toml}"
        ),
    )?;
    let marks = crate::output::chart::marks(scenario);
    let plots = crate::output::plots::run_plots(dir, finished, &marks)
        .map_err(|e| anyhow::anyhow!("cannot draw the plots: {e}"))?;
    write(
        dir,
        "report.html",
        crate::output::html::run_page(report, &plots),
    )
}

/// Writes a sweep into `dir`: `sweep.json`, `sweep.md`, the capacity plot and `report.html`.
pub fn sweep(dir: &Path, sweep: &Sweep) -> anyhow::Result<()> {
    write(dir, "sweep.json", json(sweep)?)?;
    write(dir, "sweep.md", sweep.markdown())?;
    let capacity = crate::output::plots::sweep_plot(dir, sweep)
        .map_err(|e| anyhow::anyhow!("cannot draw the plot: {e}"))?;
    write(
        dir,
        "report.html",
        crate::output::html::sweep_page(sweep, capacity),
    )
}

/// Writes a plan into `dir`: `plan.json`, `plan.md`, the plot around the answer and
/// `report.html`.
pub fn plan(dir: &Path, plan: &Plan) -> anyhow::Result<()> {
    write(dir, "plan.json", json(plan)?)?;
    write(dir, "plan.md", plan.markdown())?;
    let around = crate::output::plots::plan_plot(dir, plan)
        .map_err(|e| anyhow::anyhow!("cannot draw the plot: {e}"))?;
    write(
        dir,
        "report.html",
        crate::output::html::plan_page(plan, around),
    )
}

/// Writes the claims into `dir`: `claims.json`, `claims.md`, `claims.html`, and under
/// `runs/<id>/` each run a claim rests on, written as [`run`] writes a run.
pub fn claims(dir: &Path, claims: &Claims) -> anyhow::Result<()> {
    write(dir, "claims.json", json(claims)?)?;
    write(dir, "claims.md", claims.markdown())?;
    for claim in &claims.claims {
        if let (Some(at), Some(evidence)) = (&claim.run, &claim.evidence) {
            run(&dir.join(at), &evidence.scenario, &evidence.finished)
                .with_context(|| format!("the run behind claim `{}`", claim.id))?;
        }
    }
    write(dir, "claims.html", crate::output::html::claims_page(claims))
}
