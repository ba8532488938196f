//! "5 keys give 5× the capacity of one" on the other free tiers people rotate keys across
//! (`claims --providers`): each provider's limits belong to a scope — a Google Cloud project
//! on Gemini, the account on OpenRouter, the organisation on Cerebras — and keys of one scope
//! share one budget. Measured on the mock speaking each provider, with its published free
//! figures where it publishes them.

use std::time::Duration;

use groq_wire::providers::Profiles;
use mock_groq::config::LimitsOverride;

use super::Claim;
use super::searches::{FiveTimes, RULE, row_claim};
use super::seeds::Era;
use crate::engine::provider::ProviderName;
use crate::spec::scenario::Layout;

/// Who says more keys give more capacity on every provider.
const SOURCE: &str = "key-rotation packages that treat every provider alike (open-keypool, keycycle, gemini-balance, groq-rotator: a 429 cools a key, more keys mean more capacity)";

/// The claim as those packages make it.
const CLAIM: &str = "5 keys give 5× the capacity of one, on any provider's free tier";

/// One provider's free tier as the rows check it.
struct Tier {
    provider: ProviderName,
    model: &'static str,
    /// Limits stated for the check where the provider publishes none keyrotor can cite, with
    /// why.
    stated: Option<(LimitsOverride, &'static str)>,
    /// The key layouts checked: both, or one scope only where separate scopes are not the
    /// provider's promise.
    layouts: &'static [Layout],
    /// What the detail adds.
    note: &'static str,
}

fn tiers() -> [Tier; 3] {
    [
        Tier {
            provider: ProviderName::Gemini,
            model: "gemini-2.5-flash",
            stated: Some((
                LimitsOverride {
                    rpm: Some(10),
                    ..LimitsOverride::default()
                },
                "stated for the check (Gemini shows its free figures in AI Studio only, not on a page keyrotor cites)",
            )),
            layouts: &[Layout::Separate, Layout::Shared],
            note: "",
        },
        Tier {
            provider: ProviderName::Openrouter,
            model: "meta-llama/llama-3.3-70b-instruct:free",
            stated: None,
            layouts: &[Layout::Shared],
            note: " OpenRouter says more accounts do not add capacity either (\"we govern capacity globally\"), so only keys of one account are checked.",
        },
        Tier {
            provider: ProviderName::Cerebras,
            model: "gpt-oss-120b",
            stated: None,
            layouts: &[Layout::Separate, Layout::Shared],
            note: "",
        },
    ]
}

/// How many rows [`capacity`] checks.
pub(super) fn rows() -> usize {
    tiers().iter().map(|t| t.layouts.len()).sum()
}

/// "5 keys give 5×" on each provider, in each layout it is checked in; `progress` is told
/// each row as it starts.
pub(super) fn capacity(era: &Era, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Vec<Claim>> {
    let mut claims = Vec::with_capacity(rows());
    for tier in tiers() {
        for layout in tier.layouts {
            let name = tier.provider.id();
            progress(&format!("5× capacity on {name}, {}", words(*layout)));
            claims.push(five_times(era, &tier, *layout)?);
        }
    }
    Ok(claims)
}

fn words(layout: Layout) -> &'static str {
    match layout {
        Layout::Shared => "keys in one scope",
        _ => "each key its own scope",
    }
}

/// The "5×" row of `tier` with keys in `layout`.
fn five_times(era: &Era, tier: &Tier, layout: Layout) -> anyhow::Result<Claim> {
    let profiles = Profiles::builtin();
    let id = tier.provider.id();
    let (scope, _) = profiles.scope_nouns(id);
    let profile = profiles.find(id);
    let name = profile.map_or(id, |p| p.name.as_str());
    let closed = profile
        .and_then(|p| p.free_closed_note())
        .map_or_else(String::new, |note| format!(" {note}."));
    let scenario = era
        .base(
            "capacity",
            (1, layout),
            "round-robin",
            (30.0, Duration::from_secs(30 * 60)),
            tier.stated.map(|(limits, _)| limits),
        )?
        .provider(tier.provider)
        .model(tier.model)
        .build()?;
    let five = FiveTimes::measure(&scenario)?;
    let (in_force, source) = scenario.target.limits_in_force();
    let limits = match tier.stated {
        Some((_, why)) => format!("per {scope}: {in_force}; {why}"),
        None => format!("{source}, per {scope}: {in_force}"),
    };
    let (shared, layout_id) = match layout {
        Layout::Shared => (true, "shared"),
        _ => (false, "separate"),
    };
    let keys = if shared {
        format!("1 and 5 keys of {name}, all in one {scope}")
    } else {
        format!("1 and 5 keys of {name}, each its own {scope}")
    };
    let conditions = FiveTimes::conditions(
        &scenario,
        format!("{} (provider profiles reviewed)", profiles.reviewed),
        limits,
        (keys, "round-robin"),
    );
    let mut claim = five.judge(row_claim(
        format!("capacity-5x-{layout_id}-{id}"),
        CLAIM,
        SOURCE,
        conditions,
    ));
    let shared_note = if shared {
        format!(" {name} limits each {scope}, not each key: keys of one {scope} share one budget.")
    } else {
        String::new()
    };
    claim.detail = format!(
        "{RULE}{shared_note}{}{closed}{}",
        tier.note,
        five.fallback_note()
    );
    Ok(claim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::metrics::Figure;
    use crate::studies::claims::Verdict;

    /// Five keys multiply capacity only across scopes: in five Gemini projects or Cerebras
    /// organisations about 5×, in one project, account or organisation about 1× — measured,
    /// each row saying its scope, its limits and where they come from.
    #[test]
    fn five_keys_give_five_times_only_across_the_providers_scope() {
        let today = mock_groq::catalog::current().reviewed;
        let mut steps = Vec::new();
        let claims = capacity(&Era::today(today), &mut |s: &str| steps.push(s.to_owned()))
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(steps.len(), rows());
        let ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "capacity-5x-separate-gemini",
                "capacity-5x-shared-gemini",
                "capacity-5x-shared-openrouter",
                "capacity-5x-separate-cerebras",
                "capacity-5x-shared-cerebras",
            ]
        );
        for c in &claims {
            let ratio = match c.figure.value {
                Figure::Value(r) => r,
                _ => panic!("{}: no ratio: {}", c.id, c.measured),
            };
            let (verdict, range) = if c.id.contains("separate") {
                (Verdict::Holds, 4.5..5.6)
            } else {
                (Verdict::Fails, 0.8..1.25)
            };
            assert_eq!(c.verdict, verdict, "{}: {}", c.id, c.measured);
            assert!(range.contains(&ratio), "{}: {ratio}: {}", c.id, c.measured);
        }
        let said = |id: &str| {
            let c = claims.iter().find(|c| c.id == id);
            c.map(|c| {
                format!(
                    "{} | {} | {}",
                    c.conditions.keys, c.conditions.limits, c.detail
                )
            })
            .unwrap_or_default()
        };
        let gemini = said("capacity-5x-shared-gemini");
        assert!(gemini.contains("all in one project"), "{gemini}");
        assert!(
            gemini.contains("per project: RPM 10, RPD –, TPM –, TPD –; stated"),
            "{gemini}"
        );
        let openrouter = said("capacity-5x-shared-openrouter");
        assert!(
            openrouter.contains("OpenRouter's published free figures"),
            "{openrouter}"
        );
        assert!(openrouter.contains("\"we govern capacity globally\""));
        let cerebras = said("capacity-5x-separate-cerebras");
        assert!(
            cerebras.contains("each its own organisation")
                && cerebras.contains("RPM 5")
                && cerebras.contains("closed its free tier to new accounts on 2026-08-17"),
            "{cerebras}"
        );
    }
}
