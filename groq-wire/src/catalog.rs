//! The built-in model catalog, dated: each model with its published limits per tier, where
//! and when those figures were seen, its price, and the days it came, was deprecated and was
//! decommissioned. An `as_of` date decides which models exist and which limits apply.
//!
//! # Sources
//!
//! Every figure names its [`Source`]. Groq publishes limits without history and changes them
//! without notice ("there may be exceptions", and each organisation's limits page is the
//! authority), so each model carries one set of limits: the figures its source saw, taken to
//! hold over the model's whole life on Groq. A run on a date far from a source's date says so
//! through [`Model::limits_source`].
//!
//! Models Groq lists today without published limits (`qwen/qwen3.6-27b`, preview) are not in
//! the catalog: a mock cannot serve figures nobody has published.
//!
//! Speeds (`decode_tps`) are the service-time model's approximations of Groq's model pages;
//! prefill is taken as 10× decode. They shape latency, never limits.

use jiff::civil::{Date, date};
use serde::{Deserialize, Serialize};

/// The date the catalog was last reviewed against its sources.
pub const CATALOG_DATE: Date = date(2026, 11, 23);

/// The model Groq recommends today, and keyrotor's default.
pub const RECOMMENDED: &str = "openai/gpt-oss-120b";

/// The seed documents' date: seed 004's logs are dated 2025-12-24, and every seed names
/// `llama-3.3-70b-versatile`.
pub const SEEDS_DATE: Date = date(2025, 12, 24);

/// Today's date in UTC, from the system clock.
pub fn today() -> Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// Where a set of figures comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Source {
    /// The page the figures are on.
    pub url: &'static str,
    /// The day the figures were seen there (or confirmed by a dated citation).
    pub seen: &'static str,
    /// How they were read.
    pub note: &'static str,
}

/// Groq's rate-limits page, free plan table.
pub const FREE_LIMITS: Source = Source {
    url: "https://console.groq.com/docs/rate-limits",
    seen: "2026-06-04",
    note: "free plan table; the same figures for llama-3.3-70b-versatile and openai/gpt-oss-120b are quoted as of 2026-06-04 by tokenmix.ai/blog/groq-api-access-2026-free-tier-rate-limits",
};

/// The developer plan's figures: Groq publishes them only in each organisation's console.
pub const DEVELOPER_LIMITS: Source = Source {
    url: "shared/GROQ.md (developer plan, second-hand)",
    seen: "2026-11-01",
    note: "second-hand figures; no TPD published",
};

/// Groq's pricing page.
pub const PRICING: Source = Source {
    url: "https://groq.com/pricing",
    seen: "2026-06-29",
    note: "on-demand USD per million tokens, as quoted from the page in BerriAI/litellm#19309 (2026-01-18: gpt-oss-120b, gpt-oss-20b) and anomalyco/models.dev#2907 (2026-06-29: gpt-oss-safeguard-20b); llama-3.3-70b-versatile as quoted by tokenmix.ai (2026-04-29)",
};

/// Groq's deprecation notices as collected in shared/GROQ.md.
pub const DEPRECATIONS: Source = Source {
    url: "https://console.groq.com/docs/deprecations (via shared/GROQ.md, \"Models come and go\")",
    seen: "2026-11-01",
    note: "decommission days as published; where only a month is known the note on the model says which day is taken",
};

/// Every source the catalog's figures rest on.
pub const SOURCES: [Source; 4] = [FREE_LIMITS, DEVELOPER_LIMITS, PRICING, DEPRECATIONS];

/// Days past its newest source after which the catalog is called stale on a date.
pub const STALE_AFTER_DAYS: i32 = 90;

/// The day the newest of [`SOURCES`] was seen.
pub fn newest_source() -> Date {
    SOURCES
        .iter()
        .filter_map(|s| s.seen.parse::<Date>().ok())
        .max()
        .unwrap_or(CATALOG_DATE)
}

