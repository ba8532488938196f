//! Line charts as data: a run's throughput over time, its latency and failover percentile
//! spectra, a sweep's capacity against keys, and the marks (events, fault windows) a
//! scenario puts on time axes. Each is built once, here, from the measurement;
//! [`crate::output::plots`] draws it as SVG and PNG (for report.md and anyone without a browser) and
//! [`element`] and [`scripts`] put it in a page, where uPlot (vendored in `assets/uplot`, MIT; inlined, so a
//! page needs no network) draws it interactively: hovering shows every series' value at that
//! point, dragging zooms, a double click zooms back out.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::measure::quota::{Quota, WINDOWS};
use crate::measure::recorder::Recorder;
use crate::studies::sweep::Sweep;

/// Something the scenario made happen, marked on the time axis: an instant (a key revoked,
/// a quota spent) or a window (a fault active from..until).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mark {
    /// Seconds into the run.
    pub from_s: f64,
    /// End of a window; `None` for an instant.
    pub until_s: Option<f64>,
    /// What happened.
    pub label: String,
}

/// The scenario's events and fault windows (faults active all run long are not marked).
pub fn marks(scenario: &crate::spec::scenario::Scenario) -> Vec<Mark> {
    use crate::spec::scenario::TargetEvent;
    let mut marks: Vec<Mark> = scenario
        .target
        .events()
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
    for fault in scenario.target.faults() {
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

/// What the x axis counts, which decides how its labels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XKind {
    /// Seconds into the run, shown as `m:ss`.
    Clock,
    /// Percentiles as their number of nines (1 = 90 %, 2 = 99 %).
    Nines,
    /// A whole count (keys).
    Count,
    /// A key's index: each series a bar beside the others at every key.
    Key,
}

/// Colours told apart at a glance, for lines of the same kind (replica counts,
/// organisations).
const PALETTE: [(u8, u8, u8); 10] = [
    (30, 120, 200),
    (220, 110, 30),
    (40, 160, 80),
    (170, 60, 160),
    (200, 40, 40),
    (90, 90, 90),
    (140, 90, 60),
    (230, 120, 190),
    (160, 170, 30),
    (20, 180, 200),
];

/// The `i`th line's colour, the palette repeating.
pub fn colour(i: usize) -> (u8, u8, u8) {
    PALETTE[i % PALETTE.len()]
}

/// One line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Colour as RGB.
    pub rgb: (u8, u8, u8),
    /// One value per x; `None` where the series has no point.
    pub values: Vec<Option<f64>>,
    /// Drawn dashed and thin: a reference line, not a measurement.
    pub reference: bool,
}

/// A line chart: shared x values, a series per line, events marked on a time axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Names the chart in the page (an HTML id).
    pub id: String,
    /// Caption.
    pub title: String,
    /// What x counts.
    pub x_kind: XKind,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// The x values, ascending.
    pub x: Vec<f64>,
    /// The lines.
    pub series: Vec<Series>,
    /// Events and fault windows (clock charts).
    pub marks: Vec<Mark>,
}

impl Chart {
    /// Whether it shows anything: some series has a value above zero (a chart of nothing
    /// but zeros, or of no sample, is left out of a page rather than drawn empty).
    pub fn has_data(&self) -> bool {
        self.top().is_some_and(|top| top > 0.0)
    }

    /// The largest value of any series, if any.
    pub fn top(&self) -> Option<f64> {
        self.series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .reduce(f64::max)
    }

    /// The x axis both renderings span (the PNG in [`crate::output::plots`], the page's script):
    /// a clock from 0 to the last interval; percentiles from 0 to at least 99 % (2 nines),
    /// so a spectrum of few samples shows how little of it they reach; counts and keys
    /// half a unit either side.
    pub fn x_range(&self) -> (f64, f64) {
        let first = self.x.first().copied().unwrap_or(0.0);
        let last = self.x.last().copied().unwrap_or(0.0);
        match self.x_kind {
            XKind::Clock => (0.0, last.max(1.0)),
            XKind::Nines => (0.0, last.max(2.0).ceil()),
            XKind::Count => ((first - 0.5).max(0.0), last + 0.5),
            XKind::Key => (-0.5, last + 0.5),
        }
    }
}

