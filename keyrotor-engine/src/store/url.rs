//! The Redis URL a scenario, a flag or an operator names, checked before any connection.

/// What a Redis URL may look like, said in every error about one.
const EXPECTED: &str = "expected redis://host:port[/db], redis+unix:///path or env:NAME";

/// Why a Redis URL was refused. No message repeats the URL: it may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisUrlError {
    /// `env:NAME` names a variable that is not set.
    #[error("redis URL: environment variable {0} is not set")]
    Unset(String),
    /// The variable `env:NAME` names holds no Redis URL.
    #[error("redis URL in {0}: {EXPECTED}")]
    NotRedis(String),
    /// Not a URL at all (the parser's reason, which never quotes the text).
    #[error("redis URL: {0}; {EXPECTED}")]
    Unparsable(String),
    /// A password written where it would be seen (a file, a command line).
    #[error(
        "redis URL: a password does not belong in a file or on a command line; put the URL in an environment variable and write env:NAME"
    )]
    Password,
    /// A Unix socket without an absolute path.
    #[error("redis URL: a Unix socket needs an absolute path, e.g. redis+unix:///run/redis.sock")]
    RelativeSocket,
    /// Another scheme, or a TCP URL without a host.
    #[error("redis URL: scheme `{scheme}` with host `{host}`; {EXPECTED}")]
    Scheme {
        /// The scheme written.
        scheme: String,
        /// The host written (empty when none).
        host: String,
    },
}

/// The Redis URL `text` names: `redis://host:port[/db]` (or `rediss://`) or a Unix socket,
/// `redis+unix:///path[?db=N]` (also `unix:///path`), as written, or `env:NAME`, the URL in
/// that environment variable (looked up with `env`). A password (`:pw@`, or `pass=` in a
/// socket's query) is refused unless it comes from the environment: it would sit in a file
/// or a command line.
///
/// ```
/// use keyrotor_engine::store::redis_url;
/// let env = |name: &str| (name == "REDIS").then(|| "redis://:pw@10.0.0.7:6379/".to_owned());
/// let url = redis_url("redis://127.0.0.1:6379/0", &env);
/// assert_eq!(url.as_deref(), Ok("redis://127.0.0.1:6379/0"));
/// assert!(redis_url("env:REDIS", &env).is_ok());
/// assert!(redis_url("redis://:pw@10.0.0.7:6379/", &env).is_err());
/// ```
pub fn redis_url(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, RedisUrlError> {
    if let Some(name) = text.strip_prefix("env:") {
        let url = env(name).ok_or_else(|| RedisUrlError::Unset(name.to_owned()))?;
        let known = ["redis://", "rediss://", "redis+unix://", "unix://"];
        return match known.iter().any(|s| url.starts_with(s)) {
            true => Ok(url),
            false => Err(RedisUrlError::NotRedis(name.to_owned())),
        };
    }
    let url = reqwest::Url::parse(text).map_err(|e| RedisUrlError::Unparsable(e.to_string()))?;
    let password = !url.username().is_empty()
        || url.password().is_some()
        || url.query_pairs().any(|(name, _)| name == "pass");
    if password {
        return Err(RedisUrlError::Password);
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "redis" | "rediss" if !host.is_empty() => Ok(text.to_owned()),
        "redis+unix" | "unix" if host.is_empty() && url.path().len() > 1 => Ok(text.to_owned()),
        "redis+unix" | "unix" => Err(RedisUrlError::RelativeSocket),
        scheme => Err(RedisUrlError::Scheme {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls_with_a_password_come_from_the_environment_only() {
        let env = |n: &str| (n == "R").then(|| "redis://:pw@127.0.0.1:6379/".to_owned());
        assert_eq!(
            redis_url("redis://127.0.0.1:6379/0", &env).as_deref(),
            Ok("redis://127.0.0.1:6379/0")
        );
        assert!(
            redis_url("redis://:pw@127.0.0.1:6379/", &env)
                .is_err_and(|e| e.to_string().contains("env:NAME") && !e.to_string().contains("pw"))
        );
        assert!(redis_url("env:R", &env).is_ok());
        assert!(redis_url("env:MISSING", &env).is_err());
        assert!(redis_url("http://x", &env).is_err());
        let socket = "redis+unix:///run/redis.sock?db=2";
        assert_eq!(redis_url(socket, &env).as_deref(), Ok(socket));
        assert!(redis_url("unix:///run/redis.sock", &env).is_ok());
        let secret = redis_url("redis+unix:///run/redis.sock?db=1&pass=pw", &env);
        assert!(secret.is_err_and(|e| e.to_string().contains("environment variable")));
        let encoded = redis_url("unix:///run/redis.sock?pa%73s=pw", &env);
        assert!(encoded.is_err_and(|e| e.to_string().contains("environment variable")));
        assert!(redis_url("redis+unix://relative.sock", &env).is_err());
        // No error repeats a password, whatever else is wrong with the URL.
        for bad in [
            "redis+unix://relative.sock?pass=hunter2",
            "http://:hunter2@x/",
            "redis://user:hunter2@/",
            "redis://hunter2@x:1/",
        ] {
            assert!(
                redis_url(bad, &env).is_err_and(|e| !e.to_string().contains("hunter2")),
                "{bad}"
            );
        }
    }
}
