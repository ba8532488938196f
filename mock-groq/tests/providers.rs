//! The mock speaking each provider's profile over loopback HTTP: its path, its 429 body and
//! headers, and the scope of its limits (N keys in one scope serve what one key does).

mod common;

use common::{json, start};
use serde_json::{Value, json};

/// Noon Pacific (20:00 UTC) on 2026-12-07: midnight Pacific is 12 hours on, midnight UTC 4.
const NOON_PACIFIC: u64 = 1_796_673_600;

fn config(provider: &str, model: &str, scopes: &[(&str, &[&str], &str)]) -> String {
    let mut text = format!(
        "provider = \"{provider}\"\nmodels = [\"{model}\"]\nstart_unix = {NOON_PACIFIC}\n[latency]\nenabled = false\n"
    );
    for (id, keys, limits) in scopes {
        let keys: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
        text.push_str(&format!(
            "[[orgs]]\nid = \"{id}\"\nkeys = [{}]\n{limits}\n",
            keys.join(", ")
        ));
    }
    text
}

async fn post(url: &str, path: &str, key: &str, model: &str) -> reqwest::Response {
    let body =
        json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20});
    reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"))
}

/// Sends `n` requests spread over `keys` in turn; the statuses in order.
async fn statuses(url: &str, path: &str, keys: &[&str], model: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let response = post(url, path, keys[i % keys.len()], model).await;
        out.push(response.status().as_u16());
    }
    out
}

fn ok(statuses: &[u16]) -> usize {
    statuses.iter().filter(|s| **s == 200).count()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    let value = response.headers().get(name)?;
    value.to_str().ok().map(str::to_owned)
}

const GEMINI_PATH: &str = "/v1beta/openai/chat/completions";
const FLASH: &str = "gemini-2.5-flash";

