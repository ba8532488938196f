//! The plan as a document: the answer first, then the event and its limits, the bounds, the
//! simulated counts, the confidence, the tiers side by side, the notes. `plan.md` and the
//! plan's `report.html` render the same blocks.

use std::fmt::Write as _;

use humantime_serde::re::humantime::format_duration;

use super::{Plan, Simulated};
use crate::measure::document::Table;
use crate::measure::document::{Block, Tone};
use crate::spec::metrics::Figure;

impl Plan {
    /// The objective as stated: goodput, and the latency objectives that were set.
    fn objective_text(&self) -> String {
        let i = &self.input;
        let mut text = format!(
            "≥ {} of requests answered within {}",
            i.objective,
            format_duration(i.latency_budget)
        );
        if let Some(m) = i.max_p99_ms {
            let _ = write!(text, ", p99 ≤ {m} ms");
        }
        if let Some(m) = i.max_wait_ms {
            let _ = write!(text, ", longest wait ≤ {m} ms");
        }
        text
    }

    /// What the waits were at the simulated minimum when no objective bounded them, so the
    /// answer does not pass off long waits as met.
    fn waits_at_minimum(&self) -> String {
        let i = &self.input;
        let Some(point) = self
            .simulated
            .min_keys
            .and_then(|k| self.simulated.points.iter().find(|p| p.keys == k))
        else {
            return String::new();
        };
        if i.max_p99_ms.is_some() && i.max_wait_ms.is_some() {
            return String::new();
        }
        format!(
            " No objective bounded how long users wait: at {} keys the p99 was {} ms and the longest answered request waited {} ms (size for waits with --max-p99-ms and --max-wait-ms).",
            point.keys,
            point.p99_ms.show(0),
            point.max_ms.show(0)
        )
    }

    /// Whether the answer is only the analytical bound: nothing was simulated.
    fn bound_only(&self) -> bool {
        self.simulated.points.is_empty()
    }

    /// The recommendation in words, with its confidence when one was measured.
    pub fn recommendation(&self) -> String {
        let Some(keys) = self.recommended_keys else {
            return "no key count meets the objective".to_owned();
        };
        if self.bound_only() {
            return format!(
                "at least {keys} keys, the analytical lower bound from the limits alone (not simulated: the real need is this or more)"
            );
        }
        let share = self.confidence.as_ref().and_then(|c| {
            c.counts
                .iter()
                .find(|s| s.keys as u64 == keys)
                .map(|s| (c.level, s))
        });
        match share {
            Some((level, s)) => format!(
                "{keys} keys, the fewest whose simulated event met the objective under at least {:.0} % of seeds ({} of {}; 95 % interval {:.0}–{:.0} %)",
                level * 100.0,
                s.met,
                s.seeds,
                s.low * 100.0,
                s.high * 100.0
            ),
            None => format!("{keys} keys"),
        }
    }

    /// What the answer assumes of the keys' daily budgets, said with it.
    /// With a full-budget answer, what the limits alone need without that assumption (the
    /// analytical bound in steady state; not simulated).
    fn budget_assumption(&self) -> String {
        if self.input.steady {
            return "keys in steady state (the traffic goes on day after day: daily budgets are not full at the start).".to_owned();
        }
        let steady = super::analytical(
            &super::PlanInput {
                steady: true,
                ..self.input.clone()
            },
            &self.limits,
        );
        format!(
            "every key starts the event with its full daily budget. Without that (keys that served traffic earlier that day, or every day), the limits alone need at least {} keys ({} binds; the analytical bound in steady state, not simulated: plan with --steady for that case).",
            steady.min_keys,
            steady.binding.to_uppercase()
        )
    }

