//! The harness end to end: simulated runs are deterministic and account for every request;
//! real-time runs over loopback work and stop cleanly when interrupted; sweeps find
//! capacities; the claims get the verdicts the mock's limits imply; the CLI's exit codes.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use keyrotor::drive::driver::NoProgress;
use keyrotor::measure::report::Report;
use keyrotor::run::{RunOptions, run};
use keyrotor::spec::scenario::Scenario;
use serde_json::Value;

fn scenario(extra_traffic: &str, rest: &str) -> Scenario {
    let text = format!(
        r#"name = "test"
seed = 9
{rest}
[keys]
count = 3
[engine]
policy = "round-robin"
[traffic]
arrival = "poisson"
rate = 120
prompt_tokens = {{ min = 50, max = 150 }}
completion_tokens = 100
interval = "10s"
{extra_traffic}
"#
    );
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn report_of(s: &Scenario) -> Report {
    run(s, RunOptions::default(), &NoProgress)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .report
}

fn without_wall(r: &Report) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["started_unix"] = Value::Null;
    v["wall_s"] = Value::Null;
    v
}

#[test]
fn simulated_runs_are_deterministic_and_account_for_every_request() {
    let s = scenario("duration = \"10m\"", "");
    let (a, b) = (report_of(&s), report_of(&s));
    assert_eq!(
        without_wall(&a),
        without_wall(&b),
        "same scenario and seed, same report"
    );
    // Heavy contention (all keys in one organisation) makes any ordering noise visible.
    let mut shared = s.clone();
    shared.keys.layout = keyrotor::spec::scenario::Layout::Shared;
    let first = without_wall(&report_of(&shared));
    for _ in 0..3 {
        assert_eq!(
            without_wall(&report_of(&shared)),
            first,
            "simulation must replay exactly"
        );
    }
    assert!(a.simulated && a.span_s >= 590.0, "{}", a.span_s);
    let sum = &a.summary;
    assert_eq!(sum.offered, sum.succeeded + sum.failed);
    assert_eq!(sum.failed, a.failures.values().sum::<u64>());
    assert!(
        (1100..1300).contains(&sum.offered),
        "Poisson 120/min for 10 min: {}",
        sum.offered
    );
    assert_eq!(
        sum.attempts,
        a.per_key.iter().map(|k| k.attempts).sum::<u64>()
    );
    assert_eq!(
        sum.upstream_429,
        a.per_key.iter().map(|k| k.rate_limited).sum::<u64>()
    );
    // 3 organisations × 30 RPM = 90/min sustained, 120 offered: about a quarter fails.
    assert!(
        sum.success_rate.is_some_and(|s| s > 0.6 && s < 0.9),
        "{:?}",
        sum.success_rate
    );
    assert!(
        a.latency_ms.p50.number().is_some_and(|p| p > 100.0),
        "the mock's service time shows: {:?}",
        a.latency_ms.p50
    );
    let other_seed = Scenario {
        seed: 10,
        ..s.clone()
    };
    assert_ne!(
        without_wall(&report_of(&other_seed))["summary"],
        without_wall(&a)["summary"]
    );
}

#[test]
fn real_time_run_over_loopback_and_interruption_lose_nothing() {
    let s = scenario(
        "duration = \"2s\"",
        "mode = \"real\"\n[target.latency]\nedge = \"1ms\"\nqueue = \"1ms\"",
    );
    let r = report_of(&s);
    assert!(!r.simulated && !r.incomplete);
    let planned = keyrotor::drive::workload::Arrivals::new(&s.traffic, s.seed).count() as u64;
    assert!(planned >= 2);
    assert_eq!(
        r.summary.offered, planned,
        "every planned request is offered once"
    );
    assert_eq!(r.summary.offered, r.summary.succeeded + r.summary.failed);
    assert!(r.setup.target.contains("loopback"));

    // Interrupted after 1 s of a 60 s run: stops, keeps what ran, marks the report.
    let mut s = scenario("duration = \"60s\"", "mode = \"real\"");
    s.traffic.shape = keyrotor::spec::scenario::Shape::Poisson {
        rate: keyrotor::spec::scenario::Rate(600.0),
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        let _ = tx.send(true);
    });
    let started = std::time::Instant::now();
    let options = RunOptions {
        interrupt: Some(rx),
        ..RunOptions::default()
    };
    let r = run(&s, options, &NoProgress)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .report;
    let _ = stopper.join();
    assert!(r.incomplete);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped by itself"
    );
    assert!(
        r.summary.offered >= 5 && r.summary.offered < 100,
        "{}",
        r.summary.offered
    );
    assert_eq!(r.summary.offered, r.summary.succeeded + r.summary.failed);
}

