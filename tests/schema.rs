//! The JSON Schemas in `schemas/` are the ones the types generate, and none changes under
//! the same version (tests/documents.rs validates what keyrotor writes against them).

use std::path::PathBuf;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-schema-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

#[test]
fn the_committed_schemas_are_the_ones_the_types_generate() {
    for (name, schema) in keyrotor::output::schema::all() {
        let path = format!("schemas/{name}.schema.json");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = keyrotor::output::schema::text(&schema).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            committed == generated,
            "{path} is not what the types generate: run `cargo run -- schema --write schemas` (it asks for a new keyrotor::measure::report::SCHEMA when a schema changes)"
        );
    }
}

#[test]
fn a_schema_cannot_change_under_the_same_version() {
    let dir = temp("bump");
    keyrotor::output::schema::write(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        keyrotor::output::schema::write(&dir)
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
    let refused = keyrotor::output::schema::write(&dir)
        .err()
        .map(|e| format!("{e:#}"));
    assert!(
        refused.is_some_and(|e| e.contains("bump")),
        "a changed schema under v{} was written",
        keyrotor::measure::report::SCHEMA
    );
    // Under another version it is written.
    let old = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("/v", "/v0");
    std::fs::write(&path, old).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        keyrotor::output::schema::write(&dir)
            .unwrap_or_else(|e| panic!("{e:#}"))
            .len(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}