/// A warning when `day` lies more than [`STALE_AFTER_DAYS`] past the newest source: Groq
/// changes limits and retires models without notice, so the catalog's figures may no longer
/// hold that day.
pub fn staleness(day: Date) -> Option<String> {
    let newest = newest_source();
    let days = day.since(newest).ok()?.get_days();
    (days > STALE_AFTER_DAYS).then(|| {
        format!(
            "the catalog's newest source was seen on {newest}, {days} days before {day}: Groq may have changed limits or retired models since; check {} and give the limits you see (--rpm/--rpd/--tpm/--tpd, or [target] limits)",
            FREE_LIMITS.url
        )
    })
}

/// A Groq plan; limits differ per tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The free plan.
    #[default]
    Free,
    /// The paid developer plan.
    Developer,
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

/// Per-organisation limits for one model. `None` means not limited in that dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// On-demand price in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Price {
    /// Per million prompt tokens.
    pub input: f64,
    /// Per million completion tokens.
    pub output: f64,
}

impl Price {
    /// The cost in dollars of `prompt` and `completion` tokens.
    pub fn cost(&self, prompt: u64, completion: u64) -> f64 {
        (prompt as f64 * self.input + completion as f64 * self.output) / 1e6
    }
}

/// One model of the catalog.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Where the free limits come from.
    pub limits_source: Source,
    /// On-demand price where published (from [`PRICING`]).
    pub price: Option<Price>,
    /// First day Groq served it, where known; earlier dates do not have it.
    pub since: Option<Date>,
    /// Day its deprecation was announced, where known.
    pub deprecated: Option<Date>,
    /// First day Groq no longer serves it (free and developer tiers).
    pub decommissioned: Option<Date>,
    /// What Groq recommends instead once it is gone.
    pub replacement: Option<&'static str>,
    /// Remarks on dates or figures.
    pub note: &'static str,
    /// Output speed in tokens per second.
    pub decode_tps: f64,
    /// Prompt processing speed in tokens per second.
    pub prefill_tps: f64,
}

/// Whether a model can be called on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Groq serves it.
    Served,
    /// Not yet on Groq that day.
    NotYet {
        /// First day it was served.
        since: Date,
    },
    /// Decommissioned: Groq answers 404 `model_not_found`.
    Decommissioned {
        /// First day it was gone.
        on: Date,
        /// Groq's recommended replacement.
        replacement: Option<&'static str>,
    },
}

impl Model {
    /// The limits of this model on a tier.
    pub fn limits(&self, tier: Tier) -> Limits {
        match tier {
            Tier::Free => self.free,
            Tier::Developer => self.developer.unwrap_or(self.free),
        }
    }

    /// Where the limits of `tier` come from, in words.
    pub fn limits_source(&self, tier: Tier) -> String {
        match (tier, self.developer) {
            (Tier::Developer, Some(_)) => {
                format!("{} (seen {})", DEVELOPER_LIMITS.url, DEVELOPER_LIMITS.seen)
            }
            (Tier::Developer, None) => format!(
                "{} (seen {}); developer figures unpublished, free ones used",
                self.limits_source.url, self.limits_source.seen
            ),
            (Tier::Free, _) => format!(
                "{} (seen {})",
                self.limits_source.url, self.limits_source.seen
            ),
        }
    }

    /// Whether Groq serves it on `day`.
    pub fn availability(&self, day: Date) -> Availability {
        match (self.since, self.decommissioned) {
            (Some(since), _) if day < since => Availability::NotYet { since },
            (_, Some(on)) if day >= on => Availability::Decommissioned {
                on,
                replacement: self.replacement,
            },
            _ => Availability::Served,
        }
    }

    /// Whether Groq serves it on `day`.
    pub fn served_on(&self, day: Date) -> bool {
        self.availability(day) == Availability::Served
    }
}

impl std::fmt::Display for Availability {
    /// "served", "decommissioned on 2026-08-16 (replacement: openai/gpt-oss-120b)", …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Availability::Served => write!(f, "served"),
            Availability::NotYet { since } => write!(f, "not on Groq before {since}"),
            Availability::Decommissioned { on, replacement } => {
                write!(f, "decommissioned on {on}")?;
                match replacement {
                    Some(r) => write!(f, " (Groq's replacement: {r})"),
                    None => Ok(()),
                }
            }
        }
    }
}

const NO_DEV: Option<Limits> = None;

