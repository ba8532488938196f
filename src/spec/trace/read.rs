//! Reading a trace row by row: CSV through the `csv` crate (quoted prompts with commas and
//! line breaks), JSON Lines line by line; every row capped in size, every value checked.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use serde_json::{Map, Value};

use super::{Columns, Trace, TraceError, TraceRow};
use crate::spec::limits;

/// Largest row, in bytes: a prompt of a million tokens is about 4 MB.
const ROW_CAP: u64 = 8 << 20;

/// Reads at most [`ROW_CAP`] bytes between two calls of [`Capped::next_row`], so a row
/// without an end cannot fill memory.
struct Capped<R> {
    inner: R,
    since: u64,
}

impl<R> Capped<R> {
    fn next_row(&mut self) {
        self.since = 0;
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since > ROW_CAP {
            return Err(std::io::Error::other(format!(
                "a row longer than {} MiB",
                ROW_CAP >> 20
            )));
        }
        let n = self.inner.read(buf)?;
        self.since = self.since.saturating_add(n as u64);
        Ok(n)
    }
}

/// What a trace is read from: its file, or bytes in memory.
type Input = Box<dyn Read + Send>;

enum Source {
    Csv {
        reader: Box<csv::Reader<BufReader<Capped<Input>>>>,
        record: csv::StringRecord,
        header: Vec<String>,
    },
    Jsonl {
        reader: BufReader<Capped<Input>>,
        text: String,
        line: u64,
    },
}

/// A trace's rows in order, each checked; the first error ends it.
pub struct TraceReader {
    path: String,
    columns: Columns,
    speed: f64,
    source: Source,
    /// The first row's timestamp, in seconds, when rows have timestamps.
    origin: Option<f64>,
    last: Duration,
    done: bool,
}

/// One row's fields, by column name.
trait Fields {
    fn get(&self, name: &str) -> Option<String>;

    /// The prompt's tokens from its text, counted as the mock counts.
    fn prompt(&self, name: &str) -> Option<u64> {
        self.get(name)
            .map(|text| groq_wire::tokens::one_message_tokens(&text))
    }
}

struct CsvRow<'a> {
    header: &'a [String],
    record: &'a csv::StringRecord,
}

impl Fields for CsvRow<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let at = self.header.iter().position(|h| h == name)?;
        self.record
            .get(at)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// A JSON object's value at `name`: its own key, or a dotted path into nested objects
/// (`body.max_tokens`, as in OpenAI's batch lines and nested access logs).
fn at<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = object.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let first = object.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.get(part))
}

impl Fields for Map<String, Value> {
    fn get(&self, name: &str) -> Option<String> {
        match at(self, name)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_owned()),
            other => Some(other.to_string()),
        }
    }

    /// A prompt's text, or a chat request's `messages` array counted message by message.
    fn prompt(&self, name: &str) -> Option<u64> {
        match at(self, name)? {
            Value::Array(messages) => Some(groq_wire::tokens::prompt_tokens(messages)),
            Value::String(text) if !text.trim().is_empty() => {
                Some(groq_wire::tokens::one_message_tokens(text))
            }
            _ => None,
        }
    }
}

impl TraceReader {
    /// Opens `trace`: CSV unless its name ends in `.jsonl`/`.ndjson` or it starts with `{`.
    pub fn open(trace: &Trace) -> Result<TraceReader, TraceError> {
        let path = trace.path.display().to_string();
        let (file, _) =
            groq_wire::file::open_regular(&trace.path).map_err(|source| TraceError::Read {
                path: path.clone(),
                source,
            })?;
        let jsonl = matches!(
            trace.path.extension().and_then(|e| e.to_str()),
            Some("jsonl" | "ndjson")
        );
        Self::from_reader(Box::new(file), &path, jsonl, trace)
    }

