//! What each fuzz target checks, shared by the cargo-fuzz targets (fuzz/fuzz_targets/) and by
//! the corpus replay test (tests/fuzz_corpus.rs), so every input the fuzzer ever kept is
//! checked again by `cargo test` on stable. Each function panics only when the code under
//! test breaks one of its promises: no panic on any input, and the invariants asserted here.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body_util::BodyExt;
use keyrotor::engine::failure::{self, Failure};
use keyrotor::engine::transport::http::wire::{self, Body as WireBody};
use keyrotor::engine::transport::{Reply, Transport, TransportError};
use keyrotor::engine::{ApiKey, ChatRequest, PolicyConfig, Rotor, RotorOptions};
use keyrotor::spec::scenario::Scenario;
use tower::ServiceExt;

/// The names of the targets, as directories of fuzz/corpus/.
pub const TARGETS: [&str; 11] = [
    "scenario",
    "classifier",
    "engine_answers",
    "mock_request",
    "wire_answer",
    "claims_file",
    "keys_file",
    "redaction",
    "catalog_file",
    "trace_file",
    "providers_file",
];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "scenario" => scenario(data),
        "classifier" => classifier(data),
        "engine_answers" => engine_answers(data),
        "mock_request" => mock_request(data),
        "wire_answer" => wire_answer(data),
        "claims_file" => claims_file(data),
        "keys_file" => keys_file(data),
        "redaction" => redaction(data),
        "catalog_file" => catalog_file(data),
        "trace_file" => trace_file(data),
        "providers_file" => providers_file(data),
        _ => panic!("no fuzz target `{name}`"),
    }
}

/// Header lines (`name: value`, one per line) up to the first blank line, then the body.
fn head_and_body(data: &[u8]) -> (HeaderMap, &[u8]) {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(name, value);
        }
    }
    (headers, body)
}

/// An answer: 2 bytes giving a status in 100..600, header lines, a blank line, the body.
fn answer(data: &[u8]) -> Option<(u16, HeaderMap, &[u8])> {
    let (status, rest) = data.split_first_chunk::<2>()?;
    let status = 100 + u16::from_be_bytes(*status) % 500;
    let (headers, body) = head_and_body(rest);
    Some((status, headers, body))
}

/// Scenario text: parsing and validation never panic; a scenario that passes validation can
/// be turned into everything a run needs (its mock, its arrivals, its quota statement), and
/// runs on a paused clock without a panic, accounting for every request (offered =
/// succeeded + failed + dropped). The run is cut to 50 requests within one simulated hour
/// so each input stays fast and small; the ranges validation enforces bound the rest.
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scenario) = Scenario::from_toml(text) else {
        return;
    };
    let orgs = scenario.keys.org_of_each();
    assert_eq!(orgs.len(), scenario.keys.count.0);
    let _ = scenario.engine.timeouts();
    let _ = keyrotor::run::quota_statement(&scenario);
    let keys = keyrotor::spec::scenario::mock_keys(scenario.keys.count.0.min(64));
    if keys.len() == scenario.keys.count.0 {
        let config = keyrotor::spec::scenario::mock_config(&scenario, &keys);
        let _ = mock_groq::router(config);
    }
    let mut last = Duration::ZERO;
    for at in keyrotor::drive::workload::Arrivals::new(&scenario.traffic, scenario.seed).take(200) {
        assert!(
            at >= last,
            "arrivals go back in time: {at:?} after {last:?}"
        );
        last = at;
    }
    run_briefly(scenario);
}

/// Runs `scenario` in simulation, cut to 50 requests within an hour, and checks the report.
fn run_briefly(mut scenario: Scenario) {
    if scenario.target.url().is_some() {
        return;
    }
    scenario.mode = keyrotor::spec::scenario::Mode::Sim;
    let t = &mut scenario.traffic;
    t.requests = Some(keyrotor::spec::scenario::Count(
        t.requests.map_or(50, |n| n.0.min(50)),
    ));
    t.duration = Some(t.duration.map_or(Duration::from_secs(3600), |d| {
        d.min(Duration::from_secs(3600))
    }));
    t.interval = t.interval.max(Duration::from_secs(1));
    if scenario.validate().is_err() {
        return;
    }
    let finished = keyrotor::run::run(
        &scenario,
        keyrotor::run::RunOptions::default(),
        &keyrotor::drive::driver::NoProgress,
    )
    .unwrap_or_else(|e| panic!("a valid scenario failed to run: {e}"));
    let s = &finished.report.summary;
    assert!(
        finished.report.error.is_none(),
        "{:?}",
        finished.report.error
    );
    assert_eq!(s.offered, s.succeeded + s.failed + s.dropped, "{s:?}");
    assert!(s.offered <= 50, "{s:?}");
}

