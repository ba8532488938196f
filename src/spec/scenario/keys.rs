//! `[keys]`: how many keys and how they map to organisations.

use serde::{Deserialize, Serialize};

/// The keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// How many keys.
    pub count: Count,
    /// How they map to organisations.
    #[serde(default)]
    pub layout: Layout,
    /// With `layout = "explicit"`: the organisation index of each key.
    #[serde(default)]
    pub orgs: Vec<usize>,
}

/// Key-to-organisation layouts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Each key its own organisation (separate accounts).
    #[default]
    Separate,
    /// All keys in one organisation (one account, several keys).
    Shared,
    /// As `orgs` says.
    Explicit,
}

impl Keys {
    /// The organisation index of each key.
    pub fn org_of_each(&self) -> Vec<usize> {
        match self.layout {
            Layout::Separate => (0..self.count.0).collect(),
            Layout::Shared => vec![0; self.count.0],
            Layout::Explicit => self.orgs.clone(),
        }
    }
}

/// A positive whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Count(pub usize);

impl TryFrom<i64> for Count {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if v >= 1 {
            Ok(Count(v as usize))
        } else {
            Err(format!("expected a whole number ≥ 1, got {v}"))
        }
    }
}

impl From<Count> for i64 {
    fn from(c: Count) -> i64 {
        c.0 as i64
    }
}
