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

/// The mock follows the same stop-signal policy as a run: SIGINT, SIGTERM and SIGHUP each
/// stop it cleanly (exit 0), saying which signal it was. The proxy, a service, stops so on
/// SIGINT and SIGTERM; SIGHUP makes it read its keys again and keep serving.
#[test]
fn the_mock_and_the_proxy_stop_cleanly_on_every_stop_signal() {
    let mock = [
        "mock",
        "--config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/mock-groq/config.example.toml"),
        "--listen",
        "127.0.0.1:0",
    ];
    // The upstream is never asked: nothing is sent through the proxy.
    let proxy = [
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:9",
    ];
    for signal in ["INT", "TERM", "HUP"] {
        stops_cleanly(&mock, &[signal]);
    }
    for signal in ["INT", "TERM"] {
        stops_cleanly(&proxy, &[signal]);
    }
    let err = stops_cleanly(&proxy, &["HUP", "TERM"]);
    assert!(err.contains("config reloaded"), "proxy after SIGHUP: {err}");
}

/// Starts `keyrotor SERVER`, sends `signals` in turn (each but the last must leave it
/// serving), checks it then exits 0 saying the last; returns its stderr.
fn stops_cleanly(server: &[&str], signals: &[&str]) -> String {
    let mut child = bin()
        .args(server)
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
    let pid = child.id().to_string();
    let send = |signal: &str| {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sent.success());
    };
    let (last, before) = signals.split_last().unwrap_or_else(|| panic!("no signal"));
    for signal in before {
        send(signal);
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "{} stopped on SIG{signal}",
            server[0]
        );
    }
    send(last);
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("{} did not stop after SIG{last}", server[0]);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} after SIG{last}: {err}",
        server[0]
    );
    assert!(
        err.contains(&format!("(SIG{last})")),
        "{}: {err}",
        server[0]
    );
    err
}

