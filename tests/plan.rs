//! The planner: the simulated minimum never falls below the analytical bound, is within one
//! key of it for a flat event, every policy is sized on the same event, and the CLI's JSON
//! has the documented fields.

use std::process::Command;

use keyrotor::studies::plan::{PlanInput, plan};
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
    assert!(json["recommended_keys"].as_u64() >= json["simulated"]["min_keys"].as_u64());
    assert!(
        json["confidence"]["counts"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    for file in [
        "plan.json",
        "plan.md",
        "plan.svg",
        "plan.png",
        "report.html",
    ] {
        assert!(dir.join(file).exists(), "{file}");
    }
    // The page is a page: the verdict first, then the interactive chart, then real tables.
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap_or_default();
    let at = |needle: &str| page.find(needle).unwrap_or(usize::MAX);
    assert!(
        at("class=\"verdict") < at("chart-data") && at("chart-data") < at("<table>"),
        "verdict, chart, tables"
    );
    assert!(!page.contains("<pre>") && !page.contains("| limit |"));
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

/// P(N ≤ k) for N ~ Poisson(λ), summed term by term in log space.
fn poisson_cdf(k: u64, lambda: f64) -> f64 {
    let mut log_term = -lambda; // log P(N = 0)
    let mut sum = log_term.exp();
    for n in 1..=k {
        log_term += lambda.ln() - (n as f64).ln();
        sum += log_term.exp();
    }
    sum
}

/// The confidence figure on a case computed by hand: 100 Poisson arrivals expected in one
/// minute against one key with 100 requests a day (its refill over the minute is under one
/// request), and every request must be answered. One key meets that exactly when at most
/// 100 arrive: P(Poisson(100) ≤ 100) = 0.5266. Two keys serve up to 200: all but certain.
#[test]
fn the_confidence_is_the_probability_a_key_count_meets_the_objective() {
    let p = poisson_cdf(100, 100.0);
    assert!((p - 0.5266).abs() < 1e-3, "{p}");
    let input: PlanInput = toml::from_str(
        "users = 100\nqueries_per_user = 1\nduration = \"1m\"\nprompt_tokens = 50\ncompletion_tokens = 50\nlimits = { rpm = 0, rpd = 100, tpm = 0, tpd = 0 }\nobjective = 1.0\nseeds = 200\nall_seeds = true\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let early = plan(
        PlanInput {
            all_seeds: false,
            ..input.clone()
        },
        &mut quiet,
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let plan = plan(input, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    let confidence = plan
        .confidence
        .as_ref()
        .unwrap_or_else(|| panic!("no confidence figure"));
    let share = |keys: usize| {
        confidence
            .counts
            .iter()
            .find(|s| s.keys == keys)
            .unwrap_or_else(|| panic!("{keys} keys not examined: {confidence:?}"))
    };
    let one = share(1);
    // Three standard deviations of a share over 200 seeds.
    let sigma = (p * (1.0 - p) / 200.0).sqrt();
    assert!(
        (one.share - p).abs() < 3.0 * sigma,
        "1 key met the objective in {} of 200 seeds; expected about {:.0}",
        one.met,
        p * 200.0
    );
    assert!(one.low <= one.share && one.share <= one.high);
    assert_eq!(share(2).met, 200);
    assert_eq!(plan.recommended_keys, Some(2));
    assert!(
        plan.markdown().contains("200 of 200"),
        "{}",
        plan.markdown()
    );
    // Stopping early: 95 % of 200 allows 10 misses, so 1 key stops at its 11th, on the same
    // seeds the full run drew (the shortest such run of seeds, whatever the threads did);
    // the recommended count runs every seed and gives the same answer.
    let c = early
        .confidence
        .as_ref()
        .unwrap_or_else(|| panic!("no confidence figure"));
    let early_one = c.counts.iter().find(|s| s.keys == 1);
    assert!(
        early_one.is_some_and(|s| s.seeds - s.met == 11 && s.seeds < 200 && s.met < one.met),
        "{c:?}"
    );
    assert_eq!(early.recommended_keys, Some(2));
    let two = c.counts.iter().find(|s| s.keys == 2);
    assert!(two.is_some_and(|s| (s.met, s.seeds) == (200, 200)), "{c:?}");
    assert!(
        early.markdown().contains("run (stopped early)"),
        "{}",
        early.markdown()
    );
}

/// Free-tier keys in separate organisations beside one developer-tier organisation, on the
/// catalog's limits for the default model, with the developer tier's expected spend from the
/// catalog's prices: 1,000 requests × (50 × $0.15 + 50 × $0.60) per million = $0.0375.
#[test]
fn the_developer_tier_is_sized_and_priced_beside_the_free_keys() {
    let input: PlanInput = toml::from_str(
        "users = 200\nqueries_per_user = 5\nduration = \"2h\"\nprompt_tokens = 50\ncompletion_tokens = 50\nseeds = 0\nas_of = \"2026-11-23\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let p = plan(input.clone(), &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    let tiers = p.tiers.as_ref().unwrap_or_else(|| panic!("no tiers"));
    let [free, developer] = &tiers.options[..] else {
        panic!("{tiers:?}")
    };
    use mock_groq::catalog::Tier;
    assert_eq!((free.tier, free.spend_usd), (Tier::Free, Some(0.0)));
    assert_eq!(
        free.simulated, p.simulated.min_keys,
        "the plan's own search"
    );
    assert_eq!(developer.tier, Tier::Developer);
    assert_eq!((developer.bound, developer.simulated), (1, Some(1)));
    let spend = developer.spend_usd.unwrap_or(f64::NAN);
    assert!((spend - 0.0375).abs() < 1e-9, "{spend}");
    assert!(
        developer.limits.contains("RPM 1000"),
        "{}",
        developer.limits
    );
    assert!(tiers.note.contains("terms of service"));
    let md = p.markdown();
    assert!(
        md.contains("Free tier or developer tier") && md.contains("$0.04"),
        "{md}"
    );
    // Explicit limits are nobody's tier: no comparison.
    let explicit = PlanInput {
        limits: event("").limits,
        ..input
    };
    let p = plan(explicit, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(p.tiers.is_none());
}

/// A model Groq no longer serves cannot be planned for: the error names the day it went and
/// the models served that day; before that day it plans.
#[test]
fn a_decommissioned_model_is_refused_with_the_models_served_that_day() {
    let text = "users = 10\nqueries_per_user = 1\nduration = \"1h\"\nprompt_tokens = 50\ncompletion_tokens = 50\nseeds = 0\nmodel = \"llama-3.3-70b-versatile\"\n";
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let today: PlanInput = toml::from_str(&format!("{text}as_of = \"2026-11-23\"\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let err = plan(today, &mut quiet)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("decommissioned on 2026-08-16") && err.contains("openai/gpt-oss-120b"),
        "{err}"
    );
    let then: PlanInput = toml::from_str(&format!("{text}as_of = \"2025-12-24\"\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(plan(then, &mut quiet).is_ok());
}

/// A keynote: 1,000 requests over two hours in ten-minute steps, the tenth step six times as
/// busy. By hand: the mean weight is 17/12, so a quiet step runs at 8.33 × 12/17 = 5.88
/// req/min and the keynote at 35.29; the busiest hour holds five quiet steps and the keynote,
/// (5 × 5.88 + 35.29) × 10 = 647.1 requests — not the keynote's rate for a whole hour.
#[test]
fn a_keynote_spike_in_ten_minute_steps_sets_the_busiest_hour() {
    let input: PlanInput = toml::from_str(
        "users = 1000\nqueries_per_user = 1\nduration = \"2h\"\nprompt_tokens = 50\ncompletion_tokens = 50\nprofile_step = \"10m\"\nprofile = [1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1, 1]\nlimits = { rpm = 30, rpd = 0, tpm = 0, tpd = 0 }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (limits, _) = input.limits();
    let a = keyrotor::studies::plan::analytical(&input, &limits);
    assert!(
        (a.peak_rpm - 1000.0 / 120.0 * 12.0 / 17.0 * 6.0).abs() < 1e-6,
        "{}",
        a.peak_rpm
    );
    let rpm = a
        .bounds
        .iter()
        .find(|b| b.limit == "rpm")
        .map_or(f64::NAN, |b| b.demand);
    let by_hand = (5.0 + 6.0) * 1000.0 / 120.0 * 12.0 / 17.0 * 10.0;
    assert!((rpm - by_hand).abs() < 1e-6, "{rpm} vs {by_hand}");
    let bad = PlanInput {
        profile_step: std::time::Duration::from_secs(7 * 60),
        ..input
    };
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let err = plan(bad, &mut quiet)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("profile step"), "{err}");
}

/// Every shipped plan event file is a valid event.
#[test]
fn every_shipped_event_file_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/events");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        let input: PlanInput =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(input.profile.len() > 1, "{}", path.display());
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn cli_plan_past_the_simulation_cap_says_so_and_still_draws() {
    // 3,000 requests over 8 h against 10 a day per key: by the bucket law each key admits
    // 10 · (1 + 8/24) ≈ 13.3, so the bound is 226 keys, past the 128 keys a simulation may
    // use: nothing is simulated, the plot says so, and the command succeeds.
    let dir = std::env::temp_dir().join(format!("keyrotor-plan-cap-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args([
            "plan",
            "--users",
            "300",
            "--queries",
            "10",
            "--duration",
            "8h",
        ])
        .args([
            "--rpm", "1000", "--rpd", "10", "--tpm", "0", "--tpd", "0", "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let md = std::fs::read_to_string(dir.join("plan.md")).unwrap_or_default();
    assert!(md.contains("exceeds the simulation's cap"), "{md}");
    let svg = std::fs::read_to_string(dir.join("plan.svg")).unwrap_or_default();
    assert!(svg.contains("nothing to draw"), "{svg}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An answer from the limits alone is a lower bound, not a recommendation, and every plan
/// from full budgets says so and gives what the limits need without that assumption.
#[test]
fn a_bound_is_called_a_bound_and_the_full_budget_assumption_is_stated() {
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let p = plan(event("analytical_only = true\n"), &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    let md = p.markdown();
    let bound = p.analytical.min_keys;
    assert!(
        md.contains(&format!("**Lower bound: at least {bound} keys")),
        "{md}"
    );
    assert!(!md.contains("Recommended"), "{md}");
    assert!(
        md.contains("every key starts the event with its full daily budget"),
        "{md}"
    );
    let steady = keyrotor::studies::plan::analytical(
        &PlanInput {
            steady: true,
            ..event("")
        },
        &p.limits,
    );
    assert!(steady.min_keys > bound, "spent budgets need more keys");
    assert!(
        md.contains(&format!("need at least {} keys", steady.min_keys)),
        "{md}"
    );
}

#[test]
fn a_plan_on_a_day_long_past_the_catalogs_sources_says_so() {
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let newest = groq_wire::catalog::current().newest_source();
    let day = |n: i32| {
        newest
            .checked_add(jiff::Span::new().days(n))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut notes = |as_of: jiff::civil::Date| {
        let planned = plan(
            event(&format!("analytical_only = true\nas_of = \"{as_of}\"\n")),
            &mut quiet,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        planned.notes
    };
    assert!(!notes(day(30)).iter().any(|n| n.contains("newest source")));
    let stale = notes(day(200));
    assert!(
        stale
            .iter()
            .any(|n| n.contains("200 days before") && n.contains("--rpm")),
        "{stale:?}"
    );
}

/// A plan from a trace is the plan of the equivalent profile: a trace of 20, 60 and 40
/// requests in three minutes (fixed sizes) plans exactly as the event of 120 users over 3
/// minutes in 1-minute steps weighted 20 : 60 : 40 with those sizes; `--scale 2` as 240 users.
#[test]
fn a_plan_from_a_trace_equals_the_plan_from_the_equivalent_profile() {
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let dir = std::env::temp_dir().join(format!("keyrotor-plan-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("event.csv");
    let mut rows = String::from("offset_s,prompt_tokens,completion_tokens\n");
    for (minute, n) in [(0, 20), (1, 60), (2, 40)] {
        for i in 0..n {
            let at = minute as f64 * 60.0 + 60.0 * i as f64 / n as f64;
            rows.push_str(&format!("{at:.3},50,50\n"));
        }
    }
    std::fs::write(&path, rows).unwrap_or_else(|e| panic!("{e}"));
    let base = event("seeds = 3\nmax_keys = 12\n");
    let trace = keyrotor::spec::trace::Trace::new(&path);
    for scale in [1.0, 2.0] {
        let (from_trace, note) = keyrotor::studies::plan::fitted(&trace, scale, base.clone())
            .unwrap_or_else(|e| panic!("{e:#}"));
        assert!(
            note.contains(
                "120 requests over 2m 58s in 3 steps of 1m (the busiest step 60 requests)"
            ),
            "{note}"
        );
        let profile = event(&format!(
            "seeds = 3\nmax_keys = 12\nprofile = [{}, 1.0, {}]\nprofile_step = \"1m\"\n",
            20.0 / 60.0,
            40.0 / 60.0
        ));
        let profile = PlanInput {
            users: (120.0 * scale) as u64,
            queries_per_user: 1.0,
            duration: std::time::Duration::from_secs(180),
            ..profile
        };
        let a = plan(from_trace, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
        let b = plan(profile, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
        let json = |p: &keyrotor::studies::plan::Plan| serde_json::to_value(p).unwrap_or_default();
        assert_eq!(json(&a), json(&b), "scale {scale}");
        assert!(
            a.recommended_keys
                .is_some_and(|k| k >= a.analytical.min_keys)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keys add capacity only across the provider's scope: a Gemini event sized in projects at
/// 10 requests a minute each (explicit: Gemini publishes no free figures keyrotor can cite),
/// refused when every key is in one project or when no limits are known; Cerebras planned on
/// its published figures; OpenRouter's separate accounts flagged as the mock's reading.
#[test]
fn a_plan_per_provider_sizes_keys_in_its_scope() {
    let gemini = |extra: &str| -> PlanInput {
        toml::from_str(&format!(
            "provider = \"gemini\"\nmodel = \"gemini-2.5-flash\"\nusers = 100\nqueries_per_user = 1\nduration = \"5m\"\nprompt_tokens = 50\ncompletion_tokens = 50\nseeds = 5\n{extra}"
        ))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut quiet = |_: &str, _: usize, _: f64| {};
    let limits = "limits = { rpm = 10 }\n";
    let p = plan(gemini(limits), &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    // 100 requests over 5 minutes; a project's bucket admits 10 × (1 + 5) = 60 of them.
    assert_eq!(p.analytical.min_keys, 2);
    assert!(p.recommended_keys.is_some_and(|k| k >= 2), "{p:?}");
    assert!(p.tiers.is_none(), "Groq's tiers are not Gemini's");
    let md = p.markdown();
    for words in [
        "| RPM | 100 requests over the whole event | 10 requests/min | 2 ← binds |",
        "keys in separate projects",
        "on Google Gemini API",
        "limits per project",
    ] {
        assert!(md.contains(words), "{words}: {md}");
    }
    let refused = |input: PlanInput| {
        plan(input, &mut |_: &str, _: usize, _: f64| {})
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let shared = refused(gemini(&format!("{limits}layout = \"shared\"\n")));
    assert!(
        shared.contains("all keys are in one project") && shared.contains("separate projects"),
        "{shared}"
    );
    let unknown = refused(gemini(""));
    assert!(unknown.contains("give your project's limits"), "{unknown}");
    let unnamed = refused(PlanInput {
        model: None,
        ..gemini(limits)
    });
    assert!(unnamed.contains("--model"), "{unnamed}");

    let cerebras: PlanInput = toml::from_str(
        "provider = \"cerebras\"\nmodel = \"gpt-oss-120b\"\nusers = 1000\nqueries_per_user = 10\nduration = \"8h\"\nprompt_tokens = 200\ncompletion_tokens = 200\nanalytical_only = true\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = plan(cerebras, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        p.limits.rpm.is_some() && p.analytical.min_keys >= 1,
        "{p:?}"
    );
    assert!(p.markdown().contains("keys in separate organisations"));
    assert!(
        p.notes.iter().any(|n| n
            .contains("Cerebras Inference closed its free tier to new accounts on 2026-08-17")
            && n.contains("only for organisations that had it")),
        "{:?}",
        p.notes
    );
    // Free Trial: 5 requests a minute per organisation binds 1,000 users × 10 queries over
    // 8 hours (≈ 21 a minute on average, the busiest hour higher) at 5 organisations or more.
    assert_eq!(p.limits.rpm, Some(5), "{:?}", p.limits);
    assert!(p.analytical.min_keys >= 5, "{:?}", p.analytical);

    let openrouter: PlanInput = toml::from_str(
        "provider = \"openrouter\"\nmodel = \"meta-llama/llama-3.3-70b-instruct:free\"\nusers = 100\nqueries_per_user = 1\nduration = \"1h\"\nprompt_tokens = 200\ncompletion_tokens = 200\nanalytical_only = true\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = plan(openrouter, &mut quiet).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("OpenRouter does not promise")),
        "{:?}",
        p.notes
    );
}
