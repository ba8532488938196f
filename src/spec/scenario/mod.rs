//! Scenarios (`scenarios/*.toml`): what to run against (the embedded mock, or a URL with keys
//! from the environment), how many keys in which organisations, which policy, what traffic,
//! and the thresholds a run must meet. Unknown fields and bad values are errors naming the
//! file, the line and what was expected (values are checked while parsing, so toml reports
//! their position).
//!
//! One file per section of the file: `target` (`[target]`, the embedded mock's settings),
//! `keys`, `engine` (the policy, replicas and their state: `replicas`), `traffic`; `app`
//! (`[target.app]`); `embedded` (the mock a scenario describes); `check` (ranges and fields
//! that go together); `builder` (the one way to build a scenario in code). Here: the
//! scenario itself, reading it, and the words every page uses for spans and counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::metrics::{Metric, Threshold};

pub mod app;
mod builder;
mod check;
mod embedded;
mod engine;
mod keys;
pub mod replicas;
mod target;
mod traffic;

/// A span in words, as a scenario file writes it: `5m`, `1h 30m`, `500ms`.
pub fn human(d: Duration) -> String {
    humantime_serde::re::humantime::format_duration(d).to_string()
}

/// `n` with its noun, singular or plural: `1 key`, `3 keys`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub use app::AppTarget;
pub use builder::ScenarioBuilder;
pub use embedded::{mock_config, mock_keys};
pub use engine::{Engine, PolicySpec};
pub use keys::{Count, Keys, Layout};
pub use replicas::{ColdStart, MAX_REPLICAS, Spread, StateKind};
pub use target::{MockSettings, Target, TargetEvent, Upstream};
pub use traffic::{Arrival, Rate, Shape, Tokens, Traffic, profile_step_ok};

/// Errors reading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("invalid scenario {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
}

/// A whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name; used in report folder names.
    pub name: String,
    /// What the scenario checks.
    #[serde(default)]
    pub description: String,
    /// `sim` (virtual time, in-process mock) or `real` (real time over HTTP).
    #[serde(default)]
    pub mode: Mode,
    /// Seed of every random draw (arrivals, token sizes, the mock, jitter).
    #[serde(default)]
    pub seed: u64,
    /// What receives the traffic.
    #[serde(default)]
    pub target: Target,
    /// The keys and their organisations.
    pub keys: Keys,
    /// The rotation engine.
    #[serde(default)]
    pub engine: Engine,
    /// The traffic.
    pub traffic: Traffic,
    /// Objectives, e.g. `success_rate = ">= 0.999"`, `failover_p99_ms = "< 200"`.
    #[serde(default)]
    pub thresholds: BTreeMap<Metric, Threshold>,
}

/// How a run keeps time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Virtual time: the driver, engine and in-process mock on a paused clock. Days take seconds.
    #[default]
    Sim,
    /// Real time over HTTP (the embedded mock on loopback, or `target.url`).
    Real,
}

/// A value outside its documented range or fields that do not go together: which field
/// (`section.key`, as in the file) and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// The field, e.g. `traffic.rate`.
    pub field: String,
    /// What is wrong, with the valid range.
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

/// A scenario file's text: a regular file of at most [`groq_wire::file::TEXT_CAP`] bytes.
fn read(path: &Path) -> Result<String, ScenarioError> {
    groq_wire::file::read_text(path, groq_wire::file::TEXT_CAP).map_err(|error| {
        ScenarioError::Read {
            path: path.to_owned(),
            error,
        }
    })
}

