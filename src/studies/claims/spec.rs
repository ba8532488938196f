//! A claim as data: what is claimed and by whom, the scenario whose run checks it, the metric
//! that run is judged by and the rule it must meet. The seeds' claims ([`super::seeds`]) are a
//! table of these, and so is a user's claims file (`keyrotor claims --file my-claims.toml`):
//!
//! ```toml
//! title = "Our rotation, measured"      # optional: the page's title
//!
//! [[claim]]
//! id = "uptime"                          # letters, digits, `-`, `_`, `.`: its run's folder
//! claim = "99.9 % of answers within 5 s at 150 req/min with 5 keys"
//! source = "README, Performance"
//! scenario_file = "rated-load.toml"      # relative to this file; or an inline [claim.scenario]
//! metric = "goodput_rate"                # any threshold name (`keyrotor run --help`)
//! rule = ">= 0.999"
//! min_samples = 1000                     # a hold needs this many samples (default 1)
//! ```
//!
//! A claim fails when its metric breaks the rule (a counterexample needs no sample size),
//! holds when the metric meets it over at least `min_samples` samples, and is inconclusive
//! with fewer samples or no data.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use std::sync::Arc;

use super::{Claim, Measured, Verdict};
use crate::measure::report::Report;
use crate::spec::metrics::Figure;
use crate::spec::metrics::{Metric, Threshold};
use crate::spec::scenario::Scenario;

/// A claim to check: see the [module](self) docs.
#[derive(Debug, Clone)]
pub struct ClaimSpec {
    /// Stable id (its run's folder name).
    pub id: String,
    /// The claim as its source states it.
    pub claim: String,
    /// Who states it.
    pub source: String,
    /// The run that checks it.
    pub scenario: Scenario,
    /// The figure it is judged by.
    pub metric: Metric,
    /// What the figure must meet.
    pub rule: Threshold,
    /// Fewer samples than this ([`Metric::sample`]): a rule met is inconclusive (a rule
    /// broken still fails).
    pub min_samples: u64,
    /// Why this run and this rule, in words.
    pub detail: String,
    /// The traffic in words, where the scenario alone does not say enough (e.g. how it relates
    /// to the keys' limits); generated from the scenario when `None`.
    pub traffic: Option<String>,
    /// The limits in words (where they come from); generated from the scenario when `None`.
    pub limits: Option<String>,
}

/// The verdict of `rule` on `figure` over `samples`: fails when the figure breaks the rule;
/// holds when it meets it over at least `min_samples` samples (at least 1); inconclusive with
/// fewer, or with no data. An unbounded figure counts as +∞.
pub fn judge(figure: Figure, samples: u64, rule: Threshold, min_samples: u64) -> Verdict {
    match figure.number() {
        None => Verdict::Inconclusive,
        Some(v) if !rule.holds(v) => Verdict::Fails,
        Some(_) if samples < min_samples.max(1) => Verdict::Inconclusive,
        Some(_) => Verdict::Holds,
    }
}

impl ClaimSpec {
    /// The claim judged on `finished`, a run of its scenario, which the claim keeps as its
    /// evidence.
    pub fn judge(&self, finished: Arc<crate::run::Finished>) -> Claim {
        let r = &finished.report;
        let figure = r.metric(self.metric);
        let samples = r.samples(self.metric);
        let verdict = judge(figure, samples, self.rule, self.min_samples);
        let rule = self.rule_text();
        let why = match (verdict, figure) {
            (Verdict::Inconclusive, Figure::NoData) => {
                format!("Inconclusive: no data for {}.", self.metric.name())
            }
            (Verdict::Inconclusive, _) => format!(
                "Inconclusive: {samples} {}, fewer than the {} it needs.",
                self.metric.sample().noun(),
                self.min_samples.max(1)
            ),
            (Verdict::Holds, _) => format!("The rule {rule} is met."),
            (Verdict::Fails, _) => format!("The rule {rule} is not met."),
        };
        let failures = if r.failures.is_empty() {
            "none".to_owned()
        } else {
            format!("{:?}", r.failures)
        };
        let mut conditions = super::conditions(&self.scenario, r, self.traffic.clone());
        if let Some(limits) = &self.limits {
            conditions.limits = limits.clone();
        }
        Claim {
            id: self.id.clone(),
            claim: self.claim.clone(),
            source: self.source.clone(),
            conditions,
            measured: measured(self.metric, r),
            figure: Measured {
                value: figure,
                unit: format!(
                    "{}; samples = {}",
                    self.metric.name(),
                    self.metric.sample().noun()
                ),
                samples,
            },
            verdict,
            rule: Some(rule),
            detail: format!("{} {why} Failures: {failures}.", self.detail)
                .trim_start()
                .to_owned(),
            run: None,
            evidence: None,
        }
        .with_run(&self.scenario, finished)
    }

