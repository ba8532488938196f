//! Reading a catalog file: every value checked while parsing (so toml names the line and
//! column of a bad one), then what spans entries (source ids, replacements, the order of a
//! model's days) checked with the line of the entry at fault.

use std::collections::HashSet;
use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::{Catalog, Limits, Model, Price, Source};

/// Why a catalog file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read (missing, not a regular file, past its cap).
    #[error("cannot read the catalog {origin}: {source}")]
    Read {
        /// The file.
        origin: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A value is malformed or out of range; toml's message names line and column.
    #[error("{origin}: {message}")]
    Parse {
        /// The file.
        origin: String,
        /// toml's message, with line, column and what was expected.
        message: String,
    },
    /// A catalog was installed after the process had read one.
    #[error(
        "the catalog {refused} came after {in_use} was in use; install it before anything reads the catalog"
    )]
    InUse {
        /// The catalog refused.
        refused: String,
        /// The catalog in use.
        in_use: String,
    },
    /// An entry contradicts another (an unknown source, a duplicate id, days out of order).
    #[error("{origin}, line {line}: {field}: {message}")]
    Invalid {
        /// The file.
        origin: String,
        /// The line of the entry at fault.
        line: usize,
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Catalog {
    /// Reads and checks a catalog file (at most [`crate::file::TEXT_CAP`] bytes).
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let origin = path.display().to_string();
        let text = crate::file::read_text(path, crate::file::TEXT_CAP).map_err(|source| {
            CatalogError::Read {
                origin: origin.clone(),
                source,
            }
        })?;
        Catalog::from_toml(&text, &origin)
    }

    /// Parses and checks catalog text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Catalog, CatalogError> {
        let file: File = toml::from_str(text).map_err(|e| CatalogError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        Checker { text, origin }.catalog(file)
    }
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    reviewed: Day,
    recommended: Spanned<String>,
    #[serde(rename = "source")]
    sources: Vec<RawSource>,
    #[serde(rename = "model")]
    models: Vec<RawModel>,
}

/// A `[[source]]` as written (the catalog's and the provider profiles').
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    id: Spanned<String>,
    url: Text,
    seen: Day,
    note: Text,
}

/// The sources of a file, each id once; `invalid` names the entry at fault.
pub(crate) fn sources(
    raw: Vec<RawSource>,
    invalid: impl Fn(&Spanned<String>, &'static str, &str) -> CatalogError,
) -> Result<Vec<Source>, CatalogError> {
    let mut sources: Vec<Source> = Vec::with_capacity(raw.len());
    for raw in raw {
        if sources.iter().any(|s| s.id == *raw.id.get_ref()) {
            return Err(invalid(&raw.id, "id", "a second source with this id"));
        }
        sources.push(Source {
            id: raw.id.into_inner(),
            url: raw.url.0,
            seen: raw.seen.0,
            note: raw.note.0,
        });
    }
    Ok(sources)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: Spanned<String>,
    owned_by: Text,
    context_window: Figure,
    free: RawLimits,
    limits_source: Spanned<String>,
    developer: Option<RawLimits>,
    developer_source: Option<Spanned<String>>,
    price: Option<RawPrice>,
    price_source: Option<Spanned<String>>,
    since: Option<Day>,
    deprecated: Option<Day>,
    decommissioned: Option<Day>,
    dates_source: Option<Spanned<String>>,
    replacement: Option<Spanned<String>>,
    #[serde(default)]
    note: Text,
    decode_tps: Speed,
    prefill_tps: Option<Speed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    rpm: Option<Figure>,
    rpd: Option<Figure>,
    tpm: Option<Figure>,
    tpd: Option<Figure>,
}

impl From<RawLimits> for Limits {
    fn from(raw: RawLimits) -> Limits {
        Limits {
            rpm: raw.rpm.map(|f| f.0),
            rpd: raw.rpd.map(|f| f.0),
            tpm: raw.tpm.map(|f| f.0),
            tpd: raw.tpd.map(|f| f.0),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    input: Dollars,
    output: Dollars,
}

/// A day written `"YYYY-MM-DD"`.
#[derive(Clone, Copy)]
pub(crate) struct Day(pub(crate) Date);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<Date>().map(Day).map_err(|_| {
            serde::de::Error::custom(format!("expected a day as \"YYYY-MM-DD\", got {text:?}"))
        })
    }
}

/// A limit or a context window: a whole number from 1 to 10^12 (leave a limit out when the
/// dimension is not limited; 0 would refuse every request).
pub(crate) struct Figure(pub(crate) u64);

impl<'de> Deserialize<'de> for Figure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)?;
        match u64::try_from(value) {
            Ok(v @ 1..=1_000_000_000_000) => Ok(Figure(v)),
            _ => Err(serde::de::Error::custom(format!(
                "expected a whole number from 1 to 10^12, got {value} (leave a limit out when it does not apply)"
            ))),
        }
    }
}

/// Tokens per second: a finite number above 0, at most 10^7.
struct Speed(f64);

