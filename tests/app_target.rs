//! An app's own rotation code as the target (`[target.app]`): keyrotor starts a small test
//! app (tests/apps/failover_app.py, not a seed) in front of the embedded mock, drives traffic
//! at it, and attributes each upstream call to the request that caused it. The app logs its
//! own attempts; the test checks keyrotor's figures against that log and the mock's counts.

use keyrotor::driver::NoProgress;
use keyrotor::run::{RunOptions, run};
use keyrotor::scenario::Scenario;

fn scenario(command: &str) -> Scenario {
    let text = format!(
        r#"name = "app-under-test"
mode = "real"
[target]
limits = {{ rpm = 3 }}
[target.app]
command = [{command}]
url = "http://127.0.0.1:{{port}}/chat"
ready = "/health"
keys_env = "GROQ_API_KEYS"
[keys]
count = 2
layout = "separate"
[traffic]
arrival = "constant"
rate = 300
requests = 10
duration = "10s"
prompt_tokens = 40
completion_tokens = 20
"#
    );
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn python() -> String {
    std::env::var("KEYROTOR_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

#[test]
fn an_apps_failovers_are_attributed_to_the_requests_that_caused_them() {
    let app = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/apps/failover_app.py");
    let s = scenario(&format!("\"{}\", \"{app}\"", python()));
    let log = std::env::temp_dir().join(format!("keyrotor-app-test-{}.log", std::process::id()));
    let options = RunOptions {
        app_log: Some(log.clone()),
        ..RunOptions::default()
    };
    let finished = run(&s, options, &NoProgress).unwrap_or_else(|e| panic!("{e:#}"));
    let r = &finished.report;
    let app_log = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let logged: Vec<&str> = app_log
        .lines()
        .filter(|l| l.starts_with("attempt "))
        .collect();

    // Each organisation admits 3 requests a minute: key 0 answers the first 3, key 1 the next
    // 3 after key 0's 429, and the last 4 find both keys limited (the app answers 503).
    assert_eq!(r.summary.offered, 10, "{r:?}");
    assert_eq!((r.summary.succeeded, r.summary.failed), (6, 4), "{r:?}");
    assert_eq!(logged.len(), 17, "{app_log}");
    assert_eq!(
        r.summary.attempts,
        logged.len() as u64,
        "every attempt the app made"
    );
    let logged_429 = logged.iter().filter(|l| l.ends_with("status=429")).count();
    assert_eq!(r.summary.upstream_429, logged_429 as u64);
    assert_eq!(r.failover_ms.count, 3, "answered after a failover");
    assert_eq!(
        r.failover_ms.unanswered, 4,
        "first attempt failed, never answered"
    );
    assert!(
        r.setup.target.contains("0 calls without a marker"),
        "{}",
        r.setup.target
    );
    assert_eq!(r.setup.policy, "the app's own rotation code");
    let reasons: Vec<(&str, u64)> = r.failures.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        reasons,
        [("rate_limited_minute", 4)],
        "the 429s behind the app's 503s"
    );

    // Per key, keyrotor's attribution agrees with the mock's own counts and the app's log.
    let state = finished
        .mock_state
        .unwrap_or_else(|| panic!("no mock state"));
    for (k, key) in r.per_key.iter().enumerate() {
        let in_log = logged
            .iter()
            .filter(|l| l.contains(&format!("key={k} ")))
            .count();
        let in_mock = state["orgs"][k]["keys"][0]["requests"].as_u64();
        assert_eq!(key.requests, in_log as u64, "key {k}");
        assert_eq!(Some(key.requests), in_mock, "key {k}: {state}");
    }
}

#[test]
fn an_app_that_exits_before_it_is_ready_stops_the_run_with_its_last_words() {
    let s = scenario(&format!(
        "\"{}\", \"-c\", \"import sys; print('no keys for me'); sys.exit(3)\"",
        python()
    ));
    let error = run(&s, RunOptions::default(), &NoProgress)
        .err()
        .map(|e| format!("{e:#}"));
    let error = error.unwrap_or_else(|| panic!("the run went on without its app"));
    assert!(
        error.contains("exited") && error.contains("no keys for me"),
        "{error}"
    );
}