/// An HTTP answer (2 bytes of status, header lines, blank line, body): classification never
/// panics and agrees with the status; everything derived from it is well-formed.
pub fn classifier(data: &[u8]) {
    let Some((status, headers, body)) = answer(data) else {
        return;
    };
    let failure = failure::classify(status, &headers, body);
    let success = (200..300).contains(&status);
    // A 2xx fails only as a stream broken off by an error event, or as no answer at all.
    let answer_failure = matches!(
        failure,
        Some(Failure::StreamError | Failure::MalformedAnswer)
    );
    assert!(
        failure.is_none() == success || answer_failure && success,
        "{status}: {failure:?}"
    );
    if let Some(failure) = &failure {
        assert_eq!(failure.is_rate_limit(), status == 429);
        assert!(!failure.reason().is_empty());
        if let Failure::RateLimited {
            wait: Some(wait), ..
        } = failure
        {
            assert_eq!(failure.wait(), Some(*wait));
        }
        let text = failure::sdk_error_text(failure, Some(status), body);
        assert!(!text.is_empty());
        let _ = failure::naive_is_rate_limit(&text);
    }
    for value in headers.values() {
        if let Ok(text) = value.to_str()
            && let Some(d) = groq_wire::goduration::parse(text.trim())
        {
            // Whatever parses comes back from Go's own format of it.
            let again = groq_wire::goduration::parse(&mock_groq::goduration::format(d));
            let again = again.unwrap_or_else(|| panic!("{d:?} does not round-trip"));
            assert!(
                again.abs_diff(d) <= Duration::from_millis(1),
                "{d:?} vs {again:?}"
            );
        }
    }
}

const MOCK: &str = r#"
seed = 1
[latency]
enabled = false
[[orgs]]
id = "fuzz"
keys = ["k_fuzz"]
limits = { rpm = 0, rpd = 0, tpm = 0, tpd = 0 }
"#;

thread_local! {
    static MOCK_ROUTER: (tokio::runtime::Runtime, axum::Router) = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let config = mock_groq::Config::from_toml(MOCK).unwrap_or_else(|e| panic!("{e}"));
        let router = runtime
            .block_on(async { mock_groq::router(config) })
            .unwrap_or_else(|e| panic!("{e}"));
        (runtime, router)
    };
}

/// A request to the mock (1 byte choosing method, path and whether to authenticate, header
/// lines, blank line, body): the mock never fails (no faults are configured, so no 5xx), and
/// every chat answer is what Groq's clients expect — a completion, a stream that ends in
/// `[DONE]`, or an error body with `error.message` and `error.type`.
pub fn mock_request(data: &[u8]) {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (method, path) = match choice % 8 {
        0..=4 => (Method::POST, "/openai/v1/chat/completions"),
        5 => (Method::GET, "/openai/v1/models"),
        6 => (Method::GET, "/admin/state"),
        _ => (Method::GET, "/openai/v1/chat/completions"),
    };
    let (mut headers, body) = head_and_body(rest);
    if choice & 0x80 == 0 {
        headers.insert("authorization", HeaderValue::from_static("Bearer k_fuzz"));
    }
    let mut request = Request::new(Body::from(body.to_vec()));
    *request.method_mut() = method.clone();
    *request.uri_mut() = axum::http::Uri::from_static(path);
    *request.headers_mut() = headers;
    MOCK_ROUTER.with(|(runtime, router)| {
        runtime.block_on(async {
            let response = router
                .clone()
                .oneshot(request)
                .await
                .unwrap_or_else(|e| match e {});
            let status = response.status().as_u16();
            assert!(status < 500, "{method} {path} answered {status}");
            let answer = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            if method != Method::POST {
                return;
            }
            if status == 200 {
                let text = String::from_utf8_lossy(&answer);
                if text.starts_with("data: ") {
                    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
                } else {
                    let json: serde_json::Value =
                        serde_json::from_slice(&answer).unwrap_or_else(|e| panic!("{e}: {text}"));
                    assert!(
                        json["choices"][0]["message"]["content"].is_string(),
                        "{text}"
                    );
                    assert!(json["usage"]["total_tokens"].is_u64(), "{text}");
                }
            } else {
                let json: serde_json::Value =
                    serde_json::from_slice(&answer).unwrap_or_else(|e| panic!("{status}: {e}"));
                assert!(json["error"]["message"].is_string(), "{json}");
                assert!(json["error"]["type"].is_string(), "{json}");
            }
        });
    });
}