    /// The rule in words: `goodput_rate >= 0.999 over ≥ 1000 requests`.
    fn rule_text(&self) -> String {
        format!(
            "{} {} over ≥ {} {}",
            self.metric.name(),
            String::from(self.rule),
            self.min_samples.max(1),
            self.metric.sample().noun()
        )
    }
}

/// What a run measured, in words: the metric over its samples, then what every reader asks.
fn measured(metric: Metric, r: &Report) -> String {
    let s = &r.summary;
    let mut text = format!(
        "{} {} over {} {}; {} of {} requests answered within {} ({} eventually); {} upstream 429s",
        metric.name(),
        metric.show(r.metric(metric)),
        r.samples(metric),
        metric.sample().noun(),
        s.goodput,
        s.offered,
        crate::spec::scenario::human(std::time::Duration::from_secs_f64(
            r.setup.latency_budget_ms.max(0.0) / 1000.0,
        )),
        s.succeeded,
        s.upstream_429
    );
    if s.degraded > 0 {
        text.push_str(&format!("; {} got a fallback message", s.degraded));
    }
    text
}

/// A claims file (see the [module](self) docs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    title: Option<String>,
    claim: Vec<Entry>,
}

/// One `[[claim]]` of a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: toml::Spanned<String>,
    claim: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    scenario_file: Option<PathBuf>,
    #[serde(default)]
    scenario: Option<Box<Scenario>>,
    metric: Metric,
    rule: Threshold,
    #[serde(default = "one")]
    min_samples: u64,
    #[serde(default)]
    detail: String,
}

fn one() -> u64 {
    1
}

/// Claims in one file at most.
pub const MAX_CLAIMS: usize = 1_000;

/// A claims file: its title and its claims, each scenario read and checked.
#[derive(Debug)]
pub struct ClaimsFile {
    /// The page's title.
    pub title: String,
    /// The claims, in file order.
    pub claims: Vec<ClaimSpec>,
}

/// Why a claims file cannot be used: the file, the line and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// The line, where known.
    pub line: Option<usize>,
    /// What is wrong, naming the field.
    pub message: String,
}

impl ClaimsFile {
    /// Reads `path` (at most [`groq_wire::file::TEXT_CAP`] bytes): every claim with a valid
    /// id (unique), a scenario (a file relative to this one, or inline) that passes the
    /// scenario checks, a metric, a rule and `min_samples` from 1 to 10⁹.
    ///
    /// A `scenario_file` must lie under `root` (the claims file's own folder when `None`),
    /// links resolved: a claims file from elsewhere cannot make keyrotor read `../.env` and
    /// quote its first line in an error.
    pub fn read(path: &Path, root: Option<&Path>) -> Result<Self, FileError> {
        let text =
            groq_wire::file::read_text(path, groq_wire::file::TEXT_CAP).map_err(|e| FileError {
                path: path.to_owned(),
                line: None,
                message: format!("cannot read: {e}"),
            })?;
        Self::from_toml(&text, path, root)
    }

    /// A claims file's `text`, read from `path` (which scenario files are relative to, and
    /// errors name); see [`ClaimsFile::read`].
    pub fn from_toml(text: &str, path: &Path, root: Option<&Path>) -> Result<Self, FileError> {
        let fail = |line: Option<usize>, message: String| FileError {
            path: path.to_owned(),
            line,
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| groq_wire::file::line_of(text, s.start));
            fail(line, e.message().to_owned())
        })?;
        if file.claim.is_empty() || file.claim.len() > MAX_CLAIMS {
            return Err(fail(
                None,
                format!(
                    "1 to {MAX_CLAIMS} [[claim]] tables, got {}",
                    file.claim.len()
                ),
            ));
        }
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let root = std::fs::canonicalize(root.unwrap_or(base)).map_err(|e| {
            fail(
                None,
                format!("cannot resolve the folder scenario files must lie in: {e}"),
            )
        })?;
        let files = Files { base, root: &root };
        let mut claims: Vec<ClaimSpec> = Vec::with_capacity(file.claim.len());
        for entry in file.claim {
            let line = Some(groq_wire::file::line_of(text, entry.id.span().start));
            let spec = entry
                .spec(&files, &claims)
                .map_err(|message| fail(line, message))?;
            claims.push(spec);
        }
        Ok(ClaimsFile {
            title: file.title.unwrap_or_else(|| "Claims, measured".to_owned()),
            claims,
        })
    }
}

