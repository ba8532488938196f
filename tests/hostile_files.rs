//! Every file keyrotor reads is read within a cap (`groq_wire::file`): a device such as
//! `/dev/zero`, a directory, or a file past its cap is refused with a sentence naming it, in
//! well under a second, instead of taking the machine's memory. Each command runs under a
//! 4 GB address-space limit, so a regression fails here instead of on the machine.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-hostile-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// Runs `keyrotor ARGS` with at most 4 GB of address space and 60 s; its exit success and
/// stderr.
fn keyrotor(args: &[&str]) -> (bool, String) {
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -v 4000000; exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_keyrotor"))
        .args(args)
        .env("GROQ_API_KEY", "gsk_hostile_files_0123456789abcdef")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{args:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_file_input_refuses_a_device_a_directory_and_a_file_past_its_cap() {
    let dir = temp();
    // Two MiB of spaces: valid TOML and JSON whitespace, past the 1 MiB cap of a file a
    // person writes.
    let big = dir.join("big.toml");
    std::fs::write(&big, vec![b' '; 2 << 20]).unwrap_or_else(|e| panic!("{e}"));
    let big = big.to_string_lossy().into_owned();
    let folder = dir.to_string_lossy().into_owned();
    // Each command with FILE where the hostile input goes.
    let cases: [(&str, &[&str]); 7] = [
        ("scenario", &["run", "FILE"]),
        ("sweep scenario", &["sweep", "FILE"]),
        (
            "mock config",
            &["mock", "--listen", "127.0.0.1:0", "--config", "FILE"],
        ),
        ("claims file", &["claims", "--file", "FILE"]),
        ("plan event", &["plan", "--file", "FILE"]),
        ("compare report", &["compare", "FILE", "FILE"]),
        (
            "keys file",
            &["proxy", "--listen", "127.0.0.1:0", "--keys-file", "FILE"],
        ),
    ];
    for (what, args) in &cases {
        for (input, says) in [
            ("/dev/zero", "not a regular file"),
            (folder.as_str(), "a directory"),
            (big.as_str(), "more than the"),
        ] {
            // `compare` reads a folder's report.json, and reports have a cap of their own:
            // both cases below.
            if *what == "compare report" && input != "/dev/zero" {
                continue;
            }
            let args: Vec<&str> = args
                .iter()
                .map(|a| if *a == "FILE" { input } else { a })
                .collect();
            let (ok, err) = keyrotor(&args);
            assert!(!ok, "{what} {input}: accepted");
            assert!(err.contains(says), "{what} {input}: {err}");
        }
    }
    // A folder given to compare is read as its report.json, whose cap is 256 MiB (a sparse
    // file: its length is checked before a byte is read).
    let report = std::fs::File::create(dir.join("report.json")).unwrap_or_else(|e| panic!("{e}"));
    report
        .set_len((256 << 20) + 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let (ok, err) = keyrotor(&["compare", &folder, &folder]);
    assert!(!ok && err.contains("more than the"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
