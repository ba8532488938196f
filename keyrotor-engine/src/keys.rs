//! Loading API keys in every convention the seeds use, from the environment or a file.
//!
//! Order: `GROQ_API_KEY` (the primary), `GROQ_API_KEY_2`…`_N`, `GROQ_API_KEY1`…`N`, then the
//! comma lists `GROQ_API_KEYS`, `GROQ_API_KEY_BACKUP`, `GROQ_API_KEY_FALLBACK`. Blanks and
//! duplicates are dropped with a warning that names the variable and the key's fingerprint,
//! never the key.

use std::path::Path;

pub use groq_wire::ApiKey;

/// The highest numbered variable looked at (`GROQ_API_KEY_64`, `GROQ_API_KEY64`).
const MAX_NUMBERED: usize = 64;

/// Keys that were found, and what was dropped.
#[derive(Debug, Clone, Default)]
pub struct LoadedKeys {
    /// The keys, primary first.
    pub keys: Vec<ApiKey>,
    /// Why entries were dropped (no key values in them).
    pub warnings: Vec<String>,
}

/// Errors of key loading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read.
    #[error("cannot read key file {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// Nothing usable was found.
    #[error("no API keys found in {0}")]
    None(String),
    /// Not a regular file (a directory, a device, a pipe), or larger than a key file is.
    #[error("{path} is not a key file: {why}")]
    NotAKeyFile {
        /// The file.
        path: String,
        /// What it is instead.
        why: String,
    },
    /// A line that is neither a key nor `NAME=value` (its text is not repeated: it may be a
    /// secret).
    #[error("{path}, line {line}: {why}")]
    Line {
        /// The file.
        path: String,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// The largest key file read: 1 MiB (a pool's keys take a few kilobytes).
pub const MAX_KEY_FILE: u64 = 1 << 20;

/// The text of a key file: a regular file of at most [`MAX_KEY_FILE`] bytes, read no further
/// than that whatever it grows to meanwhile.
fn read_key_file(path: &Path) -> Result<String, KeyError> {
    let name = || path.display().to_string();
    let read = |error| KeyError::Read {
        path: name(),
        error,
    };
    groq_wire::file::read_text(path, MAX_KEY_FILE).map_err(|source| {
        if matches!(source.kind(), std::io::ErrorKind::InvalidInput) {
            KeyError::NotAKeyFile {
                path: name(),
                why: source.to_string(),
            }
        } else {
            read(source)
        }
    })
}

/// Why a line of a key file is no key, if it is not: a key is one word of visible ASCII
/// without quotes.
fn not_a_key(line: &str) -> Option<&'static str> {
    if line.chars().any(char::is_whitespace) {
        Some("not a key (a key is one word; a line with spaces is not one)")
    } else if !line
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\'')
    {
        Some("not a key (a key is visible ASCII without quotes)")
    } else {
        None
    }
}

/// Reads Groq's keys from the process environment (`GROQ_API_KEY` and the seed apps'
/// variations of it).
pub fn from_env() -> Result<LoadedKeys, KeyError> {
    from_env_named("GROQ_API_KEY")
}

/// Reads keys from the process environment under `base` (a provider's
/// [`crate::provider::Provider::key_variable`], e.g. `OPENAI_API_KEY`) and its variations:
/// `BASE_2`…, `BASE1`…, `BASES` (comma-separated), `BASE_BACKUP`, `BASE_FALLBACK`.
pub fn from_env_named(base: &str) -> Result<LoadedKeys, KeyError> {
    let loaded = from_vars_named(base, |name| std::env::var(name).ok());
    if loaded.keys.is_empty() {
        return Err(KeyError::None(format!(
            "the environment (set {base}, {base}_2…, {base}1…, or {base}S)"
        )));
    }
    Ok(loaded)
}

/// Reads Groq's keys from a file: either `NAME=value` lines in the environment conventions (a
/// .env file), or one key per line. Blank lines and `#` comments are skipped.
pub fn from_file(path: &Path) -> Result<LoadedKeys, KeyError> {
    from_file_named(path, "GROQ_API_KEY")
}