impl Scenario {
    /// Reads and validates a scenario file; errors name the file, line and field.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = read(path)?;
        Self::from_toml(&text)
            .map(|s| s.anchored(path))
            .map_err(|message| ScenarioError::Invalid {
                path: path.to_owned(),
                message,
            })
    }

    /// The scenario read from the file at `path`, its relative paths (a trace) taken from the
    /// file's folder and made absolute, so the copy a run writes beside its reports replays.
    fn anchored(mut self, path: &Path) -> Self {
        let folder = path.parent().unwrap_or(Path::new(""));
        let anchor = |file: &mut PathBuf| {
            if file.is_relative() {
                let joined = folder.join(&*file);
                *file = std::path::absolute(&joined).unwrap_or(joined);
            }
        };
        let t = &mut self.traffic;
        if let Shape::Trace(trace) = &mut t.shape {
            anchor(&mut trace.path);
        }
        for tokens in [&mut t.prompt_tokens, &mut t.completion_tokens] {
            if let Tokens::Trace(sample) = tokens {
                anchor(&mut sample.trace);
            }
        }
        self
    }

    /// Parses and validates scenario text; a range error names the line of its field.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario
            .check()
            .map_err(|invalid| at_line(text, &invalid))?;
        Ok(scenario)
    }

    /// Reads and parses a scenario file without checking what goes together, for flags to
    /// change it first (`--real` over a file with `state = "redis"`); the caller builds the
    /// result, which checks it, and names the line of a field with [`at_line`] and the text
    /// returned here.
    pub fn read_unchecked(path: &Path) -> Result<(Self, String), ScenarioError> {
        let text = read(path)?;
        let scenario: Scenario = toml::from_str(&text).map_err(|e| ScenarioError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Ok((scenario.anchored(path), text))
    }

    /// Checks what parsing cannot: ranges and fields that go together.
    pub fn validate(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }

    /// A hash (FNV-1a, 16 hex digits) of the settings that shape what a run measures: all
    /// but the description, the thresholds and the mode (which reports state on their own).
    pub fn hash(&self) -> String {
        let mut settings = self.clone();
        settings.description.clear();
        settings.thresholds.clear();
        settings.mode = Mode::Sim;
        let text = serde_json::to_string(&settings).unwrap_or_default();
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        format!("{hash:016x}")
    }
}

/// `invalid` with the line of its field in the scenario file's `text`, when it is there.
pub fn at_line(text: &str, invalid: &Invalid) -> String {
    match locate(text, &invalid.field) {
        Some(line) => format!("line {line}, {invalid}"),
        None => invalid.to_string(),
    }
}