/// Bytes from a server (the first byte says whether it has closed the connection): the
/// HTTP/1.1 answer parser never panics, never reads past the buffer, and parses the same
/// answer again when more bytes follow it.
pub fn wire_answer(data: &[u8]) {
    let Some((&flags, buf)) = data.split_first() else {
        return;
    };
    let closed = flags & 1 == 1;
    let Ok(Some(answer)) = wire::parse_answer(buf, closed) else {
        return;
    };
    assert!(answer.consumed <= buf.len());
    assert!((100..1000).contains(&answer.status) && !(100..200).contains(&answer.status));
    if let WireBody::Within(range) = &answer.body {
        assert!(range.start <= range.end && range.end <= answer.consumed);
    }
    if !closed && answer.keep_alive {
        let mut longer = buf[..answer.consumed].to_vec();
        longer.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        assert_eq!(wire::parse_answer(&longer, false), Ok(Some(answer)));
    }
}

/// Answers a fuzz input scripts, in turn: statuses 100..=149 stand for a timeout and
/// 150..=199 for a dropped connection.
struct Scripted {
    answers: Vec<(u16, HeaderMap, Vec<u8>)>,
    next: std::sync::atomic::AtomicUsize,
}

impl Transport for Scripted {
    async fn send(&self, _: &ApiKey, _: axum::body::Bytes) -> Result<Reply, TransportError> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (status, headers, body) = &self.answers[i % self.answers.len()];
        match status {
            100..=149 => Err(TransportError::Timeout),
            150..=199 => Err(TransportError::Connection("dropped".to_owned())),
            _ => Ok(Reply {
                status: *status,
                headers: headers.clone(),
                body: axum::body::Bytes::from(body.clone()),
            }),
        }
    }
}

/// Keys of the engine target: never to be seen in a status snapshot.
const ENGINE_KEYS: [&str; 4] = ["gsk_fuzz_a", "gsk_fuzz_b", "gsk_fuzz_c", "gsk_fuzz_d"];

/// Scripted answers through a whole Rotor (1 byte choosing the policy and the key count,
/// then answers as in `classifier`, separated by `\n==\n`), on a paused clock: whatever
/// the server says, `send` ends within its deadline, succeeds only on a 2xx, keeps its trace
/// consistent, and the status snapshot never shows a key.
pub fn engine_answers(data: &[u8]) {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let presets = PolicyConfig::presets();
    let policy = presets[usize::from(choice) % presets.len()].default.clone();
    let keys = 1 + usize::from(choice >> 4) % ENGINE_KEYS.len();
    let mut answers = Vec::new();
    let mut tail = rest;
    loop {
        let cut = tail.windows(4).position(|w| w == b"\n==\n");
        let (one, more) = match cut {
            Some(i) => (&tail[..i], Some(&tail[i + 4..])),
            None => (tail, None),
        };
        if let Some((status, headers, body)) = answer(one) {
            answers.push((status, headers, body.to_vec()));
        }
        match more {
            Some(more) if answers.len() < 64 => tail = more,
            _ => break,
        }
    }
    if answers.is_empty() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let transport = Scripted {
            answers,
            next: Default::default(),
        };
        let options = RotorOptions {
            deadline: Duration::from_secs(120),
            budget: (choice & 8 != 0).then_some(Duration::from_secs(2)),
            seed: u64::from(choice),
        };
        let keys: Vec<ApiKey> = ENGINE_KEYS[..keys]
            .iter()
            .map(|k| ApiKey::new(*k))
            .collect();
        let rotor =
            Rotor::new(keys.clone(), policy, transport, options).unwrap_or_else(|e| panic!("{e}"));
        let request = ChatRequest::synthetic("openai/gpt-oss-120b", 50, 20, false);
        for _ in 0..4 {
            let started = tokio::time::Instant::now();
            let sent = rotor.send(&request).await;
            // The deadline bounds waiting; one more attempt may start just before it.
            assert!(started.elapsed() <= options.deadline + Duration::from_secs(1));
            let attempts = &sent.trace.attempts;
            for a in attempts {
                assert!(a.key < keys.len() && a.start <= a.end && a.end <= sent.trace.total);
            }
            match &sent.outcome {
                Ok(reply) => {
                    assert!((200..300).contains(&reply.status));
                    assert!(attempts.last().is_some_and(|a| a.failure.is_none()));
                }
                Err(_) => assert!(attempts.iter().all(|a| a.failure.is_some())),
            }
        }
        let status = serde_json::to_string(&rotor.status()).unwrap_or_else(|e| panic!("{e}"));
        for key in ENGINE_KEYS {
            assert!(!status.contains(key), "the status shows a key: {status}");
        }
    });
}

