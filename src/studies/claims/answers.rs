//! The claims as answers: rows grouped by the claim they check, each claim answered in one
//! sentence that names the condition deciding its verdict (the one condition whose value
//! tells the rows that hold from the rows that fail) with the measured figures, a matrix of
//! its rows over the conditions that vary, and the evidence folded below.

use crate::measure::document::Table;
use crate::measure::document::{Block, Tone};
use crate::spec::metrics::Figure;

use super::{Claim, Claims, Conditions, Verdict, shorten};

/// One distinct claim and the rows that checked it, under their several conditions.
pub struct Grouped<'a> {
    /// The claim as its source states it.
    pub claim: &'a str,
    /// Who states it.
    pub source: &'a str,
    /// The rows checking it, in the order they were checked.
    pub rows: Vec<&'a Claim>,
}

/// A condition a row can differ in: how a sentence names it, and where a row holds it.
type Field = (&'static str, fn(&Conditions) -> &str);

/// The conditions a row can differ in, with how a sentence names them.
const FIELDS: [Field; 8] = [
    ("keys", |c| &c.keys),
    ("limits", |c| &c.limits),
    ("catalog of", |c| &c.as_of),
    ("model", |c| &c.model),
    ("policy", |c| &c.policy),
    ("traffic", |c| &c.traffic),
    ("request", |c| &c.request),
    ("network", |c| &c.network),
];

impl Grouped<'_> {
    /// How many of its rows have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows.iter().filter(|c| c.verdict == verdict).count()
    }

    /// Its verdicts in words: `holds in 2 of 12, fails in 10`.
    pub fn verdicts(&self) -> String {
        let n = self.rows.len();
        let parts: Vec<String> = VERDICTS
            .into_iter()
            .map(|(v, word)| (self.count(v), word))
            .filter(|(count, _)| *count > 0)
            .map(|(count, word)| {
                if count == n && n == 1 {
                    format!("{word} in the one condition checked")
                } else if count == n {
                    format!("{word} in all {n} conditions checked")
                } else {
                    format!("{word} in {count} of {n}")
                }
            })
            .collect();
        parts.join(", ")
    }

    /// The condition fields whose value differs between its rows.
    fn varying(&self) -> Vec<Field> {
        FIELDS
            .into_iter()
            .filter(|(_, get)| {
                let first = self.rows.first().map(|c| get(&c.conditions));
                self.rows.iter().any(|c| Some(get(&c.conditions)) != first)
            })
            .collect()
    }

    /// How many values of a condition were seen with more than one verdict.
    fn mixed(&self, get: fn(&Conditions) -> &str) -> usize {
        let mut mixed: Vec<&str> = Vec::new();
        for a in &self.rows {
            let value = get(&a.conditions);
            let other = self
                .rows
                .iter()
                .any(|b| get(&b.conditions) == value && b.verdict != a.verdict);
            if other && !mixed.contains(&value) {
                mixed.push(value);
            }
        }
        mixed.len()
    }

    /// The varying condition that best explains the verdicts: the one with the fewest values
    /// seen with two verdicts (none: it decides them), in [`FIELDS`] order on a tie; and
    /// whether it decides them.
    fn deciding(&self) -> Option<(Field, bool)> {
        self.varying()
            .into_iter()
            .map(|field| (field, self.mixed(field.1)))
            .min_by_key(|(_, mixed)| *mixed)
            .map(|(field, mixed)| (field, mixed == 0))
    }

    /// The answer in one sentence, with the measured figures: which condition decides the
    /// verdict and how each of its values fared, or the one verdict every row got.
    pub fn answer(&self) -> String {
        let n = self.rows.len();
        if let Some(&only) = VERDICTS
            .iter()
            .find(|(v, _)| self.count(*v) == n)
            .map(|(_, word)| word)
        {
            let example = self
                .rows
                .first()
                .map(|c| shorten(&c.measured, 160))
                .unwrap_or_default();
            let all = if n == 1 {
                "under the one condition checked".to_owned()
            } else {
                format!("under all {n} conditions checked")
            };
            return format!("{} {all}; e.g. {example}.", capitalise(only));
        }
        let Some(((field, get), decides)) = self.deciding() else {
            return format!(
                "{}: no condition told apart; see each row.",
                capitalise(&self.verdicts())
            );
        };
        let all: Vec<&str> = self.rows.iter().map(|c| get(&c.conditions)).collect();
        let parts: Vec<String> = VERDICTS
            .into_iter()
            .filter(|(v, _)| self.count(*v) > 0)
            .map(|(v, word)| {
                // Each value once, with every figure measured under it.
                let mut values: Vec<(String, Vec<String>)> = Vec::new();
                for c in self.rows.iter().filter(|c| c.verdict == v) {
                    let value = shorten(&distinct_part(get(&c.conditions), &all), 90);
                    match values.iter_mut().find(|(seen, _)| *seen == value) {
                        Some((_, figures)) => figures.push(figure(c)),
                        None => values.push((value, vec![figure(c)])),
                    }
                }
                let values: Vec<String> = values
                    .into_iter()
                    .map(|(value, figures)| format!("“{value}” ({})", figures.join("; ")))
                    .collect();
                format!("{word} with {field} {}", values.join(", "))
            })
            .collect();
        if decides {
            format!("{}.", capitalise(&parts.join("; ")))
        } else {
            format!(
                "{}: no single condition decides it; by {field}: {}.",
                capitalise(&self.verdicts()),
                parts.join("; ")
            )
        }
    }

    /// The claim's rows over the conditions that vary between them, with what each measured
    /// and its verdict.
    fn matrix(&self) -> Table {
        let varying = self.varying();
        let mut head: Vec<&str> = varying.iter().map(|(name, _)| *name).collect();
        head.extend(["measured", "verdict", "run"]);
        Table {
            head: Table::heads(&head),
            rows: self
                .rows
                .iter()
                .map(|c| {
                    let mut row: Vec<String> = varying
                        .iter()
                        .map(|(_, get)| shorten(get(&c.conditions), 120))
                        .collect();
                    row.extend([
                        figure(c),
                        format!("**{:?}**", c.verdict),
                        c.run.as_ref().map_or_else(
                            || "a search over many runs".to_owned(),
                            |run| format!("[{run}]({run}/report.html)"),
                        ),
                    ]);
                    row
                })
                .collect(),
        }
    }

    /// The claim's section: its answer, the matrix, and the evidence folded.
    fn blocks(&self) -> Vec<Block> {
        let evidence = self
            .rows
            .iter()
            .map(|c| {
                format!(
                    "`{}` — **{:?}**: {}. Conditions: {}. {}",
                    c.id,
                    c.verdict,
                    c.measured,
                    c.conditions.line(),
                    c.detail
                )
            })
            .collect();
        vec![
            Block::Heading(2, format!("“{}” ({})", self.claim, self.source)),
            Block::Verdict(tone(self), self.answer()),
            Block::Table(self.matrix()),
            Block::Folded(
                format!(
                    "Evidence: {} with their full conditions and how each was measured",
                    crate::spec::scenario::plural(self.rows.len() as u64, "row", "rows")
                ),
                vec![Block::List(evidence)],
            ),
        ]
    }
}

