//! An app under test as a scenario's target (`[target.app]`): keyrotor starts the app (or
//! uses one already running), gives it the embedded mock's URL and keys in the convention it
//! reads, drives traffic at its HTTP endpoint, and learns from the mock which upstream calls
//! each request caused. The driver puts a marker (`[kr:<id>]`) in each request's user text;
//! apps forward the user's text, and the mock files every call under the marker it finds
//! (`mock_groq::attribution`).
//!
//! Real time only, at the mock's time scale 1: an external process cannot share a paused
//! clock, and an app's own timers (a 60 s cooldown) would not scale.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::http::{HeaderMap, HeaderValue};

use tokio::time::Instant;

use crate::engine::failure::{self, Failure};
use crate::engine::policy::GiveUp;
use crate::engine::rotor::{Attempt, Failed};
use crate::engine::transport::Reply;
use crate::engine::{ApiKey, ChatRequest, Sent, Trace};
use crate::spec::scenario::AppTarget;
use crate::spec::scenario::app::body;
use mock_groq::attribution::{self, Call};
use mock_groq::state::Mock;

/// The environment variables that give `keys` to an app reading `convention`.
pub fn key_variables(convention: &str, keys: &[ApiKey]) -> Vec<(String, String)> {
    let list = |keys: &[ApiKey]| {
        keys.iter()
            .map(ApiKey::expose)
            .collect::<Vec<_>>()
            .join(",")
    };
    let (first, rest) = match keys.split_first() {
        Some((first, rest)) => (first.expose().to_owned(), rest),
        None => return Vec::new(),
    };
    match convention {
        "GROQ_API_KEY1" => keys
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("GROQ_API_KEY{}", i + 1), k.expose().to_owned()))
            .collect(),
        "GROQ_API_KEYS" => vec![("GROQ_API_KEYS".into(), list(keys))],
        "GROQ_API_KEY_BACKUP" | "GROQ_API_KEY_FALLBACK" => {
            let mut vars = vec![("GROQ_API_KEY".into(), first)];
            if !rest.is_empty() {
                vars.push((convention.to_owned(), list(rest)));
            }
            vars
        }
        _ => std::iter::once(("GROQ_API_KEY".to_owned(), first))
            .chain(
                rest.iter()
                    .enumerate()
                    .map(|(i, k)| (format!("GROQ_API_KEY_{}", i + 2), k.expose().to_owned())),
            )
            .collect(),
    }
}

