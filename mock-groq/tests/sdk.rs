//! The official `groq` and `openai` Python SDKs call the mock over loopback
//! (tests/sdk/check_sdks.py): a completion, a stream with usage, a 429 raised as
//! RateLimitError and retried after `retry-after`, a 401.
//!
//! Needs python3 with the SDKs: `pip install -r mock-groq/tests/sdk/requirements.txt`
//! (.ci/run does this). Set `KEYROTOR_PYTHON` to use another interpreter.

mod common;

use std::process::Command;

#[tokio::test]
async fn official_python_sdks_work_against_the_mock() {
    // The limited organisation may send 1 request per minute; at 30× a minute is 2 s.
    let server = common::start(
        r#"
time_scale = 30.0
[latency]
queue = "1ms"
[[orgs]]
id = "org_ok"
keys = ["gsk_sdk_ok"]
[[orgs]]
id = "org_limited"
keys = ["gsk_sdk_limited"]
limits = { rpm = 1 }
"#,
    )
    .await;
    let python = std::env::var("KEYROTOR_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/check_sdks.py");
    let url = server.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(script)
            .env("MOCK_URL", url)
            .env("MOCK_OK_KEY", "gsk_sdk_ok")
            .env("MOCK_LIMITED_KEY", "gsk_sdk_limited")
            .output()
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install it and `pip install -r mock-groq/tests/sdk/requirements.txt`"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK checks failed (missing SDKs? `pip install -r mock-groq/tests/sdk/requirements.txt`)\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("ok   groq retries after retry-after"),
        "{stdout}"
    );
}
