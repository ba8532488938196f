//! What the engine's unit tests share.

use ::http::{HeaderMap, HeaderName, HeaderValue};

/// A header map of `(name, value)` pairs; a pair that is no valid header fails the test.
pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        let name = HeaderName::try_from(*k).unwrap_or_else(|e| panic!("{k}: {e}"));
        let value = HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        h.insert(name, value);
    }
    h
}
