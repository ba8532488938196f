//! The JSON Schemas in `schemas/` are the ones the types generate, and what keyrotor writes
//! validates against them (Python's `jsonschema`, installed by scripts/test.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-schema-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn keyrotor(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "keyrotor {args:?}: {}",
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

#[test]
fn the_committed_schemas_are_the_ones_the_types_generate() {
    for (name, schema) in keyrotor::schema::all() {
        let path = format!("schemas/{name}.schema.json");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = keyrotor::schema::text(&schema).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            committed == generated,
            "{path} is not what the types generate: run `cargo run -- schema --write schemas` (it asks for a new keyrotor::report::SCHEMA when a schema changes)"
        );
    }
}

#[test]
fn a_schema_cannot_change_under_the_same_version() {
    let dir = temp("bump");
    keyrotor::schema::write(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        keyrotor::schema::write(&dir)
            .unwrap_or_else(|e| panic!("{e:#}"))
            .is_empty(),
        "nothing changed"
    );
    let path = dir.join("report.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(
        &path,
        text.replace("\"title\": \"Report\"", "\"title\": \"Old report\""),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let refused = keyrotor::schema::write(&dir)
        .err()
        .map(|e| format!("{e:#}"));
    assert!(
        refused.is_some_and(|e| e.contains("bump")),
        "a changed schema under v{} was written",
        keyrotor::report::SCHEMA
    );
    // Under another version it is written.
    let old = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("/v", "/v0");
    std::fs::write(&path, old).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        keyrotor::schema::write(&dir)
            .unwrap_or_else(|e| panic!("{e:#}"))
            .len(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn what_keyrotor_writes_validates_against_its_schemas() {
    let dir = temp("docs");
    let run = dir.join("run");
    let run_dir = run.to_str().unwrap_or_default();
    keyrotor(&[
        "run",
        "--keys",
        "3",
        "--rate",
        "120/min",
        "-z",
        "2m",
        "--policy",
        "cooldown",
        "--replicas",
        "2",
        "--state",
        "memory",
        "--cold-start",
        "5 requests",
        "-o",
        run_dir,
    ]);
    validates("report", &run.join("report.json"));
    let sweep = dir.join("sweep");
    keyrotor(&[
        "sweep",
        "scenarios/keys-1.toml",
        "--keys",
        "1,2",
        "--replicas",
        "1,2",
        "-o",
        sweep.to_str().unwrap_or_default(),
    ]);
    validates("sweep", &sweep.join("sweep.json"));
    let plan = dir.join("plan");
    keyrotor(&[
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
        "--rpm",
        "10",
        "--rpd",
        "300",
        "--tpm",
        "0",
        "--tpd",
        "0",
        "-o",
        plan.to_str().unwrap_or_default(),
    ]);
    validates("plan", &plan.join("plan.json"));
    let mut quiet = |_: &str| {};
    let claims = keyrotor::claims::check(mock_groq::catalog::CATALOG_DATE, None, &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let claims_json = dir.join("claims.json");
    std::fs::write(
        &claims_json,
        serde_json::to_string(&claims).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    validates("claims", &claims_json);
    let _ = std::fs::remove_dir_all(&dir);
}
