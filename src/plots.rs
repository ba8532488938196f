//! Plots of a run or a sweep, each as SVG and PNG (plotters, pure Rust: the PNG text uses the
//! DejaVu Sans font shipped in assets/, no system font libraries).

use std::path::Path;
use std::sync::Once;

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
) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let step = recorder.interval.as_secs_f64();
    let per_s = |n: u64| n as f64 / step;
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
        .x_desc("time into the run (s)")
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

fn draw_latency<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, recorder: &Recorder) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    // Percentile spectrum: x = number of nines, 1/(1-p) on a log10 scale.
    let points: Vec<(f64, f64)> = if recorder.latency.is_empty() {
        Vec::new()
    } else {
        recorder
            .latency
            .iter_quantiles(5)
            .map(|v| v.quantile_iterated_to())
            .filter(|q| *q < 0.99999)
            .map(|q| {
                (
                    (1.0 / (1.0 - q)).log10(),
                    recorder.latency.value_at_quantile(q) as f64 / 1000.0,
                )
            })
            .collect()
    };
    let top = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let right = points
        .iter()
        .map(|p| p.0)
        .fold(0.0f64, f64::max)
        .max(2.0)
        .ceil();
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Latency of succeeded requests by percentile (from intended send)",
            (FONT, 22),
        )
        .margin(14)
        .margin_right(40)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..right, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
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
        .label("latency")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
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
    let bars: [Bar; 3] = [
        ("attempts", RGBColor(150, 150, 150), -0.3, |k| k.attempts),
        ("succeeded", RGBColor(30, 120, 200), -0.1, |k| k.succeeded),
        ("answered 429", RGBColor(230, 150, 20), 0.1, |k| {
            k.rate_limited
        }),
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

/// Writes throughput.{svg,png}, latency.{svg,png} and keys.{svg,png} for a run.
pub fn run_plots(dir: &Path, report: &Report, recorder: &Recorder) -> Drawn {
    both(
        dir,
        "throughput",
        |r| draw_timeseries(r, recorder),
        |r| draw_timeseries(r, recorder),
    )?;
    both(
        dir,
        "latency",
        |r| draw_latency(r, recorder),
        |r| draw_latency(r, recorder),
    )?;
    both(
        dir,
        "keys",
        |r| draw_keys(r, report),
        |r| draw_keys(r, report),
    )
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
