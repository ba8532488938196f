//! Every policy × every mock fault, simulated: no request lost or counted twice
//! (offered = succeeded + failed by reason), no run outlives its timeouts, and the report's
//! per-key counts agree with the mock's own `/admin/state`. How well each policy copes is a
//! finding printed as a table, not a test failure.

use keyrotor::drive::driver::NoProgress;
use keyrotor::drive::workload::Arrivals;
use keyrotor::engine::PolicyConfig;
use keyrotor::run::{RunOptions, run};
use keyrotor::spec::scenario::Scenario;
use serde_json::Value;

const FAULTS: &[(&str, &str)] = &[
    (
        "500",
        "[[target.faults]]\nkind = \"server_error\"\nprobability = 0.3\n",
    ),
    (
        "503",
        "[[target.faults]]\nkind = \"over_capacity\"\nprobability = 0.3\n",
    ),
    (
        "498",
        "[[target.faults]]\nkind = \"flex_capacity\"\nprobability = 0.3\n",
    ),
    (
        "stall",
        "[[target.faults]]\nkind = \"stall\"\nprobability = 0.2\nduration = \"10s\"\n",
    ),
    (
        "drop",
        "[[target.faults]]\nkind = \"drop\"\nprobability = 0.3\n",
    ),
    (
        "slow",
        "[[target.faults]]\nkind = \"slow\"\nprobability = 0.3\nduration = \"3s\"\n",
    ),
    (
        "stream-error",
        "[[target.faults]]\nkind = \"stream_error\"\nprobability = 0.3\n",
    ),
    (
        "revoked",
        "[[target.events]]\nkind = \"revoke_key\"\nkey = 0\nat = \"30s\"\n",
    ),
    (
        "org-exhausted",
        "[[target.events]]\nkind = \"exhaust_daily\"\norg = 0\nat = \"30s\"\n",
    ),
    (
        "all-exhausted",
        "[[target.events]]\nkind = \"exhaust_daily\"\nat = \"30s\"\n",
    ),
];

fn scenario(policy: &str, fault: &str) -> Scenario {
    // Streamed answers, so that a stream_error fault has streams to break.
    let text = format!(
        "name = \"fault\"\nseed = 5\n{fault}[keys]\ncount = 5\n[engine]\npolicy = \"{policy}\"\nrequest_timeout = \"2s\"\ndeadline = \"60s\"\n[traffic]\narrival = \"poisson\"\nrate = 60\nduration = \"2m\"\nstream = true\n"
    );
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn every_policy_under_every_fault_accounts_for_every_request() {
    let mut table = String::from("policy           ");
    for (name, _) in FAULTS {
        table.push_str(&format!("{name:>14}"));
    }
    table.push('\n');
    for preset in PolicyConfig::presets() {
        table.push_str(&format!("{:<17}", preset.name));
        for (fault_name, fault) in FAULTS {
            let s = scenario(preset.name, fault);
            let finished =
                run(&s, RunOptions::default(), &NoProgress).unwrap_or_else(|e| panic!("{e:#}"));
            let (r, state) = (&finished.report, finished.mock_state.unwrap_or(Value::Null));
            let label = format!("{} × {fault_name}", preset.name);
            let planned = Arrivals::new(&s.traffic, s.seed).count() as u64;
            assert_eq!(
                r.summary.offered, planned,
                "{label}: every planned request offered once"
            );
            assert_eq!(
                r.summary.offered,
                r.summary.succeeded + r.failures.values().sum::<u64>(),
                "{label}"
            );
            assert!(!r.incomplete, "{label}");
            if *fault_name == "stream-error" {
                let broken = state["totals"]["stream_errors"].as_u64().unwrap_or(0);
                assert!(broken > 0, "{label}: no stream was broken");
            }
            assert!(
                r.span_s <= 120.0 + 60.0 + 2.0,
                "{label}: outlived its timeouts: {} s",
                r.span_s
            );
            assert_eq!(
                state["totals"]["requests"].as_u64(),
                Some(r.summary.attempts),
                "{label}: attempts vs mock"
            );
            let mock_keys: Vec<&Value> = state["orgs"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|o| o["keys"].as_array().into_iter().flatten())
                .collect();
            for k in &r.per_key {
                let m = mock_keys
                    .iter()
                    .find(|m| m["fingerprint"] == k.fingerprint.as_str())
                    .unwrap_or_else(|| panic!("{label}: key {} unknown to the mock", k.index));
                assert_eq!(
                    m["requests"].as_u64(),
                    Some(k.attempts),
                    "{label}: key {} requests",
                    k.index
                );
                assert_eq!(
                    m["ok"].as_u64(),
                    Some(k.succeeded),
                    "{label}: key {} successes",
                    k.index
                );
                assert_eq!(
                    m["rate_limited"].as_u64(),
                    Some(k.rate_limited),
                    "{label}: key {} 429s",
                    k.index
                );
            }
            table.push_str(&format!(
                "{:>13.1}%",
                r.summary.success_rate.unwrap_or(f64::NAN) * 100.0
            ));
        }
        table.push('\n');
    }
    eprintln!(
        "success rate by policy and fault (5 keys, 60 req/min, 2 simulated minutes):\n{table}"
    );
}