/// A started app: stopped when dropped. Its output goes to a log file.
#[derive(Debug)]
pub struct RunningApp {
    child: Option<Child>,
    /// Its stdout and stderr.
    pub log: PathBuf,
    /// Where the driver posts.
    pub url: String,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // The app leads its own process group (see `start`): killing the group also stops
            // what it started (`tsx` runs the app in a child node process).
            if let Ok(id) = i32::try_from(child.id()) {
                let group = nix::unistd::Pid::from_raw(id);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The last `n` lines of a log file, for an error message.
fn tail(path: &Path, n: usize) -> String {
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Starts the app (if it has a command) with the mock's URL and keys, and waits until it is
/// ready. `log` receives its output.
pub async fn start(
    app: &AppTarget,
    mock_url: &str,
    keys: &[ApiKey],
    log: &Path,
) -> anyhow::Result<RunningApp> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("no free port for the app")?
        .port();
    let url = app.url.replace("{port}", &port.to_string());
    let mut running = RunningApp {
        child: None,
        log: log.to_owned(),
        url,
    };
    if let Some((program, args)) = app.command.split_first() {
        let out = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(program)
            .process_group(0)
            .args(args)
            .env("PORT", port.to_string())
            .env("GROQ_BASE_URL", mock_url)
            .env("OPENAI_BASE_URL", format!("{mock_url}/openai/v1"))
            .envs(key_variables(&app.keys_env, keys))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start the app `{}`", app.command.join(" ")))?;
        running.child = Some(child);
    }
    wait_ready(app, &mut running).await?;
    Ok(running)
}

async fn wait_ready(app: &AppTarget, running: &mut RunningApp) -> anyhow::Result<()> {
    let Some(path) = &app.ready else {
        return Ok(());
    };
    let base = reqwest::Url::parse(&running.url)?;
    let probe = base.join(path)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let until = Instant::now() + app.ready_timeout;
    loop {
        if let Some(child) = &mut running.child
            && let Some(status) = child.try_wait()?
        {
            bail!(
                "the app exited ({status}) before it was ready; the last lines of {}:\n{}",
                running.log.display(),
                tail(&running.log, 20)
            );
        }
        if client
            .get(probe.clone())
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        if Instant::now() >= until {
            bail!(
                "the app did not answer GET {probe} with 2xx within {:?}; the last lines of {}:\n{}",
                app.ready_timeout,
                running.log.display(),
                tail(&running.log, 20)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends the driver's requests to the app, and reads what they caused upstream from the
/// mock's attribution.
pub struct AppSender {
    client: reqwest::Client,
    url: reqwest::Url,
    template: String,
    fallback: Option<String>,
    mock: Arc<Mock>,
}

impl std::fmt::Debug for AppSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSender")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl AppSender {
    /// A sender to `running`'s URL; `mock` must have attribution on.
    pub fn new(
        app: &AppTarget,
        running: &RunningApp,
        mock: Arc<Mock>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(mock.attribution.is_some(), "the mock's attribution is off");
        Ok(Self {
            // Idle connections closed before the app's keep-alive timeout (Node's is 5 s), as
            // the engine's own client does, so no request is written into one it is closing.
            client: reqwest::Client::builder()
                .timeout(timeout)
                .pool_idle_timeout(crate::engine::transport::http::IDLE_LIMIT)
                .build()?,
            url: reqwest::Url::parse(&running.url)?,
            template: app.request.clone(),
            fallback: app.fallback.clone(),
            mock,
        })
    }

    /// The mock's clock, in real time since it started.
    fn mock_now(&self) -> Duration {
        self.mock.clock.to_real(self.mock.clock.now())
    }

    /// The upstream calls request `id` caused, taken out of the log.
    fn calls(&self, id: u64) -> Vec<Call> {
        self.mock
            .attribution
            .as_ref()
            .map(|log| mock_groq::state::lock(log).take(id))
            .unwrap_or_default()
    }
}

/// The user's text of a driver request (its first message), with the marker for `id`.
fn prompt(request: &ChatRequest, id: u64) -> String {
    let text = serde_json::from_slice::<serde_json::Value>(&request.body)
        .ok()
        .and_then(|v| v["messages"][0]["content"].as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{text} {}", attribution::marker(id))
}

/// An upstream call as an attempt of the request that started at `start` (mock clock).
fn attempt(call: &Call, start: Duration) -> Option<Attempt> {
    let key = call.key?;
    let failure = match call.status {
        0 => Some(Failure::Connection),
        200..=299 => None,
        status => {
            let mut headers = HeaderMap::new();
            if let Some(secs) = call.retry_after {
                headers.insert("retry-after", HeaderValue::from(secs));
            }
            failure::classify(status, &headers, b"")
        }
    };
    Some(Attempt {
        key,
        start: call.arrived.saturating_sub(start),
        end: call.answered.saturating_sub(start),
        failure,
    })
}

impl crate::drive::driver::Sender for AppSender {
    async fn send(&self, id: u64, request: &ChatRequest) -> Sent {
        let started = Instant::now();
        let mock_start = self.mock_now();
        let text = body(&self.template, &prompt(request, id)).unwrap_or_default();
        let answer = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await;
        let reply = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                response.bytes().await.map(|body| Reply {
                    status,
                    headers,
                    body,
                })
            }
            Err(e) => Err(e),
        };
        let mut trace = Trace {
            attempts: self
                .calls(id)
                .iter()
                .filter_map(|c| attempt(c, mock_start))
                .collect(),
            ..Trace::default()
        };
        trace.total = started.elapsed();
        let outcome = match reply {
            Ok(reply) if (200..300).contains(&reply.status) => {
                let fell_back = self
                    .fallback
                    .as_ref()
                    .is_some_and(|f| reply.body.windows(f.len()).any(|w| w == f.as_bytes()));
                if fell_back {
                    Err(app_failed(&trace, None, true))
                } else {
                    Ok(reply)
                }
            }
            Ok(reply) => {
                let failure = failure::classify(reply.status, &reply.headers, &reply.body);
                Err(app_failed(&trace, failure, false))
            }
            Err(e) => {
                let failure = if e.is_timeout() {
                    Failure::Timeout
                } else {
                    Failure::Connection
                };
                Err(app_failed(&trace, Some(failure), false))
            }
        };
        Sent { outcome, trace }
    }
}

/// A request the app did not answer: its reason is the last upstream call's failure (a 429
/// behind the app's 503 says more than the 503), else the app's own (`failure`).
fn app_failed(trace: &Trace, failure: Option<Failure>, degraded: bool) -> Failed {
    let upstream = trace.attempts.last().and_then(|a| a.failure.clone());
    let last = upstream.or(failure);
    Failed {
        give_up: if trace.attempts.is_empty() {
            GiveUp::NoKeyAvailable
        } else {
            GiveUp::AllKeysFailed
        },
        last,
        degraded,
        retry_after: None,
        answer: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::scenario::app::KEY_CONVENTIONS;

    fn app(toml: &str) -> AppTarget {
        toml::from_str(toml).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let ok = app("command = [\"python3\", \"app.py\"]\nurl = \"http://127.0.0.1:{port}/chat\"");
        assert_eq!(ok.problem(), None);
        let field = |t: &str| app(t).problem().map(|p| p.0);
        assert_eq!(field("url = \"ftp://x\""), Some("target.app.url"));
        assert_eq!(
            field("url = \"http://127.0.0.1:{port}/\""),
            Some("target.app.url"),
            "no command"
        );
        assert_eq!(
            field("url = \"http://h/\"\nrequest = \"{{prompt}}\""),
            Some("target.app.request")
        );
        assert_eq!(
            field("url = \"http://h/\"\nrequest = '{\"m\": 1}'"),
            Some("target.app.request")
        );
        assert_eq!(
            field("url = \"http://h/\"\nkeys_env = \"KEYS\""),
            Some("target.app.keys_env")
        );
        assert_eq!(
            field("url = \"http://h/\"\nready = \"health\""),
            Some("target.app.ready")
        );
        assert!(toml::from_str::<AppTarget>("url = \"http://h/\"\nport = 1").is_err());
    }

    #[test]
    fn a_prompt_goes_into_the_template_as_a_json_string() {
        let text = body(r#"{"message": "{{prompt}}"}"#, "say \"hi\"\n [kr:3]");
        let value: serde_json::Value =
            serde_json::from_str(&text.unwrap_or_default()).unwrap_or_default();
        assert_eq!(value["message"], "say \"hi\"\n [kr:3]");
    }

    #[test]
    fn keys_go_out_in_the_apps_convention() {
        let keys = [ApiKey::new("a"), ApiKey::new("b"), ApiKey::new("c")];
        let vars = |c| key_variables(c, &keys);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            vars("GROQ_API_KEY"),
            [
                pair("GROQ_API_KEY", "a"),
                pair("GROQ_API_KEY_2", "b"),
                pair("GROQ_API_KEY_3", "c")
            ]
        );
        assert_eq!(
            vars("GROQ_API_KEY1"),
            [
                pair("GROQ_API_KEY1", "a"),
                pair("GROQ_API_KEY2", "b"),
                pair("GROQ_API_KEY3", "c")
            ]
        );
        assert_eq!(vars("GROQ_API_KEYS"), [pair("GROQ_API_KEYS", "a,b,c")]);
        assert_eq!(
            vars("GROQ_API_KEY_BACKUP"),
            [
                pair("GROQ_API_KEY", "a"),
                pair("GROQ_API_KEY_BACKUP", "b,c")
            ]
        );
        // What the engine reads back is what was given, in order.
        for convention in KEY_CONVENTIONS {
            let given = key_variables(convention, &keys);
            let loaded = crate::engine::keys::from_vars(|name| {
                given
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            });
            let read: Vec<&str> = loaded.keys.iter().map(ApiKey::expose).collect();
            assert_eq!(read, ["a", "b", "c"], "{convention}");
        }
    }
}
