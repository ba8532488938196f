//! Plots of a run, a sweep or a plan, each as SVG and PNG (plotters, pure Rust: the PNG text
//! uses the DejaVu Sans font shipped in assets/, no system font libraries). Line charts come
//! from [`crate::output::chart`], the same data the HTML pages draw interactively.

use std::path::Path;
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use crate::output::chart::{self, Chart, Mark, PerKey, XKind};
use crate::studies::sweep::Sweep;

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (960, 440);
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        );
    });
}

type Drawn = Result<(), String>;

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

/// Draws with `draw` into `<dir>/<name>.svg` and `<dir>/<name>.png`; the SVG's text, for a
/// page to inline.
fn both(
    dir: &Path,
    name: &str,
    svg_draw: impl Fn(&DrawingArea<SVGBackend, Shift>) -> Drawn,
    png_draw: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> Drawn,
) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        svg_draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    std::fs::write(dir.join(format!("{name}.svg")), &svg).map_err(|e| e.to_string())?;
    let png = dir.join(format!("{name}.png"));
    let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
    png_draw(&root)?;
    root.present().map_err(|e| e.to_string())?;
    Ok(svg)
}

/// The chart's series on `area`, x in units of `unit` seconds: measurements as solid lines
/// (with points on a count axis), references dashed.
fn draw_lines<DB: DrawingBackend>(
    area: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    chart: &Chart,
    unit: f64,
) -> Drawn {
    if chart.x_kind == XKind::Key {
        return draw_bars(area, chart);
    }
    for series in &chart.series {
        let (r, g, b) = series.rgb;
        let color = RGBColor(r, g, b);
        let points: Vec<(f64, f64)> = chart
            .x
            .iter()
            .zip(&series.values)
            .filter_map(|(x, v)| v.map(|v| (x / unit, v)))
            .collect();
        let style = color.stroke_width(if series.reference { 1 } else { 2 });
        let drawn = if series.reference {
            area.draw_series(DashedLineSeries::new(points.clone(), 6, 4, style))
        } else {
            area.draw_series(LineSeries::new(points.clone(), style))
        };
        drawn
            .map_err(|e| e.to_string())?
            .label(series.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        if chart.x_kind == XKind::Count && !series.reference {
            area.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Draws each series as a bar at every x, the series side by side within 0.8 of a unit.
fn draw_bars<DB: DrawingBackend>(
    area: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    chart: &Chart,
) -> Drawn {
    let width = 0.8 / chart.series.len().max(1) as f64;
    for (i, series) in chart.series.iter().enumerate() {
        let (r, g, b) = series.rgb;
        let color = RGBColor(r, g, b);
        let x0 = -0.4 + i as f64 * width;
        area.draw_series(chart.x.iter().zip(&series.values).filter_map(|(x, v)| {
            v.map(|v| Rectangle::new([(x + x0, 0.0), (x + x0 + width, v)], color.filled()))
        }))
        .map_err(|e| e.to_string())?
        .label(series.label.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    Ok(())
}

/// A percentile axis' label from its number of nines: 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9%;
/// blank between whole nines.
fn nines_label(x: &f64) -> String {
    if (x - x.round()).abs() > 1e-6 {
        return String::new();
    }
    let n = x.round() as i32;
    let pct = 100.0 - 100.0 / 10f64.powi(n);
    format!("{pct:.*}%", (n - 2).max(0) as usize)
}

/// A chart as `<dir>/<id>.svg` and `.png`.
fn both_chart(dir: &Path, chart: &Chart) -> Drawn {
    both(
        dir,
        &chart.id,
        |r| draw_chart(r, chart),
        |r| draw_chart(r, chart),
    )
    .map(drop)
}

/// Draws a line chart: its series, a legend, a note when there is no sample, and on a time
/// axis its marks, the time as m:ss on round steps.
fn draw_chart<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = chart.x_range();
    let unit = match chart.x_kind {
        XKind::Clock => time_unit(right),
        XKind::Nines | XKind::Count | XKind::Key => 1.0,
    };
    let (left, right) = (left / unit, right / unit);
    // Headroom above the lines for the legend.
    let top = chart.top().unwrap_or(0.0).max(0.1) * 1.45;
    let mut area = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, 20))
        .margin(14)
        .margin_right(40)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(left..right, 0f64..top)
        .map_err(|e| e.to_string())?;
    let clock = |x: &f64| clock_label(*x, unit);
    let x_format: &dyn Fn(&f64) -> String = match chart.x_kind {
        XKind::Clock => &clock,
        XKind::Nines => &nines_label,
        XKind::Count | XKind::Key => &integer_label,
    };
    let y_format = |y: &f64| {
        if top < 10.0 {
            format!("{y:.1}")
        } else {
            format!("{y:.0}")
        }
    };
    let mut mesh = area.configure_mesh();
    mesh.x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_label_formatter(x_format)
        .y_label_formatter(&y_format)
        .label_style((FONT, 14));
    if chart.x_kind != XKind::Clock {
        mesh.x_labels((right as usize + 1).min(12));
    }
    mesh.draw().map_err(|e| e.to_string())?;
    draw_lines(&mut area, chart, unit)?;
    if chart.x.is_empty() {
        area.draw_series(std::iter::once(Text::new(
            "no data: no sample",
            (left + (right - left) * 0.4, top * 0.5),
            (FONT, 18),
        )))
        .map_err(|e| e.to_string())?;
    }
    draw_marks(&mut area, &chart.marks, (right, top), unit)?;
    let corner = match chart.x_kind {
        XKind::Count => SeriesLabelPosition::UpperLeft,
        XKind::Clock | XKind::Nines | XKind::Key => SeriesLabelPosition::UpperRight,
    };
    legend(&mut area, corner)
}

/// Writes plan.{svg,png}: the chosen policy's goodput rate and the share of seeds meeting the
/// objective, per key count, around the answer; returns it for the page.
pub fn plan_plot(dir: &Path, plan: &crate::studies::plan::Plan) -> Result<Chart, String> {
    let chart = chart::plan(plan);
    both_chart(dir, &chart)?;
    Ok(chart)
}

/// Writes a run's plots as .svg and .png — throughput over time, latency and failover
/// percentiles, each organisation's quota left per window that ran low (embedded mock), per-key
/// use, per-key attempts, 429s and other failures over time — the scenario's events and fault
/// windows marked on the time axes; a chart with nothing to show (no sample, only zeros) is
/// left out. Returns them with their headings, in page order.
pub fn run_plots(
    dir: &Path,
    finished: &crate::run::Finished,
    marks: &[Mark],
) -> Result<Vec<(&'static str, Chart)>, String> {
    let (report, recorder) = (&finished.report, &finished.recorder);
    let failover = format!(
        "Failover latency by percentile ({} answered after failing over; {} never answered)",
        recorder.failover.len(),
        recorder.failover_unanswered
    );
    let charts = [
        (
            "Throughput and failures",
            chart::throughput(recorder, marks),
        ),
        (
            "Latency",
            chart::spectrum(
                "latency",
                "Latency of succeeded requests by percentile (from intended send)",
                "latency",
                &recorder.latency,
            ),
        ),
        (
            "Failover latency",
            chart::spectrum(
                "failover",
                &failover,
                "failover latency",
                &recorder.failover,
            ),
        ),
    ];
    let quota = chart::quota(&finished.quota, marks)
        .into_iter()
        .map(|chart| ("Quota left per organisation", chart));
    let mut plots = Vec::new();
    for (heading, chart) in charts.into_iter().chain(quota) {
        if chart.has_data() {
            both_chart(dir, &chart)?;
            plots.push((heading, chart));
        }
    }
    let keys = chart::keys(report);
    both_chart(dir, &keys)?;
    plots.push(("Per-key use", keys));
    for (heading, what) in [
        ("Per-key attempts over time", PerKey::Attempts),
        ("Per-key 429s over time", PerKey::RateLimited),
        ("Per-key other failures over time", PerKey::OtherFailures),
    ] {
        let chart = chart::per_key(recorder, marks, what);
        if chart.has_data() {
            both_chart(dir, &chart)?;
            plots.push((heading, chart));
        }
    }
    Ok(plots)
}

/// Writes capacity.{svg,png} for a sweep; returns its chart for the page.
pub fn sweep_plot(dir: &Path, sweep: &Sweep) -> Result<Chart, String> {
    let chart = chart::capacity(sweep);
    both_chart(dir, &chart)?;
    Ok(chart)
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
        assert_eq!(nines_label(&2.0), "99%");
        assert_eq!(nines_label(&3.0), "99.9%");
        assert_eq!(nines_label(&1.5), "");
    }
}