/// Like [`from_file`], with `NAME=value` lines read under `base` and its variations (a
/// provider's [`crate::provider::Provider::key_variable`]).
pub fn from_file_named(path: &Path, base: &str) -> Result<LoadedKeys, KeyError> {
    from_text_named(&read_key_file(path)?, path, base)
}

/// The keys in a key file's `text` (see [`from_file`]); `path` names the file in errors.
pub fn from_text_named(text: &str, path: &Path, base: &str) -> Result<LoadedKeys, KeyError> {
    // Each line with its number in the file; blank lines and comments left out.
    let lines: Vec<(usize, &str)> = text
        .lines()
        .map(str::trim)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let dotenv = lines.iter().any(|(_, l)| l.contains('='));
    let bad_line = |line: usize, why| KeyError::Line {
        path: path.display().to_string(),
        line,
        why,
    };
    let loaded = if dotenv {
        if let Some((line, _)) = lines.iter().find(|(_, l)| !l.contains('=')) {
            return Err(bad_line(
                *line,
                "not NAME=value, in a file of NAME=value lines",
            ));
        }
        let vars: Vec<(String, String)> = lines
            .iter()
            .filter_map(|(_, l)| l.split_once('='))
            .map(|(k, v)| {
                let k = k.trim().trim_start_matches("export ").trim();
                (
                    k.to_owned(),
                    v.trim().trim_matches('"').trim_matches('\'').to_owned(),
                )
            })
            .collect();
        from_vars_named(base, |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    } else {
        let mut loaded = LoadedKeys::default();
        for (line, text) in &lines {
            if let Some(why) = not_a_key(text) {
                return Err(bad_line(*line, why));
            }
            push(&mut loaded, text, &format!("line {line}"));
        }
        loaded
    };
    if loaded.keys.is_empty() {
        return Err(KeyError::None(path.display().to_string()));
    }
    Ok(loaded)
}

/// Applies Groq's conventions to any variable lookup.
pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> LoadedKeys {
    from_vars_named("GROQ_API_KEY", lookup)
}

/// Applies the conventions under `base` to any variable lookup.
pub fn from_vars_named(base: &str, lookup: impl Fn(&str) -> Option<String>) -> LoadedKeys {
    let mut loaded = LoadedKeys::default();
    let single = |name: String, loaded: &mut LoadedKeys| {
        if let Some(value) = lookup(&name) {
            push(loaded, &value, &name);
        }
    };
    single(base.to_owned(), &mut loaded);
    for n in 2..=MAX_NUMBERED {
        single(format!("{base}_{n}"), &mut loaded);
    }
    for n in 1..=MAX_NUMBERED {
        single(format!("{base}{n}"), &mut loaded);
    }
    for name in [
        format!("{base}S"),
        format!("{base}_BACKUP"),
        format!("{base}_FALLBACK"),
    ] {
        let name = name.as_str();
        if let Some(list) = lookup(name) {
            for (i, part) in list.split(',').enumerate() {
                push(&mut loaded, part, &format!("{name} item {}", i + 1));
            }
        }
    }
    loaded
}

fn push(loaded: &mut LoadedKeys, value: &str, source: &str) {
    let value = value.trim();
    if value.is_empty() {
        loaded.warnings.push(format!("{source} is blank; skipped"));
        return;
    }
    // Every error and log line hides it from here on, whatever its shape.
    groq_wire::secret::remember(value);
    let key = ApiKey::new(value);
    if loaded.keys.contains(&key) {
        loaded
            .warnings
            .push(format!("{source} repeats key {key}; skipped"));
        return;
    }
    loaded.keys.push(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> LoadedKeys {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_vars(|name| map.get(name).cloned())
    }

    fn values(loaded: &LoadedKeys) -> Vec<&str> {
        loaded.keys.iter().map(ApiKey::expose).collect()
    }

    #[test]
    fn every_seed_convention_in_priority_order() {
        let loaded = vars(&[
            ("GROQ_API_KEY", "primary"),
            ("GROQ_API_KEY_2", "second"),
            ("GROQ_API_KEY_3", "third"),
            ("GROQ_API_KEY1", "one"),
            ("GROQ_API_KEY5", "five"),
            ("GROQ_API_KEYS", "a, b ,c"),
            ("GROQ_API_KEY_BACKUP", "backup1,backup2"),
            ("GROQ_API_KEY_FALLBACK", "fb1"),
        ]);
        assert_eq!(
            values(&loaded),
            [
                "primary", "second", "third", "one", "five", "a", "b", "c", "backup1", "backup2",
                "fb1"
            ]
        );
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn blanks_and_duplicates_dropped_with_warnings_that_hide_keys() {
        let loaded = vars(&[
            ("GROQ_API_KEY", "sekrit_k1"),
            ("GROQ_API_KEY_2", "  "),
            ("GROQ_API_KEYS", "sekrit_k1,,sekrit_k2"),
        ]);
        assert_eq!(values(&loaded), ["sekrit_k1", "sekrit_k2"]);
        assert_eq!(loaded.warnings.len(), 3, "{:?}", loaded.warnings);
        assert!(
            loaded.warnings.iter().all(|w| !w.contains("sekrit")),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn files_one_per_line_or_dotenv() {
        let dir = std::env::temp_dir().join(format!("keyrotor-keys-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let plain = dir.join("keys.txt");
        let dotenv = dir.join(".env");
        let empty = dir.join("empty.txt");
        let write = |p: &Path, t: &str| std::fs::write(p, t).unwrap_or_else(|e| panic!("{e}"));
        write(&plain, "# keys\nk1\n\nk2\nk1\n");
        write(
            &dotenv,
            "GROQ_API_KEY=\"p\"\nexport GROQ_API_KEY_FALLBACK=f1,f2\nOTHER=x\n",
        );
        write(&empty, "# nothing\n");
        let loaded = from_file(&plain).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(values(&loaded), ["k1", "k2"]);
        assert_eq!(loaded.warnings.len(), 1);
        let loaded = from_file(&dotenv).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(values(&loaded), ["p", "f1", "f2"]);
        let openai = dir.join("openai.env");
        write(
            &openai,
            "GROQ_API_KEY=g\nOPENAI_API_KEY=o1\nOPENAI_API_KEY_2=o2\n",
        );
        let loaded = from_file_named(&openai, "OPENAI_API_KEY").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            values(&loaded),
            ["o1", "o2"],
            "only the provider's variables"
        );
        assert!(matches!(from_file(&empty), Err(KeyError::None(_))));
        assert!(matches!(
            from_file(&dir.join("missing")),
            Err(KeyError::Read { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_key_file_line_that_is_no_key_is_refused_by_its_number_not_its_text() {
        let dir = std::env::temp_dir().join(format!("keyrotor-key-lines-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            path
        };
        let plain = file(
            "plain",
            "gsk_a1\n# a comment\nAuthorization: Bearer gsk_secret_9\n",
        );
        let error = from_file_named(&plain, "GROQ_API_KEY")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 3") && !error.contains("gsk_secret_9"),
            "{error}"
        );
        let dotenv = file("dotenv", "GROQ_API_KEY=gsk_a1\ngsk_stray_secret\n");
        let error = from_file_named(&dotenv, "GROQ_API_KEY")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 2") && !error.contains("gsk_stray_secret"),
            "{error}"
        );
        let good = file("good", "gsk_a1\n\ngsk_a2\n");
        assert_eq!(
            from_file_named(&good, "GROQ_API_KEY")
                .map(|l| l.keys.len())
                .ok(),
            Some(2)
        );
        let error = from_file_named(&dir, "GROQ_API_KEY")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("not a regular file"), "{error}");
        let big = file("big", &"gsk_a1\n".repeat(200_000));
        let error = from_file_named(&big, "GROQ_API_KEY")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("more than the"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