const VERDICTS: [(Verdict, &str); 3] = [
    (Verdict::Holds, "holds"),
    (Verdict::Fails, "fails"),
    (Verdict::Inconclusive, "inconclusive"),
];

/// What tells `value` apart from the other `values`: without the words they all begin with,
/// and without a parenthesised link (a limit's source is in the matrix).
fn distinct_part(value: &str, values: &[&str]) -> String {
    let mut common = values
        .iter()
        .map(|v| {
            value
                .char_indices()
                .zip(v.chars())
                .find(|((_, a), b)| a != b)
                .map_or(value.len().min(v.len()), |((i, _), _)| i)
        })
        .min()
        .unwrap_or(0);
    // Back to the start of the word the values part at.
    while common > 0
        && !(value.is_char_boundary(common) && value[..common].ends_with([' ', ';', ',']))
    {
        common -= 1;
    }
    let rest = &value[common..];
    let rest = match rest.find(" (http") {
        Some(open) => {
            // The link's closing parenthesis, past any nested ones.
            let mut depth = 0usize;
            let close = rest[open + 1..].char_indices().find_map(|(i, ch)| {
                match ch {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                (ch == ')' && depth == 0).then_some(open + 1 + i)
            });
            match close {
                Some(close) => format!("{}{}", &rest[..open], &rest[close + 1..]),
                None => rest.to_owned(),
            }
        }
        None => rest.to_owned(),
    };
    if common > 0 {
        format!("…{rest}")
    } else {
        rest
    }
}

/// A row's figure in short: the value and its unit up to the first qualifier.
fn figure(c: &Claim) -> String {
    let unit = c
        .figure
        .unit
        .split([';', '('])
        .next()
        .unwrap_or_default()
        .trim();
    let value = match c.figure.value {
        Figure::Value(v) if unit.ends_with("_rate") => {
            return format!("{} {}", percent(v), unit.trim_end_matches("_rate"));
        }
        Figure::Value(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Figure::Value(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        other => other.show(3),
    };
    format!("{value} {unit}")
}

/// A share as a person reads it: "100 %", "0.7 %", "99.94 %" (two decimals from 99 %, so a
/// share short of 100 % never reads as 100 %: it is cut, not rounded, there).
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == p.trunc() {
        format!("{p:.0} %")
    } else if (99.0..100.0).contains(&p) {
        format!("{:.2} %", (p * 100.0).trunc() / 100.0)
    } else {
        format!("{p:.1} %")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A claim's colour: fails if any row fails, holds if every row holds.
fn tone(g: &Grouped<'_>) -> Tone {
    if g.count(Verdict::Fails) > 0 {
        Tone::Fail
    } else if g.count(Verdict::Holds) == g.rows.len() {
        Tone::Pass
    } else {
        Tone::Inconclusive
    }
}

impl Claims {
    /// The rows grouped by the claim they check (same words, same source), in first-seen
    /// order.
    pub fn grouped(&self) -> Vec<Grouped<'_>> {
        let mut groups: Vec<Grouped<'_>> = Vec::new();
        for c in &self.claims {
            // A row per policy checks the same claim: the policy is one of its conditions.
            let claim = c.claim.split(" (policy ").next().unwrap_or(&c.claim);
            match groups
                .iter_mut()
                .find(|g| g.claim == claim && g.source == c.source)
            {
                Some(g) => g.rows.push(c),
                None => groups.push(Grouped {
                    claim,
                    source: &c.source,
                    rows: vec![c],
                }),
            }
        }
        groups
    }

    /// The tally in one sentence.
    pub fn tally(&self) -> String {
        format!(
            "Of {} distinct claims checked in {} rows (each under its own conditions), {} rows hold, {} fail and {} are inconclusive.",
            self.grouped().len(),
            self.claims.len(),
            self.count(Verdict::Holds),
            self.count(Verdict::Fails),
            self.count(Verdict::Inconclusive)
        )
    }

    /// What the terminal shows: the tally, then per distinct claim its verdicts and its
    /// answer; the matrices and evidence are in claims.md and claims.html.
    pub fn summary(&self) -> String {
        let mut out = format!("{}\n{}\n\n", self.title, self.tally());
        for g in self.grouped() {
            let mark = match tone(&g) {
                Tone::Fail => "✗",
                Tone::Pass => "✓",
                Tone::Inconclusive => "?",
            };
            out.push_str(&format!(
                "{mark} “{}” ({}): {}\n    {}\n",
                g.claim,
                g.source,
                g.verdicts(),
                shorten(&g.answer(), 400)
            ));
        }
        out
    }

    /// The answers as blocks: the overview (claim, source, verdicts, answer), then a section
    /// per claim.
    pub fn answer_blocks(&self) -> Vec<Block> {
        let groups = self.grouped();
        let mut blocks = vec![Block::Table(Table {
            head: Table::heads(&["claim", "source", "verdicts", "answer"]),
            rows: groups
                .iter()
                .map(|g| {
                    vec![
                        g.claim.to_owned(),
                        g.source.to_owned(),
                        g.verdicts(),
                        g.answer(),
                    ]
                })
                .collect(),
        })];
        for g in &groups {
            blocks.extend(g.blocks());
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::metrics::Figure;
    use crate::studies::claims::Measured;

    fn row(id: &str, claim: &str, keys: &str, policy: &str, value: f64, verdict: Verdict) -> Claim {
        Claim {
            id: id.to_owned(),
            claim: claim.to_owned(),
            source: "seed 000".to_owned(),
            conditions: Conditions {
                as_of: "2025-12-24".to_owned(),
                limits: "Groq's published free tier (https://example.test/limits (seen 2026-06-04)): RPM 30".to_owned(),
                model: "m".to_owned(),
                keys: keys.to_owned(),
                policy: policy.to_owned(),
                traffic: "Poisson".to_owned(),
                request: "400 tokens".to_owned(),
                network: "80 ms".to_owned(),
            },
            measured: format!("{value}× one key"),
            figure: Measured {
                value: Figure::Value(value),
                unit: "× one key's sustained capacity; samples = runs".to_owned(),
                samples: 3,
            },
            verdict,
            rule: None,
            detail: String::new(),
            run: None,
            evidence: None,
        }
    }

    fn claims(rows: Vec<Claim>) -> Claims {
        Claims {
            schema: 0,
            title: "t".to_owned(),
            numbers: String::new(),
            wall_s: 0.0,
            claims: rows,
            apps: None,
        }
    }

    #[test]
    fn the_answer_names_the_condition_that_decides_the_verdict_with_its_figures() {
        let c = claims(vec![
            row(
                "a",
                "5x",
                "5 keys, each its own organisation",
                "round-robin",
                5.0,
                Verdict::Holds,
            ),
            row(
                "b",
                "5x",
                "5 keys, all in one organisation",
                "round-robin",
                1.0,
                Verdict::Fails,
            ),
        ]);
        let groups = c.grouped();
        assert_eq!(groups.len(), 1);
        assert_eq!(
            groups[0].answer(),
            "Holds with keys “…each its own organisation” (5 × one key's sustained capacity); \
             fails with keys “…all in one organisation” (1 × one key's sustained capacity)."
        );
    }

    #[test]
    fn rows_per_policy_are_one_claim_and_the_policy_a_condition() {
        let c = claims(vec![
            row(
                "a",
                "Failover < 200 ms (policy cooldown)",
                "5 keys",
                "cooldown",
                90.0,
                Verdict::Holds,
            ),
            row(
                "b",
                "Failover < 200 ms (policy round-robin)",
                "5 keys",
                "round-robin",
                900.0,
                Verdict::Fails,
            ),
            row(
                "c",
                "Failover < 200 ms (policy adaptive)",
                "5 keys",
                "adaptive",
                900.0,
                Verdict::Fails,
            ),
        ]);
        let groups = c.grouped();
        assert_eq!(groups.len(), 1, "one claim, three policies");
        assert_eq!(groups[0].claim, "Failover < 200 ms");
        let answer = groups[0].answer();
        assert!(
            answer.starts_with("Holds with policy “cooldown”"),
            "{answer}"
        );
        assert!(
            answer.contains("fails with policy “round-robin”"),
            "{answer}"
        );
        assert_eq!(groups[0].verdicts(), "holds in 1 of 3, fails in 2 of 3");
        let matrix = groups[0].matrix();
        assert_eq!(
            matrix.head,
            ["policy", "measured", "verdict", "run"],
            "only what varies"
        );
    }

    #[test]
    fn a_value_seen_twice_is_named_once_with_both_figures() {
        let c = claims(vec![
            row(
                "a",
                "5x",
                "5 keys, each its own organisation",
                "round-robin",
                5.0,
                Verdict::Holds,
            ),
            row(
                "b",
                "5x",
                "5 keys, each its own organisation",
                "cooldown",
                5.2,
                Verdict::Holds,
            ),
            row(
                "c",
                "5x",
                "5 keys, all in one organisation",
                "round-robin",
                1.0,
                Verdict::Fails,
            ),
        ]);
        let answer = c.grouped()[0].answer();
        assert!(
            answer.starts_with(
                "Holds with keys “…each its own organisation” (5 × one key's sustained capacity; 5.200 ×"
            ),
            "{answer}"
        );
        assert_eq!(answer.matches("each its own").count(), 1, "{answer}");
    }

    #[test]
    fn no_single_condition_deciding_is_said_so() {
        let c = claims(vec![
            row("a", "x", "5 keys", "p", 1.0, Verdict::Holds),
            row("b", "x", "5 keys", "q", 1.0, Verdict::Fails),
            row("c", "x", "3 keys", "p", 1.0, Verdict::Fails),
        ]);
        assert!(
            c.grouped()[0]
                .answer()
                .contains("no single condition decides it")
        );
    }

    #[test]
    fn a_distinct_part_drops_the_shared_words_and_the_link() {
        let values = [
            "Groq's published free tier for llama (https://x.test/a (seen 2026-06-04)): RPM 30",
            "Groq's published free tier for gpt-oss (https://x.test/a (seen 2026-06-04)): RPM 30",
            "the seeds' own 30 req/min",
        ];
        assert_eq!(distinct_part(values[0], &values[..2]), "…llama: RPM 30");
        assert_eq!(
            distinct_part(values[2], &values),
            "the seeds' own 30 req/min"
        );
        // Multi-byte characters where the values part are cut at a character boundary.
        assert_eq!(distinct_part("a “b” c", &["a “b” c", "a “b” d"]), "…c");
    }
}
