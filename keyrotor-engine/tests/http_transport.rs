//! The HTTP transport over loopback: its own HTTP/1.1 client (for `http://` targets) against
//! the mock, its faults, and hand-written servers that misbehave in the ways real ones do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use keyrotor_engine::request::reported_tokens;
use keyrotor_engine::transport::http::IDLE_LIMIT;
use keyrotor_engine::transport::{HttpTransport, Timeouts, Transport, TransportError};
use keyrotor_engine::{ApiKey, ChatRequest, Rotor, RotorOptions};
use mock_groq::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MODEL: &str = "openai/gpt-oss-120b";

fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(5),
    }
}

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    (listener, url)
}

async fn mock(toml: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    let (listener, url) = listener().await;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mock_groq::serve(config, listener, async {
        let _ = rx.await;
    }));
    (url, tx)
}

/// Reads one request (head and content-length body) from `stream`; false at end of stream.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A server that answers every request on a connection with `answer`; with `one_per_connection`
/// it closes each connection right after its first answer, as a server whose keep-alive
/// timeout has passed does (no `connection: close`). Counts the connections it accepts.
async fn scripted_server(
    answer: &'static [u8],
    one_per_connection: bool,
) -> (String, Arc<AtomicUsize>) {
    let (listener, url) = listener().await;
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while read_request(&mut stream).await {
                    if stream.write_all(answer).await.is_err() || one_per_connection {
                        break;
                    }
                }
            });
        }
    });
    (url, accepted)
}

fn body() -> axum::body::Bytes {
    ChatRequest::synthetic(MODEL, 20, 10, false).body
}

#[tokio::test]
async fn plain_http_reads_json_streams_and_429s_from_the_mock() {
    let (url, _stop) = mock(
        r#"
[latency]
enabled = false
[[orgs]]
id = "a"
keys = ["k_a"]
limits = { rpm = 2, rpd = 1000, tpm = 0, tpd = 0 }
"#,
    )
    .await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    let key = ApiKey::new("k_a");

    let json = transport
        .send(&key, body())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json.status, 200);
    assert!(reported_tokens(&json.body).is_some_and(|t| t > 0));
    assert!(json.headers.contains_key("x-ratelimit-remaining-requests"));

    // A stream comes back chunked; the body is every event, put back together.
    let streamed = transport
        .send(&key, ChatRequest::synthetic(MODEL, 20, 10, true).body)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(streamed.status, 200);
    let text = String::from_utf8_lossy(&streamed.body);
    assert!(text.starts_with("data: "), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(reported_tokens(&streamed.body).is_some_and(|t| t > 0));

    let limited = transport
        .send(&key, body())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(String::from_utf8_lossy(&limited.body).contains("rate_limit_exceeded"));
}

#[tokio::test]
async fn keep_alive_connections_are_reused() {
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    let (url, accepted) = scripted_server(OK, false).await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..20 {
        let reply = transport
            .send(&ApiKey::new("k"), body())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((reply.status, &reply.body[..]), (200, &b"{}"[..]));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_not_failed() {
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    let (url, accepted) = scripted_server(OK, true).await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        let reply = transport.send(&ApiKey::new("k"), body()).await;
        assert!(reply.is_ok(), "{reply:?}");
        // Let the server's close reach the idle connection.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_connection_idle_for_too_long_is_closed_not_reused() {
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
    let (url, accepted) = scripted_server(OK, false).await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    let key = ApiKey::new("k");
    let send = || transport.send(&key, body());
    assert!(send().await.is_ok());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(send().await.is_ok());
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "reused within the limit"
    );
    // Past the limit the server may be closing it: a new connection is opened instead.
    tokio::time::sleep(IDLE_LIMIT + Duration::from_millis(200)).await;
    assert!(send().await.is_ok());
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "not reused past the limit"
    );
}

#[tokio::test]
async fn garbage_and_cut_answers_are_connection_failures() {
    let (url, _) = scripted_server(b"SSH-2.0-OpenSSH\r\n\r\n", false).await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    let garbage = transport.send(&ApiKey::new("k"), body()).await;
    assert!(
        matches!(&garbage, Err(TransportError::Connection(m)) if m.contains("malformed")),
        "{garbage:?}"
    );

    let (url, _) = scripted_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"cut",
        true,
    )
    .await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    let cut = transport.send(&ApiKey::new("k"), body()).await;
    assert!(
        matches!(&cut, Err(TransportError::Connection(m)) if m.contains("closed before")),
        "{cut:?}"
    );
}

#[tokio::test]
async fn bad_base_urls_and_keys_are_refused_without_showing_the_key() {
    for bad in ["ftp://host", "not a url", "http://"] {
        assert!(HttpTransport::new(bad, timeouts()).is_err(), "{bad}");
    }
    let (url, accepted) = scripted_server(b"HTTP/1.1 200 OK\r\n\r\n", false).await;
    let transport = HttpTransport::new(&url, timeouts()).unwrap_or_else(|e| panic!("{e}"));
    let key = ApiKey::new("gsk_secret\r\nx-injected: 1");
    let refused = transport.send(&key, body()).await;
    let Err(TransportError::Connection(message)) = refused else {
        panic!("{refused:?}")
    };
    assert!(!message.contains("gsk_secret"), "{message}");
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn http_transport_classifies_stalls_drops_and_revocations() {
    let (url, _stop) = mock(
        r#"
[latency]
enabled = false
[[orgs]]
id = "stall"
keys = ["k_stall"]
[[orgs]]
id = "drop"
keys = ["k_drop"]
[[orgs]]
id = "fine"
keys = ["k_revoked", "k_fine"]
[[faults]]
kind = "stall"
org = "stall"
duration = "10s"
[[faults]]
kind = "drop"
org = "drop"
[[events]]
kind = "revoke_key"
key = "k_revoked"
at = "0s"
"#,
    )
    .await;
    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_millis(300),
    };
    let transport = HttpTransport::new(&url, timeouts).unwrap_or_else(|e| panic!("{e}"));
    let body = ChatRequest::synthetic("openai/gpt-oss-120b", 20, 10, false).body;
    let stalled = transport.send(&ApiKey::new("k_stall"), body.clone()).await;
    assert_eq!(stalled.err(), Some(TransportError::Timeout));
    let dropped = transport.send(&ApiKey::new("k_drop"), body.clone()).await;
    assert!(
        matches!(dropped, Err(TransportError::Connection(_))),
        "{dropped:?}"
    );

    let keys: Vec<ApiKey> = ["k_stall", "k_drop", "k_revoked", "k_fine"]
        .into_iter()
        .map(ApiKey::new)
        .collect();
    let rotor = Rotor::new(
        keys,
        "adaptive".parse().unwrap_or_else(|e| panic!("{e}")),
        transport,
        RotorOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let started = tokio::time::Instant::now();
    let sent = rotor
        .send(&ChatRequest::synthetic(
            "openai/gpt-oss-120b",
            20,
            10,
            false,
        ))
        .await;
    assert!(sent.outcome.is_ok(), "{:?}", sent.outcome.err());
    let reasons: Vec<&str> = sent
        .trace
        .attempts
        .iter()
        .filter_map(|a| a.failure.as_ref().map(|f| f.reason()))
        .collect();
    assert_eq!(reasons, ["timeout", "connection", "unauthorized"]);
    assert!(started.elapsed() < Duration::from_secs(2));
    let status = rotor.status();
    assert_eq!(status.keys[2].state, "disabled");
    let json = serde_json::to_string(&status).unwrap_or_default();
    assert!(
        !json.contains("k_fine") && !json.contains("k_revoked"),
        "status leaks a key: {json}"
    );
}