/// The line of `field` (`section.key`, or `key` at the top) in TOML `text`: the key's own
/// line, else its section's header. For error messages only.
fn locate(text: &str, field: &str) -> Option<usize> {
    let (section, key) = field.rsplit_once('.').unwrap_or(("", field));
    let mut current = String::new();
    let mut header = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            current = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            if current == section && header.is_none() {
                header = Some(i + 1);
            }
            continue;
        }
        let named = line
            .split_once('=')
            .is_some_and(|(name, _)| name.trim().trim_matches('"') == key);
        if current == section && named {
            return Some(i + 1);
        }
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "t"
[keys]
count = 3
[traffic]
arrival = "constant"
rate = 60
duration = "1m"
"#;

    #[test]
    fn a_run_that_adds_up_to_more_than_a_run_may_send_is_refused_when_read() {
        let absurd = MINIMAL
            .replace("rate = 60", "rate = 10000000")
            .replace("duration = \"1m\"", "duration = \"30d\"\ninterval = \"1h\"");
        let err = Scenario::from_toml(&absurd).err().unwrap_or_default();
        assert!(
            err.contains("traffic.rate") && err.contains("requests"),
            "{err}"
        );
        let capped = format!("{absurd}requests = 1000\n");
        assert!(
            Scenario::from_toml(&capped).is_ok(),
            "a request count bounds it"
        );
    }

    #[test]
    fn errors_name_the_field_that_is_wrong() {
        let huge = MINIMAL.replace("count = 3", "count = 1000000000");
        let err = Scenario::from_toml(&huge).err().unwrap_or_default();
        assert!(err.contains("keys.count"), "{err}");
        for (tokens, said) in [
            ("prompt_tokens = -1", "whole number ≥ 0; it is -1"),
            ("completion_tokens = { min = 5, max = -3 }", "max is -3"),
            ("prompt_tokens = \"lots\"", "{ min = 100, max = 300 }"),
        ] {
            let err = Scenario::from_toml(&format!("{MINIMAL}{tokens}\n"))
                .err()
                .unwrap_or_default();
            assert!(
                err.contains(said) && !err.contains("untagged"),
                "{tokens}: {err}"
            );
        }
    }

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::from_toml(MINIMAL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.mode, Mode::Sim);
        assert_eq!(s.engine.policy.config.name(), "adaptive");
        assert_eq!(s.keys.org_of_each(), [0, 1, 2]);
        assert_eq!(s.traffic.prompt_tokens, Tokens::Fixed(200));
    }

    #[test]
    fn bad_values_name_line_and_expectation() {
        for (edit, line, needle) in [
            (("count = 3", "count = 0"), "line 4", "≥ 1"),
            (("rate = 60", "rate = -5"), "line 7", "> 0"),
            (
                ("arrival = \"constant\"", "arrival = \"burst\""),
                "line 6",
                "constant",
            ),
            (
                ("duration = \"1m\"", "duration = \"soon\""),
                "line 8",
                "soon",
            ),
            (("count = 3", "count = 3\nbogus = 1"), "line 5", "bogus"),
        ] {
            let text = MINIMAL.replace(edit.0, edit.1);
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains(line) && err.contains(needle),
                "{edit:?}: {err}"
            );
        }
        let err = Scenario::from_toml(&format!("{MINIMAL}[engine]\npolicy = \"nope\"\n"))
            .err()
            .unwrap_or_default();
        assert!(
            err.contains("line 10") && err.contains("invalid policy"),
            "{err}"
        );
        let err = Scenario::from_toml(&format!(
            "{MINIMAL}[thresholds]\nsuccess_rate = \"about 1\"\n"
        ))
        .err()
        .unwrap_or_default();
        assert!(
            err.contains("line 10") && err.contains("expected `<`"),
            "{err}"
        );
        let err = Scenario::from_toml(&format!("{MINIMAL}[thresholds]\nhappiness = \">= 1\"\n"))
            .err()
            .unwrap_or_default();
        assert!(err.contains("happiness"), "{err}");
    }

    /// Each hostile number is refused while parsing, with its line, its field and the range.
    #[test]
    fn numbers_out_of_range_name_line_field_and_range() {
        let profile = "arrival = \"profile\"\nrate = 60\nprofile = [1e308, 1e308]";
        for (edit, line, field, needle) in [
            (
                ("duration = \"1m\"", "duration = \"0s\""),
                8,
                "traffic.duration",
                "between",
            ),
            (
                ("count = 3", "count = 100000"),
                4,
                "keys.count",
                "from 1 to 128",
            ),
            (
                (
                    "count = 3",
                    "count = 3\nlayout = \"explicit\"\norgs = [0, 1000000, 1]",
                ),
                6,
                "keys.orgs",
                "from 0 to 2",
            ),
            (
                ("rate = 60", "rate = 1e-300"),
                7,
                "traffic.rate",
                "between 0.001",
            ),
            (
                ("rate = 60", "rate = 1e12"),
                7,
                "traffic.rate",
                "between 0.001",
            ),
            (
                ("arrival = \"constant\"\nrate = 60", profile),
                8,
                "traffic.profile",
                "between 0",
            ),
            (
                (
                    "rate = 60",
                    "rate = 60\nprompt_tokens = 9223372036854775807",
                ),
                8,
                "traffic.prompt_tokens",
                "between 1 and 1000000",
            ),
            (
                (
                    "rate = 60",
                    "rate = 60\ncompletion_tokens = { mean = 1e308, sd = 1e308 }",
                ),
                8,
                "traffic.completion_tokens",
                "between 1",
            ),
            (
                ("rate = 60", "rate = 60\ninterval = \"1ms\""),
                8,
                "traffic.interval",
                "between",
            ),
        ] {
            let text = MINIMAL.replace(edit.0, edit.1);
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains(&format!("line {line}"))
                    && err.contains(field)
                    && err.contains(needle),
                "{edit:?}: {err}"
            );
        }
        for engine in [
            "connect_timeout = \"0s\"",
            "request_timeout = \"0s\"",
            "deadline = \"0s\"",
            "policy = \"cooldown:max_attempts=0\"",
            "policy = \"error-threshold:threshold=0\"",
            "policy = \"daily-exhaust:max_switches=0\"",
            "policy = \"daily-exhaust:backoff_base=0s\"",
            "policy = \"adaptive:max_wait=1000y\"",
            "policy = \"round-robin:cooldown=5s\"",
        ] {
            let text = format!("{MINIMAL}[engine]\n{engine}\n");
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(err.contains("line 10"), "{engine}: {err}");
        }
        for bound in ["< nan", "< inf", ">= -inf"] {
            let text = format!("{MINIMAL}[thresholds]\nsuccess_rate = \"{bound}\"\n");
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains("line 10") && err.contains("finite"),
                "{bound}: {err}"
            );
        }
    }

    #[test]
    fn fields_that_go_together_are_checked() {
        let unbounded = MINIMAL.replace("duration = \"1m\"", "");
        assert!(Scenario::from_toml(&unbounded).is_err_and(|e| e.contains("bounded")));
        let ramp = MINIMAL.replace("\"constant\"", "\"ramp\"");
        assert!(Scenario::from_toml(&ramp).is_err_and(|e| e.contains("peak")));
        let url = MINIMAL.replace("[keys]", "[target]\nurl = \"https://api.groq.com\"\n[keys]");
        assert!(Scenario::from_toml(&url).is_err_and(|e| e.contains("mode = \"real\"")));
        let explicit = MINIMAL.replace(
            "count = 3",
            "count = 3\nlayout = \"explicit\"\norgs = [0, 0]",
        );
        assert!(
            Scenario::from_toml(&explicit)
                .is_err_and(|e| e.contains("one organisation index per key"))
        );
        // What cannot be written: each kind of arrivals and of target takes only its fields,
        // and the error names the one that does not belong, on the table's line.
        for (edit, needle) in [
            (
                ("rate = 60", "rate = 60\nusers = 4"),
                "`users` does not go with",
            ),
            (
                ("arrival = \"constant\"", "arrival = \"closed\"\nusers = 4"),
                "`rate` does not go with arrival = \"closed\"",
            ),
            (
                ("rate = 60", "rate = 60\nspike_for = \"1m\""),
                "`spike_for`",
            ),
            (("rate = 60", "rate = 60\nprofile = [1, 2]"), "`profile`"),
            (
                (
                    "[keys]",
                    "mode = \"real\"\n[target]\nurl = \"https://x\"\nlimits = { rpm = 1 }\n[keys]",
                ),
                "the embedded mock's",
            ),
        ] {
            let text = MINIMAL.replace(edit.0, edit.1);
            let err = Scenario::from_toml(&text).err().unwrap_or_default();
            assert!(
                err.contains(needle) && err.contains("line"),
                "{edit:?}: {err}"
            );
        }
        // A file's traffic and target read back as they were written.
        let spike = MINIMAL.replace(
            "arrival = \"constant\"",
            "arrival = \"spike\"\npeak = 120\nchange_at = \"10s\"\nspike_for = \"20s\"",
        );
        let read = Scenario::from_toml(&spike).unwrap_or_else(|e| panic!("{e}"));
        let again = toml::to_string(&read).unwrap_or_else(|e| panic!("{e}"));
        let reread = Scenario::from_toml(&again).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.traffic, reread.traffic);
        assert_eq!(read.hash(), reread.hash());
    }

    #[test]
    fn thresholds_parse_and_judge() {
        let t = Threshold::try_from(">= 0.999".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.holds(0.999) && !t.holds(0.99));
        let t = Threshold::try_from("<200".to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.holds(199.0) && !t.holds(200.0));
        // One vocabulary: `upstream_429` as in the report; the older `upstream429` reads.
        for name in ["upstream_429", "upstream429"] {
            let text = format!(
                "name = \"t\"\n[keys]\ncount = 1\n[traffic]\narrival = \"poisson\"\nrate = 10\nduration = \"1m\"\n[thresholds]\n{name} = \"< 5\"\n"
            );
            let s = Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.thresholds.contains_key(&Metric::Upstream429));
        }
        assert_eq!(Metric::Upstream429.name(), "upstream_429");
    }
}
