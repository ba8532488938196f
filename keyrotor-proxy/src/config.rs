//! `keyrotor-proxy --config proxy.toml`: the proxy as a service, from a file: where it
//! listens, its pools (each an upstream, provider, policy, deadline, the models it serves and
//! its keys from the environment or a key file — never inline), its clients (each a name, a
//! token from the environment or a file, optional RPM and TPM limits) and the admin token of
//! `POST /admin/reload`.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//!
//! [[pool]]
//! name = "chat"
//! upstream = "https://api.groq.com"
//! provider = "groq"
//! policy = "adaptive"
//! models = ["openai/gpt-oss-120b"]          # a request's `model` picks its pool
//! keys_file = "/run/secrets/groq.keys"      # or keys_env = "GROQ_API_KEY"
//!
//! [[pool]]
//! name = "small"
//! models = ["llama-3.1-8b-instant"]
//! keys_env = "GROQ_SMALL_KEY"
//!
//! [[client]]
//! name = "web"
//! token_env = "WEB_TOKEN"                   # or token_file = "/run/secrets/web.token"
//! rpm = 600                                 # optional; tpm too
//!
//! [admin]
//! token_env = "ADMIN_TOKEN"                 # or token_file; enables POST /admin/reload
//! ```
//!
//! A request's `model` picks the pool that lists it; a pool without `models` takes every
//! model no other pool lists (at most one such pool); with none, an unlisted model answers the
//! provider's 404. Checked on load: an error names the file, the line and the field. The
//! file is read again on SIGHUP and `POST /admin/reload` ([`crate::reload`]).

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::clients::ClientSpec;
use crate::{Env, ProviderName};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// Where to listen (the flag's default when absent).
    pub listen: Option<std::net::SocketAddr>,
    /// The pools, at least one.
    #[serde(rename = "pool")]
    pub pools: Vec<PoolConfig>,
    /// The clients; none means any client that reaches the proxy is served.
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientConfig>,
    /// Who may ask for a reload over HTTP.
    pub admin: Option<AdminConfig>,
}

/// `[admin]`: the token `POST /admin/reload` wants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// The environment variable holding it.
    pub token_env: Option<String>,
    /// A file holding it (a secret file).
    pub token_file: Option<PathBuf>,
}

/// A pool of keys behind one upstream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Its name, in logs, `/status` and `/metrics` (1 to 32 of A-Z a-z 0-9 _ . -; on Redis
    /// its key state is kept under `<--pool-id>.<name>`).
    pub name: Spanned<String>,
    /// The upstream's base URL.
    #[serde(default = "groq_url")]
    pub upstream: String,
    /// Which API the keys belong to: `groq`, `openai`, `gemini`, `openrouter` or `cerebras`.
    #[serde(default = "groq")]
    pub provider: ProviderName,
    /// The rotation policy, as `--policy` writes it.
    #[serde(default = "adaptive")]
    pub policy: String,
    /// Longest a request may take, failovers included (`60s` by default).
    #[serde(default, with = "humantime_serde")]
    pub deadline: Option<std::time::Duration>,
    /// The models it serves; empty: every model no other pool lists.
    #[serde(default)]
    pub models: Vec<String>,
    /// A key file (one key per line, or `NAME=value` lines; a secret file, read again on
    /// reload).
    pub keys_file: Option<PathBuf>,
    /// The environment variable holding its keys (`NAME`, `NAME_2`…, `NAME1`…, `NAMES`).
    pub keys_env: Option<String>,
}

/// One client.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// How logs, `/status` and `/metrics` name it.
    pub name: Spanned<String>,
    /// The environment variable holding its token.
    pub token_env: Option<String>,
    /// A file holding its token (a secret file).
    pub token_file: Option<PathBuf>,
    /// Requests per minute (1 to 10^9), if limited.
    pub rpm: Option<Limit>,
    /// Tokens per minute (1 to 10^9), if limited.
    pub tpm: Option<Limit>,
}

/// A per-minute limit: a whole number from 1 to 10^9.
#[derive(Debug, Clone, Copy)]
pub struct Limit(pub NonZeroU32);

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)?;
        u32::try_from(value)
            .ok()
            .filter(|v| (1..=1_000_000_000).contains(v))
            .and_then(NonZeroU32::new)
            .map(Limit)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a limit per minute from 1 to 10^9, got {value} (leave it out for none)"
                ))
            })
    }
}

fn groq_url() -> String {
    "https://api.groq.com".into()
}
fn groq() -> ProviderName {
    ProviderName::Groq
}
fn adaptive() -> String {
    "adaptive".into()
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong, with the line where one is known.
    pub message: String,
}

