//! `keyrotor catalog`: the models Groq serves on a day, with their limits, prices and the
//! sources every figure rests on (page and day seen); and which models are gone by then.

use groq_wire::catalog::{Availability, Catalog, Limits, Model, Tier};
use jiff::civil::Date;

/// The text of `keyrotor catalog`: markdown, or JSON with `json`.
pub fn catalog(catalog: &Catalog, day: Date, json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(serde_json::to_string_pretty(&as_json(catalog, day))? + "\n");
    }
    let served: Vec<&Model> = catalog.models.iter().filter(|m| m.served_on(day)).collect();
    let mut out = format!(
        "# Groq's models on {day}\n\n**{} of the catalog's {} models are served on {day}; keyrotor's default is `{}`.** Limits are per organisation, as the catalog's sources published them ({}, reviewed on {}; its newest source was seen on {}).\n",
        served.len(),
        catalog.models.len(),
        catalog.recommended,
        catalog.origin,
        catalog.reviewed,
        catalog.newest_source(),
    );
    if let Some(warning) = catalog.staleness(day) {
        out.push_str(&format!("\n> Warning: {warning}\n"));
    }
    out.push_str("\n| model | free RPM / RPD / TPM / TPD | developer | $ per M in / out | limits seen |\n|---|---|---|---|---|\n");
    for m in &served {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            m.id,
            limits(m.free),
            m.developer
                .map_or_else(|| "free figures (unpublished)".to_owned(), limits),
            m.price
                .map_or_else(|| "–".to_owned(), |p| format!("{} / {}", p.input, p.output)),
            m.limits_source(Tier::Free),
        ));
    }
    let gone: Vec<(&Model, Availability)> = catalog
        .models
        .iter()
        .map(|m| (m, m.availability(day)))
        .filter(|(_, a)| *a != Availability::Served)
        .collect();
    if !gone.is_empty() {
        out.push_str(&format!(
            "\n## Not served on {day}\n\n| model | why |\n|---|---|\n"
        ));
        for (m, why) in gone {
            out.push_str(&format!("| `{}` | {why} |\n", m.id));
        }
    }
    out.push_str("\n## Sources\n\n");
    for s in &catalog.sources {
        out.push_str(&format!("- {s}: {}\n", s.note));
    }
    Ok(out)
}

/// `30 / 1000 / 8000 / 200000`, with – for a dimension not limited.
fn limits(l: Limits) -> String {
    [l.rpm, l.rpd, l.tpm, l.tpd]
        .map(|v| v.map_or_else(|| "–".to_owned(), |v| v.to_string()))
        .join(" / ")
}

fn as_json(catalog: &Catalog, day: Date) -> serde_json::Value {
    let models: Vec<serde_json::Value> = catalog
        .models
        .iter()
        .map(|m| {
            let mut entry = serde_json::to_value(m).unwrap_or_default();
            entry["on_day"] = serde_json::json!(m.availability(day).to_string());
            entry["served"] = serde_json::json!(m.served_on(day));
            entry
        })
        .collect();
    serde_json::json!({
        "day": day.to_string(),
        "catalog": catalog.origin,
        "reviewed": catalog.reviewed.to_string(),
        "recommended": catalog.recommended,
        "newest_source": catalog.newest_source().to_string(),
        "warning": catalog.staleness(day),
        "models": models,
        "sources": catalog.sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use groq_wire::catalog;
    use jiff::civil::date;

    fn builtin() -> &'static Catalog {
        static BUILTIN: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(Catalog::builtin)
    }

    #[test]
    fn the_seeds_day_serves_llama_and_today_does_not() {
        let seeds = catalog(builtin(), catalog::SEEDS_DATE, false).unwrap_or_default();
        let (head, gone) = seeds.split_once("## Not served").unwrap_or((&seeds, ""));
        let gone = gone.split("## Sources").next().unwrap_or_default();
        assert!(
            head.contains("`llama-3.3-70b-versatile` | 30 / 1000 / 12000 / 100000"),
            "{seeds}"
        );
        assert!(!gone.contains("llama-3.3-70b-versatile"), "{seeds}");
        assert!(
            gone.contains("`moonshotai/kimi-k2-instruct` | decommissioned on 2025-10-10"),
            "{seeds}"
        );
        let later = catalog(builtin(), date(2026, 12, 7), false).unwrap_or_default();
        let (head, gone) = later.split_once("## Not served").unwrap_or((&later, ""));
        assert!(!head.contains("`llama-3.3-70b-versatile`"), "{later}");
        assert!(
            gone.contains("`llama-3.3-70b-versatile` | decommissioned on 2026-08-16"),
            "{later}"
        );
        let served = builtin()
            .models
            .iter()
            .filter(|m| m.served_on(date(2026, 12, 7)))
            .count();
        assert!(
            later.contains(&format!(
                "**{served} of the catalog's {} models",
                builtin().models.len()
            )),
            "{later}"
        );
    }

    #[test]
    fn a_day_far_past_the_newest_source_is_warned_of() {
        let newest = builtin().newest_source();
        let fine = newest
            .checked_add(jiff::Span::new().days(90))
            .unwrap_or(newest);
        let stale = newest
            .checked_add(jiff::Span::new().days(91))
            .unwrap_or(newest);
        assert!(
            !catalog(builtin(), fine, false)
                .unwrap_or_default()
                .contains("Warning")
        );
        let text = catalog(builtin(), stale, false).unwrap_or_default();
        assert!(
            text.contains("> Warning: the catalog's newest source was seen on"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&catalog(builtin(), stale, true).unwrap_or_default())
                .unwrap_or_default();
        assert!(
            json["warning"]
                .as_str()
                .is_some_and(|w| w.contains("91 days")),
            "{json}"
        );
        assert_eq!(
            json["models"].as_array().map(Vec::len),
            Some(builtin().models.len())
        );
    }
}