/// A search's probe only asks whether a goodput objective is met: a verdict-only run stops
/// once it cannot be, and a run that meets it measures what the whole run does.
#[test]
fn a_verdict_only_run_stops_once_the_objective_is_out_of_reach_and_otherwise_measures_it_all() {
    let verdict = |s: &Scenario| {
        run(s, RunOptions::verdict_only(s, 0.99), &NoProgress)
            .unwrap_or_else(|e| panic!("{e:#}"))
            .report
    };
    let at = |rpm: f64| {
        let s = scenario("duration = \"10m\"", "").to_builder().steady(rpm);
        s.build().unwrap_or_else(|e| panic!("{e}"))
    };
    // Three keys of Groq's free tier cannot answer 99 % of 600 req/min.
    let over = at(600.0);
    let (whole, stopped) = (report_of(&over), verdict(&over));
    assert!(!whole.incomplete && stopped.incomplete);
    assert!(
        stopped.summary.offered < whole.summary.offered / 2,
        "stopped after {} of {} requests",
        stopped.summary.offered,
        whole.summary.offered
    );
    assert_eq!(
        keyrotor::run::verdict(&stopped),
        None,
        "no partial figure is read"
    );
    assert!(whole.summary.goodput_rate.is_some_and(|g| g < 0.99));
    // Well within the limits: the whole run, the same figures.
    let under = at(20.0);
    let (whole, met) = (report_of(&under), verdict(&under));
    assert!(!met.incomplete);
    assert_eq!(met.summary.offered, whole.summary.offered);
    assert_eq!(met.summary.goodput, whole.summary.goodput);
    assert!(keyrotor::run::verdict(&met).is_some_and(|g| g >= 0.99));
}

