//! The harness's floors: each layer of `src/` is a folder (or, for one run and the command
//! line, a file), and its modules import only from their own layer or the layers below,
//! with no cycle inside a layer. A new folder at the top of `src/` must be given its place
//! here; an import that points up fails with its file and line.
//!
//! From the bottom: what users write (the scenario and the metric vocabulary), what is
//! measured (recorder, report model, document blocks), what drives traffic, one run, the
//! studies made of runs, what writes and shows them, the command line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first.
const LAYERS: &[&str] = &[
    "spec", "measure", "drive", "run", "studies", "output", "cli",
];

/// A module of the harness: its layer and its name (`spec::scenario`; `run` for the layer
/// that is one file).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Module {
    layer: String,
    name: String,
}

impl std::fmt::Display for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.layer == self.name {
            true => write!(f, "{}", self.name),
            false => write!(f, "{}::{}", self.layer, self.name),
        }
    }
}

/// The module a path below `crate::` names: `["spec", "scenario", …]` is `spec::scenario`;
/// `["run", …]` is `run`. `None` outside the harness (`engine`) or for a layer's own file.
fn module_at(segments: &[&str]) -> Option<Module> {
    let layer = *segments.first()?;
    if layer == "engine" {
        return None;
    }
    let name = match layer {
        "run" | "cli" => layer,
        _ => *segments.get(1).filter(|s| **s != "mod")?,
    };
    Some(Module {
        layer: layer.to_owned(),
        name: name.to_owned(),
    })
}

/// One import: the file and line it is on, the module importing and the module imported.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    at: String,
    from: Module,
    to: Module,
}

/// The module a file of `src/` belongs to (`None` for lib.rs, main.rs and a layer's
/// mod.rs).
fn module_of(relative: &Path) -> Option<Module> {
    let segments: Vec<&str> = relative
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .map(|c| c.strip_suffix(".rs").unwrap_or(c))
        .collect();
    match segments.as_slice() {
        ["lib" | "main"] => None,
        _ => module_at(&segments),
    }
}

/// The `crate::…` paths of production code (comments and the `#[cfg(test)]` module left
/// out), each with its line; a use-tree (`crate::spec::{metrics::Metric, scenario::X}`)
/// gives one path per leaf.
fn crate_paths(source: &str) -> Vec<(usize, Vec<String>)> {
    paths_after(source, "crate::")
}

/// The paths after each `prefix` (`crate::`, `super::`) in production code, with their lines.
fn paths_after(source: &str, prefix: &str) -> Vec<(usize, Vec<String>)> {
    let code: String = source
        .lines()
        .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find(prefix) {
        let start = from + at + prefix.len();
        let line = code[..start].matches('\n').count() + 1;
        let chars: Vec<char> = code[start..].chars().collect();
        let mut i = 0;
        for path in use_tree(&chars, &mut i) {
            found.push((line, path));
        }
        from = start;
    }
    found
}

/// The paths of a use-tree starting at `chars[*i]`, moving `i` past it.
fn use_tree(chars: &[char], i: &mut usize) -> Vec<Vec<String>> {
    let skip_space = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
    };
    let mut segments = Vec::new();
    loop {
        skip_space(i);
        if chars.get(*i) == Some(&'{') {
            *i += 1;
            let mut paths = Vec::new();
            loop {
                skip_space(i);
                match chars.get(*i) {
                    None => return paths,
                    Some('}') => {
                        *i += 1;
                        return paths;
                    }
                    Some(',') => *i += 1,
                    Some(_) => {
                        let before = *i;
                        for tail in use_tree(chars, i) {
                            paths.push([segments.clone(), tail].concat());
                        }
                        if *i == before {
                            *i += 1;
                        }
                    }
                }
            }
        }
        let ident: String = chars[*i..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        *i += ident.chars().count();
        if ident.is_empty() {
            return vec![segments];
        }
        segments.push(ident);
        if chars.get(*i) == Some(&':') && chars.get(*i + 1) == Some(&':') {
            *i += 2;
        } else {
            return vec![segments];
        }
    }
}

