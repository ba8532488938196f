//! An app's own rotation code as the target (`[target.app]`): keyrotor starts a small test
//! app (tests/apps/failover_app.py, not a seed) in front of the embedded mock, drives traffic
//! at it, and attributes each upstream call to the request that caused it. The app logs its
//! own attempts; the test checks keyrotor's figures against that log and the mock's counts.

use keyrotor::drive::driver::NoProgress;
use keyrotor::run::{RunOptions, run};
use keyrotor::spec::scenario::Scenario;

/// `keys` keys in their own organisations, each admitting 3 requests a minute; `requests`
/// requests as fast as one every 200 ms at `command`'s `/chat`.
fn scenario(command: &str, keys: usize, requests: u64) -> Scenario {
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
count = {keys}
layout = "separate"
[traffic]
arrival = "constant"
rate = 300
requests = {requests}
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
    let s = scenario(&format!("\"{}\", \"{app}\"", python()), 2, 10);
    let (finished, app_log) = run_logged(&s, "attributed");
    let r = &finished.report;
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
    assert_eq!(r.setup.unattributed_calls, Some(0));
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
        assert_eq!(key.attempts, in_log as u64, "key {k}");
        assert_eq!(Some(key.attempts), in_mock, "key {k}: {state}");
    }
}

/// Runs `s`, keeping the app's log; returns the run and the log's text.
fn run_logged(s: &Scenario, name: &str) -> (keyrotor::run::Finished, String) {
    let log = std::env::temp_dir().join(format!(
        "keyrotor-app-test-{name}-{}.log",
        std::process::id()
    ));
    let options = RunOptions {
        app_log: Some(log.clone()),
        ..RunOptions::default()
    };
    let finished = run(s, options, &NoProgress).unwrap_or_else(|e| panic!("{e:#}"));
    let app_log = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (finished, app_log)
}

#[test]
fn an_apps_failover_latency_is_what_the_app_itself_spent_before_the_answering_attempt() {
    // The app pauses 250 ms after each 429 before the next key. With 3 keys admitting 3
    // requests a minute each, of 8 requests 3 go straight to key 0, 3 fail over once (one
    // pause) and 2 fail over twice (two pauses): 5 failovers, all answered.
    let app = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/apps/failover_app.py");
    let s = scenario(&format!("\"{}\", \"{app}\", \"0.25\"", python()), 3, 8);
    let (finished, app_log) = run_logged(&s, "latency");
    let f = &finished.report.failover_ms;
    assert_eq!((f.count, f.unanswered), (5, 0), "{app_log}");
    let mut logged: Vec<f64> = app_log
        .lines()
        .filter_map(|l| l.strip_prefix("failover ms="))
        .filter_map(|t| t.parse().ok())
        .collect();
    logged.sort_by(f64::total_cmp);
    assert_eq!(logged.len(), 5, "{app_log}");
    assert!(logged[0] >= 250.0, "one pause at least: {logged:?}");
    // keyrotor measures from outside: end to end minus the answering upstream attempt. That
    // is the app's own time before that attempt plus the hops between driver and app, which
    // on loopback take milliseconds, never less than what the app logged.
    let (p50, max) = (logged[2], logged[4]);
    for (what, measured, app_said) in [("p50", f.p50, p50), ("max", f.max, max)] {
        let measured = measured
            .number()
            .unwrap_or_else(|| panic!("{what}: {measured:?}"));
        assert!(
            measured >= app_said - 2.0 && measured <= app_said + 100.0,
            "{what}: keyrotor measured {measured} ms, the app logged {app_said} ms ({logged:?})"
        );
    }
    assert!(max >= 500.0, "two pauses: {logged:?}");
}

/// Whether a running process has `marker` in its command line (read from /proc).
fn running_with(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(Result::ok).any(|entry| {
                std::fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(marker))
            })
        })
        .unwrap_or(false)
}

#[test]
fn what_an_app_started_is_stopped_with_it() {
    // The app starts a long sleeper of its own before serving (as `tsx` starts the real app
    // in a child process); when the run ends, the sleeper must be gone too.
    let marker = format!("keyrotor-grandchild-{}", std::process::id());
    let app = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/apps/failover_app.py");
    let python = python();
    let script =
        format!("{python} -c 'import time; time.sleep(300)' {marker} & exec {python} {app}");
    let s = scenario(&format!("\"sh\", \"-c\", \"{script}\""), 2, 2);
    let (finished, _) = run_logged(&s, "children");
    assert_eq!(finished.report.summary.offered, 2);
    let gone = (0..20).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !running_with(&marker)
    });
    assert!(gone, "the app's own child outlived the run");
}

#[test]
fn an_app_that_exits_before_it_is_ready_stops_the_run_with_its_last_words() {
    let s = scenario(
        &format!(
            "\"{}\", \"-c\", \"import sys; print('no keys for me'); sys.exit(3)\"",
            python()
        ),
        2,
        10,
    );
    let error = run(&s, RunOptions::default(), &NoProgress)
        .err()
        .map(|e| format!("{e:#}"));
    let error = error.unwrap_or_else(|| panic!("the run went on without its app"));
    assert!(
        error.contains("exited") && error.contains("no keys for me"),
        "{error}"
    );
}
