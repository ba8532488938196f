//! The one redaction rule for every error and log line keyrotor prints: a secret is shown as
//! its [`fingerprint`](crate::fingerprint) (`key:3f9a1c2e`), never in full.
//!
//! A secret is
//! - a word shaped like a provider's API key (`gsk_…` Groq, `sk-…` OpenAI/OpenRouter/Anthropic,
//!   `AIza…` Gemini, `csk-…` Cerebras, `xai-…`), with at least 16 characters after the prefix;
//! - the user-info of a URL (`https://user:password@host` → `https://***@host`);
//! - any value [`remember`]ed: every key read from a key file or the environment and every
//!   token read from a token variable, whatever its shape.
//!
//! [`redact`] applies the rule to a text; [`Redacting`] applies it to each write of a writer
//! (a log sink writes one event per write).
//!
//! ```
//! use groq_wire::secret;
//! let line = "cannot read gsk_0123456789abcdefghijABCDEFGHIJ: not found";
//! let shown = secret::redact(line);
//! assert!(!shown.contains("0123456789abcdef"), "{shown}");
//! assert!(shown.starts_with("cannot read key:"), "{shown}");
//! assert_eq!(secret::redact("https://u:pw@h.example/v1"), "https://***@h.example/v1");
//! ```

use std::borrow::Cow;
use std::io;
use std::sync::RwLock;

/// Prefixes of API keys by provider.
const KEY_PREFIXES: [&str; 5] = ["gsk_", "sk-", "AIza", "csk-", "xai-"];
/// Characters after a prefix before a word counts as a key.
const MIN_KEY_TAIL: usize = 16;
/// Shortest remembered secret: shorter values (`a`, `1`) would redact ordinary words.
const MIN_REMEMBERED: usize = 8;
/// Most secrets remembered: a pool has tens of keys; past this, the shape rule still holds.
const MAX_REMEMBERED: usize = 10_000;

static REMEMBERED: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a secret value (a key, a client token) so [`redact`] hides it wherever it
/// appears, whatever its shape. Values shorter than 8 characters are not remembered.
pub fn remember(value: &str) {
    if value.len() < MIN_REMEMBERED {
        return;
    }
    let Ok(mut list) = REMEMBERED.write() else {
        return;
    };
    if list.len() < MAX_REMEMBERED && !list.iter().any(|known| known == value) {
        list.push(value.to_owned());
    }
}

/// `text` with every secret in it replaced: keys by their fingerprint, URL user-info by
/// `***`. Borrowed when there is nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(list) = REMEMBERED.read() {
        for value in list.iter() {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), &crate::fingerprint(value)));
            }
        }
    }
    if let Some(shaped) = hide_key_shapes(&out) {
        out = Cow::Owned(shaped);
    }
    if let Some(urls) = hide_user_info(&out) {
        out = Cow::Owned(urls);
    }
    out
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The text with key-shaped words fingerprinted, or `None` when it has none.
fn hide_key_shapes(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    let mut words = text.char_indices().peekable();
    while let Some((start, c)) = words.next() {
        // Each word is visited at its first character only: the rest is skipped below.
        if !is_key_char(c) {
            continue;
        }
        let end = text[start..]
            .find(|c: char| !is_key_char(c))
            .map_or(text.len(), |n| start + n);
        let word = &text[start..end];
        let keyish = KEY_PREFIXES.iter().any(|p| {
            word.strip_prefix(p)
                .is_some_and(|t| t.len() >= MIN_KEY_TAIL)
        });
        if keyish {
            out.push_str(&text[last..start]);
            out.push_str(&crate::fingerprint(word));
            last = end;
        }
        while words.next_if(|&(i, _)| i < end).is_some() {}
    }
    (last > 0).then(|| out + &text[last..])
}

/// The text with the user-info of every URL (`scheme://user:pass@`) shown as `***`, or
/// `None` when it has none.
fn hide_user_info(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(user_end) => {
                out.push_str("***");
                rest = &tail[user_end..];
                changed = true;
            }
            None => rest = tail,
        }
    }
    changed.then(|| out + rest)
}

/// A writer that redacts each write before passing it on: for a log sink such as
/// `tracing_subscriber::fmt().with_writer(|| Redacting(std::io::stderr()))`, which writes
/// each event whole in one write. A write of bytes that are not UTF-8 passes unchanged.
#[derive(Debug)]
pub struct Redacting<W>(pub W);

impl<W: io::Write> io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(redact(text).as_bytes()),
            Err(_) => self.0.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROQ: &str = "gsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmn";

    #[test]
    fn every_providers_key_shape_is_fingerprinted() {
        for key in [
            GROQ,
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "sk-or-v1-0123456789abcdef0123456789abcdef",
            "AIzaSyA-0123456789abcdefghijklmnopqrstu",
            "csk-abcdefghijklmnop1234",
            "xai-abcdefghijklmnopqrst",
        ] {
            let line = format!("invalid value '{key}' for '--keys-file'");
            let shown = redact(&line);
            assert_eq!(
                shown,
                format!(
                    "invalid value '{}' for '--keys-file'",
                    crate::fingerprint(key)
                )
            );
        }
    }

    #[test]
    fn ordinary_words_and_short_prefixes_stay() {
        for line in [
            "sk-short is no key",
            "task-abcdefghijklmnopqrstuvwxyz is a word",
            "mask_gsk_abcdefghijklmnopqrstu",
            "nothing here",
        ] {
            assert!(matches!(redact(line), Cow::Borrowed(_)), "{line}");
        }
    }

    #[test]
    fn a_key_inside_a_toml_error_line_is_hidden_and_the_rest_kept() {
        let line = format!("  |\n1 | GROQ_API_KEY={GROQ}\n  | ^");
        let shown = redact(&line);
        assert!(!shown.contains(&GROQ[4..]), "{shown}");
        assert!(shown.contains("1 | GROQ_API_KEY=key:"), "{shown}");
    }

    #[test]
    fn url_user_info_is_hidden_in_every_url() {
        assert_eq!(
            redact("upstream redis://:hunter2@10.0.0.1:6379/0 and http://a:b@x/y, http://plain/"),
            "upstream redis://***@10.0.0.1:6379/0 and http://***@x/y, http://plain/"
        );
    }

    #[test]
    fn a_remembered_value_of_any_shape_is_hidden() {
        let token = "Zq8v-unshaped-client-token";
        assert_eq!(
            redact(&format!("token {token}!")),
            format!("token {token}!")
        );
        remember(token);
        remember("short");
        assert_eq!(
            redact(&format!("token {token}!")),
            format!("token {}!", crate::fingerprint(token))
        );
        assert_eq!(redact("short stays"), "short stays");
    }

    #[test]
    fn the_writer_redacts_each_write() {
        use std::io::Write as _;
        let mut sink = Redacting(Vec::new());
        write!(sink, "key {GROQ} used").unwrap();
        let text = String::from_utf8(sink.0).unwrap();
        assert_eq!(text, format!("key {} used", crate::fingerprint(GROQ)));
    }
}
