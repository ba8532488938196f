//! An app under test as the scenario states it (`[target.app]`): how to start it, where it
//! listens, the body it takes, the convention it reads its keys in. Driving it is
//! [`crate::drive::app`]'s.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The key conventions of the seed apps, by the variable that names each.
pub const KEY_CONVENTIONS: [&str; 5] = [
    "GROQ_API_KEY",
    "GROQ_API_KEY1",
    "GROQ_API_KEYS",
    "GROQ_API_KEY_BACKUP",
    "GROQ_API_KEY_FALLBACK",
];

/// `[target.app]` of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppTarget {
    /// The command that starts the app (started by keyrotor, stopped at the end); empty to
    /// use an app already running at `url`.
    #[serde(default)]
    pub command: Vec<String>,
    /// Where the driver posts, e.g. `http://127.0.0.1:{port}/chat`; `{port}` is a free port,
    /// also given to the app as `PORT`.
    pub url: String,
    /// A path polled with GET until it answers 2xx before traffic starts, e.g. `/health`.
    #[serde(default)]
    pub ready: Option<String>,
    /// How long the app may take to become ready (1 s to 10 min).
    #[serde(default = "default_ready_timeout", with = "humantime_serde")]
    pub ready_timeout: Duration,
    /// How long the driver waits for the app's answer to one request (1 s to 10 min): an
    /// answer later than this is a timeout.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// The JSON body posted; `{{prompt}}` (inside a JSON string) becomes the user's text.
    #[serde(default = "default_request")]
    pub request: String,
    /// Which convention the app reads its keys in: `GROQ_API_KEY` (then `GROQ_API_KEY_2`…),
    /// `GROQ_API_KEY1` (…`GROQ_API_KEYn`), `GROQ_API_KEYS` (comma list), `GROQ_API_KEY_BACKUP`
    /// or `GROQ_API_KEY_FALLBACK` (`GROQ_API_KEY` and the rest in a comma list).
    #[serde(default = "default_keys_env")]
    pub keys_env: String,
    /// A 2xx answer whose body contains this text is the app's fallback: a degraded answer,
    /// not a success.
    #[serde(default)]
    pub fallback: Option<String>,
}

fn default_ready_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_timeout() -> Duration {
    Duration::from_secs(120)
}
fn default_request() -> String {
    r#"{"message": "{{prompt}}"}"#.to_owned()
}
fn default_keys_env() -> String {
    "GROQ_API_KEYS".to_owned()
}

impl AppTarget {
    /// The first problem with the settings: the field and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let with_port = self.url.replace("{port}", "1");
        let url_ok = reqwest::Url::parse(&with_port)
            .is_ok_and(|u| u.scheme() == "http" && u.host_str().is_some());
        if !url_ok {
            return Some((
                "target.app.url",
                format!("`{}` is not an http:// URL", self.url),
            ));
        }
        if self.command.is_empty() && self.url.contains("{port}") {
            return Some((
                "target.app.url",
                "`{port}` needs a `command` to give the port to".into(),
            ));
        }
        if self.command.first().is_some_and(|c| c.trim().is_empty()) {
            return Some(("target.app.command", "the program is empty".into()));
        }
        let span = Duration::from_secs(1)..=Duration::from_secs(600);
        if !span.contains(&self.ready_timeout) {
            return Some(("target.app.ready_timeout", "must be 1s to 10m".into()));
        }
        if !span.contains(&self.timeout) {
            return Some(("target.app.timeout", "must be 1s to 10m".into()));
        }
        if self.ready.as_ref().is_some_and(|r| !r.starts_with('/')) {
            return Some(("target.app.ready", "a path starting with `/`".into()));
        }
        if !self.request.contains("{{prompt}}") || body(&self.request, "x").is_none() {
            return Some((
                "target.app.request",
                "a JSON body with `{{prompt}}` inside a string, e.g. {\"message\": \"{{prompt}}\"}"
                    .into(),
            ));
        }
        if !KEY_CONVENTIONS.contains(&self.keys_env.as_str()) {
            return Some((
                "target.app.keys_env",
                format!("one of {}", KEY_CONVENTIONS.join(", ")),
            ));
        }
        None
    }
}

/// The body for `prompt`, or `None` when the template does not make JSON.
pub fn body(template: &str, prompt: &str) -> Option<String> {
    let quoted = serde_json::to_string(prompt).ok()?;
    let text = template.replace("{{prompt}}", &quoted[1..quoted.len() - 1]);
    serde_json::from_str::<serde::de::IgnoredAny>(&text).ok()?;
    Some(text)
}
