//! The harness's floors: every module of `src/` sits in one layer, and imports only from its
//! own layer or the layers below, with no cycle inside a layer. A module added to `src/`
//! must be given its layer here; an import that points up fails with its file and line.
//!
//! From the bottom: what users write (the scenario and the metric vocabulary), what is
//! measured (recorder, report model, document blocks), what drives traffic, one run, the
//! studies made of runs, what writes and shows them, the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first, and their modules.
const LAYERS: &[(&str, &[&str])] = &[
    ("spec", &["metrics", "scenario", "flags"]),
    (
        "measure",
        &[
            "document",
            "streaming",
            "requests_csv",
            "recorder",
            "report",
            "quota",
        ],
    ),
    (
        "drive",
        &[
            "workload",
            "network",
            "redis_server",
            "driver",
            "app",
            "replicas",
            "seed_apps",
        ],
    ),
    ("run", &["run"]),
    ("studies", &["sweep", "plan", "claims", "compare"]),
    (
        "output",
        &["chart", "plots", "html", "schema", "artifacts", "live"],
    ),
    ("cli", &["cli"]),
];

/// One import: the file and line it is on, the module importing and the module imported.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    at: String,
    from: String,
    to: String,
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and main.rs).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The `crate::X` paths of production code (comments and the `#[cfg(test)]` module left
/// out), each with its line.
fn crate_paths(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_group = false;
    for (i, raw) in source.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default();
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let mut rest = line;
        // The names of a `use crate::{a, b::c};` group, over one line or several.
        if in_group {
            found.extend(group_heads(rest).into_iter().map(|m| (i + 1, m)));
            in_group = !rest.contains("};");
            continue;
        }
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                found.extend(group_heads(group).into_iter().map(|m| (i + 1, m)));
                in_group = !group.contains("};");
                break;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((i + 1, name));
            }
        }
    }
    found
}

/// The first segment of each path in the text of a `{…}` group (nested groups skipped).
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut at_start = true;
    let mut name = String::new();
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            c if at_start && (c.is_alphanumeric() || c == '_') => name.push(c),
            _ if !name.is_empty() => {
                heads.push(std::mem::take(&mut name));
                at_start = false;
            }
            _ => {}
        }
    }
    if !name.is_empty() {
        heads.push(name);
    }
    heads
}

/// Every import between two top-level modules of the files given (path, source).
fn imports(files: &[(PathBuf, String)]) -> Vec<Import> {
    let mut all = Vec::new();
    for (path, source) in files {
        let Some(from) = module_of(path) else {
            continue;
        };
        for (line, to) in crate_paths(source) {
            if to != from && to != "engine" {
                all.push(Import {
                    at: format!("src/{}:{line}", path.display()),
                    from: from.clone(),
                    to,
                });
            }
        }
    }
    all
}

/// What breaks the floors: a module in no layer, an import of a module in a layer above,
/// a cycle inside a layer.
fn violations(modules: &BTreeSet<String>, imports: &[Import]) -> Vec<String> {
    let layer: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, names))| names.iter().map(move |n| (*n, i)))
        .collect();
    let mut problems: Vec<String> = modules
        .iter()
        .filter(|m| !layer.contains_key(m.as_str()))
        .map(|m| format!("src/{m} is in no layer: give it one in tests/layers.rs"))
        .collect();
    let mut same_layer: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in imports {
        let (Some(&from), Some(&to)) = (layer.get(i.from.as_str()), layer.get(i.to.as_str()))
        else {
            continue;
        };
        if to > from {
            problems.push(format!(
                "{}: {} ({}) imports {} ({}, a layer above)",
                i.at, i.from, LAYERS[from].0, i.to, LAYERS[to].0
            ));
        } else if to == from {
            same_layer.entry(&i.from).or_default().insert(&i.to);
        }
    }
    problems.extend(cycles(&same_layer));
    problems
}

/// Each module that can reach itself through imports within its layer, with the way round.
fn cycles(edges: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<String> {
    let mut found = Vec::new();
    for start in edges.keys() {
        // Breadth-first from the module's imports, remembering how each was reached.
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue: Vec<&str> = vec![start];
        while let Some(at) = queue.pop() {
            for next in edges.get(at).into_iter().flatten() {
                if !came_from.contains_key(next) {
                    came_from.insert(next, at);
                    queue.push(next);
                }
            }
        }
        if came_from.contains_key(start) {
            let mut way = vec![*start];
            let mut at = came_from[start];
            while at != *start && way.len() <= edges.len() {
                way.push(at);
                at = came_from[at];
            }
            way.push(start);
            way.reverse();
            found.push(format!("import cycle: {}", way.join(" → ")));
        }
    }
    found
}

/// Every .rs file under `dir`, relative to it, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let entries = std::fs::read_dir(&at).unwrap_or_else(|e| panic!("{}: {e}", at.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let relative = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                out.push((relative, text));
            }
        }
    }
    out
}

#[test]
fn every_import_of_the_harness_points_down_and_no_layer_has_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src);
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let all = imports(&files);
    assert!(
        all.len() > 50,
        "only {} imports found: is the reader broken?",
        all.len()
    );
    let problems = violations(&modules, &all);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every module named in a layer exists (a renamed module leaves no stale entry).
    for (name, members) in LAYERS {
        for m in *members {
            assert!(modules.contains(*m), "layer {name} names {m}, not in src/");
        }
    }
}

#[test]
fn an_upward_import_a_cycle_and_a_module_without_a_layer_are_each_caught() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let files = [
        // Upward: the scenario (spec) reaching into a run.
        file("scenario/check.rs", "use crate::run::mock_config;\n"),
        // A cycle inside the studies layer, through a grouped import over two lines.
        file(
            "sweep.rs",
            "use crate::{\n    document::Block,\n    plan::Plan,\n};\n",
        ),
        file("plan/mod.rs", "fn f() { crate::sweep::go(); }\n"),
        // Not counted: comments and the test module.
        file(
            "report/mod.rs",
            "// crate::cli::x\n#[cfg(test)]\nmod tests { use crate::cli::Cli; }\n",
        ),
        file("newthing.rs", "use crate::scenario::Scenario;\n"),
    ];
    let modules = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let problems = violations(&modules, &imports(&files));
    let text = problems.join("\n");
    assert!(
        text.contains("src/scenario/check.rs:1: scenario (spec) imports run (run, a layer above)"),
        "{text}"
    );
    assert!(text.contains("import cycle: plan → sweep → plan"), "{text}");
    assert!(text.contains("src/newthing is in no layer"), "{text}");
    assert!(!text.contains("cli"), "comments and tests count: {text}");
    assert_eq!(problems.len(), 4, "{text}");
}
