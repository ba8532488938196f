//! `--catalog FILE`: a user's own catalog replaces the built-in one for every command (the
//! listing, the planner, the mock a run drives), and a bad one is refused with its file,
//! line and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A catalog with one model of the user's own: 6 requests a minute, 300 a day, tokens
/// not limited.
const MINE: &str = r#"reviewed = "2026-12-01"
recommended = "acme/tiny"

[[source]]
id = "acme"
url = "https://acme.example/limits"
seen = "2026-12-01"
note = "the limits page of the account"

[[model]]
id = "acme/tiny"
owned_by = "Acme"
context_window = 8192
free = { rpm = 6, rpd = 300 }
limits_source = "acme"
decode_tps = 400.0
"#;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-catalog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn keyrotor(catalog: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .arg("--catalog")
        .arg(catalog)
        .args(args)
        .env_remove("KEYROTOR_CATALOG")
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

#[test]
fn a_users_catalog_is_what_catalog_plan_and_the_mock_serve() {
    let dir = folder("mine");
    let file = dir.join("mine.toml");
    std::fs::write(&file, MINE).unwrap_or_else(|e| panic!("{e}"));

    let listed = keyrotor(&file, &["catalog", "--as-of", "2026-12-07"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("**1 of the catalog's 1 models are served on 2026-12-07; keyrotor's default is `acme/tiny`.**")
            && text.contains("| `acme/tiny` | 6 / 300 / – / – |")
            && text.contains("https://acme.example/limits (seen 2026-12-01)"),
        "{text}"
    );

    // 200 users × 5 queries = 1,000 requests against 300 a day: 4 keys, RPD binding.
    let plan = stdout_json(&keyrotor(
        &file,
        &[
            "plan",
            "--model",
            "acme/tiny",
            "--users",
            "200",
            "--queries",
            "5",
            "--duration",
            "2h",
            "--analytical-only",
            "--as-of",
            "2026-12-07",
            "--json",
            "--out",
        ]
        .into_iter()
        .chain([dir.join("plan").to_str().unwrap_or("plan")])
        .collect::<Vec<_>>(),
    ));
    assert_eq!(plan["analytical"]["min_keys"], 4, "{plan}");
    assert_eq!(plan["analytical"]["binding"], "rpd", "{plan}");

    // The mock a run drives applies the file's 6 requests a minute to its model, a bucket
    // refilling continuously from full: one key offered 60 a minute for a minute is answered
    // at most 6 + 6 times (the built-in default model, 30 a minute, answers them all).
    let run = stdout_json(&keyrotor(
        &file,
        &[
            "run",
            "--keys",
            "1",
            "--rate",
            "60/min",
            "-z",
            "1m",
            "--as-of",
            "2026-12-07",
            "--sim",
            "--json",
            "--out",
        ]
        .into_iter()
        .chain([dir.join("run").to_str().unwrap_or("run")])
        .collect::<Vec<_>>(),
    ));
    assert_eq!(
        run["setup"]["model"], "acme/tiny",
        "the catalog's recommended model"
    );
    assert_eq!(run["setup"]["limits"]["rpm"], 6);
    let ok = run["summary"]["succeeded"].as_u64();
    assert!(
        ok.is_some_and(|n| (6..=13).contains(&n)),
        "succeeded {ok:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_catalog_is_refused_with_its_file_line_and_field() {
    let dir = folder("bad");
    let file = dir.join("bad.toml");
    let bad = MINE.replace("limits_source = \"acme\"", "limits_source = \"nobody\"");
    std::fs::write(&file, bad).unwrap_or_else(|e| panic!("{e}"));
    for args in [&["catalog"][..], &["plan", "--users", "10"][..]] {
        let out = keyrotor(&file, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("bad.toml, line 15: limits_source: no [[source]] has this id"),
            "{err}"
        );
    }
    let missing = keyrotor(&dir.join("absent.toml"), &["catalog"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("absent.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}
