//! The planner: the simulated minimum never falls below the analytical bound, is within one
//! key of it for a flat event, every policy is sized on the same event, and the CLI's JSON
//! has the documented fields.

use std::process::Command;

use keyrotor::plan::{PlanInput, plan};
use serde_json::Value;

fn event(extra: &str) -> PlanInput {
    let text = format!(
        "users = 200\nqueries_per_user = 5\nduration = \"2h\"\nprompt_tokens = 50\ncompletion_tokens = 50\nlimits = {{ rpm = 10, rpd = 300, tpm = 0, tpd = 0 }}\n{extra}"
    );
    toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn simulated_minimum_respects_and_nearly_meets_the_analytical_bound() {
    let mut quiet = |_: &str, _: usize, _: f64| {};
    for extra in ["", "peak_factor = 2.0\n", "profile = [1.0, 3.0]\n"] {
        let p = plan(event(extra), &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
        let bound = p.analytical.min_keys as usize;
        let simulated = p
            .simulated
            .min_keys
            .unwrap_or_else(|| panic!("{extra}: not met"));
        assert!(
            simulated >= bound,
            "{extra}: simulated {simulated} below the bound {bound}"
        );
        for s in &p.by_policy {
            if let Some(k) = s.min_keys {
                assert!(k >= bound, "{}: {k} below the bound {bound}", s.policy);
            }
        }
        assert_eq!(p.by_policy.len(), 5, "every other preset sized too");
        if extra.is_empty() {
            // 1,000 requests over 2 h; RPD 300 over 2 h gives 300·(1 + 2/24) = 325 per key.
            assert_eq!((bound, p.analytical.binding.as_str()), (4, "rpd"));
            assert!(simulated <= bound + 1, "flat: {simulated} vs bound {bound}");
            // No latency objective was set: the answer says what users waited, and that the
            // objective is on answers within the budget.
            let md = p.markdown();
            assert!(
                md.contains("No objective bounded how long users wait")
                    && md.contains("answered within 5s"),
                "{md}"
            );
        }
        // Fewer keys than the bound cannot meet the objective.
        assert!(
            p.simulated
                .points
                .iter()
                .filter(|pt| pt.keys < bound)
                .all(|pt| pt.success_rate.is_some_and(|s| s < 0.99))
        );
    }
}

#[test]
fn one_organisation_is_one_keys_worth_whatever_the_key_count() {
    let mut quiet = |_: &str, _: usize, _: f64| {};
    // 250 requests fit one organisation's 325 daily requests over the two hours.
    let small = PlanInput {
        users: 50,
        ..event("layout = \"shared\"\n")
    };
    let small = plan(small, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(small.simulated.min_keys, Some(1));
    let err = plan(event("layout = \"shared\"\n"), &mut quiet)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("one organisation"), "{err}");
}

#[test]
fn cli_plan_json_has_the_documented_fields() {
    let dir = std::env::temp_dir().join(format!("keyrotor-plan-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args([
            "plan",
            "--users",
            "200",
            "--queries",
            "5",
            "--duration",
            "2h",
            "--prompt-tokens",
            "50",
            "--completion-tokens",
            "50",
        ])
        .args([
            "--rpm", "10", "--rpd", "300", "--tpm", "0", "--tpd", "0", "--json", "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(json["analytical"]["min_keys"], 4);
    assert_eq!(json["analytical"]["binding"], "rpd");
    assert!(
        json["simulated"]["min_keys"]
            .as_u64()
            .is_some_and(|k| k >= 4)
    );
    assert_eq!(json["recommended_keys"], json["simulated"]["min_keys"]);
    for file in [
        "plan.json",
        "plan.md",
        "plan.svg",
        "plan.png",
        "report.html",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args(["plan", "--users", "0"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("users must be at least 1"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn latency_objectives_count_and_an_unreachable_one_is_explained() {
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let strict = PlanInput {
        users: 50,
        max_p99_ms: Some(1.0),
        max_keys: 6,
        ..event("")
    };
    let p = plan(strict, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(
        p.simulated.min_keys, None,
        "no key count makes answers take under 1 ms"
    );
    assert!(
        p.simulated
            .points
            .iter()
            .all(|pt| !pt.meets && pt.p99_ms.number().is_some_and(|p| p > 1.0))
    );
    assert!(
        p.notes.iter().any(|n| n.contains("p99 ≤ 1 ms")),
        "{:?}",
        p.notes
    );
    assert_eq!(p.recommended_keys, None);
    let relaxed = PlanInput {
        users: 50,
        max_p99_ms: Some(60_000.0),
        ..event("")
    };
    assert!(plan(relaxed, &mut quiet).is_ok_and(|p| p.simulated.min_keys.is_some()));
}
