//! The alternative a user should weigh: many free-tier keys, each in its own organisation,
//! or one paid developer-tier organisation. Both are sized for the same event (the
//! analytical bound, then the simulated minimum with the chosen policy), and the developer
//! tier's expected spend is computed from the catalog's dated per-token prices. The planner
//! states limits and costs; the user decides.

use std::sync::Mutex;

use mock_groq::catalog::{self, Tier};
use serde::{Deserialize, Serialize};

use super::search::{Depth, Progress, search};
use super::{PlanInput, Simulated, analytical};
use crate::measure::document::Block;
use crate::measure::document::Table;
use crate::spec::scenario::Layout;

/// What every side-by-side comparison says about accounts and terms.
pub const ORGANISATIONS_NOTE: &str = "Limits apply per organisation, not per key: free-tier keys add capacity only when each belongs to its own organisation (account). Opening several accounts to multiply free limits may breach the provider's terms of service. These figures state limits and costs; the choice is yours.";

/// One way to serve the event.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TierOption {
    /// `free` or `developer`.
    pub tier: Tier,
    /// Limits per organisation and where they come from.
    pub limits: String,
    /// Organisations the analytical bound needs.
    pub bound: u64,
    /// The limit that sets the bound.
    pub binding: String,
    /// Organisations the simulated event needed with the chosen policy (`null`: not
    /// simulated, or none up to the cap met the objective; `simulated_note` says which).
    pub simulated: Option<usize>,
    /// Why `simulated` is what it is, when it is not a count.
    pub simulated_note: String,
    /// Expected spend over the event in US dollars (`null`: no published price).
    pub spend_usd: Option<f64>,
    /// How the spend was computed, or why there is none.
    pub spend_basis: String,
}

/// The free and developer tiers side by side.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Tiers {
    /// The options.
    pub options: Vec<TierOption>,
    /// What limits per organisation mean for accounts and terms.
    pub note: String,
}

impl Tiers {
    /// The side-by-side section of the plan.
    pub fn blocks(&self, policy: &str) -> Vec<Block> {
        let rows = self
            .options
            .iter()
            .map(|o| {
                vec![
                    match o.tier {
                        Tier::Free => "free tier, one key per organisation",
                        Tier::Developer => "developer tier",
                    }
                    .to_owned(),
                    o.bound.to_string(),
                    o.binding.to_uppercase(),
                    o.simulated
                        .map_or_else(|| o.simulated_note.clone(), |k| k.to_string()),
                    o.spend_usd
                        .map_or_else(|| "no published price".to_owned(), |s| format!("${s:.2}")),
                ]
            })
            .collect();
        vec![
            Block::Heading(2, "Free tier or developer tier".to_owned()),
            Block::Table(Table {
                head: vec![
                    "option".to_owned(),
                    "organisations needed (bound)".to_owned(),
                    "binding limit".to_owned(),
                    format!("simulated with `{policy}`"),
                    "expected spend".to_owned(),
                ],
                rows,
            }),
            Block::List(
                self.options
                    .iter()
                    .map(|o| {
                        format!(
                            "{}: limits per organisation {}; spend: {}.",
                            o.tier.name(),
                            o.limits,
                            o.spend_basis
                        )
                    })
                    .collect(),
            ),
            Block::Paragraph(self.note.clone()),
        ]
    }
}

/// Sizes the event on `tier`, from its bound up; `known` is the plan's own simulated answer
/// when it was for this very tier and layout.
fn size(
    input: &PlanInput,
    tier: Tier,
    known: Option<&Simulated>,
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<TierOption> {
    let on_tier = PlanInput {
        tier,
        layout: Layout::Separate,
        ..input.clone()
    };
    let (limits, source) = on_tier.limits();
    let bound = analytical(&on_tier, &limits);
    let cap = input.key_cap();
    let (simulated, simulated_note) = if let Some(known) = known {
        let note = match known.min_keys {
            Some(_) => String::new(),
            None => format!("no count up to {cap} met the objective"),
        };
        (known.min_keys, note)
    } else if input.analytical_only {
        (None, "not simulated (analytical only)".to_owned())
    } else if bound.min_keys as usize > cap {
        (
            None,
            format!("not simulated: the bound exceeds the cap of {cap}"),
        )
    } else {
        let found = search(
            &on_tier,
            &on_tier.policy,
            bound.min_keys as usize,
            Depth::Verdict,
            progress,
        )?
        .min_keys;
        let note = match found {
            Some(_) => String::new(),
            None => format!("no count up to {cap} met the objective"),
        };
        (found, note)
    };
    let (spend_usd, spend_basis) = spend(input, tier);
    Ok(TierOption {
        tier,
        limits: format!("{limits} ({source})"),
        bound: bound.min_keys,
        binding: bound.binding,
        simulated,
        simulated_note,
        spend_usd,
        spend_basis,
    })
}

/// What the event costs on `tier` in US dollars (`None` without a published price), and
/// how that figure is made.
fn spend(input: &PlanInput, tier: Tier) -> (Option<f64>, String) {
    let requests = input.users as f64 * input.queries_per_user;
    let model = catalog::current().model(input.model());
    let price = model.and_then(|m| m.price.zip(m.price_source.as_ref()));
    match (tier, price) {
        (Tier::Free, _) => (Some(0.0), "the free tier is not billed".to_owned()),
        (Tier::Developer, Some((p, source))) => (
            Some(requests * p.cost(input.prompt_tokens, input.completion_tokens)),
            format!(
                "{requests:.0} requests × ({} prompt tokens × ${}/M + {} completion tokens × ${}/M), {source}",
                input.prompt_tokens, p.input, input.completion_tokens, p.output,
            ),
        ),
        (Tier::Developer, None) => (
            None,
            format!("no published price for {} in the catalog", input.model()),
        ),
    }
}

/// The free tier (one key per organisation) and the developer tier for the event, or `None`
/// when the user gave explicit limits (then no tier's published limits apply) or the keys
/// are another provider's than Groq (the catalog holds Groq's tiers only).
pub(super) fn compare(
    input: &PlanInput,
    chosen: &Simulated,
    progress: &Mutex<&mut Progress<'_>>,
) -> anyhow::Result<Option<Tiers>> {
    if input.limits.is_some()
        || input.provider != crate::engine::provider::ProviderName::Groq
        || catalog::current().model(input.model()).is_none()
    {
        return Ok(None);
    }
    let known = |tier: Tier| {
        (tier == input.tier && input.layout == Layout::Separate && !chosen.points.is_empty())
            .then_some(chosen)
    };
    Ok(Some(Tiers {
        options: vec![
            size(input, Tier::Free, known(Tier::Free), progress)?,
            size(input, Tier::Developer, known(Tier::Developer), progress)?,
        ],
        note: ORGANISATIONS_NOTE.to_owned(),
    }))
}
