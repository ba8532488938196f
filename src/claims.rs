//! `keyrotor claims`: the seed documents' claims, each checked by simulated runs against the
//! embedded mock, with a verdict (holds / fails / inconclusive), the measured figure and why.
//!
//! Numbers: Groq's published free-tier limits for llama-3.3-70b-versatile (RPM 30, RPD 1,000,
//! TPM 12,000, TPD 100,000; catalog dated in mock_groq::catalog), and, where a seed states
//! its own assumption (30 requests/min and 6,000 requests/day per key), that too. Traffic:
//! Poisson arrivals (real users do not arrive evenly), 200 prompt tokens and max_tokens 200,
//! 30 simulated minutes for capacity and load claims (long enough that the buckets' initial
//! burst does not count), 5 for failover and rotation.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::driver::NoProgress;
use crate::engine::PolicyConfig;
use crate::report::Report;
use crate::run::{RunOptions, run};
use crate::scenario::Scenario;
use crate::sweep::capacity;

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The measurement supports the claim.
    Holds,
    /// The measurement contradicts it.
    Fails,
    /// The measurement cannot decide.
    Inconclusive,
}

/// One checked claim.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    /// Stable id.
    pub id: String,
    /// The claim as a seed states it.
    pub claim: String,
    /// Which seed says it.
    pub source: String,
    /// The measured figure.
    pub measured: String,
    /// The verdict.
    pub verdict: Verdict,
    /// How it was measured and why the verdict.
    pub detail: String,
}

/// `claims.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Schema version.
    pub schema: u32,
    /// The limits and traffic used.
    pub numbers: String,
    /// Wall seconds it took.
    pub wall_s: f64,
    /// The claims.
    pub claims: Vec<Claim>,
}

const GROQ_LIMITS: &str = "";
const SEED_LIMITS: &str = "limits = { rpm = 30, rpd = 6000, tpm = 0, tpd = 0 }\n";

/// The base scenario of the claims: `keys` keys, `policy`, Poisson `rate`/min for `minutes`;
/// `target` is extra `[target]` TOML (limits, events).
fn base(
    name: &str,
    keys: usize,
    layout: &str,
    policy: &str,
    rate: f64,
    minutes: u32,
    target: &str,
) -> anyhow::Result<Scenario> {
    let text = format!(
        r#"name = "{name}"
seed = 42
[target]
{target}
[keys]
count = {keys}
layout = "{layout}"
[engine]
policy = "{policy}"
[traffic]
arrival = "poisson"
rate = {rate}
duration = "{minutes}m"
prompt_tokens = 200
completion_tokens = 200
interval = "10s"
"#
    );
    Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("internal claims scenario {name}: {e}"))
}

fn report(s: &Scenario) -> anyhow::Result<Report> {
    Ok(run(s, RunOptions::default(), &NoProgress)?.report)
}

fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

