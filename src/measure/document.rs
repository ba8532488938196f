//! A report as a list of blocks (headings, paragraphs, tables, lists, a verdict), rendered
//! to markdown and to a self-contained HTML page from the same blocks, so the two never say
//! different things.

use std::fmt::Write as _;

/// How a verdict reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// The objective is met.
    Pass,
    /// It is not.
    Fail,
    /// No measurement decides it.
    Inconclusive,
}

/// One block of a document.
#[derive(Debug, Clone)]
pub enum Block {
    /// A heading (level 1 to 3).
    Heading(u8, String),
    /// A paragraph.
    Paragraph(String),
    /// The answer, shown first and coloured by its tone.
    Verdict(Tone, String),
    /// A table.
    Table(Table),
    /// A bulleted list.
    List(Vec<String>),
    /// Evidence folded under a one-line summary: shown when opened (`<details>`).
    Folded(String, Vec<Block>),
}

/// Renders blocks as markdown.
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(
                    out,
                    "{} {text}\n",
                    "#".repeat(usize::from(*level).clamp(1, 3))
                );
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::Verdict(_, text) => {
                let _ = writeln!(out, "**{text}**\n");
            }
            Block::Table(t) => {
                let _ = writeln!(out, "{}", t.markdown());
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {item}");
                }
                out.push('\n');
            }
            Block::Folded(summary, inner) => {
                let _ = writeln!(
                    out,
                    "<details><summary>{}</summary>\n\n{}\n</details>\n",
                    escape(summary),
                    markdown(inner).trim_end()
                );
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `[text](relative/path)` at the start of `text`: the text, the path and what follows. Only
/// relative paths to files beside the page (no scheme, no `..`): a link never leaves it.
fn link(text: &str) -> Option<(&str, &str, &str)> {
    let (label, rest) = text.strip_prefix('[')?.split_once("](")?;
    let (href, after) = rest.split_once(')')?;
    let local = !href.is_empty()
        && !href.contains(':')
        && !href.starts_with('/')
        && !href.split('/').any(|part| part == "..");
    local.then_some((label, href, after))
}

/// `**bold**`, `` `code` `` and `[links](to/a/file)` of the blocks' text as HTML, everything
/// else escaped.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let (mut bold, mut code) = (false, false);
    let mut rest = text;
    while let Some(i) = rest.find(['*', '`', '[']) {
        out.push_str(&escape(&rest[..i]));
        if let Some((label, href, after)) = link(&rest[i..]).filter(|_| !code) {
            out.push_str(&format!(
                "<a href=\"{}\">{}</a>",
                escape(href),
                escape(label)
            ));
            rest = after;
        } else if rest[i..].starts_with('[') {
            out.push('[');
            rest = &rest[i + 1..];
        } else if rest[i..].starts_with("**") {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = &rest[i + 2..];
        } else if rest[i..].starts_with('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[i + 1..];
        } else {
            out.push('*');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(&escape(rest));
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// A table as HTML, every cell escaped.
pub fn html_table(t: &Table) -> String {
    let mut out = String::from("<table><tr>");
    for h in &t.head {
        let _ = write!(out, "<th>{}</th>", inline(h));
    }
    out.push_str("</tr>");
    for row in &t.rows {
        out.push_str("<tr>");
        for cell in row {
            // A verdict cell is coloured like the verdict it states.
            let class = match cell.trim_matches('*') {
                "Holds" | "pass" => " class=\"pass\"",
                "Fails" | "fail" | "FAIL" => " class=\"fail\"",
                "Inconclusive" => " class=\"inconclusive\"",
                _ => "",
            };
            let _ = write!(out, "<td{class}>{}</td>", inline(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
    out
}

/// Renders blocks as the body of an HTML page.
pub fn html(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let h = level.clamp(&1, &3);
                let _ = writeln!(out, "<h{h}>{}</h{h}>", inline(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", inline(text));
            }
            Block::Verdict(tone, text) => {
                let class = match tone {
                    Tone::Pass => "pass",
                    Tone::Fail => "fail",
                    Tone::Inconclusive => "inconclusive",
                };
                let _ = writeln!(out, "<p class=\"verdict {class}\">{}</p>", inline(text));
            }
            Block::Table(t) => out.push_str(&html_table(t)),
            Block::List(items) => {
                out.push_str("<ul>");
                for item in items {
                    let _ = write!(out, "<li>{}</li>", inline(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Folded(summary, inner) => {
                let _ = writeln!(
                    out,
                    "<details><summary>{}</summary>\n{}</details>",
                    inline(summary),
                    html(inner)
                );
            }
        }
    }
    out
}

/// A table as text cells: rendered as markdown by [`Table::markdown`], as HTML by `html`.
#[derive(Debug, Clone)]
pub struct Table {
    /// Column names.
    pub head: Vec<String>,
    /// Rows of cells, as many as columns.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Column names from string slices.
    pub fn heads(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    /// A pipe table: the first column left-aligned, the others right-aligned.
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n|---|", self.head.join(" | "));
        out.push_str(&"---:|".repeat(self.head.len().saturating_sub(1)));
        out.push('\n');
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_blocks_read_the_same_in_markdown_and_html() {
        let blocks = vec![
            Block::Verdict(Tone::Pass, "Recommended: 16 keys".to_owned()),
            Block::Paragraph("the **simulated** minimum".to_owned()),
            Block::Heading(2, "Bounds".to_owned()),
            Block::Table(Table {
                head: Table::heads(&["limit", "keys"]),
                rows: vec![vec!["TPD <b>".to_owned(), "15".to_owned()]],
            }),
            Block::List(vec!["model `openai/gpt-oss-120b`".to_owned()]),
        ];
        let md = markdown(&blocks);
        assert!(
            md.starts_with("**Recommended: 16 keys**\n\nthe **simulated**"),
            "{md}"
        );
        assert!(
            md.contains("## Bounds") && md.contains("| TPD <b> | 15 |"),
            "{md}"
        );
        let page = html(&blocks);
        assert!(
            page.contains("<p class=\"verdict pass\">Recommended: 16 keys</p>")
                && page.contains("<p>the <strong>simulated</strong> minimum</p>"),
            "{page}"
        );
        assert!(page.contains("<td>TPD &lt;b&gt;</td>"), "{page}");
        assert!(
            page.contains("<li>model <code>openai/gpt-oss-120b</code></li>"),
            "{page}"
        );
    }

    #[test]
    fn links_go_to_files_beside_the_page_and_nowhere_else() {
        assert_eq!(
            inline("see [runs/a](runs/a/report.html) [x]"),
            "see <a href=\"runs/a/report.html\">runs/a</a> [x]"
        );
        for hostile in [
            "[x](javascript:alert(1))",
            "[x](https://example.com)",
            "[x](/etc/passwd)",
            "[x](../../secret)",
            "[x](a\"onmouseover=\"b)",
        ] {
            let page = inline(hostile);
            assert!(
                !page.contains("href=\"javascript") && !page.contains("onmouseover=\""),
                "{hostile}: {page}"
            );
            if !hostile.contains('"') {
                assert!(!page.contains("<a "), "{hostile}: {page}");
            }
        }
    }
}
