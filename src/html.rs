//! `report.html`: one self-contained page (inline SVG plots, no external files or scripts),
//! readable offline.

use std::fmt::Write as _;
use std::path::Path;

use crate::document::{escape, html_table as table};
use crate::report::{INCOMPLETE, Report};
use crate::sweep::Sweep;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}th{{background:#f3f3f3}}\ntd:first-child,th:first-child{{text-align:left}}td.pass,td.fail,td.inconclusive{{font-weight:600}}.text td,.text th{{text-align:left;vertical-align:top}}.note{{background:#fff4d6;padding:.6em}}\nsvg{{max-width:100%;height:auto}}\n.verdict{{font-size:1.25em;padding:.6em .8em;border-left:6px solid}}.pass{{background:#e6f5ea;border-color:#2e8b57}}.fail{{background:#fbe9e9;border-color:#c0392b}}.inconclusive{{background:#f3f3f3;border-color:#888}}\n</style></head><body>\n{body}</body></html>\n",
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

/// Writes `report.html` for a run (the facts and tables of `report.md`, then the plots); the
/// plots must already be in `dir`.
pub fn write_run(dir: &Path, report: &Report) -> std::io::Result<()> {
    let mut body = format!("<h1>{} — keyrotor report</h1>\n", escape(&report.scenario));
    let (tone, verdict) = report.verdict();
    body.push_str(&crate::document::html(&[crate::document::Block::Verdict(
        tone, verdict,
    )]));
    if let Some(error) = &report.error {
        let _ = writeln!(
            body,
            "<p class=\"note\">Failed: {}. The numbers below are not a measurement.</p>",
            escape(error)
        );
    }
    if report.incomplete {
        let _ = writeln!(body, "<p class=\"note\">{INCOMPLETE}</p>");
    }
    body.push_str("<ul>");
    for fact in report.facts() {
        let _ = write!(body, "<li>{}</li>", escape(&fact));
    }
    body.push_str("</ul>\n");
    for t in report.tables() {
        body.push_str(&table(&t));
    }
    for (name, title) in crate::plots::RUN_PLOTS {
        let _ = writeln!(body, "<h2>{title}</h2>\n{}", svg(dir, name));
    }
    std::fs::write(dir.join("report.html"), page(&report.scenario, &body))
}

/// Writes `report.html` for a sweep; the capacity plot must already be in `dir`.
pub fn write_sweep(dir: &Path, sweep: &Sweep) -> std::io::Result<()> {
    let (tone, verdict) = sweep.verdict();
    let body = format!(
        "<h1>{} — capacity sweep</h1>\n{}<p>{}</p>\n{}{}",
        escape(&sweep.scenario),
        crate::document::html(&[crate::document::Block::Verdict(tone, verdict)]),
        escape(&sweep.description()),
        table(&sweep.table()),
        svg(dir, "capacity")
    );
    std::fs::write(dir.join("report.html"), page(&sweep.scenario, &body))
}

/// Writes `claims.html`: the tally coloured by the worst verdict, then a row per claim with
/// its conditions and its verdict coloured, the details and the seeds' real code.
pub fn write_claims(dir: &Path, claims: &crate::claims::Claims) -> std::io::Result<()> {
    let body = format!(
        "<div class=\"text\">\n{}</div>\n",
        crate::document::html(&claims.blocks())
    );
    std::fs::write(
        dir.join("claims.html"),
        page("The seeds' claims, measured", &body),
    )
}

/// Writes `report.html` for a plan: the answer first, the plot of the region around it,
/// then the same blocks as `plan.md`; the plan plot must already be in `dir`.
pub fn write_plan(dir: &Path, plan: &crate::plan::Plan) -> std::io::Result<()> {
    use crate::document::Block;
    let blocks = plan.blocks();
    // The title and the verdict, then the plot.
    let answer = blocks
        .iter()
        .position(|b| !matches!(b, Block::Heading(1, _) | Block::Verdict(..)))
        .unwrap_or(blocks.len());
    let (head, rest) = blocks.split_at(answer);
    let body = format!(
        "{}<h2>Around the answer</h2>\n{}\n{}",
        crate::document::html(head),
        svg(dir, "plan"),
        crate::document::html(rest)
    );
    std::fs::write(dir.join("report.html"), page("Key plan", &body))
}