impl<'de> Deserialize<'de> for Speed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if value.is_finite() && value > 0.0 && value <= 1e7 {
            Ok(Speed(value))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected tokens per second above 0 and at most 10^7, got {value}"
            )))
        }
    }
}

/// US dollars per million tokens: a finite number from 0 to 10^4.
struct Dollars(f64);

impl<'de> Deserialize<'de> for Dollars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if value.is_finite() && (0.0..=1e4).contains(&value) {
            Ok(Dollars(value))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected dollars per million tokens from 0 to 10^4, got {value}"
            )))
        }
    }
}

/// Free text of at most 2,000 characters.
#[derive(Default)]
pub(crate) struct Text(pub(crate) String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.chars().count() <= 2_000 {
            Ok(Text(text))
        } else {
            Err(serde::de::Error::custom(
                "expected at most 2,000 characters of text",
            ))
        }
    }
}

/// Checks what spans entries, naming the line of the entry at fault.
pub(crate) struct Checker<'a> {
    pub(crate) text: &'a str,
    pub(crate) origin: &'a str,
}

impl Checker<'_> {
    fn catalog(&self, file: File) -> Result<Catalog, CatalogError> {
        let sources = sources(file.sources, |at, field, message| {
            self.invalid(at, field, message)
        })?;
        if file.models.is_empty() {
            return Err(self.invalid(&file.recommended, "model", "the catalog has no [[model]]"));
        }
        let ids: HashSet<String> = file.models.iter().map(|m| m.id.get_ref().clone()).collect();
        let mut models: Vec<Model> = Vec::with_capacity(file.models.len());
        for raw in file.models {
            if models.iter().any(|m| m.id == *raw.id.get_ref()) {
                return Err(self.invalid(&raw.id, "id", "a second model with this id"));
            }
            if let Some(r) = raw
                .replacement
                .as_ref()
                .filter(|r| !ids.contains(r.get_ref()))
            {
                return Err(self.invalid(r, "replacement", "not a model of this catalog"));
            }
            models.push(self.model(raw, &sources)?);
        }
        if !ids.contains(file.recommended.get_ref()) {
            return Err(self.invalid(
                &file.recommended,
                "recommended",
                "not a model of this catalog",
            ));
        }
        Ok(Catalog {
            origin: self.origin.to_owned(),
            reviewed: file.reviewed.0,
            recommended: file.recommended.into_inner(),
            sources,
            models,
        })
    }

    fn model(&self, raw: RawModel, sources: &[Source]) -> Result<Model, CatalogError> {
        let at = &raw.id;
        let source = |field: &'static str, id: &Spanned<String>| {
            sources
                .iter()
                .find(|s| s.id == *id.get_ref())
                .cloned()
                .ok_or_else(|| self.invalid(id, field, "no [[source]] has this id"))
        };
        let paired = |field: &'static str, has: bool, id: &Option<Spanned<String>>| match id {
            Some(id) => source(field, id).map(Some),
            None if has => {
                Err(self.invalid(at, field, "missing: name the [[source]] of this figure"))
            }
            None => Ok(None),
        };
        let limits_source = source("limits_source", &raw.limits_source)?;
        let developer_source = paired(
            "developer_source",
            raw.developer.is_some(),
            &raw.developer_source,
        )?;
        let price_source = paired("price_source", raw.price.is_some(), &raw.price_source)?;
        let dated = raw.deprecated.is_some() || raw.decommissioned.is_some();
        let dates_source = paired("dates_source", dated, &raw.dates_source)?;
        let days = [raw.since, raw.deprecated, raw.decommissioned].map(|d| d.map(|d| d.0));
        let mut known = days.iter().flatten();
        if let Some(first) = known.next() {
            let mut last = *first;
            for &day in known {
                if day < last {
                    return Err(self.invalid(
                        at,
                        "decommissioned",
                        "days out of order: since ≤ deprecated ≤ decommissioned",
                    ));
                }
                last = day;
            }
        }
        let decode_tps = raw.decode_tps.0;
        Ok(Model {
            id: raw.id.into_inner(),
            owned_by: raw.owned_by.0,
            context_window: raw.context_window.0,
            free: raw.free.into(),
            limits_source,
            developer: raw.developer.map(Limits::from),
            developer_source,
            price: raw.price.map(|p| Price {
                input: p.input.0,
                output: p.output.0,
            }),
            price_source,
            since: days[0],
            deprecated: days[1],
            decommissioned: days[2],
            dates_source,
            replacement: raw.replacement.map(Spanned::into_inner),
            note: raw.note.0,
            decode_tps,
            prefill_tps: raw.prefill_tps.map_or(decode_tps * 10.0, |s| s.0),
        })
    }

    /// The error of entry `at`'s `field`, with its line.
    pub(crate) fn invalid<T>(
        &self,
        at: &Spanned<T>,
        field: &'static str,
        message: &str,
    ) -> CatalogError {
        CatalogError::Invalid {
            origin: self.origin.to_owned(),
            line: crate::file::line_of(self.text, at.span().start),
            field,
            message: message.to_owned(),
        }
    }
}
