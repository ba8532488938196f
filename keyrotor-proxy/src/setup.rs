//! What the proxy serves with, read from its flags or its config file and the secrets they
//! name: the pools with their keys, the clients with their tokens, the admin token. Read at
//! start and again on every reload ([`crate::reload`]), the same way both times.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use keyrotor_engine::keys::{self, LoadedKeys};
use keyrotor_engine::{ApiKey, PolicyConfig};

use crate::clients::ClientSpec;
use crate::{Env, ProviderName, ProxyArgs, config};

/// One pool as read: where it sends, how it rotates, which models it serves, its keys.
#[derive(Clone)]
pub struct PoolSetup {
    /// Its name (`default` for the flags' pool).
    pub name: String,
    /// Where its key state lives on Redis (`--pool-id`, with `.<name>` for a config's pools).
    pub state_id: String,
    /// The upstream's base URL.
    pub upstream: String,
    /// Which API the keys belong to.
    pub provider: ProviderName,
    /// The rotation policy.
    pub policy: PolicyConfig,
    /// Longest a request may take, failovers included.
    pub deadline: Duration,
    /// The models it serves; empty: every model no other pool lists.
    pub models: Vec<String>,
    /// Its keys.
    pub keys: Vec<ApiKey>,
}

/// Everything a (re)load reads.
pub struct Setup {
    /// Where to listen (a reload cannot change it).
    pub listen: SocketAddr,
    /// The pools, in the file's order.
    pub pools: Vec<PoolSetup>,
    /// The clients; none: any client that reaches the proxy.
    pub clients: Vec<ClientSpec>,
    /// The token `POST /admin/reload` wants; none: only SIGHUP reloads.
    pub admin_token: Option<String>,
}

impl Setup {
    /// The flags alone, or the config file they name; its secrets read from `env` and files.
    pub fn read(args: &ProxyArgs, env: Env<'_>) -> anyhow::Result<Self> {
        let admin_token = match &args.admin_token_env {
            Some(name) => Some(flag_token(name, "--admin-token-env", env)?),
            None => None,
        };
        match &args.config {
            None => Self::from_flags(args, admin_token, env),
            Some(path) => Self::from_file(args, path, admin_token, env)
                .with_context(|| format!("{}", path.display())),
        }
    }

    fn from_flags(
        args: &ProxyArgs,
        admin_token: Option<String>,
        env: Env<'_>,
    ) -> anyhow::Result<Self> {
        let provider_var = args.provider.provider().key_variable();
        let loaded = match &args.keys_file {
            Some(path) => keys::from_file_named(path, provider_var)?,
            None => env_keys(provider_var, env)?,
        };
        let clients = match &args.token_env {
            Some(name) => vec![ClientSpec {
                name: "default".into(),
                token: flag_token(name, "--token-env", env)?,
                rpm: None,
                tpm: None,
            }],
            None => {
                open_listen_check(args.listen, args.public, "--token-env")?;
                Vec::new()
            }
        };
        let pool = PoolSetup {
            name: "default".into(),
            state_id: args.pool_id.clone(),
            upstream: args.upstream.clone(),
            provider: args.provider,
            policy: args.policy.clone(),
            deadline: args.deadline.into(),
            models: Vec::new(),
            keys: warned(loaded),
        };
        Ok(Self {
            listen: args.listen,
            pools: vec![pool],
            clients,
            admin_token,
        })
    }

    fn from_file(
        args: &ProxyArgs,
        path: &std::path::Path,
        admin_token: Option<String>,
        env: Env<'_>,
    ) -> anyhow::Result<Self> {
        let file = config::ProxyConfig::load(path)?;
        let clients = file.client_specs(env)?;
        let admin_token = match file.admin_token(env)? {
            Some(token) => Some(token),
            None => admin_token,
        };
        let listen = file.listen.unwrap_or(args.listen);
        if clients.is_empty() {
            open_listen_check(listen, args.public, "a [[client]]")?;
        }
        let mut pools = Vec::with_capacity(file.pools.len());
        for pool in file.pools {
            let name = pool.name.into_inner();
            let provider = pool.provider;
            let provider_var = provider.provider().key_variable();
            let policy = pool
                .policy
                .parse()
                .map_err(|e| anyhow::anyhow!("pool `{name}`: policy: {e}"))?;
            let loaded = match (&pool.keys_file, &pool.keys_env) {
                (Some(file), _) => keys::from_file_named(file, provider_var).map_err(Into::into),
                (None, Some(var)) => env_keys(var, env),
                (None, None) => Err(anyhow::anyhow!("no keys")),
            }
            .map_err(|e| e.context(format!("pool `{name}`")))?;
            pools.push(PoolSetup {
                state_id: format!("{}.{name}", args.pool_id),
                name,
                upstream: pool.upstream,
                provider,
                policy,
                deadline: pool.deadline.unwrap_or(args.deadline.into()),
                models: pool.models,
                keys: warned(loaded),
            });
        }
        Ok(Self {
            listen,
            pools,
            clients,
            admin_token,
        })
    }
}

/// The keys under `base` in the environment (`BASE`, `BASE_2`…, `BASE1`…, `BASES`).
fn env_keys(base: &str, env: Env<'_>) -> anyhow::Result<LoadedKeys> {
    let loaded = keys::from_vars_named(base, env);
    if loaded.keys.is_empty() {
        anyhow::bail!(
            "no API keys found in the environment (set {base}, {base}_2…, {base}1…, or {base}S) or a key file"
        );
    }
    Ok(loaded)
}

/// The keys, their loader's warnings said.
fn warned(loaded: LoadedKeys) -> Vec<ApiKey> {
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    loaded.keys
}

/// A token from the variable a flag names: set, not empty, remembered as a secret.
fn flag_token(name: &str, flag: &str, env: Env<'_>) -> anyhow::Result<String> {
    let token = env(name).with_context(|| format!("{flag} {name}: not set"))?;
    config::checked_token(&token, &format!("{flag} {name}: the variable"))
}

/// A proxy without client tokens serves anyone who reaches it: only on loopback, unless
/// `--public`.
fn open_listen_check(listen: SocketAddr, public: bool, missing: &str) -> anyhow::Result<()> {
    if !listen.ip().is_loopback() && !public {
        anyhow::bail!(
            "refusing to listen on {listen} without {missing}: anyone who reaches it could spend the keys (add --public to do it anyway)"
        );
    }
    eprintln!(
        "warning: no client token: any client that reaches {listen} is served with these keys"
    );
    Ok(())
}