/// Offered, succeeded and failed requests and upstream 429s per minute, per interval.
pub fn throughput(recorder: &Recorder, marks: &[Mark]) -> Chart {
    let step = recorder.interval.as_secs_f64();
    let per_min = |n: u64| Some(n as f64 * 60.0 / step);
    let line =
        |label: &str, rgb, value: &dyn Fn(&crate::measure::recorder::Interval) -> u64| Series {
            label: label.to_owned(),
            rgb,
            values: recorder.series.iter().map(|i| per_min(value(i))).collect(),
            reference: false,
        };
    over_time(
        recorder,
        (
            "throughput",
            "Throughput and failures over time",
            "requests per minute",
        ),
        vec![
            line("offered", (120, 120, 120), &|i| i.offered),
            line("succeeded", (30, 120, 200), &|i| i.succeeded),
            line("failed", (210, 50, 50), &|i| i.failed.values().sum()),
            line("upstream 429 (attempts)", (230, 150, 20), &|i| {
                i.upstream_429
            }),
        ],
        marks,
    )
}

/// A chart over the run's intervals: `(id, title, y label)`, its lines, the scenario's marks.
fn over_time(
    recorder: &Recorder,
    (id, title, y_label): (&str, &str, &str),
    series: Vec<Series>,
    marks: &[Mark],
) -> Chart {
    let step = recorder.interval.as_secs_f64();
    Chart {
        id: id.into(),
        title: title.into(),
        x_kind: XKind::Clock,
        x_label: "time into the run".into(),
        y_label: y_label.into(),
        x: (0..recorder.series.len())
            .map(|i| i as f64 * step)
            .collect(),
        series,
        marks: marks.to_vec(),
    }
}

/// A percentile spectrum of a histogram of µs, in ms: every 0.05 nines, as far as the sample
/// reaches (n samples tell log10(n) nines), at most to 99.999 %. No points without a sample.
pub fn spectrum(id: &str, title: &str, label: &str, h: &Histogram<u64>) -> Chart {
    let reach = (h.len() as f64).log10().clamp(0.05, 5.0);
    let nines: Vec<f64> = if h.is_empty() {
        Vec::new()
    } else {
        (0..=(reach / 0.05).round() as u32)
            .map(|i| f64::from(i) * 0.05)
            .collect()
    };
    let values = nines
        .iter()
        .map(|n| Some(h.value_at_quantile(1.0 - 10f64.powf(-n)) as f64 / 1000.0))
        .collect();
    Chart {
        id: id.into(),
        title: title.into(),
        x_kind: XKind::Nines,
        x_label: "percentile".into(),
        y_label: format!("{label} (ms)"),
        x: nines,
        series: vec![Series {
            label: label.into(),
            rgb: (30, 120, 200),
            values,
            reference: false,
        }],
        marks: Vec::new(),
    }
}

/// A chart per window of the mock's limits that fell below 99 % left in some organisation:
/// a line per organisation, its share left over time, the run's marks on the time axis.
pub fn quota(q: &Quota, marks: &[Mark]) -> Vec<Chart> {
    WINDOWS
        .iter()
        .enumerate()
        .filter(|(w, _)| q.ran_low(*w))
        .map(|(w, (name, words))| Chart {
            id: format!("quota-{name}"),
            title: format!(
                "Share left of each organisation's {} ({}), {}",
                name.to_uppercase(),
                words,
                q.model()
            ),
            x_kind: XKind::Clock,
            x_label: "time into the run".into(),
            y_label: "share of the limit left (%)".into(),
            x: q.times(),
            series: (0..q.orgs())
                .map(|o| Series {
                    label: format!("org {o}"),
                    rgb: colour(o),
                    values: q
                        .share_left(o, w)
                        .into_iter()
                        .map(|left| left.map(|x| x * 100.0))
                        .collect(),
                    reference: false,
                })
                .collect(),
            marks: marks.to_vec(),
        })
        .collect()
}

