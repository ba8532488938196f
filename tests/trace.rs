//! Trace replay: an app's own requests, each sent at its offset with its sizes, in simulated
//! and real time alike; a bad row refused with its file, line and column.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TRACE: &str = "offset_s,prompt_tokens,completion_tokens\n0,100,50\n0.5,120,60\n2,80,40\n2,90,10\n5.25,100,100\n";

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-trace-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn keyrotor(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyrotor"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// (intended send in ms, tokens) of each row of a run's requests.csv.
fn sent(out: &Path) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(out.join("requests.csv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let at = cells[0].parse::<f64>().unwrap_or(-1.0);
            ((at * 1000.0).round() as u64, cells[7].parse().unwrap_or(0))
        })
        .collect()
}

#[test]
fn a_trace_replays_each_request_at_its_offset_in_sim_and_real_time() {
    let dir = folder("replay");
    let trace = dir.join("t.csv");
    std::fs::write(&trace, TRACE).unwrap_or_else(|e| panic!("{e}"));
    let path = trace.to_str().unwrap_or_default();
    // Each request's tokens are its prompt and its answer, as the trace gives them.
    let expected = vec![(0, 150), (500, 180), (2000, 100), (2000, 120), (5250, 200)];
    for mode in ["--sim", "--real"] {
        let out = dir.join(&mode[2..]);
        let run = keyrotor(
            &[
                "run",
                "--trace",
                path,
                "--keys",
                "2",
                "--requests-csv",
                mode,
            ],
            &out,
        );
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let mut got = sent(&out);
        got.sort();
        assert_eq!(got, expected, "{mode}");
        let report = std::fs::read_to_string(out.join("report.md")).unwrap_or_default();
        assert!(
            report.contains("5 requests over 5.2 s; prompt tokens 80–120 (mean 98.0), max_tokens 10–100 (mean 52.0), as the trace gives them"),
            "{report}"
        );
    }

    // A scenario file names the trace beside it; speed 2 halves every offset; -n cuts it.
    std::fs::write(
        dir.join("replay.toml"),
        "name = \"replay\"\n[keys]\ncount = 2\n[traffic]\narrival = \"trace\"\ntrace = \"t.csv\"\nspeed = 2\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("fast");
    let scenario = dir.join("replay.toml");
    let run = keyrotor(
        &[
            "run",
            scenario.to_str().unwrap_or_default(),
            "-n",
            "4",
            "--requests-csv",
        ],
        &out,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut got: Vec<u64> = sent(&out).into_iter().map(|(at, _)| at).collect();
    got.sort();
    assert_eq!(got, vec![0, 250, 1000, 1000]);
    // The copy beside the reports replays the same trace from anywhere.
    let copy = std::fs::read_to_string(out.join("scenario.toml")).unwrap_or_default();
    assert!(
        copy.contains(&format!("trace = \"{}\"", trace.display())),
        "{copy}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run writes every request it offered as a trace; replaying that trace offers the same
/// requests at the same offsets with the same sizes (a Poisson run with drawn sizes here),
/// and the same simulated mock answers them the same.
#[test]
fn a_run_written_as_a_trace_replays_the_same_requests() {
    let dir = folder("written");
    let first = dir.join("first");
    let run = keyrotor(
        &[
            "run",
            "--keys",
            "2",
            "--rate",
            "40/min",
            "-z",
            "2m",
            "--sim",
            "--write-trace",
            "--requests-csv",
        ],
        &first,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(first.join("trace.csv")).unwrap_or_default();
    assert!(
        written.starts_with("offset_s,prompt_tokens,max_tokens,model\n"),
        "{written}"
    );
    let again = dir.join("again");
    let trace = first.join("trace.csv");
    let replay = keyrotor(
        &[
            "run",
            "--keys",
            "2",
            "--trace",
            trace.to_str().unwrap_or_default(),
            "--requests-csv",
            "--write-trace",
        ],
        &again,
    );
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let offsets = |out: &Path| -> Vec<u64> { sent(out).into_iter().map(|(at, _)| at).collect() };
    assert!(offsets(&first).len() > 50, "{}", offsets(&first).len());
    assert_eq!(offsets(&first), offsets(&again));
    // The same requests to the same mock: the same answers, row for row.
    let rows = |out: &Path| std::fs::read_to_string(out.join("requests.csv")).unwrap_or_default();
    assert_eq!(rows(&first), rows(&again));
    // Written again by the replay, the trace is the same requests.
    let rewritten = std::fs::read_to_string(again.join("trace.csv")).unwrap_or_default();
    assert_eq!(written, rewritten);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_trace_stops_the_run_before_a_request_with_its_line_and_column() {
    let dir = folder("bad");
    let trace = dir.join("bad.csv");
    std::fs::write(&trace, TRACE.replace("2,80,40", "2,eighty,40"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let run = keyrotor(
        &["run", "--trace", trace.to_str().unwrap_or_default()],
        &out,
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bad.csv, line 4, column prompt_tokens: expected a whole number of tokens"),
        "{err}"
    );
    assert!(!out.join("report.json").exists(), "no run happened");
    let speed = keyrotor(&["run", "--speed", "2"], &out);
    assert_eq!(speed.status.code(), Some(2), "--speed needs --trace");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sweep over a trace scales the trace to each probed rate, its shape kept, and finds
/// more capacity with more keys (in separate organisations).
#[test]
fn a_sweep_scales_a_trace_to_each_rate() {
    let dir = folder("sweep");
    let mut rows = String::from("offset_s,prompt_tokens,completion_tokens\n");
    for i in 0..120 {
        // A burst in the second minute: 20 requests in the first, 100 in the second.
        let at = if i < 20 {
            i as f64 * 3.0
        } else {
            60.0 + (i - 20) as f64 * 0.6
        };
        rows.push_str(&format!("{at:.3},100,50\n"));
    }
    std::fs::write(dir.join("t.csv"), rows).unwrap_or_else(|e| panic!("{e}"));
    let scenario = dir.join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"s\"\n[keys]\ncount = 1\n[target]\nlimits = { rpm = 20 }\n[traffic]\narrival = \"trace\"\ntrace = \"t.csv\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let base =
        keyrotor::spec::scenario::Scenario::from_file(&scenario).unwrap_or_else(|e| panic!("{e}"));
    // 120 rows over 119.4 s: 60.3 req/min at scale 1, so 120.6 req/min is the trace twice.
    let doubled =
        keyrotor::studies::sweep::at_rate(&base, 2, 120.6).unwrap_or_else(|e| panic!("{e:#}"));
    let trace = doubled.traffic.trace().map(|t| t.scale);
    assert!(trace.is_some_and(|s| (s - 2.0).abs() < 0.01), "{trace:?}");
    let mut quiet = |_: usize, _: f64, _: Option<f64>| {};
    let swept = keyrotor::studies::sweep::sweep(&base, &[1, 3], &[], 0.9, &mut quiet)
        .unwrap_or_else(|e| panic!("{e:#}"));
    let capacity: Vec<f64> = swept.points.iter().map(|p| p.capacity_rpm).collect();
    assert!(
        capacity[0] > 0.0 && capacity[1] > 2.0 * capacity[0],
        "{capacity:?}"
    );
    assert_eq!(
        swept.run_span_s, 119.0,
        "the trace's span, in whole seconds"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Synthetic arrivals with sizes drawn from a trace: every request's prompt and max_tokens
/// is one the trace holds, and the report says which distribution it used.
#[test]
fn sizes_drawn_from_a_trace_are_the_traces_sizes() {
    let dir = folder("sizes");
    std::fs::write(dir.join("t.csv"), TRACE).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("s.toml"),
        "name = \"sizes\"\n[keys]\ncount = 3\n[traffic]\narrival = \"poisson\"\nrate = 60\nduration = \"3m\"\nprompt_tokens = { trace = \"t.csv\" }\ncompletion_tokens = { trace = \"t.csv\" }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dir.join("out");
    let scenario = dir.join("s.toml");
    let run = keyrotor(
        &[
            "run",
            scenario.to_str().unwrap_or_default(),
            "--write-trace",
        ],
        &out,
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(out.join("trace.csv")).unwrap_or_default();
    let mut prompts = std::collections::BTreeSet::new();
    let mut answers = std::collections::BTreeSet::new();
    for line in written.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        prompts.insert(cells[1].parse::<u64>().unwrap_or(0));
        answers.insert(cells[2].parse::<u64>().unwrap_or(0));
    }
    assert!(written.lines().count() > 100, "{written}");
    assert_eq!(prompts, [80, 90, 100, 120].into_iter().collect());
    assert_eq!(answers, [10, 40, 50, 60, 100].into_iter().collect());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap_or_default();
    assert!(
        report.contains("prompt tokens drawn from 5 sizes of")
            && report.contains("(median 100, mean 98.0, 80–120)"),
        "{report}"
    );
    // The copy beside the reports names the trace by an absolute path, so it replays.
    let copy = std::fs::read_to_string(out.join("scenario.toml")).unwrap_or_default();
    assert!(
        copy.contains(&format!("trace = \"{}\"", dir.join("t.csv").display())),
        "{copy}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
