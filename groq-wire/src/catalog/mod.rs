//! The model catalog, dated: each model with its published limits per tier, where and when
//! those figures were seen, its price, and the days it came, was deprecated and was
//! decommissioned. An `as_of` date decides which models exist and which limits apply.
//!
//! # Data, not code
//!
//! The catalog is a TOML file ([`BUILTIN`], `groq-wire/catalog/groq.toml`) compiled in as
//! the default. A user corrects a limit or adds a model with their own copy: a binary reads
//! it with [`Catalog::load`] and makes it the process's catalog with [`install`] before
//! anything asks [`current`]. The mock, the planner and the claims all read [`current`].
//!
//! ```
//! use groq_wire::catalog::{self, Tier};
//! let catalog = catalog::current();
//! let model = catalog.model(&catalog.recommended).expect("the default is in the catalog");
//! assert!(model.limits(Tier::Free).rpm.is_some());
//! ```
//!
//! # Sources
//!
//! Every figure names its [`Source`]. Groq publishes limits without history and changes them
//! without notice ("there may be exceptions", and each organisation's limits page is the
//! authority), so each model carries one set of limits: the figures its source saw, taken to
//! hold over the model's whole life on Groq. A run on a date far from a source's date says so
//! through [`Catalog::staleness`].
//!
//! Speeds (`decode_tps`) are the service-time model's approximations of Groq's model pages;
//! prefill is taken as 10× decode unless the file says otherwise. They shape latency, never
//! limits.

pub(crate) mod load;

use std::sync::OnceLock;

use jiff::civil::{Date, date};
use serde::{Deserialize, Serialize};

pub use load::CatalogError;

/// The compiled-in catalog file.
pub const BUILTIN: &str = include_str!("../../catalog/groq.toml");

/// The seed documents' date: seed 004's logs are dated 2025-12-24, and every seed names
/// `llama-3.3-70b-versatile`.
pub const SEEDS_DATE: Date = date(2025, 12, 24);

/// Days past its newest source after which the catalog is called stale on a date.
pub const STALE_AFTER_DAYS: i32 = 90;

static CURRENT: OnceLock<Catalog> = OnceLock::new();

/// The process's catalog: the one [`install`]ed, or else the built-in one.
pub fn current() -> &'static Catalog {
    CURRENT.get_or_init(Catalog::builtin)
}

/// Makes `catalog` the process's catalog. Call it once, before anything reads [`current`];
/// afterwards it is refused ([`CatalogError::InUse`]) and the first one stays.
pub fn install(catalog: Catalog) -> Result<(), CatalogError> {
    CURRENT.set(catalog).map_err(|refused| CatalogError::InUse {
        refused: refused.origin,
        in_use: current().origin.clone(),
    })
}

/// Today's date in UTC, from the system clock.
pub fn today() -> Date {
    jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date()
}

/// Where a set of figures comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The name the catalog file refers to it by.
    pub id: String,
    /// The page the figures are on.
    pub url: String,
    /// The day the figures were seen there (or confirmed by a dated citation).
    pub seen: Date,
    /// How they were read.
    pub note: String,
}

impl std::fmt::Display for Source {
    /// `https://console.groq.com/docs/rate-limits (seen 2026-06-04)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (seen {})", self.url, self.seen)
    }
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
}

/// On-demand price in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
pub struct Model {
    /// The model id as the API names it.
    pub id: String,
    /// Who publishes the model (the `owned_by` field of /models).
    pub owned_by: String,
    /// Context window in tokens.
    pub context_window: u64,
    /// Free-plan limits.
    pub free: Limits,
    /// Where the free limits come from.
    pub limits_source: Source,
    /// Developer-plan limits where published; otherwise the free limits apply.
    pub developer: Option<Limits>,
    /// Where the developer limits come from (with them).
    pub developer_source: Option<Source>,
    /// On-demand price where published.
    pub price: Option<Price>,
    /// Where the price comes from (with it).
    pub price_source: Option<Source>,
    /// First day Groq served it, where known; earlier dates do not have it.
    pub since: Option<Date>,
    /// Day its deprecation was announced, where known.
    pub deprecated: Option<Date>,
    /// First day Groq no longer serves it (free and developer tiers).
    pub decommissioned: Option<Date>,
    /// Where the deprecation days come from (with them).
    pub dates_source: Option<Source>,
    /// What Groq recommends instead once it is gone.
    pub replacement: Option<String>,
    /// Remarks on dates or figures.
    pub note: String,
    /// Output speed in tokens per second.
    pub decode_tps: f64,
    /// Prompt processing speed in tokens per second.
    pub prefill_tps: f64,
}