/// Lines per key drawn at most; keys past them are summed into one line.
pub const KEY_LINES: usize = 10;

/// What [`per_key`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerKey {
    /// Every attempt a key made.
    Attempts,
    /// Its attempts answered 429.
    RateLimited,
    /// Its other failed attempts (401, 5xx, timeouts, broken connections).
    OtherFailures,
}

/// Points a per-key chart has at most: each covers whole intervals and at least a minute, so a
/// key's few attempts per interval read as a rate, not as a comb of 0s and 1s.
const KEY_POINTS: usize = 60;

impl PerKey {
    /// Key `k`'s attempts of this kind in interval `i`.
    fn of(self, i: &crate::measure::recorder::Interval, k: usize) -> u64 {
        let at = |v: &Vec<u64>| v.get(k).copied().unwrap_or(0);
        match self {
            PerKey::Attempts => at(&i.per_key),
            PerKey::RateLimited => at(&i.per_key_429),
            PerKey::OtherFailures => at(&i.per_key_failed).saturating_sub(at(&i.per_key_429)),
        }
    }
}

/// The keys drawn on their own (in index order) and the rest: every key when they fit in
/// [`KEY_LINES`], else the [`KEY_LINES`] − 1 with the most attempts.
fn busiest_keys(recorder: &Recorder) -> (Vec<usize>, Vec<usize>) {
    let mut keys: Vec<usize> = (0..recorder.per_key.len()).collect();
    if keys.len() <= KEY_LINES {
        return (keys, Vec::new());
    }
    let total = |k: usize| -> u64 {
        let attempts = |i| PerKey::Attempts.of(i, k);
        recorder.series.iter().map(attempts).sum()
    };
    keys.sort_by_key(|&k| std::cmp::Reverse(total(k)));
    let rest = keys.split_off(KEY_LINES - 1);
    keys.sort_unstable();
    (keys, rest)
}

/// A line per key of its attempts of `what` per minute over the run (points of at least a
/// minute, at most [`KEY_POINTS`]): the [`KEY_LINES`] − 1 busiest keys (by all attempts) each
/// on its own, the rest summed into one line.
pub fn per_key(recorder: &Recorder, marks: &[Mark], what: PerKey) -> Chart {
    let (own, rest) = busiest_keys(recorder);
    // Intervals per point: a minute at least, KEY_POINTS points at most.
    let interval = recorder.interval.as_secs_f64().max(1e-3);
    let n = recorder.series.len();
    let per_point = ((60.0 / interval).ceil() as usize)
        .max(n.div_ceil(KEY_POINTS))
        .max(1);
    let line = |label: String, rgb, group: &[usize]| Series {
        label,
        rgb,
        values: recorder
            .series
            .chunks(per_point)
            .map(|chunk| {
                let sum: u64 = chunk
                    .iter()
                    .map(|i| group.iter().map(|&k| what.of(i, k)).sum::<u64>())
                    .sum();
                Some(sum as f64 * 60.0 / (chunk.len() as f64 * interval))
            })
            .collect(),
        reference: false,
    };
    let mut series: Vec<Series> = own
        .iter()
        .enumerate()
        .map(|(n, &k)| line(format!("key {k}"), colour(n), &[k]))
        .collect();
    // Keys used alike draw one line on top of the other: one line says so instead.
    if series.len() > 1 && series.iter().all(|s| s.values == series[0].values) {
        let label = format!("each of the {} keys (all alike)", series.len());
        series.truncate(1);
        series[0].label = label;
    }
    if !rest.is_empty() {
        let label = format!("the other {} keys", rest.len());
        series.push(line(label, (150, 150, 150), &rest));
    }
    let (id, title) = match what {
        PerKey::Attempts => ("keys-attempts", "Attempts per key over time"),
        PerKey::RateLimited => ("keys-429", "429 answers per key over time"),
        PerKey::OtherFailures => (
            "keys-failed",
            "Other failed attempts per key over time (401, 5xx, timeouts)",
        ),
    };
    let span = interval * per_point as f64;
    Chart {
        id: id.into(),
        title: format!(
            "{title} (each point: {})",
            crate::spec::scenario::human(std::time::Duration::from_secs_f64(span))
        ),
        x_kind: XKind::Clock,
        x_label: "time into the run".into(),
        y_label: "attempts per minute".into(),
        x: (0..series.first().map_or(0, |s| s.values.len()))
            .map(|i| i as f64 * span)
            .collect(),
        series,
        marks: marks.to_vec(),
    }
}