impl Entry {
    /// The claim, or what is wrong with it (naming the field).
    fn spec(self, files: &Files<'_>, earlier: &[ClaimSpec]) -> Result<ClaimSpec, String> {
        let id = self.id.into_inner();
        let fine = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
        if id.is_empty() || id.len() > 64 || id.starts_with('.') || !id.chars().all(fine) {
            return Err(format!(
                "field `id`: 1 to 64 letters, digits, `-`, `_` or `.` (not first), got `{id}`"
            ));
        }
        if earlier.iter().any(|c| c.id == id) {
            return Err(format!("field `id`: `{id}` is used twice"));
        }
        if !(1..=1_000_000_000).contains(&self.min_samples) {
            return Err(format!(
                "claim `{id}`, field `min_samples`: from 1 to 10⁹, got {}",
                self.min_samples
            ));
        }
        let scenario = match (self.scenario_file, self.scenario) {
            (Some(file), None) => {
                let at = files
                    .confined(&file)
                    .map_err(|e| format!("claim `{id}`, field `scenario_file`: {e}"))?;
                Scenario::from_file(&at)
                    .map_err(|e| format!("claim `{id}`, field `scenario_file`: {e}"))?
            }
            (None, Some(inline)) => {
                inline.check().map_err(|e| {
                    format!(
                        "claim `{id}`, [claim.scenario] field `{}`: {}",
                        e.field, e.message
                    )
                })?;
                *inline
            }
            _ => {
                return Err(format!(
                    "claim `{id}`: give its run as `scenario_file = \"…\"` or an inline [claim.scenario] table, one of the two"
                ));
            }
        };
        Ok(ClaimSpec {
            id,
            claim: self.claim,
            source: self.source,
            scenario,
            metric: self.metric,
            rule: self.rule,
            min_samples: self.min_samples,
            detail: self.detail,
            traffic: None,
            limits: None,
        })
    }
}

/// Where a claims file's scenario files are: relative to `base`, and under `root`.
struct Files<'a> {
    base: &'a Path,
    root: &'a Path,
}

impl Files<'_> {
    /// `file` (relative to the claims file) resolved, if it lies under the root.
    fn confined(&self, file: &Path) -> Result<PathBuf, String> {
        let at = self.base.join(file);
        let real =
            std::fs::canonicalize(&at).map_err(|e| format!("cannot read {}: {e}", at.display()))?;
        if real.starts_with(self.root) {
            Ok(real)
        } else {
            Err(format!(
                "{} is outside {}, the folder scenario files are read from (name a wider one with --files-under)",
                file.display(),
                self.root.display()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_rule_fails_and_a_met_one_needs_its_samples() {
        let at_least = Threshold::try_from(">= 0.999".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        let under = Threshold::try_from("< 200".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            judge(Figure::NoData, 5000, at_least, 1),
            Verdict::Inconclusive
        );
        assert_eq!(
            judge(Figure::Value(1.0), 999, at_least, 1000),
            Verdict::Inconclusive
        );
        assert_eq!(
            judge(Figure::Value(1.0), 1000, at_least, 1000),
            Verdict::Holds
        );
        assert_eq!(
            judge(Figure::Value(0.99), 1000, at_least, 1000),
            Verdict::Fails
        );
        assert_eq!(
            judge(Figure::Value(1.0), 0, at_least, 0),
            Verdict::Inconclusive
        );
        // A counterexample is one, however few the samples.
        assert_eq!(
            judge(Figure::Value(0.0), 150, at_least, 1000),
            Verdict::Fails
        );
        assert_eq!(judge(Figure::Unbounded, 10, under, 10), Verdict::Fails);
        assert_eq!(judge(Figure::Value(150.0), 10, under, 10), Verdict::Holds);
    }

    #[test]
    fn a_scenario_file_outside_the_claims_folder_is_refused_even_through_a_link() {
        let dir = std::env::temp_dir().join(format!("keyrotor-confine-{}", std::process::id()));
        let inner = dir.join("inner");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&inner).unwrap_or_else(|e| panic!("{e}"));
        let scenario = "name = \"s\"\n[keys]\ncount = 1\n[traffic]\narrival = \"constant\"\nrate = 6\nduration = \"1m\"\n";
        std::fs::write(dir.join("out.toml"), scenario).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(inner.join("in.toml"), scenario).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(dir.join("out.toml"), inner.join("link.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let claims = |file: &str| {
            format!(
                "[[claim]]\nid = \"a\"\nclaim = \"c\"\nsource = \"s\"\nscenario_file = \"{file}\"\nmetric = \"goodput_rate\"\nrule = \">= 0.9\"\n"
            )
        };
        let path = inner.join("claims.toml");
        let read =
            |file: &str, root: Option<&Path>| ClaimsFile::from_toml(&claims(file), &path, root);
        if let Err(e) = read("in.toml", None) {
            panic!("{e}");
        }
        for outside in [
            "../out.toml",
            "link.toml",
            &dir.join("out.toml").display().to_string(),
        ] {
            let error = read(outside, None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains("is outside"), "{outside}: {error}");
            assert!(
                read(outside, Some(&dir)).is_ok(),
                "{outside} under --files-under"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