/// Starts `keyrotor run` on a 60-second real-time scenario of `rate` requests a minute with
/// the `[keys]` and `[engine]` tables given, writing its reports and requests.csv to
/// `dir/out`.
fn long_run(dir: &Path, keys_and_engine: &str, rate: u32) -> (std::process::Child, PathBuf) {
    let scenario = dir.join("long.toml");
    std::fs::write(
        &scenario,
        format!("name = \"long\"\nmode = \"real\"\n{keys_and_engine}[traffic]\narrival = \"constant\"\nrate = {rate}\nduration = \"60s\"\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let child = bin()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--requests-csv")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    (child, out)
}

fn stopped_by(signal: &str) {
    let dir = temp(&format!("sig{signal}"));
    let (mut child, out) = long_run(&dir, "[keys]\ncount = 2\n", 300);
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

/// Every error and log line goes through one redaction rule: a key pasted where a path or an
/// argument goes, written inline in a scenario, quoted by a TOML error from a `.env`, or in a
/// URL's user-info never reaches the terminal in full. And a claims file cannot make keyrotor
/// read a file outside its folder (unless `--files-under` says so).
#[test]
fn no_error_or_log_line_quotes_a_secret() {
    let key = "gsk_PASTED_0123456789abcdefghijklmnop";
    let dir = temp("redaction");
    let inner = dir.join("claims");
    std::fs::create_dir_all(&inner).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join(".env"), format!("GROQ_API_KEY={key}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let claims = inner.join("claims.toml");
    std::fs::write(
        &claims,
        "[[claim]]\nid = \"a\"\nclaim = \"c\"\nsource = \"s\"\nscenario_file = \"../.env\"\nmetric = \"goodput_rate\"\nrule = \">= 0.9\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let inline = dir.join("inline.toml");
    std::fs::write(
        &inline,
        format!("name = \"x\"\n[keys]\ncount = 2\napi_key = \"{key}\"\n[traffic]\nrate = 1\nduration = \"1m\"\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let run = |args: &[&str], why: &str| {
        let out = bin()
            .args(args)
            .env("GROQ_API_KEY", "gsk_env_key_for_the_proxy_0123456789")
            .env("RUST_LOG", "info")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} ({why}) succeeded: {err}");
        assert_no_secret(why, &out.stderr, &[key, "hunter2"]);
        assert_no_secret(why, &out.stdout, &[key, "hunter2"]);
        err
    };
    let claims_arg = claims.to_string_lossy().into_owned();
    let err = run(
        &["claims", "--file", &claims_arg],
        "claims file pointing out",
    );
    assert!(err.contains("is outside"), "{err}");
    let dir_arg = dir.to_string_lossy().into_owned();
    let err = run(
        &["claims", "--file", &claims_arg, "--files-under", &dir_arg],
        "TOML error quoting a .env",
    );
    assert!(
        err.contains("key:"),
        "the key shows as its fingerprint: {err}"
    );
    let inline_arg = inline.to_string_lossy().into_owned();
    run(&["run", &inline_arg], "a key inline in a scenario");
    run(&["proxy", key], "a key given as an argument");
    run(
        &["proxy", "--keys-file", key],
        "a key given as the keys-file path",
    );
    let err = run(
        &["proxy", "--upstream", "ftp://user:hunter2@127.0.0.1:9"],
        "a password in the upstream URL",
    );
    assert!(err.contains("ftp://***@127.0.0.1:9"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The children of process `pid` (from /proc), with their command names.
fn children(pid: u32) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "PID (COMM) STATE PPID …"; COMM may hold spaces, so split at the last ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid: Option<u32> = tail.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        let (Some(ppid), Some((child, comm))) = (ppid, head.split_once(" (")) else {
            continue;
        };
        if ppid == pid
            && let Ok(child) = child.trim().parse()
        {
            out.push((child, comm.to_owned()));
        }
    }
    out
}

/// Whether process `pid` still runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, t)| t.trim_start().to_owned()))
        .is_some_and(|state| !state.starts_with('Z') && !state.starts_with('X'))
}

/// What `kill -9` of a real run leaves: a requests.csv holding the rows of what was answered
/// (written as the run goes, at most about a second behind), and no redis-server the run
/// started, orphaned.
#[test]
fn a_killed_run_leaves_its_rows_on_disk_and_no_redis_server_behind() {
    let dir = temp("kill9");
    let (mut child, out) = long_run(
        &dir,
        "[keys]\ncount = 3\nlayout = \"shared\"\n[engine]\nreplicas = 2\nstate = \"redis\"\n",
        600,
    );
    // The redis-server the run started: its child or grandchild.
    let started = Instant::now();
    let redis = loop {
        let found = children(child.id())
            .into_iter()
            .flat_map(|(pid, comm)| {
                let mut tree = children(pid);
                tree.push((pid, comm));
                tree
            })
            .find(|(_, comm)| comm.starts_with("redis-server"));
        if let Some((pid, _)) = found {
            break pid;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("no redis-server under the run");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_secs(4));
    child.kill().unwrap_or_else(|e| panic!("{e}"));
    let _ = child.wait();
    let csv = std::fs::read_to_string(out.join("requests.csv")).unwrap_or_default();
    let rows = csv.lines().count().saturating_sub(1);
    assert!(
        rows >= 5,
        "10 requests a second for about 4 s, yet {rows} rows on disk after kill -9"
    );
    let killed = Instant::now();
    while alive(redis) {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "redis-server {redis} still runs 10 s after its run was killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `keyrotor proxy` (upstream: a closed loopback port) configured by `setup`, sends it
/// one chat request with the `extra` header lines, stops it with SIGTERM; the raw answer and
/// the proxy's stderr.
fn one_proxied_request(setup: impl FnOnce(&mut Command), extra: &str) -> (String, String) {
    use std::io::{BufRead as _, Read as _, Write as _};
    let mut command = bin();
    command.args([
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:9",
    ]);
    setup(&mut command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut url = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut url)
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = url.trim().trim_start_matches("http://").to_owned();
    let body = r#"{"model":"openai/gpt-oss-120b","messages":[{"role":"user","content":"hi"}]}"#;
    let mut stream = std::net::TcpStream::connect(&addr).unwrap_or_else(|e| panic!("{e}"));
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    write!(
        stream,
        "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    (answer, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// When the proxy's Redis goes away, its log says so at the default level (no RUST_LOG),
/// with the store's URL redacted.
#[test]
fn the_proxy_logs_a_lost_store_at_the_default_level() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("{e}"));
    let (answer, err) = one_proxied_request(
        |c| {
            c.args(["--state", "env:STORE_URL"])
                .env("STORE_URL", format!("redis://:hunter2@{dead}/"))
                .env("GROQ_API_KEY", "gsk_store_log_test_0123456789abcdef")
                .env_remove("RUST_LOG");
        },
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    assert!(err.contains("state store unreachable"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// `--log-format json` with `RUST_LOG=info`: every log line is a JSON object, and each
/// chat request has one, with its request id and each attempt by key fingerprint, never the
/// key.
#[test]
fn the_proxy_logs_each_request_as_json_with_its_id_and_fingerprints() {
    let key = "gsk_json_log_test_0123456789abcdef";
    let (answer, err) = one_proxied_request(
        |c| {
            c.args(["--log-format", "json", "--deadline", "2s"])
                .env("GROQ_API_KEY", key)
                .env("RUST_LOG", "info");
        },
        "x-request-id: ci-run-7\r\n",
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-request-id: ci-run-7"),
        "{answer}"
    );
    assert!(!err.contains(key), "a key in the log: {err}");
    let events: Vec<Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let request = events
        .iter()
        .find(|e| e["message"] == "chat request")
        .unwrap_or_else(|| panic!("no request line in {err}"));
    assert_eq!(request["request_id"], "ci-run-7", "{request}");
    let fingerprint = groq_wire::fingerprint(key);
    assert!(
        request["attempts"]
            .as_str()
            .is_some_and(|a| a.starts_with(&fingerprint)),
        "{request}"
    );
}
