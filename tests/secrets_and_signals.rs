//! Secrets never leave: the CLI run with known keys (a real-endpoint run against a loopback
//! mock with keys from the environment, a sweep, the claims and a plan) writes no full key to
//! stdout, stderr, logs or any report file. And SIGINT leaves complete, parseable reports
//! marked incomplete.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const SECRETS: [&str; 2] = [
    "gsk_SECRET_alpha_0123456789abcdef",
    "gsk_SECRET_beta_fedcba9876543210",
];

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_no_secret(what: &str, bytes: &[u8], secrets: &[&str]) {
    let text = String::from_utf8_lossy(bytes);
    for s in secrets {
        assert!(!text.contains(s), "{what} contains a full key");
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keyrotor"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_writes_a_full_key_anywhere() {
    let config = mock_groq::Config::from_toml(&format!(
        "[latency]\nenabled = false\n[[orgs]]\nid = \"a\"\nkeys = [\"{}\"]\nlimits = {{ rpm = 3 }}\n[[orgs]]\nid = \"b\"\nkeys = [\"{}\"]\n",
        SECRETS[0], SECRETS[1]
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mock_groq::serve(config, listener, async {
        let _ = stopped.await;
    }));

    let dir = temp("secrets");
    let scenario = dir.join("real.toml");
    std::fs::write(
        &scenario,
        format!("name = \"real\"\nmode = \"real\"\n[target]\nurl = \"{url}\"\n[keys]\ncount = 2\n[traffic]\narrival = \"constant\"\nrate = 600\nduration = \"2s\"\nrequests = 15\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let mut outputs = Vec::new();
    let run = tokio::task::spawn_blocking({
        let (scenario, out) = (scenario.clone(), out.clone());
        move || {
            bin()
                .arg("run")
                .arg(&scenario)
                .arg("--out")
                .arg(out.join("run"))
                .arg("--requests-csv")
                .env("GROQ_API_KEY", SECRETS[0])
                .env("GROQ_API_KEY_FALLBACK", SECRETS[1])
                .env("RUST_LOG", "trace")
                .output()
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        run.status.code().is_some_and(|c| c == 0 || c == 3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("run/report.json")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(
        report["summary"]["offered"], 15,
        "the run really used the keys: {report}"
    );
    assert!(
        report["summary"]["upstream_429"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "key a was rate limited"
    );
    outputs.push(("run", run));
    let _ = stop.send(());

    let keys_1 = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/keys-1.toml");
    let sweep = bin()
        .args(["sweep", keys_1, "--keys", "1,2", "--out"])
        .arg(out.join("sweep"))
        .env("RUST_LOG", "trace")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(sweep.status.success());
    outputs.push(("sweep", sweep));
    let claims = bin()
        .args(["claims", "--out"])
        .arg(out.join("claims"))
        .env("RUST_LOG", "trace")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(claims.status.success());
    outputs.push(("claims", claims));
    let plan = bin()
        .args([
            "plan",
            "--users",
            "100",
            "--queries",
            "5",
            "--duration",
            "1h",
            "--out",
        ])
        .arg(out.join("plan"))
        .env("RUST_LOG", "trace")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    outputs.push(("plan", plan));

    // The embedded mock's own keys are secrets as far as reports are concerned, too.
    let mock_keys: Vec<String> = (0..10).map(|i| format!("gsk_keyrotor_{i}")).collect();
    let mut all: Vec<&str> = SECRETS.to_vec();
    all.extend(mock_keys.iter().map(String::as_str));
    for (what, output) in &outputs {
        assert_no_secret(&format!("{what} stdout"), &output.stdout, &all);
        assert_no_secret(&format!("{what} stderr"), &output.stderr, &all);
    }
    let files = files_under(&out);
    assert!(files.len() >= 15, "{files:?}");
    for file in files {
        assert_no_secret(
            &file.display().to_string(),
            &std::fs::read(&file).unwrap_or_default(),
            &all,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGINT, SIGTERM (`timeout`, CI cancelling, `docker stop`) and SIGHUP each stop a run
/// that writes every report, marked incomplete, with exit code 4.
#[test]
fn stop_signals_leave_complete_reports_marked_incomplete() {
    for signal in ["INT", "TERM", "HUP"] {
        stopped_by(signal);
    }
}

/// The mock and the proxy follow the same stop-signal policy as a run: SIGINT, SIGTERM and
/// SIGHUP each stop them cleanly (exit 0), saying which signal it was.
#[test]
fn the_mock_and_the_proxy_stop_cleanly_on_every_stop_signal() {
    for signal in ["INT", "TERM", "HUP"] {
        for server in [
            vec![
                "mock",
                "--config",
                concat!(env!("CARGO_MANIFEST_DIR"), "/mock-groq/config.example.toml"),
                "--listen",
                "127.0.0.1:0",
            ],
            // The upstream is never asked: nothing is sent through the proxy.
            vec![
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                "http://127.0.0.1:9",
            ],
        ] {
            let mut child = bin()
                .args(&server)
                .env("GROQ_API_KEY", "gsk_signal_test_key")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{e}"));
            let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                line.starts_with("http://127.0.0.1:"),
                "{server:?}: {line:?}"
            );
            let sent = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status()
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(sent.success());
            let started = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if started.elapsed() > Duration::from_secs(15) {
                    let _ = child.kill();
                    panic!("{} did not stop after SIG{signal}", server[0]);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} after SIG{signal}: {err}",
                server[0]
            );
            assert!(
                err.contains(&format!("(SIG{signal})")),
                "{}: {err}",
                server[0]
            );
        }
    }
}

fn stopped_by(signal: &str) {
    let dir = temp(&format!("sig{signal}"));
    let scenario = dir.join("long.toml");
    std::fs::write(
        &scenario,
        "name = \"long\"\nmode = \"real\"\n[keys]\ncount = 2\n[traffic]\narrival = \"constant\"\nrate = 300\nduration = \"60s\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let mut child = bin()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--requests-csv")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(sent.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "did not stop after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(4), "SIG{signal}: {status:?}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(report["incomplete"], true, "SIG{signal}: {report}");
    let s = &report["summary"];
    let offered = s["offered"].as_u64().unwrap_or(0);
    assert!(offered > 0 && offered < 300, "{offered}");
    let parts = ["succeeded", "failed", "dropped"].map(|k| s[k].as_u64());
    assert_eq!(
        Some(offered),
        parts.iter().copied().sum::<Option<u64>>(),
        "offered = succeeded + failed + dropped: {s}"
    );
    let csv = std::fs::read_to_string(out.join("requests.csv")).unwrap_or_default();
    assert_eq!(
        csv.lines().count() as u64,
        offered + 1,
        "one CSV row per offered request after SIG{signal}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap_or_default();
    assert!(md.contains("Incomplete"), "{md}");
    assert!(
        std::fs::read_to_string(out.join("report.html")).is_ok_and(|h| h.contains("Incomplete"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
