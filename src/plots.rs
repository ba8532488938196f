//! Plots of a run, a sweep or a plan, each as SVG and PNG (plotters, pure Rust: the PNG text
//! uses the DejaVu Sans font shipped in assets/, no system font libraries). Line charts come
//! from [`crate::chart`], the same data the HTML pages draw interactively.

use std::path::Path;
use std::sync::Once;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use crate::chart::{self, Chart, Mark, XKind};
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
/// A bar group: label, colour, x offset, value of a key.
type Bar = (
    &'static str,
    RGBColor,
    f64,
    fn(&crate::report::KeyReport) -> u64,
);

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
    let last = chart.x.last().copied().unwrap_or(0.0);
    let unit = match chart.x_kind {
        XKind::Clock => time_unit(last),
        XKind::Nines | XKind::Count => 1.0,
    };
    let right = match chart.x_kind {
        XKind::Clock => (last / unit).max(1.0 / unit),
        XKind::Nines => last.max(2.0).ceil(),
        XKind::Count => last + 0.5,
    };
    // Headroom above the lines for the legend.
    let top = chart.top().unwrap_or(0.0).max(0.1) * 1.45;
    let mut area = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, 20))
        .margin(14)
        .margin_right(40)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..right, 0f64..top)
        .map_err(|e| e.to_string())?;
    let clock = |x: &f64| clock_label(*x, unit);
    let x_format: &dyn Fn(&f64) -> String = match chart.x_kind {
        XKind::Clock => &clock,
        XKind::Nines => &nines_label,
        XKind::Count => &integer_label,
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
            (right * 0.4, top * 0.5),
            (FONT, 18),
        )))
        .map_err(|e| e.to_string())?;
    }
    draw_marks(&mut area, &chart.marks, (right, top), unit)?;
    let corner = match chart.x_kind {
        XKind::Count => SeriesLabelPosition::UpperLeft,
        XKind::Clock | XKind::Nines => SeriesLabelPosition::UpperRight,
    };
    legend(&mut area, corner)
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

/// A figure of a page, under its heading: a line chart (drawn interactively in HTML) or a
/// drawing (inlined as its SVG).
#[derive(Debug, Clone)]
pub enum Plot {
    /// A line chart.
    Chart(Chart),
    /// An SVG drawing.
    Drawing(String),
}

/// Writes plan.{svg,png}: the chosen policy's goodput rate and the share of seeds meeting the
/// objective, per key count, around the answer; returns it for the page.
pub fn plan_plot(dir: &Path, plan: &crate::plan::Plan) -> Result<Plot, String> {
    both(dir, "plan", |r| draw_plan(r, plan), |r| draw_plan(r, plan)).map(Plot::Drawing)
}

/// Writes a run's plots as .svg and .png — throughput over time, latency and failover
/// percentiles, each organisation's quota left per window that ran low (embedded mock), per-key
/// use, per-key attempts over time — the scenario's events and fault windows marked on the
/// time axes; returns them with their headings, in page order.
pub fn run_plots(
    dir: &Path,
    finished: &crate::run::Finished,
    marks: &[Mark],
) -> Result<Vec<(&'static str, Plot)>, String> {
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
    let quota = finished
        .quota
        .charts(marks)
        .into_iter()
        .map(|chart| ("Quota left per organisation", chart));
    let mut plots = Vec::new();
    for (heading, chart) in charts.into_iter().chain(quota) {
        both_chart(dir, &chart)?;
        plots.push((heading, Plot::Chart(chart)));
    }
    let keys = both(
        dir,
        "keys",
        |r| draw_keys(r, report),
        |r| draw_keys(r, report),
    )?;
    plots.push(("Per-key use", Plot::Drawing(keys)));
    let over_time = both(
        dir,
        "keys-over-time",
        |r| draw_keys_over_time(r, recorder, marks),
        |r| draw_keys_over_time(r, recorder, marks),
    )?;
    plots.push((
        "Per-key attempts and failures over time",
        Plot::Drawing(over_time),
    ));
    Ok(plots)
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

/// Writes capacity.{svg,png} for a sweep; returns its chart for the page.
pub fn sweep_plot(dir: &Path, sweep: &Sweep) -> Result<Plot, String> {
    let chart = chart::capacity(sweep);
    both_chart(dir, &chart)?;
    Ok(Plot::Chart(chart))
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