/// Every import between two modules of the files given (path, source).
fn imports(files: &[(PathBuf, String)]) -> Vec<Import> {
    let mut all = Vec::new();
    for (path, source) in files {
        let Some(from) = module_of(path) else {
            continue;
        };
        for (line, path_to) in crate_paths(source) {
            let segments: Vec<&str> = path_to.iter().map(String::as_str).collect();
            if let Some(to) = module_at(&segments).filter(|to| *to != from) {
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

/// What breaks the floors: a module in no known layer, an import of a module in a layer
/// above, a cycle inside a layer.
fn violations(modules: &BTreeSet<Module>, imports: &[Import]) -> Vec<String> {
    let rank = |m: &Module| LAYERS.iter().position(|l| *l == m.layer);
    let mut problems: Vec<String> = modules
        .iter()
        .filter(|m| rank(m).is_none())
        .map(|m| {
            format!(
                "src/{} is in no layer: give it one in tests/layers.rs",
                m.layer
            )
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut same_layer: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in imports {
        let (Some(from), Some(to)) = (rank(&i.from), rank(&i.to)) else {
            continue;
        };
        if to > from {
            problems.push(format!(
                "{}: {} ({}) imports {} ({}, a layer above)",
                i.at, i.from, LAYERS[from], i.to, LAYERS[to]
            ));
        } else if to == from {
            same_layer
                .entry(i.from.to_string())
                .or_default()
                .insert(i.to.to_string());
        }
    }
    problems.extend(cycles(&same_layer));
    problems
}

/// Each module that can reach itself through imports within its layer, with the way round.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut found = Vec::new();
    for start in edges.keys() {
        // Through the module's imports, remembering how each module was reached.
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue: Vec<&str> = vec![start];
        while let Some(at) = queue.pop() {
            for next in edges.get(at).into_iter().flatten() {
                if !came_from.contains_key(next.as_str()) {
                    came_from.insert(next, at);
                    queue.push(next);
                }
            }
        }
        if let Some(mut at) = came_from.get(start.as_str()).copied() {
            let mut way = vec![start.as_str()];
            while at != start && way.len() <= edges.len() {
                way.push(at);
                at = came_from.get(at).copied().unwrap_or(start);
            }
            way.push(start);
            way.reverse();
            found.push(format!("import cycle: {}", way.join(" → ")));
        }
    }
    found
}

/// Cycles among the files of one module folder (`studies/claims/searches.rs` importing
/// `seeds.rs` and back), through `super::sibling` or the sibling's full path.
fn sibling_cycles(files: &[(PathBuf, String)]) -> Vec<String> {
    let stem = |p: &Path| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
    let mut siblings: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for (path, _) in files {
        if let (Some(parent), Some(name)) = (path.parent(), stem(path)) {
            siblings
                .entry(parent.to_path_buf())
                .or_default()
                .insert(name);
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, source) in files {
        let (Some(parent), Some(name)) = (path.parent(), stem(path)) else {
            continue;
        };
        if name == "mod" || parent.as_os_str().is_empty() {
            continue;
        }
        let Some(names) = siblings.get(parent) else {
            continue;
        };
        let folder: Vec<String> = parent
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect();
        let through_super = paths_after(source, "super::")
            .into_iter()
            .filter_map(|(_, p)| p.first().cloned());
        let through_crate = crate_paths(source)
            .into_iter()
            .filter(|(_, p)| p.len() > folder.len() && p[..folder.len()] == folder[..])
            .map(|(_, p)| p[folder.len()].clone());
        for to in through_super.chain(through_crate) {
            if to != name && to != "mod" && names.contains(&to) {
                let key = |n: &str| format!("{}/{n}", parent.display());
                edges.entry(key(&name)).or_default().insert(key(&to));
            }
        }
    }
    cycles(&edges)
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
    let modules: BTreeSet<Module> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let all = imports(&files);
    assert!(
        all.len() > 50 && modules.len() > 20,
        "only {} imports between {} modules found: is the reader broken?",
        all.len(),
        modules.len()
    );
    let mut problems = violations(&modules, &all);
    problems.extend(sibling_cycles(&files));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every layer is there (a renamed folder leaves no stale entry).
    for layer in LAYERS {
        assert!(
            modules.iter().any(|m| m.layer == *layer),
            "layer {layer} has no module in src/"
        );
    }
}

#[test]
fn an_upward_import_a_cycle_and_a_folder_without_a_layer_are_each_caught() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let files = [
        // Upward: the scenario (spec) reaching into a run.
        file("spec/scenario/check.rs", "use crate::run::mock_config;\n"),
        // A cycle inside the studies layer, one side through a use-tree over three lines.
        file(
            "studies/sweep.rs",
            "use crate::{\n    measure::document::Block,\n    studies::{plan::Plan, compare},\n};\n",
        ),
        file(
            "studies/plan/mod.rs",
            "fn f() { crate::studies::sweep::go(); }\n",
        ),
        // Not counted: comments and the test module.
        file(
            "measure/report/mod.rs",
            "// crate::cli::x\n#[cfg(test)]\nmod tests { use crate::cli::Cli; }\n",
        ),
        file("extras/thing.rs", "use crate::spec::scenario::Scenario;\n"),
    ];
    let modules = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let problems = violations(&modules, &imports(&files));
    let text = problems.join("\n");
    assert!(
        text.contains(
            "src/spec/scenario/check.rs:1: spec::scenario (spec) imports run (run, a layer above)"
        ),
        "{text}"
    );
    assert!(
        text.contains("import cycle: studies::plan → studies::sweep → studies::plan"),
        "{text}"
    );
    assert!(text.contains("src/extras is in no layer"), "{text}");
    assert!(!text.contains("cli"), "comments and tests count: {text}");
    assert_eq!(problems.len(), 4, "{text}");
}

#[test]
fn files_of_one_module_that_import_each_other_are_caught() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let files = [
        file("studies/claims/mod.rs", "mod searches;\nmod seeds;\n"),
        file(
            "studies/claims/searches.rs",
            "use super::seeds::Era;\nuse super::Claim;\n",
        ),
        file(
            "studies/claims/seeds.rs",
            "fn f() { crate::studies::claims::searches::go(); }\n",
        ),
        file("studies/claims/answers.rs", "use super::seeds::Era;\n"),
    ];
    let text = sibling_cycles(&files).join("\n");
    assert!(
        text.contains("studies/claims/searches → studies/claims/seeds → studies/claims/searches"),
        "{text}"
    );
    assert!(!text.contains("answers"), "one way is no cycle: {text}");
}
