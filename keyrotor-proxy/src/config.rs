//! `keyrotor-proxy --config proxy.toml`: the proxy as a service, from a file: where it
//! listens, its pool (upstream, provider, policy, deadline, the models it serves, its keys
//! from the environment or a key file — never inline) and its clients (each a name, a token
//! from the environment or a file, optional RPM and TPM limits).
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//!
//! [[pool]]
//! name = "chat"
//! upstream = "https://api.groq.com"
//! provider = "groq"
//! policy = "adaptive"
//! models = ["openai/gpt-oss-120b"]          # others answer Groq's 404 model_not_found
//! keys_file = "/run/secrets/groq.keys"      # or keys_env = "GROQ_API_KEY"
//!
//! [[client]]
//! name = "web"
//! token_env = "WEB_TOKEN"                   # or token_file = "/run/secrets/web.token"
//! rpm = 600                                 # optional; tpm too
//! ```
//!
//! Checked on load: an error names the file, the line and the field. One `[[pool]]` per
//! proxy for now (routing by model across several pools comes next).

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
    /// The pools (one, for now).
    #[serde(rename = "pool")]
    pub pools: Vec<PoolConfig>,
    /// The clients; none means any client that reaches the proxy is served.
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientConfig>,
}

/// A pool of keys behind one upstream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Its name, in logs.
    pub name: Spanned<String>,
    /// The upstream's base URL.
    #[serde(default = "groq_url")]
    pub upstream: String,
    /// Which API the keys belong to: `groq` or `openai`.
    #[serde(default = "groq")]
    pub provider: Provider,
    /// The rotation policy, as `--policy` writes it.
    #[serde(default = "adaptive")]
    pub policy: String,
    /// Longest a request may take, failovers included (`60s` by default).
    #[serde(default, with = "humantime_serde")]
    pub deadline: Option<std::time::Duration>,
    /// The models it serves; a request for another answers the provider's 404. Empty: any.
    #[serde(default)]
    pub models: Vec<String>,
    /// A key file (one key per line; a secret file, read once at start).
    pub keys_file: Option<PathBuf>,
    /// The environment variable holding its keys (`NAME`, `NAME_2`…, `NAME1`…, `NAMES`).
    pub keys_env: Option<String>,
}

/// `provider = "groq" | "openai"`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Groq.
    Groq,
    /// OpenAI-style.
    Openai,
}

impl From<Provider> for ProviderName {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Groq => ProviderName::Groq,
            Provider::Openai => ProviderName::Openai,
        }
    }
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
fn groq() -> Provider {
    Provider::Groq
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
        match config.pools.as_slice() {
            [] => return Err(fail("no [[pool]]: a proxy needs one pool of keys".into())),
            [_] => {}
            [_, second, ..] => {
                return Err(fail(format!(
                    "line {}: pool `{}`: one [[pool]] per proxy for now (routing by model across pools is not built yet); run one proxy per pool",
                    line(&second.name),
                    second.name.get_ref()
                )));
            }
        }
        // Secrets come from exactly one place: the environment or a (secret) file.
        let one_of = |entry: &str, name: &Spanned<String>, given: [bool; 2], what: &str| match given
        {
            [true, false] | [false, true] => Ok(()),
            _ => Err(fail(format!(
                "line {}: {entry} `{}`: {what}",
                line(name),
                name.get_ref()
            ))),
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
        Ok(config)
    }

    /// The clients, their tokens read from the environment or their files.
    pub fn client_specs(&self, env: Env<'_>) -> anyhow::Result<Vec<ClientSpec>> {
        let mut specs = Vec::with_capacity(self.clients.len());
        for client in &self.clients {
            let name = client.name.get_ref();
            let token = match (&client.token_env, &client.token_file) {
                (Some(var), _) => env(var).ok_or_else(|| {
                    anyhow::anyhow!("client `{name}`: token_env {var} is not set")
                })?,
                (None, Some(file)) => groq_wire::file::read_text(file, 64 * 1024).map_err(|e| {
                    anyhow::anyhow!("client `{name}`: token_file {}: {e}", file.display())
                })?,
                (None, None) => anyhow::bail!("client `{name}`: no token"),
            };
            let token = token.trim().to_owned();
            anyhow::ensure!(!token.is_empty(), "client `{name}`: its token is empty");
            groq_wire::secret::remember(&token);
            specs.push(ClientSpec {
                name: name.clone(),
                token,
                rpm: client.rpm.map(|l| l.0),
                tpm: client.tpm.map(|l| l.0),
            });
        }
        Ok(specs)
    }
}