    /// The plan as blocks, the answer first.
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = vec![Block::Heading(1, "Key plan".to_owned())];
        blocks.extend(self.answer_blocks());
        blocks.extend(self.bound_blocks());
        self.simulated_blocks(&mut blocks);
        self.confidence_blocks(&mut blocks);
        if let Some(t) = &self.tiers {
            blocks.extend(t.blocks(self.input.policy.text()));
        }
        if !self.notes.is_empty() {
            blocks.push(Block::List(
                self.notes.iter().map(|n| format!("Note: {n}")).collect(),
            ));
        }
        blocks
    }

    /// The recommendation and its objective, then the event it is for.
    fn answer_blocks(&self) -> [Block; 2] {
        let (i, a) = (&self.input, &self.analytical);
        let tone = if self.recommended_keys.is_some() {
            Tone::Pass
        } else {
            Tone::Fail
        };
        let (scope, scopes) = i.scope_nouns();
        let keys_in = if i.layout == crate::spec::scenario::Layout::Shared {
            format!("one shared {scope}")
        } else {
            format!("separate {scopes}")
        };
        let api = match i.provider {
            crate::engine::provider::ProviderName::Groq => format!("the catalog of {}", i.as_of()),
            _ => i.provider_name().to_owned(),
        };
        [
            Block::Verdict(
                tone,
                format!(
                    "{}: {}. Objective: {}; {} tier, `{}`, keys in {keys_in}; {}",
                    if self.bound_only() {
                        "Lower bound"
                    } else {
                        "Recommended"
                    },
                    self.recommendation(),
                    self.objective_text(),
                    i.tier.name(),
                    i.model(),
                    self.budget_assumption(),
                ),
            ),
            Block::Paragraph(format!(
                "{} users × {} queries over {} ({:.0} requests; peak {:.1} req/min), {} prompt + {} completion tokens, `{}` on {api}; limits per {scope}: {} ({}).",
                i.users,
                i.queries_per_user,
                format_duration(i.duration),
                a.requests,
                a.peak_rpm,
                i.prompt_tokens,
                i.completion_tokens,
                i.model(),
                self.limits,
                self.limits_source
            )),
        ]
    }

    /// The analytical bound: each limit's demand and the keys it needs, and which binds.
    fn bound_blocks(&self) -> [Block; 3] {
        const HOUR: u64 = 3600;
        const DAY: u64 = 86_400;
        let a = &self.analytical;
        let row = |b: &super::Bound| {
            let binds = if b.limit == a.binding {
                " ← binds"
            } else {
                ""
            };
            // Demand is weighed over the busiest hour for a minute limit and the busiest day
            // for a day limit, or the whole event if shorter (bound.rs).
            let (noun, per, span) = match b.limit.as_str() {
                "rpm" => ("requests", "min", HOUR),
                "tpm" => ("tokens", "min", HOUR),
                "rpd" => ("requests", "day", DAY),
                "tpd" => ("tokens", "day", DAY),
                _ => ("", "", DAY),
            };
            let unit = format!("{noun}/{per}");
            let over = match span {
                _ if self.input.duration.as_secs() <= span => "over the whole event",
                HOUR => "in the busiest hour",
                _ => "in the busiest day",
            };
            vec![
                b.limit.to_uppercase(),
                format!("{:.0} {noun} {over}", b.demand),
                b.per_key
                    .map_or("unlimited".to_owned(), |v| format!("{v} {unit}")),
                format!("{}{binds}", b.keys),
            ]
        };
        [
            Block::Heading(2, "Analytical lower bound".to_owned()),
            Block::Table(Table {
                head: Table::heads(&["limit", "demand", "per key", "keys needed"]),
                rows: a.bounds.iter().map(row).collect(),
            }),
            Block::Paragraph(format!(
                "Analytical lower bound: **{} keys** ({} binds).",
                a.min_keys,
                a.binding.to_uppercase()
            )),
        ]
    }

    fn simulated_blocks(&self, blocks: &mut Vec<Block>) {
        if self.simulated.points.is_empty() {
            return;
        }
        let show = |s: &Simulated| s.min_keys.map_or("not met".to_owned(), |k| k.to_string());
        blocks.push(Block::Heading(2, "Simulated minimum".to_owned()));
        blocks.push(Block::Paragraph(format!(
            "Simulated minimum with `{}` ({}), one seed: **{} keys**.{}",
            self.simulated.policy,
            self.objective_text(),
            show(&self.simulated),
            self.waits_at_minimum()
        )));
        blocks.push(Block::Table(Table {
            head: Table::heads(&["policy", "keys needed"]),
            rows: std::iter::once(&self.simulated)
                .chain(&self.by_policy)
                .map(|s| vec![s.policy.clone(), show(s)])
                .collect(),
        }));
        blocks.push(Block::Table(Table {
            head: Table::heads(&[
                "keys",
                "success rate",
                "goodput rate",
                "p99 (ms)",
                "longest (ms)",
                "meets objective",
            ]),
            rows: self
                .simulated
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.keys.to_string(),
                        Figure::of(p.success_rate).show(4),
                        Figure::of(p.goodput_rate).show(4),
                        p.p99_ms.show(0),
                        p.max_ms.show(0),
                        if p.meets { "yes" } else { "no" }.to_owned(),
                    ]
                })
                .collect(),
        }));
    }

    fn confidence_blocks(&self, blocks: &mut Vec<Block>) {
        let Some(c) = &self.confidence else {
            return;
        };
        blocks.push(Block::Heading(2, "Confidence".to_owned()));
        let stopped = |s: &super::confidence::Share| s.seeds < c.seeds;
        let mut text = format!(
            "Arrivals are random, so each count below was simulated under {} seeds; the share whose event met the objective, with its 95 % Wilson interval. A count is recommended when its share reaches {:.0} %.",
            c.seeds,
            c.level * 100.0
        );
        if c.counts.iter().any(stopped) {
            text.push_str(" A count stopped early once more seeds had missed than that share allows: the rest could not have lifted it to the level, and its row shows the seeds run (`--all-seeds` runs them all).");
        }
        blocks.push(Block::Paragraph(text));
        blocks.push(Block::Table(Table {
            head: Table::heads(&[
                "keys",
                "seeds meeting the objective",
                "share",
                "95 % interval",
            ]),
            rows: c
                .counts
                .iter()
                .map(|s| {
                    vec![
                        s.keys.to_string(),
                        match stopped(s) {
                            true => format!("{} of {} run (stopped early)", s.met, s.seeds),
                            false => format!("{} of {}", s.met, s.seeds),
                        },
                        format!("{:.0} %", s.share * 100.0),
                        match stopped(s) {
                            true => "– (stopped early)".to_owned(),
                            false => format!("{:.0}–{:.0} %", s.low * 100.0, s.high * 100.0),
                        },
                    ]
                })
                .collect(),
        }));
    }

    /// The markdown answer (`plan.md`).
    pub fn markdown(&self) -> String {
        crate::measure::document::markdown(&self.blocks())
    }
}