#[test]
fn sweep_finds_capacity_per_key_count_and_shared_orgs_do_not_add_up() {
    let separate = scenario(
        "duration = \"30m\"",
        "[target]\nlimits = { rpm = 30, rpd = 0, tpm = 0, tpd = 0 }",
    );
    let mut quiet = |_: usize, _: f64, _: Option<f64>| {};
    let result = keyrotor::studies::sweep::sweep(&separate, &[1, 2], &[], 0.99, &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let one = result.points[0].capacity_rpm;
    assert!((28.0..36.0).contains(&one), "one key ≈ 30/min: {one}");
    let ratio = result.points[1].ratio_to_one_key.unwrap_or(0.0);
    assert!((1.8..2.2).contains(&ratio), "{ratio}");
    // Only RPM limits here: the burst can be kept up, and the answer says so.
    assert_eq!(result.points[1].sustained_bound_rpm, Some(60.0));
    assert_eq!(result.points[1].binding.as_deref(), Some("RPM"));
    assert!(
        result.verdict().1.contains("can be kept up"),
        "{}",
        result.verdict().1
    );

    // With a daily token limit, the capacity found is a burst from full budgets that no day
    // sustains: the answer says what is sustained and which limit binds.
    let daily = scenario(
        "duration = \"30m\"",
        "[target]\nlimits = { rpm = 30, rpd = 0, tpm = 0, tpd = 14400 }",
    );
    let result = keyrotor::studies::sweep::sweep(&daily, &[1], &[], 0.99, &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (_, answer) = result.verdict();
    assert_eq!(result.points[0].binding.as_deref(), Some("TPD"));
    assert!(
        answer.contains("a burst, from full budgets") && answer.contains("(TPD binds)"),
        "{answer}"
    );

    let mut shared = separate.clone();
    shared.keys.layout = keyrotor::spec::scenario::Layout::Shared;
    let result = keyrotor::studies::sweep::sweep(&shared, &[1, 3], &[], 0.99, &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let ratio = result.points[1].ratio_to_one_key.unwrap_or(0.0);
    assert!(
        (0.9..1.1).contains(&ratio),
        "keys of one organisation share its limit: {ratio}"
    );
}

/// On each provider the mock speaks, three keys triple the capacity only in three scopes
/// (Gemini projects, OpenRouter accounts, Cerebras organisations); in one they give one
/// key's. The engine reads each provider's 429s (the run's goodput depends on it).
#[test]
fn a_sweep_per_provider_finds_keys_add_capacity_only_across_scopes() {
    let mut quiet = |_: usize, _: f64, _: Option<f64>| {};
    for (provider, model, limits) in [
        ("gemini", "gemini-2.5-flash", "{ rpm = 30 }"),
        (
            "openrouter",
            "meta-llama/llama-3.3-70b-instruct:free",
            "{ rpm = 30, rpd = 0 }",
        ),
        (
            "cerebras",
            "gpt-oss-120b",
            "{ rpm = 30, rph = 0, rpd = 0, tpm = 0, tph = 0, tpd = 0 }",
        ),
    ] {
        let target =
            format!("[target]\nprovider = \"{provider}\"\nmodel = \"{model}\"\nlimits = {limits}");
        let separate = scenario("duration = \"20m\"", &target);
        let result = keyrotor::studies::sweep::sweep(&separate, &[1, 3], &[], 0.99, &mut quiet)
            .unwrap_or_else(|e| panic!("{provider}: {e:#}"));
        let one = result.points[0].capacity_rpm;
        assert!(
            (28.0..36.0).contains(&one),
            "{provider}: one key ≈ 30/min: {one}"
        );
        let ratio = result.points[1].ratio_to_one_key.unwrap_or(0.0);
        assert!(
            (2.7..3.3).contains(&ratio),
            "{provider}: three scopes: {ratio}"
        );
        let mut shared = separate.clone();
        shared.keys.layout = keyrotor::spec::scenario::Layout::Shared;
        let result = keyrotor::studies::sweep::sweep(&shared, &[1, 3], &[], 0.99, &mut quiet)
            .unwrap_or_else(|e| panic!("{provider}: {e:#}"));
        let ratio = result.points[1].ratio_to_one_key.unwrap_or(0.0);
        assert!(
            (0.9..1.1).contains(&ratio),
            "{provider}: one scope: {ratio}"
        );
        // The report says whose API it was and what the keys share, in the provider's words.
        let report = report_of(&shared);
        let (answer, facts) = (report.answer().join(" "), report.facts().join("\n"));
        let (scope, name) = match provider {
            "gemini" => ("project", "Google Gemini API"),
            "openrouter" => ("account", "OpenRouter"),
            _ => ("organisation", "Cerebras Inference"),
        };
        let said = format!("3 keys in 1 {scope} (policy round-robin; {name})");
        assert!(answer.contains(&said), "{answer}");
        assert!(!answer.contains("Groq"), "{answer}");
        assert!(
            facts.contains(&format!("limits per {scope}: RPM 30")),
            "{facts}"
        );
    }
}

#[test]
fn claims_get_the_verdicts_the_limits_imply() {
    let mut quiet = |_: &str| {};
    let today = mock_groq::catalog::current().reviewed;
    let claims = keyrotor::studies::claims::check(today, Default::default(), &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let verdict = |id: &str| {
        claims
            .claims
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.verdict)
            .unwrap_or_else(|| panic!("claim {id} missing"))
    };
    use keyrotor::studies::claims::Verdict::*;
    assert_eq!(verdict("capacity-5x-separate"), Holds);
    assert_eq!(verdict("capacity-5x-shared"), Fails);
    assert_eq!(
        verdict("150-rpm-5-keys-seed-numbers"),
        Holds,
        "on seed 000's own numbers (30 req/min per key, no daily limit) 5 keys do sustain 150"
    );
    assert_eq!(
        verdict("150-rpm-5-keys"),
        Fails,
        "Groq's TPD sustains about 1 req/min for 5 keys"
    );
    assert_eq!(
        verdict("failover-200ms-sticky-failover"),
        Fails,
        "the SDK waits retry-after first"
    );
    assert_eq!(
        verdict("failover-200ms-error-threshold"),
        Holds,
        "every request that tried a second key was answered in time; the ones refused after \
         their key failed, without trying another, did not fail over"
    );
    assert_eq!(
        verdict("zero-downtime-round-robin"),
        Holds,
        "seed 000's loop falls through to the next key on a 401"
    );
    assert_eq!(verdict("zero-downtime-adaptive"), Holds);
    assert_eq!(
        verdict("rate-limits-eliminated-4-replicas-local-state"),
        Holds
    );
    assert_eq!(
        verdict("rate-limits-eliminated-serverless-local-state"),
        Fails,
        "every cold instance starts at key 0"
    );
    assert_eq!(
        verdict("rate-limits-eliminated-serverless-shared-state"),
        Holds,
        "a shared rotation position spreads cold instances over the keys"
    );
    assert_eq!(verdict("never-see-errors-all-out-sticky-failover"), Fails);
    assert_eq!(
        verdict("1000-users"),
        Fails,
        "Groq's TPD needs far more than 3 keys"
    );
    assert_eq!(verdict("1000-users-seed-numbers"), Holds);
    assert_eq!(
        verdict("users-per-hour-100-seed-numbers"),
        Holds,
        "seed 002's own 30 req/min per key gives exactly its table"
    );
    for users in [500, 1000, 2000] {
        assert_eq!(
            verdict(&format!("users-per-hour-{users}-seed-numbers")),
            Holds
        );
    }
    // Each seed's claims on that seed's own numbers, never another seed's.
    let limits = |id: &str| {
        claims
            .claims
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.conditions.limits.clone())
            .unwrap_or_default()
    };
    assert!(limits("users-per-hour-100-seed-numbers").starts_with("seed 002's own numbers"));
    assert!(limits("1000-users-seed-numbers").starts_with("seed 004's own numbers"));
    assert!(limits("150-rpm-5-keys-seed-numbers").starts_with("seed 000's own numbers"));
    for c in &claims.claims {
        assert!(!c.measured.is_empty() && !c.detail.is_empty(), "{}", c.id);
        let k = &c.conditions;
        for part in [
            &k.limits, &k.model, &k.keys, &k.policy, &k.traffic, &k.request,
        ] {
            assert!(!part.is_empty(), "{}: {k:?}", c.id);
        }
        assert!(
            k.limits.contains("RPM") && k.request.contains("tokens"),
            "{}: {k:?}",
            c.id
        );
        if c.id.starts_with("failover-") {
            assert_eq!(
                c.detail.contains("Inconclusive"),
                c.verdict == Inconclusive,
                "{}: {}",
                c.id,
                c.detail
            );
            // Every failover row says what a failed key costs, measured, in ms.
            let cost = c
                .measured
                .split("one failed key cost ")
                .nth(1)
                .and_then(|rest| rest.split(" ms").next())
                .and_then(|ms| ms.parse::<f64>().ok());
            assert!(
                cost.is_some_and(|ms| ms > 0.0)
                    || (c.figure.samples == 0
                        && c.measured.contains("one failed key's cost: no data")),
                "{}: {}",
                c.id,
                c.measured
            );
        }
    }
    // A request refused after its key failed, without a second try, is not a failover: the
    // error-threshold rows count it apart instead of as an unbounded failover.
    let refused = claims
        .claims
        .iter()
        .find(|c| c.id == "failover-200ms-error-threshold")
        .map(|c| c.measured.clone())
        .unwrap_or_default();
    assert!(refused.contains("refused after a failed key"), "{refused}");
    // A verdict from full budgets names its horizon and when a daily limit runs out.
    let sticky = claims
        .claims
        .iter()
        .find(|c| c.id == "never-see-errors-some-out-sticky-failover")
        .map(|c| c.measured.clone())
        .unwrap_or_default();
    assert!(
        sticky.contains("from full daily budgets") && sticky.contains("the whole load its"),
        "{sticky}"
    );
    // The answers group the rows by the claim they check: a screenful, not 64 rows.
    let grouped = claims.grouped();
    assert!(
        (5..=20).contains(&grouped.len()),
        "{} distinct claims",
        grouped.len()
    );
    // Each claim's answer names the condition deciding it, with the measured numbers: 5×
    // holds with each key in its own organisation and fails with all in one.
    let five = grouped
        .iter()
        .find(|g| g.claim.contains("5× the capacity"))
        .map(|g| g.answer())
        .unwrap_or_default();
    assert!(
        five.contains("own organisation")
            && five.contains("one organisation")
            && five.contains("(5 × one key"),
        "{five}"
    );
    let summary = claims.summary();
    assert!(
        summary.lines().count() <= 2 * grouped.len() + 4,
        "{summary}"
    );
    let all_out = claims
        .claims
        .iter()
        .find(|c| c.id == "never-see-errors-all-out-sticky-failover")
        .map(|c| c.conditions.traffic.clone())
        .unwrap_or_default();
    assert!(all_out.contains("no key can serve"), "{all_out}");
    // Seed 004's fallback read both ways: answered by the API, and no API error shown.
    let all_out_measured = claims
        .claims
        .iter()
        .find(|c| c.id == "never-see-errors-all-out-sticky-failover")
        .map(|c| c.measured.clone())
        .unwrap_or_default();
    assert!(
        all_out_measured.contains("read as \"no API error shown\""),
        "{all_out_measured}"
    );
    // Rows that differ only in their conditions show the difference.
    let conditions = |id: &str| {
        claims
            .claims
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.conditions.line())
            .unwrap_or_default()
    };
    assert_ne!(
        conditions("capacity-5x-separate"),
        conditions("capacity-5x-separate-seed-numbers")
    );
    assert_ne!(
        conditions("capacity-5x-separate"),
        conditions("capacity-5x-shared")
    );
    // Each row says which day's catalog and which model it used: the seeds' own rows on
    // their date with their model, the `-today` rows on today's with Groq's replacement.
    for c in &claims.claims {
        let k = &c.conditions;
        let today = today.to_string();
        let (day, model) = if c.id == "seed-configuration-today" {
            (today.as_str(), "llama-3.3-70b-versatile")
        } else if c.id.ends_with("-today") {
            (today.as_str(), "openai/gpt-oss-120b")
        } else {
            ("2025-12-24 (the seeds' date)", "llama-3.3-70b-versatile")
        };
        assert_eq!(
            (k.as_of.as_str(), k.model.as_str()),
            (day, model),
            "{}",
            c.id
        );
        assert!(c.conditions.line().contains(day), "{}", c.id);
    }
    assert!(
        claims
            .claims
            .iter()
            .filter(|c| c.id.ends_with("-today"))
            .count()
            >= 10
    );
    let finding = claims
        .claims
        .iter()
        .find(|c| c.id == "seed-configuration-today")
        .unwrap_or_else(|| panic!("the seeds' configuration today is missing"));
    assert_eq!(finding.verdict, Fails);
    assert_eq!(
        finding.figure.value.number(),
        Some(0.0),
        "{}",
        finding.measured
    );
    assert!(
        finding.detail.contains("decommissioned on 2026-08-16"),
        "{}",
        finding.detail
    );
    let json = serde_json::to_value(&claims).unwrap_or_default();
    assert!(json["claims"][0]["figure"]["value"].is_number(), "{json}");
    assert!(json["claims"][0]["figure"]["samples"].as_u64() > Some(0));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keyrotor"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

#[test]
fn cli_run_from_flags_alone_and_flags_over_a_file() {
    let dir = temp("flags");
    // Runs `keyrotor run ARGS --json -o DIR/NAME`; returns its report.json, which --json
    // printed on stdout.
    let report = |args: &[&str], name: &str| -> serde_json::Value {
        let out = dir.join(name);
        let run = bin()
            .arg("run")
            .args(args)
            .args(["--json", "-o"])
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{args:?}: {err}");
        let text = std::fs::read_to_string(out.join("report.json")).unwrap_or_default();
        let file: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let printed: serde_json::Value = serde_json::from_slice(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stdout)));
        assert_eq!(printed, file, "--json prints what report.json holds");
        file
    };
    // No file: 3 keys in one organisation, 2 requests a second, at most 20 of them.
    let r = report(
        &[
            "--keys",
            "3",
            "--layout",
            "shared",
            "-q",
            "2",
            "-z",
            "30s",
            "-n",
            "20",
            "--policy",
            "round-robin",
        ],
        "alone",
    );
    assert_eq!(r["summary"]["offered"], 20, "{r}");
    assert_eq!(r["setup"]["keys"], 3, "{r}");
    assert_eq!(r["setup"]["orgs"], 1, "{r}");
    // A file with flags over it: the flags win.
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        "name = \"over\"\n[keys]\ncount = 1\n[traffic]\narrival = \"constant\"\nrate = 30\nduration = \"1m\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = file.display().to_string();
    let r = report(&[&file, "--keys", "2", "--rate", "600/h"], "over");
    assert_eq!(r["setup"]["keys"], 2, "{r}");
    assert_eq!(r["summary"]["offered"], 10, "10 req/min for a minute: {r}");
    // Nonsense is refused before anything runs, naming the flag.
    for (args, says) in [
        (vec!["--rate", "0/min"], "--rate"),
        (vec!["--keys", "0"], "--keys"),
        (vec!["--rate", "5/s", "-c", "3"], "cannot be used with"),
    ] {
        let run = bin()
            .arg("run")
            .args(&args)
            .arg("-o")
            .arg(dir.join("bad"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            !run.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_stdout_ends_the_printing_quietly_and_keeps_the_runs_verdict() {
    let dir = temp("closed-pipe");
    for args in [
        vec!["run", "--keys", "5", "--rate", "150/min", "-z", "1m", "-o"],
        vec!["policies"],
        vec!["completions", "bash"],
    ] {
        let mut command = bin();
        command.args(&args);
        if args[0] == "run" {
            command.arg(dir.join("run"));
        }
        // The reader is gone before keyrotor writes a byte (`| head -0`).
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
    assert!(
        dir.join("run/report.json").is_file(),
        "the run's files are written whatever became of stdout"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_reused_output_folder_is_cleared_and_a_foreign_one_refused() {
    let dir = temp("reused-out");
    let out = dir.join("out");
    let run = |extra: &[&str]| {
        bin()
            .args(["run", "--keys", "2", "--rate", "60/min", "-z", "30s", "-o"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(run(&["--requests-csv"]).status.success());
    assert!(out.join("requests.csv").is_file());
    assert!(run(&[]).status.success());
    assert!(
        !out.join("requests.csv").exists(),
        "the earlier run's requests.csv does not stand beside the new report"
    );
    assert!(out.join("report.json").is_file());

    let foreign = dir.join("mine");
    std::fs::create_dir_all(&foreign).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap_or_else(|e| panic!("{e}"));
    let refused = bin()
        .args(["run", "-z", "10s", "-o"])
        .arg(&foreign)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("not empty"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap_or_default(),
        "mine",
        "nothing of the user's is touched"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_real_time_run_off_a_terminal_prints_plain_progress_lines_from_the_first_second() {
    let dir = temp("plain-progress");
    let run = bin()
        .args(["run", "--real", "--keys", "2", "-q", "4", "-z", "6s", "-o"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect();
    // One line at once, then one every 5 s: at 0 s and at 5 s.
    assert!(lines.len() >= 2, "{err}");
    assert!(
        lines[0].contains("no data ok"),
        "nothing finished yet: {}",
        lines[0]
    );
    let last = lines[lines.len() - 1];
    assert!(
        last.contains(" done (") && last.contains("429s · p50 ") && !last.contains("p99 no data"),
        "{last}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// GET `path` from `addr` over plain HTTP/1.0; the body, or `None` if nothing answers.
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

#[test]
fn a_run_serves_its_live_figures_for_prometheus_while_it_runs() {
    let dir = temp("live-metrics");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = format!("127.0.0.1:{port}");
    let mut child = bin()
        .args(["run", "--real", "--keys", "2", "-q", "5", "-z", "4s"])
        .args(["--metrics-listen", &addr, "-o"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Scrape until a request has finished (bounded: 40 tries, 250 ms apart).
    let mut seen = None;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        if let Some(body) = http_get(&addr, "/metrics")
            && body.lines().any(|l| {
                l.starts_with("keyrotor_run_offered_total ") && l != "keyrotor_run_offered_total 0"
            })
        {
            seen = Some(body);
            break;
        }
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    let body = seen.unwrap_or_else(|| panic!("no finished request ever showed on /metrics"));
    assert!(status.success());
    for name in [
        "keyrotor_run_succeeded_total ",
        "keyrotor_run_latency_p99_ms ",
        "keyrotor_run_key_attempts_total{key=\"1\"} ",
    ] {
        assert!(body.contains(name), "{name} in\n{body}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_run_writes_reports_and_exit_codes_tell_thresholds_from_errors() {
    let dir = temp("cli");
    let scenario = dir.join("s.toml");
    let write = |text: &str| std::fs::write(&scenario, text).unwrap_or_else(|e| panic!("{e}"));
    write(
        "name = \"cli\"\n[keys]\ncount = 2\n[traffic]\narrival = \"constant\"\nrate = 30\nduration = \"2m\"\n[thresholds]\nsuccess_rate = \">= 0.999\"\nlatency_p50_ms = \"< 1\"\n",
    );
    let out = dir.join("out");
    let status = bin()
        .args(["run"])
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--requests-csv")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        status.status.code(),
        Some(3),
        "a failed threshold: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    for file in [
        "report.json",
        "report.md",
        "timeseries.csv",
        "latency.hgrm",
        "requests.csv",
    ] {
        let text =
            std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!text.contains("gsk_keyrotor"), "{file} shows a full key");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(report["schema"], keyrotor::measure::report::SCHEMA);
    let thresholds = report["thresholds"].as_array().cloned().unwrap_or_default();
    let latency = thresholds
        .iter()
        .find(|t| t["metric"] == "latency_p50_ms")
        .cloned()
        .unwrap_or_default();
    assert_eq!(latency["pass"], false, "{thresholds:?}");
    assert_eq!(report["summary"]["offered"], 60);
    let rows = std::fs::read_to_string(out.join("requests.csv"))
        .unwrap_or_default()
        .lines()
        .count();
    assert_eq!(rows, 61);

    write("name = \"cli\"\n[keys]\ncount = 0\n");
    let bad = bin()
        .args(["run"])
        .arg(&scenario)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("s.toml") && err.contains("line 3") && err.contains("≥ 1"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_shipped_scenario_and_claims_file_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let (mut scenarios, mut claims) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        if text.contains("[[claim]]") {
            keyrotor::studies::claims::ClaimsFile::read(&path, None)
                .unwrap_or_else(|e| panic!("{e}"));
            claims += 1;
        } else {
            Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
            scenarios += 1;
        }
    }
    assert!(
        scenarios >= 10 && claims >= 1,
        "{scenarios} scenarios, {claims} claims files"
    );
}

#[test]
fn sweep_cli_writes_json_plot_and_html() {
    let dir = temp("sweep");
    let out = dir.join("out");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/keys-1.toml");
    let run = bin()
        .args(["sweep", scenario, "--keys", "1,2", "--out"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let sweep: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap_or_default())
            .unwrap_or_default();
    let ratio = sweep["points"][1]["ratio_to_one_key"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((1.7..2.2).contains(&ratio), "{sweep}");
    assert!(std::fs::read(out.join("capacity.png")).is_ok_and(|b| b.starts_with(b"\x89PNG")));
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .is_ok_and(|h| h.contains("class=\"chart-data\"") && h.contains("\"id\":\"capacity\"")),
        "the capacity chart in the page"
    );
    let bad = bin()
        .args(["sweep", scenario, "--keys", "0"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The simulation is the same code on a paused clock, so it must agree with a real-time run
/// over loopback, for every policy: success within 1 point, throughput within 5 %, latency
/// p50 and p99 within 10 %. The load is six times what the keys allow, so keys hit their
/// limits, policies fail over and adaptive waits. Arrivals are Poisson and 1,000 requests
/// long: tails made of Groq's whole-second retry-after waits are steps of one second, and a
/// p99 over 200 constant arrivals sat on such a step, where loopback's milliseconds decided
/// which side of it two requests fell.
#[test]
fn simulation_agrees_with_real_time_for_every_policy() {
    let mut table = String::new();
    let mut failures = Vec::new();
    for preset in keyrotor::engine::PolicyConfig::presets() {
        let text = format!(
            "name = \"faithful\"\nseed = 3\n[target]\nlimits = {{ rpm = 250, rpd = 0, tpm = 0, tpd = 0 }}\n[keys]\ncount = 2\n[engine]\npolicy = \"{}\"\n[traffic]\narrival = \"poisson\"\nrate = 3000\nduration = \"20s\"\nprompt_tokens = 100\ncompletion_tokens = 50\ninterval = \"1s\"\n",
            preset.name
        );
        let sim = Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
        let real = Scenario {
            mode: keyrotor::spec::scenario::Mode::Real,
            ..sim.clone()
        };
        let (s, r) = (report_of(&sim), report_of(&real));
        let num = |f: keyrotor::spec::metrics::Figure| f.number().unwrap_or(f64::NAN);
        let pairs = [
            (
                "success",
                s.summary.success_rate.unwrap_or(f64::NAN),
                r.summary.success_rate.unwrap_or(f64::NAN),
            ),
            (
                "throughput",
                s.summary.throughput_rps,
                r.summary.throughput_rps,
            ),
            ("p50", num(s.latency_ms.p50), num(r.latency_ms.p50)),
            ("p99", num(s.latency_ms.p99), num(r.latency_ms.p99)),
        ];
        let _ = writeln!(table, "{:<16} {pairs:?}", preset.name);
        assert_eq!(s.summary.offered, r.summary.offered, "{}", preset.name);
        for (what, a, b) in pairs {
            let ok = match what {
                "success" => (a - b).abs() <= 0.01,
                "throughput" => (a / b - 1.0).abs() <= 0.05,
                _ => (a / b - 1.0).abs() <= 0.10,
            };
            if !ok {
                failures.push(format!("{} {what}: sim {a} vs real {b}", preset.name));
            }
        }
        if preset.name == "round-robin" {
            let rate = s.summary.success_rate.unwrap_or(0.0);
            assert!(rate < 0.8 && rate > 0.5, "the limit binds: {rate}");
        }
    }
    eprintln!("{table}");
    assert!(failures.is_empty(), "{failures:#?}\n{table}");
}

/// Failover pays the round trip once per failed key: with key 0 revoked, a request that
/// starts on it fails over after one attempt (the round trip plus the mock's 30 ms edge), so
/// "failover < 200 ms" holds up to a round trip of about 170 ms.
#[test]
fn the_failover_claim_holds_up_to_a_round_trip_it_names() {
    let text = "name = \"rtt\"\nseed = 5\n[target]\nlimits = { rpm = 0, rpd = 0, tpm = 0, tpd = 0 }\n[[target.events]]\nkind = \"revoke_key\"\nkey = 0\nat = \"0s\"\n[keys]\ncount = 2\n[engine]\npolicy = \"round-robin\"\n[traffic]\narrival = \"constant\"\nrate = 60\nduration = \"1m\"\n";
    let scenario = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    let rtt =
        keyrotor::studies::claims::break_even_rtt(&scenario).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        rtt.is_some_and(|ms| (160..=170).contains(&ms)),
        "break-even round trip {rtt:?} ms"
    );
}

#[test]
fn adaptive_paces_a_spent_daily_budget_instead_of_spending_calls_on_429s() {
    let text = "name = \"tpd\"\n[target]\nlimits = { rpm = 0, rpd = 0, tpm = 0, tpd = 40000 }\n[keys]\ncount = 2\n[engine]\npolicy = \"adaptive\"\n[traffic]\narrival = \"constant\"\nrate = 60\nduration = \"60m\"\nprompt_tokens = 200\ncompletion_tokens = 200\n";
    let adaptive = report_of(&Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}")));
    let rr = report_of(
        &Scenario::from_toml(&text.replace("\"adaptive\"", "\"round-robin\""))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    // Both are bound by the same daily tokens; round-robin learns nothing from its 429s.
    assert!(
        adaptive.summary.upstream_429 <= 5,
        "adaptive spent {} calls on 429s",
        adaptive.summary.upstream_429
    );
    assert!(
        rr.summary.upstream_429 > 1000,
        "{}",
        rr.summary.upstream_429
    );
    assert!(
        adaptive.summary.succeeded as f64 >= 0.85 * rr.summary.succeeded as f64,
        "{} vs {}",
        adaptive.summary.succeeded,
        rr.summary.succeeded
    );
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let bin = env!("CARGO_BIN_EXE_keyrotor");
    let output = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for shell in ["bash", "zsh", "fish"] {
        let script = output(&["completions", shell]);
        for command in ["run", "sweep", "claims", "plan", "proxy", "mock"] {
            assert!(
                script.contains(command),
                "{shell} completions lack {command}"
            );
        }
    }
    let man = output(&["man"]);
    assert!(
        man.contains(".TH keyrotor 1") && man.contains("proxy"),
        "{man}"
    );
    let refused = Command::new(bin).args(["completions", "nosh"]).output();
    assert!(refused.is_ok_and(|o| !o.status.success()));
}

#[test]
fn requests_csv_lists_requests_in_send_order() {
    // Failovers and waits make requests finish out of the order they were sent in.
    let s = Scenario::from_file(std::path::Path::new("scenarios/failover.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = temp("csv-order");
    let csv = dir.join("requests.csv");
    let options = RunOptions {
        requests_csv: Some(csv.clone()),
        ..RunOptions::default()
    };
    let report = run(&s, options, &NoProgress)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .report;
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    let sent: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|row| {
            row.split(',')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        })
        .collect();
    assert_eq!(
        sent.len() as u64,
        report.summary.offered,
        "a row per request"
    );
    assert!(
        report.summary.attempts > report.summary.offered,
        "the run failed over"
    );
    assert!(
        sent.windows(2).all(|w| w[0] <= w[1]),
        "rows out of send order: {:?}",
        sent.windows(2).find(|w| w[0] > w[1])
    );
}

#[test]
fn each_organisations_quota_left_is_read_from_the_mock_while_the_run_goes() {
    // Organisations 0 to 2 have their daily budgets spent at 2:00.
    let s = Scenario::from_file(std::path::Path::new("scenarios/keys-run-out.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let finished = run(&s, RunOptions::default(), &NoProgress).unwrap_or_else(|e| panic!("{e:#}"));
    let charts = keyrotor::output::chart::quota(&finished.quota, &[]);
    let rpd = charts
        .iter()
        .find(|c| c.id == "quota-rpd")
        .unwrap_or_else(|| {
            panic!(
                "no RPD chart: {:?}",
                charts.iter().map(|c| &c.id).collect::<Vec<_>>()
            )
        });
    assert_eq!(rpd.series.len(), 5, "a line per organisation");
    let at = |org: usize, t: f64| {
        let i = rpd
            .x
            .iter()
            .position(|x| *x >= t)
            .unwrap_or_else(|| panic!("no reading at {t} s"));
        rpd.series[org].values[i].unwrap_or_else(|| panic!("no data for org {org}"))
    };
    for org in 0..3 {
        assert!(at(org, 60.0) > 50.0, "org {org} before 2:00");
        assert!(at(org, 130.0) < 1.0, "org {org} spent at 2:00");
    }
    assert!(at(4, 130.0) > 50.0, "org 4 keeps its budget");
}
