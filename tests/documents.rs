//! What keyrotor writes, made once by the CLI — a run that fails its threshold (with
//! replicas), a run without thresholds, a sweep over keys and replicas, a plan, the claims:
//! every .json validates against its committed schema (Python's `jsonschema`), and every
//! HTML page loads in headless Chromium (Debian's package) with no console message, its
//! verdict first, coloured by tone, and its charts drawn. scripts/test.sh installs both.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-pages-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Runs keyrotor; `codes` are the exit codes that are fine (3: a threshold not met).
fn keyrotor(args: &[&str], codes: &[i32]) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "keyrotor {args:?}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates `document` against the committed schema `name`.
fn validates(name: &str, document: &Path) {
    let schema = format!("schemas/{name}.schema.json");
    let check = "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.Draft202012Validator.check_schema(schema)\n\
                 jsonschema.validate(json.load(open(sys.argv[2])), schema, cls=jsonschema.Draft202012Validator)\n";
    let out = Command::new("python3")
        .args(["-c", check, &schema])
        .arg(document)
        .output()
        .unwrap_or_else(|e| panic!("python3: {e} (scripts/test.sh installs it and jsonschema)"));
    assert!(
        out.status.success(),
        "{} does not validate against {schema}: {}",
        document.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Loads `page` in headless Chromium; its DOM once loaded, after checking that nothing was
/// logged to the console.
fn load(page: &Path) -> String {
    let profile = temp("profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("chromium: {e} (scripts/test.sh installs Debian's chromium)"));
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        out.status.success(),
        "{}: chromium failed: {log}",
        page.display()
    );
    assert!(
        console.is_empty(),
        "{}: console messages: {console:?}",
        page.display()
    );
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The page's first verdict element: its tone and text.
fn verdict(dom: &str) -> (String, String) {
    let at = dom
        .find("class=\"verdict ")
        .unwrap_or_else(|| panic!("no verdict element in {dom}"));
    let rest = &dom[at + "class=\"verdict ".len()..];
    let tone = rest.split('"').next().unwrap_or_default().to_owned();
    let text = rest
        .split('>')
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap_or_default()
        .to_owned();
    let h1 = dom.find("<h1").unwrap_or(usize::MAX);
    let first_table = dom.find("<table").unwrap_or(usize::MAX);
    assert!(
        h1 < at && at < first_table,
        "the verdict comes first, after the title"
    );
    (tone, text)
}

/// Which comes first on a page: its charts or its tables.
#[derive(PartialEq)]
enum First {
    /// A run's page: the numbers within the first screen, the charts after them.
    Tables,
    /// A sweep's and a plan's page: the chart is the answer's picture.
    Charts,
}

/// Asserts that the page has at least `n` charts and drew each of them (uPlot's root
/// element per chart's data), and which of charts and tables comes first.
fn charts_drawn(dom: &str, n: usize, first: First) {
    let data = dom.matches("class=\"chart-data\"").count();
    assert!(data >= n, "{data} charts, expected at least {n}");
    assert_eq!(
        dom.matches("class=\"uplot").count(),
        data,
        "charts drawn by uPlot"
    );
    if n > 0 {
        let chart = dom.find("class=\"uplot").unwrap_or(usize::MAX);
        let table = dom.find("<table").unwrap_or(usize::MAX);
        match first {
            First::Charts => assert!(chart < table, "plots before tables"),
            First::Tables => assert!(table < chart, "the numbers before the plots"),
        }
    }
}

/// Each claims row that rests on one run links to it, under runs/<id>, and that run's
/// scenario.toml replays it exactly.
fn claims_link_to_runs_that_replay(dir: &Path, dom: &str) {
    let read = |path: &Path| -> serde_json::Value {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let claims = read(&dir.join("claims.json"));
    let runs: Vec<(&str, &str)> = claims["claims"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["id"].as_str()?, c["run"].as_str()?)))
        .collect();
    assert!(runs.len() >= 20, "rows with their run: {}", runs.len());
    for (id, run) in &runs {
        assert_eq!(*run, format!("runs/{id}"));
        for file in ["scenario.toml", "report.json", "report.html"] {
            assert!(dir.join(run).join(file).is_file(), "{run}/{file}");
        }
        assert!(
            dom.contains(&format!("<a href=\"{run}/report.html\">")),
            "{id} linked"
        );
    }
    validates("report", &dir.join(runs[0].1).join("report.json"));
    let (_, run) = runs
        .iter()
        .find(|(id, _)| id.starts_with("failover-200ms-adaptive"))
        .unwrap_or_else(|| panic!("no failover row with its run"));
    let replay = dir.join("replay");
    let scenario = dir.join(run).join("scenario.toml");
    keyrotor(
        &[
            "run",
            &scenario.display().to_string(),
            "-o",
            &replay.display().to_string(),
        ],
        &[0, 3],
    );
    let (stored, replayed) = (
        read(&dir.join(run).join("report.json")),
        read(&replay.join("report.json")),
    );
    for field in [
        "scenario_hash",
        "summary",
        "latency_ms",
        "failover_ms",
        "failures",
    ] {
        assert_eq!(stored[field], replayed[field], "{run}: {field} replayed");
    }
}

#[test]
fn every_document_validates_and_every_page_loads_clean_with_its_verdict_first() {
    let dir = temp("docs");
    let path = |name: &str| dir.join(name).display().to_string();

    keyrotor(
        &["run", "scenarios/failover.toml", "-o", &path("failover")],
        &[3],
    );
    let dom = load(&dir.join("failover/report.html"));
    // Throughput, latency, failover, per-key use and per key over time (attempts, 429s,
    // other failures): every plot interactive, none a static drawing.
    charts_drawn(&dom, 7, First::Tables);
    assert!(
        !dom.contains("<svg"),
        "every plot of a run is an interactive chart"
    );
    let (tone, text) = verdict(&dom);
    assert_eq!(tone, "fail");
    assert!(
        text.contains("failover_p99_ms &lt; 200"),
        "thresholds named as in the scenario: {text}"
    );

    keyrotor(
        &[
            "run",
            "--keys",
            "2",
            "--rate",
            "20/min",
            "-z",
            "1m",
            "-o",
            &path("plain"),
        ],
        &[0],
    );
    let (tone, text) = verdict(&load(&dir.join("plain/report.html")));
    assert_eq!(tone, "inconclusive", "no thresholds, no pass: {text}");

    keyrotor(
        &[
            "sweep",
            "scenarios/keys-1.toml",
            "--keys",
            "1,2",
            "-o",
            &path("sweep"),
        ],
        &[0],
    );
    let dom = load(&dir.join("sweep/report.html"));
    charts_drawn(&dom, 1, First::Charts);
    let (tone, text) = verdict(&dom);
    assert_eq!(tone, "inconclusive");
    assert!(text.contains("2 keys serve"), "{text}");

    let plan = [
        "plan",
        "--users",
        "200",
        "--queries",
        "5",
        "--duration",
        "2h",
        "--rpm",
        "10",
        "--rpd",
        "300",
        "--tpm",
        "0",
        "--tpd",
        "0",
        "-o",
    ];
    keyrotor(&[&plan[..], &[path("plan").as_str()]].concat(), &[0]);
    validates("plan", &dir.join("plan/plan.json"));
    let dom = load(&dir.join("plan/report.html"));
    charts_drawn(&dom, 1, First::Charts);
    let (tone, _) = verdict(&dom);
    assert!(["pass", "fail", "inconclusive"].contains(&tone.as_str()));

    keyrotor(&["claims", "-o", &path("claims")], &[0]);
    validates("claims", &dir.join("claims/claims.json"));
    let dom = load(&dir.join("claims/claims.html"));
    let (tone, text) = verdict(&dom);
    assert_eq!(tone, "fail", "some seed claims fail: {text}");
    assert!(text.starts_with("Of ") && text.contains(" fail"), "{text}");
    assert!(
        dom.contains("<td class=\"fail\"><strong>Fails</strong></td>"),
        "verdict cells are coloured"
    );
    claims_link_to_runs_that_replay(&dir.join("claims"), &dom);
    let _ = std::fs::remove_dir_all(&dir);
}
