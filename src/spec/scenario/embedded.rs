//! The embedded mock a scenario describes: its keys and its configuration (organisations,
//! limits, latency, faults, events), built from what the scenario says.

use mock_groq::config::{Config as MockConfig, Event, OrgConfig};

use super::{Scenario, TargetEvent};
use crate::engine::ApiKey;

/// Fake keys of the embedded mock: `gsk_keyrotor_<i>`; they exist only in that mock.
pub fn mock_keys(n: usize) -> Vec<ApiKey> {
    (0..n)
        .map(|i| ApiKey::new(format!("gsk_keyrotor_{i}")))
        .collect()
}

/// Whether the scenario's target speaks another API than Groq's.
fn target_speaks_other(scenario: &Scenario) -> bool {
    scenario.target.provider != crate::engine::provider::ProviderName::Groq
}

/// The embedded mock's configuration for a scenario and its keys.
pub fn mock_config(scenario: &Scenario, keys: &[ApiKey]) -> MockConfig {
    let orgs_of = scenario.keys.org_of_each();
    let org_count = orgs_of.iter().max().map_or(0, |m| m + 1);
    let mut config = MockConfig {
        model: scenario.target.model.clone(),
        as_of: Some(scenario.target.as_of()),
        tier: scenario.target.tier,
        seed: scenario.seed,
        start_unix: Some(0),
        ..MockConfig::default()
    };
    if target_speaks_other(scenario) {
        config.provider = scenario.target.provider.id().to_owned();
        config.models = vec![scenario.target.model.clone()];
    }
    let none = super::MockSettings::default();
    let mock = scenario.target.mock().unwrap_or(&none);
    if let Some(latency) = &mock.latency {
        config.latency = latency.clone();
    }
    if let Some(completion) = mock.completion {
        config.completion = completion;
    } else if scenario.traffic.trace().is_some_and(|t| t.gives_answers()) {
        // A trace's request asks the answer's own length as max_tokens: the mock answers
        // with exactly that many tokens, as the app's answer had.
        config.completion = mock_groq::config::CompletionConfig {
            min_fraction: 1.0,
            max_fraction: 1.0,
        };
    }
    config.faults = mock.faults.clone();
    config.orgs = (0..org_count)
        .map(|o| OrgConfig {
            id: format!("org_{o}"),
            keys: keys
                .iter()
                .zip(&orgs_of)
                .filter(|(_, org)| **org == o)
                .map(|(k, _)| k.clone())
                .collect(),
            tier: None,
            limits: mock.limits,
        })
        .filter(|o| !o.keys.is_empty())
        .collect();
    for event in &mock.events {
        match event {
            TargetEvent::RevokeKey { at, key } => {
                if let Some(k) = keys.get(*key) {
                    config.events.push(Event::RevokeKey {
                        at: *at,
                        key: k.clone(),
                    });
                }
            }
            TargetEvent::ExhaustDaily { at, org } => {
                for o in &config.orgs {
                    if org.is_none_or(|n| o.id == format!("org_{n}")) {
                        config.events.push(Event::ExhaustDaily {
                            at: *at,
                            org: o.id.clone(),
                        });
                    }
                }
            }
        }
    }
    config
}
