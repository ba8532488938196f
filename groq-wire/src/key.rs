//! API keys as secrets: the full value is only reachable through [`ApiKey::expose`];
//! `Debug`, `Display` and `Serialize` show a short fingerprint instead.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret API key. Printing or serialising it yields its fingerprint, never the key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The full key, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A stable, non-reversible short name for logs and reports, e.g. `key:3f9a1c2e`.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }
}

/// Fingerprint of a key value: FNV-1a 64 folded to 32 bits, as `key:xxxxxxxx`.
///
/// Enough to tell keys apart in a report; too short to recover or guess a key from.
pub fn fingerprint(value: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("key:{:08x}", (hash >> 32) as u32 ^ hash as u32)
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.fingerprint())
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(ApiKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_json_never_show_the_key() {
        let key = ApiKey::new("gsk_live_supersecret_123456");
        for shown in [
            format!("{key:?}"),
            format!("{key}"),
            serde_json::to_string(&key).unwrap_or_default(),
        ] {
            assert!(!shown.contains("supersecret"), "{shown}");
            assert!(
                shown.starts_with("key:") || shown.starts_with("\"key:"),
                "{shown}"
            );
        }
    }

    #[test]
    fn fingerprints_differ_between_keys_and_are_stable() {
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("gsk_test_a1"), fingerprint("gsk_test_a2"));
        assert_eq!(fingerprint("x").len(), "key:".len() + 8);
    }
}
