//! The seeds' systems as real apps (examples/seed-apps/): which file each is, how it is
//! started, which key convention it reads, which engine preset re-creates it, and whether
//! this machine can run it. `claims --apps` and the seed-app tests both take them from here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::spec::scenario::AppTarget;
use crate::spec::scenario::{Mode, Scenario};

/// The language an app is written in, which decides what runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `node` (TypeScript through the `tsx` package in the apps' node_modules).
    Node,
    /// Python 3 with the `groq` SDK (`$KEYROTOR_PYTHON`, else `python3`).
    Python,
}

/// One seed's system, written as the seed shows it.
#[derive(Debug, Clone, Copy)]
pub struct SeedApp {
    /// The seed document's number, e.g. `"000"`.
    pub seed: &'static str,
    /// The app's file in the seed-apps folder.
    pub file: &'static str,
    /// The key convention it reads (see [`AppTarget::keys_env`]).
    pub keys_env: &'static str,
    /// The engine preset that re-creates its policy.
    pub preset: &'static str,
    /// The text of its fallback answer, when it answers with one instead of an error.
    pub fallback: Option<&'static str>,
    /// The `max_tokens` its requests carry (Groq's default of 1,024 when it sends none).
    pub max_tokens: u64,
    /// The packages it needs: npm packages in the folder's node_modules, or Python modules.
    pub needs: &'static [&'static str],
}

/// Every seed app, in seed order.
pub const SEED_APPS: [SeedApp; 5] = [
    SeedApp {
        seed: "000",
        file: "seed-000.mjs",
        keys_env: "GROQ_API_KEY1",
        preset: "round-robin",
        fallback: None,
        max_tokens: 1024,
        needs: &[],
    },
    SeedApp {
        seed: "001",
        file: "seed-001.ts",
        keys_env: "GROQ_API_KEY_BACKUP",
        preset: "daily-exhaust",
        fallback: None,
        max_tokens: 1024,
        needs: &["groq-sdk", "tsx"],
    },
    SeedApp {
        seed: "002",
        file: "seed-002.mjs",
        keys_env: "GROQ_API_KEYS",
        preset: "cooldown",
        fallback: None,
        max_tokens: 1024,
        needs: &[],
    },
    SeedApp {
        seed: "003",
        file: "seed-003.py",
        keys_env: "GROQ_API_KEY",
        preset: "error-threshold",
        fallback: None,
        max_tokens: 1024,
        needs: &["groq"],
    },
    SeedApp {
        seed: "004",
        file: "seed-004.py",
        keys_env: "GROQ_API_KEY_FALLBACK",
        preset: "sticky-failover",
        fallback: Some("experiencing high demand"),
        max_tokens: 400,
        needs: &["groq"],
    },
];

/// The seed-apps folder of this source tree (where `npm ci` installed their packages).
pub fn default_dir() -> PathBuf {
    PathBuf::from("examples/seed-apps")
}

/// The Python interpreter the apps run under: `$KEYROTOR_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("KEYROTOR_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

impl SeedApp {
    /// What runs it.
    pub fn runtime(&self) -> Runtime {
        if self.file.ends_with(".py") {
            Runtime::Python
        } else {
            Runtime::Node
        }
    }

    /// The command that starts it from `dir`.
    pub fn command(&self, dir: &Path) -> Vec<String> {
        let script = dir.join(self.file).display().to_string();
        match self.runtime() {
            Runtime::Python => vec![python(), script],
            Runtime::Node if self.file.ends_with(".ts") => {
                let tsx = dir.join("node_modules/tsx/dist/cli.mjs");
                vec!["node".to_owned(), tsx.display().to_string(), script]
            }
            Runtime::Node => vec!["node".to_owned(), script],
        }
    }

    /// The app target that runs it from `dir`: its `/api/chat` endpoint, ready on `/health`,
    /// each answer awaited at most `timeout`.
    pub fn target(&self, dir: &Path, timeout: Duration) -> AppTarget {
        AppTarget {
            command: self.command(dir),
            url: "http://127.0.0.1:{port}/api/chat".to_owned(),
            ready: Some("/health".to_owned()),
            ready_timeout: Duration::from_secs(30),
            timeout,
            request: r#"{"message": "{{prompt}}"}"#.to_owned(),
            keys_env: self.keys_env.to_owned(),
            fallback: self.fallback.map(str::to_owned),
        }
    }

    /// `base` with this app (run from `dir`) as its target: real time, no engine round trip
    /// added (the app talks to the mock on loopback), checked as a scenario file would be.
    pub fn scenario(
        &self,
        base: &Scenario,
        dir: &Path,
        timeout: Duration,
    ) -> Result<Scenario, String> {
        base.to_builder()
            .mode(Mode::Real)
            .app(self.target(dir, timeout))
            .build()
            .map_err(|e| e.to_string())
    }

    /// The seed app whose file is `file`.
    pub fn named(file: &str) -> Option<SeedApp> {
        SEED_APPS.into_iter().find(|a| a.file == file)
    }

    /// Whether this machine can run it from `dir`; the error says what is missing and how
    /// to get it.
    pub fn available(&self, dir: &Path) -> Result<(), String> {
        if !dir.join(self.file).is_file() {
            return Err(format!(
                "{} is not in {} (run from the source tree, or pass --apps-dir)",
                self.file,
                dir.display()
            ));
        }
        match self.runtime() {
            Runtime::Python => {
                let python = python();
                let modules: Vec<&str> = std::iter::once("sys")
                    .chain(self.needs.iter().copied())
                    .collect();
                let import = format!("import {}", modules.join(", "));
                if !succeeds(&python, &["-c", &import]) {
                    return Err(format!(
                        "`{python} -c \"{import}\"` failed: install Python 3 and pip install {}",
                        self.needs.join(" ")
                    ));
                }
            }
            Runtime::Node => {
                if !succeeds("node", &["--version"]) {
                    return Err(
                        "`node` was not found: install Node.js (Debian: apt install nodejs npm)"
                            .to_owned(),
                    );
                }
                let modules = dir.join("node_modules");
                for package in self.needs {
                    if !modules.join(package).is_dir() {
                        return Err(format!(
                            "{} has no {package}: run `npm ci` in {}",
                            modules.display(),
                            dir.display()
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `program args` runs and exits 0 (its output discarded).
fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_app_names_a_preset_that_exists_and_a_file_that_is_there() {
        let presets: Vec<&str> = crate::engine::PolicyConfig::presets()
            .iter()
            .map(|p| p.name)
            .collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(default_dir());
        for app in SEED_APPS {
            assert!(presets.contains(&app.preset), "{}", app.preset);
            assert!(dir.join(app.file).is_file(), "{}", app.file);
        }
    }

    #[test]
    fn a_missing_folder_is_said_with_the_way_out() {
        let e = SEED_APPS[0].available(Path::new("/nonexistent")).err();
        assert!(e.is_some_and(|e| e.contains("--apps-dir")));
    }
}
