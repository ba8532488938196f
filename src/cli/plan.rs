//! `keyrotor plan`: keys for an event, from flags or a TOML file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::args::AsOf;
use super::terminal::{default_dir, show, show_progress};
use crate::output::live::Activity;
use crate::studies::plan::PlanInput;

/// Options of `keyrotor plan`: the event as flags, or a TOML file with the same names.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Read the event from a TOML file (fields as the flags, with underscores). The event's
    /// flags cannot be given with it (refused, not ignored); --json and -o can.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["event", "limits", "as_of"])]
    pub file: Option<PathBuf>,
    /// The event.
    #[command(flatten)]
    pub event: PlanInput,
    /// Explicit limits.
    #[command(flatten)]
    pub limits: LimitFlags,
    /// The catalog's day.
    #[command(flatten)]
    pub as_of: AsOf,
    /// Size the keys for this event again: the requests of an app's own log (a trace, as
    /// `keyrotor run --trace` reads it), fitted as a profile of its requests per step with
    /// its mean sizes. Replaces --users, --queries, --duration, --profile and the sizes.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "file", "users", "queries_per_user", "duration", "peak_factor", "profile",
        "profile_step", "prompt_tokens", "completion_tokens",
    ])]
    pub trace: Option<PathBuf>,
    /// With --trace: the event N× bigger (N× the users), 0.001 to 1000.
    #[arg(long, value_name = "N", requires = "trace", default_value_t = 1.0)]
    pub scale: f64,
    /// With --trace: which column holds each field (as `keyrotor run --trace-columns`).
    #[arg(long, value_name = "FIELD=COLUMN,…", requires = "trace", value_parser = crate::spec::trace::Columns::parse_flag)]
    pub trace_columns: Option<crate::spec::trace::Columns>,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Output folder for plan.json, plan.md and report.html (default reports/plan-<time>/).
    #[arg(short = 'o', long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `--rpm`, `--rpd`, `--tpm`, `--tpd`: limits per organisation in place of the catalog's.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
#[group(id = "limits", multiple = true)]
pub struct LimitFlags {
    /// Requests per minute per organisation (0 = unlimited).
    #[arg(long)]
    pub rpm: Option<u64>,
    /// Requests per day.
    #[arg(long)]
    pub rpd: Option<u64>,
    /// Tokens per minute.
    #[arg(long)]
    pub tpm: Option<u64>,
    /// Tokens per day.
    #[arg(long)]
    pub tpd: Option<u64>,
}

impl PlanArgs {
    /// The event: the file's, or the flags'.
    fn input(&self) -> anyhow::Result<PlanInput> {
        if let Some(file) = &self.file {
            let text = groq_wire::file::read_text(file, groq_wire::file::TEXT_CAP)
                .with_context(|| format!("cannot read {}", file.display()))?;
            return toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("invalid plan file {}: {e}", file.display()));
        }
        let LimitFlags { rpm, rpd, tpm, tpd } = self.limits;
        let explicit = [rpm, rpd, tpm, tpd].iter().any(Option::is_some);
        Ok(PlanInput {
            as_of: self.as_of.as_of,
            limits: explicit.then_some(mock_groq::config::LimitsOverride {
                rpm,
                rpd,
                tpm,
                tpd,
                ..Default::default()
            }),
            ..self.event.clone()
        })
    }
}

/// `keyrotor plan`: the plan, its reports, and its answer on the terminal.
pub(super) fn plan_command(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let mut input = args.input()?;
    let mut fitted = None;
    if let Some(path) = &args.trace {
        let trace = crate::spec::trace::Trace {
            columns: args.trace_columns.clone().unwrap_or_default(),
            ..crate::spec::trace::Trace::new(path)
        };
        let (event, note) = crate::studies::plan::fitted(&trace, args.scale, input)?;
        (input, fitted) = (event, Some(note));
    }
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
    let mut plan = plan?;
    plan.notes.splice(0..0, fitted);
    crate::output::artifacts::plan(&dir, &plan)?;
    show(args.json, &plan, &plan.markdown(), &dir)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::super::Cli;

    /// A trace replaces the event's shape and sizes: giving them too is refused, not
    /// ignored; --scale needs --trace.
    #[test]
    fn a_trace_with_event_flags_is_refused_not_ignored() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        for (flag, value) in [
            ("--users", "5"),
            ("--duration", "5m"),
            ("--prompt-tokens", "5"),
            ("--profile", "1,2"),
        ] {
            let refused = parse(&["keyrotor", "plan", "--trace", "t.csv", flag, value]);
            assert!(
                refused.is_err_and(|e| e.to_string().contains("cannot be used with")),
                "{flag} with --trace"
            );
        }
        assert!(parse(&["keyrotor", "plan", "--scale", "2"]).is_err());
        assert!(
            parse(&[
                "keyrotor", "plan", "--trace", "t.csv", "--scale", "2", "--rpm", "5"
            ])
            .is_ok()
        );
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
    fn flags_make_the_same_event_as_the_file_with_the_same_names() {
        let cli = Cli::try_parse_from([
            "keyrotor",
            "plan",
            "--users",
            "500",
            "--queries",
            "4",
            "--duration",
            "8h",
            "--tpd",
            "100000",
            "--layout",
            "shared",
            "--as-of",
            "2026-01-05",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let super::super::Command::Plan(args) = cli.command else {
            panic!("not plan");
        };
        let from_flags = args.input().unwrap_or_else(|e| panic!("{e}"));
        let from_file: crate::studies::plan::PlanInput = toml::from_str(
            "users = 500\nqueries_per_user = 4.0\nduration = \"8h\"\nprompt_tokens = 200\ncompletion_tokens = 200\nlayout = \"shared\"\nas_of = \"2026-01-05\"\n[limits]\ntpd = 100000\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            serde_json::to_value(&from_flags).unwrap_or_default(),
            serde_json::to_value(&from_file).unwrap_or_default()
        );
    }
}