/// Checks every claim; `progress` is told each claim as it starts.
pub fn check(progress: &mut dyn FnMut(&str)) -> anyhow::Result<Claims> {
    let wall = std::time::Instant::now();
    let mut claims = Vec::new();

    // 5× capacity with 5 keys.
    for (layout, label, limits, numbers) in [
        (
            "separate",
            "each key its own organisation",
            GROQ_LIMITS,
            "Groq's published limits",
        ),
        (
            "shared",
            "all keys in one organisation",
            GROQ_LIMITS,
            "Groq's published limits",
        ),
        (
            "separate",
            "each key its own organisation",
            SEED_LIMITS,
            "the seeds' 30 req/min per key",
        ),
    ] {
        progress(&format!("5× capacity, {label}, {numbers}"));
        let scenario = base("capacity", 1, layout, "round-robin", 30.0, 30, limits)?;
        let mut quiet = |_: usize, _: f64, _: f64| {};
        let one = capacity(&scenario, 1, 0.99, &mut quiet)?;
        let five = capacity(&scenario, 5, 0.99, &mut quiet)?;
        let ratio = if one.capacity_rpm > 0.0 {
            five.capacity_rpm / one.capacity_rpm
        } else {
            0.0
        };
        claims.push(Claim {
            id: format!("capacity-5x-{layout}{}", if limits == SEED_LIMITS { "-seed-numbers" } else { "" }),
            claim: "5 keys give 5× the capacity of one (\"Requests/Min ~30 → ~150, 5x faster\")".to_owned(),
            source: "seed 000 (multi-key Groq system); seed 004 (\"5 API keys for 5x the quota\")".to_owned(),
            measured: format!("{ratio:.2}× ({:.1} vs {:.1} req/min)", five.capacity_rpm, one.capacity_rpm),
            verdict: if ratio >= 4.5 { Verdict::Holds } else { Verdict::Fails },
            detail: format!(
                "{label}; {numbers}; round-robin (seed 000's policy); capacity = highest Poisson rate with ≥ 99 % success over 30 simulated minutes, by bisection. Holds at ≥ 4.5×.{}",
                if layout == "shared" { " Groq limits each organisation, not each key: keys of one account share one budget." } else { "" }
            ),
        });
    }

    // 150 req/min with 5 keys, and 99.9 % / "rate limit issues eliminated" at that load.
    for (limits, numbers) in [
        (GROQ_LIMITS, "Groq's published limits"),
        (SEED_LIMITS, "the seeds' 30 req/min per key"),
    ] {
        progress(&format!("150 req/min with 5 keys, {numbers}"));
        let r = report(&base(
            "rated-load",
            5,
            "separate",
            "round-robin",
            150.0,
            30,
            limits,
        )?)?;
        let per_min = r.summary.throughput_rps * 60.0;
        let suffix = if limits == SEED_LIMITS {
            "-seed-numbers"
        } else {
            ""
        };
        claims.push(Claim {
            id: format!("150-rpm-5-keys{suffix}"),
            claim: "5 keys handle ~150 requests per minute".to_owned(),
            source: "seed 000 (performance table); seed 002 (\"5 Keys … Capacity: 150 req/min\")".to_owned(),
            measured: format!("{per_min:.1} req/min served of 150 offered ({} success)", pct(r.summary.success_rate)),
            verdict: if r.summary.success_rate >= 0.99 { Verdict::Holds } else { Verdict::Fails },
            detail: format!("{numbers}; 5 keys in separate organisations; round-robin; Poisson arrivals at 150/min for 30 simulated minutes; holds when ≥ 99 % are served. {} upstream 429s; failures by reason: {:?}.{}", r.summary.upstream_429, r.failures, if limits == GROQ_LIMITS { " With Groq's limits the 100,000 tokens per day of each organisation last about 10 minutes at 30 requests/min of ~325 tokens." } else { "" }),
        });
        claims.push(Claim {
            id: format!("success-999-at-rated-load{suffix}"),
            claim: "99.9 %+ uptime with 5 keys".to_owned(),
            source: "seed 000 (\"Uptime 99.9%+\"); seed 004 (\"Zero downtime\")".to_owned(),
            measured: pct(r.summary.success_rate),
            verdict: if r.summary.success_rate >= 0.999 {
                Verdict::Holds
            } else {
                Verdict::Fails
            },
            detail: format!("The same run; failures by reason: {:?}.", r.failures),
        });
        let limited_failures: u64 = r
            .failures
            .iter()
            .filter(|(k, _)| k.starts_with("rate_limited"))
            .map(|(_, v)| v)
            .sum();
        claims.push(Claim {
            id: format!("rate-limits-eliminated{suffix}"),
            claim: "Rate limit issues: none (\"Eliminated\")".to_owned(),
            source: "seed 000 (performance table)".to_owned(),
            measured: format!(
                "{} upstream 429s; {limited_failures} requests failed on rate limits",
                r.summary.upstream_429
            ),
            verdict: if r.summary.upstream_429 == 0 && limited_failures == 0 {
                Verdict::Holds
            } else {
                Verdict::Fails
            },
            detail: "The same run: holds only with no 429 at all.".to_owned(),
        });
    }

    // Failover under 200 ms, per policy, under load above capacity (so keys do hit limits).
    for preset in PolicyConfig::presets() {
        progress(&format!("failover < 200 ms, {}", preset.name));
        let r = report(&base(
            "failover",
            5,
            "separate",
            preset.name,
            200.0,
            5,
            GROQ_LIMITS,
        )?)?;
        let f = &r.failover_ms;
        let verdict = if f.count < 10 {
            Verdict::Inconclusive
        } else if f.p99 < 200.0 {
            Verdict::Holds
        } else {
            Verdict::Fails
        };
        claims.push(Claim {
            id: format!("failover-200ms-{}", preset.name),
            claim: format!("Failover between keys takes < 200 ms (policy {})", preset.name),
            source: "seed 000 (\"Failover Time <200ms\", \"Sub-second failover\")".to_owned(),
            measured: format!("p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} failovers", f.p50, f.p99, f.max, f.count),
            verdict,
            detail: format!(
                "Failover = end-to-end latency minus the successful attempt, for requests that failed over (waits included); 5 keys, Poisson 200/min (a third over capacity, so keys hit their limits) for 5 simulated minutes, Groq's limits, the mock's latency model (30 ms edge time on every answer); {} of requests succeeded with this policy. Inconclusive under 10 failovers.",
                pct(r.summary.success_rate)
            ),
        });
    }

    // "Users never see API errors" when keys are limited or run out.
    let three_run_out = (0..3)
        .map(|o| format!("[[target.events]]\nkind = \"exhaust_daily\"\norg = {o}\nat = \"2m\"\n"))
        .collect::<String>();
    let all_run_out = "[[target.events]]\nkind = \"exhaust_daily\"\nat = \"2m\"\n".to_owned();
    for (policy, events, label) in [
        ("sticky-failover", &three_run_out, "3 of 5 keys run out"),
        ("adaptive", &three_run_out, "3 of 5 keys run out"),
        ("sticky-failover", &all_run_out, "every key runs out"),
    ] {
        progress(&format!("users never see API errors, {label}, {policy}"));
        let r = report(&base(
            "keys-run-out",
            5,
            "separate",
            policy,
            40.0,
            5,
            &format!("{GROQ_LIMITS}{events}"),
        )?)?;
        let s = &r.summary;
        claims.push(Claim {
            id: format!("never-see-errors-{}-{policy}", if events == &all_run_out { "all-out" } else { "some-out" }),
            claim: format!("Users never see API errors (policy {policy}, {label})"),
            source: "seed 004 (\"Users never see API errors\", \"Seamless failover during rate limits\")".to_owned(),
            measured: format!("{} of {} requests unanswered ({} got the fallback message)", s.failed, s.offered, s.degraded),
            verdict: if s.failed == 0 { Verdict::Holds } else { Verdict::Fails },
            detail: format!(
                "{label} 2 minutes into 5 (daily quota spent); 40 req/min, which 2 keys can still serve; failures: {:?}. A fallback message is no answer either: holds only if every request is answered.",
                r.failures
            ),
        });
    }

    // Zero downtime during rotation: a key revoked mid-run.
    for policy in ["round-robin", "cooldown", "adaptive"] {
        progress(&format!("zero downtime during rotation, {policy}"));
        let events = "[[target.events]]\nkind = \"revoke_key\"\nkey = 0\nat = \"1m\"\n";
        let r = report(&base(
            "rotation",
            5,
            "separate",
            policy,
            60.0,
            5,
            &format!("{GROQ_LIMITS}{events}"),
        )?)?;
        let s = &r.summary;
        claims.push(Claim {
            id: format!("zero-downtime-{policy}"),
            claim: format!("Zero downtime during key rotation (policy {policy})"),
            source: "seed 000 (\"Zero downtime during key rotation\"); seed 002 (\"Auto-Failover … Zero downtime\")".to_owned(),
            measured: format!("{} failed of {} ({})", s.failed, s.offered, pct(s.success_rate)),
            verdict: if s.failed == 0 { Verdict::Holds } else { Verdict::Fails },
            detail: format!("Key 0 is revoked 1 minute into 5; 60 req/min (40 % of capacity), 5 keys; failures: {:?}.", r.failures),
        });
    }

    // Sizing claims: a key count is enough only if the analytical bound allows it and the
    // event, simulated with that many keys, meets 99 % success.
    let seeds = Some(mock_groq::config::LimitsOverride {
        rpm: Some(30),
        rpd: Some(6000),
        tpm: Some(0),
        tpd: Some(0),
    });
    let sizing: [(&str, &str, &str, u64, f64, &str, usize); 3] = [
        (
            "1000-users",
            "1,000 users × 10 queries need 2–3 keys",
            "seed 004 (\"For Aurora Fest\")",
            1000,
            10.0,
            "24h",
            3,
        ),
        (
            "10000-users",
            "10,000 users × 20 queries need ~34 keys",
            "seed 004 (\"For Large Events\")",
            10_000,
            20.0,
            "24h",
            34,
        ),
        (
            "5-keys-30000-per-day",
            "5 keys = 30,000 requests/day",
            "seed 004 (\"5 keys × 6,000\")",
            6000,
            5.0,
            "24h",
            5,
        ),
    ];
    let mut rows: Vec<(String, String, String, u64, f64, String, usize)> = sizing
        .iter()
        .map(|(id, claim, source, users, queries, duration, keys)| {
            (
                id.to_string(),
                claim.to_string(),
                source.to_string(),
                *users,
                *queries,
                duration.to_string(),
                *keys,
            )
        })
        .collect();
    for (users, keys) in [(100u64, 1usize), (500, 3), (1000, 5), (2000, 10)] {
        rows.push((
            format!("users-per-hour-{users}"),
            format!("{users} users/hour need {keys} key(s)"),
            "seed 002 (\"Scaling Strategy\" table; 10 queries per user and hour assumed, as in seed 004)".to_owned(),
            users,
            10.0,
            "1h".to_owned(),
            keys,
        ));
    }
    for (id, claim, source, users, queries, duration, keys) in rows {
        for (limits, numbers, suffix) in [
            (None, "Groq's published limits", ""),
            (
                seeds,
                "the seeds' 30 req/min and 6,000 req/day per key",
                "-seed-numbers",
            ),
        ] {
            progress(&format!("{claim}, {numbers}"));
            let input: crate::plan::PlanInput = toml::from_str(&format!(
                "users = {users}\nqueries_per_user = {queries}\nduration = \"{duration}\"\nprompt_tokens = 200\ncompletion_tokens = 200\nseed = 42\n"
            ))?;
            let input = crate::plan::PlanInput { limits, ..input };
            let (lim, _) = input.limits();
            let bound = crate::plan::analytical(&input, &lim);
            let (measured, verdict) = if bound.min_keys as usize > keys {
                (
                    format!(
                        "at least {} keys ({} binds)",
                        bound.min_keys,
                        bound.binding.to_uppercase()
                    ),
                    Verdict::Fails,
                )
            } else {
                let r = report(&input.scenario(keys, &input.policy))?;
                let ok = r.summary.success_rate >= 0.99;
                (
                    format!(
                        "{keys} keys serve {} of {} ({})",
                        r.summary.succeeded,
                        r.summary.offered,
                        pct(r.summary.success_rate)
                    ),
                    if ok { Verdict::Holds } else { Verdict::Fails },
                )
            };
            claims.push(Claim {
                id: format!("{id}{suffix}"),
                claim: claim.clone(),
                source: source.clone(),
                measured,
                verdict,
                detail: format!(
                    "{numbers}; {users} users × {queries} queries over {duration}, flat, 200 + 200 tokens, adaptive policy. Fails when the analytical lower bound (a day's bucket gives at most its limit plus the refill over the span) already exceeds the claimed keys; otherwise the event is simulated with the claimed keys and holds at ≥ 99 % success."
                ),
            });
        }
    }

    Ok(Claims {
        schema: crate::report::SCHEMA,
        numbers: "Groq's published free-tier limits for llama-3.3-70b-versatile (RPM 30, RPD 1000, TPM 12000, TPD 100000), and where marked the seeds' own 30 req/min and 6000 req/day per key; Poisson arrivals, 200 prompt tokens, max_tokens 200; simulated time against the embedded mock (its latency model: 30 ms edge, 20 ms mean queue, Groq's published output speeds)".to_owned(),
        wall_s: wall.elapsed().as_secs_f64(),
        claims,
    })
}

impl Claims {
    /// The markdown table.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# The seeds' claims, measured\n\nNumbers: {}.\n\n| claim | source | measured | verdict |\n|---|---|---|---|\n",
            self.numbers
        );
        for c in &self.claims {
            let _ = writeln!(
                out,
                "| {} | {} | {} | **{:?}** |",
                c.claim, c.source, c.measured, c.verdict
            );
        }
        out.push_str("\n## Details\n\n");
        for c in &self.claims {
            let _ = writeln!(out, "- `{}` — {:?}: {}", c.id, c.verdict, c.detail);
        }
        out
    }
}