impl ProxyConfig {
    /// Reads and checks a config file (at most 1 MiB).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let fail = |message: String| ConfigError {
            path: path.display().to_string(),
            message,
        };
        let text = groq_wire::file::read_text(path, groq_wire::file::TEXT_CAP)
            .map_err(|e| fail(format!("cannot read it: {e}")))?;
        let config: ProxyConfig = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let line = |at: &Spanned<String>| groq_wire::file::line_of(&text, at.span().start);
        if config.pools.is_empty() {
            return Err(fail("no [[pool]]: a proxy needs one pool of keys".into()));
        }
        let mut catch_all: Option<&Spanned<String>> = None;
        for (i, pool) in config.pools.iter().enumerate() {
            let name = pool.name.get_ref();
            let at = line(&pool.name);
            if !is_pool_name(name) {
                return Err(fail(format!(
                    "line {at}: pool name `{name}`: 1 to 32 of A-Z a-z 0-9 _ . -"
                )));
            }
            let earlier = &config.pools[..i];
            if earlier.iter().any(|p| p.name.get_ref() == name) {
                return Err(fail(format!("line {at}: two pools are named `{name}`")));
            }
            for model in &pool.models {
                if let Some(other) = earlier.iter().find(|p| p.models.contains(model)) {
                    return Err(fail(format!(
                        "line {at}: pool `{name}`: models: `{model}` is already served by pool `{}`: a model picks one pool",
                        other.name.get_ref()
                    )));
                }
            }
            if pool.models.is_empty() {
                if let Some(first) = catch_all {
                    return Err(fail(format!(
                        "line {at}: pool `{name}`: models: pool `{}` already takes every unlisted model; list this pool's models",
                        first.get_ref()
                    )));
                }
                catch_all = Some(&pool.name);
            }
        }
        // Secrets come from exactly one place: the environment or a (secret) file.
        let exactly_one = |given: [bool; 2]| given[0] != given[1];
        let one_of = |entry: &str, name: &Spanned<String>, given: [bool; 2], what: &str| {
            if exactly_one(given) {
                return Ok(());
            }
            let at = line(name);
            Err(fail(format!(
                "line {at}: {entry} `{}`: {what}",
                name.get_ref()
            )))
        };
        for pool in &config.pools {
            let given = [pool.keys_file.is_some(), pool.keys_env.is_some()];
            let what =
                "keys: give exactly one of keys_file and keys_env (keys are never written inline)";
            one_of("pool", &pool.name, given, what)?;
        }
        for client in &config.clients {
            let given = [client.token_env.is_some(), client.token_file.is_some()];
            let what = "token: give exactly one of token_env and token_file";
            one_of("client", &client.name, given, what)?;
        }
        if let Some(admin) = &config.admin
            && !exactly_one([admin.token_env.is_some(), admin.token_file.is_some()])
        {
            let what = "[admin]: token: give exactly one of token_env and token_file";
            return Err(fail(what.into()));
        }
        Ok(config)
    }

    /// The clients, their tokens read from the environment or their files.
    pub fn client_specs(&self, env: Env<'_>) -> anyhow::Result<Vec<ClientSpec>> {
        let mut specs = Vec::with_capacity(self.clients.len());
        for client in &self.clients {
            let name = client.name.get_ref();
            let token = secret(&client.token_env, &client.token_file, env)
                .map_err(|e| anyhow::anyhow!("client `{name}`: {e}"))?;
            specs.push(ClientSpec {
                name: name.clone(),
                token,
                rpm: client.rpm.map(|l| l.0),
                tpm: client.tpm.map(|l| l.0),
            });
        }
        Ok(specs)
    }

    /// The admin token, read from the environment or its file; `None` without `[admin]`.
    pub fn admin_token(&self, env: Env<'_>) -> anyhow::Result<Option<String>> {
        self.admin
            .as_ref()
            .map(|a| secret(&a.token_env, &a.token_file, env).map_err(|e| e.context("[admin]")))
            .transpose()
    }
}

/// A token from the variable `var` or the file `file` (exactly one given), trimmed, not
/// empty, and remembered as a secret (never logged).
fn secret(var: &Option<String>, file: &Option<PathBuf>, env: Env<'_>) -> anyhow::Result<String> {
    let token = match (var, file) {
        (Some(var), _) => env(var).ok_or_else(|| anyhow::anyhow!("token_env {var} is not set"))?,
        (None, Some(file)) => groq_wire::file::read_text(file, 64 * 1024)
            .map_err(|e| anyhow::anyhow!("token_file {}: {e}", file.display()))?,
        (None, None) => anyhow::bail!("no token"),
    };
    checked_token(&token, "the token")
}

/// A token as read (`what` says from where, for the error): trimmed, not empty, and
/// remembered as a secret so no log or report shows it.
pub(crate) fn checked_token(raw: &str, what: &str) -> anyhow::Result<String> {
    let token = raw.trim().to_owned();
    anyhow::ensure!(!token.is_empty(), "{what} is empty");
    groq_wire::secret::remember(&token);
    Ok(token)
}

/// A pool name: 1 to 32 of A-Z a-z 0-9 _ . - (it names the pool's state on Redis).
fn is_pool_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
