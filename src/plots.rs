//! Plots of a run or a sweep, each as SVG and PNG (plotters, pure Rust: the PNG text uses the
//! DejaVu Sans font shipped in assets/, no system font libraries).

use std::path::Path;
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use crate::recorder::Recorder;
use crate::report::Report;
use crate::sweep::Sweep;

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 440);
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        );
    });
}

type Drawn = Result<(), String>;
/// A line: label, colour, points.
type Line = (&'static str, RGBColor, Vec<(f64, f64)>);
/// A bar group: label, colour, x offset, value of a key.
type Bar = (
    &'static str,
    RGBColor,
    f64,
    fn(&crate::report::KeyReport) -> u64,
);

/// Something the scenario made happen, marked on the time axis: an instant (a key revoked,
/// a quota spent) or a window (a fault active from..until).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Seconds into the run.
    pub from_s: f64,
    /// End of a window; `None` for an instant.
    pub until_s: Option<f64>,
    /// What happened.
    pub label: String,
}

/// The scenario's events and fault windows (faults active all run long are not marked).
pub fn marks(scenario: &crate::scenario::Scenario) -> Vec<Mark> {
    use crate::scenario::TargetEvent;
    let mut marks: Vec<Mark> = scenario
        .target
        .events
        .iter()
        .map(|event| match event {
            TargetEvent::RevokeKey { at, key } => Mark {
                from_s: at.as_secs_f64(),
                until_s: None,
                label: format!("key {key} revoked"),
            },
            TargetEvent::ExhaustDaily { at, org } => Mark {
                from_s: at.as_secs_f64(),
                until_s: None,
                label: match org {
                    Some(org) => format!("org {org}: daily quota spent"),
                    None => "daily quotas spent".to_owned(),
                },
            },
        })
        .collect();
    let end = scenario
        .traffic
        .duration
        .map_or(f64::INFINITY, |d| d.as_secs_f64());
    for fault in &scenario.target.faults {
        if fault.from.is_none() && fault.until.is_none() {
            continue;
        }
        let kind = serde_json::to_value(fault.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        marks.push(Mark {
            from_s: fault.from.map_or(0.0, |d| d.as_secs_f64()),
            until_s: Some(fault.until.map_or(end, |d| d.as_secs_f64())),
            label: format!("{kind} fault"),
        });
    }
    marks
}

/// Draws `marks` on a time chart whose y axis ends at `top`: windows shaded, instants as
/// dashed lines, each labelled at the top.
fn draw_marks<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    marks: &[Mark],
    (end, top): (f64, f64),
    unit: f64,
) -> Drawn {
    let ink = RGBColor(90, 60, 160);
    for (i, mark) in marks.iter().enumerate() {
        let from = (mark.from_s / unit).clamp(0.0, end);
        // Labels step down so that neighbours do not overwrite each other.
        let label_y = top * (0.97 - 0.06 * (i % 4) as f64);
        match mark.until_s {
            Some(until) => {
                let until = (until / unit).clamp(from, end);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(from, 0.0), (until, top)],
                        ink.mix(0.08).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            None => {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(from, 0.0), (from, top)],
                        6,
                        4,
                        ink.stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {}", mark.label),
                (from, label_y),
                (FONT, 13).into_font().color(&ink),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Seconds per unit of a time axis running to `end_s`: minutes past three minutes and hours
/// past three hours, so that the axis' round steps (1, 2, 5 of the unit) fall on round times.
fn time_unit(end_s: f64) -> f64 {
    if end_s >= 3.0 * 3600.0 {
        3600.0
    } else if end_s >= 180.0 {
        60.0
    } else {
        1.0
    }
}

/// A time axis' label, from a position in units of `unit` seconds: `m:ss`, or `h:mm:ss` past
/// an hour.
fn clock_label(position: f64, unit: f64) -> String {
    let total = (position * unit).max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A count axis' label: whole numbers only (a tick between two counts, as plotters may
/// place one, stays blank rather than reading "1.5 keys").
fn integer_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        format!("{}", x.round() as i64)
    } else {
        String::new()
    }
}

/// Draws the series legend in the same style on every chart.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// Draws with `draw` into `<dir>/<name>.svg` and `<dir>/<name>.png`.
fn both(
    dir: &Path,
    name: &str,
    svg_draw: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Drawn,
    png_draw: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> Drawn,
) -> Drawn {
    register_font();
    let svg = dir.join(format!("{name}.svg"));
    let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
    svg_draw(&root)?;
    root.present().map_err(|e| e.to_string())?;
    let png = dir.join(format!("{name}.png"));
    let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
    png_draw(&root)?;
    root.present().map_err(|e| e.to_string())
}

fn draw_timeseries<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    recorder: &Recorder,
    marks: &[Mark],
) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let per_s = |n: u64| n as f64 / recorder.interval.as_secs_f64();
    let unit = time_unit(recorder.series.len() as f64 * recorder.interval.as_secs_f64());
    let step = recorder.interval.as_secs_f64() / unit;
    let rows: Vec<(f64, f64, f64, f64)> = recorder
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                i as f64 * step,
                per_s(s.offered),
                per_s(s.succeeded),
                per_s(s.failed.values().sum()),
            )
        })
        .collect();
    let limited: Vec<(f64, f64)> = recorder
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (i as f64 * step, per_s(s.upstream_429)))
        .collect();
    let end = (rows.len() as f64 * step).max(step);
    let top = rows
        .iter()
        .map(|r| r.1.max(r.2).max(r.3))
        .chain(limited.iter().map(|r| r.1))
        .fold(0.0f64, f64::max)
        .max(0.1)
        * 1.6; // headroom for the legend
    let mut chart = ChartBuilder::on(root)
        .caption("Throughput and failures over time", (FONT, 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..end, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("time into the run")
        .x_label_formatter(&|x| clock_label(*x, unit))
        .y_desc("requests per second")
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let series: [Line; 4] = [
        (
            "offered",
            RGBColor(120, 120, 120),
            rows.iter().map(|r| (r.0, r.1)).collect(),
        ),
        (
            "succeeded",
            RGBColor(30, 120, 200),
            rows.iter().map(|r| (r.0, r.2)).collect(),
        ),
        (
            "failed",
            RGBColor(210, 50, 50),
            rows.iter().map(|r| (r.0, r.3)).collect(),
        ),
        ("upstream 429 (attempts)", RGBColor(230, 150, 20), limited),
    ];
    draw_marks(&mut chart, marks, (end, top), unit)?;
    for (label, color, points) in series {
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// A percentile spectrum: a histogram of µs as (number of nines, ms).
type Spectrum<'a> = (&'a str, &'a hdrhistogram::Histogram<u64>);

/// Percentile spectrum points: x = number of nines (1/(1-p) on a log10 scale), y = ms.
fn spectrum(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    // Every 0.05 nines, as far as the sample reaches (n samples tell log10(n) nines), at most
    // to 99.999 %.
    let reach = (h.len() as f64).log10().clamp(0.05, 5.0);
    (0..=(reach / 0.05).round() as u32)
        .map(|i| {
            let nines = f64::from(i) * 0.05;
            let q = 1.0 - 10f64.powf(-nines);
            (nines, h.value_at_quantile(q) as f64 / 1000.0)
        })
        .collect()
}

fn draw_latency<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
    (label, histogram): Spectrum<'_>,
) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let points = spectrum(histogram);
    let top = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let right = points
        .iter()
        .map(|p| p.0)
        .fold(0.0f64, f64::max)
        .max(2.0)
        .ceil();
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 22))
        .margin(14)
        .margin_right(40)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..right, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(format!("{label} (ms)"))
        .x_labels(right as usize + 1)
        .x_label_formatter(&|x| {
            // Whole numbers of nines: 0 → 0 %, 1 → 90 %, 2 → 99 %, 3 → 99.9 %.
            if (x - x.round()).abs() > 1e-6 {
                return String::new();
            }
            let nines = x.round() as i32;
            let pct = 100.0 - 100.0 / 10f64.powi(nines);
            format!("{pct:.*}%", (nines - 2).max(0) as usize)
        })
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let color = RGBColor(30, 120, 200);
    chart
        .draw_series(LineSeries::new(points, color.stroke_width(2)))
        .map_err(|e| e.to_string())?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    if histogram.is_empty() {
        chart
            .draw_series(std::iter::once(Text::new(
                "no data: no sample",
                (right * 0.4, top * 0.5),
                (FONT, 18),
            )))
            .map_err(|e| e.to_string())?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn draw_keys<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, report: &Report) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = report.per_key.len().max(1) as f64;
    let top = report
        .per_key
        .iter()
        .map(|k| k.attempts)
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.45;
    let mut chart = ChartBuilder::on(root)
        .caption("Attempts per key", (FONT, 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("key index")
        .y_desc("attempts")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_labels(report.per_key.len().min(40))
        .x_label_formatter(&integer_label)
        .disable_x_mesh()
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let bars: [Bar; 4] = [
        ("attempts", RGBColor(150, 150, 150), -0.4, |k| k.attempts),
        ("succeeded", RGBColor(30, 120, 200), -0.2, |k| k.succeeded),
        ("answered 429", RGBColor(230, 150, 20), 0.0, |k| {
            k.rate_limited
        }),
        (
            "other failures (401, 5xx, timeouts…)",
            RGBColor(200, 40, 40),
            0.2,
            |k| {
                k.attempts
                    .saturating_sub(k.succeeded)
                    .saturating_sub(k.rate_limited)
            },
        ),
    ];
    for (label, color, offset, value) in bars {
        chart
            .draw_series(report.per_key.iter().map(|k| {
                let x = k.index as f64 + offset;
                Rectangle::new([(x, 0.0), (x + 0.2, value(k) as f64)], color.filled())
            }))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn draw_sweep<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, sweep: &Sweep) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let max_keys = sweep.points.iter().map(|p| p.keys).max().unwrap_or(1) as f64;
    let one = sweep
        .points
        .iter()
        .find(|p| p.keys == 1 && p.replicas == 1)
        .map(|p| p.capacity_rpm);
    let top = sweep
        .points
        .iter()
        .map(|p| p.capacity_rpm)
        .chain(one.map(|c| c * max_keys))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Capacity vs keys (success ≥ {})", sweep.objective),
            (FONT, 22),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..max_keys + 0.5, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("keys")
        .x_labels((max_keys as usize + 1).min(12))
        .x_label_formatter(&integer_label)
        .y_desc("capacity (requests per minute)")
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let mut counts: Vec<u32> = sweep.points.iter().map(|p| p.replicas).collect();
    counts.sort_unstable();
    counts.dedup();
    let palette = [
        RGBColor(30, 120, 200),
        RGBColor(220, 110, 30),
        RGBColor(40, 160, 80),
        RGBColor(170, 60, 160),
    ];
    for (i, &replicas) in counts.iter().enumerate() {
        let color = palette[i % palette.len()];
        let measured: Vec<(f64, f64)> = sweep
            .points
            .iter()
            .filter(|p| p.replicas == replicas)
            .map(|p| (p.keys as f64, p.capacity_rpm))
            .collect();
        let label = match counts.len() {
            1 => "measured".to_owned(),
            _ => format!("{replicas} replicas"),
        };
        chart
            .draw_series(LineSeries::new(measured.clone(), color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(measured.iter().map(|p| Circle::new(*p, 4, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    if let Some(one) = one {
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (max_keys, one * max_keys)],
                grey.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label("N × one key")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(1))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

fn draw_plan<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, plan: &crate::plan::Plan) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let chosen = &plan.simulated;
    let shares = plan.confidence.as_ref().map_or(&[][..], |c| &c.counts[..]);
    let counts = chosen
        .points
        .iter()
        .map(|p| p.keys)
        .chain(shares.iter().map(|s| s.keys));
    let (lowest, highest) = counts.fold((usize::MAX, 0), |(lo, hi), k| (lo.min(k), hi.max(k)));
    if lowest > highest {
        // No simulated count at all (the bound is past what can be simulated): say so.
        let text = "No simulated key counts: nothing to draw (see plan.md for why)";
        return root
            .draw(&Text::new(text, (40, 40), (FONT, 22)))
            .map_err(|e| e.to_string());
    }
    // The region around the answer: a few counts below it and two above, whole keys only.
    let answer = plan
        .recommended_keys
        .map_or(highest, |k| usize::try_from(k).unwrap_or(highest));
    let lo = lowest
        .max(answer.saturating_sub((answer / 5).max(3)))
        .max(1);
    let hi = highest
        .max(answer)
        .saturating_add(1)
        .max(lo.saturating_add(1));
    let (x0, x1) = (lo as f64 - 0.5, hi as f64 + 0.5);
    let mut chart = ChartBuilder::on(root)
        .caption(format!("Around the answer: {} keys", answer), (FONT, 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0f64..1.05)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("keys (one per organisation)")
        .y_desc("share")
        .x_labels((hi - lo + 1).min(20))
        .x_label_formatter(&integer_label)
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let inside = |k: usize| (lo..=hi).contains(&k);
    let goodput: Vec<(f64, f64)> = chosen
        .points
        .iter()
        .filter(|p| inside(p.keys))
        .filter_map(|p| Some((p.keys as f64, p.goodput_rate?)))
        .collect();
    let blue = RGBColor(30, 120, 200);
    chart
        .draw_series(LineSeries::new(goodput.clone(), blue.stroke_width(2)))
        .map_err(|e| e.to_string())?
        .label(format!("goodput rate, {} (one seed)", chosen.policy))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(
            goodput
                .into_iter()
                .map(|p| Circle::new(p, 4, blue.filled())),
        )
        .map_err(|e| e.to_string())?;
    let green = RGBColor(40, 160, 90);
    let share: Vec<(f64, f64)> = shares
        .iter()
        .filter(|s| inside(s.keys))
        .map(|s| (s.keys as f64, s.share))
        .collect();
    if !share.is_empty() {
        chart
            .draw_series(LineSeries::new(share.clone(), green.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label("share of seeds meeting the objective")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(2))
            });
        chart
            .draw_series(share.into_iter().map(|p| Circle::new(p, 4, green.filled())))
            .map_err(|e| e.to_string())?;
    }
    let objective = plan.input.objective;
    chart
        .draw_series(LineSeries::new(
            vec![(x0, objective), (x1, objective)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label(format!("objective: goodput ≥ {objective}"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// Writes plan.{svg,png}: the chosen policy's goodput rate and the share of seeds meeting the
/// objective, per key count, around the answer.
pub fn plan_plot(dir: &Path, plan: &crate::plan::Plan) -> Drawn {
    both(dir, "plan", |r| draw_plan(r, plan), |r| draw_plan(r, plan))
}

/// The plots of a run, by file name (without extension) and title, in page order.
pub const RUN_PLOTS: [(&str, &str); 5] = [
    ("throughput", "Throughput and failures"),
    ("latency", "Latency"),
    ("failover", "Failover latency"),
    ("keys", "Per-key use"),
    ("keys-over-time", "Per-key attempts and 429s over time"),
];

/// Writes each of [`RUN_PLOTS`] as .svg and .png for a run, the scenario's events and
/// fault windows marked on the time axis.
pub fn run_plots(dir: &Path, report: &Report, recorder: &Recorder, marks: &[Mark]) -> Drawn {
    let latency = "Latency of succeeded requests by percentile (from intended send)";
    let failover = format!(
        "Failover latency by percentile ({} answered after failing over; {} never answered)",
        recorder.failover.len(),
        recorder.failover_unanswered
    );
    let spectra: [(&str, &str, Spectrum<'_>); 2] = [
        ("latency", latency, ("latency", &recorder.latency)),
        (
            "failover",
            &failover,
            ("failover latency", &recorder.failover),
        ),
    ];
    both(
        dir,
        "throughput",
        |r| draw_timeseries(r, recorder, marks),
        |r| draw_timeseries(r, recorder, marks),
    )?;
    for (name, caption, spectrum) in spectra {
        both(
            dir,
            name,
            |r| draw_latency(r, caption, spectrum),
            |r| draw_latency(r, caption, spectrum),
        )?;
    }
    both(
        dir,
        "keys",
        |r| draw_keys(r, report),
        |r| draw_keys(r, report),
    )?;
    both(
        dir,
        "keys-over-time",
        |r| draw_keys_over_time(r, recorder, marks),
        |r| draw_keys_over_time(r, recorder, marks),
    )
}

/// A heatmap: a row per key, a column per interval, shaded by the key's attempts in it; a
/// cell with 429s is outlined in orange, one with other failed attempts (401, 5xx, timeouts)
/// has a red box inside, thicker for more.
fn draw_keys_over_time<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    recorder: &Recorder,
    marks: &[Mark],
) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let seconds = recorder.interval.as_secs_f64();
    let unit = time_unit(recorder.series.len() as f64 * seconds);
    let step = seconds / unit;
    let keys = recorder.per_key.len().max(1);
    let end = (recorder.series.len() as f64 * step).max(step);
    let busiest = recorder
        .series
        .iter()
        .flat_map(|s| s.per_key.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let top = keys as f64 + 0.5;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Attempts per key (darkest: {busiest} in {seconds:.0} s); outlined: 429s (orange), other failures (red)"
            ),
            (FONT, 20),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..end, -0.5f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("time into the run")
        .x_label_formatter(&|x| clock_label(*x, unit))
        .y_desc("key")
        .y_labels(keys.min(40))
        .y_label_formatter(&integer_label)
        .disable_mesh()
        .label_style((FONT, 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let blue = RGBColor(30, 120, 200);
    let orange = RGBColor(230, 120, 20);
    let red = RGBColor(200, 40, 40);
    for (i, interval) in recorder.series.iter().enumerate() {
        let x0 = i as f64 * step;
        for (k, &attempts) in interval.per_key.iter().enumerate() {
            let y = k as f64;
            if attempts > 0 {
                let shade = 0.15 + 0.85 * attempts as f64 / busiest;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y - 0.4), (x0 + step, y + 0.4)],
                        blue.mix(shade).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            let limited = interval.per_key_429.get(k).copied().unwrap_or(0);
            let failed = interval.per_key_failed.get(k).copied().unwrap_or(0);
            // 429s outline the cell; other failures outline a smaller box inside it.
            for (count, color, inset) in [
                (limited, orange, 0.4),
                (failed - limited.min(failed), red, 0.22),
            ] {
                if count > 0 {
                    let width = (1 + count.ilog2()).min(4);
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(x0, y - inset), (x0 + step, y + inset)],
                            color.stroke_width(width),
                        )))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    draw_marks(&mut chart, marks, (end, top), unit)
}

/// Writes capacity.{svg,png} for a sweep.
pub fn sweep_plot(dir: &Path, sweep: &Sweep) -> Drawn {
    both(
        dir,
        "capacity",
        |r| draw_sweep(r, sweep),
        |r| draw_sweep(r, sweep),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_axes_read_as_clock_times_on_round_steps() {
        assert_eq!(time_unit(90.0), 1.0);
        assert_eq!(time_unit(300.0), 60.0);
        assert_eq!(time_unit(8.0 * 3600.0), 3600.0);
        assert_eq!(clock_label(50.0, 1.0), "0:50");
        assert_eq!(clock_label(1.5, 60.0), "1:30");
        assert_eq!(clock_label(2.5, 3600.0), "2:30:00");
        assert_eq!(integer_label(&3.0), "3");
        assert_eq!(integer_label(&2.5), "");
    }

    #[test]
    fn a_scenarios_events_and_fault_windows_become_marks() {
        let s = crate::scenario::Scenario::from_toml(
            "name = \"m\"\n[[target.events]]\nkind = \"revoke_key\"\nkey = 2\nat = \"1m\"\n[[target.events]]\nkind = \"exhaust_daily\"\nat = \"2m\"\n[[target.faults]]\nkind = \"server_error\"\nfrom = \"30s\"\nuntil = \"90s\"\n[[target.faults]]\nkind = \"drop\"\n[keys]\ncount = 3\n[traffic]\narrival = \"constant\"\nrate = 60\nduration = \"5m\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let marks = marks(&s);
        let shown: Vec<(f64, Option<f64>, &str)> = marks
            .iter()
            .map(|m| (m.from_s, m.until_s, m.label.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (60.0, None, "key 2 revoked"),
                (120.0, None, "daily quotas spent"),
                (30.0, Some(90.0), "server_error fault"),
            ],
            "a fault active all run long is not marked"
        );
    }
}
