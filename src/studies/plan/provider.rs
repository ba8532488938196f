//! What a plan for another provider's keys than Groq's needs: the words for its scope and
//! name, and the checks before its event is simulated on the mock speaking it.

use anyhow::bail;
use groq_wire::providers::Profiles;
use mock_groq::catalog::{Limits, Tier};

use super::PlanInput;
use crate::engine::provider::ProviderName;
use crate::spec::scenario::Layout;

impl PlanInput {
    /// What one scope of the provider's limits is called, and several (`organisation(s)`
    /// on Groq, `project(s)` on Gemini, `account(s)` on OpenRouter).
    pub fn scope_nouns(&self) -> (&'static str, &'static str) {
        Profiles::builtin().scope_nouns(self.provider.id())
    }

    /// The provider's name in words ("Google Gemini API").
    pub fn provider_name(&self) -> &str {
        Profiles::builtin()
            .find(self.provider.id())
            .map_or(self.provider.id(), |p| p.name.as_str())
    }

    /// What a plan on this provider must say beside its figures: that OpenRouter does not
    /// promise separate accounts their own limits, and that a free tier closed to new
    /// accounts holds only for scopes that had it.
    pub(super) fn provider_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.provider == ProviderName::Openrouter && self.layout == Layout::Separate {
            notes.push("OpenRouter says more accounts or keys do not add capacity (\"we govern capacity globally\"): the counts here are accounts the mock keeps apart, which OpenRouter does not promise".to_owned());
        }
        let profile = Profiles::builtin().find(self.provider.id());
        notes.extend(profile.and_then(|p| p.free_closed_note()));
        notes
    }

    /// Another provider than Groq: one the mock speaks, a model named, limits known (the
    /// provider's published free figures or explicit ones) and no Groq plan.
    pub(super) fn validate_provider(&self) -> anyhow::Result<()> {
        let name = self.provider_name();
        if self.provider == ProviderName::Openai {
            bail!("the mock does not speak openai: plan for groq, gemini, openrouter or cerebras");
        }
        if self.model().is_empty() {
            bail!("name the model to plan for on {name} (--model), as its API spells it");
        }
        if self.tier != Tier::Free {
            bail!("--tier names Groq's plans; {name} is planned on its free figures");
        }
        let (limits, source) = self.limits();
        if limits == Limits::NONE {
            bail!(
                "no limits to plan against on {name} ({source}): give your {}'s limits (--rpm, --rpd, --tpm, --tpd)",
                self.scope_nouns().0
            );
        }
        Ok(())
    }
}