    /// Reads a trace from `input`, named `path` in errors, with `trace`'s speed and
    /// columns: JSON Lines when `jsonl` or when it starts with `{`, CSV otherwise.
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        path: &str,
        jsonl: bool,
        trace: &Trace,
    ) -> Result<TraceReader, TraceError> {
        let path = path.to_owned();
        let io = |source: std::io::Error| TraceError::Read {
            path: path.clone(),
            source,
        };
        let mut buffered = BufReader::new(Capped {
            inner: input,
            since: 0,
        });
        let jsonl = jsonl
            || buffered
                .fill_buf()
                .map_err(io)?
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                == Some(&b'{');
        let source = if jsonl {
            Source::Jsonl {
                reader: buffered,
                text: String::new(),
                line: 0,
            }
        } else {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(buffered);
            let header: Vec<String> = match reader.headers() {
                Ok(h) => h.iter().map(str::to_owned).collect(),
                Err(e) => return Err(csv_error(&path, &e)),
            };
            Source::Csv {
                reader: Box::new(reader),
                record: csv::StringRecord::new(),
                header,
            }
        };
        let reader = TraceReader {
            path,
            columns: trace.columns.clone(),
            speed: trace.speed,
            source,
            origin: None,
            last: Duration::ZERO,
            done: false,
        };
        reader.check_header()?;
        Ok(reader)
    }

    /// A CSV header names a time, a prompt size and an answer size.
    fn check_header(&self) -> Result<(), TraceError> {
        let Source::Csv { header, .. } = &self.source else {
            return Ok(());
        };
        let c = &self.columns;
        let has = |name: &String| header.contains(name);
        let missing = [
            (
                has(&c.offset_s) || has(&c.timestamp),
                format!("{} or {}", c.offset_s, c.timestamp),
            ),
            (
                has(&c.prompt_tokens) || has(&c.prompt),
                format!("{} or {}", c.prompt_tokens, c.prompt),
            ),
            (
                has(&c.completion_tokens) || has(&c.max_tokens),
                format!("{} or {}", c.completion_tokens, c.max_tokens),
            ),
        ];
        match missing.into_iter().find(|(present, _)| !present) {
            None => Ok(()),
            Some((_, wanted)) => Err(TraceError::Row {
                path: self.path.clone(),
                line: 1,
                column: wanted.clone(),
                message: format!(
                    "the header has no column {wanted} (it has: {}; --trace-columns maps other names)",
                    shorten(&header.join(", "))
                ),
            }),
        }
    }

    fn next_row(&mut self) -> Option<Result<TraceRow, TraceError>> {
        match &mut self.source {
            Source::Csv {
                reader,
                record,
                header,
            } => {
                reader.get_mut().get_mut().next_row();
                match reader.read_record(record) {
                    Ok(false) => None,
                    Err(e) => Some(Err(csv_error(&self.path, &e))),
                    Ok(true) => {
                        let line = record.position().map_or(0, csv::Position::line);
                        let row = CsvRow { header, record };
                        Some(
                            Parser {
                                path: &self.path,
                                columns: &self.columns,
                                line,
                            }
                            .row(
                                &row,
                                self.speed,
                                &mut self.origin,
                                &mut self.last,
                            ),
                        )
                    }
                }
            }
            Source::Jsonl { reader, text, line } => loop {
                text.clear();
                reader.get_mut().next_row();
                *line += 1;
                match reader.read_line(text) {
                    Ok(0) => return None,
                    Err(e) => {
                        return Some(Err(TraceError::Row {
                            path: self.path.clone(),
                            line: *line,
                            column: "-".into(),
                            message: e.to_string(),
                        }));
                    }
                    Ok(_) if text.trim().is_empty() => continue,
                    Ok(_) => {
                        let at = *line;
                        let parser = Parser {
                            path: &self.path,
                            columns: &self.columns,
                            line: at,
                        };
                        let object: Map<String, Value> = match serde_json::from_str(text) {
                            Ok(o) => o,
                            Err(e) => {
                                return Some(Err(parser.error(
                                    &format!("character {}", e.column()),
                                    &format!("not a JSON object: {e}"),
                                )));
                            }
                        };
                        return Some(parser.row(
                            &object,
                            self.speed,
                            &mut self.origin,
                            &mut self.last,
                        ));
                    }
                }
            },
        }
    }
}

impl Iterator for TraceReader {
    type Item = Result<TraceRow, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_row();
        if !matches!(next, Some(Ok(_))) {
            self.done = true;
        }
        next
    }
}

/// Checks one row's values.
struct Parser<'a> {
    path: &'a str,
    columns: &'a Columns,
    line: u64,
}

