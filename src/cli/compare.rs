//! `keyrotor compare`: two reports under rules; exit code 3 on a regression.

use std::path::PathBuf;
use std::process::ExitCode;

use super::EXIT_THRESHOLDS;
use super::terminal::print_out;

/// Options of `keyrotor compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline report.
    pub baseline: PathBuf,
    /// The current report.
    pub current: PathBuf,
    /// A rule: `METRIC -5%` (may fall at most 5 %), `METRIC +10%` (may rise at most 10 %)
    /// or `METRIC >= 0.999`, with the metric names scenario thresholds use
    /// (success_rate, goodput_rate, throughput_rps, latency_p50_ms … latency_max_ms,
    /// failover_p50_ms, failover_p99_ms, failover_max_ms, upstream_429, offered).
    /// Repeatable. Default: success_rate -0.1%, throughput_rps -5%, latency_p99_ms +10%,
    /// failover_p99_ms +10%. Sweeps: capacity_<keys> (capacity_<keys>_r<N> for N replicas).
    #[arg(long = "threshold", value_name = "RULE")]
    pub thresholds: Vec<String>,
    /// Compare even when the two differ in schema, scenario, settings or mode, or one is
    /// of an interrupted or failed run (refused otherwise, exit code 1).
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Print the comparison as JSON on stdout (`{"pass": …, "rows": [{metric, baseline,
    /// current, rule, pass}]}`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `keyrotor compare`: the current report against the baseline under the thresholds (the
/// defaults when there are none); exits [`EXIT_THRESHOLDS`] when one fails.
pub(super) fn compare_command(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let CompareArgs {
        baseline,
        current,
        thresholds,
        allow_mismatch,
        json,
    } = args;
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
        if !*allow_mismatch {
            anyhow::bail!(
                "these two are not comparable:\n  {why}\n(--allow-mismatch compares them anyway)"
            );
        }
        eprintln!("warning: comparing anyway (--allow-mismatch):\n  {why}");
    }
    let rows = crate::studies::compare::compare(&baseline, &current, &rules)?;
    let pass = rows.iter().all(|r| r.pass);
    if *json {
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
