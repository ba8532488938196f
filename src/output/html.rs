//! The pages of `report.html` and `claims.html` (written by [`crate::output::artifacts`]):
//! self-contained, readable offline — the verdict first, then the plots (charts drawn
//! interactively by the inlined uPlot), then the tables. Nothing is fetched from the network.

use std::fmt::Write as _;

use crate::measure::document::{escape, html_table as table};
use crate::measure::report::{INCOMPLETE, Report};
use crate::output::chart::Chart;
use crate::studies::sweep::Sweep;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\nbody{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}th{{background:#f3f3f3}}\ntd:first-child,th:first-child{{text-align:left}}td.pass,td.fail,td.inconclusive{{font-weight:600}}.text td,.text th{{text-align:left;vertical-align:top}}.note{{background:#fff4d6;padding:.6em}}\nsvg{{max-width:100%;height:auto}}\n.verdict{{font-size:1.25em;padding:.6em .8em;border-left:6px solid}}.pass{{background:#e6f5ea;border-color:#2e8b57}}.fail{{background:#fbe9e9;border-color:#c0392b}}.inconclusive{{background:#f3f3f3;border-color:#888}}\n</style></head><body>\n{body}</body></html>\n",
        escape(title)
    )
}

/// The charts under their headings, drawn interactively by uPlot (inlined once after them).
fn plots(plots: &[(&str, Chart)]) -> String {
    let mut out = String::new();
    for (heading, chart) in plots {
        let _ = writeln!(out, "<h2>{}</h2>", escape(heading));
        out.push_str(&crate::output::chart::element(chart));
    }
    if !plots.is_empty() {
        out.push_str(&crate::output::chart::scripts());
    }
    out
}

/// A run's `report.html`: the headline and facts of `report.md`, its tables (the numbers
/// within the first screen or two), then the plots.
pub fn run_page(report: &Report, figures: &[(&str, Chart)]) -> String {
    let mut body = format!("<h1>{} — keyrotor report</h1>\n", escape(&report.scenario));
    let (tone, verdict) = report.verdict();
    body.push_str(&crate::measure::document::html(&[
        crate::measure::document::Block::Verdict(tone, verdict),
    ]));
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
    body.push_str("<h2>The numbers</h2>\n");
    for t in report.tables() {
        body.push_str(&table(&t));
    }
    body.push_str(&plots(figures));
    page(&report.scenario, &body)
}

/// A sweep's `report.html`: its answer, the capacity chart, the table.
pub fn sweep_page(sweep: &Sweep, capacity: Chart) -> String {
    let (tone, verdict) = sweep.verdict();
    let body = format!(
        "<h1>{} — capacity sweep</h1>\n{}<p>{}</p>\n{}{}",
        escape(&sweep.scenario),
        crate::measure::document::html(&[crate::measure::document::Block::Verdict(tone, verdict)]),
        escape(&sweep.description()),
        plots(&[("Capacity against keys", capacity)]),
        table(&sweep.table()),
    );
    page(&sweep.scenario, &body)
}

/// `claims.html`: the tally coloured by the worst verdict, then a row per claim with its
/// conditions and its verdict coloured, the details and the seeds' real code.
pub fn claims_page(claims: &crate::studies::claims::Claims) -> String {
    let body = format!(
        "<div class=\"text\">\n{}</div>\n",
        crate::measure::document::html(&claims.blocks())
    );
    page(&claims.title, &body)
}

/// A plan's `report.html`: the answer first, the plot of the region around it, then the same
/// blocks as `plan.md`.
pub fn plan_page(plan: &crate::studies::plan::Plan, around: Chart) -> String {
    use crate::measure::document::Block;
    let blocks = plan.blocks();
    // The title and the verdict, then the plot.
    let answer = blocks
        .iter()
        .position(|b| !matches!(b, Block::Heading(1, _) | Block::Verdict(..)))
        .unwrap_or(blocks.len());
    let (head, rest) = blocks.split_at(answer);
    let body = format!(
        "{}{}\n{}",
        crate::measure::document::html(head),
        plots(&[("Around the answer", around)]),
        crate::measure::document::html(rest)
    );
    page("Key plan", &body)
}