/// A claims file's text, as if read from a folder holding one scenario file: parsing never
/// panics; a file that parses has 1 to 1,000 claims with distinct ids, each with a scenario
/// that passes validation.
pub fn claims_file(data: &[u8]) {
    use keyrotor::studies::claims::ClaimsFile;
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("keyrotor-fuzz-claims-{}", std::process::id()));
        let _ = std::fs::create_dir_all(dir.join("inner"));
        let scenario = "name = \"s\"\n[keys]\ncount = 2\n[traffic]\narrival = \"constant\"\nrate = 60\nduration = \"1m\"\n";
        let _ = std::fs::write(dir.join("inner/s.toml"), scenario);
        dir
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = ClaimsFile::from_toml(text, &dir.join("inner/claims.toml"), None) else {
        return;
    };
    assert!((1..=1000).contains(&file.claims.len()));
    let mut ids: Vec<&str> = file.claims.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), file.claims.len(), "ids are distinct");
    for claim in &file.claims {
        assert!(
            claim.scenario.validate().is_ok(),
            "claim {} has an invalid scenario",
            claim.id
        );
    }
}

/// A key file's text: parsing never panics; the keys it yields are distinct, non-empty and
/// trimmed. (An error about a line cannot repeat its text: `KeyError::Line` holds only
/// the path, the number and a `&'static str`.)
pub fn keys_file(data: &[u8]) {
    use keyrotor::engine::keys::from_text_named;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(loaded) = from_text_named(text, std::path::Path::new("fuzz.keys"), "GROQ_API_KEY")
    else {
        return;
    };
    assert!(!loaded.keys.is_empty());
    for (i, key) in loaded.keys.iter().enumerate() {
        let value = key.expose();
        assert!(
            !value.is_empty() && value.trim() == value,
            "key {i} untrimmed"
        );
        assert!(!loaded.keys[..i].contains(key), "key {i} repeated");
    }
}

/// Any text through the redaction rule: never panics, leaves no key-shaped word and no URL
/// user-info, and redacting twice changes nothing more.
pub fn redaction(data: &[u8]) {
    use groq_wire::secret::redact;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let once = redact(text).into_owned();
    assert_eq!(redact(&once), once, "redaction is idempotent");
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    for w in once.split(|c: char| !word(c)) {
        for prefix in ["gsk_", "sk-", "AIza", "csk-", "xai-"] {
            assert!(
                w.strip_prefix(prefix).is_none_or(|t| t.len() < 16),
                "a key-shaped word is left: {w}"
            );
        }
    }
    let mut rest = once.as_str();
    while let Some(at) = rest.find("://") {
        rest = &rest[at + 3..];
        let authority = rest
            .split(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .next()
            .unwrap_or_default();
        if let Some((user, _)) = authority.rsplit_once('@') {
            assert!(user.ends_with("***"), "user-info left in {authority}");
        }
    }
}

/// A catalog file (`--catalog FILE`): refused with a message naming the file, or loaded
/// with every figure in its documented range, every model's source and replacement resolved,
/// its days in order and its default model in it.
pub fn catalog_file(data: &[u8]) {
    use groq_wire::catalog::Catalog;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let catalog = match Catalog::from_toml(text, "fuzz.toml") {
        Ok(catalog) => catalog,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
            return;
        }
    };
    assert!(catalog.model(&catalog.recommended).is_some());
    for m in &catalog.models {
        let limits = [m.free.rpm, m.free.rpd, m.free.tpm, m.free.tpd];
        assert!(
            limits
                .iter()
                .flatten()
                .all(|&v| (1..=1_000_000_000_000).contains(&v))
        );
        assert!((1..=1_000_000_000_000).contains(&m.context_window));
        assert!(m.decode_tps.is_finite() && m.decode_tps > 0.0 && m.prefill_tps > 0.0);
        assert!(catalog.sources.contains(&m.limits_source));
        assert_eq!(m.price.is_some(), m.price_source.is_some());
        assert!(
            m.replacement
                .as_deref()
                .is_none_or(|r| catalog.find(r).is_some())
        );
        let days = [m.since, m.deprecated, m.decommissioned];
        let known: Vec<_> = days.iter().flatten().collect();
        assert!(known.windows(2).all(|w| w[0] <= w[1]), "{}", m.id);
        let _ = m.availability(jiff::civil::date(2026, 12, 7)).to_string();
    }
    let _ = catalog.staleness(jiff::civil::date(2100, 1, 1));
}

