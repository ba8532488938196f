//! Reading a profiles file: values checked while parsing (toml names the line and column of
//! a bad one), then what spans entries (source ids, duplicate ids, a fixed window's time and
//! zone) with the line of the entry at fault. Errors are the catalog's ([`CatalogError`]).

use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use super::{
    BodyShape, Dimension, Errors, Headers, HeadersOn, Profile, Profiles, Refill, ResetFormat,
    RetryAfter, Scope, Span, Window,
};
use crate::catalog::CatalogError;
use crate::catalog::load::{Checker, Day, Figure, RawSource, Text, sources};

impl Profiles {
    /// Parses and checks profiles text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Profiles, CatalogError> {
        let file: File = toml::from_str(text).map_err(|e| CatalogError::Parse {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        let check = Checker { text, origin };
        let sources = sources(file.sources, |at, field, message| {
            check.invalid(at, field, message)
        })?;
        let mut list: Vec<Profile> = Vec::with_capacity(file.providers.len());
        for raw in file.providers {
            if list.iter().any(|p| p.id == *raw.id.get_ref()) {
                return Err(check.invalid(&raw.id, "id", "a second provider with this id"));
            }
            if raw.sources.is_empty() {
                return Err(check.invalid(&raw.id, "sources", "name the [[source]]s it rests on"));
            }
            let mut cited = Vec::with_capacity(raw.sources.len());
            for id in &raw.sources {
                let found = sources.iter().find(|s| s.id == *id.get_ref());
                let source = found
                    .ok_or_else(|| check.invalid(id, "sources", "no [[source]] has this id"))?;
                cited.push(source.clone());
            }
            let mut windows = Vec::with_capacity(raw.windows.len());
            for w in raw.windows {
                windows.push(window(&check, &raw.id, w)?);
            }
            let h = raw.headers;
            for (field, span, dimension) in [
                ("requests_span", h.requests_span, Dimension::Requests),
                ("tokens_span", h.tokens_span, Dimension::Tokens),
            ] {
                let known = |s| {
                    windows
                        .iter()
                        .any(|w| w.dimension == dimension && w.span == s)
                };
                if span.is_some_and(|s| !known(s)) {
                    let said = format!("{field} names no window of this provider");
                    return Err(check.invalid(&raw.id, "headers", &said));
                }
            }
            list.push(Profile {
                id: raw.id.into_inner(),
                name: raw.name.0,
                base_url: raw.base_url.0,
                chat_path: raw.chat_path.0,
                models_path: raw.models_path.0,
                scope: raw.scope,
                per_model: raw.per_model,
                free_closed: raw.free_closed.map(|d| d.0),
                windows,
                headers: Headers {
                    on: Some(h.on),
                    requests: [h.limit_requests, h.remaining_requests, h.reset_requests],
                    tokens: [h.limit_tokens, h.remaining_tokens, h.reset_tokens],
                    requests_span: h.requests_span,
                    tokens_span: h.tokens_span,
                    reset_format: h.reset_format,
                },
                errors: Errors {
                    rate_limited: raw.errors.rate_limited.0,
                    too_large: raw.errors.too_large.map(|s| s.0),
                    payment: raw.errors.payment.map(|s| s.0),
                    gone: raw.errors.gone.map(|s| s.0),
                    retry_after: raw.errors.retry_after,
                    body: raw.errors.body,
                },
                sources: cited,
                note: raw.note.0,
            });
        }
        Ok(Profiles {
            origin: origin.to_owned(),
            reviewed: file.reviewed.0,
            list,
        })
    }
}

/// A window, its reset time and zone checked when it is fixed.
fn window(check: &Checker<'_>, at: &Spanned<String>, w: RawWindow) -> Result<Window, CatalogError> {
    let refill = match (w.kind, w.resets_at, w.time_zone) {
        (Kind::Refilling, None, None) => Refill::Refilling,
        (Kind::Fixed, Some(time), Some(zone_name)) => {
            let at_time: Time = time.parse().map_err(|_| {
                check.invalid(at, "resets_at", "expected a time of day as \"HH:MM\"")
            })?;
            let zone = TimeZone::get(&zone_name).map_err(|_| {
                check.invalid(
                    at,
                    "time_zone",
                    "not an IANA time zone name (e.g. America/Los_Angeles)",
                )
            })?;
            Refill::Fixed {
                at: at_time,
                zone,
                zone_name,
            }
        }
        (Kind::Fixed, _, _) => {
            return Err(check.invalid(
                at,
                "window",
                "a fixed window needs resets_at and time_zone",
            ));
        }
        (Kind::Refilling, _, _) => {
            return Err(check.invalid(
                at,
                "window",
                "a refilling window has no resets_at or time_zone",
            ));
        }
    };
    Ok(Window {
        dimension: w.dimension,
        span: w.span,
        refill,
        free: w.free.map(|f| f.0),
    })
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    reviewed: Day,
    #[serde(rename = "source")]
    sources: Vec<RawSource>,
    #[serde(rename = "provider")]
    providers: Vec<RawProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: Spanned<String>,
    name: Text,
    base_url: Text,
    chat_path: Text,
    models_path: Text,
    scope: Scope,
    per_model: bool,
    free_closed: Option<Day>,
    sources: Vec<Spanned<String>>,
    #[serde(default)]
    note: Text,
    #[serde(default, rename = "window")]
    windows: Vec<RawWindow>,
    headers: RawHeaders,
    errors: RawErrors,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Refilling,
    Fixed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    dimension: Dimension,
    span: Span,
    kind: Kind,
    resets_at: Option<String>,
    time_zone: Option<String>,
    free: Option<Figure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeaders {
    on: HeadersOn,
    limit_requests: Option<String>,
    remaining_requests: Option<String>,
    reset_requests: Option<String>,
    limit_tokens: Option<String>,
    remaining_tokens: Option<String>,
    reset_tokens: Option<String>,
    requests_span: Option<Span>,
    tokens_span: Option<Span>,
    reset_format: Option<ResetFormat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrors {
    rate_limited: Status,
    too_large: Option<Status>,
    payment: Option<Status>,
    gone: Option<Status>,
    retry_after: RetryAfter,
    body: BodyShape,
}

/// An HTTP error status: 400 to 599.
struct Status(u16);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)?;
        match u16::try_from(value) {
            Ok(v @ 400..=599) => Ok(Status(v)),
            _ => Err(serde::de::Error::custom(format!(
                "expected an HTTP error status from 400 to 599, got {value}"
            ))),
        }
    }
}
