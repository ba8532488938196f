//! What the simulated model produces for an admitted request: ids, completion length, text
//! and service time. All draws come from the request's own seeded RNG, so a run is
//! reproducible from the config's seed and the order of requests.
//!
//! Service time = queue + prompt ÷ prefill speed + completion ÷ decode speed. Queue time is
//! exponential around the configured mean; the two compute parts are multiplied by a uniform
//! jitter factor in [1 − j, 1 + j].

use std::time::Duration;

use rand::Rng;
use rand::rngs::SmallRng;

use crate::catalog::Model;
use crate::config::{CompletionConfig, LatencyConfig};

/// The three parts of a response's service time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Waiting in Groq's queue.
    pub queue: f64,
    /// Processing the prompt.
    pub prompt: f64,
    /// Generating the completion.
    pub completion: f64,
}

impl Timing {
    /// Draws the service time of one request.
    pub fn sample(
        config: &LatencyConfig,
        model: &Model,
        prompt_tokens: u64,
        completion_tokens: u64,
        rng: &mut SmallRng,
    ) -> Self {
        let jitter = config.jitter;
        let mut factor = || 1.0 + jitter * (2.0 * rng.random::<f64>() - 1.0);
        let prefill = config.prefill_tps.unwrap_or(model.prefill_tps);
        let decode = config.decode_tps.unwrap_or(model.decode_tps);
        let prompt = prompt_tokens as f64 / prefill * factor();
        let completion = completion_tokens as f64 / decode * factor();
        let queue = -config.queue.as_secs_f64() * (1.0 - rng.random::<f64>()).ln();
        Self {
            queue,
            prompt,
            completion,
        }
    }

    /// Whole service time in seconds.
    pub fn total(&self) -> f64 {
        self.queue + self.prompt + self.completion
    }

    /// Time until the first token: queue and prompt processing.
    pub fn first_token(&self) -> Duration {
        Duration::from_secs_f64(self.queue + self.prompt)
    }
}

/// Completion length for a request allowed `max_tokens`: `max_tokens × U(min, max)`, ≥ 1.
pub fn completion_tokens(config: &CompletionConfig, max_tokens: u64, rng: &mut SmallRng) -> u64 {
    let fraction = if config.max_fraction > config.min_fraction {
        rng.random_range(config.min_fraction..=config.max_fraction)
    } else {
        config.min_fraction
    };
    ((max_tokens as f64 * fraction).round() as u64).clamp(1, max_tokens.max(1))
}

const WORDS: &[&str] = &[
    "the",
    "key",
    "rotates",
    "quota",
    "minute",
    "limit",
    "token",
    "request",
    "budget",
    "window",
    "groq",
    "fast",
    "reply",
    "model",
    "shared",
    "organisation",
];

/// Where a filler text starts in the word list (its one random draw).
pub fn text_start(rng: &mut SmallRng) -> usize {
    rng.random_range(0..WORDS.len())
}

/// Filler text of `tokens` words (one word a token) from word `start`: the same for the
/// same arguments, so the mock makes each once ([`crate::state::Mock::text`]).
pub fn text_from(start: usize, tokens: u64) -> String {
    let mut out = String::with_capacity(tokens as usize * 7);
    for i in 0..tokens as usize {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(WORDS[(start + i * 7) % WORDS.len()]);
    }
    out
}

const BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A Groq-style request id, `req_` and 26 base32 characters.
pub fn request_id(rng: &mut SmallRng) -> String {
    let mut id = String::with_capacity(30);
    id.push_str("req_");
    for _ in 0..26 {
        id.push(BASE32[rng.random_range(0..32)] as char);
    }
    id
}

/// A completion id, `chatcmpl-` and a UUID-shaped random value (8-4-4-4-12 hex digits of
/// one random `u128`), written without `format!` (it is on every answer's path).
pub fn completion_id(rng: &mut SmallRng) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let a: u128 = rng.random();
    let mut id = String::with_capacity(45);
    id.push_str("chatcmpl-");
    for digit in 0..32 {
        if matches!(digit, 8 | 12 | 16 | 20) {
            id.push('-');
        }
        let nibble = (a >> (124 - 4 * digit)) & 0xf;
        id.push(HEX[nibble as usize] as char);
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_completion_id_is_the_random_value_in_uuid_shape() {
        let mut rng = SmallRng::seed_from_u64(7);
        let a: u128 = SmallRng::seed_from_u64(7).random();
        let hex = format!("{a:032x}");
        let expected = format!(
            "chatcmpl-{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        assert_eq!(completion_id(&mut rng), expected);
    }

    #[test]
    fn completion_length_stays_within_fractions_of_max_tokens() {
        let config = CompletionConfig {
            min_fraction: 0.5,
            max_fraction: 1.0,
        };
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..1000 {
            let n = completion_tokens(&config, 100, &mut rng);
            assert!((50..=100).contains(&n), "{n}");
        }
        assert_eq!(completion_tokens(&config, 0, &mut rng), 1);
    }

    #[test]
    fn service_time_scales_with_tokens_and_has_no_jitter_at_zero() {
        let config = LatencyConfig {
            jitter: 0.0,
            queue: Duration::ZERO,
            prefill_tps: Some(1000.0),
            decode_tps: Some(100.0),
            enabled: true,
            edge: Duration::ZERO,
        };
        let mut rng = SmallRng::seed_from_u64(1);
        let t = Timing::sample(
            &config,
            &crate::catalog::current().models[0],
            500,
            50,
            &mut rng,
        );
        assert!((t.prompt - 0.5).abs() < 1e-12 && (t.completion - 0.5).abs() < 1e-12);
        assert_eq!(t.queue, 0.0);
        assert!((t.total() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ids_have_groq_shapes() {
        let mut rng = SmallRng::seed_from_u64(3);
        let id = request_id(&mut rng);
        assert!(id.starts_with("req_") && id.len() == 30, "{id}");
        let id = completion_id(&mut rng);
        assert_eq!(id.len(), "chatcmpl-".len() + 36, "{id}");
        assert_eq!(text_from(text_start(&mut rng), 3).split(' ').count(), 3);
    }

    #[test]
    fn a_text_is_the_same_for_the_same_start_and_length() {
        let start = text_start(&mut SmallRng::seed_from_u64(3));
        let whole = text_from(start, 12);
        assert_eq!(whole, text_from(start, 12));
        assert_eq!(whole.split(' ').count(), 12);
        assert_ne!(whole, text_from(start + 1, 12));
    }
}
