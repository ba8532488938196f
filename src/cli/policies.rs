//! `keyrotor policies`: the presets, the seed each reproduces, what it does, its parameters.

use crate::engine::PolicyConfig;

/// The text of `keyrotor policies`.
pub fn policies(json: bool) -> anyhow::Result<String> {
    let presets = PolicyConfig::presets();
    if json {
        let list: Vec<_> = presets
            .iter()
            .map(|p| serde_json::json!({"name": p.name, "seed": p.seed, "behaviour": p.behaviour, "modelling_choices": p.choices, "default": p.default}))
            .collect();
        return Ok(serde_json::to_string_pretty(&list)? + "\n");
    }
    let mut out = String::new();
    for preset in presets {
        let params = toml::to_string(&preset.default)?;
        let params: Vec<&str> = params
            .lines()
            .filter(|l| !l.starts_with("name ="))
            .collect();
        out.push_str(&format!(
            "{:<16} (seed: {})\n    {}\n",
            preset.name, preset.seed, preset.behaviour
        ));
        for choice in preset.choices {
            out.push_str(&format!("    - {choice}\n"));
        }
        if params.is_empty() {
            out.push_str("    parameters: none\n");
        } else {
            out.push_str(&format!("    parameters: {}\n", params.join(", ")));
        }
    }
    out.push_str("\nChoose one with NAME or NAME:param=value,param=value (e.g. cooldown:cooldown=30s,max_attempts=2).\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_lists_every_preset_with_its_parameters() {
        let text = policies(false).unwrap_or_else(|e| panic!("{e}"));
        for preset in PolicyConfig::presets() {
            assert!(text.contains(preset.name), "{text}");
        }
        assert!(
            text.contains("cooldown = \"1m\"") || text.contains("cooldown = \"60s\""),
            "{text}"
        );
        assert!(text.contains("max_wait"), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&policies(true).unwrap_or_default()).unwrap_or_default();
        assert_eq!(json.as_array().map(Vec::len), Some(6));
        assert_eq!(json[3]["default"]["name"], "cooldown");
    }
}