impl Parser<'_> {
    fn error(&self, column: &str, message: &str) -> TraceError {
        TraceError::Row {
            path: self.path.to_owned(),
            line: self.line,
            column: column.to_owned(),
            message: message.to_owned(),
        }
    }

    fn row(
        &self,
        fields: &dyn Fields,
        speed: f64,
        origin: &mut Option<f64>,
        last: &mut Duration,
    ) -> Result<TraceRow, TraceError> {
        let seconds = self.seconds(fields, origin)?;
        let at = Duration::try_from_secs_f64(seconds / speed)
            .ok()
            .filter(|d| *d <= limits::DURATION)
            .ok_or_else(|| {
                self.error(
                    &self.columns.offset_s,
                    &format!("{seconds} s is past the longest run (30 days) at speed {speed}"),
                )
            })?;
        if at < *last {
            return Err(self.error(
                &self.columns.offset_s,
                &format!(
                    "rows must be in time order: this one is at {:.3} s, the one before at {:.3} s (sort the trace by time)",
                    at.as_secs_f64() * speed,
                    last.as_secs_f64() * speed
                ),
            ));
        }
        *last = at;
        let prompt_tokens = match fields.get(&self.columns.prompt_tokens) {
            Some(v) => self.tokens(&self.columns.prompt_tokens, &v, 1)?,
            None => match fields.prompt(&self.columns.prompt) {
                Some(tokens) => tokens.clamp(1, limits::TOKENS),
                None => {
                    return Err(self.error(
                        &self.columns.prompt_tokens,
                        &format!("missing (and no {})", self.columns.prompt),
                    ));
                }
            },
        };
        let (answer, answered) = match fields.get(&self.columns.completion_tokens) {
            // An answer of 0 tokens (a failed call in the log) still asks for one.
            Some(v) => (
                self.tokens(&self.columns.completion_tokens, &v, 0)?.max(1),
                true,
            ),
            None => match fields.get(&self.columns.max_tokens) {
                Some(v) => (self.tokens(&self.columns.max_tokens, &v, 1)?, false),
                None => {
                    return Err(self.error(
                        &self.columns.completion_tokens,
                        &format!("missing (and no {})", self.columns.max_tokens),
                    ));
                }
            },
        };
        let model = fields.get(&self.columns.model);
        if model.as_ref().is_some_and(|m| m.len() > 200) {
            return Err(self.error(&self.columns.model, "longer than 200 characters"));
        }
        Ok(TraceRow {
            line: self.line,
            at,
            prompt_tokens,
            max_tokens: answer,
            answered,
            model,
        })
    }

    /// Seconds from the start: `offset_s`, or the timestamp minus the first row's.
    fn seconds(&self, fields: &dyn Fields, origin: &mut Option<f64>) -> Result<f64, TraceError> {
        if let Some(v) = fields.get(&self.columns.offset_s) {
            return match v.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
                _ => Err(self.error(
                    &self.columns.offset_s,
                    &format!(
                        "expected seconds from the start (0 or more), got {:?}",
                        shorten(&v)
                    ),
                )),
            };
        }
        let Some(v) = fields.get(&self.columns.timestamp) else {
            return Err(self.error(
                &self.columns.offset_s,
                &format!("missing (and no {})", self.columns.timestamp),
            ));
        };
        let at = timestamp(&v).ok_or_else(|| {
            self.error(
                &self.columns.timestamp,
                &format!(
                    "expected RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds, got {:?}",
                    shorten(&v)
                ),
            )
        })?;
        let start = *origin.get_or_insert(at);
        if at < start {
            return Err(self.error(
                &self.columns.timestamp,
                "rows must be in time order: this one is before the first row (sort the trace by time)",
            ));
        }
        Ok(at - start)
    }

    fn tokens(&self, column: &str, value: &str, least: u64) -> Result<u64, TraceError> {
        match value.parse::<u64>() {
            Ok(n) if (least..=limits::TOKENS).contains(&n) => Ok(n),
            _ => Err(self.error(
                column,
                &format!(
                    "expected a whole number of tokens from {least} to {}, got {:?}",
                    limits::TOKENS,
                    shorten(value)
                ),
            )),
        }
    }
}

/// Seconds since the Unix epoch of an RFC 3339 time, a UTC `YYYY-MM-DD HH:MM:SS[.f]`, or a
/// number of Unix seconds.
fn timestamp(text: &str) -> Option<f64> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_nanosecond() as f64 / 1e9);
    }
    if let Ok(civil) = text.parse::<jiff::civil::DateTime>() {
        let t = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
        return Some(t.as_nanosecond() as f64 / 1e9);
    }
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

fn csv_error(path: &str, e: &csv::Error) -> TraceError {
    let line = e.position().map_or(0, csv::Position::line);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_owned(),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    };
    TraceError::Row {
        path: path.to_owned(),
        line,
        column: "-".into(),
        message,
    }
}

/// At most 60 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
