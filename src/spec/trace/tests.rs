use super::*;

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrotor-trace-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn rows(trace: &Trace) -> Vec<TraceRow> {
    trace
        .rows()
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn error(trace: &Trace) -> String {
    match trace
        .rows()
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
    {
        Ok(rows) => panic!("accepted {} rows of {}", rows.len(), trace.path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_csv_trace_gives_each_request_its_offset_and_sizes() {
    let path = file(
        "a.csv",
        "offset_s,prompt_tokens,completion_tokens,model,user\n0,100,50,,u1\n1.5,80,0,openai/gpt-oss-20b,u2\n1.5,\"90\",7,,\n",
    );
    let got = rows(&Trace::new(&path));
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].at, Duration::ZERO);
    assert_eq!((got[0].prompt_tokens, got[0].max_tokens), (100, 50));
    assert_eq!(got[1].at, Duration::from_millis(1500));
    assert_eq!(
        got[1].max_tokens, 1,
        "an answer of 0 tokens still asks for one"
    );
    assert_eq!(got[1].model.as_deref(), Some("openai/gpt-oss-20b"));
    assert_eq!(got[2].model, None);
    assert_eq!(got[2].line, 4);
    let fast = rows(&Trace {
        speed: 2.0,
        ..Trace::new(&path)
    });
    assert_eq!(
        fast[1].at,
        Duration::from_millis(750),
        "speed 2 halves the offsets"
    );
}

#[test]
fn jsonl_with_timestamps_and_prompt_text_replays_from_the_first_row() {
    let path = file(
        "b.jsonl",
        "{\"timestamp\": \"2026-12-01T10:00:00Z\", \"prompt\": \"abcdefgh\", \"max_tokens\": 20}\n\n{\"timestamp\": \"2026-12-01T10:00:02.5+00:00\", \"prompt_tokens\": 12, \"completion_tokens\": 5}\n",
    );
    let got = rows(&Trace::new(&path));
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].prompt_tokens,
        3 + 4 + 2,
        "the mock's count of the text"
    );
    assert_eq!(got[0].max_tokens, 20);
    assert_eq!(got[1].at, Duration::from_millis(2500));
    assert_eq!(got[1].line, 3, "blank lines count");
}

/// A nested JSON log (or OpenAI's batch lines with a time added): dotted paths reach into
/// objects, and a `messages` array is counted message by message as the mock counts it.
#[test]
fn dotted_paths_read_nested_json_and_messages_count_as_the_mock_counts() {
    let path = file(
        "nested.jsonl",
        "{\"ts\": 0.5, \"body\": {\"max_tokens\": 30, \"messages\": [{\"role\": \"system\", \"content\": \"abcd\"}, {\"role\": \"user\", \"content\": \"abcdefgh\"}]}}\n",
    );
    let columns =
        Columns::parse_flag("offset_s=ts,prompt=body.messages,max_tokens=body.max_tokens")
            .unwrap_or_else(|e| panic!("{e}"));
    let got = rows(&Trace {
        columns,
        ..Trace::new(&path)
    });
    assert_eq!(got[0].at, Duration::from_millis(500));
    assert_eq!(got[0].prompt_tokens, 3 + (4 + 1) + (4 + 2));
    assert_eq!(got[0].max_tokens, 30);
}

/// LiteLLM's spend logs name the fields their own way; a column map reads them.
#[test]
fn a_column_map_reads_another_layout() {
    let path = file(
        "spend.csv",
        "request_id,startTime,model,prompt_tokens,completion_tokens,spend\nr1,2026-12-01 10:00:00,gpt,10,5,0\nr2,2026-12-01 10:01:00.500,gpt,11,6,0\n",
    );
    let columns = Columns::parse_flag("timestamp=startTime").unwrap_or_else(|e| panic!("{e}"));
    let got = rows(&Trace {
        columns,
        ..Trace::new(&path)
    });
    assert_eq!(got[1].at, Duration::from_millis(60_500));
    assert!(Columns::parse_flag("when=startTime").is_err());
    assert!(Columns::parse_flag("timestamp").is_err());
}

/// Each bad row is refused with the file, its line and its column.
#[test]
fn a_bad_row_names_its_line_and_column() {
    let head = "offset_s,prompt_tokens,completion_tokens\n";
    let cases = [
        (
            format!("{head}0,10,5\n1,ten,5\n"),
            "line 3, column prompt_tokens: expected a whole number",
        ),
        (
            format!("{head}0,10,5\n1,10,5\n0.5,10,5\n"),
            "line 4, column offset_s: rows must be in time order",
        ),
        (
            format!("{head}0,10,5\n-1,10,5\n"),
            "line 3, column offset_s: expected seconds",
        ),
        (
            format!("{head}0,2000000,5\n"),
            "line 2, column prompt_tokens: expected a whole number of tokens from 1 to 1000000",
        ),
        (
            format!("{head}0,10\n"),
            "line 2, column -: 2 fields where the header has 3",
        ),
        (
            format!("{head}0,,5\n"),
            "line 2, column prompt_tokens: missing",
        ),
        (
            "when,prompt_tokens,completion_tokens\n0,1,1\n".to_owned(),
            "line 1, column offset_s or timestamp: the header has no column",
        ),
        (format!("{head}99999999,10,5\n"), "past the longest run"),
        (
            head.to_string(),
            "line 1, column -: the trace has no requests",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let trace = Trace::new(&file(&format!("bad{i}.csv"), text));
        let shown = match scan(&trace) {
            Ok(s) => panic!("accepted {s:?}, expected {expected:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            shown.starts_with(&trace.path.display().to_string()) && shown.contains(expected),
            "{shown}\nexpected {expected:?}"
        );
    }
    let json = Trace::new(&file(
        "bad.jsonl",
        "{\"offset_s\": 0, \"prompt_tokens\": 1, \"max_tokens\": 1}\n[1, 2]\n",
    ));
    assert!(
        error(&json).contains("line 2, column character"),
        "{}",
        error(&json)
    );
}

#[test]
fn devices_directories_and_endless_rows_are_refused() {
    let zero = Trace::new(Path::new("/dev/zero"));
    assert!(
        error(&zero).contains("not a regular file"),
        "{}",
        error(&zero)
    );
    let dir = Trace::new(&std::env::temp_dir());
    assert!(error(&dir).contains("not a regular file"));
    let endless = format!(
        "offset_s,prompt_tokens,completion_tokens\n0,1,\"{}\"\n",
        "9".repeat(9 << 20)
    );
    let trace = Trace::new(&file("endless.csv", &endless));
    assert!(
        error(&trace).contains("a row longer than 8 MiB"),
        "{}",
        error(&trace)
    );
}

#[test]
fn a_scan_summarises_the_sizes_it_replays() {
    let path = file(
        "c.csv",
        "offset_s,prompt_tokens,max_tokens\n0,100,10\n4,300,30\n",
    );
    let s = scan(&Trace::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.rows, 2);
    assert_eq!(s.span, Duration::from_secs(4));
    assert_eq!(
        s.prompt_tokens,
        Spread {
            min: 100,
            mean: 200.0,
            max: 300
        }
    );
    assert_eq!(s.max_tokens.mean, 20.0);
}