/// A plan's region around its answer: the chosen policy's goodput rate and the share of seeds
/// meeting the objective per key count (a few counts below the answer, two above), with the
/// objective as a reference line.
pub fn plan(plan: &crate::studies::plan::Plan) -> Chart {
    let chosen = &plan.simulated;
    let shares = plan.confidence.as_ref().map_or(&[][..], |c| &c.counts[..]);
    let counts = chosen
        .points
        .iter()
        .map(|p| p.keys)
        .chain(shares.iter().map(|s| s.keys));
    let (lowest, highest) = counts.fold((usize::MAX, 0), |(lo, hi), k| (lo.min(k), hi.max(k)));
    let answer = plan
        .recommended_keys
        .map_or(highest, |k| usize::try_from(k).unwrap_or(highest));
    let x: Vec<f64> = if lowest > highest {
        Vec::new()
    } else {
        let lo = lowest
            .max(answer.saturating_sub((answer / 5).max(3)))
            .max(1);
        let hi = highest
            .max(answer)
            .saturating_add(1)
            .max(lo.saturating_add(1));
        (lo..=hi).map(|k| k as f64).collect()
    };
    let at = |find: &dyn Fn(usize) -> Option<f64>| -> Vec<Option<f64>> {
        x.iter().map(|&k| find(k as usize)).collect()
    };
    let mut series = vec![Series {
        label: format!("goodput rate, {} (one seed)", chosen.policy),
        rgb: (30, 120, 200),
        values: at(&|k| chosen.points.iter().find(|p| p.keys == k)?.goodput_rate),
        reference: false,
    }];
    if !shares.is_empty() {
        series.push(Series {
            label: "share of seeds meeting the objective".into(),
            rgb: (40, 160, 90),
            values: at(&|k| shares.iter().find(|s| s.keys == k).map(|s| s.share)),
            reference: false,
        });
    }
    let objective = plan.input.objective;
    series.push(Series {
        label: format!("objective: goodput ≥ {objective}"),
        rgb: (0, 0, 0),
        values: x.iter().map(|_| Some(objective)).collect(),
        reference: true,
    });
    let title = if x.is_empty() {
        "No simulated key counts: nothing to draw (see plan.md for why)".to_owned()
    } else {
        format!("Around the answer: {answer} keys")
    };
    Chart {
        id: "plan".into(),
        title,
        x_kind: XKind::Count,
        x_label: "keys (one per organisation)".into(),
        y_label: "share of requests / of seeds".into(),
        x,
        series,
        marks: Vec::new(),
    }
}

/// Per key over the whole run: attempts, succeeded, answered 429 and other failed attempts
/// (401, 5xx, timeouts), bars side by side.
pub fn keys(report: &crate::measure::report::Report) -> Chart {
    let bar =
        |label: &str, rgb, value: &dyn Fn(&crate::measure::report::KeyReport) -> u64| Series {
            label: label.to_owned(),
            rgb,
            values: report
                .per_key
                .iter()
                .map(|k| Some(value(k) as f64))
                .collect(),
            reference: false,
        };
    Chart {
        id: "keys".into(),
        title: "Attempts per key".into(),
        x_kind: XKind::Key,
        x_label: "key index".into(),
        y_label: "attempts".into(),
        x: report.per_key.iter().map(|k| k.index as f64).collect(),
        series: vec![
            bar("attempts", (150, 150, 150), &|k| k.attempts),
            bar("succeeded", (30, 120, 200), &|k| k.succeeded),
            bar("answered 429", (230, 150, 20), &|k| k.rate_limited),
            bar(
                "other failures (401, 5xx, timeouts…)",
                (200, 40, 40),
                &|k| {
                    k.attempts
                        .saturating_sub(k.succeeded)
                        .saturating_sub(k.rate_limited)
                },
            ),
        ],
        marks: Vec::new(),
    }
}