/// Whether a model can be called on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability<'a> {
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
        replacement: Option<&'a str>,
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
        match (tier, &self.developer_source) {
            (Tier::Developer, Some(source)) => source.to_string(),
            (Tier::Developer, None) => format!(
                "{}; developer figures unpublished, free ones used",
                self.limits_source
            ),
            (Tier::Free, _) => self.limits_source.to_string(),
        }
    }

    /// Whether Groq serves it on `day`.
    pub fn availability(&self, day: Date) -> Availability<'_> {
        match (self.since, self.decommissioned) {
            (Some(since), _) if day < since => Availability::NotYet { since },
            (_, Some(on)) if day >= on => Availability::Decommissioned {
                on,
                replacement: self.replacement.as_deref(),
            },
            _ => Availability::Served,
        }
    }

    /// Whether Groq serves it on `day`.
    pub fn served_on(&self, day: Date) -> bool {
        self.availability(day) == Availability::Served
    }
}

impl std::fmt::Display for Availability<'_> {
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

/// A whole catalog: its models in file order, the sources their figures rest on, the day it
/// was reviewed and the default model.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    /// Where it was read from: `built-in` or a file's path.
    pub origin: String,
    /// The day the file was last reviewed against its sources.
    pub reviewed: Date,
    /// keyrotor's default model.
    pub recommended: String,
    /// Every source a figure names, in file order.
    pub sources: Vec<Source>,
    /// The models, served or not, in file order.
    pub models: Vec<Model>,
}

impl Catalog {
    /// The compiled-in catalog ([`BUILTIN`]); its own tests keep it valid.
    pub fn builtin() -> Catalog {
        Catalog::from_toml(BUILTIN, "built-in catalog")
            .unwrap_or_else(|e| panic!("the built-in catalog does not load: {e}"))
    }

    /// Index of a model id in [`Catalog::models`], served or not.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.models.iter().position(|m| m.id == id)
    }

    /// The model called `id`, served or not.
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The ids of all its models, served or not, for error messages.
    pub fn ids(&self) -> String {
        self.models
            .iter()
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The ids of the models served on `day`, for error messages.
    pub fn served_ids(&self, day: Date) -> String {
        self.models
            .iter()
            .filter(|m| m.served_on(day))
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The day the newest of its sources was seen.
    pub fn newest_source(&self) -> Date {
        self.sources
            .iter()
            .map(|s| s.seen)
            .max()
            .unwrap_or(self.reviewed)
    }

    /// A warning when `day` lies more than [`STALE_AFTER_DAYS`] past the newest source:
    /// Groq changes limits and retires models without notice, so the catalog's figures may
    /// no longer hold that day.
    pub fn staleness(&self, day: Date) -> Option<String> {
        let newest = self.newest_source();
        let days = day.since(newest).ok()?.get_days();
        // The page the default model's limits rest on.
        let limits_page = self
            .model(&self.recommended)
            .map_or("the catalog's sources", |m| m.limits_source.url.as_str());
        (days > STALE_AFTER_DAYS).then(|| {
            format!(
                "the catalog's newest source was seen on {newest}, {days} days before {day}: Groq may have changed limits or retired models since; check {limits_page} and give the limits you see (--rpm/--rpd/--tpm/--tpd, [target] limits, or --catalog FILE)"
            )
        })
    }
}

#[cfg(test)]
mod tests;
