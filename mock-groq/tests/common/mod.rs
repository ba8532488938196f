//! Starts the mock on 127.0.0.1 with port 0 for a test, and stops it when dropped.

#![allow(dead_code)]

use mock_groq::Config;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct Server {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start(toml: &str) -> Server {
    let config = Config::from_toml(toml).unwrap_or_else(|e| panic!("bad test config: {e}"));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(mock_groq::serve(config, listener, async {
        let _ = rx.await;
    }));
    Server {
        url,
        stop: Some(tx),
    }
}

pub fn chat_body(max_tokens: u64) -> Value {
    json!({
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "Say hello in Portuguese."}],
        "max_tokens": max_tokens,
    })
}

pub async fn chat(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(format!("{url}/openai/v1/chat/completions"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"))
}

pub async fn json(response: reqwest::Response) -> Value {
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("not JSON: {e}"))
}

pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_owned()
}

pub async fn admin_state(client: &reqwest::Client, url: &str) -> Value {
    let response = client
        .get(format!("{url}/admin/state"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("request failed: {e}"));
    json(response).await
}