/// A trace (`--trace FILE`), as CSV and as JSON Lines: rows come in time order with sizes
/// in range, each from a later line than the one before, or the reading stops at an error
/// naming the file and a line; nothing is read past the first error.
pub fn trace_file(data: &[u8]) {
    use keyrotor::spec::trace::{Trace, TraceReader};
    for jsonl in [false, true] {
        let trace = Trace {
            speed: 1.5,
            ..Trace::new(std::path::Path::new("fuzz.csv"))
        };
        let input = Box::new(std::io::Cursor::new(data.to_vec()));
        let reader = match TraceReader::from_reader(input, "fuzz.csv", jsonl, &trace) {
            Ok(reader) => reader,
            Err(e) => {
                assert!(e.to_string().starts_with("fuzz.csv"), "{e}");
                continue;
            }
        };
        let (mut last_at, mut last_line) = (std::time::Duration::ZERO, 0);
        let mut failed = false;
        for row in reader {
            assert!(!failed, "a row after an error");
            match row {
                Ok(row) => {
                    assert!(row.at >= last_at, "out of order");
                    assert!(row.line > last_line, "line {} after {last_line}", row.line);
                    assert!((1..=1_000_000).contains(&row.prompt_tokens));
                    assert!((1..=1_000_000).contains(&row.max_tokens));
                    assert!(row.at <= std::time::Duration::from_secs(30 * 86_400));
                    (last_at, last_line) = (row.at, row.line);
                }
                Err(e) => {
                    assert!(e.to_string().starts_with("fuzz.csv"), "{e}");
                    failed = true;
                }
            }
        }
    }
}

/// A provider profiles file (the format of groq-wire/catalog/providers.toml): refused with
/// its origin named, or every profile cites a source, every published figure is in range,
/// every header span names one of its windows, and a fixed window's next reset comes after
/// now and within a day and a daylight-saving hour.
pub fn providers_file(data: &[u8]) {
    use groq_wire::providers::{Dimension, Profiles};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profiles = match Profiles::from_toml(text, "fuzz.toml") {
        Ok(profiles) => profiles,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
            return;
        }
    };
    let moments = [
        "2026-03-08T09:30:00Z",
        "2026-11-01T08:30:00Z",
        "2026-12-07T23:59:59Z",
    ];
    for p in profiles.iter() {
        assert!(!p.sources.is_empty(), "{}", p.id);
        assert!(p.budgets(5, 2) <= 5);
        for w in &p.windows {
            assert!(w.free.is_none_or(|v| (1..=1_000_000_000_000).contains(&v)));
            for now in moments {
                let Ok(now) = now.parse::<jiff::Timestamp>() else {
                    continue;
                };
                if let Some(next) = w.next_reset(now) {
                    let wait = next.duration_since(now);
                    assert!(
                        wait > jiff::SignedDuration::ZERO,
                        "{}: {next} after {now}",
                        p.id
                    );
                    assert!(
                        wait <= jiff::SignedDuration::from_hours(25),
                        "{}: {wait:?}",
                        p.id
                    );
                }
            }
        }
        let h = &p.headers;
        for (span, dimension) in [
            (h.requests_span, Dimension::Requests),
            (h.tokens_span, Dimension::Tokens),
        ] {
            assert!(
                span.is_none_or(|s| p.window(dimension, s).is_some()),
                "{}",
                p.id
            );
        }
        assert!((400..=599).contains(&p.errors.rate_limited));
    }
}