#[tokio::test]
async fn gemini_limits_belong_to_the_project_and_speak_googles_429() {
    let keys: &[&str] = &["AIza_a1", "AIza_a2", "AIza_a3"];
    // Three keys in one project, 2 requests a minute: six requests, two served.
    let one = start(&config(
        "gemini",
        FLASH,
        &[("proj_a", keys, "limits = { rpm = 2 }")],
    ))
    .await;
    let served = statuses(&one.url, GEMINI_PATH, keys, FLASH, 6).await;
    assert_eq!(ok(&served), 2, "{served:?}");
    // The same keys in three projects: all six served.
    let three = start(&config(
        "gemini",
        FLASH,
        &[
            ("proj_a", &["AIza_a1"], "limits = { rpm = 2 }"),
            ("proj_b", &["AIza_a2"], "limits = { rpm = 2 }"),
            ("proj_c", &["AIza_a3"], "limits = { rpm = 2 }"),
        ],
    ))
    .await;
    let served = statuses(&three.url, GEMINI_PATH, keys, FLASH, 6).await;
    assert_eq!(ok(&served), 6, "{served:?}");

    // The per-minute 429: Google's body in a list, the wait in RetryInfo, no headers.
    let limited = post(&one.url, GEMINI_PATH, "AIza_a1", FLASH).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(header(&limited, "retry-after"), None);
    assert_eq!(header(&limited, "x-ratelimit-limit-requests"), None);
    let body: Value = json(limited).await;
    let error = &body[0]["error"];
    assert_eq!(error["code"], 429, "{body}");
    assert_eq!(error["status"], "RESOURCE_EXHAUSTED");
    let details = error["details"].as_array().cloned().unwrap_or_default();
    let of = |kind: &str| {
        details
            .iter()
            .find(|d| d["@type"].as_str().is_some_and(|t| t.ends_with(kind)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let violation = &of("QuotaFailure")["violations"][0];
    assert_eq!(
        violation["quotaId"],
        "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    );
    assert_eq!(violation["quotaDimensions"]["model"], FLASH);
    assert_eq!(violation["quotaValue"], "2");
    assert_eq!(
        of("RetryInfo")["retryDelay"],
        "30s",
        "one of 2 a minute refills in 30 s"
    );
    // Groq's path is not Gemini's.
    let wrong = post(&one.url, "/openai/v1/chat/completions", "AIza_a1", FLASH).await;
    assert_eq!(wrong.status(), 404);
}

#[tokio::test]
async fn geminis_daily_quota_comes_back_at_midnight_pacific() {
    let server = start(&config(
        "gemini",
        FLASH,
        &[("proj_a", &["AIza_a1"], "limits = { rpd = 1 }")],
    ))
    .await;
    assert_eq!(
        post(&server.url, GEMINI_PATH, "AIza_a1", FLASH)
            .await
            .status(),
        200
    );
    let limited = post(&server.url, GEMINI_PATH, "AIza_a1", FLASH).await;
    assert_eq!(limited.status(), 429);
    let body: Value = json(limited).await;
    let details = body[0]["error"]["details"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let quota = details
        .iter()
        .find_map(|d| d["violations"][0]["quotaId"].as_str().map(str::to_owned));
    assert_eq!(
        quota.as_deref(),
        Some("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    );
    let delay = details
        .iter()
        .find_map(|d| d["retryDelay"].as_str().map(str::to_owned));
    // From noon Pacific to midnight Pacific: 12 hours.
    assert_eq!(delay.as_deref(), Some("43200s"), "{body}");
}

const OPENROUTER_PATH: &str = "/api/v1/chat/completions";
const FREE_MODEL: &str = "meta-llama/llama-3.3-70b-instruct:free";

#[tokio::test]
async fn openrouter_keys_share_the_accounts_free_caps() {
    let keys: &[&str] = &["sk-or-v1-a", "sk-or-v1-b", "sk-or-v1-c"];
    // No limits set: the profile's free caps, 20 a minute and 50 a day, for the account.
    let server = start(&config("openrouter", FREE_MODEL, &[("acct", keys, "")])).await;
    let served = statuses(&server.url, OPENROUTER_PATH, keys, FREE_MODEL, 21).await;
    assert_eq!(
        ok(&served),
        20,
        "three keys of one account serve one account's 20: {served:?}"
    );
    let first = post(&server.url, OPENROUTER_PATH, "sk-or-v1-b", FREE_MODEL).await;
    assert_eq!(first.status(), 429);
    assert!(header(&first, "retry-after").is_some());
    // The headers (on errors only) describe the day: 50, of which 30 remain.
    assert_eq!(header(&first, "x-ratelimit-limit").as_deref(), Some("50"));
    assert_eq!(
        header(&first, "x-ratelimit-remaining").as_deref(),
        Some("30")
    );
    let body: Value = json(first).await;
    assert_eq!(body["error"]["code"], 429, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("free-models-per-min")),
        "{body}"
    );
    assert_eq!(body["user_id"], "user_acct");
}

#[tokio::test]
async fn openrouters_daily_cap_resets_at_midnight_utc_and_says_so() {
    let server = start(&config(
        "openrouter",
        FREE_MODEL,
        &[("acct", &["sk-or-v1-a"], "limits = { rpd = 2 }")],
    ))
    .await;
    let answered = post(&server.url, OPENROUTER_PATH, "sk-or-v1-a", FREE_MODEL).await;
    assert_eq!(answered.status(), 200);
    assert_eq!(
        header(&answered, "x-ratelimit-limit"),
        None,
        "headers on errors only"
    );
    assert_eq!(
        post(&server.url, OPENROUTER_PATH, "sk-or-v1-a", FREE_MODEL)
            .await
            .status(),
        200
    );
    let limited = post(&server.url, OPENROUTER_PATH, "sk-or-v1-a", FREE_MODEL).await;
    assert_eq!(limited.status(), 429);
    let midnight_utc = (NOON_PACIFIC + 4 * 3600).to_string();
    assert_eq!(
        header(&limited, "x-ratelimit-reset").as_deref(),
        Some(midnight_utc.as_str())
    );
    let body: Value = json(limited).await;
    let said = &body["error"]["metadata"]["headers"];
    assert_eq!(said["X-RateLimit-Limit"], "2", "{body}");
    assert_eq!(said["X-RateLimit-Remaining"], "0");
    assert_eq!(said["X-RateLimit-Reset"], midnight_utc.as_str());
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Rate limit exceeded: free-models-per-day")),
        "{body}"
    );
}

#[tokio::test]
async fn cerebras_writes_its_headers_on_every_answer_and_its_flat_429() {
    let keys: &[&str] = &["csk-a", "csk-b"];
    let server = start(&config(
        "cerebras",
        "gpt-oss-120b",
        &[("org_c", keys, "limits = { rpm = 3, rpd = 1000 }")],
    ))
    .await;
    let path = "/v1/chat/completions";
    let first = post(&server.url, path, "csk-a", "gpt-oss-120b").await;
    assert_eq!(first.status(), 200);
    // The organisation's day (1,000 requests, set: the free tier has no daily request
    // figure) and the profile's free minute of tokens (30,000).
    assert_eq!(
        header(&first, "x-ratelimit-limit-requests-day").as_deref(),
        Some("1000")
    );
    assert_eq!(
        header(&first, "x-ratelimit-remaining-requests-day").as_deref(),
        Some("999")
    );
    assert_eq!(
        header(&first, "x-ratelimit-limit-tokens-minute").as_deref(),
        Some("30000")
    );
    let reset = header(&first, "x-ratelimit-reset-tokens-minute").unwrap_or_default();
    assert!(
        reset.parse::<f64>().is_ok_and(|s| s > 0.0 && s <= 60.0),
        "seconds: {reset}"
    );
    let served = statuses(&server.url, path, keys, "gpt-oss-120b", 4).await;
    assert_eq!(
        ok(&served),
        2,
        "two keys of one organisation share its 3 a minute: {served:?}"
    );
    let limited = post(&server.url, path, "csk-b", "gpt-oss-120b").await;
    assert_eq!(limited.status(), 429);
    assert!(header(&limited, "retry-after").is_some());
    let body: Value = json(limited).await;
    assert_eq!(
        body,
        json!({
            "message": "Requests per minute limit exceeded - too many requests sent.",
            "type": "too_many_requests_error",
            "param": "quota",
            "code": "request_quota_exceeded",
        })
    );
    // At the free figures alone: 5 a minute, and no daily request window to describe.
    let free = start(&config(
        "cerebras",
        "gpt-oss-120b",
        &[("org_f", &["csk-f"], "")],
    ))
    .await;
    let answer = post(&free.url, path, "csk-f", "gpt-oss-120b").await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "x-ratelimit-limit-requests-day"), None);
    assert_eq!(
        header(&answer, "x-ratelimit-limit-tokens-minute").as_deref(),
        Some("30000")
    );
    let served = statuses(&free.url, path, &["csk-f"], "gpt-oss-120b", 6).await;
    assert_eq!(ok(&served), 4, "the free tier's 5 a minute: {served:?}");
}

#[test]
fn a_config_the_provider_cannot_have_is_refused_with_what_to_write() {
    let cases = [
        (
            "provider = \"mistral\"\n[[orgs]]\nid = \"o\"\nkeys = [\"k\"]\n",
            "the mock speaks groq, gemini, openrouter, cerebras",
        ),
        (
            "provider = \"gemini\"\n[[orgs]]\nid = \"o\"\nkeys = [\"k\"]\n",
            "list the models it serves",
        ),
        (
            "models = [\"x\"]\n[[orgs]]\nid = \"o\"\nkeys = [\"k\"]\n",
            "Groq's models come from its catalog",
        ),
        (
            "provider = \"gemini\"\nmodels = [\"m\"]\n[[orgs]]\nid = \"o\"\nkeys = [\"k\"]\nlimits = { tpd = 5 }\n",
            "limits.tpd — Google Gemini API has no tokens per day (TPD) limit",
        ),
    ];
    for (text, expected) in cases {
        let said = mock_groq::Config::from_toml(text)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            said.as_ref().is_err_and(|e| e.contains(expected)),
            "{expected}: {said:?}"
        );
    }
}