/// The models in the catalog, served or not.
pub static MODELS: &[Model] = &[
    Model {
        id: "openai/gpt-oss-120b",
        owned_by: "OpenAI",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 8_000, 200_000),
        developer: Some(Limits::no_tpd(1_000, 500_000, 250_000)),
        limits_source: FREE_LIMITS,
        price: Some(Price {
            input: 0.15,
            output: 0.60,
        }),
        since: Some(date(2025, 8, 5)),
        deprecated: None,
        decommissioned: None,
        replacement: None,
        note: "Groq's recommended default since the Llama retirements; on Groq since its release on 2025-08-05",
        decode_tps: 500.0,
        prefill_tps: 5_000.0,
    },
    Model {
        id: "openai/gpt-oss-20b",
        owned_by: "OpenAI",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 8_000, 200_000),
        developer: NO_DEV,
        limits_source: FREE_LIMITS,
        price: Some(Price {
            input: 0.075,
            output: 0.30,
        }),
        since: Some(date(2025, 8, 5)),
        deprecated: None,
        decommissioned: None,
        replacement: None,
        note: "on Groq since its release on 2025-08-05",
        decode_tps: 1_000.0,
        prefill_tps: 10_000.0,
    },
    Model {
        id: "llama-3.3-70b-versatile",
        owned_by: "Meta",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 12_000, 100_000),
        developer: Some(Limits::no_tpd(1_000, 500_000, 300_000)),
        limits_source: FREE_LIMITS,
        price: Some(Price {
            input: 0.59,
            output: 0.79,
        }),
        since: None,
        deprecated: Some(date(2026, 6, 1)),
        decommissioned: Some(date(2026, 8, 16)),
        replacement: Some(RECOMMENDED),
        note: "deprecation announced 2026-06/07 (the earliest day is taken); decommissioned for the free and developer tiers on 2026-08-16",
        decode_tps: 280.0,
        prefill_tps: 2_800.0,
    },
    Model {
        id: "llama-3.1-8b-instant",
        owned_by: "Meta",
        context_window: 131_072,
        free: Limits::all(30, 14_400, 6_000, 500_000),
        developer: Some(Limits::no_tpd(1_000, 500_000, 250_000)),
        limits_source: FREE_LIMITS,
        price: None,
        since: None,
        deprecated: Some(date(2026, 6, 1)),
        decommissioned: Some(date(2026, 8, 16)),
        replacement: Some("openai/gpt-oss-20b"),
        note: "deprecation announced 2026-06/07 (the earliest day is taken); decommissioned for the free and developer tiers on 2026-08-16",
        decode_tps: 560.0,
        prefill_tps: 5_600.0,
    },
    Model {
        id: "meta-llama/llama-4-scout-17b-16e-instruct",
        owned_by: "Meta",
        context_window: 131_072,
        free: Limits::all(30, 1_000, 30_000, 500_000),
        developer: NO_DEV,
        limits_source: FREE_LIMITS,
        price: None,
        since: None,
        deprecated: None,
        decommissioned: Some(date(2026, 7, 17)),
        replacement: Some(RECOMMENDED),
        note: "decommissioned on 2026-07-17",
        decode_tps: 750.0,
        prefill_tps: 7_500.0,
    },
    Model {
        id: "qwen/qwen3-32b",
        owned_by: "Alibaba Cloud",
        context_window: 131_072,
        free: Limits::all(60, 1_000, 6_000, 500_000),
        developer: NO_DEV,
        limits_source: FREE_LIMITS,
        price: None,
        since: None,
        deprecated: None,
        decommissioned: Some(date(2026, 8, 31)),
        replacement: Some(RECOMMENDED),
        note: "retired in 2026-08 (no day published): taken as gone from 2026-08-31, so no August day is called retired too early",
        decode_tps: 400.0,
        prefill_tps: 4_000.0,
    },
    Model {
        id: "moonshotai/kimi-k2-instruct",
        owned_by: "Moonshot AI",
        context_window: 131_072,
        free: Limits::all(60, 1_000, 10_000, 300_000),
        developer: NO_DEV,
        limits_source: FREE_LIMITS,
        price: None,
        since: None,
        deprecated: None,
        decommissioned: None,
        replacement: None,
        note: "no retirement recorded in the sources",
        decode_tps: 200.0,
        prefill_tps: 2_000.0,
    },
    listed(
        "openai/gpt-oss-safeguard-20b",
        "OpenAI",
        Limits::all(30, 1_000, 8_000, 200_000),
        Some(Price {
            input: 0.075,
            output: 0.30,
        }),
        1_000.0,
    ),
    listed(
        "moonshotai/kimi-k2-instruct-0905",
        "Moonshot AI",
        Limits::all(60, 1_000, 10_000, 300_000),
        None,
        200.0,
    ),
    listed(
        "meta-llama/llama-4-maverick-17b-128e-instruct",
        "Meta",
        Limits::all(30, 1_000, 6_000, 500_000),
        None,
        600.0,
    ),
    listed(
        "groq/compound",
        "Groq",
        Limits::no_tpd(30, 250, 70_000),
        None,
        450.0,
    ),
    listed(
        "groq/compound-mini",
        "Groq",
        Limits::no_tpd(30, 250, 70_000),
        None,
        450.0,
    ),
    listed(
        "allam-2-7b",
        "SDAIA",
        Limits::all(30, 7_000, 6_000, 500_000),
        None,
        300.0,
    ),
];

