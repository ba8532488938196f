//! The built-in model catalog: Groq's published rate limits per tier and the
//! output speeds the service-time model uses.
//!
//! Limits: console.groq.com/docs/rate-limits as collected in shared/GROQ.md
//! (free plan 2025–2026; developer plan second-hand, no TPD published).
//! Speeds: Groq's model pages (output tokens/s); prefill is taken as 10× decode.

use serde::{Deserialize, Serialize};

/// The date the catalog's numbers were collected.
pub const CATALOG_DATE: &str = "2026-11-01";

/// A Groq plan; limits differ per tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The free plan.
    #[default]
    Free,
    /// The paid developer plan.
    Developer,
}

/// Per-organisation limits for one model. `None` means not limited in that dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Requests per day.
    pub rpd: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<u64>,
    /// Tokens per day.
    pub tpd: Option<u64>,
}

impl std::fmt::Display for Limits {
    /// `RPM 30, RPD 1000, TPM 12000, TPD –` (– for not limited).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sep = "";
        for (name, value) in [
            ("RPM", self.rpm),
            ("RPD", self.rpd),
            ("TPM", self.tpm),
            ("TPD", self.tpd),
        ] {
            match value {
                Some(v) => write!(f, "{sep}{name} {v}")?,
                None => write!(f, "{sep}{name} –")?,
            }
            sep = ", ";
        }
        Ok(())
    }
}

impl Tier {
    /// The plan's name as configs write it.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Developer => "developer",
        }
    }
}

impl Limits {
    /// No limit in any dimension.
    pub const NONE: Limits = Limits {
        rpm: None,
        rpd: None,
        tpm: None,
        tpd: None,
    };

    const fn all(rpm: u64, rpd: u64, tpm: u64, tpd: u64) -> Self {
        Self {
            rpm: Some(rpm),
            rpd: Some(rpd),
            tpm: Some(tpm),
            tpd: Some(tpd),
        }
    }

    const fn no_tpd(rpm: u64, rpd: u64, tpm: u64) -> Self {
        Self {
            rpm: Some(rpm),
            rpd: Some(rpd),
            tpm: Some(tpm),
            tpd: None,
        }
    }
}

/// One model of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// The model id as the API names it.
    pub id: &'static str,
    /// Who publishes the model (the `owned_by` field of /models).
    pub owned_by: &'static str,
    /// Context window in tokens.
    pub context_window: u64,
    /// Free-plan limits.
    pub free: Limits,
    /// Developer-plan limits where published; otherwise the free limits apply.
    pub developer: Option<Limits>,
    /// Output speed in tokens per second.
    pub decode_tps: f64,
    /// Prompt processing speed in tokens per second.
    pub prefill_tps: f64,
}

impl Model {
    /// The limits of this model on a tier.
    pub fn limits(&self, tier: Tier) -> Limits {
        match tier {
            Tier::Free => self.free,
            Tier::Developer => self.developer.unwrap_or(self.free),
        }
    }
}

/// The models the mock serves, with their published limits.
pub static MODELS: &[Model] = &[
    Model {
        id: "llama-3.3-70b-versatile",
        owned_by: "Meta",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 12_000, 100_000),
        developer: Some(Limits::no_tpd(1_000, 500_000, 300_000)),
        decode_tps: 280.0,
        prefill_tps: 2_800.0,
    },
    Model {
        id: "llama-3.1-8b-instant",
        owned_by: "Meta",
        context_window: 131_072,
        free: Limits::all(30, 14_400, 6_000, 500_000),
        developer: Some(Limits::no_tpd(1_000, 500_000, 250_000)),
        decode_tps: 560.0,
        prefill_tps: 5_600.0,
    },
    Model {
        id: "openai/gpt-oss-120b",
        owned_by: "OpenAI",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 8_000, 200_000),
        developer: Some(Limits::no_tpd(1_000, 500_000, 250_000)),
        decode_tps: 500.0,
        prefill_tps: 5_000.0,
    },
    Model {
        id: "openai/gpt-oss-20b",
        owned_by: "OpenAI",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 8_000, 200_000),
        developer: None,
        decode_tps: 1_000.0,
        prefill_tps: 10_000.0,
    },
    Model {
        id: "moonshotai/kimi-k2-instruct",
        owned_by: "Moonshot AI",
        context_window: 131_072,
        free: Limits::all(60, 1_000, 10_000, 300_000),
        developer: None,
        decode_tps: 200.0,
        prefill_tps: 2_000.0,
    },
    Model {
        id: "qwen/qwen3-32b",
        owned_by: "Alibaba Cloud",
        context_window: 131_072,
        free: Limits::all(60, 1_000, 6_000, 500_000),
        developer: None,
        decode_tps: 400.0,
        prefill_tps: 4_000.0,
    },
];

/// Index of a model id in [`MODELS`].
pub fn find(id: &str) -> Option<usize> {
    MODELS.iter().position(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_free_limits_for_llama_70b() {
        let Some(i) = find("llama-3.3-70b-versatile") else {
            panic!("llama-3.3-70b-versatile missing from catalog")
        };
        let model = &MODELS[i];
        assert_eq!(
            model.limits(Tier::Free),
            Limits::all(30, 1_000, 12_000, 100_000)
        );
        assert_eq!(model.limits(Tier::Developer).rpm, Some(1_000));
    }

    #[test]
    fn developer_tier_falls_back_to_free_where_unpublished() {
        let Some(i) = find("qwen/qwen3-32b") else {
            panic!("qwen missing from catalog")
        };
        assert_eq!(MODELS[i].limits(Tier::Developer), MODELS[i].free);
        assert!(find("no-such-model").is_none());
    }
}
