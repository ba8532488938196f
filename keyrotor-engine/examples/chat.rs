//! One chat request through a rotor, as an app would send it.
//!
//! Keys come from the environment in any convention the seed apps use (`GROQ_API_KEY`,
//! `GROQ_API_KEY_2`…, `GROQ_API_KEY1`…, `GROQ_API_KEYS=a,b,c`, `…_BACKUP`, `…_FALLBACK`),
//! never from arguments. `GROQ_BASE_URL` points it elsewhere (the mock: `http://127.0.0.1:PORT`).
//!
//! ```sh
//! GROQ_API_KEYS=gsk_a,gsk_b cargo run -p keyrotor-engine --example chat -- "Say hello"
//! ```

use keyrotor_engine::transport::{HttpTransport, Timeouts};
use keyrotor_engine::{ChatRequest, Rotor, RotorOptions, keys};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Say hello in Portuguese.".to_owned());
    let loaded = keys::from_env()?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    let base = std::env::var("GROQ_BASE_URL").unwrap_or_else(|_| "https://api.groq.com".to_owned());
    let transport = HttpTransport::new(&base, Timeouts::default())?;
    let rotor = Rotor::new(
        loaded.keys,
        "adaptive".parse()?,
        transport,
        RotorOptions::default(),
    )?;
    let request = ChatRequest::new(
        groq_wire::catalog::current().recommended.as_str(),
        vec![json!({"role": "user", "content": prompt})],
        200,
        false,
    );
    let sent = rotor.send(&request).await;
    println!("attempts: {}", sent.trace.attempts.len());
    match sent.outcome {
        Ok(reply) => {
            let body: serde_json::Value = serde_json::from_slice(&reply.body)?;
            println!("{}", body["choices"][0]["message"]["content"]);
        }
        Err(failed) => {
            println!("failed: {}", failed.reason());
            if let Some(wait) = failed.retry_after {
                println!("try again in {wait:?}");
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&rotor.status())?);
    Ok(())
}