/// A model the rate-limits page lists with free limits only, whose dates the sources do not
/// give: served on every day, its status after [`FREE_LIMITS`]' day unverified.
const fn listed(
    id: &'static str,
    owned_by: &'static str,
    free: Limits,
    price: Option<Price>,
    decode_tps: f64,
) -> Model {
    Model {
        id,
        owned_by,
        context_window: 131_072,
        free,
        developer: NO_DEV,
        limits_source: FREE_LIMITS,
        price,
        since: None,
        deprecated: None,
        decommissioned: None,
        replacement: None,
        note: "listed on the rate-limits page; no retirement recorded in the sources",
        decode_tps,
        prefill_tps: decode_tps * 10.0,
    }
}

/// Index of a model id in [`MODELS`], served or not.
pub fn find(id: &str) -> Option<usize> {
    MODELS.iter().position(|m| m.id == id)
}

/// The ids of the models served on `day`, for error messages.
pub fn served_ids(day: Date) -> String {
    MODELS
        .iter()
        .filter(|m| m.served_on(day))
        .map(|m| m.id)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str) -> &'static Model {
        match find(id) {
            Some(i) => &MODELS[i],
            None => panic!("{id} missing from catalog"),
        }
    }

    /// The free limits are what Groq's rate-limits page says (RPM / RPD / TPM / TPD), and the
    /// developer limits the second-hand figures of shared/GROQ.md.
    #[test]
    fn limits_are_what_the_cited_source_says() {
        let free = [
            ("openai/gpt-oss-120b", (30, 1_000, 8_000, 200_000)),
            ("openai/gpt-oss-20b", (30, 1_000, 8_000, 200_000)),
            ("llama-3.3-70b-versatile", (30, 1_000, 12_000, 100_000)),
            ("llama-3.1-8b-instant", (30, 14_400, 6_000, 500_000)),
            (
                "meta-llama/llama-4-scout-17b-16e-instruct",
                (30, 1_000, 30_000, 500_000),
            ),
            ("qwen/qwen3-32b", (60, 1_000, 6_000, 500_000)),
            ("moonshotai/kimi-k2-instruct", (60, 1_000, 10_000, 300_000)),
            ("openai/gpt-oss-safeguard-20b", (30, 1_000, 8_000, 200_000)),
            (
                "moonshotai/kimi-k2-instruct-0905",
                (60, 1_000, 10_000, 300_000),
            ),
            (
                "meta-llama/llama-4-maverick-17b-128e-instruct",
                (30, 1_000, 6_000, 500_000),
            ),
            ("allam-2-7b", (30, 7_000, 6_000, 500_000)),
        ];
        // groq/compound and groq/compound-mini publish no TPD.
        for id in ["groq/compound", "groq/compound-mini"] {
            assert_eq!(model(id).free, Limits::no_tpd(30, 250, 70_000), "{id}");
        }
        assert_eq!(free.len() + 2, MODELS.len(), "every model has a row");
        for (id, (rpm, rpd, tpm, tpd)) in free {
            assert_eq!(
                model(id).limits(Tier::Free),
                Limits::all(rpm, rpd, tpm, tpd),
                "{id}"
            );
            assert_eq!(model(id).limits_source, FREE_LIMITS, "{id}");
        }
        let developer = [
            ("openai/gpt-oss-120b", (1_000, 500_000, 250_000)),
            ("llama-3.3-70b-versatile", (1_000, 500_000, 300_000)),
            ("llama-3.1-8b-instant", (1_000, 500_000, 250_000)),
        ];
        for (id, (rpm, rpd, tpm)) in developer {
            assert_eq!(
                model(id).limits(Tier::Developer),
                Limits::no_tpd(rpm, rpd, tpm),
                "{id}"
            );
        }
        let gpt20 = model("openai/gpt-oss-20b");
        assert_eq!(gpt20.limits(Tier::Developer), gpt20.free);
        assert!(gpt20.limits_source(Tier::Developer).contains("unpublished"));
        assert!(find("no-such-model").is_none());
    }

    #[test]
    fn prices_are_what_the_pricing_page_says() {
        let price = |id: &str| model(id).price.map(|p| (p.input, p.output));
        assert_eq!(price("openai/gpt-oss-120b"), Some((0.15, 0.60)));
        assert_eq!(price("openai/gpt-oss-20b"), Some((0.075, 0.30)));
        assert_eq!(price("llama-3.3-70b-versatile"), Some((0.59, 0.79)));
        assert_eq!(price("openai/gpt-oss-safeguard-20b"), Some((0.075, 0.30)));
        let p = model("openai/gpt-oss-120b").price;
        assert_eq!(
            p.map(|p| p.cost(1_000_000, 1_000_000)),
            Some(0.15 + 0.60),
            "a million of each"
        );
    }

    #[test]
    fn the_llamas_are_gone_from_2026_08_16_and_served_the_day_before() {
        let llama = model("llama-3.3-70b-versatile");
        assert!(llama.served_on(date(2026, 8, 15)));
        assert!(llama.served_on(SEEDS_DATE));
        assert_eq!(
            llama.availability(date(2026, 8, 16)),
            Availability::Decommissioned {
                on: date(2026, 8, 16),
                replacement: Some(RECOMMENDED)
            }
        );
        assert!(!model("llama-3.1-8b-instant").served_on(CATALOG_DATE));
        assert!(!model("meta-llama/llama-4-scout-17b-16e-instruct").served_on(date(2026, 7, 17)));
        let gpt = model(RECOMMENDED);
        assert!(gpt.served_on(CATALOG_DATE));
        assert!(matches!(
            gpt.availability(date(2025, 8, 4)),
            Availability::NotYet { .. }
        ));
        let served = served_ids(CATALOG_DATE);
        assert!(
            served.starts_with("openai/gpt-oss-120b, openai/gpt-oss-20b")
                && !served.contains("llama-3")
                && !served.contains("qwen3-32b")
                && !served.contains("scout"),
            "{served}"
        );
    }

    #[test]
    fn every_model_names_a_source_and_the_day_it_was_seen() {
        for m in MODELS {
            let s = m.limits_source;
            assert!(
                s.url.starts_with("https://") || s.url.contains("GROQ.md"),
                "{}: {}",
                m.id,
                s.url
            );
            assert!(
                s.seen.parse::<Date>().is_ok(),
                "{}: seen {:?}",
                m.id,
                s.seen
            );
            assert!(
                s.seen.parse::<Date>().is_ok_and(|d| d <= CATALOG_DATE),
                "{}: seen after review",
                m.id
            );
        }
        for s in SOURCES {
            assert!(
                s.seen.parse::<Date>().is_ok() && !s.note.is_empty(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_day_more_than_ninety_days_past_the_newest_source_is_stale() {
        let newest = newest_source();
        let day = |n: i32| {
            newest
                .checked_add(jiff::Span::new().days(n))
                .unwrap_or(newest)
        };
        assert_eq!(staleness(day(90)), None);
        assert!(staleness(day(91)).is_some_and(|w| w.contains("91 days before")));
        assert_eq!(
            staleness(SEEDS_DATE),
            None,
            "a day before the sources is not stale"
        );
    }
}
