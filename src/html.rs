//! `report.html`: one self-contained page (inline SVG plots, no external files or scripts),
//! readable offline.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::Report;
use crate::sweep::Sweep;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}th{{background:#f3f3f3}}\ntd:first-child,th:first-child{{text-align:left}}.fail{{color:#b00;font-weight:bold}}.pass{{color:#070}}.note{{background:#fff4d6;padding:.6em}}\nsvg{{max-width:100%;height:auto}}\n</style></head><body>\n{body}</body></html>\n",
        escape(title)
    )
}

fn svg(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.svg")))
        .map(|s| {
            s.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                .to_owned()
        })
        .unwrap_or_default()
}

/// Writes `report.html` for a run; the plots must already be in `dir`.
pub fn write_run(dir: &Path, report: &Report) -> std::io::Result<()> {
    let s = &report.summary;
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>{} — keyrotor report</h1>",
        escape(&report.scenario)
    );
    if report.incomplete {
        let _ = writeln!(
            body,
            "<p class=\"note\">Incomplete: the run was interrupted; the numbers cover what ran.</p>"
        );
    }
    let time = if report.simulated {
        format!(
            "simulated: {:.1} s of virtual time ({:.2} s of wall time)",
            report.span_s, report.wall_s
        )
    } else {
        format!("real time: {:.1} s", report.span_s)
    };
    let l = &report.setup.limits;
    let v = |x: Option<u64>| x.map_or("–".to_owned(), |x| x.to_string());
    let _ = writeln!(
        body,
        "<ul><li>{}</li><li>target: {}; model <code>{}</code>; {} keys in {} organisations; policy <code>{}</code></li><li>limits per organisation: RPM {}, RPD {}, TPM {}, TPD {} ({})</li></ul>",
        escape(&time),
        escape(&report.setup.target),
        escape(&report.setup.model),
        report.setup.keys,
        report.setup.orgs,
        escape(&report.setup.policy),
        v(l.rpm),
        v(l.rpd),
        v(l.tpm),
        v(l.tpd),
        escape(&l.source)
    );
    let _ = writeln!(
        body,
        "<table><tr><th>offered</th><th>succeeded</th><th>failed</th><th>fallback answers</th><th>success rate</th><th>throughput</th><th>upstream 429</th><th>attempts</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.3} req/s</td><td>{}</td><td>{}</td></tr></table>",
        s.offered,
        s.succeeded,
        s.failed,
        s.degraded,
        s.success_rate,
        s.throughput_rps,
        s.upstream_429,
        s.attempts
    );
    let p = &report.latency_ms;
    let f = &report.failover_ms;
    let _ = writeln!(
        body,
        "<table><tr><th>ms</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr><tr><td>latency (succeeded)</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr><tr><td>failover ({} requests)</td><td>{:.1}</td><td>–</td><td>{:.1}</td><td>–</td><td>{:.1}</td></tr></table>",
        p.p50, p.p90, p.p99, p.p999, p.max, f.count, f.p50, f.p99, f.max
    );
    if !report.failures.is_empty() {
        let _ = writeln!(
            body,
            "<table><tr><th>failure reason</th><th>requests</th></tr>"
        );
        for (reason, n) in &report.failures {
            let _ = writeln!(body, "<tr><td>{}</td><td>{n}</td></tr>", escape(reason));
        }
        let _ = writeln!(body, "</table>");
    }
    if !report.thresholds.is_empty() {
        let _ = writeln!(
            body,
            "<table><tr><th>threshold</th><th>measured</th><th>result</th></tr>"
        );
        for t in &report.thresholds {
            let _ = writeln!(
                body,
                "<tr><td>{:?} {}</td><td>{:.4}</td><td class=\"{}\">{}</td></tr>",
                t.metric,
                escape(&String::from(t.threshold)),
                t.measured,
                if t.pass { "pass" } else { "fail" },
                if t.pass { "pass" } else { "FAIL" }
            );
        }
        let _ = writeln!(body, "</table>");
    }
    for (name, title) in [
        ("throughput", "Throughput and failures"),
        ("latency", "Latency"),
        ("keys", "Per-key use"),
    ] {
        let _ = writeln!(body, "<h2>{title}</h2>\n{}", svg(dir, name));
    }
    let _ = writeln!(
        body,
        "<table><tr><th>key</th><th>fingerprint</th><th>org</th><th>attempts</th><th>succeeded</th><th>429</th></tr>"
    );
    for k in &report.per_key {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            k.index,
            escape(&k.fingerprint),
            k.org,
            k.requests,
            k.succeeded,
            k.rate_limited
        );
    }
    let _ = writeln!(body, "</table>");
    std::fs::write(dir.join("report.html"), page(&report.scenario, &body))
}

/// Writes `report.html` for a sweep; the capacity plot must already be in `dir`.
pub fn write_sweep(dir: &Path, sweep: &Sweep) -> std::io::Result<()> {
    let mut body = format!(
        "<h1>{} — capacity sweep</h1>\n<p>Capacity = the highest offered rate whose success rate is ≥ {}; policy <code>{}</code>; {}.</p>\n<table><tr><th>keys</th><th>capacity (req/min)</th><th>success at capacity</th><th>× one key</th></tr>\n",
        escape(&sweep.scenario),
        sweep.objective,
        escape(&sweep.policy),
        if sweep.simulated {
            "simulated time"
        } else {
            "real time"
        }
    );
    for p in &sweep.points {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{:.1}</td><td>{:.4}</td><td>{}</td></tr>",
            p.keys,
            p.capacity_rpm,
            p.success_rate,
            p.ratio_to_one_key
                .map_or("–".to_owned(), |r| format!("{r:.2}"))
        );
    }
    let _ = writeln!(body, "</table>\n{}", svg(dir, "capacity"));
    std::fs::write(dir.join("report.html"), page(&sweep.scenario, &body))
}

/// Writes `report.html` for a plan; the plan plot must already be in `dir`.
pub fn write_plan(dir: &Path, plan: &crate::plan::Plan) -> std::io::Result<()> {
    // The markdown is simple (headings, paragraphs, pipe tables): shown preformatted beside the plot.
    let body = format!(
        "<h1>Key plan</h1>\n<pre>{}</pre>\n{}",
        escape(&plan.markdown()),
        svg(dir, "plan")
    );
    std::fs::write(dir.join("report.html"), page("Key plan", &body))
}
