//! `keyrotor claims --file`: a user's claims as data, each judged on its own run, with exit
//! codes CI can act on; bad files are refused with the file, the line and the field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-claims-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn claims(file: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args(["claims", "--file"])
        .arg(file)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A claim on an inline scenario: 3 keys at `rpm` for 5 simulated minutes.
fn claim(id: &str, rpm: u32, metric: &str, rule: &str, min_samples: u64) -> String {
    format!(
        r#"
[[claim]]
id = "{id}"
claim = "3 keys at {rpm} req/min: {metric} {rule}"
source = "a test"
metric = "{metric}"
rule = "{rule}"
min_samples = {min_samples}
[claim.scenario]
name = "{id}"
seed = 3
[claim.scenario.keys]
count = 3
[claim.scenario.traffic]
arrival = "poisson"
rate = {rpm}
duration = "5m"
"#
    )
}

fn verdicts(out: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(out.join("claims.json")).unwrap_or_else(|e| panic!("{e}"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    json["claims"]
        .as_array()
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_owned(),
                c["verdict"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn claims_from_a_file_are_judged_on_their_runs_and_the_exit_code_says_how() {
    let dir = temp("judged");
    // 3 keys serve 90 req/min (30 each) but not 300: the same rule holds and fails.
    let file = dir.join("claims.toml");
    std::fs::write(
        &file,
        format!(
            "title = \"Ours\"\n{}{}",
            claim("light", 45, "goodput_rate", ">= 0.99", 100),
            claim("heavy", 300, "goodput_rate", ">= 0.99", 100)
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let done = claims(&file, &out);
    assert_eq!(done.status.code(), Some(3), "{done:?}");
    assert_eq!(
        verdicts(&out),
        [
            ("light".to_owned(), "holds".to_owned()),
            ("heavy".to_owned(), "fails".to_owned())
        ]
    );
    // Each claim's run is written in full and replays from its scenario.toml.
    for id in ["light", "heavy"] {
        for name in [
            "scenario.toml",
            "report.json",
            "report.html",
            "timeseries.csv",
        ] {
            assert!(
                out.join("runs").join(id).join(name).is_file(),
                "{id}/{name}"
            );
        }
    }
    let html = std::fs::read_to_string(out.join("claims.html")).unwrap_or_default();
    assert!(html.contains("<title>Ours</title>"), "{html}");
    assert!(
        !html.contains("seeds' real code"),
        "a claims file has no seed apps"
    );

    // Only the claim that holds: exit 0.
    std::fs::write(&file, claim("light", 45, "goodput_rate", ">= 0.99", 100))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claims(&file, &out).status.code(), Some(0));

    // Too few samples (5 minutes at 45/min is about 225 requests) or no data: never a
    // pass, exit 5.
    for (metric, min) in [("goodput_rate", 100_000), ("ttft_p99_ms", 1)] {
        std::fs::write(&file, claim("few", 45, metric, "<= 1e9", min))
            .unwrap_or_else(|e| panic!("{e}"));
        let done = claims(&file, &out);
        assert_eq!(done.status.code(), Some(5), "{metric}: {done:?}");
        assert_eq!(
            verdicts(&out),
            [("few".to_owned(), "inconclusive".to_owned())]
        );
    }

    // A scenario file named relative to the claims file.
    std::fs::create_dir_all(dir.join("sc")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("sc/run.toml"),
        "name = \"r\"\n[keys]\ncount = 2\n[traffic]\narrival = \"constant\"\nrate = 20\nduration = \"2m\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        &file,
        "[[claim]]\nid = \"by-file\"\nclaim = \"c\"\nscenario_file = \"sc/run.toml\"\nmetric = \"upstream_429\"\nrule = \"<= 0\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let done = claims(&file, &out);
    assert_eq!(done.status.code(), Some(0), "{done:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_claims_files_are_refused_with_the_file_line_and_field() {
    let dir = temp("refused");
    let file = dir.join("bad.toml");
    let good = claim("ok", 45, "goodput_rate", ">= 0.99", 1);
    let cases: Vec<(String, &str)> = vec![
        (
            good.replace("metric = \"goodput_rate\"", "metric = \"uptime\""),
            "line 6",
        ),
        (
            good.replace("rule = \">= 0.99\"", "rule = \"about 1\""),
            "line 7",
        ),
        (
            good.replace("id = \"ok\"", "id = \"../escape\""),
            "field `id`",
        ),
        (format!("{good}{good}"), "used twice"),
        (
            good.replace("min_samples = 1", "min_samples = 0"),
            "min_samples",
        ),
        (good.replace("rate = 45", "rate = -1"), "line 16"),
        (good.replace("count = 3", "count = 999"), "keys.count"),
        (
            good.replace("[claim.scenario]", "[claim.elsewhere]"),
            "unknown field",
        ),
        (
            good.replace("source = \"a test\"", "scenario_file = \"missing.toml\""),
            "scenario_file",
        ),
        ("title = \"nothing\"\n".to_owned(), "claim"),
    ];
    for (text, expected) in cases {
        std::fs::write(&file, &text).unwrap_or_else(|e| panic!("{e}"));
        let done = claims(&file, &dir.join("out"));
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(1), "{text}\n{stderr}");
        assert!(
            stderr.contains("bad.toml") && stderr.contains(expected),
            "expected `{expected}` in: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