/// Capacity against keys, a line per replica count, and N × the one-key capacity beside it.
pub fn capacity(sweep: &Sweep) -> Chart {
    let mut x: Vec<f64> = sweep.points.iter().map(|p| p.keys as f64).collect();
    x.push(0.0);
    x.sort_by(f64::total_cmp);
    x.dedup();
    let mut counts: Vec<u32> = sweep.points.iter().map(|p| p.replicas).collect();
    counts.sort_unstable();
    counts.dedup();
    let mut series: Vec<Series> = counts
        .iter()
        .enumerate()
        .map(|(i, &replicas)| Series {
            label: match counts.len() {
                1 => "measured".to_owned(),
                _ => format!("{replicas} replicas"),
            },
            rgb: colour(i),
            values: x
                .iter()
                .map(|&keys| {
                    sweep
                        .points
                        .iter()
                        .find(|p| p.replicas == replicas && p.keys as f64 == keys)
                        .map(|p| p.capacity_rpm)
                })
                .collect(),
            reference: false,
        })
        .collect();
    let one = sweep
        .points
        .iter()
        .find(|p| p.keys == 1 && p.replicas == 1)
        .map(|p| p.capacity_rpm);
    if let Some(one) = one {
        series.push(Series {
            label: "N × one key".into(),
            rgb: (150, 150, 150),
            values: x.iter().map(|k| Some(one * k)).collect(),
            reference: true,
        });
    }
    Chart {
        id: "capacity".into(),
        title: format!("Capacity vs keys (goodput ≥ {})", sweep.objective),
        x_kind: XKind::Count,
        x_label: "keys".into(),
        y_label: "capacity (requests per minute)".into(),
        x,
        series,
        marks: Vec::new(),
    }
}

/// uPlot and the script that draws every chart of a page from its data; once per page.
const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
const DRAW_JS: &str = include_str!("../../assets/charts.js");

/// A chart's place in a page: its box, and its data beside it for [`scripts`] to draw.
pub fn element(chart: &Chart) -> String {
    /// The chart with the x range the script must draw (the PNG's).
    #[derive(Serialize)]
    struct Drawn<'a> {
        #[serde(flatten)]
        chart: &'a Chart,
        x_range: (f64, f64),
    }
    let drawn = Drawn {
        chart,
        x_range: chart.x_range(),
    };
    // Escaped, `</` cannot end the script element early.
    let data = serde_json::to_string(&drawn)
        .unwrap_or_else(|_| "null".into())
        .replace("</", "<\\/");
    format!(
        "<div class=\"chart\" id=\"chart-{id}\"></div>\n<script type=\"application/json\" class=\"chart-data\">{data}</script>\n",
        id = crate::measure::document::escape(&chart.id)
    )
}

