//! Report: diagnostics as text for people (rustc-style, with the source line and a caret)
//! and as JSON for machines.

use crate::diag::{Diagnostic, Severity};
use serde_json::{json, Value};

/// Terminal styling, on only when the CLI decides colour is wanted.
#[derive(Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Human-readable report of every diagnostic, followed by a one-line summary.
/// `source_line` returns a line of the manifest by its 1-based number.
pub fn human<'a>(
    diagnostics: &[Diagnostic],
    file: &str,
    source_line: impl Fn(usize) -> Option<&'a str>,
    style: Style,
) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (word, colour) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        out += &format!(
            "{}{}\n",
            style.paint(colour, &format!("{word}[{}]", d.code)),
            style.paint("1", &format!(": {}", printable(&d.message)))
        );
        let path = if d.path.is_empty() { "(the whole document)" } else { d.path.as_str() };
        match d.location {
            Some(loc) => {
                let number = loc.line.to_string();
                let gutter = " ".repeat(number.len());
                out += &format!("{gutter}{} {file}:{}:{}\n", style.paint("1;34", "-->"), loc.line, loc.column);
                if let Some(text) = source_line(loc.line) {
                    let (text, column) = excerpt(text, loc.column, loc.width);
                    let pad: String =
                        text.chars().take(column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
                    let bar = style.paint("1;34", "|");
                    out += &format!("{gutter} {bar}\n");
                    out += &format!("{} {bar} {}\n", style.paint("1;34", &number), text);
                    out += &format!(
                        "{gutter} {bar} {pad}{}\n",
                        style.paint(colour, &"^".repeat(loc.width.min(EXCERPT_WIDTH)))
                    );
                }
                out += &format!("{gutter} = at: {path}\n");
                if let Some(hint) = &d.hint {
                    out += &format!("{gutter} = help: {}\n", printable(hint));
                }
            }
            None => {
                out += &format!("  --> {file} at {path}\n");
                if let Some(hint) = &d.hint {
                    out += &format!("   = help: {}\n", printable(hint));
                }
            }
        }
        out.push('\n');
    }
    out += &summary(diagnostics, file);
    out.push('\n');
    out
}

/// Control and bidirectional-override characters would act on the terminal or reorder
/// the text around them; messages quote manifest values, so such characters are escaped.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A message or hint, with unsafe characters written as `\u{...}`.
fn printable(text: &str) -> String {
    text.chars().map(|c| if is_unsafe(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// Characters echoed from the manifest are at most this many.
const EXCERPT_WIDTH: usize = 100;

/// The part of a manifest line to echo, and the caret's column in it: a window around
/// the column when the line is long (a minified manifest is one line), and with control
/// and bidirectional-override characters shown as U+FFFD, so that echoing the manifest
/// cannot recolour the terminal or reorder what the reader sees. One character stands
/// for one, so columns still line up.
fn excerpt(line: &str, column: usize, width: usize) -> (String, usize) {
    let visible = |c: char| if is_unsafe(c) { '\u{fffd}' } else { c };
    let length = line.chars().count();
    if length <= EXCERPT_WIDTH {
        return (line.chars().map(visible).collect(), column);
    }
    let start = column.saturating_sub(1 + EXCERPT_WIDTH.saturating_sub(width.min(EXCERPT_WIDTH)) / 2);
    let start = start.min(length.saturating_sub(EXCERPT_WIDTH));
    let mut text: String = line.chars().skip(start).take(EXCERPT_WIDTH).map(visible).collect();
    let mut column = column - start;
    if start > 0 {
        text.insert(0, '…');
        column += 1;
    }
    if start + EXCERPT_WIDTH < length {
        text.push('…');
    }
    (text, column)
}

/// `web.json: 2 errors, 1 warning` (or `web.json: ok`).
pub fn summary(diagnostics: &[Diagnostic], file: &str) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => format!("{file}: ok"),
        (0, w) => format!("{file}: ok, {}", plural(w, "warning")),
        (e, 0) => format!("{file}: {}", plural(e, "error")),
        (e, w) => format!("{file}: {}, {}", plural(e, "error"), plural(w, "warning")),
    }
}

/// The diagnostics as JSON objects, in the documented shape.
pub fn json_diagnostics(diagnostics: &[Diagnostic]) -> Value {
    Value::Array(
        diagnostics
            .iter()
            .map(|d| {
                json!({
                    "severity": d.severity,
                    "code": d.code,
                    "path": d.path,
                    "line": d.location.map(|l| l.line),
                    "column": d.location.map(|l| l.column),
                    "message": d.message,
                    "hint": d.hint,
                })
            })
            .collect(),
    )
}
