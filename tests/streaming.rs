//! Streamed traffic is measured as its users read it: time to first token, inter-token
//! latency and output tokens per second, from the events as they arrive, in simulated and in
//! real time; a stream broken after its first byte is the user's failure, not a failover.

use keyrotor::drive::driver::NoProgress;
use keyrotor::measure::report::Report;
use keyrotor::run::{RunOptions, run};
use keyrotor::spec::metrics::Figure;
use keyrotor::spec::metrics::Metric;
use keyrotor::spec::scenario::Scenario;

fn scenario(mode: &str, traffic: &str, rest: &str) -> Scenario {
    let text = format!(
        "name = \"stream\"\nseed = 3\nmode = \"{mode}\"\n{rest}[keys]\ncount = 2\n[engine]\npolicy = \"adaptive\"\n[traffic]\nstream = true\nprompt_tokens = 100\ncompletion_tokens = 200\n{traffic}\n"
    );
    Scenario::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn report(s: &Scenario) -> Report {
    run(s, RunOptions::default(), &NoProgress)
        .unwrap_or_else(|e| panic!("{e:#}"))
        .report
}

/// The report's streaming figures, which a streamed run must have.
fn streaming(r: &Report) -> &keyrotor::measure::report::Streaming {
    r.streaming
        .as_ref()
        .unwrap_or_else(|| panic!("no streaming figures"))
}

fn value(f: Figure) -> f64 {
    f.number().unwrap_or_else(|| panic!("no data"))
}

#[test]
fn one_streamed_answer_adds_up_first_token_plus_tokens_between_to_its_latency() {
    let r = report(&scenario(
        "sim",
        "arrival = \"constant\"\nrate = 60\nrequests = 1",
        "",
    ));
    let s = streaming(&r);
    assert_eq!((r.summary.succeeded, s.answers), (1, 1));
    assert!(
        r.summary.tokens > 200,
        "tokens reported: {}",
        r.summary.tokens
    );
    let (ttft, itl, tps) = (
        value(s.ttft_ms.p50),
        value(s.itl_ms.p50),
        value(s.output_tokens_per_s.p50),
    );
    let latency = value(r.latency_ms.p50);
    let tokens = (tps * latency / 1000.0).round();
    assert!(tokens > 1.0, "{tokens} output tokens");
    // The first token comes well before the answer ends, and the rest fill the time between.
    assert!(
        ttft > 0.0 && ttft < latency * 0.9,
        "ttft {ttft} ms of {latency} ms"
    );
    let rebuilt = ttft + itl * (tokens - 1.0);
    assert!(
        (rebuilt - latency).abs() <= latency * 0.01,
        "ttft {ttft} + itl {itl} × {} = {rebuilt} ms, latency {latency} ms",
        tokens - 1.0
    );
    assert_eq!(r.metric(Metric::TtftP50Ms), s.ttft_ms.p50);
    assert_eq!(r.metric(Metric::ItlP99Ms), s.itl_ms.p99);
}

#[test]
fn whole_answers_have_no_streaming_figures_and_the_metrics_say_no_data() {
    let mut s = scenario("sim", "arrival = \"constant\"\nrate = 60\nrequests = 3", "");
    s.traffic.stream = false;
    let r = report(&s);
    assert!(r.streaming.is_none());
    assert_eq!(r.metric(Metric::TtftP99Ms), Figure::NoData);
}

#[test]
fn real_time_streams_are_timed_as_their_events_arrive() {
    // Over loopback through the embedded mock: if the transport waited for whole answers, the
    // first token would come with the last and the tokens between would take no time.
    let r = report(&scenario(
        "real",
        "arrival = \"constant\"\nrate = 300\nrequests = 5",
        "",
    ));
    let s = streaming(&r);
    assert_eq!(s.answers, 5, "{:?}", r.failures);
    let (ttft, itl, latency) = (
        value(s.ttft_ms.p50),
        value(s.itl_ms.p50),
        value(r.latency_ms.p50),
    );
    assert!(ttft < latency * 0.9, "ttft {ttft} ms, latency {latency} ms");
    assert!(itl > 0.5, "inter-token latency {itl} ms");
}

#[test]
fn a_stream_broken_after_its_first_byte_fails_its_request_without_failover() {
    let fault = "[[target.faults]]\nkind = \"stream_error\"\nprobability = 1.0\n";
    let r = report(&scenario(
        "sim",
        "arrival = \"constant\"\nrate = 60\nrequests = 4",
        fault,
    ));
    assert_eq!(r.summary.succeeded, 0);
    assert_eq!(r.failures.get("stream_error"), Some(&4), "{:?}", r.failures);
    assert_eq!(
        r.summary.attempts, 4,
        "the user had the first bytes: no other key may answer"
    );
    let s = streaming(&r);
    assert_eq!(s.answers, 0);
    assert_eq!(
        s.ttft_ms.p50,
        Figure::NoData,
        "no sample is no data, never 0"
    );
}
