//! Replays every input kept in fuzz/seeds/ (hand-written, and every crash the fuzzers found,
//! once fixed) and fuzz/corpus/ (what the fuzzers kept) through the checks the fuzz targets
//! run. Runs on stable with `cargo test`, so what a fuzzer found once stays fixed.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

#[test]
fn every_kept_fuzz_input_passes_its_checks() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failed = Vec::new();
    for target in checks::TARGETS {
        // seeds/: written by hand, and every crash the fuzzers found (fixed), by name;
        // corpus/: what the fuzzers kept, minimised with `cargo fuzz cmin`.
        for kind in ["seeds", "corpus"] {
            let dir = fuzz.join(kind).join(target);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .filter_map(Result::ok)
                .collect::<Vec<_>>();
            assert!(!entries.is_empty(), "{} holds no inputs", dir.display());
            for entry in entries {
                let data = std::fs::read(entry.path()).unwrap_or_else(|e| panic!("{e}"));
                if std::panic::catch_unwind(|| checks::run(target, &data)).is_err() {
                    failed.push(entry.path().display().to_string());
                }
            }
        }
    }
    assert!(
        failed.is_empty(),
        "inputs that fail their checks: {failed:#?}"
    );
}
