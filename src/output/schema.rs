//! JSON Schemas of what keyrotor writes — `report.json`, `sweep.json`, `plan.json`,
//! `claims.json` — generated from the types themselves (schemars), so a schema cannot drift
//! from the files. They are committed in `schemas/` and a test checks them: a change to these
//! types changes a schema, and writing changed schemas requires a new
//! [`crate::measure::report::SCHEMA`] (their `$id` carries it), so consumers see the version move.

use std::path::Path;

use anyhow::{Context, bail};
use schemars::{Schema, schema_for};

use crate::measure::report::SCHEMA;

/// Each document's name and its schema, `$id` `keyrotor/<name>/v<SCHEMA>`.
pub fn all() -> Vec<(&'static str, Schema)> {
    let mut schemas = vec![
        ("report", schema_for!(crate::measure::report::Report)),
        ("sweep", schema_for!(crate::studies::sweep::Sweep)),
        ("plan", schema_for!(crate::studies::plan::Plan)),
        ("claims", schema_for!(crate::studies::claims::Claims)),
    ];
    for (name, schema) in &mut schemas {
        schema.insert(
            "$id".to_owned(),
            format!("keyrotor/{name}/v{SCHEMA}").into(),
        );
    }
    schemas
}

/// A schema as committed: pretty JSON with a final newline.
pub fn text(schema: &Schema) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(schema)? + "\n")
}

/// The `$id` of the schema text at `path`, if the file is there.
fn committed_id(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["$id"].as_str().map(str::to_owned)
}

/// A schema without its descriptions: what a consumer's parser depends on.
fn structure(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(key, _)| key.as_str() != "description")
            .map(|(key, v)| (key.clone(), structure(v)))
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(structure).collect(),
        other => other.clone(),
    }
}

/// Whether `old` and `new` (schema texts) differ beyond their descriptions.
fn structure_changed(old: &str, new: &str) -> bool {
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    match (parse(old), parse(new)) {
        (Some(old), Some(new)) => structure(&old) != structure(&new),
        _ => true,
    }
}

/// Writes every schema into `dir` as `<name>.schema.json`. Refuses to change a schema's
/// structure under the same version (bump [`SCHEMA`] first); a change of its descriptions
/// alone is written under the version it has.
pub fn write(dir: &Path) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, schema) in all() {
        let path = dir.join(format!("{name}.schema.json"));
        let new = text(&schema)?;
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() == Some(new.as_str()) {
            continue;
        }
        if old
            .as_deref()
            .is_some_and(|old| structure_changed(old, &new))
            && committed_id(&path).as_deref() == schema.get("$id").and_then(|v| v.as_str())
        {
            bail!(
                "{}: the {name} schema changed but keyrotor::measure::report::SCHEMA is still {SCHEMA}: bump it (and say what changed in its doc comment), then write again",
                path.display()
            );
        }
        std::fs::write(&path, new).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::structure_changed;

    #[test]
    fn descriptions_alone_are_no_change_of_structure() {
        let old =
            r#"{"$id": "v6", "properties": {"a": {"type": "number", "description": "old words"}}}"#;
        let reworded =
            r#"{"$id": "v6", "properties": {"a": {"type": "number", "description": "new words"}}}"#;
        let retyped =
            r#"{"$id": "v6", "properties": {"a": {"type": "string", "description": "old words"}}}"#;
        let added =
            r#"{"$id": "v6", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}"#;
        assert!(!structure_changed(old, reworded));
        assert!(structure_changed(old, retyped));
        assert!(structure_changed(old, added));
    }
}