/// uPlot and the script that draws every chart [`element`] of a page; once per page, after
/// them.
pub fn scripts() -> String {
    format!("<style>{UPLOT_CSS}</style>\n<script>{UPLOT_JS}</script>\n<script>{DRAW_JS}</script>\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::measure::recorder::{Recorder, RequestRecord};

    /// A recorder of `keys` keys with one answered request per key in `used`, each minute
    /// for three minutes.
    fn used(keys: usize, used: &[usize]) -> Recorder {
        let mut rec = Recorder::new(keys, Duration::from_secs(60), Duration::from_secs(5), None)
            .unwrap_or_else(|e| panic!("{e}"));
        for minute in 0..3 {
            for &k in used {
                let r = RequestRecord {
                    keys: vec![k],
                    attempts: 1,
                    ..RequestRecord::failed(Duration::from_secs(minute * 60), Duration::ZERO, "")
                };
                let answered = RequestRecord { failure: None, ..r };
                rec.record(&answered).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        rec
    }

    #[test]
    fn keys_used_alike_draw_one_line_and_a_chart_of_zeros_is_left_out() {
        let alike = per_key(&used(3, &[0, 1, 2]), &[], PerKey::Attempts);
        assert_eq!(alike.series.len(), 1);
        assert_eq!(alike.series[0].label, "each of the 3 keys (all alike)");
        let apart = per_key(&used(3, &[0, 1, 1]), &[], PerKey::Attempts);
        assert_eq!(
            apart.series.len(),
            3,
            "keys used differently keep a line each"
        );
        assert!(apart.has_data());
        let failures = per_key(&used(3, &[0, 1, 1]), &[], PerKey::OtherFailures);
        assert!(!failures.has_data(), "no failed attempt: nothing to draw");
    }
    use super::*;

    #[test]
    fn a_scenarios_events_and_fault_windows_become_marks() {
        let s = crate::spec::scenario::Scenario::from_toml(
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

    #[test]
    fn a_spectrum_without_a_sample_has_no_points_and_one_value_still_draws_a_line() {
        let mut h = Histogram::<u64>::new(3).unwrap_or_else(|e| panic!("{e}"));
        assert!(spectrum("f", "t", "l", &h).x.is_empty());
        for _ in 0..47 {
            h.record(30_000).unwrap_or_else(|e| panic!("{e}"));
        }
        let c = spectrum("f", "t", "l", &h);
        assert!(c.x.len() > 2, "{:?}", c.x);
        assert!(*c.x.last().unwrap_or(&0.0) <= 47f64.log10() + 0.05);
        assert_eq!(c.top().map(f64::round), Some(30.0));
    }

    #[test]
    fn page_data_cannot_close_its_script_element() {
        let chart = Chart {
            id: "x".into(),
            title: "</script><script>alert(1)</script>".into(),
            x_kind: XKind::Count,
            x_label: String::new(),
            y_label: String::new(),
            x: vec![1.0],
            series: Vec::new(),
            marks: Vec::new(),
        };
        let page = element(&chart);
        assert!(!page.contains("</script><script>alert"));
        assert_eq!(page.matches("</script>").count(), 1);
    }

    #[test]
    fn a_spectrum_of_few_samples_spans_to_99_percent_on_the_page_as_in_the_png() {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap_or_else(|e| panic!("{e}"));
        for us in [30_000, 30_000, 60_000] {
            h.record(us).unwrap_or_else(|e| panic!("{e}"));
        }
        let chart = super::spectrum("failover", "t", "failover latency", &h);
        // 3 samples reach half a nine (68 %); the axis still runs to 2 nines (99 %).
        assert_eq!(chart.x.last().copied(), Some(0.5));
        assert_eq!(chart.x_range(), (0.0, 2.0));
        // The page's script is handed that range and draws it.
        let element = super::element(&chart);
        assert!(element.contains("\"x_range\":[0.0,2.0]"), "{element}");
        assert!(super::DRAW_JS.contains("chart.x_range"));
    }

    #[test]
    fn windows_that_ran_low_get_a_chart_with_a_line_per_organisation() {
        let mut q = crate::measure::quota::Quota::new("m");
        q.record(0.0, &crate::measure::quota::test_state(30.0, 1000.0));
        q.record(10.0, &crate::measure::quota::test_state(6.0, 995.0));
        let charts = super::quota(&q, &[]);
        // TPD stayed above 99 %; the second organisation never used model m.
        assert_eq!(charts.len(), 1, "{charts:?}");
        let rpm = &charts[0];
        assert_eq!(rpm.id, "quota-rpm");
        assert_eq!(rpm.x, [0.0, 10.0]);
        assert_eq!(rpm.series[0].values, [Some(100.0), Some(20.0)]);
        assert_eq!(rpm.series[1].values, [None, None], "no data, never 0");
    }
}
