//! `keyrotor providers`: for each API people rotate free keys across, what its limits belong
//! to — so what more keys give — how its windows come back, and how it says a limit was
//! reached, with the pages each profile rests on (page and day seen).

use groq_wire::providers::{Dimension, Profile, Profiles, Refill, Scope, Span, Window};

/// The text of `keyrotor providers`: markdown, or JSON with `json`.
pub fn providers(profiles: &Profiles, json: bool) -> anyhow::Result<String> {
    if json {
        return Ok(serde_json::to_string_pretty(&as_json(profiles))? + "\n");
    }
    let by_scope = |scope: Scope| {
        let ids: Vec<&str> = profiles
            .iter()
            .filter(|p| p.scope == scope)
            .map(|p| p.name.as_str())
            .collect();
        ids.join(", ")
    };
    let mut out = format!(
        "# What more keys give, per provider\n\n**More keys add capacity only across the scope a provider's limits belong to: on {} only with as many organizations as keys; on {} only with as many projects; on {} never (every key of an account shares its limits).** As the profiles' sources publish it ({}, reviewed on {}); keyrotor measures it on the mock for Groq (`keyrotor claims`).\n\n",
        by_scope(Scope::Organization),
        by_scope(Scope::Project),
        by_scope(Scope::Account),
        profiles.origin,
        profiles.reviewed,
    );
    out.push_str("| provider | limits belong to | windows | rate-limit headers | a limit answers | chat path |\n|---|---|---|---|---|---|\n");
    for p in profiles.iter() {
        out.push_str(&format!(
            "| {} | {}{} | {} | {} | {} | `{}` |\n",
            p.name,
            scope(p.scope),
            if p.per_model { ", per model" } else { "" },
            windows(p),
            headers(p),
            errors(p),
            p.chat_path,
        ));
    }
    out.push_str("\n## What each means for rotation\n\n");
    for p in profiles.iter() {
        out.push_str(&format!("- **{}**: {}.", p.name, p.note));
        if let Some(note) = p.free_closed_note() {
            out.push_str(&format!(" {note}."));
        }
        out.push('\n');
    }
    out.push_str("\n## Sources\n\n");
    for p in profiles.iter() {
        for s in &p.sources {
            out.push_str(&format!("- {} — {s}: {}\n", p.name, s.note));
        }
    }
    Ok(out)
}

fn scope(scope: Scope) -> &'static str {
    match scope {
        Scope::Key => "the key",
        Scope::Organization => "the organization",
        Scope::Project => "the project",
        Scope::Account => "the account",
    }
}

/// `RPM 30 (refilling), RPD (00:00 America/Los_Angeles)`.
fn windows(p: &Profile) -> String {
    let names: Vec<String> = p.windows.iter().map(window).collect();
    names.join(", ")
}

fn window(w: &Window) -> String {
    let what = match w.dimension {
        Dimension::Requests => "R",
        Dimension::Tokens => "T",
    };
    let span = match w.span {
        Span::Minute => "PM",
        Span::Hour => "PH",
        Span::Day => "PD",
    };
    let free = w.free.map_or_else(String::new, |n| format!(" {n}"));
    let refill = match &w.refill {
        Refill::Refilling => "refilling".to_owned(),
        Refill::Fixed { at, zone_name, .. } => {
            format!("back whole at {} {zone_name}", at.strftime("%H:%M"))
        }
    };
    format!("{what}{span}{free} ({refill})")
}

fn headers(p: &Profile) -> String {
    use groq_wire::providers::HeadersOn;
    match p.headers.on {
        Some(HeadersOn::None) | None => "none".to_owned(),
        Some(on) => {
            let first = p.headers.requests[0]
                .as_deref()
                .or(p.headers.tokens[0].as_deref())
                .unwrap_or("–");
            let on = if on == HeadersOn::Errors {
                "on errors only"
            } else {
                "on every answer"
            };
            format!("`{first}`… {on}")
        }
    }
}

fn errors(p: &Profile) -> String {
    use groq_wire::providers::RetryAfter;
    let wait = match p.errors.retry_after {
        RetryAfter::Header => "`retry-after`",
        RetryAfter::Body => "the wait in the body",
        RetryAfter::None => "no wait said",
    };
    let mut said = format!("{} with {wait}", p.errors.rate_limited);
    for (status, what) in [
        (p.errors.too_large, "too large"),
        (p.errors.payment, "balance spent"),
        (p.errors.gone, "retired"),
    ] {
        if let Some(status) = status {
            said.push_str(&format!("; {status} {what}"));
        }
    }
    said
}

fn as_json(profiles: &Profiles) -> serde_json::Value {
    let list: Vec<serde_json::Value> = profiles
        .iter()
        .map(|p| {
            serde_json::json!({
                "id": p.id,
                "name": p.name,
                "base_url": p.base_url,
                "chat_path": p.chat_path,
                "models_path": p.models_path,
                "scope": scope(p.scope),
                "per_model": p.per_model,
                "free_closed": p.free_closed.map(|d| d.to_string()),
                "windows": p.windows.iter().map(window).collect::<Vec<_>>(),
                "headers": headers(p),
                "errors": errors(p),
                "note": p.note,
                "sources": p.sources,
            })
        })
        .collect();
    serde_json::json!({
        "profiles": profiles.origin,
        "reviewed": profiles.reviewed.to_string(),
        "providers": list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_names_each_scope_and_every_provider_has_a_row() {
        let profiles = Profiles::builtin();
        let text = providers(profiles, false).unwrap_or_default();
        let headline = text.lines().nth(2).unwrap_or_default();
        assert!(
            headline
                .contains("on Groq, Cerebras Inference, OpenAI only with as many organizations")
                && headline.contains("on Google Gemini API only with as many projects")
                && headline.contains("on OpenRouter never"),
            "{headline}"
        );
        for p in profiles.iter() {
            assert!(text.contains(&format!("| {} | ", p.name)), "{text}");
        }
        assert!(
            text.contains("RPD (back whole at 00:00 America/Los_Angeles)"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&providers(profiles, true).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(json["providers"].as_array().map(Vec::len), Some(5));
        assert!(
            text.contains(
                "Cerebras Inference closed its free tier to new accounts on 2026-08-17: its free figures hold only for organisations that had it before then; a new organisation pays."
            ),
            "{text}"
        );
        assert_eq!(json["providers"][3]["free_closed"], "2026-08-17");
    }
}
